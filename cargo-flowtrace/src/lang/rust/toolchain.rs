//! rustup, rustc and the `wasm32-wasip2` target.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, Result};
use semver::Version;

use flowtrace_plugins::manifest::Language;

use crate::error::ResultExt;
use crate::term::Term;
use crate::toolchain::process::{first_line, parse_version, run_logged};
use crate::toolchain::{check, Check};

/// The target Rust plugins build for: it emits a component directly.
pub const WASM_TARGET: &str = "wasm32-wasip2";

/// The oldest Rust that builds cargo-flowtrace and the Rust SDK: the workspace's
/// `rust-version` (the one truth: `doctor`, the README, the SDK's `Cargo.toml` and the
/// templates' workflows say the same, which a test checks).
pub const MIN_RUST_VERSION: &str = env!("CARGO_PKG_RUST_VERSION");

/// [`MIN_RUST_VERSION`] as a version (`1.95` is `1.95.0`).
pub fn min_rustc() -> Version {
    parse_version(MIN_RUST_VERSION).expect("the workspace's `rust-version` is a version")
}

/// The command that installs the target.
pub const ADD_TARGET: &str = "rustup target add wasm32-wasip2";

/// `$RUSTC`, as cargo uses it, else `rustc`.
fn rustc() -> OsString {
    std::env::var_os("RUSTC")
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "rustc".into())
}

/// Whether rustup runs.
pub fn has_rustup() -> bool {
    first_line("rustup", &["--version"]).is_some()
}

/// `rustup`: installs targets; optional when the target came another way.
pub fn check_rustup() -> Check {
    let found = first_line("rustup", &["--version"])
        .and_then(|l| parse_version(&l))
        .map(|v| v.to_string());
    check("rustup", Language::Rust, "any")
        .found(found, true)
        .fix("install rustup from https://rustup.rs", false)
}

/// `rustc`, at [`MIN_RUST_VERSION`] or newer.
pub fn check_rustc() -> Check {
    let version = first_line(rustc(), &["--version"]).and_then(|l| parse_version(&l));
    let ok = version.as_ref().is_some_and(|v| *v >= min_rustc());
    let fix = if version.is_some() {
        "rustup update stable"
    } else {
        "install Rust with rustup from https://rustup.rs"
    };
    check(
        "rustc",
        Language::Rust,
        format!("{MIN_RUST_VERSION} or newer"),
    )
    .found(version.map(|v| v.to_string()), ok)
    .fix(fix, false)
}

/// The `wasm32-wasip2` target of the active toolchain.
pub fn check_target() -> Check {
    let installed = target_installed(None).unwrap_or(false);
    let fixable = has_rustup();
    check(WASM_TARGET, Language::Rust, "installed")
        .found(installed.then(|| "installed".to_string()), true)
        .fix(ADD_TARGET, fixable)
}

/// The sysroot of the toolchain active in `dir` (rustup reads `rust-toolchain.toml` there).
fn sysroot(dir: Option<&Path>) -> Result<PathBuf> {
    let mut command = Command::new(rustc());
    command.args(["--print", "sysroot"]);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let output = command
        .output()
        .map_err(|e| anyhow!("failed to run `rustc --print sysroot`: {e}"))
        .help("install Rust with rustup from https://rustup.rs")?;
    if !output.status.success() {
        return Err(anyhow!(
            "`rustc --print sysroot` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(PathBuf::from(
        String::from_utf8_lossy(&output.stdout).trim().to_string(),
    ))
}

/// Whether the toolchain active in `dir` (default: the current directory) has the target's
/// standard library.
pub fn target_installed(dir: Option<&Path>) -> Result<bool> {
    Ok(has_target(&sysroot(dir)?))
}

/// Whether the toolchain at `sysroot` has the target's standard library.
fn has_target(sysroot: &Path) -> bool {
    sysroot
        .join("lib/rustlib")
        .join(WASM_TARGET)
        .join("lib")
        .is_dir()
}

/// `rustup target add wasm32-wasip2`, run in `dir` (for its `rust-toolchain.toml`), with a
/// status line.
pub fn add_target(term: &Term, dir: Option<&Path>) -> Result<()> {
    let mut command = Command::new("rustup");
    command.args(["target", "add", WASM_TARGET]);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    run_logged(
        term,
        "Installing",
        &format!("the `{WASM_TARGET}` target (`{ADD_TARGET}`)"),
        command,
    )
    .help(format!("run `{ADD_TARGET}` yourself to see why it fails"))?;
    if !target_installed(dir)? {
        return Err(anyhow!(
            "`{ADD_TARGET}` succeeded, but the active toolchain still has no `{WASM_TARGET}` target"
        ))
        .help("check which toolchain is active with `rustup show`");
    }
    term.status("Installed", format_args!("the `{WASM_TARGET}` target"));
    Ok(())
}

/// Make sure the active toolchain can build for `wasm32-wasip2`: install the target through
/// rustup (with a status line) if it is missing, or fail with the command to run when
/// rustup is not available.
pub fn ensure_rust_target(term: &Term) -> Result<()> {
    ensure_inner(term, None)
}

/// [`ensure_rust_target`] for the toolchain active in `dir` (a plugin with a
/// `rust-toolchain.toml` may pin its own).
pub fn ensure_rust_target_in(term: &Term, dir: &Path) -> Result<()> {
    ensure_inner(term, Some(dir))
}

fn ensure_inner(term: &Term, dir: Option<&Path>) -> Result<()> {
    let sysroot = sysroot(dir)?;
    if has_target(&sysroot) {
        return Ok(());
    }
    if !has_rustup() {
        let rustlib = sysroot.join("lib/rustlib");
        return Err(anyhow!(
            "the Rust toolchain at `{}` has no `{WASM_TARGET}` target, and rustup is not there \
             to install it",
            sysroot.display()
        ))
        .help(format!(
            "install rustup from https://rustup.rs, then run `{ADD_TARGET}`; for a toolchain \
             rustup does not manage, install its `{WASM_TARGET}` standard library (the \
             `rust-std` component for `{WASM_TARGET}`) into `{}`",
            rustlib.display()
        ));
    }
    add_target(term, dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One truth for the Rust version: the workspace's `rust-version` is what `doctor`
    /// accepts, what the README and the templates' workflows say, and what the SDK requires.
    #[test]
    fn the_minimum_rust_is_said_the_same_everywhere() {
        assert_eq!(min_rustc().to_string(), format!("{MIN_RUST_VERSION}.0"));
        assert!(min_rustc() >= Version::new(1, 95, 0), "{}", min_rustc());
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
        assert!(
            readme.contains(&format!("Needs Rust {MIN_RUST_VERSION} with rustup")),
            "README.md does not say Rust {MIN_RUST_VERSION}"
        );
        let sdk = std::fs::read_to_string(root.join("sdk/rust/Cargo.toml")).unwrap();
        assert!(
            sdk.contains(&format!("rust-version = \"{MIN_RUST_VERSION}\"")),
            "sdk/rust/Cargo.toml requires another Rust than {MIN_RUST_VERSION}"
        );
        for template in crate::templates::all().unwrap() {
            let files = template.render(&crate::templates::tests::vars()).unwrap();
            let workflow = files
                .iter()
                .find(|f| f.path.ends_with(".github/workflows/flowtrace.yml"))
                .unwrap_or_else(|| panic!("{} has no workflow", template.name));
            let text = String::from_utf8_lossy(&workflow.contents);
            assert!(
                text.contains(&format!("Rust {MIN_RUST_VERSION} or newer"))
                    || text.contains(&format!("({MIN_RUST_VERSION} or newer)")),
                "{}'s workflow names another Rust than {MIN_RUST_VERSION}",
                template.name
            );
        }
        // What `doctor` prints as expected.
        assert_eq!(
            check_rustc().expected,
            format!("{MIN_RUST_VERSION} or newer")
        );
    }
}
