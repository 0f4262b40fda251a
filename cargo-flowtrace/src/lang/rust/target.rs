//! Where cargo builds a Rust plugin: one cargo target directory shared by every plugin of
//! this user, unless the user chose one.
//!
//! A new plugin's first build used to compile the SDK's dependencies (wit-bindgen, and
//! wit-parser and wit-component for the SDK's build script) into the plugin's own
//! `target/`: 40-60 s, again for every plugin. Now cargo builds every plugin that keeps
//! cargo's default target dir into `$FLOWTRACE_HOME/cargo-target` ([`shared_dir`]), passed
//! as `--target-dir`, so those crates compile once per toolchain, SDK and profile and every
//! plugin reuses them. Cargo keeps apart what must stay apart: each unit's file names carry
//! a hash of the rustc version, the profile, the features, the target, the package's source
//! (two plugins named alike in different directories are different packages) and
//! `RUSTFLAGS`, so those differences sit side by side in the shared directory instead of
//! replacing each other; and cargo's own lock on the directory makes concurrent builds wait
//! for each other.
//!
//! What cargo does not keep apart is the copy of a cdylib under its plain name,
//! `<dir>/wasm32-wasip2/<profile>/<lib name>.wasm`, the file it reports: two plugins whose
//! library has the same name would overwrite each other's. So a build holds a lock of its own
//! on that name ([`lock_artefact`]) from before cargo runs until the component has been read,
//! and the plugin's build output (the component, with its manifest; the compiled cache; the
//! packages) goes to the plugin's own `target/flowtrace/`, as before.
//!
//! The user's own choice always wins, and keeps everything in cargo's target dir, as
//! before: `CARGO_TARGET_DIR` (or `CARGO_BUILD_TARGET_DIR`), `build.target-dir` in a cargo
//! configuration file, or a workspace the plugin is a member of. Setting
//! `CARGO_TARGET_DIR=target` is the way to opt out (the shared directory is cleaned by
//! removing it, not by `cargo clean` in the plugin).

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::term::Term;

/// The shared target directory, under `$FLOWTRACE_HOME`.
pub const SHARED_DIR: &str = "cargo-target";

/// The variables that set cargo's target dir; either one keeps the build out of the shared
/// directory.
pub const TARGET_DIR_VARS: [&str; 2] = ["CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR"];

/// The cargo target dir shared by the Rust plugins of the Flowtrace home `home`.
pub fn shared_dir(home: &Path) -> PathBuf {
    home.join(SHARED_DIR)
}

/// Where cargo builds a plugin, and where its build output goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetDir {
    /// The shared directory ([`shared_dir`]): cargo gets `--target-dir`, the plugin's
    /// build output goes to `<plugin>/target`.
    Shared {
        /// The shared directory, absolute.
        dir: PathBuf,
        /// `<plugin>/target`.
        output: PathBuf,
    },
    /// Cargo's own choice (the user's setting, or the plugin's workspace): the build output
    /// goes there too, to `flowtrace/` in it.
    Cargo {
        /// Where it most likely is (cargo's messages give the real one).
        hint: PathBuf,
    },
}

impl TargetDir {
    /// The target dir cargo writes to (for [`TargetDir::Cargo`], the likely one).
    pub fn cargo_dir(&self) -> &Path {
        match self {
            TargetDir::Shared { dir, .. } => dir,
            TargetDir::Cargo { hint } => hint,
        }
    }

    /// The target dir the plugin's build output goes to, under `flowtrace/` (for
    /// [`TargetDir::Cargo`], the likely one).
    pub fn output_dir(&self) -> &Path {
        match self {
            TargetDir::Shared { output, .. } => output,
            TargetDir::Cargo { hint } => hint,
        }
    }

    /// `--target-dir` for cargo, when it is not cargo's own choice.
    pub fn cargo_arg(&self) -> Option<&Path> {
        match self {
            TargetDir::Shared { dir, .. } => Some(dir),
            TargetDir::Cargo { .. } => None,
        }
    }
}

/// Where cargo builds the package at `root` (its `Cargo.toml`'s directory, absolute), with
/// `cargo`, for the Flowtrace home `home` (`None` when there is none: then cargo chooses).
///
/// The shared directory, unless a variable of [`TARGET_DIR_VARS`] is set, or `cargo
/// metadata` (run from the current directory, as the build is, so that it reads the same
/// configuration files) says the target dir is not `<root>/target`: `build.target-dir` in a
/// configuration file, or a workspace whose root is elsewhere.
pub fn locate(root: &Path, cargo: &Path, home: Option<&Path>) -> TargetDir {
    if let Some(dir) = target_dir_var() {
        return TargetDir::Cargo { hint: dir };
    }
    let default = root.join("target");
    let Some(home) = home else {
        return TargetDir::Cargo { hint: default };
    };
    let metadata = cargo_metadata::MetadataCommand::new()
        .cargo_path(cargo)
        .manifest_path(root.join("Cargo.toml"))
        .no_deps()
        .exec();
    let metadata = match metadata {
        Ok(metadata) => metadata,
        // The build runs cargo next, which says what is wrong.
        Err(e) => {
            tracing::debug!(error = %e, "cargo metadata failed; cargo chooses the target dir");
            return TargetDir::Cargo { hint: default };
        }
    };
    let target = metadata.target_directory.into_std_path_buf();
    let workspace = metadata.workspace_root.into_std_path_buf();
    let same = |a: &Path, b: &Path| {
        a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
    };
    if same(&workspace, root) && target == workspace.join("target") {
        TargetDir::Shared {
            dir: absolute(&shared_dir(home)),
            output: default,
        }
    } else {
        TargetDir::Cargo { hint: target }
    }
}

/// The target dir a variable of [`TARGET_DIR_VARS`] sets, when one does.
pub fn target_dir_var() -> Option<PathBuf> {
    TARGET_DIR_VARS
        .into_iter()
        .find_map(|var| std::env::var_os(var).filter(|v| !v.is_empty()))
        .map(PathBuf::from)
}

/// Hold a lock on the library name `lib_name` in the shared directory `dir` (`<dir>/flowtrace/
/// locks/<lib_name>/.lock`) until the file is dropped: two plugins whose library has the same
/// name then take turns to build and read `<lib_name>.wasm`, which cargo writes for both.
pub fn lock_artefact(term: &Term, dir: &Path, lib_name: &str) -> Result<std::fs::File> {
    crate::toolchain::lock_dir(term, &dir.join("flowtrace/locks").join(lib_name))
}

/// `path` made absolute against the current directory.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_output_of_a_shared_build_goes_to_the_plugin() {
        let shared = TargetDir::Shared {
            dir: PathBuf::from("/home/me/.flowtrace/cargo-target"),
            output: PathBuf::from("/src/plugin/target"),
        };
        assert_eq!(shared.cargo_arg(), Some(shared.cargo_dir()));
        assert_eq!(shared.output_dir(), Path::new("/src/plugin/target"));
        let own = TargetDir::Cargo {
            hint: PathBuf::from("/src/workspace/target"),
        };
        assert_eq!(own.cargo_arg(), None);
        assert_eq!(own.output_dir(), own.cargo_dir());
    }
}
