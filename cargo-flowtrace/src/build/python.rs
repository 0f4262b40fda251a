//! The Python driver: componentize-py over the plugin's entry module, against the world
//! synthesised from the manifest, with the Python SDK (`flowtrace_plugin`, embedded in
//! this binary) on the module path.
//!
//! Everything it writes is under `<plugin>/target/flowtrace/python/`:
//!
//! | path | what |
//! |---|---|
//! | `wit/` | the contract and `build.wit`, the plugin's world ([`super::world`]) |
//! | `bindings/` | `componentize-py bindings` of that world, for editors and type checkers |
//! | `sdk/flowtrace_plugin/` | the SDK |
//! | `deps/` | the packages `pyproject.toml` lists under `[project] dependencies` |
//! | `entry/_flowtrace_entry.py` | the module componentize-py builds: loads the plugin's module |
//! | `stamp.json` | what the last build was made from, so an unchanged plugin is not rebuilt |
//!
//! componentize-py imports the entry module while it builds (it snapshots the initialised
//! interpreter), so an exception at import time, such as the SDK's `CapabilityNotDeclared`
//! for a module whose capability the manifest does not grant, fails the build.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{anyhow, Context as _, Result};
use flowtrace_plugins::manifest::{Manifest, PluginKind};
use include_dir::{include_dir, Dir};

use super::sources::{self, SourceSet};
use super::world::{self, write_if_changed};
use super::{own_target_dir, prepare, Compiled, Source, OUTPUT_DIR};
use crate::error::{self, ResultExt};
use crate::term::Term;
use crate::toolchain::process::display;
use crate::toolchain::python as toolchain;

/// The Python SDK, `sdk/python/flowtrace_plugin` of this repository (see `build.rs`).
static SDK: Dir<'static> = include_dir!("$FLOWTRACE_EMBEDDED/sdk-python");

/// The SDK's import name.
pub const SDK_PACKAGE: &str = "flowtrace_plugin";

/// The module componentize-py builds.
const ENTRY_MODULE: &str = "_flowtrace_entry";

/// The files of a Python plugin that its component is built from: everything but its build
/// output, tests, virtual environments, caches and hidden files.
const SOURCES: SourceSet<'static> = SourceSet {
    skip_at_root: &["target", "tests", "node_modules", "venv", "env", "build"],
    skip_anywhere: &["__pycache__"],
    also: &[],
};

/// What shaped a Python component besides its sources, for the staleness stamp.
fn stamped_toolchain() -> BTreeMap<String, String> {
    BTreeMap::from([(
        "componentize-py".to_string(),
        toolchain::COMPONENTIZE_PY_VERSION.to_string(),
    )])
}

/// Build the Python plugin whose manifest is `source.manifest`.
pub(crate) fn compile(term: &Term, source: &Source<'_>) -> Result<Compiled> {
    let Source {
        manifest,
        text,
        root,
        started,
        ..
    } = *source;
    let id = manifest.plugin.id.as_str();
    let entry = Entry::find(root, manifest)?;
    let target_dir = own_target_dir(root);
    let work = target_dir.join(OUTPUT_DIR).join("python");
    // Two builds of one plugin at once (an editor's and a terminal's) take turns: they
    // write the same build directory.
    let lock = crate::toolchain::lock_dir(term, &work)?;
    let output = target_dir.join(OUTPUT_DIR).join(source.file_name());
    let stamp_path = work.join("stamp.json");
    let dependencies = read_dependencies(root)?;

    let inputs = sources::hash_sources(root, text, dependencies.join("\n").as_bytes(), &SOURCES)?;
    tracing::debug!(elapsed = ?started.elapsed(), "hashed the sources");
    let fresh = sources::stamped_component(
        &stamp_path,
        &stamped_toolchain(),
        &inputs,
        &output,
        &target_dir,
    );
    if let Some(prepared) = fresh {
        return Ok(Compiled {
            prepared,
            fresh: true,
            profile: "release",
            lock: Some(lock),
        });
    }

    let home = crate::context::flowtrace_home()?;
    let componentize_py = toolchain::ensure_componentize_py(term, &home)?;
    term.status(
        "Compiling",
        format_args!(
            "plugin `{id}` v{} (componentize-py {})",
            manifest.plugin.version,
            toolchain::COMPONENTIZE_PY_VERSION
        ),
    );
    let wit = work.join("wit");
    // componentize-py generates `wasi:http` bindings only for a world that imports it.
    let options = world::WorldOptions { wasi_http: true };
    world::write_wit_dir_with(&wit, manifest, options)?;
    write_sdk(&work.join("sdk"))?;
    let entry_dir = work.join("entry");
    write_if_changed(
        &entry_dir.join(format!("{ENTRY_MODULE}.py")),
        entry_module(&entry.module, manifest.plugin.kind).as_bytes(),
    )?;
    bindings(term, &componentize_py, &work)?;
    let deps_dir = work.join("deps");
    install_dependencies(term, &home, &deps_dir, &dependencies)?;

    let built = tempfile::Builder::new()
        .prefix(".componentize-")
        .suffix(".wasm")
        .tempfile_in(&work)
        .with_context(|| format!("failed to create a temp file in `{}`", work.display()))?;
    let mut command = Command::new(&componentize_py);
    command
        .current_dir(&work)
        .arg("-d")
        .arg(&wit)
        .args(["-w", world::WORLD, "componentize", ENTRY_MODULE])
        .arg("-p")
        .arg(&entry_dir)
        .arg("-p")
        .arg(work.join("sdk"))
        .arg("-p")
        .arg(&entry.path_dir);
    if !dependencies.is_empty() {
        command.arg("-p").arg(&deps_dir);
    }
    command.arg("-o").arg(built.path());
    // componentize-py shows the module path entries as `/0/`, `/1/`, ... in tracebacks.
    let mut search_path = vec![entry_dir.clone(), work.join("sdk"), entry.path_dir.clone()];
    if !dependencies.is_empty() {
        search_path.push(deps_dir.clone());
    }
    run_componentize(term, command, id, manifest, &search_path)?;
    tracing::debug!(elapsed = ?started.elapsed(), "componentize-py finished");

    let prepared = prepare(built.path(), text, output, target_dir)?;
    let component = prepared.inspection.sha256.clone();
    sources::write_stamp(&stamp_path, stamped_toolchain(), inputs, component)?;
    Ok(Compiled {
        prepared,
        fresh: false,
        profile: "release",
        lock: Some(lock),
    })
}

/// The plugin's entry module.
struct Entry {
    /// Its import name: `app`, or `my_plugin` for `my_plugin/__init__.py`.
    module: String,
    /// The directory to put on the module path so that `module` imports.
    path_dir: PathBuf,
}

impl Entry {
    fn find(root: &Path, manifest: &Manifest) -> Result<Self> {
        let entry = manifest
            .build
            .entry_or_default()
            .expect("python has a default entry");
        let path = root.join(entry);
        if !path.is_file() {
            let how = if manifest.build.entry.is_some() {
                "or change `entry` under `[build]` in flowtrace.toml"
            } else {
                "or name your module under `[build]` in flowtrace.toml: `entry = \"src/plugin.py\"`"
            };
            return Err(anyhow!(
                "the plugin's entry module `{entry}` does not exist in `{}`",
                root.display()
            ))
            .help(format!("create `{entry}` with the plugin class, {how}"));
        }
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let parent = path.parent().unwrap_or(root);
        let (module, path_dir) = if stem == "__init__" {
            let package = parent
                .file_name()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            (package, parent.parent().unwrap_or(root))
        } else {
            (stem, parent)
        };
        if !is_identifier(module) {
            return Err(anyhow!(
                "the entry `{entry}` cannot be imported: `{module}` is not a Python module name"
            ))
            .help(
                "rename it to letters, digits and `_`, not starting with a digit (e.g. `app.py`)",
            );
        }
        if module == SDK_PACKAGE || module == ENTRY_MODULE || module == "wit_world" {
            return Err(anyhow!(
                "the entry `{entry}` is named `{module}`, which the build uses itself"
            ))
            .help("rename it, e.g. to `app.py`");
        }
        Ok(Entry {
            module: module.to_string(),
            path_dir: path_dir.to_path_buf(),
        })
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The module componentize-py builds: the SDK loads the plugin's module and exposes the
/// class componentize-py looks for (`Evaluator`, `Exporter`, ...).
fn entry_module(module: &str, kind: PluginKind) -> String {
    let class = match kind {
        PluginKind::Evaluator => "Evaluator",
        PluginKind::Exporter => "Exporter",
        PluginKind::Embedder => "Embedder",
        PluginKind::Transformer => "Transformer",
    };
    format!(
        "# Written by cargo-flowtrace: the module componentize-py builds.\n\
         import {SDK_PACKAGE}._entry as _entry\n\
         _entry.load(\"{module}\", \"{kind}\")\n\
         {class} = _entry.{class}\n"
    )
}

/// Write the embedded SDK to `dir/flowtrace_plugin`, replacing what is there when it
/// differs (a file the SDK no longer has is removed).
fn write_sdk(dir: &Path) -> Result<()> {
    let mut files = Vec::new();
    collect_files(&SDK, &mut files);
    sources::write_embedded(&dir.join(SDK_PACKAGE), &files)
}

fn collect_files<'a>(dir: &'a Dir<'a>, out: &mut Vec<&'a include_dir::File<'a>>) {
    for file in dir.files() {
        let cache = file
            .path()
            .components()
            .any(|c| c.as_os_str() == "__pycache__");
        if !cache {
            out.push(file);
        }
    }
    for sub in dir.dirs() {
        collect_files(sub, out);
    }
}

/// `componentize-py bindings` for the world, when the world changed: what editors and
/// type checkers read (`wit_world`); componentize-py generates its own while building.
fn bindings(term: &Term, componentize_py: &Path, work: &Path) -> Result<()> {
    let out = work.join("bindings");
    let world = std::fs::read(work.join("wit").join(world::WORLD_FILE)).unwrap_or_default();
    let marker = out.join(".world");
    if out.join("wit_world").is_dir() && std::fs::read(&marker).is_ok_and(|old| old == world) {
        return Ok(());
    }
    if out.exists() {
        std::fs::remove_dir_all(&out)
            .with_context(|| format!("failed to remove `{}`", out.display()))?;
    }
    let mut command = Command::new(componentize_py);
    command
        .current_dir(work)
        .args(["-d", "wit", "-w", world::WORLD, "bindings"])
        .arg(&out);
    term.verbose_status("Running", format_args!("`{}`", display(&command)));
    let output = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("failed to run `{}`", display(&command)))?;
    if !output.status.success() {
        return Err(anyhow!(
            "{}",
            String::from_utf8_lossy(&output.stderr).trim_end()
        ))
        .context(format!(
            "failed to generate the Python bindings: `{}` failed ({})",
            display(&command),
            output.status
        ));
    }
    std::fs::write(&marker, world)
        .with_context(|| format!("failed to write `{}`", marker.display()))?;
    Ok(())
}

/// Run componentize-py: its output is shown in verbose mode, and on failure, as the
/// Python traceback that caused it (paths mapped back onto the plugin's files); a failure
/// the SDK explains (`flowtrace_plugin.errors.*: message`) gets it as a help.
fn run_componentize(
    term: &Term,
    command: Command,
    id: &str,
    manifest: &Manifest,
    search_path: &[PathBuf],
) -> Result<()> {
    let sources::ToolRun { status, stderr, .. } = sources::run_componentizer(term, command, id)?;
    if status.success() {
        return Ok(());
    }
    let shown_stderr = if term.is_verbose() {
        stderr.to_string()
    } else {
        plugin_traceback(&stderr, search_path)
    };
    for line in shown_stderr.lines() {
        term.stderr_line(line);
    }
    let mut err = anyhow!("failed to compile plugin `{id}`: componentize-py failed ({status})");
    for help in helps(&stderr, manifest) {
        err = error::with_help(err, help);
    }
    Err(err)
}

/// What of componentize-py's stderr is about the plugin: the traceback of the exception
/// raised while it imported the plugin (componentize-py wraps it in an `AssertionError`
/// raised from its own command line, followed by its `Caused by:` and backtrace), with its
/// `/N/` paths replaced by the directories of `search_path`. Anything else is kept whole.
fn plugin_traceback(stderr: &str, search_path: &[PathBuf]) -> String {
    const WRAPPED: &str = "AssertionError: Traceback (most recent call last):";
    let text = match stderr.find(WRAPPED) {
        Some(start) => {
            let inner = &stderr[start + "AssertionError: ".len()..];
            let end = ["\nCaused by:", "\nStack backtrace:"]
                .iter()
                .filter_map(|marker| inner.find(marker))
                .min()
                .unwrap_or(inner.len());
            inner[..end].trim_end()
        }
        None => stderr.trim_end(),
    };
    let cwd = std::env::current_dir().ok();
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.push_str(&map_traceback_path(line, search_path, cwd.as_deref()));
        out.push('\n');
    }
    out
}

/// `  File "/2/app.py", line 3` -> `  File "app.py", line 3` when `/2/` is the plugin's
/// directory and the current one.
fn map_traceback_path(line: &str, search_path: &[PathBuf], cwd: Option<&Path>) -> String {
    let Some(rest) = line.trim_start().strip_prefix("File \"/") else {
        return line.to_string();
    };
    let indent = &line[..line.len() - line.trim_start().len()];
    let Some((index, path)) = rest.split_once('/') else {
        return line.to_string();
    };
    let Some(dir) = index.parse::<usize>().ok().and_then(|i| search_path.get(i)) else {
        return line.to_string();
    };
    let (file, tail) = path.split_once('"').unwrap_or((path, ""));
    let real = dir.join(file);
    let shown = cwd
        .and_then(|cwd| real.strip_prefix(cwd).ok())
        .unwrap_or(&real);
    format!("{indent}File \"{}\"{tail}", shown.display())
}

/// The helps for a failed componentize-py run, from the last lines of its traceback.
fn helps(stderr: &str, manifest: &Manifest) -> Vec<String> {
    let mut helps = Vec::new();
    for line in stderr.lines().map(str::trim) {
        for prefix in [
            "flowtrace_plugin.errors.CapabilityNotDeclared: ",
            "flowtrace_plugin.errors.BuildError: ",
        ] {
            if let Some(message) = line.strip_prefix(prefix) {
                if !helps.iter().any(|h| h == message) {
                    helps.push(message.to_string());
                }
            }
        }
        // A gated module of the generated bindings imported directly.
        for (module, capability) in world::gated_interfaces() {
            let missing = line.contains(&format!("No module named 'wit_world.imports.{module}'"))
                || line.contains(&format!(
                    "cannot import name '{module}' from 'wit_world.imports'"
                ));
            if missing {
                helps.push(format!(
                    "`wit_world.imports.{module}` needs capability `{capability}`: add `{}` \
                     under `[capabilities]` in flowtrace.toml",
                    capability.manifest_line()
                ));
            }
        }
        if let Some(rest) = line.strip_prefix("ModuleNotFoundError: No module named '") {
            let module = rest.trim_end_matches('\'');
            let top = module.split('.').next().unwrap_or(module);
            if top != "wit_world" && top != SDK_PACKAGE {
                helps.push(format!(
                    "to bundle a package, list it under `[project] dependencies` in \
                     pyproject.toml (pure-Python packages only); to import a module of the \
                     plugin, put it beside `{}`",
                    manifest.build.entry_or_default().unwrap_or("app.py")
                ));
            }
        }
    }
    helps
}

/// `[project] dependencies` of `pyproject.toml`, when there is one.
fn read_dependencies(root: &Path) -> Result<Vec<String>> {
    let path = root.join("pyproject.toml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(Vec::new());
    };
    let doc: toml::Table =
        toml::from_str(&text).with_context(|| format!("failed to parse `{}`", path.display()))?;
    let Some(list) = doc.get("project").and_then(|p| p.get("dependencies")) else {
        return Ok(Vec::new());
    };
    let list = list.as_array().ok_or_else(|| {
        anyhow!(
            "`project.dependencies` in `{}` is not an array of strings",
            path.display()
        )
    })?;
    list.iter()
        .map(|d| {
            d.as_str().map(str::to_string).ok_or_else(|| {
                anyhow!(
                    "`project.dependencies` in `{}` has an entry that is not a string: `{d}`",
                    path.display()
                )
            })
        })
        .collect()
}

/// Install `dependencies` into `dir` with the toolchain venv's pip, as pure-Python wheels
/// (a component cannot load native extensions built for this machine), when the list
/// changed since the last install.
fn install_dependencies(
    term: &Term,
    home: &Path,
    dir: &Path,
    dependencies: &[String],
) -> Result<()> {
    let marker = dir.join(".requirements");
    let wanted = dependencies.join("\n");
    if dependencies.is_empty() {
        if dir.exists() {
            std::fs::remove_dir_all(dir)
                .with_context(|| format!("failed to remove `{}`", dir.display()))?;
        }
        return Ok(());
    }
    if std::fs::read_to_string(&marker).is_ok_and(|old| old == wanted) {
        return Ok(());
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir)
            .with_context(|| format!("failed to remove `{}`", dir.display()))?;
    }
    let mut command = Command::new(toolchain::venv_python(home));
    command
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
            "--only-binary",
            ":all:",
            "--platform",
            "any",
            "--implementation",
            "py",
            "--python-version",
            toolchain::GUEST_PYTHON,
            "--target",
        ])
        .arg(dir)
        .args(dependencies);
    crate::toolchain::process::run_logged(
        term,
        "Installing",
        &format!("{} Python package(s) for the plugin", dependencies.len()),
        command,
    )
    .with_help(|| {
        "a plugin can bundle pure-Python packages only (wheels tagged `py3-none-any`): \
         packages with native code cannot run in a component"
            .to_string()
    })?;
    std::fs::write(&marker, wanted)
        .with_context(|| format!("failed to write `{}`", marker.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowtrace_plugins::manifest;

    fn manifest_with(caps: &str) -> Manifest {
        let text = format!(
            "[plugin]\nid = \"p\"\nname = \"P\"\nversion = \"0.1.0\"\nkind = \"evaluator\"\n\
             flowtrace = \"^0.1\"\n\n[build]\nlanguage = \"python\"\n\n[capabilities]\n{caps}\n"
        );
        manifest::parse(&text, Path::new("flowtrace.toml")).expect("valid manifest")
    }

    #[test]
    fn the_entry_module_names_the_class_componentize_py_wants() {
        let text = entry_module("app", PluginKind::Exporter);
        assert!(
            text.contains("_entry.load(\"app\", \"exporter\")"),
            "{text}"
        );
        assert!(text.contains("Exporter = _entry.Exporter"), "{text}");
    }

    #[test]
    fn undeclared_modules_get_the_capability_to_declare() {
        let stderr = "Traceback (most recent call last):\n  File \"app.py\", line 3\n\
                      flowtrace_plugin.errors.CapabilityNotDeclared: `flowtrace_plugin.kv` needs \
                      capability `storage`: add `storage = true` under `[capabilities]` in \
                      flowtrace.toml\n";
        let helps = helps(stderr, &manifest_with(""));
        assert_eq!(helps.len(), 1, "{helps:?}");
        assert!(helps[0].starts_with("`flowtrace_plugin.kv` needs capability `storage`"));

        let raw = "ModuleNotFoundError: No module named 'wit_world.imports.traces'\n";
        let helps = super::helps(raw, &manifest_with(""));
        assert_eq!(helps.len(), 1, "{helps:?}");
        assert!(helps[0].contains("`traces = true`"), "{helps:?}");
    }

    #[test]
    fn a_missing_third_party_module_points_at_pyproject() {
        let helps = helps(
            "ModuleNotFoundError: No module named 'requests'\n",
            &manifest_with(""),
        );
        assert!(helps[0].contains("`[project] dependencies`"), "{helps:?}");
    }

    #[test]
    fn the_traceback_is_the_plugin_s_with_real_paths() {
        let stderr = "Traceback (most recent call last):\n  File \"/venv/bin/componentize-py\", \
                      line 8, in <module>\n    sys.exit(script())\nAssertionError: Traceback \
                      (most recent call last):\n  File \"/0/_flowtrace_entry.py\", line 3, in \
                      <module>\n  File \"/2/app.py\", line 7\n    def evaluate(self\n\
                      SyntaxError: '(' was never closed\n\nCaused by:\n    SyntaxError\n\n\
                      Stack backtrace:\n   0: anyhow\n";
        let path = [
            PathBuf::from("/p/target/flowtrace/python/entry"),
            PathBuf::from("/p/target/flowtrace/python/sdk"),
            PathBuf::from("/p"),
        ];
        let shown = plugin_traceback(stderr, &path);
        assert_eq!(
            shown,
            "Traceback (most recent call last):\n  File \
             \"/p/target/flowtrace/python/entry/_flowtrace_entry.py\", line 3, in <module>\n  \
             File \"/p/app.py\", line 7\n    def evaluate(self\nSyntaxError: '(' was never \
             closed\n"
        );
        // Output of another shape is kept whole.
        assert_eq!(
            plugin_traceback("error: no such world\n", &path),
            "error: no such world\n"
        );
    }

    #[test]
    fn module_names_are_python_identifiers() {
        assert!(is_identifier("app"));
        assert!(is_identifier("_my_plugin2"));
        assert!(!is_identifier("my-plugin"));
        assert!(!is_identifier("2app"));
        assert!(!is_identifier(""));
    }
}
