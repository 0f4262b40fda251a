//! What `cargo flowtrace inspect` shows: one [`View`] of a component, printed for people
//! ([`print()`]) or serialised as the JSON `inspection` message.

mod print;

pub use print::print;

use std::path::{Path, PathBuf};

use flowtrace_plugins::capability::{
    classify_import, Capability, CapabilityError, CapabilityReport, ExportProblem, ImportVerdict,
    Verdict,
};
use flowtrace_plugins::inspect::{CustomSection, ImportItem, InspectWarning, Inspection, ItemKind};
use flowtrace_plugins::manifest::{Capabilities, HostPattern, Manifest, PluginKind};
use serde::Serialize;

use crate::term::Message;

/// Where the manifest behind the verdicts came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestSource {
    /// A `flowtrace.toml` file.
    File(PathBuf),
    /// The component's `flowtrace-manifest` custom section.
    Embedded,
}

/// How the host treats an import, whatever the manifest says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    /// Granted to every plugin (`flowtrace:plugin/{types,log,config}`).
    Always,
    /// WASI every plugin gets (io, clocks, random, stdio).
    Baseline,
    /// Granted by the capability in `needs`.
    Capability,
    /// Never granted: linked to stubs that deny everything.
    Sandboxed,
    /// Refused under any manifest: unknown, or a version the host does not provide.
    Refused,
}

impl Access {
    fn label(self) -> &'static str {
        match self {
            Access::Always => "always",
            Access::Baseline => "baseline",
            Access::Capability => "capability",
            Access::Sandboxed => "sandboxed",
            Access::Refused => "refused",
        }
    }
}

/// The `inspection` message.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct View<'a> {
    /// The component file.
    pub path: &'a Path,
    /// Its size in bytes.
    pub size: usize,
    /// Its SHA-256, lowercase hex.
    pub sha256: &'a str,
    /// The manifest behind the verdicts, if there is one.
    pub manifest: Option<ManifestInfo<'a>>,
    /// Whether the component passes the capability check: `None` without a manifest.
    pub policy_ok: Option<bool>,
    /// One row per top-level import.
    pub imports: Vec<ImportRow<'a>>,
    /// The top-level exports.
    pub exports: Vec<ExportRow<'a>>,
    /// What is wrong with the exports for the manifest's kind.
    pub export_problems: Vec<ExportProblem>,
    /// The plugin kinds whose interface the component exports.
    pub exported_kinds: Vec<&'static str>,
    /// The world and the packages it uses, as WIT.
    pub world_wit: Option<&'a str>,
    /// The text of the `flowtrace-manifest` section.
    pub embedded_manifest: Option<&'a str>,
    /// The profile the `flowtrace-build` section records (`dev`, `release`), if any.
    pub build_profile: Option<flowtrace_plugins::inspect::BuildProfile>,
    /// Top-level custom sections.
    pub custom_sections: &'a [CustomSection],
    /// What inspection noticed without failing.
    pub warnings: &'a [InspectWarning],
}

impl Message for View<'_> {
    const REASON: &'static str = "inspection";
}

/// The manifest a [`View`] judges by.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ManifestInfo<'a> {
    /// `file` or `embedded`.
    pub source: &'static str,
    /// The file, for `file`.
    pub path: Option<PathBuf>,
    /// `[plugin] id`
    pub id: &'a str,
    /// `[plugin] name`
    pub name: &'a str,
    /// `[plugin] version`
    pub version: String,
    /// `[plugin] kind`
    pub kind: &'static str,
    /// `[build] language`
    pub language: &'static str,
    /// The capabilities it declares.
    pub capabilities: Vec<Capability>,
}

/// One import and what the host does with it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ImportRow<'a> {
    /// The import's name.
    pub import: &'a str,
    /// What is imported (`instance` for an interface).
    pub kind: ItemKind,
    /// How the host treats it, whatever the manifest.
    pub access: Access,
    /// The capability that grants it, when one does.
    pub needs: Option<Capability>,
    /// The verdict under the manifest (`verdict` and its fields), when there is one.
    #[serde(flatten)]
    pub verdict: Option<Verdict>,
    /// Why, in words.
    pub reason: String,
    /// The verdict with nothing declared, behind `access`.
    #[serde(skip)]
    bare: ImportVerdict,
}

/// One export.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ExportRow<'a> {
    /// The export's name.
    pub name: &'a str,
    /// What is exported.
    pub kind: ItemKind,
}

/// The `world-wit` message of `inspect --wit`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct WorldWit<'a> {
    /// The world and its packages as WIT.
    pub wit: &'a str,
}

impl Message for WorldWit<'_> {
    const REASON: &'static str = "world-wit";
}

impl<'a> View<'a> {
    /// The view of `inspection`, judged by `manifest` when there is one.
    pub fn new(
        path: &'a Path,
        inspection: &'a Inspection,
        manifest: Option<&'a Manifest>,
        source: Option<ManifestSource>,
        report: Option<&'a CapabilityReport>,
    ) -> Self {
        let imports = inspection
            .imports
            .iter()
            .enumerate()
            .map(|(i, import)| {
                let (access, needs, bare) = requirement(import);
                let verdict = report.and_then(|r| r.verdicts.get(i));
                ImportRow {
                    import: &import.name,
                    kind: import.kind,
                    access,
                    needs,
                    verdict: verdict.map(|v| v.verdict.clone()),
                    reason: match verdict {
                        Some(v) => v.reason.clone(),
                        None => bare_reason(access, needs, &bare),
                    },
                    bare,
                }
            })
            .collect();
        let manifest_info = manifest.map(|m| ManifestInfo {
            source: match source {
                Some(ManifestSource::Embedded) => "embedded",
                _ => "file",
            },
            path: match &source {
                Some(ManifestSource::File(path)) => Some(path.clone()),
                _ => None,
            },
            id: m.plugin.id.as_str(),
            name: &m.plugin.name,
            version: m.plugin.version.to_string(),
            kind: m.plugin.kind.as_str(),
            language: m.build.language.as_str(),
            capabilities: Capability::ALL
                .into_iter()
                .filter(|c| c.is_granted(&m.capabilities))
                .collect(),
        });
        View {
            path,
            size: inspection.size,
            sha256: &inspection.sha256,
            manifest: manifest_info,
            policy_ok: report.map(CapabilityReport::is_ok),
            imports,
            exports: inspection
                .exports
                .iter()
                .map(|e| ExportRow {
                    name: &e.name,
                    kind: e.kind,
                })
                .collect(),
            export_problems: report
                .map(|r| r.export_problems.clone())
                .unwrap_or_default(),
            exported_kinds: PluginKind::ALL
                .into_iter()
                .filter(|k| {
                    inspection.exports.iter().any(|e| {
                        e.interface.as_ref().is_some_and(|n| {
                            n.is_in("flowtrace", "plugin") && n.interface == k.as_str()
                        })
                    })
                })
                .map(PluginKind::as_str)
                .collect(),
            world_wit: inspection.world_wit.as_deref(),
            embedded_manifest: inspection.embedded_manifest.as_deref(),
            build_profile: inspection.build_profile,
            custom_sections: &inspection.custom_sections,
            warnings: &inspection.warnings,
        }
    }

    /// The imports no manifest could make loadable, as errors.
    pub fn refused_imports(&self) -> Vec<CapabilityError> {
        self.imports
            .iter()
            .filter(|row| row.access == Access::Refused)
            .filter_map(|row| row.bare.error())
            .collect()
    }
}

/// A grant of `capability` alone.
fn only(capability: Capability) -> Capabilities {
    let mut caps = Capabilities::default();
    match capability {
        Capability::Network => {
            caps.network = Some(vec![HostPattern {
                host: "example.com".into(),
                wildcard: false,
                port: None,
            }])
        }
        Capability::Env => caps.env = vec!["VARIABLE".into()],
        Capability::FsRead => caps.fs_read = vec!["data".into()],
        Capability::Storage => caps.storage = true,
        Capability::Traces => caps.traces = true,
        Capability::Embeddings => caps.embeddings = true,
    }
    caps
}

/// How the host treats `import` whatever the manifest, found by classifying it with nothing
/// declared and then with each capability alone.
fn requirement(import: &ImportItem) -> (Access, Option<Capability>, ImportVerdict) {
    let bare = classify_import(import, &Capabilities::default(), None);
    let access = match bare.verdict {
        Verdict::Ok => Access::Always,
        Verdict::Baseline => Access::Baseline,
        Verdict::Unknown | Verdict::IncompatibleVersion { .. } => Access::Refused,
        Verdict::Sandboxed { .. } | Verdict::Undeclared { .. } => {
            let granting = Capability::ALL
                .into_iter()
                .find(|c| classify_import(import, &only(*c), None).verdict == Verdict::Ok);
            return match granting {
                Some(capability) => (Access::Capability, Some(capability), bare),
                None => (Access::Sandboxed, None, bare),
            };
        }
    };
    (access, None, bare)
}

fn bare_reason(access: Access, needs: Option<Capability>, bare: &ImportVerdict) -> String {
    match (access, needs) {
        (Access::Capability, Some(capability)) => {
            let without = match bare.verdict {
                Verdict::Sandboxed { .. } => "sandboxed without it",
                _ => "refused without it",
            };
            format!(
                "needs capability `{capability}` (`{}`); {without}",
                capability.manifest_line()
            )
        }
        _ => bare.reason.clone(),
    }
}
