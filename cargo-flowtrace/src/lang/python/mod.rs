//! The Python driver: componentize-py over the plugin's entry module, against the world
//! synthesised from the manifest, with the Python SDK (`flowtrace_plugin`, embedded in
//! this binary) on the module path.
//!
//! Everything it writes is under `<plugin>/target/flowtrace/python/`:
//!
//! | path | what |
//! |---|---|
//! | `wit/` | the contract and `build.wit`, the plugin's world ([`crate::build::world`]) |
//! | `bindings/` | `componentize-py bindings` of that world, for editors and type checkers |
//! | `sdk/flowtrace_plugin/` | the SDK |
//! | `deps/` | the packages `pyproject.toml` lists under `[project] dependencies` |
//! | `entry/_flowtrace_entry.py` | the module componentize-py builds: loads the plugin's module |
//! | `stamp.json` | what the last build was made from, so an unchanged plugin is not rebuilt |
//! | `dev/dev.json` | dev mode (`test` without `--release`): the module the dev engine imports, and its path |
//! | `dev/entry/` | dev mode: the module componentize-py builds the engine from |
//!
//! componentize-py imports the entry module while it builds (it snapshots the initialised
//! interpreter), so an exception at import time, such as the SDK's `CapabilityNotDeclared`
//! for a module whose capability the manifest does not grant, fails the build.

mod dependencies;
pub(crate) mod dev;
mod failure;
pub mod toolchain;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{anyhow, Context as _, Result};
use flowtrace_plugins::manifest::PluginKind;
use include_dir::{include_dir, Dir};

use super::{capitalised, Build, DevArtefact, Driver, Sdk};
use crate::build::componentizer::{self, component_file};
use crate::build::sources::{self, SourceSet};
use crate::build::world::{self, write_if_changed};
use crate::build::{Made, Source};
use crate::error::ResultExt;
use crate::term::Term;
use crate::toolchain::process::display;
use crate::toolchain::{lock_toolchains, Check};

/// The Python SDK, `sdk/python/flowtrace_plugin` of this repository (see `build.rs`).
static SDK: Dir<'static> = include_dir!("$FLOWTRACE_EMBEDDED/sdk-python");

/// The SDK's import name.
pub const SDK_PACKAGE: &str = "flowtrace_plugin";

/// The SDK's version (`__version__` of `sdk/python/flowtrace_plugin`).
pub const SDK_VERSION: &str = env!("FLOWTRACE_PYTHON_SDK_VERSION");

/// The module componentize-py builds.
const ENTRY_MODULE: &str = "_flowtrace_entry";

/// The files of a Python plugin that its component is built from: everything but its build
/// output, tests, virtual environments, caches and hidden files.
const SOURCES: SourceSet<'static> = SourceSet {
    skip_at_root: &["target", "tests", "node_modules", "venv", "env", "build"],
    skip_anywhere: &["__pycache__"],
    also: &[],
};

/// The Python driver.
pub(crate) struct Python;

impl Driver for Python {
    fn sdk(&self) -> Sdk {
        Sdk {
            package: SDK_PACKAGE,
            version: SDK_VERSION,
        }
    }

    fn checks(&self, home: &Path) -> Vec<Check> {
        let python = toolchain::check_python();
        let componentize_py = toolchain::check_componentize_py(home, python.is_ok());
        vec![python, componentize_py]
    }

    fn install(&self, term: &Term, home: &Path, tool: &str) -> Result<()> {
        debug_assert_eq!(tool, "componentize-py");
        let _lock = lock_toolchains(term, home)?;
        toolchain::install_componentize_py(term, home).map(drop)
    }

    fn sources(&self) -> Option<&'static SourceSet<'static>> {
        Some(&SOURCES)
    }

    /// What shaped a Python component besides its sources: the embedded SDK and
    /// componentize-py.
    fn stamped_toolchain(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("sdk".to_string(), sources::embedded_hash(b"", &sdk_files())),
            (
                "componentize-py".to_string(),
                toolchain::COMPONENTIZE_PY_VERSION.to_string(),
            ),
        ])
    }

    fn dev(&self, term: &Term, source: &Source<'_>) -> Result<Option<DevArtefact>> {
        match dev::prepare(term, source)? {
            dev::Plan::Dev(artefact) => Ok(Some(artefact)),
            dev::Plan::Snapshot(why) => {
                term.note(format_args!("testing the release build: {why}"));
                Ok(None)
            }
        }
    }

    fn plan<'a>(&self, _term: &Term, source: &'a Source<'a>) -> Result<Box<dyn Build + 'a>> {
        let entry = Entry::find(source)?;
        let dependencies = dependencies::read(source.root)?;
        Ok(Box::new(PythonBuild {
            source,
            work: source.work_dir(),
            entry,
            inputs: dependencies.join("\n").into_bytes(),
            dependencies,
            tools: None,
        }))
    }
}

/// One build of a Python plugin.
struct PythonBuild<'a> {
    source: &'a Source<'a>,
    work: PathBuf,
    entry: Entry,
    dependencies: Vec<String>,
    /// The dependency list, for the stamp.
    inputs: Vec<u8>,
    /// `$FLOWTRACE_HOME` and componentize-py, once [`Build::toolchain`] made it ready.
    tools: Option<(PathBuf, PathBuf)>,
}

impl Build for PythonBuild<'_> {
    fn inputs(&self) -> &[u8] {
        &self.inputs
    }

    fn toolchain(&mut self, term: &Term) -> Result<String> {
        let home = crate::context::flowtrace_home()?;
        let componentize_py = toolchain::ensure_componentize_py(term, &home)?;
        self.tools = Some((home, componentize_py));
        Ok(format!(
            "componentize-py {}",
            toolchain::COMPONENTIZE_PY_VERSION
        ))
    }

    fn compile(&mut self, term: &Term) -> Result<Made> {
        let (source, work, entry) = (self.source, &self.work, &self.entry);
        let manifest = source.manifest;
        let (home, componentize_py) = self.tools.as_ref().expect("the toolchain is ready");
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
        bindings(term, componentize_py, work)?;
        let deps_dir = work.join("deps");
        dependencies::bundle(term, home, &deps_dir, &self.dependencies)?;

        let built = component_file(work)?;
        // componentize-py shows the module path entries as `/0/`, `/1/`, ... in tracebacks.
        let mut search_path = vec![entry_dir, work.join("sdk"), entry.path_dir.clone()];
        if !self.dependencies.is_empty() {
            search_path.push(deps_dir);
        }
        let mut command = Command::new(componentize_py);
        command.current_dir(work).arg("-d").arg(&wit).args([
            "-w",
            world::WORLD,
            "componentize",
            ENTRY_MODULE,
        ]);
        for dir in &search_path {
            command.arg("-p").arg(dir);
        }
        command.arg("-o").arg(built.path());
        componentizer::componentize(term, command, source.id(), "componentize-py", |run| {
            failure::explain(run, term.is_verbose(), manifest, &search_path)
        })?;
        tracing::debug!(elapsed = ?source.started.elapsed(), "componentize-py finished");
        Ok(Made::Written(built))
    }
}

/// The plugin's entry module.
struct Entry {
    /// Its import name: `app`, or `my_plugin` for `my_plugin/__init__.py`.
    module: String,
    /// The directory to put on the module path so that `module` imports.
    path_dir: PathBuf,
}

impl Entry {
    fn find(source: &Source<'_>) -> Result<Self> {
        let root = source.root;
        let sources::Entry { path, shown: entry } =
            sources::find_entry(root, source.manifest, "with the plugin class")?;
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
/// class componentize-py looks for, named after the kind (`Evaluator`, `Exporter`, ...).
fn entry_module(module: &str, kind: PluginKind) -> String {
    let class = capitalised(kind.as_str());
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
    sources::write_embedded(&dir.join(SDK_PACKAGE), &sdk_files())
}

/// The SDK's files that the build writes, in path order.
fn sdk_files() -> Vec<&'static include_dir::File<'static>> {
    sources::embedded_files(&SDK, &|path| {
        !path.components().any(|c| c.as_os_str() == "__pycache__")
    })
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn module_names_are_python_identifiers() {
        assert!(is_identifier("app"));
        assert!(is_identifier("_my_plugin2"));
        assert!(!is_identifier("my-plugin"));
        assert!(!is_identifier("2app"));
        assert!(!is_identifier(""));
    }
}
