//! Cleaning up after a crash: run by [`Registry::open`](super::Registry::open).
//!
//! Every install or uninstall works in a directory under `tmp/` that holds an `intent.json`
//! (what it is about to do) and that the running process keeps its owner lock on. A
//! directory whose owner lock can be taken belongs to a dead process. With the registry
//! lock held (so no operation is running), each such directory is undone or finished
//! according to the index, which is the commit point:
//!
//! - an install the index records (same sha256) is complete: its leftovers go;
//! - an install the index does not record is rolled back: the version directory it put in
//!   place (recognised by its sha256) is removed, and the one it moved aside is put back;
//! - an uninstall removes the directories of the versions the index no longer lists.
//!
//! A directory without an intent (a scratch dir, or a crash before the intent was written)
//! is just removed. If the index cannot be read, directories with an intent are left alone.

use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use semver::Version;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::manifest::PluginId;

use super::error::RegistryError;
use super::index::{Index, INDEX_TEMP_PREFIX};
use super::lock;
use super::store::{component_in, lock_owner, remove_owned_dir, Store};

/// The file in an operation's tmp dir that says what it is doing.
pub(crate) const INTENT_FILE: &str = "intent.json";

/// What an operation is about to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub(crate) enum Intent {
    /// Put `version` of `id`, whose component hashes to `sha256`, in place.
    Install {
        id: PluginId,
        version: Version,
        sha256: String,
    },
    /// Remove these versions of `id`.
    Remove {
        id: PluginId,
        versions: Vec<Version>,
    },
}

impl Intent {
    pub(crate) fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an intent serialises")
    }
}

/// What [`Registry::open`](super::Registry::open) cleaned up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "recovered",
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case"
)]
pub enum Recovered {
    /// An install interrupted before its commit: the previous state stands.
    RolledBack {
        /// The plugin.
        id: PluginId,
        /// The version that was being installed.
        version: Version,
    },
    /// An install interrupted after its commit: only its leftovers were removed.
    Completed {
        /// The plugin.
        id: PluginId,
        /// The version installed.
        version: Version,
    },
    /// An uninstall interrupted after its commit: the files of the versions were removed.
    Removed {
        /// The plugin.
        id: PluginId,
        /// The versions whose files were removed.
        versions: Vec<Version>,
    },
    /// A leftover temp file or scratch directory was removed.
    Discarded {
        /// It.
        path: PathBuf,
    },
}

impl fmt::Display for Recovered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Recovered::RolledBack { id, version } => {
                write!(f, "rolled back an interrupted install of `{id}` {version}")
            }
            Recovered::Completed { id, version } => {
                write!(f, "finished an interrupted install of `{id}` {version}")
            }
            Recovered::Removed { id, versions } => {
                let list: Vec<String> = versions.iter().map(ToString::to_string).collect();
                write!(
                    f,
                    "finished an interrupted uninstall of `{id}` {}",
                    list.join(", ")
                )
            }
            Recovered::Discarded { path } => write!(f, "removed `{}`", path.display()),
        }
    }
}

/// Write a file and flush it to disk.
pub(crate) fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), RegistryError> {
    let io = |action| {
        let path = path.to_path_buf();
        move |source| RegistryError::Io {
            action,
            path,
            source,
        }
    };
    let mut file = fs::File::create(path).map_err(io("create"))?;
    file.write_all(bytes).map_err(io("write"))?;
    file.sync_all().map_err(io("flush"))
}

/// Clean up after crashed operations, if there is anything to clean and no operation is
/// running.
pub(crate) fn recover(store: &Store) -> Result<Vec<Recovered>, RegistryError> {
    let list = |dir: &Path| -> Vec<fs::DirEntry> {
        fs::read_dir(dir)
            .map(|entries| entries.flatten().collect())
            .unwrap_or_default()
    };
    let leftovers = list(&store.tmp_dir());
    let temps: Vec<PathBuf> = list(store.home())
        .into_iter()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(INDEX_TEMP_PREFIX)
        })
        .map(|e| e.path())
        .collect();
    if leftovers.is_empty() && temps.is_empty() {
        return Ok(Vec::new());
    }
    let Some(_lock) = lock::try_acquire(store)? else {
        // An operation is running; its own directories are not leftovers.
        return Ok(Vec::new());
    };
    let index = Index::load(store).ok();
    let mut out = Vec::new();
    for path in temps {
        if fs::remove_file(&path).is_ok() {
            out.push(Recovered::Discarded { path });
        }
    }
    for entry in leftovers {
        let path = entry.path();
        if !entry.file_type().is_ok_and(|t| t.is_dir()) {
            if fs::remove_file(&path).is_ok() {
                out.push(Recovered::Discarded { path });
            }
            continue;
        }
        let Ok(Some(owner)) = lock_owner(&path) else {
            continue; // a live process's, or unreadable: leave it
        };
        let intent = fs::read(path.join(INTENT_FILE))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Intent>(&bytes).ok());
        let done = match (intent, &index) {
            (None, _) => Recovered::Discarded { path: path.clone() },
            (Some(_), None) => continue, // undo nothing without a readable index
            (
                Some(Intent::Install {
                    id,
                    version,
                    sha256,
                }),
                Some(index),
            ) => match undo_install(store, index, &path, id, version, &sha256) {
                Some(done) => done,
                None => continue, // try again at the next open
            },
            (Some(Intent::Remove { id, versions }), Some(index)) => {
                finish_remove(store, index, id, versions, &path)
            }
        };
        remove_owned_dir(&path, Some(owner));
        out.push(done);
    }
    Ok(out)
}

/// Undo or finish an install according to the index: see the module docs. `None` when the
/// version directory could not be put right; the caller then leaves `txn` for a later try.
pub(crate) fn undo_install(
    store: &Store,
    index: &Index,
    txn: &Path,
    id: PluginId,
    version: Version,
    sha256: &str,
) -> Option<Recovered> {
    let recorded = index
        .plugins
        .get(&id)
        .and_then(|r| r.versions.get(&version))
        .and_then(|v| v.sha256.as_deref());
    let version_dir = store.version_dir(&id, &version);
    let displaced = txn.join("displaced");
    if recorded == Some(sha256) {
        // Committed (or a reinstall of the same bytes): make sure the version is in place.
        if !version_dir.exists() {
            for candidate in [txn.join("stage"), displaced] {
                if hash_of(&candidate).as_deref() == Some(sha256)
                    && fs::rename(&candidate, &version_dir).is_ok()
                {
                    break;
                }
            }
        }
        return version_dir
            .exists()
            .then_some(Recovered::Completed { id, version });
    }
    // Not committed: take out what the install put in place, put back what it moved aside.
    if hash_of(&version_dir).as_deref() == Some(sha256) {
        fs::rename(&version_dir, txn.join("rolled-back")).ok()?;
    }
    if recorded.is_some() && !version_dir.exists() {
        fs::rename(&displaced, &version_dir).ok()?;
    }
    if !index.plugins.contains_key(&id) {
        let _ = fs::remove_dir(store.plugin_dir(&id)); // only when empty
    }
    Some(Recovered::RolledBack { id, version })
}

fn finish_remove(
    store: &Store,
    index: &Index,
    id: PluginId,
    versions: Vec<Version>,
    txn: &Path,
) -> Recovered {
    let record = index.plugins.get(&id);
    let gone: Vec<Version> = versions
        .into_iter()
        .filter(|v| !record.is_some_and(|r| r.versions.contains_key(v)))
        .collect();
    if gone.is_empty() {
        // Interrupted before its commit: nothing was removed.
        return Recovered::Discarded {
            path: txn.to_path_buf(),
        };
    }
    for (n, v) in gone.iter().enumerate() {
        let dir = store.version_dir(&id, v);
        let trash = txn.join(format!("removed-{n}"));
        if fs::rename(&dir, &trash).is_ok() {
            let _ = fs::remove_dir_all(&trash);
        }
    }
    if record.is_none() {
        let _ = fs::remove_dir(store.plugin_dir(&id));
    }
    Recovered::Removed { id, versions: gone }
}

/// The sha256 of the component in a version directory, if it has one.
fn hash_of(version_dir: &Path) -> Option<String> {
    let bytes = fs::read(component_in(version_dir)).ok()?;
    Some(hex::encode(Sha256::digest(bytes)))
}
