//! Dev mode for Python plugins (`cargo flowtrace test` without `--release`): instead of a
//! component of the plugin, the *engine*, an interpreter component built once with
//! componentize-py, which imports the plugin's own sources when it is first called.
//!
//! An engine depends only on componentize-py's version, the SDK, the plugin's kind and its
//! world (the capabilities it declares): plugins that share those share it. It is kept in
//! `$FLOWTRACE_HOME/cache/python-dev/<key>/engine.wasm`, its compiled code beside it (sealed
//! like every compiled cache), so only the first dev run pays for componentize-py and for
//! compiling the 35 MB component; after an edit, `test` loads the same engine and the
//! edited sources.
//!
//! The engine imports exactly what a release build of the plugin imports (it is built
//! against the same world), so the capability check, the grants and the linker treat it as
//! the plugin. The harness shows it the plugin's directory read-only at
//! [`flowtrace_plugins::DEV_SOURCES`] ([`flowtrace_plugins::Runtime::load_dev`], a feature
//! the Flowtrace app does not enable). What to import from there is in
//! `target/flowtrace/python/dev/dev.json`, written here.
//!
//! The engine has the standard library imported while it was built (a component has no
//! other modules), and none of the plugin's native extensions: a plugin that has any is
//! built and tested as a release build ([`Plan::Snapshot`]).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result};
use flowtrace_plugins::manifest::PluginKind;
use sha2::{Digest, Sha256};

use super::{
    bindings, dependencies, failure, sdk_files, toolchain, write_sdk, Entry, SDK_PACKAGE, SOURCES,
};
use crate::build::componentizer::{self, component_file};
use crate::build::sources;
use crate::build::world::{self, write_if_changed};
use crate::build::Source;
use crate::lang::{capitalised, DevArtefact, LoadFailure};
use crate::term::Term;

/// The module componentize-py builds the engine from.
const ENGINE_MODULE: &str = "_flowtrace_dev_entry";

/// Bumped when what an engine is made of changes in a way the key does not see.
const ENGINE_FORMAT: &str = "1";

/// Where the dev config goes, relative to the plugin's directory (the SDK's `_dev.CONFIG`).
pub(super) const CONFIG: &str = "target/flowtrace/python/dev/dev.json";

/// How much more memory the engine starts with than a release build of a plugin (its
/// preloaded standard library): with componentize-py 0.25.1, the template's first call asks
/// for 30.5 MiB in dev mode, 12.4 MiB as a release build.
const MEMORY_ALLOWANCE: u64 = 20 << 20;

/// Every file but hidden ones.
const EVERY_FILE: sources::SourceSet<'static> = sources::SourceSet {
    skip_at_root: &[],
    skip_anywhere: &[],
    also: &[],
};

/// What a dev-mode `test` runs.
pub(crate) enum Plan {
    /// The engine, and what it loads.
    Dev(DevArtefact),
    /// The release build instead, for this reason.
    Snapshot(String),
}

/// Make the dev engine for `source` ready (built the first time), and write what it loads.
pub(crate) fn prepare(term: &Term, source: &Source<'_>) -> Result<Plan> {
    let root = source.root;
    let entry = Entry::find(source)?;
    if let Some(native) = native_extension(&sources::source_files(root, &SOURCES)?) {
        return Ok(Plan::Snapshot(format!(
            "`{native}` is a native extension, which only a release build can load"
        )));
    }
    let work = source.work_dir();
    let _lock = crate::toolchain::lock_dir(term, &work)?;
    let home = crate::context::flowtrace_home()?;
    let componentize_py = toolchain::ensure_componentize_py(term, &home)?;

    let dependencies = dependencies::read(root)?;
    let deps_dir = work.join("deps");
    dependencies::bundle(term, &home, &deps_dir, &dependencies)?;
    if !dependencies.is_empty() {
        let files = sources::source_files(&deps_dir, &EVERY_FILE)?;
        if let Some(native) = native_extension(&files) {
            return Ok(Plan::Snapshot(format!(
                "dependency file `{native}` is a native extension, which only a release build \
                 can load"
            )));
        }
    }

    // What a build writes for editors and type checkers, and for plain-Python unit tests:
    // the world, the SDK and the bindings (the engine is built from the first two).
    let kind = source.manifest.plugin.kind;
    let wit = work.join("wit");
    world::write_wit_dir_with(
        &wit,
        source.manifest,
        world::WorldOptions { wasi_http: true },
    )?;
    write_sdk(&work.join("sdk"))?;
    bindings(term, &componentize_py, &work)?;
    let key = engine_key(&wit, kind)?;
    let engine_dir = home.join("cache").join("python-dev").join(&key[..16]);
    let engine = engine_dir.join("engine.wasm");
    {
        let _engine_lock = crate::toolchain::lock_dir(term, &engine_dir)?;
        if !engine.is_file() {
            build_engine(term, source, &componentize_py, &work, &engine)?;
        }
    }

    let mut path = vec![relative(root, &entry.path_dir)];
    if !dependencies.is_empty() {
        path.push(relative(root, &deps_dir));
    }
    let config = serde_json::json!({ "module": entry.module, "path": path });
    write_if_changed(&root.join(CONFIG), config.to_string().as_bytes())?;
    let bytes =
        std::fs::read(&engine).with_context(|| format!("failed to read `{}`", engine.display()))?;
    Ok(Plan::Dev(DevArtefact {
        engine,
        bytes,
        cache: engine_dir.join("compiled"),
        sources: root.to_path_buf(),
        load_failure,
        memory_allowance: MEMORY_ALLOWANCE,
    }))
}

/// The first native extension among `files`, if any.
fn native_extension(files: &[String]) -> Option<String> {
    files
        .iter()
        .find(|f| [".so", ".pyd", ".dylib"].iter().any(|ext| f.ends_with(ext)))
        .cloned()
}

/// `dir` relative to `root`, `/`-separated (`.` for `root` itself).
fn relative(root: &Path, dir: &Path) -> String {
    let rel = dir.strip_prefix(root).unwrap_or(dir).to_string_lossy();
    if rel.is_empty() {
        ".".to_string()
    } else {
        rel.replace('\\', "/")
    }
}

/// What an engine is made of: componentize-py, the SDK, the kind and the world (every file
/// of the WIT dir), hex.
fn engine_key(wit: &Path, kind: PluginKind) -> Result<String> {
    let mut hasher = Sha256::new();
    for part in [
        ENGINE_FORMAT,
        toolchain::COMPONENTIZE_PY_VERSION,
        &sources::embedded_hash(b"", &sdk_files()),
        kind.as_str(),
    ] {
        hasher.update(part.as_bytes());
        hasher.update(b"\0");
    }
    for file in sources::source_files(wit, &EVERY_FILE)? {
        let path = wit.join(&file);
        let text =
            std::fs::read(&path).with_context(|| format!("failed to read `{}`", path.display()))?;
        hasher.update(file.as_bytes());
        hasher.update(b"\0");
        hasher.update((text.len() as u64).to_le_bytes());
        hasher.update(&text);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// componentize-py over the engine's entry module, into `engine`.
fn build_engine(
    term: &Term,
    source: &Source<'_>,
    componentize_py: &Path,
    work: &Path,
    engine: &Path,
) -> Result<()> {
    let kind = source.manifest.plugin.kind;
    term.status(
        "Compiling",
        format_args!(
            "dev engine for {kind} plugins (componentize-py {}, once per toolchain and \
             capabilities)",
            toolchain::COMPONENTIZE_PY_VERSION
        ),
    );
    let sdk = work.join("sdk");
    let entry_dir = work.join("dev").join("entry");
    write_if_changed(
        &entry_dir.join(format!("{ENGINE_MODULE}.py")),
        engine_module(kind).as_bytes(),
    )?;
    let built = component_file(work)?;
    let search_path: Vec<PathBuf> = vec![entry_dir, sdk];
    let mut command = Command::new(componentize_py);
    command
        .current_dir(work)
        .arg("-d")
        .arg(work.join("wit"))
        .args(["-w", world::WORLD, "componentize", ENGINE_MODULE]);
    for dir in &search_path {
        command.arg("-p").arg(dir);
    }
    command.arg("-o").arg(built.path());
    componentizer::componentize(term, command, source.id(), "componentize-py", |run| {
        failure::explain(run, term.is_verbose(), source.manifest, &search_path)
    })?;
    let bytes = std::fs::read(built.path())
        .with_context(|| format!("failed to read `{}`", built.path().display()))?;
    crate::build::write_atomically(engine, &bytes)
}

/// The module componentize-py builds the engine from (see the SDK's `_dev`).
fn engine_module(kind: PluginKind) -> String {
    let class = capitalised(kind.as_str());
    format!(
        "# Written by cargo-flowtrace: the dev engine, which loads the plugin at its first call.\n\
         import {SDK_PACKAGE}._dev as _dev\n\
         _dev.prepare(\"{kind}\")\n\
         {class} = _dev.{class}\n"
    )
}

/// What the harness shows when a dev-mode call failed to import the plugin: the traceback
/// the engine reported in `message` (after the SDK's `_dev.LOAD_FAILED`), its
/// `/flowtrace-dev/` paths made the plugin's paths (relative to the current directory, as
/// the build shows them), and the helps the build would give. `None` for another failure.
pub(crate) fn load_failure(
    message: &str,
    root: &Path,
    manifest: &flowtrace_plugins::manifest::Manifest,
) -> Option<LoadFailure> {
    const MARKER: &str = "\u{1e}flowtrace-dev-load-failed\n";
    let start = message.find(MARKER)? + MARKER.len();
    let text = &message[start..];
    let mount = format!("{}/", flowtrace_plugins::DEV_SOURCES);
    let cwd = std::env::current_dir().ok();
    let mut shown = String::new();
    for line in text.lines() {
        let mapped = match line.find(&format!("\"{mount}")) {
            Some(at) => {
                let rest = &line[at + 1 + mount.len()..];
                let (file, tail) = rest.split_once('"').unwrap_or((rest, ""));
                let real = root.join(file);
                let path = cwd
                    .as_deref()
                    .and_then(|cwd| real.strip_prefix(cwd).ok())
                    .unwrap_or(&real);
                format!("{}\"{}\"{tail}", &line[..at], path.display())
            }
            None => line.to_string(),
        };
        shown.push_str(&mapped);
        shown.push('\n');
    }
    let helps = failure::helps(text, manifest);
    Some(LoadFailure { shown, helps })
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowtrace_plugins::manifest::Language;

    #[test]
    fn the_engine_module_prepares_the_kind() {
        let text = engine_module(PluginKind::Embedder);
        assert!(text.contains("_dev.prepare(\"embedder\")"), "{text}");
        assert!(text.contains("Embedder = _dev.Embedder"), "{text}");
    }

    #[test]
    fn dev_mode_loosens_the_memory_limit_within_the_caps() {
        let caps = flowtrace_plugins::HostCaps::default();
        let artefact = DevArtefact {
            engine: PathBuf::new(),
            bytes: Vec::new(),
            cache: PathBuf::new(),
            sources: PathBuf::new(),
            load_failure,
            memory_allowance: MEMORY_ALLOWANCE,
        };
        let manifest = |limits: &str| {
            let mut m = crate::lang::tests::manifest_with(Language::Python, "");
            m.limits.memory = limits.parse().ok();
            m
        };
        let loosened = artefact.loosen(&manifest("16777216"), &caps);
        assert_eq!(loosened.limits.memory, Some((16 << 20) + MEMORY_ALLOWANCE));
        let at_cap = artefact.loosen(&manifest(&caps.memory.to_string()), &caps);
        assert_eq!(at_cap.limits.memory, Some(caps.memory));
        assert_eq!(artefact.loosen(&manifest(""), &caps).limits.memory, None);
    }

    #[test]
    fn native_extensions_are_found() {
        let files = [
            "app.py".to_string(),
            "pkg/_speedups.cpython-314-wasm32-wasi.so".into(),
        ];
        assert_eq!(
            native_extension(&files).as_deref(),
            Some("pkg/_speedups.cpython-314-wasm32-wasi.so")
        );
        assert_eq!(native_extension(&files[..1]), None);
    }

    #[test]
    fn a_load_failure_reads_in_the_plugin_s_paths_with_the_build_s_helps() {
        let manifest = crate::lang::tests::manifest_with(Language::Python, "");
        let message = "\u{1e}flowtrace-dev-load-failed\nTraceback (most recent call last):\n  \
                       File \"/flowtrace-dev/app.py\", line 3, in <module>\n    import kv\n\
                       flowtrace_plugin.errors.CapabilityNotDeclared: `flowtrace_plugin.kv` \
                       needs capability `storage`: add `storage = true` under `[capabilities]` \
                       in flowtrace.toml\n";
        let LoadFailure { shown, helps } =
            load_failure(message, Path::new("/nowhere/p"), &manifest).expect("a load failure");
        assert!(
            shown.contains("  File \"/nowhere/p/app.py\", line 3, in <module>\n"),
            "{shown}"
        );
        assert_eq!(helps.len(), 1, "{helps:?}");
        assert!(helps[0].contains("`storage = true`"), "{helps:?}");
        assert!(load_failure("ValueError: no", Path::new("/p"), &manifest).is_none());
    }
}
