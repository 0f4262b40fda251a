//! The languages plugins are written in: one `Driver` per language, one folder each, and
//! `driver`, the one place a language is added.
//!
//! Every build takes the same steps, in `crate::build::compile`: the driver plans the build
//! (`Driver::plan`: checks the plugin, gathers what it depends on); a driver that keeps its
//! own build directory (`Driver::sources`) has it locked first and the plugin's sources
//! hashed against the stamp of the last build, which is reused when it is fresh; then the
//! toolchain is made ready (`Build::toolchain`, installing what is missing), the component
//! is made (`Build::compile`), and the stamp is written. `doctor` asks the same drivers
//! for their toolchain checks, their installers and the SDK they carry.
//!
//! | language | driver | toolchain |
//! |---|---|---|
//! | Rust | [`rust`] | `cargo build` for `wasm32-wasip2`, the Rust SDK supplied to cargo |
//! | Python | [`python`] | componentize-py in a managed venv, the Python SDK on the module path |
//! | TypeScript | [`typescript`] | esbuild, then componentize-js, both through npm |
//!
//! A new language is a folder here with its driver (its build, its toolchain's checks and
//! installs, its SDK) and an arm in `driver`; besides, the runtime learns its name
//! (`Language` in `flowtrace_plugins::manifest`) and the WASI imports its toolchain adds
//! (`flowtrace_plugins::capability::Toolchain`), and `build.rs` embeds its SDK.

pub mod python;
pub mod rust;
pub mod typescript;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use flowtrace_plugins::manifest::{Language, Manifest};

use crate::build::carried::Requirement;
use crate::build::sources::SourceSet;
use crate::build::{Made, Source};
use crate::term::Term;
use crate::toolchain::Check;

/// The driver of `language`: the one place a language is added.
pub(crate) fn driver(language: Language) -> &'static dyn Driver {
    match language {
        Language::Rust => &rust::Rust,
        Language::Python => &python::Python,
        Language::TypeScript => &typescript::TypeScript,
    }
}

/// Every language with its driver, in the order `doctor` shows them.
pub(crate) fn drivers() -> impl Iterator<Item = (Language, &'static dyn Driver)> {
    Language::ALL
        .into_iter()
        .map(|language| (language, driver(language)))
}

/// What a language brings: how its plugins are built, and what `doctor` reports of it.
pub(crate) trait Driver: Sync {
    /// The SDK of the language this binary carries (and supplies to builds).
    fn sdk(&self) -> Sdk;

    /// The checks of the toolchain, in the order `doctor` shows them.
    fn checks(&self, home: &Path) -> Vec<Check>;

    /// Install `tool`, the name of one of [`Driver::checks`] that can be installed.
    fn install(&self, term: &Term, home: &Path, tool: &str) -> Result<()>;

    /// What the plugin at `manifest_path` requires of this binary besides the contract
    /// (the Rust SDK, for a Rust plugin that depends on it), for `doctor`.
    fn requirements(
        &self,
        _manifest_path: &Path,
        _manifest: &Manifest,
    ) -> Result<Vec<Requirement>> {
        Ok(Vec::new())
    }

    /// The target dir builds of the plugin at `root` write to.
    fn target_dir(&self, root: &Path) -> PathBuf {
        crate::build::own_target_dir(root)
    }

    /// Which of the plugin's files its component is made from, when the build keeps its
    /// own directory, `<root>/target/flowtrace/<language>`, and a stamp of what it built
    /// there; `None` when the toolchain keeps its own build directory and knows what is
    /// fresh (cargo).
    fn sources(&self) -> Option<&'static SourceSet<'static>> {
        None
    }

    /// What shaped a component besides the plugin's files (the toolchain's versions, the
    /// embedded SDK's hash), for the stamp.
    fn stamped_toolchain(&self) -> BTreeMap<String, String> {
        BTreeMap::new()
    }

    /// Whether its test builds ([`Source::dev_engine`]) make a dev engine, an interpreter
    /// component built once that each instance hands the plugin's code to
    /// ([`Made::Engine`]), instead of the component `build` makes.
    fn has_dev_engine(&self) -> bool {
        false
    }

    /// Start building `source`: check the plugin (its entry, its package) and gather what
    /// its build depends on. Called with the build directory locked.
    fn plan<'a>(&self, term: &Term, source: &'a Source<'a>) -> Result<Box<dyn Build + 'a>>;

    /// For `test` in dev mode: an engine component that loads the plugin's sources when it
    /// runs, made ready (built once, then reused), so an edit needs no build; `Ok(None)`
    /// when the language has no dev mode, or this plugin cannot use it (the driver says
    /// why on `term`): `test` then builds as usual.
    fn dev(&self, _term: &Term, _source: &Source<'_>) -> Result<Option<DevArtefact>> {
        Ok(None)
    }
}

/// What a driver's `dev` made ready: the engine `test` runs in dev mode.
#[derive(Debug, Clone)]
pub struct DevArtefact {
    /// The engine component.
    pub engine: PathBuf,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Where its compiled code is cached (shared by every plugin that uses the engine).
    pub cache: PathBuf,
    /// The directory to show it, read-only ([`flowtrace_plugins::Runtime::load_dev`]).
    pub sources: PathBuf,
    /// Whether a call's error message says the engine failed to load the plugin's sources
    /// (given the plugin's directory and manifest): then what to show.
    pub load_failure: fn(&str, &Path, &Manifest) -> Option<LoadFailure>,
    /// How much more linear memory the engine starts with than the plugin's own component
    /// would (an interpreter with more of its library loaded): added to the plugin's
    /// `memory` limit in dev mode, so a limit that holds for the release build holds here.
    pub memory_allowance: u64,
}

impl DevArtefact {
    /// `manifest` with its `memory` limit raised by [`DevArtefact::memory_allowance`],
    /// within `caps`.
    pub fn loosen(&self, manifest: &Manifest, caps: &flowtrace_plugins::HostCaps) -> Manifest {
        let mut manifest = manifest.clone();
        if let Some(memory) = &mut manifest.limits.memory {
            *memory = memory
                .saturating_add(self.memory_allowance)
                .min(caps.memory.max(*memory));
        }
        manifest
    }
}

/// A dev engine's failure to load a plugin's sources, as a failed build would show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadFailure {
    /// The error in the plugin's terms (a traceback, paths relative to the current
    /// directory), one line per line.
    pub shown: String,
    /// The helps for the error.
    pub helps: Vec<String>,
}

/// One build, as a [`Driver`] planned it.
pub(crate) trait Build {
    /// What the component depends on besides the plugin's files (its dependency list), for
    /// the stamp.
    fn inputs(&self) -> &[u8] {
        &[]
    }

    /// Make the toolchain ready, installing what is missing; what the `Compiling` line says
    /// of it (`componentize-py 0.25.1`).
    fn toolchain(&mut self, term: &Term) -> Result<String>;

    /// Make the component.
    fn compile(&mut self, term: &Term) -> Result<Made>;
}

/// A language's SDK, as this binary carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sdk {
    /// Its package name: `flowtrace_plugin`.
    pub package: &'static str,
    /// Its version.
    pub version: &'static str,
}

/// `evaluator` -> `Evaluator`: a kind's name as the SDKs spell their per-kind names
/// (`class Evaluator`, `defineEvaluator`).
pub(crate) fn capitalised(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use flowtrace_plugins::manifest::PluginKind;

    /// A manifest in `language` with `caps` under `[capabilities]`.
    pub(crate) fn manifest_with(language: Language, caps: &str) -> Manifest {
        let text = format!(
            "[plugin]\nid = \"p\"\nname = \"P\"\nversion = \"0.1.0\"\nkind = \"evaluator\"\n\
             flowtrace = \"^0.1\"\n\n[build]\nlanguage = \"{language}\"\n\n[capabilities]\n\
             {caps}\n"
        );
        flowtrace_plugins::manifest::parse(&text, Path::new("flowtrace.toml"))
            .expect("valid manifest")
    }

    #[test]
    fn kind_names_are_capitalised() {
        assert_eq!(capitalised(PluginKind::Exporter.as_str()), "Exporter");
        assert_eq!(capitalised(""), "");
    }
}
