//! Writing files so that a reader, or a crash, sees the old file or the new one, never half of
//! one: the bytes go to a temp file beside the target, which is then renamed over it.
//!
//! [`write_atomically`] does that with the usual options; [`AtomicWrite`] says how else (flushed
//! to disk, owner-only, never replacing, a temp-name prefix a recovery can find), and
//! [`AtomicWrite::stage`] splits the write from the rename, for work that can go on between.
//!
//! ```
//! use flowtrace_plugins::fs::{write_atomically, AtomicWrite};
//! # let dir = tempfile::tempdir()?;
//! let path = dir.path().join("out/index.json");
//! write_atomically(&path, b"{}\n")?; // creates `out/`
//! AtomicWrite::new().durable().private().write(&path, b"{\"v\": 2}\n")?;
//! assert_eq!(std::fs::read(&path)?, b"{\"v\": 2}\n");
//! let kept = AtomicWrite::new().keep_existing().write(&path, b"x").unwrap_err();
//! assert_eq!(kept.source.kind(), std::io::ErrorKind::AlreadyExists);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fs::File;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// A filesystem step of an atomic write failed: `failed to {action} `{path}``.
#[derive(Debug, thiserror::Error)]
#[error("failed to {action} `{}`", path.display())]
pub struct WriteError {
    /// What was being done: `create directory`, `create a temp file in`, `write`, `flush`,
    /// `replace` or `flush directory`.
    pub action: &'static str,
    /// On what: the directory, the temp file or the target.
    pub path: PathBuf,
    /// The OS error.
    #[source]
    pub source: io::Error,
}

fn failed(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> WriteError {
    let path = path.to_path_buf();
    move |source| WriteError {
        action,
        path,
        source,
    }
}

/// How to write a file atomically. [`AtomicWrite::new`]: create the parent directory, replace
/// the file, give it the usual permissions (`0666` less the umask), do not wait for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct AtomicWrite {
    durable: bool,
    private: bool,
    keep_existing: bool,
    temp_prefix: &'static str,
}

impl Default for AtomicWrite {
    fn default() -> Self {
        Self::new()
    }
}

impl AtomicWrite {
    /// The usual options.
    pub const fn new() -> Self {
        Self {
            durable: false,
            private: false,
            keep_existing: false,
            temp_prefix: ".tmp-",
        }
    }

    /// Flush the file's bytes and, after the rename, its directory to disk before returning,
    /// so the new file survives a power cut.
    pub const fn durable(mut self) -> Self {
        self.durable = true;
        self
    }

    /// Readable and writable by the owner only (`0600`), from the file's creation: for keys
    /// and anything else that is nobody else's business.
    pub const fn private(mut self) -> Self {
        self.private = true;
        self
    }

    /// Never replace an existing file: if one is there, fail with
    /// [`io::ErrorKind::AlreadyExists`] and leave it as it is (the first of two racing writers
    /// wins).
    pub const fn keep_existing(mut self) -> Self {
        self.keep_existing = true;
        self
    }

    /// Start the temp file's name with `prefix` (default `.tmp-`), so that a clean-up can
    /// tell a crashed write's leftovers.
    pub const fn temp_prefix(mut self, prefix: &'static str) -> Self {
        self.temp_prefix = prefix;
        self
    }

    /// Replace `path` with `bytes`.
    pub fn write(self, path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
        self.stage(path, bytes)?.commit()
    }

    /// Write `bytes` to a temp file beside `path`; [`Staged::commit`] moves it into place.
    /// Dropping the [`Staged`] instead removes the temp file.
    pub fn stage(self, path: &Path, bytes: &[u8]) -> Result<Staged, WriteError> {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        std::fs::create_dir_all(dir).map_err(failed("create directory", dir))?;
        let mut builder = tempfile::Builder::new();
        builder.prefix(self.temp_prefix);
        // `tempfile` creates its files owner-only on Unix; a file others may read says so.
        #[cfg(unix)]
        if !self.private {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let mut file = builder
            .tempfile_in(dir)
            .map_err(failed("create a temp file in", dir))?;
        file.write_all(bytes)
            .map_err(failed("write", file.path()))?;
        if self.durable {
            file.as_file()
                .sync_all()
                .map_err(failed("flush", file.path()))?;
        }
        Ok(Staged {
            file,
            path: path.to_path_buf(),
            dir: dir.to_path_buf(),
            options: self,
        })
    }
}

/// Bytes written beside their target, waiting to be moved into place.
#[derive(Debug)]
#[must_use = "dropping a staged write removes it; `commit` moves it into place"]
pub struct Staged {
    file: tempfile::NamedTempFile,
    path: PathBuf,
    dir: PathBuf,
    options: AtomicWrite,
}

impl Staged {
    /// The target.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Move the bytes into place (and, for a [`durable`](AtomicWrite::durable) write, flush
    /// the directory).
    pub fn commit(self) -> Result<(), WriteError> {
        let Staged {
            file,
            path,
            dir,
            options,
        } = self;
        let moved = if options.keep_existing {
            file.persist_noclobber(&path)
        } else {
            file.persist(&path)
        };
        moved.map_err(|e| failed("replace", &path)(e.error))?;
        if options.durable {
            sync_dir(&dir).map_err(failed("flush directory", &dir))?;
        }
        Ok(())
    }
}

/// Replace `path` with `bytes` with the usual options ([`AtomicWrite::new`]).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    AtomicWrite::new().write(path, bytes)
}

/// Flush a directory's entries (a rename in it) to disk.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        // Windows has no directory handle to flush; NTFS journals renames itself.
        let _ = dir;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replace_or_keep_and_set_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b.txt");
        write_atomically(&path, b"one").unwrap();
        write_atomically(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let kept = AtomicWrite::new()
            .keep_existing()
            .write(&path, b"three")
            .unwrap_err();
        assert_eq!(kept.source.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(kept.action, "replace");
        assert_eq!(std::fs::read(&path).unwrap(), b"two");

        let staged = AtomicWrite::new()
            .temp_prefix(".index-")
            .stage(&path, b"four")
            .unwrap();
        let temps: Vec<String> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".index-"))
            .collect();
        assert_eq!(temps.len(), 1);
        staged.commit().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"four");
        // Only the target is left.
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            let private = dir.path().join("key");
            AtomicWrite::new()
                .private()
                .durable()
                .write(&private, b"k")
                .unwrap();
            assert_eq!(mode(&private), 0o600);
        }
    }
}
