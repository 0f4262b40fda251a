//! Safe extraction of `.tar.gz` plugin archives.
//!
//! Two passes over the archive. The first reads every header and all the data without
//! writing anything, and refuses the archive on the first entry that is not a plain file or
//! directory inside the destination: a `..` component, an absolute path, a symlink, a
//! hardlink, a device or fifo. It also stops an archive that expands past a multiple of its
//! size or a fixed cap, or holds too many entries. Only an archive that passes is extracted,
//! with the same checks again, into a destination that must not exist yet, holding nothing
//! but the regular files and directories it creates (no link is ever created, so nothing
//! extracted can point outside).

use std::collections::HashMap;
use std::fs::{self, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tar::EntryType;

/// How much an archive may expand to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// The expanded (uncompressed tar) size may reach this multiple of the archive's size...
    pub max_ratio: u64,
    /// ...or this many bytes, whichever is more (a tiny archive of small files has a high
    /// ratio: tar pads every entry to 512 bytes, and gzip squeezes the padding away)...
    pub ratio_floor: u64,
    /// ...but never more than this many bytes.
    pub max_bytes: u64,
    /// Entries (files, directories, metadata headers) at most.
    pub max_entries: usize,
}

impl Default for ArchiveLimits {
    /// 20x the archive's size or 1 MiB, at most 512 MiB, at most 10,000 entries.
    fn default() -> Self {
        Self {
            max_ratio: 20,
            ratio_floor: 1 << 20,
            max_bytes: 512 << 20,
            max_entries: 10_000,
        }
    }
}

impl ArchiveLimits {
    /// The expanded size allowed for an archive of `archive_size` bytes.
    pub fn budget(&self, archive_size: u64) -> u64 {
        archive_size
            .saturating_mul(self.max_ratio)
            .max(self.ratio_floor)
            .min(self.max_bytes)
    }
}

/// What was extracted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Extracted {
    /// Regular files written.
    pub files: usize,
    /// Directories created.
    pub dirs: usize,
    /// Bytes of file content written.
    pub bytes: u64,
}

/// Why an archive was refused.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The archive could not be read: not gzip, a corrupt tar, cut short.
    #[error("failed to read the archive")]
    Read {
        /// What the decoder said.
        #[source]
        source: io::Error,
    },
    /// Writing the extracted files failed.
    #[error("failed to {action} `{}`", path.display())]
    Write {
        /// What was being done.
        action: &'static str,
        /// Where.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The destination exists already: extraction only creates a fresh directory.
    #[error("the destination `{}` already exists", path.display())]
    DestinationExists {
        /// The destination.
        path: PathBuf,
    },
    /// An entry path that leaves the destination or is not a portable relative path.
    #[error("unsafe path in archive: `{entry}`: {reason}")]
    UnsafePath {
        /// The path as the archive writes it.
        entry: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A symlink or hardlink entry: never extracted.
    #[error("the archive holds a {kind} `{entry}` -> `{target}`: links are not allowed")]
    Link {
        /// `symlink` or `hardlink`.
        kind: &'static str,
        /// The link's path.
        entry: String,
        /// Where it points.
        target: String,
    },
    /// A device, fifo or other special entry.
    #[error("the archive holds a {kind} `{entry}`: only files and directories are allowed")]
    Special {
        /// What it is: `character device`, `block device`, `fifo`, ...
        kind: &'static str,
        /// Its path.
        entry: String,
    },
    /// The same path twice, or a path under a file.
    #[error("the archive holds `{entry}` twice, or under a file of the same name")]
    Duplicate {
        /// The path.
        entry: String,
    },
    /// Expands past the limit.
    #[error("the archive expands past {limit} bytes ({archive_size} bytes compressed): stopped")]
    TooLarge {
        /// The budget it passed.
        limit: u64,
        /// The archive's size.
        archive_size: u64,
    },
    /// More entries than allowed.
    #[error("the archive holds more than {limit} entries: stopped")]
    TooManyEntries {
        /// The limit.
        limit: usize,
    },
}

/// Extract the `.tar.gz` archive `reader` (read twice: see the module docs) into `dest`,
/// which must not exist. On any error nothing is left at `dest`.
pub fn extract_tar_gz<R: Read + Seek>(
    mut reader: R,
    dest: &Path,
    limits: &ArchiveLimits,
) -> Result<Extracted, ArchiveError> {
    let read = |source| ArchiveError::Read { source };
    let start = reader.stream_position().map_err(read)?;
    let archive_size = reader.seek(SeekFrom::End(0)).map_err(read)? - start;

    reader.seek(SeekFrom::Start(start)).map_err(read)?;
    walk(&mut reader, archive_size, limits, None)?;

    reader.seek(SeekFrom::Start(start)).map_err(read)?;
    match fs::create_dir(dest) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            return Err(ArchiveError::DestinationExists {
                path: dest.to_path_buf(),
            })
        }
        Err(source) => {
            return Err(ArchiveError::Write {
                action: "create directory",
                path: dest.to_path_buf(),
                source,
            })
        }
    }
    let extracted = walk(&mut reader, archive_size, limits, Some(dest));
    if extracted.is_err() {
        let _ = fs::remove_dir_all(dest);
    }
    extracted
}

/// One pass: check every entry; write it under `dest` when given.
fn walk<R: Read>(
    reader: R,
    archive_size: u64,
    limits: &ArchiveLimits,
    dest: Option<&Path>,
) -> Result<Extracted, ArchiveError> {
    let budget = limits.budget(archive_size);
    let too_large = || ArchiveError::TooLarge {
        limit: budget,
        archive_size,
    };
    let exceeded = Arc::new(AtomicBool::new(false));
    let expanded = Budget {
        inner: flate2::read::MultiGzDecoder::new(reader),
        left: budget,
        exceeded: exceeded.clone(),
    };
    // A read error after the budget ran out is the budget's doing, whatever tar made of it.
    let read = |source| {
        if exceeded.load(Ordering::Relaxed) {
            too_large()
        } else {
            ArchiveError::Read { source }
        }
    };
    let mut archive = tar::Archive::new(expanded);
    let mut seen: HashMap<PathBuf, bool> = HashMap::new();
    let mut out = Extracted::default();
    let mut count = 0usize;
    let mut used = 0u64;
    for entry in archive.entries().map_err(read)? {
        let mut entry = entry.map_err(read)?;
        count += 1;
        if count > limits.max_entries {
            return Err(ArchiveError::TooManyEntries {
                limit: limits.max_entries,
            });
        }
        let header = entry.header();
        let size = header.size().map_err(read)?;
        used = used.saturating_add(size);
        if used > budget {
            return Err(too_large());
        }
        let raw_path = entry.path().map_err(read)?.into_owned();
        let shown = raw_path.display().to_string();
        let kind = header.entry_type();
        let is_dir = match kind {
            EntryType::Regular | EntryType::Continuous => false,
            EntryType::Directory => true,
            // pax global headers (`git archive` writes one) carry metadata only.
            EntryType::XGlobalHeader => {
                io::copy(&mut entry, &mut io::sink()).map_err(read)?;
                continue;
            }
            EntryType::Symlink | EntryType::Link => {
                let target = entry
                    .link_name()
                    .ok()
                    .flatten()
                    .map(|t| t.display().to_string())
                    .unwrap_or_default();
                return Err(ArchiveError::Link {
                    kind: if kind == EntryType::Symlink {
                        "symlink"
                    } else {
                        "hardlink"
                    },
                    entry: shown,
                    target,
                });
            }
            other => {
                return Err(ArchiveError::Special {
                    kind: special_kind(other),
                    entry: shown,
                })
            }
        };
        let Some(path) = contained(&raw_path, &shown)? else {
            // `./`: the destination itself.
            if is_dir {
                continue;
            }
            return Err(ArchiveError::UnsafePath {
                entry: shown,
                reason: "a file needs a name",
            });
        };
        record(&mut seen, &path, is_dir, &shown)?;

        match dest {
            None => {
                io::copy(&mut entry, &mut io::sink()).map_err(read)?;
            }
            Some(dest) => {
                let target = dest.join(&path);
                let write = |action| {
                    let path = target.clone();
                    move |source| ArchiveError::Write {
                        action,
                        path,
                        source,
                    }
                };
                if is_dir {
                    fs::create_dir_all(&target).map_err(write("create directory"))?;
                    out.dirs += 1;
                } else {
                    if let Some(parent) = target.parent() {
                        fs::create_dir_all(parent).map_err(write("create directory"))?;
                    }
                    let mut file = OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .open(&target)
                        .map_err(write("create"))?;
                    let written = io::copy(&mut entry, &mut file).map_err(|e| {
                        if exceeded.load(Ordering::Relaxed) {
                            too_large()
                        } else {
                            ArchiveError::Write {
                                action: "write",
                                path: target.clone(),
                                source: e,
                            }
                        }
                    })?;
                    out.files += 1;
                    out.bytes += written;
                }
            }
        }
    }
    Ok(out)
}

/// The entry's path made relative and normalised, component by component: `None` for the
/// destination itself (`.`, `./`). `..`, a root, a drive prefix, and names that are not
/// portable (`\`, `:`, control characters) are refused.
fn contained(raw: &Path, shown: &str) -> Result<Option<PathBuf>, ArchiveError> {
    let unsafe_path = |reason| ArchiveError::UnsafePath {
        entry: shown.to_string(),
        reason,
    };
    let mut out = PathBuf::new();
    for component in raw.components() {
        match component {
            Component::Normal(name) => {
                let Some(name) = name.to_str() else {
                    return Err(unsafe_path("a name is not UTF-8"));
                };
                if name.contains(['\\', ':']) || name.chars().any(char::is_control) {
                    return Err(unsafe_path("a name holds `\\`, `:` or a control character"));
                }
                out.push(name);
            }
            Component::CurDir => {}
            Component::ParentDir => return Err(unsafe_path("a `..` component leaves the plugin")),
            Component::RootDir | Component::Prefix(_) => {
                return Err(unsafe_path("an absolute path"))
            }
        }
    }
    Ok((!out.as_os_str().is_empty()).then_some(out))
}

/// Remember an entry; refuse a second entry at the same path (two directory entries are
/// fine) and an entry under a file.
fn record(
    seen: &mut HashMap<PathBuf, bool>,
    path: &Path,
    is_dir: bool,
    shown: &str,
) -> Result<(), ArchiveError> {
    let duplicate = || ArchiveError::Duplicate {
        entry: shown.to_string(),
    };
    for ancestor in path.ancestors().skip(1) {
        if seen.get(ancestor) == Some(&false) {
            return Err(duplicate());
        }
    }
    match seen.insert(path.to_path_buf(), is_dir) {
        Some(true) if is_dir => Ok(()),
        Some(_) => Err(duplicate()),
        None => Ok(()),
    }
}

fn special_kind(kind: EntryType) -> &'static str {
    match kind {
        EntryType::Char => "character device",
        EntryType::Block => "block device",
        EntryType::Fifo => "fifo",
        EntryType::GNUSparse => "sparse file",
        _ => "special entry",
    }
}

/// Counts the decompressed bytes and fails the read that would pass the budget.
struct Budget<R> {
    inner: R,
    left: u64,
    exceeded: Arc<AtomicBool>,
}

impl<R: Read> Read for Budget<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        match self.left.checked_sub(n as u64) {
            Some(left) => {
                self.left = left;
                Ok(n)
            }
            None => {
                self.exceeded.store(true, Ordering::Relaxed);
                Err(io::Error::other("the archive expands past its budget"))
            }
        }
    }
}
