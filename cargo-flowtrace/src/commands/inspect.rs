//! `cargo flowtrace inspect [path]`

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _, Result};
use clap::Args;
use flowtrace_plugins::capability::{self, CapabilityError, CapabilityReport};
use flowtrace_plugins::inspect::{self, BuildProfile, Inspection};
use flowtrace_plugins::manifest::{self, Manifest, MANIFEST_FILE_NAME};

use crate::build;
use crate::context::{self, Context};
use crate::error::{self, PolicyViolation, ResultExt};
use crate::inspection::{self, ManifestSource, View};
use crate::lang;
use crate::plugin_path::PluginPath;

/// Show what a component imports and exports, and what the host would allow it.
///
/// Takes a `.wasm` component, built by this tool or any other, or a plugin directory (its
/// component built last, in `target/flowtrace/debug/` or `target/flowtrace/release/`). The
/// profile a `cargo flowtrace build` recorded in it (`dev` or `release`) is shown. Each import gets the verdict the host would give
/// it under the plugin's manifest: `--manifest-path` when given, else the directory's
/// flowtrace.toml, else the manifest `cargo flowtrace build` embeds in the component. Without
/// a manifest, each import is shown with the capability it needs.
///
/// Exits with code 4 when the verdicts hold an error (an undeclared capability, an unknown or
/// incompatible import, the wrong exports for the plugin's kind).
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  cargo flowtrace inspect                                   the plugin in this directory
  cargo flowtrace inspect target/flowtrace/release/my-plugin-0.1.0.wasm
  cargo flowtrace inspect plugin.wasm --manifest-path flowtrace.toml
  cargo flowtrace inspect plugin.wasm --wit > world.wit
  cargo flowtrace inspect plugin.wasm --message-format json")]
pub struct InspectCommand {
    /// A component (`.wasm`) or a plugin directory [default: the plugin at `--manifest-path`
    /// or in the current directory]
    pub path: Option<PathBuf>,

    /// Print only the component's world as WIT, with every package it uses
    #[arg(long)]
    pub wit: bool,
}

impl InspectCommand {
    /// Run `inspect`.
    pub fn exec(self, cx: &Context) -> Result<()> {
        let target = self.target(cx)?;
        let bytes = std::fs::read(&target.component)
            .with_context(|| format!("failed to read `{}`", target.component.display()))
            .map_err(|e| match target.missing_help() {
                Some(help) => error::with_help(e, help),
                None => e,
            })?;
        let inspection = inspect::inspect(&bytes)
            .with_context(|| format!("failed to inspect `{}`", target.component.display()))?;

        if self.wit {
            return print_wit(cx, &inspection);
        }

        let (manifest, source) = choose_manifest(cx, &target, &inspection)?;
        let report = manifest.as_ref().map(|m| capability::check(&inspection, m));
        let view = View::new(
            &target.component,
            &inspection,
            manifest.as_ref(),
            source,
            report.as_ref(),
        );
        if cx.term.is_human() {
            inspection::print(&mut cx.term.stdout(), &view)?;
        }
        cx.term.emit(&view)?;
        for warning in &inspection.warnings {
            cx.term.warn(warning);
        }

        let errors = policy_errors(&view, report.as_ref());
        if errors.is_empty() {
            return Ok(());
        }
        let subject = match &manifest {
            Some(m) => format!("plugin `{}`", m.plugin.id),
            None => format!("`{}`", target.component.display()),
        };
        Err(PolicyViolation {
            subject,
            errors,
            manifest: target.manifest.clone(),
        }
        .into())
    }

    fn target(&self, cx: &Context) -> Result<Target> {
        let explicit_manifest = match &cx.global.manifest_path {
            Some(_) => Some(cx.manifest_path()?),
            None => None,
        };
        let Some(path) = &self.path else {
            let manifest = cx.manifest_path()?;
            let dir = manifest.parent().unwrap_or(Path::new(".")).to_path_buf();
            return Target::in_plugin_dir(&dir, manifest);
        };
        match PluginPath::at(path)? {
            Some(found) if found.is_dir() => {
                let path = found.path();
                let manifest = match explicit_manifest {
                    Some(m) => m,
                    None => context::manifest_at(path).with_context(|| {
                        format!(
                            "`{}` is neither a component nor a plugin directory",
                            path.display()
                        )
                    })?,
                };
                Target::in_plugin_dir(path, manifest)
            }
            // Whatever the file holds, inspecting it says what is wrong with it.
            Some(_) => Ok(Target {
                component: path.clone(),
                manifest: explicit_manifest,
                plugin_dir: None,
            }),
            None => Err(anyhow!("`{}` does not exist", path.display()))
                .help("pass a component (`.wasm`) or a plugin directory"),
        }
    }
}

/// What to inspect.
struct Target {
    component: PathBuf,
    /// The manifest file to judge it by, if one was given or belongs to the directory.
    manifest: Option<PathBuf>,
    /// Set when the component was found from a plugin directory.
    plugin_dir: Option<PathBuf>,
}

impl Target {
    fn in_plugin_dir(dir: &Path, manifest_path: PathBuf) -> Result<Self> {
        let manifest = Manifest::from_file(&manifest_path)?;
        let component = built_component(dir, &manifest);
        Ok(Target {
            component,
            manifest: Some(manifest_path),
            plugin_dir: Some(dir.to_path_buf()),
        })
    }

    /// The fix when the component cannot be read: build it, when it is the plugin's.
    fn missing_help(&self) -> Option<String> {
        let dir = self.plugin_dir.as_ref()?;
        Some(format!(
            "build the plugin first: `cargo flowtrace build --manifest-path {}`",
            dir.join(MANIFEST_FILE_NAME).display()
        ))
    }
}

/// Where `cargo flowtrace build` writes the plugin in `dir`:
/// `<target dir>/flowtrace/<debug|release>/<id>-<version>.wasm`, in the target dir of the
/// plugin's language driver: of the two, the one built last (the release path when neither
/// is there, for the error).
fn built_component(dir: &Path, manifest: &Manifest) -> PathBuf {
    let target_dir = lang::driver(manifest.build.language).target_dir(dir);
    let [dev, release] = [BuildProfile::Dev, BuildProfile::Release]
        .map(|p| build::artefact_path(&target_dir, p, manifest));
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    match (modified(&dev), modified(&release)) {
        (Some(d), Some(r)) if d > r => dev,
        (Some(_), None) => dev,
        _ => release,
    }
}

/// The manifest that decides the verdicts, and where it came from.
fn choose_manifest(
    cx: &Context,
    target: &Target,
    inspection: &Inspection,
) -> Result<(Option<Manifest>, Option<ManifestSource>)> {
    if let Some(path) = &target.manifest {
        let manifest = Manifest::from_file(path)?;
        let file_text = std::fs::read_to_string(path).unwrap_or_default();
        if let Some(embedded) = &inspection.embedded_manifest {
            if embedded.trim() != file_text.trim() {
                cx.term.warn(format_args!(
                    "the manifest embedded in the component differs from `{}`: the verdicts \
                     follow the file; rebuild to embed it",
                    path.display()
                ));
            }
        }
        return Ok((Some(manifest), Some(ManifestSource::File(path.clone()))));
    }
    let Some(text) = &inspection.embedded_manifest else {
        return Ok((None, None));
    };
    let name = format!(
        "{}#{}",
        target.component.display(),
        inspect::MANIFEST_SECTION
    );
    match manifest::parse(text, Path::new(&name)) {
        Ok(manifest) => Ok((Some(manifest), Some(ManifestSource::Embedded))),
        Err(e) => {
            cx.term.warn(format_args!(
                "ignoring the embedded manifest: {e}\nshowing what each import needs instead"
            ));
            Ok((None, None))
        }
    }
}

/// The errors behind exit code 4: the report's, or without a manifest the imports no
/// manifest could make loadable.
fn policy_errors(view: &View<'_>, report: Option<&CapabilityReport>) -> Vec<CapabilityError> {
    match report {
        Some(report) => report.errors(),
        None => view.refused_imports(),
    }
}

fn print_wit(cx: &Context, inspection: &Inspection) -> Result<()> {
    let wit = inspection.world_wit.as_deref().ok_or_else(|| {
        let reason = inspection
            .warnings
            .first()
            .map(ToString::to_string)
            .unwrap_or_else(|| "the world could not be decoded".into());
        anyhow!("{reason}")
    })?;
    if cx.term.is_human() {
        use std::io::Write as _;
        write!(cx.term.stdout(), "{wit}")?;
    }
    cx.term.emit(&inspection::WorldWit { wit })?;
    Ok(())
}
