//! The Rust SDK this binary carries (`sdk/rust` of this repository, embedded) and how a
//! plugin gets it.
//!
//! A Rust plugin depends on the SDK by version, `flowtrace-plugin-sdk = "0.1"`, the form it
//! has on crates.io: nothing in its files names a path of its author's machine. `build`
//! hands cargo the copy it carries instead of a download, without the network and without
//! touching the plugin's files:
//!
//! 1. [`supply`] writes the SDK to `<target dir>/flowtrace/sdk/rust/` ([`dir_in`]; in the
//!    target dir shared by plugins, `flowtrace/sdk/rust-<version>-<hash>/`, so that every
//!    plugin builds the same copy, and two cargo-flowtraces carrying different SDKs do not
//!    rewrite each other's), rewriting only the files whose bytes changed (cargo
//!    fingerprints a path dependency by its files' mtimes: rewriting them would rebuild the
//!    SDK and the plugin every time);
//! 2. `cargo build` gets `--config patch.crates-io.flowtrace-plugin-sdk.path="..."`
//!    ([`Supplied::cargo_config`]);
//! 3. [`supply`] also writes the same `[patch]` (and the `build.rustflags` of
//!    [`super::remap::shared`]) to `<plugin>/target/flowtrace/sdk/config.toml`, which the
//!    plugin's `.cargo/config.toml` includes ([`scaffold_files`], written by `new`):
//!    after one `cargo flowtrace build`, a plain `cargo build` and rust-analyzer use the same
//!    copy. Before it, the other file that `.cargo/config.toml` includes,
//!    `.cargo/flowtrace-sdk.toml`, stands in: its `version` is not a version but the message
//!    cargo stops with, which names `cargo flowtrace build` (it fails before cargo resolves
//!    anything, so `Cargo.lock` is left alone).
//!
//! A plugin that requires a version this binary does not carry fails before cargo runs, with
//! both versions and the fix ([`check_requirement`]). A plugin that names the SDK by path or
//! git is built with what it names.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _, Result};
use include_dir::{include_dir, Dir};

use super::package::SDK_PACKAGE;
use super::target::TargetDir;
use crate::build::sources::embedded_hash;
use crate::build::world::write_if_changed;
use crate::error::ResultExt;
use crate::templates::RenderedFile;

/// The Rust SDK, `sdk/rust` of this repository without its `target/` and `Cargo.lock` (see
/// `build.rs`).
static SDK: Dir<'static> = include_dir!("$FLOWTRACE_EMBEDDED/sdk-rust");

/// The version of the SDK this binary carries, from its `Cargo.toml`.
pub const VERSION: &str = env!("FLOWTRACE_RUST_SDK_VERSION");

/// Where the SDK goes, under cargo's target directory.
pub const SDK_DIR: &str = "flowtrace/sdk/rust";

/// The cargo configuration [`supply`] writes for a plain `cargo build`, relative to the
/// plugin's directory; `.cargo/config.toml` includes it.
pub const PATCH_CONFIG: &str = "target/flowtrace/sdk/config.toml";

/// The stand-in `.cargo/config.toml` includes before [`PATCH_CONFIG`] exists.
pub const STAND_IN_CONFIG: &str = ".cargo/flowtrace-sdk.toml";

/// The version this binary carries, parsed.
pub fn version() -> semver::Version {
    semver::Version::parse(VERSION).expect("the embedded SDK has a semver version")
}

/// The requirement a new plugin writes: `0.1` for SDK 0.1.x (caret: any 0.1.x), `1.2` for
/// 1.2.x.
pub fn requirement() -> String {
    let v = version();
    format!("{}.{}", v.major, v.minor)
}

/// The SDK, written for a build.
#[derive(Debug, Clone)]
pub struct Supplied {
    /// Its directory, absolute.
    pub dir: PathBuf,
    /// The flags for rustc written beside the `[patch]` for a plain `cargo build`.
    pub rustflags: Vec<String>,
}

impl Supplied {
    /// The `--config` values that point cargo at it instead of crates.io. The version
    /// replaces the stand-in's message (see the module docs).
    pub fn cargo_config(&self) -> Vec<String> {
        let path = toml::Value::String(self.dir.to_string_lossy().into_owned());
        let version = toml::Value::String(format!("={VERSION}"));
        vec![
            format!("patch.crates-io.{SDK_PACKAGE}.path={path}"),
            format!("patch.crates-io.{SDK_PACKAGE}.version={version}"),
        ]
    }
}

/// Fail unless `requirement` (of the plugin's `Cargo.toml`, at `manifest_path`) accepts the
/// SDK this binary carries.
pub fn check_requirement(requirement: &str, manifest_path: &Path) -> Result<()> {
    let carried = version();
    let req = semver::VersionReq::parse(requirement)
        .with_context(|| {
            format!(
                "invalid version requirement `{requirement}` for `{SDK_PACKAGE}` in `{}`",
                manifest_path.display()
            )
        })
        .with_help(|| format!("write `{SDK_PACKAGE} = \"{}\"`", self::requirement()))?;
    if req.matches(&carried) {
        return Ok(());
    }
    Err(anyhow!(
        "`{}` requires `{SDK_PACKAGE} = \"{requirement}\"`, but this cargo-flowtrace (v{}) \
         carries {SDK_PACKAGE} v{carried}",
        manifest_path.display(),
        env!("CARGO_PKG_VERSION"),
    ))
    .help(mismatch_help(&req, &carried))
}

/// What to do when a plugin requires `req` and this binary carries `carried`.
pub fn mismatch_help(req: &semver::VersionReq, carried: &semver::Version) -> String {
    // A requirement that only older versions meet: the plugin's, not the tool's, to move.
    let older = req.comparators.iter().all(|c| {
        let wanted = semver::Version::new(c.major, c.minor.unwrap_or(0), c.patch.unwrap_or(0));
        wanted < *carried
    });
    if older {
        format!(
            "require `{SDK_PACKAGE} = \"{}\"` in Cargo.toml (the SDK this cargo-flowtrace \
             carries), or build with the older cargo-flowtrace that carries the one required",
            requirement()
        )
    } else {
        format!(
            "upgrade cargo-flowtrace to a version that carries the SDK required: `cargo \
             install --locked cargo-flowtrace`; or require `{SDK_PACKAGE} = \"{}\"`",
            requirement()
        )
    }
}

/// Where [`supply`] writes the SDK for a build in `target`: `flowtrace/sdk/rust` in cargo's
/// target dir; in the shared one, `flowtrace/sdk/rust-<version>-<hash>`, named after what
/// this binary carries.
pub fn dir_in(target: &TargetDir) -> PathBuf {
    match target {
        TargetDir::Shared { dir, .. } => {
            let hash = embedded_hash(b"", &sdk_files());
            dir.join(SDK_DIR)
                .with_file_name(format!("rust-{VERSION}-{}", &hash[..16]))
        }
        TargetDir::Cargo { hint } => hint.join(SDK_DIR),
    }
}

/// Write the SDK to `dir` ([`dir_in`]) and, for a plain `cargo build`, the `[patch]` and
/// the `rustflags` of `cargo flowtrace build` (from `rustflags`, given the SDK's directory) to
/// `<root>/target/flowtrace/sdk/config.toml`; only what changed is rewritten.
pub fn supply(
    root: &Path,
    dir: &Path,
    rustflags: impl FnOnce(&Path) -> Vec<String>,
) -> Result<Supplied> {
    let dir = absolute(dir)?;
    let files = sdk_files();
    sync_dir(&dir, &files)?;
    let rustflags = rustflags(&dir);
    write_if_changed(
        &root.join(PATCH_CONFIG),
        patch_config(&dir, &rustflags).as_bytes(),
    )?;
    Ok(Supplied { dir, rustflags })
}

/// The text of [`PATCH_CONFIG`].
fn patch_config(dir: &Path, rustflags: &[String]) -> String {
    let path = toml::Value::String(dir.to_string_lossy().into_owned());
    let flags = toml::Value::Array(rustflags.iter().cloned().map(toml::Value::String).collect());
    format!(
        "# Written by `cargo flowtrace build`: the Rust SDK this cargo-flowtrace (v{}) carries,\n\
         # for a plain `cargo build` and rust-analyzer (`.cargo/config.toml` includes this file).\n\
         [patch.crates-io.{SDK_PACKAGE}]\n\
         path = {path}\n\
         version = \"={VERSION}\"\n\
         \n\
         # The flags of `cargo flowtrace build`, which keep this machine's paths out of what it\n\
         # builds (cargo adds them to the `build.rustflags` of your own configuration).\n\
         [build]\n\
         rustflags = {flags}\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// `.cargo/config.toml` and [`STAND_IN_CONFIG`], for `new` to write into a Rust plugin that
/// depends on the SDK by version.
pub fn scaffold_files() -> Vec<RenderedFile> {
    let config = format!(
        "# The Rust SDK, `{SDK_PACKAGE}`, comes with cargo-flowtrace: `cargo flowtrace build`\n\
         # hands cargo the copy it carries instead of crates.io's, and writes\n\
         # `{PATCH_CONFIG}`, which points cargo at that copy. Included here, it\n\
         # lets a plain `cargo build` and rust-analyzer use it too. Until the first\n\
         # `cargo flowtrace build`, `flowtrace-sdk.toml` stands in: cargo stops and says so.\n\
         include = [\n    \
             \"flowtrace-sdk.toml\",\n    \
             {{ path = \"../{PATCH_CONFIG}\", optional = true }},\n\
         ]\n"
    );
    let stand_in = format!(
        "# Stands in for `{PATCH_CONFIG}` until `cargo flowtrace build` has written it\n\
         # (see config.toml). The \"version\" below is not one: it is the message cargo stops with.\n\
         [patch.crates-io.{SDK_PACKAGE}]\n\
         path = \"target/{SDK_DIR}\"\n\
         version = \"{STAND_IN_MESSAGE}\"\n"
    );
    vec![
        RenderedFile {
            path: PathBuf::from(".cargo/config.toml"),
            contents: config.into_bytes(),
        },
        RenderedFile {
            path: PathBuf::from(STAND_IN_CONFIG),
            contents: stand_in.into_bytes(),
        },
    ]
}

/// What a plain `cargo build` says before the first `cargo flowtrace build`.
pub const STAND_IN_MESSAGE: &str = "the Rust SDK comes with cargo-flowtrace: run `cargo \
                                    flowtrace build` once, then `cargo build` works too";

/// Every file of the embedded SDK.
fn sdk_files() -> Vec<&'static include_dir::File<'static>> {
    crate::build::sources::embedded_files(&SDK, &|_| true)
}

/// Make `dir` hold exactly `files` (paths relative to it): write each file whose bytes
/// differ (atomically: a cargo reading the directory meanwhile sees the old file or the new
/// one), remove files that are not among them. Unchanged files keep their mtimes.
fn sync_dir(dir: &Path, files: &[&include_dir::File<'_>]) -> Result<()> {
    for file in files {
        write_if_changed(&dir.join(file.path()), file.contents())?;
    }
    let wanted: std::collections::BTreeSet<&Path> = files.iter().map(|f| f.path()).collect();
    remove_others(dir, dir, &wanted)
}

fn remove_others(
    root: &Path,
    dir: &Path,
    wanted: &std::collections::BTreeSet<&Path>,
) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("failed to read `{}`", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("failed to read `{}`", dir.display()))?;
        let path = entry.path();
        let relative = path.strip_prefix(root).unwrap_or(&path);
        // Someone's `cargo build` inside the copy: not ours to remove.
        if relative == Path::new("target") || relative == Path::new("Cargo.lock") {
            continue;
        }
        let file_type = entry
            .file_type()
            .with_context(|| format!("failed to read `{}`", path.display()))?;
        if file_type.is_dir() {
            remove_others(root, &path, wanted)?;
        } else if !wanted.contains(relative) {
            std::fs::remove_file(&path)
                .with_context(|| format!("failed to remove `{}`", path.display()))?;
        }
    }
    Ok(())
}

/// `path` made absolute against the current directory (cargo resolves a relative `--config`
/// path against its own).
fn absolute(path: &Path) -> Result<PathBuf> {
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    let cwd = std::env::current_dir().context("failed to read the current directory")?;
    Ok(cwd.join(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sdk_is_embedded_without_build_output() {
        let files = sdk_files();
        let paths: Vec<&Path> = files.iter().map(|f| f.path()).collect();
        for needed in [
            "Cargo.toml",
            "build.rs",
            "src/lib.rs",
            "wit/types.wit",
            "shim/sdk.wit",
        ] {
            assert!(paths.contains(&Path::new(needed)), "{needed} in {paths:?}");
        }
        assert!(
            !paths
                .iter()
                .any(|p| p.starts_with("target") || *p == Path::new("Cargo.lock")),
            "{paths:?}"
        );
        assert_eq!(
            requirement(),
            format!("{}.{}", version().major, version().minor)
        );
    }

    #[test]
    fn requirements_the_sdk_does_not_meet_name_both_versions() {
        let path = Path::new("Cargo.toml");
        assert!(check_requirement(&requirement(), path).is_ok());
        assert!(check_requirement(&format!("={VERSION}"), path).is_ok());
        let next = version().major + 1;
        let err = check_requirement(&next.to_string(), path).unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains(&format!("\"{next}\"")), "{text}");
        assert!(text.contains(&format!("v{VERSION}")), "{text}");
        assert!(check_requirement("not a version", path).is_err());
    }

    #[test]
    fn the_packaged_crate_links_every_part_of_the_sdk() {
        // A published cargo-flowtrace embeds `embedded/sdk-rust` (see build.rs): it must link
        // everything a checkout build embeds from `sdk/rust`.
        let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let names = |dir: &Path| -> std::collections::BTreeSet<String> {
            std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        };
        let mut sdk = names(&crate_dir.join("../sdk/rust"));
        for built in ["target", "Cargo.lock", ".gitignore"] {
            sdk.remove(built);
        }
        let mut linked = names(&crate_dir.join("embedded/sdk-rust"));
        assert!(linked.remove("Cargo.toml.in"), "{linked:?}");
        linked.insert("Cargo.toml".to_string());
        assert_eq!(linked, sdk);
        for name in [
            "templates",
            "wit",
            "sdk-python",
            "sdk-typescript",
            "sdk-rust/src",
        ] {
            assert!(crate_dir.join("embedded").join(name).is_dir(), "{name}");
        }
    }

    #[test]
    fn a_sync_rewrites_only_what_changed() {
        let dir = tempfile::tempdir().unwrap();
        let sdk = dir.path().join("sdk");
        let files = sdk_files();
        sync_dir(&sdk, &files).unwrap();
        let lib = sdk.join("src/lib.rs");
        let mtime = |p: &Path| std::fs::metadata(p).unwrap().modified().unwrap();
        let before = mtime(&lib);
        std::fs::write(sdk.join("src/stale.rs"), "").unwrap();
        std::fs::write(sdk.join("build.rs"), "edited").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        sync_dir(&sdk, &files).unwrap();
        assert_eq!(mtime(&lib), before, "an unchanged file keeps its mtime");
        assert!(!sdk.join("src/stale.rs").exists());
        assert_eq!(
            std::fs::read(sdk.join("build.rs")).unwrap(),
            SDK.get_file("build.rs").unwrap().contents()
        );
    }
}
