//! What can go wrong in the registry.

use std::path::{Path, PathBuf};
use std::time::Duration;

use semver::{Version, VersionReq};

use crate::capability::{CapabilityReport, CONTRACT_VERSION};
use crate::fix::Fix;
use crate::inspect::{InspectError, InspectWarning, MANIFEST_SECTION};
use crate::manifest::{ManifestError, PluginId};

use super::grants::CapabilityItem;
use super::lock::LockHolder;
use super::resolve::ResolveError;

/// An error a hook (the precompiler) returns.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a registry operation failed. Nothing was changed when one is returned, except where a
/// variant says otherwise.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// Settings of an installed plugin that its active version does not take: given to
    /// [`Registry::configure`](super::Registry::configure), or recorded and found at load.
    #[error(
        "invalid settings for plugin `{id}` {version}:{}",
        problems.iter().map(|p| format!("\n  {p}")).collect::<String>()
    )]
    Settings {
        /// The plugin.
        id: PluginId,
        /// Its active version, whose `[config]` decides.
        version: Version,
        /// Every problem, one a line.
        problems: Vec<String>,
    },
    /// Neither `FLOWTRACE_HOME` nor a home directory.
    #[error(
        "cannot find the registry: `FLOWTRACE_HOME` is not set and the home directory is unknown"
    )]
    NoHome,
    /// A filesystem call failed.
    #[error("failed to {action} `{}`", path.display())]
    Io {
        /// What was being done, e.g. `read`, `create directory`.
        action: &'static str,
        /// On what.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// `index.json` is not JSON of the index's shape.
    #[error("the registry index `{}` is corrupt", path.display())]
    IndexCorrupt {
        /// The index.
        path: PathBuf,
        /// Where the JSON went wrong.
        #[source]
        source: serde_json::Error,
    },
    /// `index.json` parses but contradicts itself or the files.
    #[error("the registry index `{}` is invalid: {reason}", path.display())]
    IndexInvalid {
        /// The index.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// `index.json` was written by a newer flowtrace.
    #[error(
        "the registry index `{}` has format version {found}; this version of flowtrace reads \
         up to {supported}", path.display()
    )]
    IndexTooNew {
        /// The index.
        path: PathBuf,
        /// Its `format-version`.
        found: u32,
        /// The newest this runtime reads.
        supported: u32,
    },
    /// Another process held the registry lock for too long.
    #[error(
        "timed out after {:.1}s waiting for the file lock on `{}`{}",
        waited.as_secs_f64(), path.display(),
        holder.as_ref().map(|h| format!(" (held by {h})")).unwrap_or_default()
    )]
    LockTimeout {
        /// The lock file.
        path: PathBuf,
        /// How long this process waited.
        waited: Duration,
        /// Who holds it, when its sidecar says.
        holder: Option<LockHolder>,
    },
    /// The bytes to install are not a valid component.
    #[error("not a valid plugin component")]
    InvalidComponent {
        /// What inspection found.
        #[source]
        source: InspectError,
    },
    /// The component carries no manifest.
    #[error(
        "the component has no embedded `{MANIFEST_SECTION}` section{}",
        warnings_suffix(warnings)
    )]
    NoEmbeddedManifest {
        /// Why a section that is there was not read, if one is.
        warnings: Vec<InspectWarning>,
    },
    /// The component carries more than one top-level manifest section: which one describes
    /// the plugin is ambiguous, so none is read.
    #[error(
        "the component has {} `{MANIFEST_SECTION}` sections: exactly one must describe the plugin",
        count_words(*count)
    )]
    DuplicateManifest {
        /// How many there are.
        count: usize,
    },
    /// The embedded manifest does not validate.
    #[error("the manifest embedded in the component is invalid")]
    InvalidManifest {
        /// Every problem, with line and column.
        #[source]
        source: ManifestError,
    },
    /// The manifest's `[limits]` ask for more than the host allows: every load would fail.
    #[error("plugin `{id}` {version} asks for more than this host allows")]
    LimitsAboveCaps {
        /// The plugin.
        id: PluginId,
        /// Its version.
        version: Version,
        /// Every limit above its cap, with its line and column.
        #[source]
        source: ManifestError,
    },
    /// The user named one plugin and the source holds another.
    #[error("expected plugin `{expected}`, but the component's manifest says `{found}`")]
    IdMismatch {
        /// The id the user asked for.
        expected: PluginId,
        /// The id in the manifest.
        found: PluginId,
    },
    /// The plugin needs another contract version than this runtime implements.
    #[error(
        "plugin `{id}` {version} requires the plugin contract `{required}`, but this runtime \
         implements {CONTRACT_VERSION}"
    )]
    Contract {
        /// The plugin.
        id: PluginId,
        /// Its version.
        version: Version,
        /// Its `flowtrace` requirement, which [`CONTRACT_VERSION`] does not match.
        required: VersionReq,
    },
    /// The component's imports or exports do not match its manifest.
    #[error("plugin `{id}` {version} fails the capability check:\n{report}")]
    Policy {
        /// The plugin.
        id: PluginId,
        /// Its version.
        version: Version,
        /// Every verdict.
        report: Box<CapabilityReport>,
    },
    /// The same version is installed already.
    #[error("plugin `{id}` {version} is already installed")]
    AlreadyInstalled {
        /// The plugin.
        id: PluginId,
        /// The version.
        version: Version,
    },
    /// Installing would lower the active version.
    #[error("plugin `{id}` {installed} is installed: installing {requested} would downgrade it")]
    Downgrade {
        /// The plugin.
        id: PluginId,
        /// The active version.
        installed: Version,
        /// The version asked for.
        requested: Version,
    },
    /// A plugin granted `embeddings` has no embedder chosen to serve it, for itself or as
    /// the registry's default ([`Registry::set_embedder`](super::Registry::set_embedder)).
    #[error(
        "plugin `{id}` is granted `embeddings` but no embedder is chosen to serve it (installed \
         embedders: {})",
        if embedders.is_empty() { "none".to_string() } else { ids(embedders) }
    )]
    EmbedderNotChosen {
        /// The plugin.
        id: PluginId,
        /// The installed embedders, sorted.
        embedders: Vec<PluginId>,
    },
    /// The embedder chosen to serve a plugin cannot: it is not installed, not an embedder,
    /// or disabled.
    #[error("embedder `{embedder}` chosen for plugin `{id}` {reason}")]
    EmbedderUnavailable {
        /// The plugin it serves.
        id: PluginId,
        /// The embedder chosen.
        embedder: PluginId,
        /// `is not installed`, `is an evaluator, not an embedder`, `is disabled`.
        reason: String,
        /// Whether it is only disabled (enabling it fixes the error).
        disabled: bool,
    },
    /// An embedder was chosen that is not an embedder.
    #[error("plugin `{id}` is {a} {kind}, not an embedder", a = crate::diag::article(kind.as_str()))]
    NotAnEmbedder {
        /// The plugin.
        id: PluginId,
        /// Its kind.
        kind: crate::manifest::PluginKind,
    },
    /// No such plugin.
    #[error("plugin `{id}` is not installed")]
    NotInstalled {
        /// The id asked for.
        id: PluginId,
    },
    /// No such version of an installed plugin.
    #[error("plugin `{id}` has no installed version {version}")]
    VersionNotInstalled {
        /// The plugin.
        id: PluginId,
        /// The version asked for.
        version: Version,
    },
    /// Uninstalling the active version while others stay.
    #[error("{version} is the active version of plugin `{id}`, and other versions stay installed")]
    ActiveVersion {
        /// The plugin.
        id: PluginId,
        /// Its active version.
        version: Version,
    },
    /// The active version asks for capabilities the user has not granted yet: the fix is to
    /// grant them to `id` ([`Registry::enable`](super::Registry::enable) with `grant`).
    #[error(
        "plugin `{id}` {version} asks for capabilities not granted yet: {}",
        items(added)
    )]
    GrantsPending {
        /// The plugin.
        id: PluginId,
        /// Its active version.
        version: Version,
        /// What it asks for beyond the grants.
        added: Vec<CapabilityItem>,
    },
    /// Enabled plugins depend on the one to disable or uninstall.
    #[error(
        "cannot {action} plugin `{id}`: enabled plugins depend on it: {}",
        ids(dependents)
    )]
    HasDependents {
        /// The plugin.
        id: PluginId,
        /// `disable` or `uninstall`.
        action: &'static str,
        /// Who depends on it, sorted.
        dependents: Vec<PluginId>,
    },
    /// The dependencies cannot be satisfied.
    #[error("cannot satisfy the dependencies of plugin `{id}` {version}")]
    Dependencies {
        /// The plugin.
        id: PluginId,
        /// Its version.
        version: Version,
        /// What is wrong.
        #[source]
        source: Box<ResolveError>,
    },
    /// An installed file differs from what was installed.
    #[error(
        "refusing to load `{}`: hash mismatch: recorded sha256:{recorded} found sha256:{found}",
        path.display()
    )]
    HashMismatch {
        /// The plugin.
        id: PluginId,
        /// The file, in the version's directory.
        path: PathBuf,
        /// The hash in the index.
        recorded: String,
        /// The file's hash.
        found: String,
    },
    /// The index has no hash to check a file against.
    #[error(
        "refusing to load plugin `{id}` {version}: the registry index records no sha256 for \
         its {file}"
    )]
    MissingHash {
        /// The plugin.
        id: PluginId,
        /// Its version.
        version: Version,
        /// `component` or `manifest`.
        file: &'static str,
    },
    /// The installed manifest no longer validates (a runtime with stricter rules).
    #[error("the installed manifest `{}` is invalid", path.display())]
    InstalledManifest {
        /// The file.
        path: PathBuf,
        /// Every problem.
        #[source]
        source: ManifestError,
    },
    /// The precompiler hook failed; nothing was installed.
    #[error("failed to precompile plugin `{id}` {version}")]
    Precompile {
        /// The plugin.
        id: PluginId,
        /// Its version.
        version: Version,
        /// The hook's error.
        #[source]
        source: BoxError,
    },
    /// The home's compiled-cache key could not be read or created.
    #[error("failed to set up the compiled-cache key of the registry")]
    CacheKey {
        /// Why.
        #[source]
        source: crate::cache::CacheKeyError,
    },
}

impl RegistryError {
    /// What would fix this error, when that is known: data for the embedder to word.
    pub fn fix(&self) -> Option<Fix> {
        Some(match self {
            RegistryError::NoHome => Fix::SetHome,
            RegistryError::IndexTooNew { .. } => Fix::Upgrade,
            RegistryError::IndexCorrupt { .. } | RegistryError::IndexInvalid { .. } => {
                Fix::RepairIndex
            }
            RegistryError::LockTimeout { holder, .. } => Fix::WaitForLock {
                pid: holder.as_ref().map(|h| h.pid),
            },
            RegistryError::InvalidComponent { source } => return source.fix(),
            RegistryError::NoEmbeddedManifest { .. } => Fix::EmbedManifest,
            RegistryError::DuplicateManifest { .. } => Fix::EmbedOneManifest,
            RegistryError::Contract { .. } => Fix::MatchContract,
            RegistryError::AlreadyInstalled { id, version } => Fix::Reinstall {
                id: id.clone(),
                version: version.clone(),
            },
            RegistryError::NotInstalled { .. } => Fix::ListPlugins,
            RegistryError::VersionNotInstalled { id, .. } => Fix::ShowVersions { id: id.clone() },
            RegistryError::Downgrade { id, requested, .. } => Fix::AllowDowngrade {
                id: id.clone(),
                version: requested.clone(),
            },
            RegistryError::ActiveVersion { id, .. } => Fix::UninstallPlugin { id: id.clone() },
            RegistryError::GrantsPending { id, .. } => Fix::Grant { id: id.clone() },
            RegistryError::Settings { id, .. } => Fix::Configure { id: id.clone() },
            RegistryError::EmbedderNotChosen { id, embedders } => Fix::ChooseEmbedder {
                id: id.clone(),
                embedders: embedders.clone(),
            },
            RegistryError::EmbedderUnavailable {
                embedder,
                disabled: true,
                ..
            } => Fix::Enable {
                id: embedder.clone(),
            },
            RegistryError::EmbedderUnavailable { id, .. } => Fix::ChooseEmbedder {
                id: id.clone(),
                embedders: Vec::new(),
            },
            RegistryError::NotAnEmbedder { .. } => Fix::ListPlugins,
            RegistryError::HasDependents { action, .. } => Fix::DependentsFirst { action },
            RegistryError::Dependencies { source, .. } => return source.fix(),
            RegistryError::HashMismatch { id, .. } | RegistryError::MissingHash { id, .. } => {
                Fix::Repair { id: id.clone() }
            }
            _ => return None,
        })
    }

    /// The fix in plain words (the [`Display`](std::fmt::Display) of [`fix`](Self::fix)),
    /// for a `help:` line.
    pub fn help(&self) -> Option<String> {
        self.fix().map(|fix| fix.to_string())
    }
}

/// `two`, `three`, ... for the counts a sentence reads better with; digits past ten.
pub(crate) fn count_words(count: usize) -> String {
    const WORDS: [&str; 11] = [
        "no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    WORDS
        .get(count)
        .map_or_else(|| count.to_string(), |w| (*w).to_string())
}

fn ids(list: &[PluginId]) -> String {
    let list: Vec<String> = list.iter().map(|id| format!("`{id}`")).collect();
    list.join(", ")
}

fn items(list: &[CapabilityItem]) -> String {
    let list: Vec<String> = list.iter().map(ToString::to_string).collect();
    list.join(", ")
}

fn warnings_suffix(warnings: &[InspectWarning]) -> String {
    warnings
        .iter()
        .map(|w| format!("; {w}"))
        .collect::<String>()
}

impl From<crate::fs::WriteError> for RegistryError {
    fn from(e: crate::fs::WriteError) -> Self {
        RegistryError::Io {
            action: e.action,
            path: e.path,
            source: e.source,
        }
    }
}

impl RegistryError {
    /// The `map_err` for an I/O failure while doing `action` on `path`.
    pub(crate) fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_path_buf();
        move |source| RegistryError::Io {
            action,
            path,
            source,
        }
    }
}
