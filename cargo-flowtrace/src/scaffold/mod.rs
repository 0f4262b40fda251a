//! Writing a new plugin from a template: what `new` and `init` share.

mod values;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _, Result};
use clap::builder::PossibleValuesParser;
use clap::Args;
use flowtrace_plugins::manifest::{Language, PluginKind};
use flowtrace_plugins::CONTRACT_VERSION;
use serde::Serialize;

use values::{
    authors, check_name, check_rust_package_name, display_name, plugin_id, sdk_dependency,
};

use crate::context::Context;
use crate::error::ResultExt;
use crate::lang::rust::sdk as rust_sdk;
use crate::templates::{self, RenderedFile, Template, Vars, DEFAULT_TEMPLATE};
use crate::term::{style, Message};

/// The template flags of `new` and `init`.
#[derive(Debug, Clone, Args)]
pub struct TemplateArgs {
    /// The template to start from (`--list-templates` shows them all) [default:
    /// rust-evaluator]
    #[arg(short, long, value_name = "NAME", conflicts_with_all = ["lang", "kind"])]
    pub template: Option<String>,

    /// Pick the template by language instead: `--lang python` is `python-evaluator`, with
    /// `--kind exporter` it is `python-exporter`
    #[arg(
        long,
        value_name = "LANGUAGE",
        value_parser = PossibleValuesParser::new(Language::ALL.map(Language::as_str))
    )]
    pub lang: Option<String>,

    /// Pick the template by plugin kind (language `rust` unless `--lang` says otherwise)
    #[arg(
        long,
        value_name = "KIND",
        value_parser = PossibleValuesParser::new(PluginKind::ALL.map(PluginKind::as_str))
    )]
    pub kind: Option<String>,

    /// The plugin id, `[a-z0-9][a-z0-9-]*` [default: the directory name]
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,

    /// The plugin's display name [default: from the id, `my-plugin` gives `My Plugin`]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Depend on the Rust SDK at this directory [default: the version this cargo-flowtrace
    /// carries, which `build` supplies]
    #[arg(long, value_name = "DIR")]
    pub sdk_path: Option<PathBuf>,

    /// List the templates and exit
    #[arg(long)]
    pub list_templates: bool,
}

impl TemplateArgs {
    /// The template's name: `--template`, else `<lang>-<kind>` from `--lang` and `--kind`
    /// (`rust` and `evaluator` when absent), else the default.
    pub fn template_name(&self) -> String {
        match (&self.template, &self.lang, &self.kind) {
            (Some(name), _, _) => name.clone(),
            (None, None, None) => DEFAULT_TEMPLATE.to_string(),
            (None, lang, kind) => format!(
                "{}-{}",
                lang.as_deref().unwrap_or("rust"),
                kind.as_deref().unwrap_or("evaluator")
            ),
        }
    }
}

/// `--message-format json`: one per template for `--list-templates`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
struct TemplateInfo<'a> {
    name: &'a str,
    kind: &'a str,
    description: &'a str,
}

impl Message for TemplateInfo<'_> {
    const REASON: &'static str = "template";
}

/// `--message-format json`: the plugin was written.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
struct PluginCreated<'a> {
    id: &'a str,
    name: &'a str,
    kind: &'a str,
    template: &'a str,
    path: &'a Path,
    files: Vec<&'a Path>,
}

impl Message for PluginCreated<'_> {
    const REASON: &'static str = "plugin-created";
}

/// Print the templates: a table on stdout, or one JSON message each.
pub fn list_templates(cx: &Context) -> Result<()> {
    let templates = templates::all()?;
    if cx.term.is_human() {
        let mut out = cx.term.stdout();
        let width = templates.iter().map(|t| t.name.len()).max().unwrap_or(0);
        for t in &templates {
            let default = if t.name == DEFAULT_TEMPLATE {
                " (default)"
            } else {
                ""
            };
            writeln!(
                out,
                "{:<width$}  {:<11}  {}{default}",
                t.name,
                t.kind.as_str(),
                t.description
            )?;
        }
    }
    for t in &templates {
        cx.term.emit(&TemplateInfo {
            name: &t.name,
            kind: t.kind.as_str(),
            description: &t.description,
        })?;
    }
    Ok(())
}

/// How the destination was named, for the next steps printed at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// `new <path>`: the user has to `cd` there.
    New,
    /// `init`: the current directory, or the one given.
    Init,
}

/// Write a plugin from the template into `dest` (as the user wrote it), never overwriting
/// a file.
pub fn scaffold(cx: &Context, dest: &Path, args: &TemplateArgs, how: Destination) -> Result<()> {
    let template = templates::find(&args.template_name())?;
    let cwd = std::env::current_dir().context("failed to read the current directory")?;
    let dest_abs = absolute(&cwd.join(dest));
    if dest_abs.exists() && !dest_abs.is_dir() {
        bail!("`{}` exists and is not a directory", dest.display());
    }

    let id = plugin_id(args.id.as_deref(), &dest_abs)?;
    let name = match &args.name {
        Some(name) => check_name(name)?,
        None => display_name(id.as_str()),
    };
    let vars = Vars {
        id: id.to_string(),
        name,
        crate_name: id.as_str().replace('-', "_"),
        kind: template.kind.as_str().to_string(),
        authors: authors(existing_ancestor(&dest_abs)),
        sdk_dependency: sdk_dependency(&cwd, args.sdk_path.as_deref())?,
        flowtrace_version: format!("^{}.{}", CONTRACT_VERSION.major, CONTRACT_VERSION.minor),
    };
    let mut files = template.render(&vars)?;
    if files.iter().any(|f| f.path == Path::new("Cargo.toml")) {
        check_rust_package_name(&id, args.id.is_some())?;
        // The SDK by version: `build` supplies it, and these files point a plain `cargo
        // build` and rust-analyzer at what `build` wrote.
        if args.sdk_path.is_none() {
            files.extend(rust_sdk::scaffold_files());
            files.sort_by(|a, b| a.path.cmp(&b.path));
        }
    }
    files.extend(trace_schema_file(&files));
    files.sort_by(|a, b| a.path.cmp(&b.path));
    refuse_overwrite(dest, &dest_abs, &files, how)?;

    cx.term.status(
        "Creating",
        format_args!(
            "{} plugin `{id}` from template `{}` in `{}`",
            template.kind,
            template.name,
            dest.display()
        ),
    );
    write_files(&dest_abs, &files)?;
    cx.term.emit(&PluginCreated {
        id: id.as_str(),
        name: &vars.name,
        kind: template.kind.as_str(),
        template: &template.name,
        path: &dest_abs,
        files: files.iter().map(|f| f.path.as_path()).collect(),
    })?;
    print_next_steps(cx, dest, &template, how);
    Ok(())
}

fn print_next_steps(cx: &Context, dest: &Path, template: &Template, how: Destination) {
    let mut steps = String::new();
    if how == Destination::New || dest != Path::new(".") {
        steps.push_str(&format!(
            "\n  cd {}",
            shell_quote(&dest.display().to_string())
        ));
    }
    steps.push_str("\n  cargo flowtrace build");
    steps.push_str("\n  cargo flowtrace test");
    let bold = style::HEADER;
    cx.term.note(format_args!(
        "{} plugin ready; next, run:{bold}{steps}{bold:#}",
        template.kind
    ));
    if template.language == Language::TypeScript {
        // `build` type-checks with its own TypeScript; `tsc` of the plugin's devDependencies
        // is there only after `npm install`.
        cx.term.note(format_args!(
            "`cargo flowtrace build` type-checks with the TypeScript it installs; for `npm run \
             typecheck` and your editor's TypeScript, run `npm install` first{bold}\n  npm \
             install{bold:#}"
        ));
    }
}

/// `path` made absolute without resolving symlinks, with `.` and `..` removed where the
/// file system agrees (an existing prefix is canonicalised).
/// Where a template's Flowtrace JSON traces find their JSON Schema: they name it as
/// `"$schema": "./trace.schema.json"`, so editors check and complete them.
const TRACE_SCHEMA: &str = "tests/traces/trace.schema.json";

/// The JSON Schema of Flowtrace JSON, as this binary reads it, beside the template's traces
/// when one of them names it.
fn trace_schema_file(files: &[RenderedFile]) -> Option<RenderedFile> {
    let schema = Path::new(TRACE_SCHEMA);
    let names_it = files.iter().any(|f| {
        f.path.parent() == schema.parent()
            && f.path.extension().is_some_and(|e| e == "json")
            && f.path != schema
            && f.contents
                .windows(b"\"$schema\": \"./trace.schema.json\"".len())
                .any(|w| w == b"\"$schema\": \"./trace.schema.json\"")
    });
    names_it.then(|| RenderedFile {
        path: schema.to_path_buf(),
        contents: flowtrace_plugins::trace::JSON_SCHEMA.as_bytes().to_vec(),
    })
}

fn absolute(path: &Path) -> PathBuf {
    if let Ok(canonical) = path.canonicalize() {
        return canonical;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => absolute(parent).join(name),
        _ => path.to_path_buf(),
    }
}

fn existing_ancestor(path: &Path) -> &Path {
    path.ancestors()
        .find(|p| p.is_dir())
        .unwrap_or(Path::new("."))
}

/// Fail, naming every file, when any of `files` exists under `dest`.
fn refuse_overwrite(
    dest: &Path,
    dest_abs: &Path,
    files: &[RenderedFile],
    how: Destination,
) -> Result<()> {
    let existing: Vec<String> = files
        .iter()
        .filter(|f| {
            let target = dest_abs.join(&f.path);
            target.exists() || target.symlink_metadata().is_ok()
        })
        .map(|f| format!("`{}`", f.path.display()))
        .collect();
    if existing.is_empty() {
        return Ok(());
    }
    let count = match existing.len() {
        1 => "a file that exists".to_string(),
        n => format!("{n} files that exist"),
    };
    let help = match how {
        Destination::New => format!(
            "choose a path that does not exist yet, or move these files out of `{}`",
            dest.display()
        ),
        Destination::Init => {
            "run `cargo flowtrace init` in a directory without these files, or move them away"
                .to_string()
        }
    };
    Err(anyhow!(
        "refusing to overwrite {count} in `{}`: {}",
        dest.display(),
        existing.join(", ")
    ))
    .help(help)
}

fn write_files(dest: &Path, files: &[RenderedFile]) -> Result<()> {
    for file in files {
        let path = dest.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("failed to create directory `{}`", parent.display()))?;
        }
        // `create_new`: a file that appeared since the check is still not overwritten.
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(|| format!("failed to create `{}`", path.display()))?;
        out.write_all(&file.contents)
            .with_context(|| format!("failed to write `{}`", path.display()))?;
    }
    Ok(())
}

/// `s`, quoted for a POSIX shell when it needs to be.
fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./~+@%:,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_quoted_for_the_shell_when_needed() {
        assert_eq!(shell_quote("my-plugin"), "my-plugin");
        assert_eq!(shell_quote("my plugin"), "'my plugin'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
