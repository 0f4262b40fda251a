//! One verdict per import, and the export check.

use super::report::{ExportProblem, ImportVerdict, Verdict};
use super::table::{capability_for_interface, wasi_access, Capability, Grant, WasiAccess};
use super::toolchain::Toolchain;
use super::{is_compatible, same_track, CONTRACT_PACKAGE, CONTRACT_VERSION, WASI_VERSION};
use crate::inspect::{ExportItem, ImportItem, InterfaceName, ItemKind};
use crate::manifest::{Capabilities, PluginKind};

/// A verdict for each import, in order. `toolchain` is the one that built the component,
/// when known: WASI imports it adds by default are reported as injected by it, with the flag
/// that removes them.
pub fn check_imports(
    imports: &[ImportItem],
    capabilities: &Capabilities,
    toolchain: Option<Toolchain>,
) -> Vec<ImportVerdict> {
    imports
        .iter()
        .map(|import| classify_import(import, capabilities, toolchain))
        .collect()
}

/// The verdict on one import.
pub fn classify_import(
    import: &ImportItem,
    capabilities: &Capabilities,
    toolchain: Option<Toolchain>,
) -> ImportVerdict {
    let (verdict, reason) = match &import.interface {
        None => (
            Verdict::Unknown,
            "a plain-name import is neither part of `flowtrace:plugin` nor of WASI".to_string(),
        ),
        Some(name) if name.is_in("flowtrace", "plugin") => contract(name, capabilities),
        Some(name) if name.namespace == "wasi" => wasi(name, capabilities, toolchain),
        Some(name) => (
            Verdict::Unknown,
            format!(
                "package `{}` is neither `{CONTRACT_PACKAGE}` nor a WASI package this host \
                 provides",
                name.package_name()
            ),
        ),
    };
    ImportVerdict {
        import: import.name.clone(),
        verdict,
        reason,
    }
}

fn contract(name: &InterfaceName, capabilities: &Capabilities) -> (Verdict, String) {
    let host = CONTRACT_VERSION.to_string();
    match &name.version {
        None => {
            return (
                Verdict::IncompatibleVersion { found: None, host },
                format!(
                    "the import names no version; the host implements \
                     `{CONTRACT_PACKAGE}@{CONTRACT_VERSION}`"
                ),
            )
        }
        Some(found) if !is_compatible(found, &CONTRACT_VERSION) => {
            return (
                Verdict::IncompatibleVersion {
                    found: Some(found.to_string()),
                    host,
                },
                format!(
                    "built against `{CONTRACT_PACKAGE}@{found}`; the host implements \
                     `{CONTRACT_PACKAGE}@{CONTRACT_VERSION}`"
                ),
            )
        }
        Some(_) => {}
    }
    let interface = name.interface.as_str();
    match capability_for_interface(interface) {
        None if PluginKind::parse(interface).is_some() => (
            Verdict::Unknown,
            format!(
                "`{interface}` is a plugin interface: a plugin exports it, the host does not \
                 provide it"
            ),
        ),
        None => (
            Verdict::Unknown,
            format!("`{CONTRACT_PACKAGE}@{CONTRACT_VERSION}` has no host interface `{interface}`"),
        ),
        Some(Grant::Always) => (Verdict::Ok, "always granted".to_string()),
        Some(Grant::Capability(capability)) if capability.is_granted(capabilities) => {
            (Verdict::Ok, format!("granted by capability `{capability}`"))
        }
        Some(Grant::Capability(capability)) => (
            Verdict::Undeclared {
                capability,
                manifest_line: capability.manifest_line().to_string(),
            },
            format!("needs capability `{capability}`, which flowtrace.toml does not declare"),
        ),
    }
}

fn wasi(
    name: &InterfaceName,
    capabilities: &Capabilities,
    toolchain: Option<Toolchain>,
) -> (Verdict, String) {
    let host = WASI_VERSION.to_string();
    match &name.version {
        None => {
            return (
                Verdict::IncompatibleVersion { found: None, host },
                format!("the import names no version; the host provides WASI `{WASI_VERSION}`"),
            )
        }
        Some(found) if !same_track(found, &WASI_VERSION) => {
            return (
                Verdict::IncompatibleVersion {
                    found: Some(found.to_string()),
                    host,
                },
                format!("WASI `{found}` is not provided: the host provides WASI `{WASI_VERSION}`"),
            )
        }
        Some(_) => {}
    }
    let (package, interface) = (name.package.as_str(), name.interface.as_str());
    let Some(access) = wasi_access(package, interface) else {
        return (
            Verdict::Unknown,
            format!("the host does not provide `{}`", name.unversioned()),
        );
    };
    match access {
        WasiAccess::Baseline if matches!(interface, "stdout" | "stderr") => (
            Verdict::Baseline,
            "always linked; the output goes to the plugin log".to_string(),
        ),
        WasiAccess::Baseline => (Verdict::Baseline, "always linked".to_string()),
        WasiAccess::Capability(capability) if capability.is_granted(capabilities) => {
            (Verdict::Ok, granted_reason(capability))
        }
        WasiAccess::Capability(capability) => {
            sandboxed(package, interface, Some(capability), toolchain)
        }
        WasiAccess::Never => sandboxed(package, interface, None, toolchain),
    }
}

fn granted_reason(capability: Capability) -> String {
    match capability {
        Capability::Network => {
            "granted by capability `network`: every request, redirects included, is checked \
             against the allowed hosts"
        }
        Capability::FsRead => {
            "granted by capability `fs-read`: only the declared directories are visible, \
             read-only"
        }
        Capability::Env => {
            "granted by capability `env`: only the declared environment variables are visible"
        }
        Capability::Storage | Capability::Traces | Capability::Embeddings => {
            "granted by a declared capability"
        }
    }
    .to_string()
}

/// Linked to stubs that deny everything; say who put the import there and how to lose it.
fn sandboxed(
    package: &str,
    interface: &str,
    grantable_by: Option<Capability>,
    toolchain: Option<Toolchain>,
) -> (Verdict, String) {
    let denied = match package {
        "filesystem" => "no directories are preopened",
        "sockets" => "no socket can be opened: network access is HTTP only",
        "http" => "every request is refused",
        "cli" => "no environment variables or arguments are visible",
        _ => "every call is refused",
    };
    let injected_by = toolchain.filter(|t| t.injects(package, interface));
    let (fix, reason) = match injected_by {
        Some(toolchain) => (
            toolchain.removal(package),
            format!("injected by {toolchain}; linked, but {denied}"),
        ),
        None => (
            grantable_by.map(|capability| {
                format!(
                    "declare `{}` under `[capabilities]` in flowtrace.toml to grant it",
                    capability.manifest_line()
                )
            }),
            format!("linked, but {denied}"),
        ),
    };
    (Verdict::Sandboxed { injected_by, fix }, reason)
}

/// What is wrong with `exports` for a plugin of `kind`: it must export
/// `flowtrace:plugin/<kind>` as an instance, at a version compatible with the host's.
pub fn check_exports(exports: &[ExportItem], kind: PluginKind) -> Vec<ExportProblem> {
    let is_kind = |export: &&ExportItem, kind: PluginKind| {
        export
            .interface
            .as_ref()
            .is_some_and(|n| n.is_in("flowtrace", "plugin") && n.interface == kind.as_str())
    };
    let candidates: Vec<&ExportItem> = exports.iter().filter(|e| is_kind(e, kind)).collect();
    if candidates.is_empty() {
        let other_kind = PluginKind::ALL
            .into_iter()
            .filter(|other| *other != kind)
            .find(|other| exports.iter().any(|e| is_kind(&e, *other)))
            .map(|other| other.as_str().to_string());
        return vec![ExportProblem::Missing {
            expected: format!("{CONTRACT_PACKAGE}/{}@{CONTRACT_VERSION}", kind.as_str()),
            kind: kind.as_str().to_string(),
            found: exports.iter().map(|e| e.name.clone()).collect(),
            other_kind,
        }];
    }
    let compatible = |e: &ExportItem| {
        e.interface
            .as_ref()
            .and_then(|n| n.version.as_ref())
            .is_some_and(|v| is_compatible(v, &CONTRACT_VERSION))
    };
    if candidates
        .iter()
        .any(|e| compatible(e) && e.kind == ItemKind::Instance)
    {
        return Vec::new();
    }
    candidates
        .into_iter()
        .map(|e| {
            if compatible(e) {
                ExportProblem::NotAnInstance {
                    export: e.name.clone(),
                    item: e.kind,
                }
            } else {
                ExportProblem::IncompatibleVersion {
                    export: e.name.clone(),
                    found: e
                        .interface
                        .as_ref()
                        .and_then(|n| n.version.as_ref())
                        .map(ToString::to_string),
                    host: CONTRACT_VERSION.to_string(),
                }
            }
        })
        .collect()
}
