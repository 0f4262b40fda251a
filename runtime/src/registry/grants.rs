//! Capability grants: what a manifest asks for beyond what the user granted, item by item.

use std::fmt;

use serde::Serialize;

use crate::manifest::{Capabilities, HostPattern};

/// One grantable thing: a host, an environment variable, a directory, a switch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "capability",
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case"
)]
pub enum CapabilityItem {
    /// Outgoing HTTP to a host.
    Network {
        /// The host, as the manifest writes it.
        host: HostPattern,
    },
    /// Reading an environment variable.
    Env {
        /// The variable's name.
        var: String,
    },
    /// Reading a directory under the plugin's data dir.
    FsRead {
        /// The directory, relative.
        dir: String,
    },
    /// The per-plugin key-value store.
    Storage,
    /// Reading other recorded traces.
    Traces,
    /// Embedding texts through the host.
    Embeddings,
}

impl fmt::Display for CapabilityItem {
    /// The manifest's words: `network host api.openai.com`, `env OPENAI_API_KEY`,
    /// `fs-read data`, `storage`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CapabilityItem::Network { host } => write!(f, "network host {host}"),
            CapabilityItem::Env { var } => write!(f, "env {var}"),
            CapabilityItem::FsRead { dir } => write!(f, "fs-read {dir}"),
            CapabilityItem::Storage => f.write_str("storage"),
            CapabilityItem::Traces => f.write_str("traces"),
            CapabilityItem::Embeddings => f.write_str("embeddings"),
        }
    }
}

/// How one set of capabilities differs from another.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CapabilityDiff {
    /// Asked for and not covered by what was granted: these need approval.
    pub added: Vec<CapabilityItem>,
    /// Granted and no longer asked for.
    pub removed: Vec<CapabilityItem>,
}

impl CapabilityDiff {
    /// `from` (granted) to `to` (requested).
    pub fn between(from: &Capabilities, to: &Capabilities) -> Self {
        Self {
            added: uncovered(from, to),
            removed: items(from)
                .into_iter()
                .filter(|item| !items(to).contains(item))
                .collect(),
        }
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

/// Every item of a capability set, in manifest order.
pub fn items(caps: &Capabilities) -> Vec<CapabilityItem> {
    let mut out: Vec<CapabilityItem> = caps
        .network
        .iter()
        .flatten()
        .map(|host| CapabilityItem::Network { host: host.clone() })
        .collect();
    out.extend(
        caps.env
            .iter()
            .map(|var| CapabilityItem::Env { var: var.clone() }),
    );
    out.extend(
        caps.fs_read
            .iter()
            .map(|dir| CapabilityItem::FsRead { dir: dir.clone() }),
    );
    for (on, item) in [
        (caps.storage, CapabilityItem::Storage),
        (caps.traces, CapabilityItem::Traces),
        (caps.embeddings, CapabilityItem::Embeddings),
    ] {
        if on {
            out.push(item);
        }
    }
    out
}

/// The items of `requested` that `granted` does not cover: a new capability, a host no
/// granted pattern matches, a new env var, a directory outside every granted one.
pub fn uncovered(granted: &Capabilities, requested: &Capabilities) -> Vec<CapabilityItem> {
    items(requested)
        .into_iter()
        .filter(|item| !covers(granted, item))
        .collect()
}

fn covers(granted: &Capabilities, item: &CapabilityItem) -> bool {
    match item {
        CapabilityItem::Network { host } => granted
            .network
            .iter()
            .flatten()
            .any(|g| host_covers(g, host)),
        CapabilityItem::Env { var } => granted.env.contains(var),
        CapabilityItem::FsRead { dir } => granted.fs_read.iter().any(|g| dir_covers(g, dir)),
        CapabilityItem::Storage => granted.storage,
        CapabilityItem::Traces => granted.traces,
        CapabilityItem::Embeddings => granted.embeddings,
    }
}

/// Whether every request `p` allows, `g` allows too.
fn host_covers(g: &HostPattern, p: &HostPattern) -> bool {
    if g.port.is_some() && g.port != p.port {
        return false;
    }
    if !g.wildcard {
        return !p.wildcard && p.host == g.host;
    }
    (p.wildcard && p.host == g.host)
        || (p.host.len() > g.host.len() + 1
            && p.host.ends_with(&g.host)
            && p.host.as_bytes()[p.host.len() - g.host.len() - 1] == b'.')
}

/// Whether `dir` is `g` or under it (both normalised by the manifest: `/`-separated, no
/// `.` or `..` components, `.` for the data dir itself).
fn dir_covers(g: &str, dir: &str) -> bool {
    g == "."
        || dir == g
        || dir
            .strip_prefix(g)
            .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(s: &str) -> HostPattern {
        serde_json::from_value(serde_json::Value::String(s.into())).unwrap()
    }

    fn net(hosts: &[&str]) -> Capabilities {
        Capabilities {
            network: Some(hosts.iter().map(|h| host(h)).collect()),
            ..Capabilities::default()
        }
    }

    #[test]
    fn hosts_are_covered_by_wider_patterns() {
        let granted = net(&["*.example.com", "api.x.com:443"]);
        let asked = net(&[
            "a.example.com",
            "*.b.example.com",
            "*.example.com",
            "example.com",
            "api.x.com",
            "api.x.com:443",
        ]);
        let left: Vec<String> = uncovered(&granted, &asked)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(left, ["network host example.com", "network host api.x.com"]);
    }

    #[test]
    fn dirs_env_and_switches() {
        let granted = Capabilities {
            fs_read: vec!["data".into()],
            env: vec!["A".into()],
            storage: true,
            ..Capabilities::default()
        };
        let asked = Capabilities {
            fs_read: vec!["data/x".into(), "database".into()],
            env: vec!["A".into(), "B".into()],
            storage: true,
            traces: true,
            ..Capabilities::default()
        };
        let diff = CapabilityDiff::between(&granted, &asked);
        let added: Vec<String> = diff.added.iter().map(ToString::to_string).collect();
        assert_eq!(added, ["env B", "fs-read database", "traces"]);
        let removed: Vec<String> = diff.removed.iter().map(ToString::to_string).collect();
        assert_eq!(removed, ["fs-read data"]);
    }
}
