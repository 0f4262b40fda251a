//! The Rust driver: `cargo build --target wasm32-wasip2`, the SDK this binary carries
//! ([`rust_sdk`]), the SDK's features from the manifest's capabilities, cargo's diagnostics
//! passed through unchanged.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};
use flowtrace_plugins::manifest::Manifest;

use super::package::SdkDependency;
use super::{cargo, package, prepare, rust_sdk, world, Compiled, Source, OUTPUT_DIR};
use crate::error;
use crate::term::Term;
use crate::toolchain;

/// Build the cargo package beside the manifest.
pub(crate) fn compile(term: &Term, source: &Source<'_>) -> Result<Compiled> {
    let Source {
        manifest,
        text,
        root,
        release,
        started,
    } = *source;
    let id = manifest.plugin.id.as_str();
    let cargo = cargo::cargo_program();
    let package = package::locate(root, &cargo)?;
    tracing::debug!(elapsed = ?started.elapsed(), "located the package");
    let config = match &package.sdk {
        Some(SdkDependency::Registry { requirement }) => {
            rust_sdk::check_requirement(requirement, &package.manifest_path)?;
            let supplied = rust_sdk::supply(root, &likely_target_dir(root))?;
            tracing::debug!(elapsed = ?started.elapsed(), dir = %supplied.dir.display(), "supplied the SDK");
            supplied.cargo_config()
        }
        _ => Vec::new(),
    };
    // Asking rustc whether the target is installed costs a process: skip it when this
    // target dir already holds a build for the target.
    let mut target_checked = false;
    if !likely_target_dir(root)
        .join(toolchain::WASM_TARGET)
        .is_dir()
    {
        toolchain::ensure_rust_target_in(term, root)?;
        target_checked = true;
        tracing::debug!(elapsed = ?started.elapsed(), "checked the target");
    }

    let profile = if release { "release" } else { "dev" };
    term.status(
        "Compiling",
        format_args!(
            "plugin `{id}` v{} ({}, {profile})",
            manifest.plugin.version,
            toolchain::WASM_TARGET
        ),
    );
    let features = if package.uses_sdk() {
        sdk_features(manifest)
    } else {
        Vec::new()
    };
    let run = cargo::CargoBuild {
        cargo: &cargo,
        manifest_path: &package.manifest_path,
        package: &package.name,
        release,
        features,
        config,
        color: term.stderr_has_color(),
        quiet: term.is_quiet(),
    };
    let file_name = source.file_name();
    // The component is read, given its manifest, inspected and written to a temp file as
    // soon as cargo reports it, while cargo finishes; used only if cargo then succeeds.
    let compile = || {
        let _spinner = term.progress("Compiling", None, format!("plugin `{id}`"));
        run.run(term, |artefact| {
            let target_dir = target_dir_of(artefact);
            let output = target_dir.join(OUTPUT_DIR).join(&file_name);
            prepare(artefact, text, output, target_dir)
        })
    };
    let (mut outcome, mut prepared) = compile()?;
    if !outcome.status.success() && !target_checked && cargo::target_missing(&outcome.stderr) {
        toolchain::ensure_rust_target_in(term, root)?;
        (outcome, prepared) = compile()?;
    }
    tracing::debug!(elapsed = ?started.elapsed(), fresh = outcome.fresh, "cargo finished");
    if !outcome.status.success() {
        return Err(compile_error(&outcome, manifest));
    }
    let prepared = prepared.ok_or_else(|| {
        anyhow!(
            "`{}` succeeded but reported no `.wasm` for package `{}`",
            outcome.command,
            package.name
        )
    })??;
    Ok(Compiled {
        prepared,
        fresh: outcome.fresh,
        profile,
        // Cargo locks its own build directory.
        lock: None,
    })
}

/// Where cargo most likely puts its output for the package in `root`: `$CARGO_TARGET_DIR`,
/// `$CARGO_BUILD_TARGET_DIR`, else `root/target`. Only a hint (cargo's config files and
/// workspaces can say otherwise); the real one comes from cargo's messages.
fn likely_target_dir(root: &Path) -> PathBuf {
    ["CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR"]
        .into_iter()
        .find_map(|var| std::env::var_os(var).filter(|v| !v.is_empty()))
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

/// Cargo's target dir, from the path of an artefact it built for the wasm target
/// (`<target dir>/wasm32-wasip2/<profile>/<name>.wasm`).
fn target_dir_of(artefact: &Path) -> PathBuf {
    artefact
        .ancestors()
        .find(|dir| dir.file_name().is_some_and(|n| n == toolchain::WASM_TARGET))
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| artefact.parent().unwrap_or(Path::new(".")).to_path_buf())
}

/// `flowtrace-plugin-sdk/<capability>` for each declared capability the SDK gates.
pub fn sdk_features(manifest: &Manifest) -> Vec<String> {
    // The SDK has a feature per capability that gates a host interface, named after it.
    world::gated_interfaces()
        .filter(|(_, capability)| capability.is_granted(&manifest.capabilities))
        .map(|(_, capability)| format!("{}/{capability}", package::SDK_PACKAGE))
        .collect()
}

/// The error for a failed compile, with a `help:` for the failures we recognise.
fn compile_error(outcome: &cargo::CargoOutcome, manifest: &Manifest) -> anyhow::Error {
    let mut err = cargo::failed(outcome, manifest.plugin.id.as_str());
    for (module, capability) in cargo::missing_sdk_capabilities(&outcome.stderr) {
        if !capability.is_granted(&manifest.capabilities) {
            err = error::with_help(
                err,
                format!(
                    "`flowtrace_plugin_sdk::{module}` needs capability `{capability}`: add \
                     `{}` under `[capabilities]` in flowtrace.toml",
                    capability.manifest_line()
                ),
            );
        }
    }
    if cargo::target_missing(&outcome.stderr) {
        err = error::with_help(err, format!("run `{}`", toolchain::rust::ADD_TARGET));
    }
    err
}
