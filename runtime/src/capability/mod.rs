//! The capability check: classify every import of a component against the capabilities its
//! manifest declares, and check it exports its kind's interface.
//!
//! Verdicts come from the component's real imports (see [`crate::inspect`]), never from the
//! manifest embedded in it. The classification follows DESIGN.md's import table:
//!
//! | import | verdict |
//! |---|---|
//! | `flowtrace:plugin/{types,log,config}` | [`Verdict::Ok`] |
//! | `flowtrace:plugin/{kv,traces,embeddings}` | ok if declared, else [`Verdict::Undeclared`] |
//! | `wasi:{io,clocks,random}`, `wasi:cli/{stdin,stdout,...}` | [`Verdict::Baseline`] |
//! | `wasi:http/outgoing-handler`, `wasi:filesystem`, ... | ok if declared, else sandboxed |
//! | `wasi:sockets`, the rest of `wasi:http` | [`Verdict::Sandboxed`]: network is HTTP only |
//! | anything else | [`Verdict::Unknown`] |
//!
//! `wasi:http/{outgoing-handler,types}` need `network`, `wasi:filesystem` needs `fs-read` and
//! `wasi:cli/environment` needs `env`; the `flowtrace:plugin` side of the mapping is the one
//! table [`HOST_INTERFACES`], which the linker reads too ([`granted_interfaces`]).

mod classify;
mod report;
mod table;
mod toolchain;

use semver::Version;

pub use classify::{check_exports, check_imports, classify_import};
pub use report::{CapabilityError, CapabilityReport, ExportProblem, ImportVerdict, Verdict};
pub use table::{
    capability_for_interface, granted_interfaces, Capability, Grant, HostInterface, HOST_INTERFACES,
};
pub use toolchain::Toolchain;

use crate::inspect::Inspection;
use crate::manifest::Manifest;

/// Namespace and package of the plugin contract.
pub const CONTRACT_PACKAGE: &str = "flowtrace:plugin";

/// The version of the `flowtrace:plugin` contract this host implements (`wit/`).
pub const CONTRACT_VERSION: Version = Version::new(0, 1, 0);

/// The WASI 0.2 release wasmtime-wasi 48 provides. Its linker links every `0.2.x` import to
/// it (semver-compatible matching), older or newer.
pub const WASI_VERSION: Version = Version::new(0, 2, 12);

/// Check a component's imports and exports against its manifest: the capabilities it
/// declares, its kind, and its build language (to name the toolchain behind an import).
pub fn check(inspection: &Inspection, manifest: &Manifest) -> CapabilityReport {
    CapabilityReport {
        verdicts: check_imports(
            &inspection.imports,
            &manifest.capabilities,
            Some(Toolchain::for_language(manifest.build.language)),
        ),
        export_problems: check_exports(&inspection.exports, manifest.plugin.kind),
    }
}

/// Whether a component built against `found` runs on a host that implements `host`: the
/// same major version (the same minor while the major is 0, the same patch while both are
/// 0), no pre-release unless it is the very same version, and not newer than the host.
pub fn is_compatible(found: &Version, host: &Version) -> bool {
    same_track(found, host)
        && (found.major, found.minor, found.patch) <= (host.major, host.minor, host.patch)
}

/// wasmtime's rule for linking an import to a definition of another version
/// (`wasmtime_environ::component::names::alternate_lookup_key`): same major, or same minor
/// when the major is 0, or same patch when both are 0; pre-releases only match themselves.
/// Build metadata never matters.
pub(crate) fn same_track(a: &Version, b: &Version) -> bool {
    if !a.pre.is_empty() || !b.pre.is_empty() {
        return (a.major, a.minor, a.patch, &a.pre) == (b.major, b.minor, b.patch, &b.pre);
    }
    match (a.major, a.minor) {
        (0, 0) => b.major == 0 && b.minor == 0 && a.patch == b.patch,
        (0, minor) => b.major == 0 && b.minor == minor,
        (major, _) => b.major == major,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn compatibility_follows_semver_and_refuses_newer() {
        let host = v("0.1.0");
        assert!(is_compatible(&v("0.1.0"), &host));
        assert!(is_compatible(&v("0.1.0+build.7"), &host));
        assert!(!is_compatible(&v("0.1.1"), &host), "newer than the host");
        assert!(!is_compatible(&v("0.2.0"), &host));
        assert!(!is_compatible(&v("1.0.0"), &host));
        assert!(!is_compatible(&v("0.1.0-rc.1"), &host));
        assert!(is_compatible(&v("0.1.2"), &v("0.1.5")));
        assert!(is_compatible(&v("1.2.0"), &v("1.4.1")));
        assert!(!is_compatible(&v("1.5.0"), &v("1.4.1")));
        assert!(!is_compatible(&v("2.0.0"), &v("1.4.1")));
        assert!(!is_compatible(&v("0.0.1"), &v("0.0.2")));
        assert!(is_compatible(&v("0.0.2"), &v("0.0.2")));
        assert!(is_compatible(&v("1.0.0-alpha"), &v("1.0.0-alpha")));
    }

    #[test]
    fn wasi_track_is_the_whole_minor_series() {
        for found in ["0.2.0", "0.2.6", "0.2.12", "0.2.13"] {
            assert!(same_track(&v(found), &WASI_VERSION), "{found}");
        }
        for found in ["0.3.0", "0.1.0", "1.0.0", "0.2.0-rc-2023-11-10"] {
            assert!(!same_track(&v(found), &WASI_VERSION), "{found}");
        }
    }
}
