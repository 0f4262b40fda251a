//! The Rust driver: `cargo build --target wasm32-wasip2`, the SDK this binary carries
//! ([`sdk`]), the SDK's features from the manifest's capabilities, cargo's diagnostics
//! passed through unchanged. Cargo keeps its own build directory and knows what is fresh,
//! so this driver keeps no stamp; unless the user chose another, that directory is the one
//! every Rust plugin shares ([`target`]), so that the SDK's dependencies compile once.

pub mod cargo;
pub mod package;
pub mod remap;
pub mod sdk;
pub mod target;
pub mod toolchain;

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _, Result};
use flowtrace_plugins::manifest::Manifest;

use self::package::{Package, SdkDependency};
use self::target::TargetDir;
use super::{Build, Driver, Sdk};
use crate::build::carried::Requirement;
use crate::build::{artefact_path, prepare, world, Made, Source};
use crate::error;
use crate::term::Term;
use crate::toolchain::Check;
use flowtrace_plugins::inspect::BuildProfile;

pub use toolchain::WASM_TARGET;

/// The Rust driver.
pub(crate) struct Rust;

impl Driver for Rust {
    fn sdk(&self) -> Sdk {
        Sdk {
            package: package::SDK_PACKAGE,
            version: sdk::VERSION,
        }
    }

    fn checks(&self, _home: &Path) -> Vec<Check> {
        // Cargo runs every build: the Rust toolchain is required whatever the language.
        [
            toolchain::check_rustup(),
            toolchain::check_rustc(),
            toolchain::check_target(),
        ]
        .into_iter()
        .map(Check::required)
        .collect()
    }

    fn install(&self, term: &Term, _home: &Path, tool: &str) -> Result<()> {
        debug_assert_eq!(tool, WASM_TARGET);
        toolchain::add_target(term, None)
    }

    fn requirements(&self, manifest_path: &Path, manifest: &Manifest) -> Result<Vec<Requirement>> {
        let root = manifest_path.parent().unwrap_or(Path::new("."));
        let package = package::locate(root, &cargo::cargo_program())?;
        let plugin = manifest.plugin.id.to_string();
        Ok(sdk_requirement(&package, plugin).into_iter().collect())
    }

    /// The plugin's own `target/` when cargo builds it in the target dir shared by plugins,
    /// else cargo's target dir for the package (`cargo metadata` knows about workspaces and
    /// `.cargo/config.toml`): see [`target`].
    fn target_dir(&self, root: &Path) -> PathBuf {
        target_dir_of_plugin(root).output_dir().to_path_buf()
    }

    /// Locate the cargo package beside the manifest, and supply the SDK it depends on.
    fn plan<'a>(&self, term: &Term, source: &'a Source<'a>) -> Result<Box<dyn Build + 'a>> {
        let Source { root, started, .. } = *source;
        let cargo = cargo::cargo_program();
        let package = package::locate(root, &cargo)?;
        tracing::debug!(elapsed = ?started.elapsed(), "located the package");
        let target = target_dir_of_plugin(root);
        tracing::debug!(elapsed = ?started.elapsed(), ?target, "chose the target dir");
        if let TargetDir::Shared { dir, .. } = &target {
            term.verbose_status(
                "Sharing",
                format_args!(
                    "cargo's target dir `{}` with every Rust plugin (`{}` builds elsewhere)",
                    dir.display(),
                    target::TARGET_DIR_VARS[0]
                ),
            );
        }
        let (config, rustflags) = match &package.sdk {
            Some(SdkDependency::Registry { requirement }) => {
                sdk::check_requirement(requirement, &package.manifest_path)?;
                let supplied = sdk::supply(root, &sdk::dir_in(&target), |sdk| {
                    remap::shared(target.cargo_dir(), Some(sdk))
                })?;
                tracing::debug!(elapsed = ?started.elapsed(), dir = %supplied.dir.display(), "supplied the SDK");
                (supplied.cargo_config(), supplied.rustflags)
            }
            _ => (Vec::new(), remap::shared(target.cargo_dir(), None)),
        };
        // The plugin's directory only for its own crate, and only where a plain `cargo
        // build` does not build too (see `remap`).
        let crate_flags = match &target {
            TargetDir::Shared { .. } => remap::plugin(root),
            TargetDir::Cargo { .. } => Vec::new(),
        };
        Ok(Box::new(RustBuild {
            source,
            cargo,
            package,
            target,
            config,
            rustflags_configured: remap::read_from_patch_config(root),
            rustflags,
            crate_flags,
            target_checked: false,
        }))
    }
}

/// One `cargo build` of a Rust plugin.
struct RustBuild<'a> {
    source: &'a Source<'a>,
    cargo: PathBuf,
    package: Package,
    /// Where cargo builds it, and where the component goes.
    target: TargetDir,
    /// `--config` for cargo: where the supplied SDK is.
    config: Vec<String>,
    /// The flags for rustc that keep paths out of the component ([`remap::shared`]).
    rustflags: Vec<String>,
    /// Whether cargo reads `rustflags` from the plugin's configuration.
    rustflags_configured: bool,
    /// The flags for the plugin's crate alone ([`remap::plugin`]).
    crate_flags: Vec<String>,
    /// Whether the target was checked before cargo ran.
    target_checked: bool,
}

impl RustBuild<'_> {
    fn profile(&self) -> &'static str {
        if self.source.release {
            "release"
        } else {
            "dev"
        }
    }
}

impl Build for RustBuild<'_> {
    fn toolchain(&mut self, term: &Term) -> Result<String> {
        let Source { root, started, .. } = *self.source;
        // Asking rustc whether the target is installed costs a process: skip it when this
        // target dir already holds a build for the target.
        if !self.target.cargo_dir().join(WASM_TARGET).is_dir() {
            toolchain::ensure_rust_target_in(term, root)?;
            self.target_checked = true;
            tracing::debug!(elapsed = ?started.elapsed(), "checked the target");
        }
        Ok(format!("{WASM_TARGET}, {}", self.profile()))
    }

    fn compile(&mut self, term: &Term) -> Result<Made> {
        let Source {
            manifest,
            text,
            root,
            release,
            started,
            ..
        } = *self.source;
        let id = manifest.plugin.id.as_str();
        let features = if self.package.uses_sdk() {
            sdk_features(manifest)
        } else {
            Vec::new()
        };
        let run = cargo::CargoBuild {
            cargo: &self.cargo,
            manifest_path: &self.package.manifest_path,
            package: &self.package.name,
            target_dir: self.target.cargo_arg(),
            release,
            features,
            config: self.config.clone(),
            rustflags: self.rustflags.clone(),
            rustflags_configured: self.rustflags_configured,
            crate_flags: self.crate_flags.clone(),
            color: term.stderr_has_color(),
            quiet: term.is_quiet(),
        };
        let profile = if release {
            BuildProfile::Release
        } else {
            BuildProfile::Dev
        };
        // Where the component goes: the plugin's `target/` when cargo builds in the shared dir,
        // else cargo's target dir, from the path of what cargo reports.
        let shared_output = match &self.target {
            TargetDir::Shared { output, .. } => Some(output.as_path()),
            TargetDir::Cargo { .. } => None,
        };
        // In the shared target dir, plugins whose library has the same name take turns, and
        // cargo forgets the other one's build of it (see `target`).
        let _lock = match &self.target {
            TargetDir::Shared { dir, .. } => {
                let mut lock = target::lock_artefact(
                    term,
                    dir,
                    &self.package.lib_name,
                    &self.package.manifest_path,
                )?;
                if lock.built_by_another {
                    run.clean_package(term).with_context(|| {
                        format!(
                            "failed to clear another plugin's build of `{}` from `{}`",
                            self.package.lib_name,
                            dir.display()
                        )
                    })?;
                }
                lock.claim()?;
                Some(lock)
            }
            TargetDir::Cargo { .. } => None,
        };
        // The component is read, given its manifest, inspected and written to a temp file
        // as soon as cargo reports it, while cargo finishes; used only if cargo then
        // succeeds.
        let compile = || {
            let _spinner = term.progress("Compiling", None, format!("plugin `{id}`"));
            run.run(term, |artefact| {
                let target_dir = match shared_output {
                    Some(output) => output.to_path_buf(),
                    None => target_dir_of(artefact),
                };
                let output = artefact_path(&target_dir, profile, manifest);
                prepare(artefact, text, output, target_dir, profile)
            })
        };
        let (mut outcome, mut prepared) = compile()?;
        if !outcome.status.success()
            && !self.target_checked
            && cargo::target_missing(&outcome.stderr)
        {
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
                self.package.name
            )
        })??;
        Ok(Made::Prepared {
            prepared: Box::new(prepared),
            fresh: outcome.fresh,
            profile: self.profile(),
        })
    }
}

/// The package's requirement on the SDK, against the one this binary carries: none when it
/// does not depend on the SDK, not checked when it depends on one by path or git.
fn sdk_requirement(package: &Package, plugin: String) -> Option<Requirement> {
    let carried = sdk::version();
    let written = |requirement: &str| {
        format!(
            "{} = {requirement} in `{}`",
            package::SDK_PACKAGE,
            package.manifest_path.display()
        )
    };
    match package.sdk.as_ref()? {
        SdkDependency::Registry { requirement } => {
            let req = semver::VersionReq::parse(requirement).ok();
            let ok = req.as_ref().is_some_and(|r| r.matches(&carried));
            Some(Requirement {
                plugin,
                what: "rust-sdk",
                written: written(&format!("\"{requirement}\"")),
                carried: carried.to_string(),
                ok: Some(ok),
                help: (!ok).then(|| match &req {
                    Some(req) => sdk::mismatch_help(req, &carried),
                    None => format!(
                        "`{requirement}` is not a version requirement: write `{} = \"{}\"`",
                        package::SDK_PACKAGE,
                        sdk::requirement()
                    ),
                }),
            })
        }
        SdkDependency::Other => Some(Requirement {
            plugin,
            what: "rust-sdk",
            written: written("{ path or git }"),
            carried: carried.to_string(),
            ok: None,
            help: None,
        }),
    }
}

/// Where cargo builds the plugin at `root` ([`target::locate`]), for this user's Flowtrace
/// home.
fn target_dir_of_plugin(root: &Path) -> TargetDir {
    let home = crate::context::flowtrace_home().ok();
    target::locate(root, &cargo::cargo_program(), home.as_deref())
}

/// Cargo's target dir, from the path of an artefact it built for the wasm target
/// (`<target dir>/wasm32-wasip2/<profile>/<name>.wasm`).
fn target_dir_of(artefact: &Path) -> PathBuf {
    artefact
        .ancestors()
        .find(|dir| dir.file_name().is_some_and(|n| n == WASM_TARGET))
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
        err = error::with_help(err, format!("run `{}`", toolchain::ADD_TARGET));
    }
    err
}
