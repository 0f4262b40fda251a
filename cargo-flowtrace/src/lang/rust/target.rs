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
//! What cargo does not keep apart is a plugin's own library when another plugin's has the
//! same name. A cdylib for wasm has no hash in its file names
//! (`<dir>/wasm32-wasip2/<profile>/deps/<lib name>.wasm`, and the copy cargo reports, one
//! level up), and cargo identifies a package that is its own workspace by its name, version
//! and path *inside* the workspace: two copies of one plugin in two directories are the same
//! unit to cargo, which would find the second fresh and hand it the first one's component.
//! So a build holds a lock of its own on the library's name ([`lock_artefact`]) from before
//! cargo runs until the component has been read, and the lock's directory records which
//! plugin built that name last: when it was another one, `cargo clean -p` makes cargo forget
//! what it built of the package (the plugin alone recompiles, not its dependencies). The
//! plugin's build output (the component, with its manifest; the compiled cache; the
//! packages) goes to the plugin's own `target/flowtrace/`, as before.
//!
//! The user's own choice always wins, and keeps everything in cargo's target dir, as
//! before: `CARGO_TARGET_DIR` (or `CARGO_BUILD_TARGET_DIR`), `build.target-dir` in a cargo
//! configuration file, or a workspace the plugin is a member of. Setting
//! `CARGO_TARGET_DIR=target` is the way to opt out (the shared directory is cleaned by
//! removing it, not by `cargo clean` in the plugin).

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::remap::absolute;
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

/// Where cargo builds Rust plugins, as `doctor` reports it: for the cargo package in
/// `plugin` when there is one, else for a new plugin. The directory, and whether it is the
/// shared one.
pub fn reported(plugin: Option<&Path>, home: &Path) -> (PathBuf, bool) {
    let target = match plugin.filter(|root| root.join("Cargo.toml").is_file()) {
        Some(root) => locate(root, &super::cargo::cargo_program(), Some(home)),
        None => match target_dir_var() {
            Some(dir) => TargetDir::Cargo { hint: dir },
            None => TargetDir::Shared {
                dir: absolute(&shared_dir(home)),
                output: PathBuf::new(),
            },
        },
    };
    let shared = matches!(target, TargetDir::Shared { .. });
    (target.cargo_dir().to_path_buf(), shared)
}

/// The target dir a variable of [`TARGET_DIR_VARS`] sets, when one does.
pub fn target_dir_var() -> Option<PathBuf> {
    TARGET_DIR_VARS
        .into_iter()
        .find_map(|var| std::env::var_os(var).filter(|v| !v.is_empty()))
        .map(PathBuf::from)
}

/// The lock on a library name in the shared directory, held while a plugin builds and reads
/// its component.
#[derive(Debug)]
pub struct ArtefactLock {
    _file: std::fs::File,
    owner_path: PathBuf,
    owner: String,
    /// Whether `owner_path` names the plugin holding the lock.
    recorded: bool,
    /// Whether what cargo holds of that name may be another plugin's: another plugin built
    /// it last, or a build that left no record of itself.
    pub built_by_another: bool,
}

impl ArtefactLock {
    /// Record that the plugin holding the lock builds the name now (once cargo has forgotten
    /// another plugin's build of it).
    pub fn claim(&mut self) -> Result<()> {
        if !self.recorded {
            crate::build::write_atomically(&self.owner_path, self.owner.as_bytes())?;
            self.recorded = true;
        }
        self.built_by_another = false;
        Ok(())
    }
}

/// Hold a lock on the library name `lib_name` in the shared directory `dir` (`<dir>/flowtrace/
/// locks/<lib_name>/.lock`) until it is dropped, for the plugin whose `Cargo.toml` is
/// `manifest_path`: two plugins whose library has the same name then take turns to build
/// and read `<lib_name>.wasm`, which cargo writes for both; and it says whether the other
/// one built it last (recorded in `owner` beside the lock).
pub fn lock_artefact(
    term: &Term,
    dir: &Path,
    lib_name: &str,
    manifest_path: &Path,
) -> Result<ArtefactLock> {
    let lock_dir = dir.join("flowtrace/locks").join(lib_name);
    let file = crate::toolchain::lock_dir(term, &lock_dir)?;
    let owner_path = lock_dir.join("owner");
    let owner = manifest_path.to_string_lossy().into_owned();
    let last = std::fs::read_to_string(&owner_path).ok();
    let recorded = last.as_deref() == Some(owner.as_str());
    let built_by_another = match last {
        Some(last) => last != owner,
        // No record: whatever cargo holds of the name is no known plugin's.
        None => ["debug", "release"].into_iter().any(|profile| {
            dir.join(super::WASM_TARGET)
                .join(profile)
                .join("deps")
                .join(format!("{lib_name}.wasm"))
                .exists()
        }),
    };
    Ok(ArtefactLock {
        _file: file,
        owner_path,
        owner,
        recorded,
        built_by_another,
    })
}

/// `path` made absolute against the current directory.
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
