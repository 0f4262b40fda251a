//! What this binary carries (the contract and the SDK of each language) and whether a
//! plugin's requirements are met by it: what `doctor` reports.

use std::path::Path;

use anyhow::{Context as _, Result};
use flowtrace_plugins::capability::{CONTRACT_PACKAGE, CONTRACT_VERSION};
use flowtrace_plugins::manifest::{self, Language};
use serde::Serialize;

use super::package::{self, SdkDependency, SDK_PACKAGE};
use super::{cargo, rust_sdk};

/// The Python SDK's version (`__version__` of `sdk/python/flowtrace_plugin`).
pub const PYTHON_SDK_VERSION: &str = env!("FLOWTRACE_PYTHON_SDK_VERSION");

/// The TypeScript SDK's version (`sdk/typescript/package.json`).
pub const TYPESCRIPT_SDK_VERSION: &str = env!("FLOWTRACE_TYPESCRIPT_SDK_VERSION");

/// `{"reason": "carried", ...}`: the contract and SDK versions of this binary.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Carried {
    /// This binary's version.
    pub cargo_flowtrace: &'static str,
    /// `flowtrace:plugin@0.1.0`.
    pub contract: String,
    /// `flowtrace-plugin-sdk`'s version.
    pub rust_sdk: &'static str,
    /// `flowtrace_plugin`'s version.
    pub python_sdk: &'static str,
    /// `@flowtrace/plugin-sdk`'s version.
    pub typescript_sdk: &'static str,
}

impl crate::term::Message for Carried {
    const REASON: &'static str = "carried";
}

/// What this binary carries.
pub fn carried() -> Carried {
    Carried {
        cargo_flowtrace: env!("CARGO_PKG_VERSION"),
        contract: format!("{CONTRACT_PACKAGE}@{CONTRACT_VERSION}"),
        rust_sdk: rust_sdk::VERSION,
        python_sdk: PYTHON_SDK_VERSION,
        typescript_sdk: TYPESCRIPT_SDK_VERSION,
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

/// The requirements of the plugin whose manifest is at `manifest_path`: its contract and,
/// for a Rust plugin that depends on the SDK, the SDK.
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
    if manifest.build.language == Language::Rust {
        let root = manifest_path.parent().unwrap_or(Path::new("."));
        let package = package::locate(root, &cargo::cargo_program())?;
        let carried = rust_sdk::version();
        let written = |requirement: &str| {
            format!(
                "{SDK_PACKAGE} = {requirement} in `{}`",
                package.manifest_path.display()
            )
        };
        match &package.sdk {
            Some(SdkDependency::Registry { requirement }) => {
                let req = semver::VersionReq::parse(requirement).ok();
                let ok = req.as_ref().is_some_and(|r| r.matches(&carried));
                out.push(Requirement {
                    plugin,
                    what: "rust-sdk",
                    written: written(&format!("\"{requirement}\"")),
                    carried: carried.to_string(),
                    ok: Some(ok),
                    help: (!ok).then(|| match &req {
                        Some(req) => rust_sdk::mismatch_help(req, &carried),
                        None => format!(
                            "`{requirement}` is not a version requirement: write `{SDK_PACKAGE} \
                             = \"{}\"`",
                            rust_sdk::requirement()
                        ),
                    }),
                });
            }
            Some(SdkDependency::Other) => out.push(Requirement {
                plugin,
                what: "rust-sdk",
                written: written("{ path or git }"),
                carried: carried.to_string(),
                ok: None,
                help: None,
            }),
            None => {}
        }
    }
    Ok(out)
}
