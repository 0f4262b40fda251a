//! The plugin templates, embedded in the binary from the repository's `templates/`.
//!
//! Each template is a directory with a `template.toml`:
//!
//! ```toml
//! description = "An evaluator: scores a trace"
//! language = "rust"           # the plugin language it scaffolds
//! kind = "evaluator"          # the plugin kind it scaffolds
//! ```
//!
//! Every other file is written into the new plugin: files ending in `.hbs` are rendered with
//! Handlebars (strict: an unknown variable is an error; no HTML escaping) and lose the
//! suffix, the others are copied as they are. The variables are the fields of [`Vars`].
//!
//! Files that every template of a language shares (the CI workflow) have one copy, in
//! `_shared/<language>/` ([`SHARED_DIR`]), written into each plugin of that language as if
//! the template held it.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _, Result};
use flowtrace_plugins::manifest::{Language, PluginKind};
use handlebars::Handlebars;
use include_dir::{include_dir, Dir, DirEntry};
use serde::{Deserialize, Serialize};

use crate::error::ResultExt;

/// The embedded `templates/` directory (see `build.rs`).
static TEMPLATES: Dir<'static> = include_dir!("$FLOWTRACE_EMBEDDED/templates");

/// The file describing a template; not copied.
pub const TEMPLATE_FILE: &str = "template.toml";

/// Suffix of the files rendered with Handlebars.
pub const HBS_SUFFIX: &str = ".hbs";

/// The directory of the files shared by the templates of a language: `_shared/<language>/`.
pub const SHARED_DIR: &str = "_shared";

/// The template `new` and `init` use without `--template`.
pub const DEFAULT_TEMPLATE: &str = "rust-evaluator";

/// One embedded template.
#[derive(Debug, Clone)]
pub struct Template {
    /// Its directory name, e.g. `rust-evaluator`.
    pub name: String,
    /// `description` from `template.toml`.
    pub description: String,
    /// `language` from `template.toml`.
    pub language: Language,
    /// `kind` from `template.toml`.
    pub kind: PluginKind,
    dir: &'static Dir<'static>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RawTemplate {
    description: String,
    language: String,
    kind: String,
}

/// The values a template is rendered with; in `.hbs` files: `{{id}}`, `{{crate_name}}`, ...
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Vars {
    /// The plugin id: `sample-evaluator`.
    pub id: String,
    /// Its display name: `Sample Evaluator`.
    pub name: String,
    /// The Rust crate name: `sample_evaluator`.
    pub crate_name: String,
    /// The plugin kind: `evaluator`.
    pub kind: String,
    /// A TOML array of `Name <email>` strings, from git's `user.name` and `user.email`, or
    /// `[]`: `authors = {{authors}}`.
    pub authors: String,
    /// A TOML value for the SDK dependency: `{ path = "/abs/sdk/rust" }` or `"0.1"`:
    /// `flowtrace-plugin-sdk = {{sdk_dependency}}`.
    pub sdk_dependency: String,
    /// The contract requirement: `^0.1`.
    pub flowtrace_version: String,
}

/// A rendered file, relative to the plugin's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// Where it goes, relative (`src/lib.rs`).
    pub path: PathBuf,
    /// What it holds.
    pub contents: Vec<u8>,
}

/// Every embedded template, by name.
pub fn all() -> Result<Vec<Template>> {
    let mut templates = Vec::new();
    for dir in TEMPLATES.dirs() {
        let Some(file) = dir.get_file(dir.path().join(TEMPLATE_FILE)) else {
            continue;
        };
        let name = dir_name(dir);
        let text = file
            .contents_utf8()
            .ok_or_else(|| anyhow!("`{name}/{TEMPLATE_FILE}` is not UTF-8"))?;
        let raw: RawTemplate = toml::from_str(text).with_context(|| {
            format!("invalid `{name}/{TEMPLATE_FILE}` in the embedded templates")
        })?;
        let kind = PluginKind::parse(&raw.kind).ok_or_else(|| {
            anyhow!(
                "invalid `kind = \"{}\"` in the embedded template `{name}`",
                raw.kind
            )
        })?;
        let language = Language::parse(&raw.language).ok_or_else(|| {
            anyhow!(
                "invalid `language = \"{}\"` in the embedded template `{name}`",
                raw.language
            )
        })?;
        templates.push(Template {
            name,
            description: raw.description.trim().to_string(),
            language,
            kind,
            dir,
        });
    }
    templates.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(templates)
}

/// The template called `name`; the error lists the others.
pub fn find(name: &str) -> Result<Template> {
    let templates = all()?;
    if templates.is_empty() {
        return Err(anyhow!("this build of cargo-flowtrace has no templates"))
            .help("build cargo-flowtrace from a checkout that has the `templates/` directory");
    }
    let names: Vec<&str> = templates.iter().map(|t| t.name.as_str()).collect();
    let help = format!(
        "the templates are: {} (`cargo flowtrace new --list-templates` describes them)",
        names.join(", ")
    );
    templates
        .iter()
        .find(|t| t.name == name)
        .cloned()
        .ok_or_else(|| anyhow!("no template named `{name}`"))
        .help(help)
}

impl Template {
    /// Render every file with `vars`, in path order. Nothing is written.
    pub fn render(&self, vars: &Vars) -> Result<Vec<RenderedFile>> {
        let mut hbs = Handlebars::new();
        hbs.set_strict_mode(true);
        hbs.register_escape_fn(handlebars::no_escape);
        let mut files = Vec::new();
        self.collect(self.dir, self.dir, &hbs, vars, &mut files)?;
        if let Some(shared) = shared_dir(self.language) {
            let mut shared_files = Vec::new();
            self.collect(shared, shared, &hbs, vars, &mut shared_files)?;
            for file in shared_files {
                if files.iter().any(|f| f.path == file.path) {
                    return Err(anyhow!(
                        "template `{}` has its own `{}`, which `{SHARED_DIR}/{}` also holds",
                        self.name,
                        file.path.display(),
                        self.language.as_str()
                    ));
                }
                files.push(file);
            }
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }

    /// Render every file under `dir`, with paths relative to `root`.
    fn collect(
        &self,
        root: &'static Dir<'static>,
        dir: &'static Dir<'static>,
        hbs: &Handlebars<'_>,
        vars: &Vars,
        out: &mut Vec<RenderedFile>,
    ) -> Result<()> {
        for entry in dir.entries() {
            let relative = entry
                .path()
                .strip_prefix(root.path())
                .unwrap_or(entry.path());
            match entry {
                DirEntry::Dir(sub) => {
                    // A template built or run in place leaves `target/`, `node_modules/`
                    // or `__pycache__/` behind: never copy them.
                    let generated = relative == Path::new("target")
                        || relative == Path::new("node_modules")
                        || relative.file_name().is_some_and(|n| n == "__pycache__");
                    if !generated {
                        self.collect(root, sub, hbs, vars, out)?;
                    }
                }
                DirEntry::File(_) if relative == Path::new(TEMPLATE_FILE) => {}
                DirEntry::File(file) => {
                    let rel = relative.to_string_lossy();
                    match rel.strip_suffix(HBS_SUFFIX) {
                        Some(target) => {
                            let source = file.contents_utf8().ok_or_else(|| {
                                anyhow!("template file `{}/{rel}` is not UTF-8", self.name)
                            })?;
                            let rendered =
                                hbs.render_template(source, vars).with_context(|| {
                                    format!("failed to render template file `{}/{rel}`", self.name)
                                })?;
                            out.push(RenderedFile {
                                path: PathBuf::from(target),
                                contents: rendered.into_bytes(),
                            });
                        }
                        None => out.push(RenderedFile {
                            path: relative.to_path_buf(),
                            contents: file.contents().to_vec(),
                        }),
                    }
                }
            }
        }
        Ok(())
    }
}

/// `_shared/<language>/`, when the templates have one.
fn shared_dir(language: Language) -> Option<&'static Dir<'static>> {
    TEMPLATES.get_dir(Path::new(SHARED_DIR).join(language.as_str()))
}

fn dir_name(dir: &Dir<'_>) -> String {
    dir.path()
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Values to render any template with.
    pub(crate) fn vars() -> Vars {
        Vars {
            id: "my-plugin".into(),
            name: "My Plugin".into(),
            crate_name: "my_plugin".into(),
            kind: "evaluator".into(),
            authors: "[]".into(),
            sdk_dependency: "\"0.1\"".into(),
            flowtrace_version: "^0.1".into(),
        }
    }

    /// The four templates of a language write one workflow, from its one copy in
    /// `_shared/<language>/`: no template carries a copy of its own to drift.
    #[test]
    fn the_templates_of_a_language_share_one_workflow() {
        const WORKFLOW: &str = ".github/workflows/flowtrace.yml";
        let templates = all().unwrap();
        assert_eq!(templates.len(), 12);
        for language in Language::ALL {
            let shared = shared_dir(language)
                .and_then(|d| {
                    d.get_file(Path::new(SHARED_DIR).join(language.as_str()).join(WORKFLOW))
                })
                .unwrap_or_else(|| panic!("no shared workflow for {}", language.as_str()));
            let of_language: Vec<&Template> = templates
                .iter()
                .filter(|t| t.language == language)
                .collect();
            assert_eq!(of_language.len(), 4, "{}", language.as_str());
            for template in of_language {
                assert!(
                    template.name.starts_with(language.as_str()),
                    "{} says `language = \"{}\"`",
                    template.name,
                    language.as_str()
                );
                assert!(
                    template
                        .dir
                        .get_dir(template.dir.path().join(".github"))
                        .is_none(),
                    "{} has its own `.github/`: keep the one copy in `{SHARED_DIR}/{}/`",
                    template.name,
                    language.as_str()
                );
                let files = template.render(&vars()).unwrap();
                let workflow = files
                    .iter()
                    .find(|f| f.path == Path::new(WORKFLOW))
                    .unwrap_or_else(|| panic!("{} writes no workflow", template.name));
                assert_eq!(workflow.contents, shared.contents(), "{}", template.name);
            }
        }
    }

    /// Every command a template's README shows can be run as written: those that need an
    /// argument have one (`cargo flowtrace install` alone is a usage error).
    #[test]
    fn readme_commands_carry_their_arguments() {
        const NEED_ARGUMENT: [&str; 5] = ["install", "enable", "disable", "uninstall", "info"];
        for template in all().unwrap() {
            let files = template.render(&vars()).unwrap();
            let readme = files
                .iter()
                .find(|f| f.path == Path::new("README.md"))
                .unwrap_or_else(|| panic!("{} has no README", template.name));
            let text = String::from_utf8_lossy(&readme.contents);
            for line in text.lines() {
                let Some(rest) = line.split("cargo flowtrace ").nth(1) else {
                    continue;
                };
                // Up to the end of inline code (`` `cargo flowtrace info my-id` ``).
                let mut words = rest
                    .split('`')
                    .next()
                    .unwrap_or_default()
                    .split_whitespace();
                let command = words.next().unwrap_or_default();
                if NEED_ARGUMENT.contains(&command) {
                    let argument = words.next().unwrap_or_default();
                    assert!(
                        !argument.is_empty() && !argument.starts_with('#'),
                        "{}: `{line}` has no argument",
                        template.name
                    );
                }
            }
        }
    }
}
