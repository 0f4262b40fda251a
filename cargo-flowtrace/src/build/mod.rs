//! Building a plugin into a validated component: the component made by the plugin's
//! language driver ([`crate::lang`]) in the steps every language shares (`compile`), the
//! manifest embedded as a custom section, the capability check, the file written.
//!
//! ```text
//!    Compiling plugin `sample-evaluator` v0.1.0 (wasm32-wasip2, dev)
//!    Compiling sample-evaluator v0.1.0 (/home/me/sample-evaluator)      <- cargo's own
//!     Finished `dev` profile [unoptimized + debuginfo] target(s) in 1.2s <- cargo's own
//!   Validating 9 imports against flowtrace.toml
//!     Finished plugin `sample-evaluator` v0.1.0 in 1.31s: target/flowtrace/debug/sample-evaluator-0.1.0.wasm (2.1 MiB)
//! ```

pub mod carried;
pub(crate) mod compile;
pub(crate) mod componentizer;
pub(crate) mod sources;
pub mod world;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use flowtrace_plugins::capability::{self, CapabilityReport, ImportVerdict};
use flowtrace_plugins::fs::{self, AtomicWrite};
use flowtrace_plugins::inspect::{self, BuildProfile, Inspection};
use flowtrace_plugins::manifest::{self, Manifest};
use serde::Serialize;

use crate::error::PolicyViolation;
use crate::term::{Message, Term};

pub(crate) use compile::{Compiled, Made, Source};

/// The directory under the target dir that built plugins go to.
pub const OUTPUT_DIR: &str = "flowtrace";

/// What to build.
#[derive(Debug, Clone)]
pub struct BuildRequest {
    /// The plugin's `flowtrace.toml`.
    pub manifest_path: PathBuf,
    /// `--release`
    pub release: bool,
    /// Type-check a TypeScript plugin before bundling it (`build --no-typecheck` turns it
    /// off); other languages ignore it.
    pub typecheck: bool,
    /// A build for `cargo flowtrace test`'s dev mode: [`build_for_test`] hands back a
    /// Python plugin's sources with the interpreter engine that loads them, and a language
    /// whose dev builds load the plugin's code into an engine built once (TypeScript,
    /// `lang::typescript::engine`) makes that engine and hands back the code as
    /// [`Built::dev`]; the others ignore it.
    pub dev_engine: bool,
    /// The caps of the host that will run the plugin: `[limits]` above them are refused
    /// here, since every load would fail. The CLI runs plugins under
    /// [`HostCaps::default`](flowtrace_plugins::HostCaps::default).
    pub caps: flowtrace_plugins::HostCaps,
}

/// A built, checked plugin.
#[derive(Debug, Clone)]
pub struct Built {
    /// The manifest, parsed.
    pub manifest: Manifest,
    /// The plugin's directory (where `flowtrace.toml` is), absolute.
    pub root: PathBuf,
    /// `<target dir>/flowtrace/<debug|release>/<id>-<version>.wasm`, in [`Built::target_dir`].
    pub artefact: PathBuf,
    /// The component, manifest embedded: the artefact's bytes.
    pub bytes: Vec<u8>,
    /// Its inspection.
    pub inspection: Inspection,
    /// The verdict on every import.
    pub report: CapabilityReport,
    /// The target directory the build output goes to, under `flowtrace/` (the component, the
    /// compiled cache, packages): the plugin's `target/`, or cargo's target dir when the user
    /// chose one for a Rust plugin (not the cargo target dir Rust plugins share, see
    /// [`crate::lang::rust::target`]).
    pub target_dir: PathBuf,
    /// Whether cargo had nothing to recompile.
    pub fresh: bool,
    /// Wall-clock time of the whole build.
    pub elapsed: Duration,
    /// What to run instead of the component, when it is a dev engine
    /// ([`BuildRequest::dev_engine`]).
    pub dev: Option<DevEngine>,
}

/// A dev engine ([`BuildRequest::dev_engine`]) and the plugin's code: what `test` runs.
#[derive(Debug, Clone)]
pub struct DevEngine {
    /// The engine as its driver built it, without the plugin's manifest: the same bytes for
    /// every plugin of its kind and capabilities.
    pub bytes: Vec<u8>,
    /// Where the engine's compiled code is kept, beside it (shared by those plugins).
    pub cache: PathBuf,
    /// The plugin's code, to give to the runtime as
    /// [`LoadOptions::preload`](flowtrace_plugins::LoadOptions::preload).
    pub preload: flowtrace_plugins::Preload,
}

/// `{"reason": "build-finished", ...}`
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct BuildFinished<'a> {
    /// Whether the plugin was written.
    pub success: bool,
    /// The plugin id.
    pub plugin: &'a str,
    /// Its version.
    pub version: String,
    /// `dev` or `release`.
    pub profile: &'static str,
    /// The component written (absent when the policy check failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artefact: Option<&'a Path>,
    /// SHA-256 of the component, lowercase hex.
    pub sha256: &'a str,
    /// Size in bytes.
    pub size: usize,
    /// Whether cargo had nothing to recompile.
    pub fresh: bool,
    /// The verdict on every import.
    pub imports: &'a [ImportVerdict],
    /// Seconds.
    pub duration: f64,
}

impl Message for BuildFinished<'_> {
    const REASON: &'static str = "build-finished";
}

/// Build the plugin at `request.manifest_path`, with status lines on `term`.
pub fn build(term: &Term, request: &BuildRequest) -> Result<Built> {
    let started = Instant::now();
    let (manifest_path, root, text, manifest) = read_manifest(request)?;
    build_read(term, request, started, manifest_path, root, &text, manifest)
}

/// A plugin made ready for `test` in dev mode (by its language driver's `dev`).
#[derive(Debug, Clone)]
pub struct DevBuilt {
    /// The manifest, parsed.
    pub manifest: Manifest,
    /// The plugin's directory, absolute.
    pub root: PathBuf,
    /// The engine, and what it loads.
    pub artefact: crate::lang::DevArtefact,
}

/// What `test` runs: in dev mode ([`BuildRequest::dev_engine`]), the plugin's dev artefact
/// when its language has one and the plugin can use it; else the plugin built as by
/// [`build`].
pub fn build_for_test(
    term: &Term,
    request: &BuildRequest,
) -> Result<std::result::Result<DevBuilt, Built>> {
    let started = Instant::now();
    let (manifest_path, root, text, manifest) = read_manifest(request)?;
    if request.dev_engine {
        let source = Source {
            manifest: &manifest,
            text: &text,
            root: &root,
            release: request.release,
            typecheck: request.typecheck,
            dev_engine: request.dev_engine,
            started,
        };
        let driver = crate::lang::driver(manifest.build.language);
        if let Some(artefact) = driver.dev(term, &source)? {
            term.status(
                "Finished",
                format_args!(
                    "plugin `{}` v{} (dev: sources loaded at run time) in {:.2}s",
                    manifest.plugin.id,
                    manifest.plugin.version,
                    started.elapsed().as_secs_f64()
                ),
            );
            return Ok(Ok(DevBuilt {
                manifest,
                root,
                artefact,
            }));
        }
    }
    build_read(term, request, started, manifest_path, root, &text, manifest).map(Err)
}

/// The manifest of `request`: its canonical path, the plugin's directory, its text, parsed
/// and checked against the host's caps.
fn read_manifest(request: &BuildRequest) -> Result<(PathBuf, PathBuf, String, Manifest)> {
    let manifest_path = request
        .manifest_path
        .canonicalize()
        .with_context(|| format!("failed to read `{}`", request.manifest_path.display()))?;
    let root = manifest_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let text = std::fs::read_to_string(&manifest_path)
        .with_context(|| format!("failed to read `{}`", manifest_path.display()))?;
    let shown = shown_manifest_path(&request.manifest_path);
    let manifest = manifest::parse(&text, &shown)?;
    // A plugin that asks for more than the host allows would build, then fail every load.
    manifest::check_limits(&text, &shown, &request.caps).with_context(|| {
        format!(
            "plugin `{}` asks for more than the host allows",
            manifest.plugin.id
        )
    })?;
    Ok((manifest_path, root, text, manifest))
}

fn build_read(
    term: &Term,
    request: &BuildRequest,
    started: Instant,
    manifest_path: PathBuf,
    root: PathBuf,
    text: &str,
    manifest: Manifest,
) -> Result<Built> {
    let id = manifest.plugin.id.to_string();
    let source = Source {
        manifest: &manifest,
        text,
        root: &root,
        release: request.release,
        typecheck: request.typecheck,
        dev_engine: request.dev_engine,
        started,
    };
    let Compiled {
        prepared:
            Prepared {
                bytes,
                inspection,
                staged,
                target_dir,
                output,
            },
        fresh,
        profile,
        dev,
        lock: _lock,
    } = compile::run(term, &source)?;
    tracing::debug!(elapsed = ?started.elapsed(), "component ready");
    term.status(
        "Validating",
        format_args!(
            "{} imports against `{}`",
            inspection.imports.len(),
            manifest::MANIFEST_FILE_NAME
        ),
    );
    let report = capability::check(&inspection, &manifest);
    let finished = |success: bool, elapsed: Duration| BuildFinished {
        success,
        plugin: &id,
        version: manifest.plugin.version.to_string(),
        profile,
        artefact: success.then_some(output.as_path()),
        sha256: &inspection.sha256,
        size: inspection.size,
        fresh,
        imports: &report.verdicts,
        duration: elapsed.as_secs_f64(),
    };
    if !report.is_ok() {
        if term.is_human() {
            term.stderr_line(format_args!("import verdicts for plugin `{id}`:"));
            for line in report.to_string().lines() {
                term.stderr_line(format_args!("  {line}"));
            }
        }
        term.emit(&finished(false, started.elapsed()))?;
        return Err(PolicyViolation {
            subject: format!("plugin `{id}`"),
            errors: report.errors(),
            manifest: Some(manifest_path.clone()),
        }
        .into());
    }
    for warning in &inspection.warnings {
        term.warn(warning);
    }
    if let Some(staged) = staged {
        staged.commit()?;
    }
    let elapsed = started.elapsed();
    tracing::debug!(?elapsed, "wrote the plugin");
    term.status(
        "Finished",
        format_args!(
            "plugin `{id}` v{} in {:.2}s: {} ({})",
            manifest.plugin.version,
            elapsed.as_secs_f64(),
            output.display(),
            human_size(bytes.len())
        ),
    );
    term.emit(&finished(true, elapsed))?;
    Ok(Built {
        manifest,
        root,
        artefact: output,
        bytes,
        inspection,
        report,
        target_dir,
        fresh,
        elapsed,
        dev,
    })
}

/// A component read, given its manifest, inspected and staged for writing.
pub(crate) struct Prepared {
    pub bytes: Vec<u8>,
    pub inspection: Inspection,
    /// The temp file to rename onto `output`; `None` when `output` already holds `bytes`.
    pub staged: Option<fs::Staged>,
    pub target_dir: PathBuf,
    pub output: PathBuf,
}

/// `<id>-<version>.wasm`, the file name of a built plugin.
pub fn artefact_file_name(manifest: &Manifest) -> String {
    format!("{}-{}.wasm", manifest.plugin.id, manifest.plugin.version)
}

/// `<target dir>/flowtrace/<debug|release>/<id>-<version>.wasm`: where a build of `profile`
/// goes. Dev and release builds are kept apart, as cargo keeps them, so installing the
/// release build never picks up the dev build a `test` left.
pub fn artefact_path(target_dir: &Path, profile: BuildProfile, manifest: &Manifest) -> PathBuf {
    target_dir
        .join(OUTPUT_DIR)
        .join(profile.dir_name())
        .join(artefact_file_name(manifest))
}

/// The target dir of a plugin whose driver keeps its own build directory (not cargo's):
/// `<root>/target`.
pub fn own_target_dir(root: &Path) -> PathBuf {
    root.join("target")
}

/// Read the component a toolchain built at `artefact`, embed `manifest` and `profile`
/// ([`inspect::BUILD_SECTION`]), then inspect it
/// while it is written to a temp file beside `output` (the two take about as long on a
/// multi-megabyte component).
pub(crate) fn prepare(
    artefact: &Path,
    manifest: &str,
    output: PathBuf,
    target_dir: PathBuf,
    profile: BuildProfile,
) -> Result<Prepared> {
    // Room for the sections up front: they are appended without copying the component.
    let component = read_with_room(artefact, manifest.len() + 128)?;
    let bytes = inspect::embed_plugin_owned(component, manifest, profile)
        .with_context(|| format!("failed to embed the manifest into `{}`", artefact.display()))?;
    let (inspection, staged) = std::thread::scope(|s| {
        let staged = s.spawn(|| AtomicWrite::new().stage(&output, &bytes));
        (inspect_built(&bytes, artefact), staged.join())
    });
    let inspection = inspection?;
    let staged = match staged {
        Ok(staged) => staged?,
        Err(panic) => std::panic::resume_unwind(panic),
    };
    Ok(Prepared {
        bytes,
        inspection,
        staged: Some(staged),
        target_dir,
        output,
    })
}

/// Inspect a component a toolchain built at `artefact`, for the capability check.
pub(crate) fn inspect_built(bytes: &[u8], artefact: &Path) -> Result<Inspection> {
    // The world as WIT is for `inspect` to show; the build needs the imports.
    let options = inspect::InspectOptions { world_wit: false };
    inspect::inspect_with(bytes, options).with_context(|| {
        format!(
            "`{}` was built, but it is not a valid plugin component",
            artefact.display()
        )
    })
}

/// The manifest path as the user gave it, for messages (cargo-style relative paths read
/// better than canonical ones).
fn shown_manifest_path(path: &Path) -> PathBuf {
    match std::env::current_dir() {
        Ok(cwd) => path.strip_prefix(&cwd).unwrap_or(path).to_path_buf(),
        Err(_) => path.to_path_buf(),
    }
}

/// `1.2 MiB`, `95.3 KiB`, `512 B`.
pub fn human_size(bytes: usize) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if b >= KIB * KIB {
        format!("{:.1} MiB", b / KIB / KIB)
    } else if b >= KIB {
        format!("{:.1} KiB", b / KIB)
    } else {
        format!("{bytes} B")
    }
}

/// The bytes of the file at `path`, in a buffer with `room` bytes to spare.
fn read_with_room(path: &Path, room: usize) -> Result<Vec<u8>> {
    use std::io::Read;
    let context = || format!("failed to read `{}`", path.display());
    let mut file = std::fs::File::open(path).with_context(context)?;
    let len = file.metadata().with_context(context)?.len();
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0).saturating_add(room));
    file.read_to_end(&mut bytes).with_context(context)?;
    Ok(bytes)
}

/// Write `bytes` to `path` atomically, with the usual permissions: a reader sees the old
/// file or the new one, never half of one ([`flowtrace_plugins::fs`]).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    Ok(fs::write_atomically(path, bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_cargo() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(97_587), "95.3 KiB");
        assert_eq!(human_size(2_202_010), "2.1 MiB");
    }
}
