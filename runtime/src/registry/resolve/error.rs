//! Why dependencies cannot be satisfied.

use semver::{Version, VersionReq};
use serde::Serialize;

use crate::fix::Fix;
use crate::manifest::PluginId;

/// One plugin version's requirement on another plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Requirement {
    /// The plugin that requires.
    pub by: PluginId,
    /// Its version.
    pub by_version: Version,
    /// What it requires of the dependency.
    pub requirement: VersionReq,
}

/// Why the dependencies of a plugin cannot be satisfied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// No version of the dependency is installed.
    #[error(
        "`{} {}` requires `{dependency} {}`, which is not installed",
        required_by.by, required_by.by_version, required_by.requirement
    )]
    Missing {
        /// The plugin required.
        dependency: PluginId,
        /// Who requires it, and what.
        required_by: Requirement,
    },
    /// Versions are installed, but none matches.
    #[error(
        "`{} {}` requires `{dependency} {}`, but the installed versions are {}",
        required_by.by, required_by.by_version, required_by.requirement, versions(installed)
    )]
    NoMatchingVersion {
        /// The plugin required.
        dependency: PluginId,
        /// Who requires it, and what.
        required_by: Requirement,
        /// What is installed.
        installed: Vec<Version>,
    },
    /// The version that has to run (being installed or enabled, or active and enabled) does
    /// not match a requirement on it.
    #[error(
        "`{} {}` requires `{dependency} {}`, which `{dependency} {version}` does not satisfy",
        required_by.by, required_by.by_version, required_by.requirement
    )]
    Incompatible {
        /// The plugin required.
        dependency: PluginId,
        /// Its version that runs.
        version: Version,
        /// Who requires it, and what.
        required_by: Requirement,
    },
    /// Two plugins require versions of a third that no version can satisfy at once.
    #[error(
        "conflicting requirements on `{dependency}`: `{} {}` requires `{}` and `{} {}` requires `{}`",
        first.by, first.by_version, first.requirement, second.by, second.by_version, second.requirement
    )]
    Conflict {
        /// The plugin both require.
        dependency: PluginId,
        /// One requirer.
        first: Requirement,
        /// The other.
        second: Requirement,
    },
    /// An installed version satisfies the requirement, but another one is active.
    #[error(
        "`{} {}` requires `{dependency} {}`: installed `{dependency} {satisfying}` satisfies it, \
         but the active version is {active}",
        required_by.by, required_by.by_version, required_by.requirement
    )]
    Inactive {
        /// The plugin required.
        dependency: PluginId,
        /// Its active version.
        active: Version,
        /// The installed version that would do.
        satisfying: Version,
        /// Who requires it, and what.
        required_by: Requirement,
    },
    /// The dependency is installed, but disabled.
    #[error(
        "`{} {}` requires `{dependency}`, which is disabled",
        required_by.by, required_by.by_version
    )]
    Disabled {
        /// The plugin required.
        dependency: PluginId,
        /// Who requires it, and what.
        required_by: Requirement,
    },
    /// Plugins that require each other, in a loop.
    #[error("dependency cycle: {}", chain(cycle))]
    Cycle {
        /// The loop, first plugin repeated at the end: `[a, b, a]`.
        cycle: Vec<PluginId>,
    },
    /// Anything else the solver could not satisfy, in its own words.
    #[error("no set of installed versions satisfies every requirement:\n{explanation}")]
    Unsatisfiable {
        /// The solver's explanation, one derivation per line.
        explanation: String,
    },
}

impl ResolveError {
    /// What would fix this error, when that is known: data for the embedder to word.
    pub fn fix(&self) -> Option<Fix> {
        Some(match self {
            ResolveError::Missing {
                dependency,
                required_by,
            } => Fix::InstallMissing {
                id: dependency.clone(),
                req: required_by.requirement.clone(),
            },
            ResolveError::NoMatchingVersion {
                dependency,
                required_by,
                ..
            } => Fix::InstallMatching {
                id: dependency.clone(),
                req: required_by.requirement.clone(),
            },
            ResolveError::Incompatible {
                dependency,
                version,
                required_by,
            } => Fix::UpgradeDependent {
                id: required_by.by.clone(),
                dependency: dependency.clone(),
                version: version.clone(),
            },
            ResolveError::Conflict { dependency, .. } => Fix::ResolveConflict {
                dependency: dependency.clone(),
            },
            ResolveError::Inactive {
                dependency,
                satisfying,
                ..
            } => Fix::Activate {
                id: dependency.clone(),
                version: satisfying.clone(),
            },
            ResolveError::Disabled { dependency, .. } => Fix::Enable {
                id: dependency.clone(),
            },
            ResolveError::Cycle { .. } => Fix::BreakCycle,
            ResolveError::Unsatisfiable { .. } => return None,
        })
    }

    /// The fix in plain words (the [`Display`](std::fmt::Display) of [`fix`](Self::fix)),
    /// for a `help:` line.
    pub fn help(&self) -> Option<String> {
        self.fix().map(|fix| fix.to_string())
    }
}

fn versions(list: &[Version]) -> String {
    let list: Vec<String> = list.iter().map(ToString::to_string).collect();
    list.join(", ")
}

fn chain(cycle: &[PluginId]) -> String {
    let ids: Vec<&str> = cycle.iter().map(PluginId::as_str).collect();
    ids.join(" -> ")
}
