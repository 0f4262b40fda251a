//! Where everything lives under `$FLOWTRACE_HOME`: the one type that names a path in it.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

use semver::Version;

use crate::manifest::PluginId;

use super::error::RegistryError;

/// The paths of one registry home. Every path under `$FLOWTRACE_HOME` is named here and
/// nowhere else:
///
/// ```text
/// $FLOWTRACE_HOME/
///   index.json                 the index: what is installed, enabled, granted
///   index.json.bak             a copy of the last index written (what a repair starts from)
///   cache.key                  the secret that seals compiled code (mode 0600)
///   config.toml                the user's settings: registries, signature policy
///   keys/<name>.key|.pub       the user's signing keys
///   trust/<name>.pub           the public keys whose signatures installs accept
///   registry.lock              the writers' file lock, with its sidecar:
///   registry.lock.holder       pid and command of the process holding it
///   plugins/<id>/<version>/
///     plugin.wasm              the component, as installed
///     plugin.wasm.verified     the identity (inode, size, times) it had when its sha256 was
///                              last checked, sealed with the cache key: while it is the
///                              same, a load does not hash the component again
///     flowtrace.toml           its manifest (the text embedded in the component)
///     install.json             its record as the index has it (hashes, source, time), for
///                              rebuilding a lost index
///     precompiled/             native code compiled from it, keyed by engine
///   tmp/                       staging and scratch dirs; leftovers are cleaned on open
///   toolchains/                language toolchains `cargo flowtrace doctor --fix` installs
/// ```
#[derive(Debug, Clone)]
pub struct Store {
    home: PathBuf,
}

/// The file in a tmp dir that its owner holds locked while the dir is in use.
const OWNER_LOCK: &str = ".owner";

impl Store {
    /// The store of the registry at `home` (nothing is created).
    pub fn new(home: impl Into<PathBuf>) -> Self {
        Self { home: home.into() }
    }

    /// `$FLOWTRACE_HOME` itself.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// `index.json`: the registry index.
    pub fn index_path(&self) -> PathBuf {
        self.home.join("index.json")
    }

    /// `index.json.bak`: a copy of the last index this registry wrote.
    pub fn index_backup_path(&self) -> PathBuf {
        self.home.join("index.json.bak")
    }

    /// `cache.key`: the secret (mode 0600) that seals compiled code made on this machine;
    /// see [`CacheKey`](crate::cache::CacheKey).
    pub fn cache_key_path(&self) -> PathBuf {
        self.home.join("cache.key")
    }

    /// `keys/`: the user's signing keys (`<name>.key`, mode 0600, and `<name>.pub`).
    pub fn keys_dir(&self) -> PathBuf {
        self.home.join("keys")
    }

    /// `trust/`: the public keys whose signatures installs accept (`<name>.pub`).
    pub fn trust_dir(&self) -> PathBuf {
        self.home.join("trust")
    }

    /// `config.toml`: the user's settings (registries, signature policy).
    pub fn config_path(&self) -> PathBuf {
        self.home.join("config.toml")
    }

    /// `registry.lock`: the file lock that serialises writers.
    pub fn lock_path(&self) -> PathBuf {
        self.home.join("registry.lock")
    }

    /// `registry.lock.holder`: who holds the lock (pid and command), for waiting processes.
    pub fn lock_holder_path(&self) -> PathBuf {
        self.home.join("registry.lock.holder")
    }

    /// `tmp/`: staging and scratch dirs.
    pub fn tmp_dir(&self) -> PathBuf {
        self.home.join("tmp")
    }

    /// `toolchains/`: the language toolchains `cargo flowtrace doctor --fix` installs.
    pub fn toolchains_dir(&self) -> PathBuf {
        self.home.join("toolchains")
    }

    /// `plugins/`: one directory per installed plugin.
    pub fn plugins_dir(&self) -> PathBuf {
        self.home.join("plugins")
    }

    /// `plugins/<id>/`: every installed version of a plugin.
    pub fn plugin_dir(&self, id: &PluginId) -> PathBuf {
        // A `PluginId` is one path component by construction: `[a-z0-9][a-z0-9-]*`.
        self.plugins_dir().join(id.as_str())
    }

    /// `plugins/<id>/<version>/`: one installed version.
    pub fn version_dir(&self, id: &PluginId, version: &Version) -> PathBuf {
        // A semver version is `[0-9A-Za-z.+-]`: one path component, never `.` or `..`.
        self.plugin_dir(id).join(version.to_string())
    }

    /// `plugins/<id>/<version>/plugin.wasm`: the installed component.
    pub fn component_path(&self, id: &PluginId, version: &Version) -> PathBuf {
        component_in(&self.version_dir(id, version))
    }

    /// `plugins/<id>/<version>/plugin.wasm.verified`: the sealed identity of the component
    /// when its sha256 was last checked in full.
    pub(crate) fn verified_path(&self, id: &PluginId, version: &Version) -> PathBuf {
        verified_in(&self.version_dir(id, version))
    }

    /// `plugins/<id>/<version>/flowtrace.toml`: the installed manifest.
    pub fn manifest_path(&self, id: &PluginId, version: &Version) -> PathBuf {
        manifest_in(&self.version_dir(id, version))
    }

    /// `plugins/<id>/<version>/precompiled/`: the compiled-component cache of this version
    /// (with [`Registry::cache_key`](super::Registry::cache_key), pass it as
    /// [`LoadOptions::cache`](crate::LoadOptions)).
    pub fn precompiled_dir(&self, id: &PluginId, version: &Version) -> PathBuf {
        precompiled_in(&self.version_dir(id, version))
    }

    /// Create the registry's directories if they are missing.
    pub(crate) fn create_dirs(&self) -> Result<(), RegistryError> {
        for dir in [self.home.clone(), self.plugins_dir(), self.tmp_dir()] {
            fs::create_dir_all(&dir).map_err(|source| RegistryError::Io {
                action: "create directory",
                path: dir,
                source,
            })?;
        }
        Ok(())
    }

    /// A fresh directory under `tmp/`, owned by this process until the [`TmpDir`] drops.
    pub(crate) fn new_tmp_dir(&self, prefix: &str) -> Result<TmpDir, RegistryError> {
        let tmp = self.tmp_dir();
        let io = |action, path: &Path| {
            let path = path.to_path_buf();
            move |source| RegistryError::Io {
                action,
                path,
                source,
            }
        };
        fs::create_dir_all(&tmp).map_err(io("create directory", &tmp))?;
        // Another process's cleanup can take a fresh dir for a crashed one between its
        // creation and our lock: then our lock fails, and we try another name.
        let mut last = None;
        for _ in 0..8 {
            let path = tempfile::Builder::new()
                .prefix(prefix)
                .tempdir_in(&tmp)
                .map_err(io("create a directory in", &tmp))?
                .keep();
            match lock_owner(&path) {
                Ok(Some(owner)) => {
                    return Ok(TmpDir {
                        path,
                        owner: Some(owner),
                    })
                }
                Ok(None) => last = None,
                Err(e) => last = Some(e),
            }
        }
        Err(RegistryError::Io {
            action: "lock a new directory in",
            path: tmp,
            source: last.unwrap_or_else(|| io::Error::other("another process kept taking it")),
        })
    }
}

pub(crate) fn component_in(version_dir: &Path) -> PathBuf {
    version_dir.join("plugin.wasm")
}

/// The sealed record of the identity `plugin.wasm` had when its sha256 was last checked in
/// full ([`crate::identity`]).
pub(crate) fn verified_in(version_dir: &Path) -> PathBuf {
    version_dir.join("plugin.wasm.verified")
}

pub(crate) fn manifest_in(version_dir: &Path) -> PathBuf {
    version_dir.join(crate::manifest::MANIFEST_FILE_NAME)
}

/// A version's own copy of its index record (`install.json`), written at install.
pub(crate) fn install_record_in(version_dir: &Path) -> PathBuf {
    version_dir.join("install.json")
}

pub(crate) fn precompiled_in(version_dir: &Path) -> PathBuf {
    version_dir.join("precompiled")
}

/// Take the owner lock of a tmp dir: `Ok(None)` when another live process holds it, or the
/// dir is gone (a cleanup removed it).
pub(crate) fn lock_owner(dir: &Path) -> io::Result<Option<File>> {
    let file = match OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(OWNER_LOCK))
    {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

/// A directory under `$FLOWTRACE_HOME/tmp/` that this process owns: it holds the dir's
/// owner lock, so the cleanup another process runs when it opens the registry leaves it
/// alone. Removed when dropped; after a crash, removed by the next open.
///
/// The CLI clones git sources and extracts archives into one of these
/// ([`Registry::scratch_dir`](super::Registry::scratch_dir)).
#[derive(Debug)]
pub struct TmpDir {
    path: PathBuf,
    owner: Option<File>,
}

impl TmpDir {
    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Let go of the directory without removing it: the next open cleans it up (used when
    /// what is in it cannot be put right now).
    pub(crate) fn leave(mut self) {
        self.owner = None;
        self.path = PathBuf::new();
    }
}

impl Drop for TmpDir {
    fn drop(&mut self) {
        if let Some(owner) = self.owner.take() {
            remove_owned_dir(&self.path, Some(owner));
        }
    }
}

/// Remove a tmp dir whose owner lock `owner` holds: its content first, then the lock file
/// (released first, so this works where an open file cannot be deleted), then the dir.
pub(crate) fn remove_owned_dir(path: &Path, owner: Option<File>) {
    if let Ok(entries) = fs::read_dir(path) {
        for entry in entries.flatten() {
            if entry.file_name() == OWNER_LOCK {
                continue;
            }
            let p = entry.path();
            let _ = match entry.file_type() {
                Ok(t) if t.is_dir() => fs::remove_dir_all(&p),
                _ => fs::remove_file(&p),
            };
        }
    }
    drop(owner);
    let _ = fs::remove_file(path.join(OWNER_LOCK));
    let _ = fs::remove_dir(path);
}
