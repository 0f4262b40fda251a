//! Building a plugin into a validated component: `cargo build` for `wasm32-wasip2`, the
//! manifest embedded as a custom section, the capability check, the file written.
//!
//! ```text
//!    Compiling plugin `sample-evaluator` v0.1.0 (wasm32-wasip2, dev)
//!    Compiling sample-evaluator v0.1.0 (/home/me/sample-evaluator)      <- cargo's own
//!     Finished `dev` profile [unoptimized + debuginfo] target(s) in 1.2s <- cargo's own
//!   Validating 9 imports against flowtrace.toml
//!     Finished plugin `sample-evaluator` v0.1.0 in 1.31s: target/flowtrace/sample-evaluator-0.1.0.wasm (2.1 MiB)
//! ```

pub mod cargo;
pub mod package;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context as _, Result};
use flowtrace_plugins::capability::{self, CapabilityReport, ImportVerdict};
use flowtrace_plugins::inspect::{self, Inspection};
use flowtrace_plugins::manifest::{self, Language, Manifest};
use serde::Serialize;

use crate::error::{self, PolicyViolation, ResultExt};
use crate::term::{Message, Term};
use crate::toolchain;

pub use package::Package;

/// The directory under the target dir that built plugins go to.
pub const OUTPUT_DIR: &str = "flowtrace";

/// The SDK modules each capability enables, in the order features are passed.
const SDK_FEATURES: [&str; 3] = ["storage", "traces", "embeddings"];

/// What to build.
#[derive(Debug, Clone)]
pub struct BuildRequest {
    /// The plugin's `flowtrace.toml`.
    pub manifest_path: PathBuf,
    /// `--release`
    pub release: bool,
}

/// A built, checked plugin.
#[derive(Debug, Clone)]
pub struct Built {
    /// The manifest, parsed.
    pub manifest: Manifest,
    /// The plugin's directory (where `flowtrace.toml` is), absolute.
    pub root: PathBuf,
    /// `<target dir>/flowtrace/<id>-<version>.wasm`.
    pub artefact: PathBuf,
    /// The component, manifest embedded: the artefact's bytes.
    pub bytes: Vec<u8>,
    /// Its inspection.
    pub inspection: Inspection,
    /// The verdict on every import.
    pub report: CapabilityReport,
    /// Cargo's target directory.
    pub target_dir: PathBuf,
    /// Whether cargo had nothing to recompile.
    pub fresh: bool,
    /// Wall-clock time of the whole build.
    pub elapsed: Duration,
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
    let manifest = manifest::parse(&text, &shown_manifest_path(&request.manifest_path))?;
    let id = manifest.plugin.id.to_string();
    if manifest.build.language != Language::Rust {
        return Err(anyhow!(
            "building `{}` plugins is not supported yet: `{id}` says `language = \"{}\"`",
            manifest.build.language,
            manifest.build.language
        ))
        .help("this version builds Rust plugins (`language = \"rust\"` under `[build]`)");
    }

    let cargo = cargo::cargo_program();
    let package = package::locate(&root, &cargo)?;
    tracing::debug!(elapsed = ?started.elapsed(), "located the package");
    // Asking rustc whether the target is installed costs a process: skip it when this
    // target dir already holds a build for the target.
    let mut target_checked = false;
    if !likely_target_dir(&root)
        .join(toolchain::WASM_TARGET)
        .is_dir()
    {
        toolchain::ensure_rust_target_in(term, &root)?;
        target_checked = true;
        tracing::debug!(elapsed = ?started.elapsed(), "checked the target");
    }

    let profile = if request.release { "release" } else { "dev" };
    term.status(
        "Compiling",
        format_args!(
            "plugin `{id}` v{} ({}, {profile})",
            manifest.plugin.version,
            toolchain::WASM_TARGET
        ),
    );
    let features = if package.uses_sdk {
        sdk_features(&manifest)
    } else {
        Vec::new()
    };
    let run = cargo::CargoBuild {
        cargo: &cargo,
        manifest_path: &package.manifest_path,
        package: &package.name,
        release: request.release,
        features,
        color: term.stderr_has_color(),
        quiet: term.is_quiet(),
    };
    let file_name = format!("{id}-{}.wasm", manifest.plugin.version);
    // The component is read, given its manifest, inspected and written to a temp file as
    // soon as cargo reports it, while cargo finishes; used only if cargo then succeeds.
    let compile = || {
        let _spinner = term.progress("Compiling", None, format!("plugin `{id}`"));
        run.run(term, |artefact| prepare(artefact, &text, &file_name))
    };
    let (mut outcome, mut prepared) = compile()?;
    if !outcome.status.success() && !target_checked && cargo::target_missing(&outcome.stderr) {
        toolchain::ensure_rust_target_in(term, &root)?;
        (outcome, prepared) = compile()?;
    }
    tracing::debug!(elapsed = ?started.elapsed(), fresh = outcome.fresh, "cargo finished");
    if !outcome.status.success() {
        return Err(compile_error(&outcome, &manifest));
    }
    let Prepared {
        bytes,
        inspection,
        staged,
        target_dir,
        output,
    } = prepared.ok_or_else(|| {
        anyhow!(
            "`{}` succeeded but reported no `.wasm` for package `{}`",
            outcome.command,
            package.name
        )
    })??;
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
        fresh: outcome.fresh,
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
        }
        .into());
    }
    for warning in &inspection.warnings {
        term.warn(warning);
    }
    staged
        .persist(&output)
        .map_err(|e| e.error)
        .with_context(|| format!("failed to write `{}`", output.display()))?;
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
        fresh: outcome.fresh,
        elapsed,
    })
}

/// A component read, given its manifest, inspected and staged for writing.
struct Prepared {
    bytes: Vec<u8>,
    inspection: Inspection,
    staged: tempfile::NamedTempFile,
    target_dir: PathBuf,
    output: PathBuf,
}

/// Read the component cargo built at `artefact`, embed `manifest`, then inspect it while
/// it is written to a temp file beside `<target dir>/flowtrace/<file_name>` (the two take
/// about as long on a dev build's multi-megabyte component).
fn prepare(artefact: &Path, manifest: &str, file_name: &str) -> Result<Prepared> {
    let target_dir = target_dir_of(artefact);
    let output = target_dir.join(OUTPUT_DIR).join(file_name);
    // Room for the manifest section up front: it is appended without copying the component.
    let component = read_with_room(artefact, manifest.len() + 64)?;
    let bytes = inspect::embed_manifest_owned(component, manifest)
        .with_context(|| format!("failed to embed the manifest into `{}`", artefact.display()))?;
    let (inspection, staged) = std::thread::scope(|s| {
        let staged = s.spawn(|| stage(&output, &bytes));
        // The world as WIT is for `inspect` to show; the build needs the imports.
        let options = inspect::InspectOptions { world_wit: false };
        (inspect::inspect_with(&bytes, options), staged.join())
    });
    let inspection = inspection.with_context(|| {
        format!(
            "cargo built `{}`, but it is not a valid plugin component",
            artefact.display()
        )
    })?;
    let staged = match staged {
        Ok(staged) => staged?,
        Err(panic) => std::panic::resume_unwind(panic),
    };
    Ok(Prepared {
        bytes,
        inspection,
        staged,
        target_dir,
        output,
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

/// The manifest path as the user gave it, for messages (cargo-style relative paths read
/// better than canonical ones).
fn shown_manifest_path(path: &Path) -> PathBuf {
    match std::env::current_dir() {
        Ok(cwd) => path.strip_prefix(&cwd).unwrap_or(path).to_path_buf(),
        Err(_) => path.to_path_buf(),
    }
}

/// `flowtrace-plugin-sdk/<capability>` for each declared capability the SDK gates.
pub fn sdk_features(manifest: &Manifest) -> Vec<String> {
    let caps = &manifest.capabilities;
    SDK_FEATURES
        .into_iter()
        .filter(|f| match *f {
            "storage" => caps.storage,
            "traces" => caps.traces,
            "embeddings" => caps.embeddings,
            _ => false,
        })
        .map(|f| format!("{}/{f}", package::SDK_PACKAGE))
        .collect()
}

/// The error for a failed compile, with a `help:` for the failures we recognise.
fn compile_error(outcome: &cargo::CargoOutcome, manifest: &Manifest) -> anyhow::Error {
    let mut err = cargo::failed(outcome, manifest.plugin.id.as_str());
    let caps = &manifest.capabilities;
    for (module, capability) in cargo::missing_sdk_capabilities(&outcome.stderr) {
        let declared = match capability {
            "storage" => caps.storage,
            "traces" => caps.traces,
            "embeddings" => caps.embeddings,
            _ => true,
        };
        if !declared {
            err = error::with_help(
                err,
                format!(
                    "`flowtrace_plugin_sdk::{module}` needs capability `{capability}`: add \
                     `{capability} = true` under `[capabilities]` in flowtrace.toml"
                ),
            );
        }
    }
    if cargo::target_missing(&outcome.stderr) {
        err = error::with_help(err, format!("run `{}`", toolchain::rust::ADD_TARGET));
    }
    err
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

/// Write `bytes` to a temp file beside `path` (creating the directory), to be renamed into
/// place with [`tempfile::NamedTempFile::persist`]: a reader sees the old file or the new
/// one, never half of one. The file gets the usual permissions (`0644` less the umask), not
/// a temp file's `0600`.
pub fn stage(path: &Path, bytes: &[u8]) -> Result<tempfile::NamedTempFile> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .with_context(|| format!("failed to create directory `{}`", dir.display()))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".tmp-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder
        .tempfile_in(dir)
        .with_context(|| format!("failed to create a temp file in `{}`", dir.display()))?;
    tmp.write_all(bytes)
        .with_context(|| format!("failed to write `{}`", tmp.path().display()))?;
    Ok(tmp)
}

/// Write `bytes` to `path` atomically (see [`stage`]).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    stage(path, bytes)?
        .persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("failed to write `{}`", path.display()))?;
    Ok(())
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
