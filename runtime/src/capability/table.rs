//! The one table of which manifest capability grants which interface.
//!
//! The capability check ([`check`](super::check)) and the linker (which links only the granted
//! `flowtrace:plugin` interfaces) both read [`HOST_INTERFACES`], so they cannot disagree.

use std::fmt;

use serde::Serialize;

use crate::manifest::Capabilities;

/// A capability a plugin declares under `[capabilities]` in `flowtrace.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// `network = { hosts = [...] }`: outgoing HTTP (`wasi:http/outgoing-handler`).
    Network,
    /// `env = [...]`: environment variables (`wasi:cli/environment`).
    Env,
    /// `fs-read = [...]`: read-only directories (`wasi:filesystem`).
    FsRead,
    /// `storage = true`: the per-plugin key-value store (`flowtrace:plugin/kv`).
    Storage,
    /// `traces = true`: read other traces (`flowtrace:plugin/traces`).
    Traces,
    /// `embeddings = true`: embed texts through the host (`flowtrace:plugin/embeddings`).
    Embeddings,
}

impl Capability {
    /// Every capability, in manifest order.
    pub const ALL: [Capability; 6] = [
        Capability::Network,
        Capability::Env,
        Capability::FsRead,
        Capability::Storage,
        Capability::Traces,
        Capability::Embeddings,
    ];

    /// The manifest key under `[capabilities]`.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Network => "network",
            Capability::Env => "env",
            Capability::FsRead => "fs-read",
            Capability::Storage => "storage",
            Capability::Traces => "traces",
            Capability::Embeddings => "embeddings",
        }
    }

    /// Whether `capabilities` grants this capability. An empty list grants nothing.
    pub fn is_granted(self, capabilities: &Capabilities) -> bool {
        match self {
            Capability::Network => capabilities.has_network(),
            Capability::Env => !capabilities.env.is_empty(),
            Capability::FsRead => !capabilities.fs_read.is_empty(),
            Capability::Storage => capabilities.storage,
            Capability::Traces => capabilities.traces,
            Capability::Embeddings => capabilities.embeddings,
        }
    }

    /// Whether a call that uses it may be made again without its effects happening twice:
    /// reads (`env`, `fs-read`, `traces`) and `storage` (the host holds a batch call's writes
    /// back until the call succeeds) may; `network` (a request sent cannot be taken back) and
    /// `embeddings` (served by another plugin, which may send requests) may not. Evaluators
    /// granted only repeatable capabilities get several traces per call.
    pub fn is_repeatable(self) -> bool {
        match self {
            Capability::Env | Capability::FsRead | Capability::Storage | Capability::Traces => true,
            Capability::Network | Capability::Embeddings => false,
        }
    }

    /// The line to add under `[capabilities]` to declare it, with a placeholder where the
    /// author must fill in their own value.
    pub fn manifest_line(self) -> &'static str {
        match self {
            Capability::Network => r#"network = { hosts = ["api.example.com"] }"#,
            Capability::Env => r#"env = ["VARIABLE_NAME"]"#,
            Capability::FsRead => r#"fs-read = ["data"]"#,
            Capability::Storage => "storage = true",
            Capability::Traces => "traces = true",
            Capability::Embeddings => "embeddings = true",
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who may use a `flowtrace:plugin` host interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Grant {
    /// Every plugin (`types`, `log`, `config`).
    Always,
    /// Plugins that declare this capability.
    Capability(Capability),
}

impl Grant {
    /// Whether a plugin with `capabilities` may use the interface.
    pub fn is_granted(self, capabilities: &Capabilities) -> bool {
        match self {
            Grant::Always => true,
            Grant::Capability(capability) => capability.is_granted(capabilities),
        }
    }
}

/// A host interface of the `flowtrace:plugin` contract and who may import it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HostInterface {
    /// The interface name inside the package, e.g. `kv`.
    pub name: &'static str,
    /// Who may import it.
    pub grant: Grant,
}

/// Every host interface of `flowtrace:plugin` (`wit/host.wit`, plus `types`, which holds the
/// host-owned `trace` resource) and what grants it. One host interface per capability.
pub const HOST_INTERFACES: &[HostInterface] = &[
    HostInterface {
        name: "types",
        grant: Grant::Always,
    },
    HostInterface {
        name: "log",
        grant: Grant::Always,
    },
    HostInterface {
        name: "config",
        grant: Grant::Always,
    },
    HostInterface {
        name: "kv",
        grant: Grant::Capability(Capability::Storage),
    },
    HostInterface {
        name: "traces",
        grant: Grant::Capability(Capability::Traces),
    },
    HostInterface {
        name: "embeddings",
        grant: Grant::Capability(Capability::Embeddings),
    },
];

/// What grants the `flowtrace:plugin` host interface `interface` (the bare name, e.g. `kv`,
/// without package or version); `None` when the contract has no such host interface.
pub fn capability_for_interface(interface: &str) -> Option<Grant> {
    HOST_INTERFACES
        .iter()
        .find(|i| i.name == interface)
        .map(|i| i.grant)
}

/// The `flowtrace:plugin` host interfaces (bare names) that `capabilities` grants, in table
/// order: what the linker links for the plugin, and nothing more.
pub fn granted_interfaces(capabilities: &Capabilities) -> Vec<&'static str> {
    HOST_INTERFACES
        .iter()
        .filter(|i| i.grant.is_granted(capabilities))
        .map(|i| i.name)
        .collect()
}

/// How the host treats a WASI interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WasiAccess {
    /// Always linked for real.
    Baseline,
    /// Linked for real with the capability; otherwise linked to deny-everything stubs.
    Capability(Capability),
    /// Always linked to deny-everything stubs.
    Never,
}

struct WasiRule {
    package: &'static str,
    /// `None` matches every interface of the package.
    interfaces: Option<&'static [&'static str]>,
    access: WasiAccess,
}

/// The WASI packages this host links, first matching rule wins (DESIGN.md's import table).
const WASI_RULES: &[WasiRule] = &[
    WasiRule {
        package: "io",
        interfaces: None,
        access: WasiAccess::Baseline,
    },
    WasiRule {
        package: "clocks",
        interfaces: None,
        access: WasiAccess::Baseline,
    },
    WasiRule {
        package: "random",
        interfaces: None,
        access: WasiAccess::Baseline,
    },
    WasiRule {
        package: "cli",
        interfaces: Some(&[
            "stdin",
            "stdout",
            "stderr",
            "exit",
            "terminal-input",
            "terminal-output",
            "terminal-stdin",
            "terminal-stdout",
            "terminal-stderr",
        ]),
        access: WasiAccess::Baseline,
    },
    WasiRule {
        package: "cli",
        interfaces: Some(&["environment"]),
        access: WasiAccess::Capability(Capability::Env),
    },
    WasiRule {
        package: "http",
        interfaces: Some(&["outgoing-handler", "types"]),
        access: WasiAccess::Capability(Capability::Network),
    },
    WasiRule {
        package: "http",
        interfaces: None,
        access: WasiAccess::Never,
    },
    WasiRule {
        package: "filesystem",
        interfaces: None,
        access: WasiAccess::Capability(Capability::FsRead),
    },
    WasiRule {
        package: "sockets",
        interfaces: None,
        access: WasiAccess::Never,
    },
];

/// How the host treats `wasi:<package>/<interface>`; `None` when it does not provide it.
pub(crate) fn wasi_access(package: &str, interface: &str) -> Option<WasiAccess> {
    WASI_RULES
        .iter()
        .find(|rule| {
            rule.package == package
                && rule
                    .interfaces
                    .is_none_or(|names| names.contains(&interface))
        })
        .map(|rule| rule.access)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_maps_both_ways() {
        for interface in HOST_INTERFACES {
            assert_eq!(
                capability_for_interface(interface.name),
                Some(interface.grant)
            );
        }
        assert_eq!(capability_for_interface("evaluator"), None);
        assert_eq!(capability_for_interface("flowtrace:plugin/kv"), None);

        let none = Capabilities::default();
        assert_eq!(granted_interfaces(&none), ["types", "log", "config"]);
        let all = Capabilities {
            storage: true,
            traces: true,
            embeddings: true,
            ..Capabilities::default()
        };
        assert_eq!(
            granted_interfaces(&all),
            ["types", "log", "config", "kv", "traces", "embeddings"]
        );
        let storage = Capabilities {
            storage: true,
            ..Capabilities::default()
        };
        assert_eq!(
            granted_interfaces(&storage),
            ["types", "log", "config", "kv"]
        );
    }

    #[test]
    fn empty_lists_grant_nothing() {
        let caps = Capabilities {
            network: Some(Vec::new()),
            env: Vec::new(),
            fs_read: Vec::new(),
            ..Capabilities::default()
        };
        for capability in Capability::ALL {
            assert!(!capability.is_granted(&caps), "{capability}");
        }
    }

    #[test]
    fn wasi_rules_follow_the_design_table() {
        use WasiAccess::*;
        assert_eq!(wasi_access("io", "streams"), Some(Baseline));
        assert_eq!(wasi_access("clocks", "wall-clock"), Some(Baseline));
        assert_eq!(wasi_access("random", "insecure-seed"), Some(Baseline));
        assert_eq!(wasi_access("cli", "terminal-stdout"), Some(Baseline));
        assert_eq!(
            wasi_access("cli", "environment"),
            Some(Capability(super::Capability::Env))
        );
        assert_eq!(wasi_access("cli", "run"), None);
        assert_eq!(
            wasi_access("http", "types"),
            Some(Capability(super::Capability::Network))
        );
        assert_eq!(wasi_access("http", "incoming-handler"), Some(Never));
        assert_eq!(
            wasi_access("filesystem", "preopens"),
            Some(Capability(super::Capability::FsRead))
        );
        assert_eq!(wasi_access("sockets", "tcp"), Some(Never));
        assert_eq!(wasi_access("keyvalue", "store"), None);
    }
}
