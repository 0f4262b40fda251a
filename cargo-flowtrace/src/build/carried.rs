//! What this binary carries (the contract and the SDK of each language) and whether a
//! plugin's requirements are met by it: what `doctor` reports.

use std::path::Path;

use anyhow::{Context as _, Result};
use flowtrace_plugins::capability::{CONTRACT_PACKAGE, CONTRACT_VERSION};
use flowtrace_plugins::manifest::{self, Language};
use serde::ser::SerializeMap as _;
use serde::Serialize;

use crate::lang::{self, Sdk};

/// `{"reason": "carried", ...}`: the contract and SDK versions of this binary.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Carried {
    /// This binary's version.
    pub cargo_flowtrace: &'static str,
    /// `flowtrace:plugin@0.1.0`.
    pub contract: String,
    /// The SDK of each language, in JSON as `<language>-sdk` (`"rust-sdk": "0.1.0"`).
    #[serde(flatten)]
    pub sdks: Sdks,
}

/// The SDK of each language.
#[derive(Debug, Clone)]
pub struct Sdks(pub Vec<(Language, Sdk)>);

impl Serialize for Sdks {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (language, sdk) in &self.0 {
            map.serialize_entry(&format!("{language}-sdk"), sdk.version)?;
        }
        map.end()
    }
}

impl crate::term::Message for Carried {
    const REASON: &'static str = "carried";
}

/// What this binary carries.
pub fn carried() -> Carried {
    Carried {
        cargo_flowtrace: env!("CARGO_PKG_VERSION"),
        contract: format!("{CONTRACT_PACKAGE}@{CONTRACT_VERSION}"),
        sdks: Sdks(lang::drivers().map(|(l, d)| (l, d.sdk())).collect()),
    }
}

/// `{"reason": "plugin-requirement", ...}`: one requirement of a plugin, against what this
/// binary carries.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Requirement {
    /// The plugin id.
    pub plugin: String,
    /// `contract` or `rust-sdk`.
    pub what: &'static str,
    /// Where it is written: `flowtrace = "^0.1"` in `flowtrace.toml`.
    pub written: String,
    /// The version this binary carries.
    pub carried: String,
    /// Whether the requirement accepts it; `None` when the build does not supply it (an SDK
    /// by path or git).
    pub ok: Option<bool>,
    /// The fix, when it is not met.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl crate::term::Message for Requirement {
    const REASON: &'static str = "plugin-requirement";
}

/// The requirements of the plugin whose manifest is at `manifest_path`: its contract and
/// what its language's driver adds (the SDK, for a Rust plugin that depends on it).
pub fn requirements(manifest_path: &Path) -> Result<Vec<Requirement>> {
    let text = std::fs::read_to_string(manifest_path)
        .with_context(|| format!("failed to read `{}`", manifest_path.display()))?;
    let manifest = manifest::parse(&text, manifest_path)?;
    let plugin = manifest.plugin.id.to_string();
    let required = &manifest.plugin.flowtrace;
    let contract_ok = required.matches(&CONTRACT_VERSION);
    let mut out = vec![Requirement {
        plugin: plugin.clone(),
        what: "contract",
        written: format!(
            "flowtrace = \"{required}\" in `{}`",
            manifest_path.display()
        ),
        carried: format!("{CONTRACT_PACKAGE}@{CONTRACT_VERSION}"),
        ok: Some(contract_ok),
        help: (!contract_ok).then(|| {
            format!(
                "upgrade cargo-flowtrace to one that implements the contract the plugin \
                 requires (`cargo install --locked cargo-flowtrace`), or require `flowtrace = \
                 \"^{}.{}\"` in flowtrace.toml",
                CONTRACT_VERSION.major, CONTRACT_VERSION.minor
            )
        }),
    }];
    let driver = lang::driver(manifest.build.language);
    out.extend(driver.requirements(manifest_path, &manifest)?);
    Ok(out)
}
