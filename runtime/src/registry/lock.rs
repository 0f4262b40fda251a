//! The writers' lock: one process at a time changes the registry.
//!
//! An advisory lock on `registry.lock` (std's `File::lock`: `flock` on Unix, `LockFileEx`
//! on Windows), released by the OS when the holder exits or crashes, so a crash never
//! leaves the registry locked. The holder writes its pid and command into a sidecar,
//! `registry.lock.holder`, so a waiting process can say who it waits for.

use std::fmt;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::error::RegistryError;
use super::index::REGISTRY_WRITE;
use super::store::Store;

/// The process holding the registry lock, as it described itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct LockHolder {
    /// Its process id.
    pub pid: u32,
    /// Its command line, shortened.
    #[serde(default)]
    pub command: String,
}

impl fmt::Display for LockHolder {
    /// `pid 4242 (cargo flowtrace install ./x)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pid {}", self.pid)?;
        if !self.command.is_empty() {
            write!(f, " ({})", self.command)?;
        }
        Ok(())
    }
}

/// What a process waiting for the lock is told, once, when it starts to wait.
#[derive(Debug, Clone)]
pub struct LockWait<'a> {
    /// The lock file.
    pub path: &'a Path,
    /// Who holds it, when the sidecar says.
    pub holder: Option<&'a LockHolder>,
}

impl fmt::Display for LockWait<'_> {
    /// `waiting for file lock on /home/u/.flowtrace/registry.lock (held by pid 4242)`: the
    /// CLI prints it after a `Blocking` status.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "waiting for file lock on {}", self.path.display())?;
        if let Some(holder) = self.holder {
            write!(f, " (held by pid {})", holder.pid)?;
        }
        Ok(())
    }
}

/// Called when a writer has to wait for the lock.
pub type LockWaitHook = dyn Fn(&LockWait<'_>) + Send + Sync;

/// The held lock; released (and the sidecar removed) on drop.
#[derive(Debug)]
pub(crate) struct LockGuard {
    file: File,
    holder_path: PathBuf,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        // The sidecar goes first: once unlocked, the next holder writes its own.
        let _ = std::fs::remove_file(&self.holder_path);
        let _ = self.file.unlock();
    }
}

const LONGEST_COMMAND: usize = 200;

/// Take the lock, waiting up to `timeout`; `on_wait` hears once that we wait.
pub(crate) fn acquire(
    store: &Store,
    timeout: Duration,
    on_wait: Option<&LockWaitHook>,
) -> Result<LockGuard, RegistryError> {
    let path = store.lock_path();
    let file = open(&path)?;
    let start = Instant::now();
    let mut told = false;
    let mut pause = Duration::from_millis(5);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(held(store, file)),
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(source)) => {
                return Err(RegistryError::Io {
                    action: "lock",
                    path,
                    source,
                })
            }
        }
        let waited = start.elapsed();
        if waited >= timeout {
            return Err(RegistryError::LockTimeout {
                path,
                waited,
                holder: read_holder(store),
            });
        }
        if !told {
            told = true;
            if let Some(on_wait) = on_wait {
                let holder = read_holder(store);
                on_wait(&LockWait {
                    path: &path,
                    holder: holder.as_ref(),
                });
            }
        }
        std::thread::sleep(pause.min(timeout - waited));
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// Take the lock if it is free right now.
pub(crate) fn try_acquire(store: &Store) -> Result<Option<LockGuard>, RegistryError> {
    let path = store.lock_path();
    let file = open(&path)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(held(store, file))),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(source)) => Err(RegistryError::Io {
            action: "lock",
            path,
            source,
        }),
    }
}

fn open(path: &Path) -> Result<File, RegistryError> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|source| RegistryError::Io {
            action: "open lock file",
            path: path.to_path_buf(),
            source,
        })
}

fn held(store: &Store, file: File) -> LockGuard {
    let mut command = std::env::args().collect::<Vec<_>>().join(" ");
    if command.len() > LONGEST_COMMAND {
        let mut end = LONGEST_COMMAND;
        while !command.is_char_boundary(end) {
            end -= 1;
        }
        command.truncate(end);
        command.push_str("...");
    }
    let holder = LockHolder {
        pid: std::process::id(),
        command,
    };
    let holder_path = store.lock_holder_path();
    // Best effort: the sidecar only improves a message.
    let json = serde_json::to_vec(&holder).expect("a lock holder serialises");
    let _ = REGISTRY_WRITE.write(&holder_path, &json);
    LockGuard { file, holder_path }
}

fn read_holder(store: &Store) -> Option<LockHolder> {
    let bytes = std::fs::read(store.lock_holder_path()).ok()?;
    serde_json::from_slice(&bytes).ok()
}
