//! Gather what the binary embeds (the templates, the contract, the three SDKs) into
//! `$OUT_DIR/embedded/`, for `include_dir!` and `include_str!`, and rebuild when it changes.
//!
//! Each comes from the repository (`../templates`, `../wit`, `../sdk/...`) when this crate
//! is built in a checkout, else from `embedded/` in this crate: there the repository's
//! directories are symlinks, which `cargo package` follows, so a packaged crate (which
//! cannot reach outside its directory) carries copies. `cargo package` leaves out any
//! directory holding a `Cargo.toml` (another package), so the Rust SDK's is linked as
//! `embedded/sdk-rust/Cargo.toml.in` and copied back to its name here. Build output,
//! installed packages, caches and lock files are left out (`SKIPPED`).
//!
//! `FLOWTRACE_TEMPLATES_DIR` overrides where the templates come from (to try templates in
//! development); when there are none, an empty directory is embedded and `cargo flowtrace
//! new` says there are no templates.

use std::path::{Path, PathBuf};

/// What is embedded: the name under `$OUT_DIR/embedded/` (and under `embedded/` in this
/// crate), where it is in a checkout, relative to this crate, and what at its top is not
/// embedded (beside [`SKIPPED`]; `embedded/<name>` does not link it either).
const EMBEDDED: [(&str, &str, &[&str]); 5] = [
    ("templates", "../templates", &[]),
    ("wit", "../wit", &[]),
    ("sdk-python", "../sdk/python/flowtrace_plugin", &[]),
    ("sdk-typescript", "../sdk/typescript", &[]),
    ("sdk-rust", "../sdk/rust", &[".gitignore"]),
];

/// Never embedded, at any depth: build output, installed packages, caches, lock files.
const SKIPPED: [&str; 6] = [
    "target",
    "node_modules",
    "__pycache__",
    "Cargo.lock",
    ".git",
    ".DS_Store",
];

/// The name a `Cargo.toml` has under `embedded/` (see above).
const PACKAGED_MANIFEST: &str = "Cargo.toml.in";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=FLOWTRACE_TEMPLATES_DIR");
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo")).join("embedded");
    if out.exists() {
        std::fs::remove_dir_all(&out).expect("remove the previous embedded files");
    }
    for (name, checkout, top_skipped) in EMBEDDED {
        let source = match std::env::var_os("FLOWTRACE_TEMPLATES_DIR") {
            Some(dir) if name == "templates" => PathBuf::from(dir),
            _ => [
                manifest_dir.join(checkout),
                manifest_dir.join("embedded").join(name),
            ]
            .into_iter()
            .find(|dir| dir.is_dir())
            .unwrap_or_else(|| manifest_dir.join(checkout)),
        };
        let dest = out.join(name);
        std::fs::create_dir_all(&dest).expect("create the embedded directory");
        if source.is_dir() {
            copy_tree(&source, &dest, top_skipped);
        } else if name == "templates" {
            println!(
                "cargo:warning=no templates at `{}`: embedding none",
                source.display()
            );
            // A path that does not exist makes cargo rerun this script on every build, so
            // the templates are picked up as soon as they appear.
            println!("cargo:rerun-if-changed={}", source.display());
        } else {
            panic!(
                "`{}` is missing: build cargo-flowtrace from a checkout of its repository or \
                 from its published package",
                source.display()
            );
        }
    }
    // The versions of the SDKs this binary carries, for `env!`.
    let versions = [
        ("RUST", package_version(&out.join("sdk-rust/Cargo.toml"))),
        (
            "PYTHON",
            python_version(&out.join("sdk-python/__init__.py")),
        ),
        (
            "TYPESCRIPT",
            npm_version(&out.join("sdk-typescript/package.json")),
        ),
    ];
    for (language, version) in versions {
        let version = version.unwrap_or_else(|| panic!("no version in the {language} SDK"));
        println!("cargo:rustc-env=FLOWTRACE_{language}_SDK_VERSION={version}");
    }
    println!("cargo:rustc-env=FLOWTRACE_EMBEDDED={}", out.display());
}

/// Copy `from` into `to`, less [`SKIPPED`]; tell cargo to rerun when any of it changes.
///
/// A directory without skipped entries is watched whole (cargo scans it, so files added
/// later count); one with skipped entries is watched file by file, so that cargo never
/// scans a `target/` or `node_modules/`.
fn copy_tree(from: &Path, to: &Path, also_skipped: &[&str]) {
    let mut entries: Vec<_> = std::fs::read_dir(from)
        .unwrap_or_else(|e| panic!("failed to read `{}`: {e}", from.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    entries.sort();
    let skipped = |path: &Path| {
        path.file_name().is_some_and(|n| {
            SKIPPED.iter().any(|s| n == *s) || also_skipped.iter().any(|s| n == *s)
        })
    };
    let watch_whole = !entries.iter().any(|p| skipped(p) || has_skipped(p));
    if watch_whole {
        println!("cargo:rerun-if-changed={}", from.display());
    }
    for path in entries {
        if skipped(&path) {
            continue;
        }
        let name = path.file_name().expect("an entry has a name");
        let dest = if name == PACKAGED_MANIFEST {
            to.join("Cargo.toml")
        } else {
            to.join(name)
        };
        if path.is_dir() {
            std::fs::create_dir_all(&dest).expect("create an embedded directory");
            copy_tree(&path, &dest, &[]);
        } else {
            if !watch_whole {
                println!("cargo:rerun-if-changed={}", path.display());
            }
            std::fs::copy(&path, &dest)
                .unwrap_or_else(|e| panic!("failed to copy `{}`: {e}", path.display()));
        }
    }
}

/// Whether a skipped entry is anywhere under `path` (a directory).
fn has_skipped(path: &Path) -> bool {
    if !path.is_dir() {
        return false;
    }
    std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .flatten()
        .any(|entry| {
            let p = entry.path();
            p.file_name()
                .is_some_and(|n| SKIPPED.iter().any(|s| n == *s))
                || has_skipped(&p)
        })
}

/// `version` of `[package]` in the Cargo.toml at `path`.
fn package_version(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut in_package = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package {
            if let Some(value) = line.strip_prefix("version") {
                let value = value.trim_start().strip_prefix('=')?.trim();
                return Some(value.trim_matches('"').to_string());
            }
        }
    }
    None
}

/// `__version__ = "..."` in the Python file at `path`.
fn python_version(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with("__version__"))?;
    let value = line.split_once('=')?.1.trim();
    Some(value.trim_matches('"').to_string())
}

/// `"version": "..."` at the top of the `package.json` at `path`.
fn npm_version(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with("  \"version\""))?;
    let value = line.split_once(':')?.1.trim().trim_end_matches(',');
    Some(value.trim_matches('"').to_string())
}
