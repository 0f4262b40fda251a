//! Keeping the paths of the author's machine out of a Rust plugin's component, with rustc's
//! `--remap-path-prefix`.
//!
//! Without it a component names absolute paths in panic locations (the SDK copy's
//! `.../flowtrace/sdk/rust-<version>-<hash>/src/trace.rs`, a dependency's
//! `~/.cargo/registry/src/...`) and, in a dev build, in its debug info (each compilation
//! unit's directory: the plugin's own). The standard library's paths are already
//! `/rustc/<commit>/...`. Cargo's own answer, `trim-paths` in a profile, is unstable in
//! cargo 1.95, so the flags are passed to rustc in two parts:
//!
//! * [`shared`]: the same for every plugin built in one target dir, so cargo's
//!   fingerprints of the dependencies do not depend on the plugin and the target dir shared
//!   by plugins keeps sharing them: `$CARGO_HOME` becomes `cargo-home`, the target dir
//!   `target`, the SDK copy `flowtrace-plugin-sdk-<version>`. They go in `build.rustflags`
//!   (after the user's, which cargo merges from every configuration file), and are written
//!   beside the SDK's `[patch]` in `target/flowtrace/sdk/config.toml` too, so that a plain
//!   `cargo build` builds with the same flags and finds everything fresh;
//! * [`plugin`]: the plugin's directory becomes `.`: in the target dir shared by plugins,
//!   passed with `cargo rustc -- <flags>`, which gives them to the plugin's crate alone.
//!   The plugin's own files are compiled by a path relative to its directory already
//!   (`src/lib.rs`, as panics say); this flag is for the directory itself, which a dev build
//!   records as the compilation directory. (In a target dir of the user's, which a plain
//!   `cargo build` shares, it is not passed: the plugin's crate would then be compiled
//!   again by each of the two. Only a dev build's debug info names the directory there.)
//!
//! When `CARGO_ENCODED_RUSTFLAGS` or `RUSTFLAGS` is set, cargo ignores `build.rustflags`:
//! the flags are then appended to the variable's ([`user_env_flags`]).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::package::SDK_PACKAGE;
use super::sdk::{PATCH_CONFIG, VERSION};

/// The flags that keep the paths every plugin built in `target_dir` shares out of its
/// component: `$CARGO_HOME`, `target_dir` and the SDK copy `sdk` (when the SDK is the one
/// this binary supplies).
pub fn shared(target_dir: &Path, sdk: Option<&Path>) -> Vec<String> {
    let mut rules = Vec::new();
    if let Some(cargo_home) = cargo_home() {
        rules.push((cargo_home, "cargo-home".to_string()));
    }
    rules.push((absolute(target_dir), "target".to_string()));
    if let Some(sdk) = sdk {
        rules.push((absolute(sdk), format!("{SDK_PACKAGE}-{VERSION}")));
    }
    flags(rules)
}

/// The flags that make the plugin's directory `root` `.` in its crate.
pub fn plugin(root: &Path) -> Vec<String> {
    flags(vec![(absolute(root), ".".to_string())])
}

/// `--remap-path-prefix=FROM=TO` for each rule and the canonical form of its path (rustc
/// sees the working directory resolved), ordered so that a rule whose path is inside
/// another's comes later: rustc applies the last rule that matches.
fn flags(rules: Vec<(PathBuf, String)>) -> Vec<String> {
    let mut all: Vec<(PathBuf, String)> = Vec::new();
    for (from, to) in rules {
        if let Ok(canonical) = from.canonicalize() {
            if canonical != from {
                all.push((canonical, to.clone()));
            }
        }
        all.push((from, to));
    }
    all.sort_by_key(|(from, _)| from.components().count());
    all.dedup();
    all.into_iter()
        .map(|(from, to)| format!("--remap-path-prefix={}={to}", from.display()))
        .collect()
}

/// `$CARGO_HOME`, else `~/.cargo`, as cargo finds it.
fn cargo_home() -> Option<PathBuf> {
    match std::env::var_os("CARGO_HOME").filter(|v| !v.is_empty()) {
        Some(home) => Some(absolute(Path::new(&home))),
        None => std::env::home_dir().map(|home| home.join(".cargo")),
    }
}

/// `CARGO_ENCODED_RUSTFLAGS` with `ours` appended to the user's flags, when the user sets
/// `CARGO_ENCODED_RUSTFLAGS` or `RUSTFLAGS` (which both make cargo ignore `build.rustflags`);
/// `None` when neither is set.
pub fn user_env_flags(ours: &[String]) -> Option<OsString> {
    let encoded = std::env::var_os("CARGO_ENCODED_RUSTFLAGS");
    let plain = std::env::var_os("RUSTFLAGS");
    with_user_flags(encoded.as_deref(), plain.as_deref(), ours)
}

fn with_user_flags(
    encoded: Option<&std::ffi::OsStr>,
    plain: Option<&std::ffi::OsStr>,
    ours: &[String],
) -> Option<OsString> {
    // Cargo's order: `CARGO_ENCODED_RUSTFLAGS` (split on 0x1f; empty: no flags), then
    // `RUSTFLAGS` (split on spaces).
    // Cargo reads both as UTF-8.
    let mut flags: Vec<String> = match (encoded, plain) {
        (Some(encoded), _) if encoded.is_empty() => Vec::new(),
        (Some(encoded), _) => encoded
            .to_string_lossy()
            .split('\u{1f}')
            .map(String::from)
            .collect(),
        (None, Some(plain)) => plain
            .to_string_lossy()
            .split(' ')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(String::from)
            .collect(),
        (None, None) => return None,
    };
    flags.extend(ours.iter().cloned());
    Some(flags.join("\u{1f}").into())
}

/// `--config build.rustflags=[...]` for `flags`.
pub fn config(flags: &[String]) -> String {
    let list = toml::Value::Array(flags.iter().cloned().map(toml::Value::String).collect());
    format!("build.rustflags={list}")
}

/// Whether cargo, run from the current directory, reads the plugin's `.cargo/config.toml`
/// at `root` and through it [`PATCH_CONFIG`] (with the flags already): then passing them
/// again would list them twice, and a plain `cargo build` would see other flags.
pub fn read_from_patch_config(root: &Path) -> bool {
    let inside = match (
        std::env::current_dir().and_then(|d| d.canonicalize()),
        root.canonicalize(),
    ) {
        (Ok(cwd), Ok(root)) => cwd.starts_with(root),
        _ => false,
    };
    if !inside {
        return false;
    }
    let Ok(text) = std::fs::read_to_string(root.join(".cargo/config.toml")) else {
        return false;
    };
    let Ok(table) = text.parse::<toml::Table>() else {
        return false;
    };
    let wanted = Path::new("..").join(PATCH_CONFIG);
    let path_of = |v: &toml::Value| match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Table(t) => t.get("path").and_then(|p| p.as_str()).map(String::from),
        _ => None,
    };
    let included: Vec<String> = match table.get("include") {
        Some(toml::Value::Array(items)) => items.iter().filter_map(path_of).collect(),
        Some(other) => path_of(other).into_iter().collect(),
        None => Vec::new(),
    };
    root.join(PATCH_CONFIG).is_file() && included.iter().any(|p| Path::new(p) == wanted)
}

/// `path` made absolute against the current directory.
/// `path` made absolute (against the current directory), or as it is when that fails.
pub(super) fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn a_rule_inside_another_comes_after_it() {
        let flags = flags(vec![
            (
                "/h/.f/cargo-target/flowtrace/sdk/rust-1".into(),
                "sdk".into(),
            ),
            ("/h/.f/cargo-target".into(), "target".into()),
            ("/h/.cargo".into(), "cargo-home".into()),
        ]);
        assert_eq!(
            flags,
            [
                "--remap-path-prefix=/h/.cargo=cargo-home",
                "--remap-path-prefix=/h/.f/cargo-target=target",
                "--remap-path-prefix=/h/.f/cargo-target/flowtrace/sdk/rust-1=sdk",
            ]
        );
    }

    #[test]
    fn the_flags_are_appended_to_the_user_s_variables() {
        let ours = ["--remap-path-prefix=/a=b".to_string()];
        assert_eq!(with_user_flags(None, None, &ours), None);
        assert_eq!(
            with_user_flags(None, Some(OsStr::new(" -C  debuginfo=1 ")), &ours).unwrap(),
            "-C\u{1f}debuginfo=1\u{1f}--remap-path-prefix=/a=b"
        );
        // `CARGO_ENCODED_RUSTFLAGS` wins, as in cargo; a flag in it may hold a space.
        assert_eq!(
            with_user_flags(
                Some(OsStr::new("--cfg\u{1f}a b")),
                Some(OsStr::new("-Cignored")),
                &ours
            )
            .unwrap(),
            "--cfg\u{1f}a b\u{1f}--remap-path-prefix=/a=b"
        );
        assert_eq!(
            with_user_flags(Some(OsStr::new("")), None, &ours).unwrap(),
            "--remap-path-prefix=/a=b"
        );
        assert_eq!(
            config(&ours),
            "build.rustflags=[\"--remap-path-prefix=/a=b\"]"
        );
    }
}
