//! What operations report, and what `list` and `info` show: serialisable (kebab-case) for
//! `--message-format json`, with `Display` where a line of text says it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use semver::{Version, VersionReq};
use serde::Serialize;

use crate::manifest::{Capabilities, Language, PluginId, PluginKind};

use super::grants::{CapabilityDiff, CapabilityItem};
use super::index::Source;

/// What an install did to the plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InstallAction {
    /// It was not installed.
    Installed,
    /// A higher version than the active one.
    Upgraded,
    /// A lower version than the active one (`allow_downgrade`).
    Downgraded,
    /// The active version again (`force`).
    Reinstalled,
}

impl fmt::Display for InstallAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InstallAction::Installed => "installed",
            InstallAction::Upgraded => "upgraded",
            InstallAction::Downgraded => "downgraded",
            InstallAction::Reinstalled => "reinstalled",
        })
    }
}

/// What happened, for the CLI to show.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct InstallOutcome {
    /// The plugin.
    pub id: PluginId,
    /// The version installed, now the active one.
    pub version: Version,
    /// Its kind.
    pub kind: PluginKind,
    /// Fresh install, upgrade, downgrade or reinstall.
    pub action: InstallAction,
    /// The version that was active before, if any.
    pub previous: Option<Version>,
    /// Whether the plugin is enabled now. An upgrade asking for more than was granted
    /// leaves it disabled until the user grants it ([`Registry::enable`](super::Registry::enable) with `grant`).
    pub enabled: bool,
    /// The capabilities granted now: what the runtime links.
    pub granted: Capabilities,
    /// What the installed version asks for beyond `granted`, awaiting approval; empty when
    /// nothing is pending.
    pub pending: Vec<CapabilityItem>,
    /// The installed version's capabilities against what was granted before (all added on a
    /// fresh install).
    pub changes: CapabilityDiff,
    /// SHA-256 of the component, lowercase hex.
    pub sha256: String,
    /// The installed version's directory.
    pub path: std::path::PathBuf,
    /// What the user should know: enabled plugins depending on one that no longer runs.
    pub warnings: Vec<Warning>,
}

/// What happened to a dependency that enabled plugins rely on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DependencyState {
    /// Disabled with `force`.
    Disabled,
    /// Uninstalled with `force`.
    Uninstalled,
    /// Upgraded to a version that waits for new grants, disabled meanwhile.
    AwaitingGrants,
}

/// Something an operation did that the user should know about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "warning",
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case"
)]
pub enum Warning {
    /// Enabled plugins depend on a plugin that no longer runs.
    Dependents {
        /// The plugin they depend on.
        dependency: PluginId,
        /// The enabled plugins that depend on it, sorted.
        dependents: Vec<PluginId>,
        /// What became of it.
        state: DependencyState,
    },
    /// Settings recorded for the plugin that the installed version does not take (a key it
    /// no longer declares, a value of another type): loading it fails until they change.
    Settings {
        /// The plugin.
        id: PluginId,
        /// The version installed.
        version: Version,
        /// What is wrong with each.
        problems: Vec<String>,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::Dependents {
                dependency,
                dependents,
                state,
            } => {
                let list: Vec<String> = dependents.iter().map(|d| format!("`{d}`")).collect();
                let now = match state {
                    DependencyState::Disabled => "is now disabled",
                    DependencyState::Uninstalled => "is now uninstalled",
                    DependencyState::AwaitingGrants => {
                        "stays disabled until its new capabilities are granted"
                    }
                };
                write!(
                    f,
                    "enabled plugin{} {} depend{} on `{dependency}`, which {now}",
                    if list.len() == 1 { "" } else { "s" },
                    list.join(", "),
                    if list.len() == 1 { "s" } else { "" },
                )
            }
            Warning::Settings {
                id,
                version,
                problems,
            } => write!(
                f,
                "settings of `{id}` that version {version} does not take: {}; it fails to load \
                 until they are changed",
                problems.join("; ")
            ),
        }
    }
}

/// What [`Registry::enable`](super::Registry::enable) did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct EnableOutcome {
    /// The plugin.
    pub id: PluginId,
    /// Its active version.
    pub version: Version,
    /// The capabilities granted by this call (empty when none were pending).
    pub granted: Vec<CapabilityItem>,
    /// Whether it was enabled, with nothing to grant, already.
    pub unchanged: bool,
}

/// What [`Registry::disable`](super::Registry::disable) did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct DisableOutcome {
    /// The plugin.
    pub id: PluginId,
    /// Its active version.
    pub version: Version,
    /// Whether it was disabled already.
    pub unchanged: bool,
    /// Enabled plugins left without it (`force`).
    pub warnings: Vec<Warning>,
}

/// What [`Registry::uninstall`](super::Registry::uninstall) did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct UninstallOutcome {
    /// The plugin.
    pub id: PluginId,
    /// The versions removed.
    pub removed: Vec<Version>,
    /// The versions still installed (empty when the plugin is gone).
    pub remaining: Vec<Version>,
    /// Enabled plugins left without it (`force`).
    pub warnings: Vec<Warning>,
}

/// A plugin whose record in the index is broken: [`Registry::list`](super::Registry::list)
/// leaves it out, [`Registry::broken`](super::Registry::broken) reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct BrokenPlugin {
    /// The plugin.
    pub id: PluginId,
    /// The active version the record names.
    pub active: Version,
    /// What is wrong with the record.
    pub problem: String,
}

/// One row of `cargo flowtrace list`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct PluginSummary {
    /// The plugin.
    pub id: PluginId,
    /// Its display name.
    pub name: String,
    /// The active version.
    pub version: Version,
    /// What it does.
    pub kind: PluginKind,
    /// What it is written in.
    pub language: Language,
    /// Whether it runs.
    pub enabled: bool,
    /// The capabilities granted: what the runtime links.
    pub capabilities: Capabilities,
    /// What the active version asks for beyond them, awaiting `enable --grant`.
    pub pending_grants: Vec<CapabilityItem>,
    /// Where the active version came from.
    pub source: Source,
    /// Every installed version, ascending.
    pub versions: Vec<Version>,
}

/// One installed version, for `cargo flowtrace info`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct VersionDetails {
    /// The version.
    pub version: Version,
    /// Whether it is the active one.
    pub active: bool,
    /// SHA-256 of its component, as recorded.
    pub sha256: Option<String>,
    /// Where it came from.
    pub source: Source,
    /// When it was installed (RFC 3339, UTC).
    pub installed_at: String,
    /// Its directory.
    pub path: PathBuf,
}

/// Everything the registry knows of one plugin, for `cargo flowtrace info`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct PluginDetails {
    /// The summary `list` shows.
    #[serde(flatten)]
    pub summary: PluginSummary,
    /// The active version's description.
    pub description: Option<String>,
    /// What the active version's manifest declares (`capabilities` is what is granted).
    pub declared_capabilities: Capabilities,
    /// The active version's dependencies.
    pub dependencies: BTreeMap<PluginId, VersionReq>,
    /// The enabled plugins that depend on this one.
    pub dependents: Vec<PluginId>,
    /// For a plugin granted `embeddings`: the embedder that serves it.
    pub embedder: Option<super::EmbedderChoice>,
    /// For an embedder: the plugins granted `embeddings` it serves (chosen for them, or as
    /// the registry's default).
    pub embeds_for: Vec<PluginId>,
    /// Every installed version.
    pub installed: Vec<VersionDetails>,
}

/// What [`Registry::repair_index`](super::Registry::repair_index) did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RepairOutcome {
    /// Whether the index was rebuilt (`false`: it read well, and was left alone).
    pub repaired: bool,
    /// The plugins in the rebuilt index, by id.
    pub plugins: Vec<RepairedPlugin>,
    /// What was left out because it could not be verified: its files are still there.
    pub unverified: Vec<Unverified>,
    /// The backup the user's decisions were taken from, when there was a readable one.
    pub backup: Option<PathBuf>,
    /// Where the unreadable index was kept, when there was one.
    pub corrupt: Option<PathBuf>,
}

/// A plugin back in the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RepairedPlugin {
    /// The plugin.
    pub id: PluginId,
    /// Its active version.
    pub active: Version,
    /// Every verified version, in order.
    pub versions: Vec<Version>,
    /// Whether it is enabled: as the backup had it, else `false`.
    pub enabled: bool,
    /// Whether its state (enabled, grants, active version) came from the backup; otherwise
    /// it is disabled with nothing granted, and its highest version is active.
    pub from_backup: bool,
}

/// A directory under `plugins/` left out of a rebuilt index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Unverified {
    /// The directory.
    pub path: PathBuf,
    /// Why it was not trusted.
    pub reason: String,
}
