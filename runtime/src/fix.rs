//! What would fix an error, as data: the embedder words it.
//!
//! The runtime's errors that know their fix return it from `fix()`
//! ([`RegistryError::fix`](crate::registry::RegistryError::fix),
//! [`ResolveError::fix`](crate::registry::ResolveError::fix),
//! [`GitError::fix`](crate::registry::git::GitError::fix),
//! [`InspectError::fix`](crate::inspect::InspectError::fix)). A [`Fix`] names the action and
//! what it applies to; its `Display` describes the action in plain words, without naming any
//! program's commands or flags, and is what those errors' `help()` returns. `cargo flowtrace`
//! renders the same fixes as its own command lines (`cargo flowtrace enable <id> --grant`); an
//! application that embeds the runtime renders them as its own buttons, menus or commands.

use std::fmt;

use semver::{Version, VersionReq};

use crate::manifest::PluginId;

/// An action that would fix an error.
///
/// ```
/// use flowtrace_plugins::manifest::PluginId;
/// use flowtrace_plugins::Fix;
///
/// let fix = Fix::Grant { id: PluginId::parse("sample-evaluator").unwrap() };
/// // The neutral words, for any front end:
/// assert_eq!(fix.to_string(), "grant them to `sample-evaluator`");
/// // Or the front end's own:
/// let words = match &fix {
///     Fix::Grant { id } => format!("open Settings > Plugins > {id} and grant them"),
///     other => other.to_string(),
/// };
/// assert_eq!(words, "open Settings > Plugins > sample-evaluator and grant them");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fix {
    // --- the registry ---
    /// Say where the registry is: set `FLOWTRACE_HOME`.
    SetHome,
    /// The registry index cannot be read: rebuild it from the installed plugins
    /// ([`Registry::repair_index`](crate::registry::Registry::repair_index)).
    RepairIndex,
    /// The registry was written by a newer version: upgrade the program that reads it.
    Upgrade,
    /// Another process holds the registry lock: wait for it (`pid`, when known), then retry.
    WaitForLock {
        /// The process that holds the lock, when its sidecar says.
        pid: Option<u32>,
    },
    /// The plugin needs another contract version: rebuild it against this runtime's SDK, or
    /// upgrade the runtime.
    MatchContract,
    /// The version is installed already: install it again, replacing it (a forced install).
    Reinstall {
        /// The plugin.
        id: PluginId,
        /// The version installed.
        version: Version,
    },
    /// Installing would lower the active version: allow the downgrade.
    AllowDowngrade {
        /// The plugin.
        id: PluginId,
        /// The version asked for.
        version: Version,
    },
    /// No such plugin: look at the list of installed plugins.
    ListPlugins,
    /// No such version: look at the installed versions of `id`.
    ShowVersions {
        /// The plugin.
        id: PluginId,
    },
    /// The active version cannot go alone: uninstall the whole plugin, or make another
    /// version active first.
    UninstallPlugin {
        /// The plugin.
        id: PluginId,
    },
    /// Enabled plugins depend on this one: `action` them first, or force the `action`.
    DependentsFirst {
        /// `disable` or `uninstall`.
        action: &'static str,
    },
    /// An installed file was changed or damaged: install the plugin again from its source,
    /// replacing it.
    Repair {
        /// The plugin.
        id: PluginId,
    },
    /// The active version asks for capabilities not granted yet: grant them to `id`
    /// ([`Registry::enable`](crate::registry::Registry::enable) with `grant`).
    Grant {
        /// The plugin.
        id: PluginId,
    },
    /// A setting of the plugin is not one its active version takes: change or remove it
    /// ([`Registry::configure`](crate::registry::Registry::configure)).
    Configure {
        /// The plugin.
        id: PluginId,
    },

    // --- dependencies ---
    /// A dependency is not installed: install a version of `id` matching `req`, before the
    /// plugin that needs it.
    InstallMissing {
        /// The dependency.
        id: PluginId,
        /// What is required of it.
        req: VersionReq,
    },
    /// No installed version of a dependency matches: install one that does.
    InstallMatching {
        /// The dependency.
        id: PluginId,
        /// What is required of it.
        req: VersionReq,
    },
    /// The version of `dependency` that runs does not suit `id`: install a version of `id`
    /// that accepts it, or disable `id`.
    UpgradeDependent {
        /// The plugin that requires.
        id: PluginId,
        /// The plugin required.
        dependency: PluginId,
        /// Its version that runs.
        version: Version,
    },
    /// Two plugins require versions of `dependency` that no version satisfies at once:
    /// upgrade one of them, or disable it.
    ResolveConflict {
        /// The plugin both require.
        dependency: PluginId,
    },
    /// An installed version that would do is not the active one: install `id` `version`
    /// again to make it active (a downgrade, if it is older).
    Activate {
        /// The plugin.
        id: PluginId,
        /// The installed version that satisfies the requirement.
        version: Version,
    },
    /// A dependency is disabled: enable `id` first.
    Enable {
        /// The dependency.
        id: PluginId,
    },
    /// Plugins require each other in a loop: remove one of the dependencies.
    BreakCycle,
    /// A plugin granted `embeddings` has no embedder to serve it: choose one of
    /// `embedders` (the installed ones; none: install one) for `id`, or as the registry's
    /// default ([`Registry::set_embedder`](crate::registry::Registry::set_embedder)).
    ChooseEmbedder {
        /// The plugin.
        id: PluginId,
        /// The installed embedders.
        embedders: Vec<PluginId>,
    },

    // --- git sources ---
    /// A git source this host does not clone from: use an `https://` or `file://` URL or a
    /// local path.
    SafeGitSource,
    /// A `#rev` that is not a revision name: name a branch, tag or commit.
    NameRevision,
    /// The revision is not in the repository: check its name.
    CheckRevision,
    /// `git` could not be run: install it.
    InstallGit,
    /// The plugin's directory in a repository is not a plain relative path: name it relative
    /// to the repository's root.
    DirectoryInRepository,

    // --- components ---
    /// The component has no embedded manifest: build the plugin with its build tool, which
    /// embeds `flowtrace.toml`.
    EmbedManifest,
    /// The component has several manifest sections: rebuild it so that it embeds one.
    EmbedOneManifest,
    /// A core module, not a component: build for `wasm32-wasip2`, or wrap the module.
    MakeComponent,
    /// A component of another component-model version: rebuild it.
    RebuildComponent,
    /// The file was cut short: build or copy it again.
    CopyAgain,
    /// Not WebAssembly at all: pass the built `.wasm` component.
    PassComponent,
}

impl fmt::Display for Fix {
    /// The action in plain words, lowercase, no trailing period, naming no command.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fix::SetHome => f.write_str("set `FLOWTRACE_HOME` to the registry directory"),
            Fix::RepairIndex => f.write_str(
                "rebuild the index from the installed plugins, whose files are checked against                  the hashes recorded at install",
            ),
            Fix::Upgrade => f.write_str("upgrade to a version of flowtrace that reads it"),
            Fix::WaitForLock { pid: Some(pid) } => {
                write!(f, "wait for pid {pid} to finish, then run this again")
            }
            Fix::WaitForLock { pid: None } => {
                f.write_str("wait for the other flowtrace process to finish, then run this again")
            }
            Fix::MatchContract => f.write_str(
                "rebuild the plugin against this version of the plugin SDK, or upgrade flowtrace",
            ),
            Fix::Reinstall { id, version } => {
                write!(
                    f,
                    "install `{id}` {version} again, replacing the installed copy"
                )
            }
            Fix::AllowDowngrade { id, version } => {
                write!(f, "allow the downgrade to install `{id}` {version}")
            }
            Fix::ListPlugins => f.write_str("the list of installed plugins shows which there are"),
            Fix::ShowVersions { id } => {
                write!(
                    f,
                    "the details of plugin `{id}` show its installed versions"
                )
            }
            Fix::UninstallPlugin { id } => write!(
                f,
                "uninstall the whole plugin `{id}`, or install another version first"
            ),
            Fix::DependentsFirst { action } => {
                write!(f, "{action} them first, or force it to {action} it anyway")
            }
            Fix::Repair { id } => write!(
                f,
                "the installed plugin was changed or damaged: install `{id}` again from its \
                 source, replacing it"
            ),
            Fix::Grant { id } => write!(f, "grant them to `{id}`"),
            Fix::Configure { id } => write!(
                f,
                "set each setting of `{id}` to a value of its declared type, or remove it"
            ),
            Fix::InstallMissing { id, req } => {
                write!(f, "install a version of `{id}` that matches `{req}` first")
            }
            Fix::InstallMatching { id, req } => {
                write!(f, "install a version of `{id}` that matches `{req}`")
            }
            Fix::UpgradeDependent {
                id,
                dependency,
                version,
            } => write!(
                f,
                "install a version of `{id}` that accepts `{dependency} {version}`, or disable it"
            ),
            Fix::ResolveConflict { dependency } => write!(
                f,
                "no version of `{dependency}` satisfies both: upgrade one of them, or disable it"
            ),
            Fix::Activate { id, version } => write!(
                f,
                "install `{id} {version}` again to make it the active version (allowing a \
                 downgrade if it is older)"
            ),
            Fix::Enable { id } => write!(f, "enable `{id}` first"),
            Fix::BreakCycle => f.write_str("remove one of these dependencies from its manifest"),
            Fix::ChooseEmbedder { id, embedders } if embedders.is_empty() => write!(
                f,
                "install an embedder and choose it to serve `{id}`, or as the registry's default"
            ),
            Fix::ChooseEmbedder { id, embedders } => write!(
                f,
                "choose the embedder that serves `{id}` ({}), for it or as the registry's default",
                embedders
                    .iter()
                    .map(|e| format!("`{e}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Fix::SafeGitSource => f.write_str(
                "use an `https://` or `file://` URL or a local path, optionally followed by \
                 `#<branch, tag or commit>`",
            ),
            Fix::NameRevision => f.write_str(
                "name a branch, tag or commit after the `#`, e.g. `#main`, `#v1.2.0` or \
                 `#1a2b3c4`",
            ),
            Fix::CheckRevision => f.write_str(
                "check the branch, tag or commit name (`git ls-remote <url>` lists them)",
            ),
            Fix::InstallGit => f.write_str("install git and put it on `PATH`"),
            Fix::DirectoryInRepository => f.write_str(
                "name the plugin's directory relative to the repository's root, e.g. \
                 `#main:plugins/my-eval`",
            ),
            Fix::EmbedManifest => f.write_str(
                "build the plugin with its build tool: that embeds `flowtrace.toml` in the \
                 component",
            ),
            Fix::EmbedOneManifest => f.write_str(
                "rebuild the plugin with its build tool: that embeds one `flowtrace-manifest` \
                 section, its flowtrace.toml",
            ),
            Fix::MakeComponent => f.write_str(
                "a plugin must be a WebAssembly component: build Rust for `wasm32-wasip2` \
                 (`cargo build --target wasm32-wasip2`), or wrap the module with \
                 `wasm-tools component new <module.wasm> -o <component.wasm>` (add \
                 `--adapt wasi_snapshot_preview1.reactor.wasm` for a `wasm32-wasip1` module)",
            ),
            Fix::RebuildComponent => f.write_str(
                "the component was built by an older or newer component model toolchain: \
                 rebuild it",
            ),
            Fix::CopyAgain => f.write_str(
                "the file was cut short (an interrupted build, copy or download): build or copy \
                 it again",
            ),
            Fix::PassComponent => {
                f.write_str("pass the `.wasm` component that the plugin's build wrote")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixes_name_no_command_line() {
        let id = PluginId::parse("p").unwrap();
        let version = Version::new(1, 0, 0);
        let req = VersionReq::parse("^1").unwrap();
        let fixes = [
            Fix::SetHome,
            Fix::RepairIndex,
            Fix::Upgrade,
            Fix::WaitForLock { pid: Some(7) },
            Fix::WaitForLock { pid: None },
            Fix::MatchContract,
            Fix::Reinstall {
                id: id.clone(),
                version: version.clone(),
            },
            Fix::AllowDowngrade {
                id: id.clone(),
                version: version.clone(),
            },
            Fix::ListPlugins,
            Fix::ShowVersions { id: id.clone() },
            Fix::UninstallPlugin { id: id.clone() },
            Fix::DependentsFirst { action: "disable" },
            Fix::Repair { id: id.clone() },
            Fix::Grant { id: id.clone() },
            Fix::InstallMissing {
                id: id.clone(),
                req: req.clone(),
            },
            Fix::InstallMatching {
                id: id.clone(),
                req,
            },
            Fix::UpgradeDependent {
                id: id.clone(),
                dependency: id.clone(),
                version: version.clone(),
            },
            Fix::ResolveConflict {
                dependency: id.clone(),
            },
            Fix::Activate {
                id: id.clone(),
                version,
            },
            Fix::ChooseEmbedder {
                id: id.clone(),
                embedders: vec![id.clone()],
            },
            Fix::Enable { id },
            Fix::BreakCycle,
            Fix::SafeGitSource,
            Fix::NameRevision,
            Fix::CheckRevision,
            Fix::InstallGit,
            Fix::DirectoryInRepository,
            Fix::EmbedManifest,
            Fix::EmbedOneManifest,
            Fix::MakeComponent,
            Fix::RebuildComponent,
            Fix::CopyAgain,
            Fix::PassComponent,
        ];
        for fix in fixes {
            let text = fix.to_string();
            assert!(!text.ends_with('.'), "{text}");
            // The one command line left is the language toolchain's, which any front end's
            // users run themselves; no other fix names a command or a flag.
            if fix != Fix::MakeComponent {
                assert!(!text.contains("cargo") && !text.contains("--"), "{text}");
            }
        }
    }
}
