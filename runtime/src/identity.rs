//! File identities: not hashing again a file this user's Flowtrace verified before and that
//! has not changed since.
//!
//! Hashing an 18 MB component (or MACing its 35 MB of compiled code) on every load costs more
//! than the load itself. So, the way git's index does, the first full check of a file records
//! its identity: device, inode, size, mode, owner, mtime and ctime, both to the nanosecond. A
//! later load that finds the same identity (read with `fstat` on the descriptor it reads
//! from) trusts the earlier check; any difference means a full check again.
//!
//! Why this is sound against someone editing the file:
//!
//! - Writing a file, truncating it, renaming another file over it or changing its mode all
//!   set its ctime to the current time, and no user can set a ctime (`utimensat` sets mtime
//!   and atime only), so restoring the mtime after an edit does not restore the identity.
//!   A file put in its place is another inode.
//! - File times come from a clock that ticks coarsely (a jiffy, or a second on some
//!   filesystems): an edit made in the same tick as the check would keep the ctime. So an
//!   identity is recorded only when the ctime was older than a margin ([`FileIdentity::settled`])
//!   when the full check started: every later edit then gets a later ctime (git's "racily
//!   clean" rule).
//! - The record is sealed with the home's [`CacheKey`](crate::cache::CacheKey) (a keyed
//!   BLAKE3 MAC over the record and what it vouches for, e.g. the sha256 the file was found
//!   to have), so a record written by anyone else, or copied from another file, does not
//!   verify: the records live in the user's own registry and compiled cache, and even there
//!   they are not believed unsealed.
//!
//! What it does not defend against: root, who can set the clock back and write a ctime with
//! it (root can also replace the tool itself).

use std::fs::{File, Metadata};
use std::path::Path;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::cache::CacheKey;
use crate::fs::AtomicWrite;

/// First line of every identity record.
const RECORD_MAGIC: &str = "flowtrace-identity-v1";
/// Tag hashed before every record, so its MAC is never valid for anything else.
const RECORD_DOMAIN: &[u8] = b"flowtrace file identity v1\0";
/// A record is a few hundred bytes; anything bigger is not ours.
const RECORD_MAX: u64 = 4096;

/// How much older than the start of a check a file's ctime must be for its identity to be
/// recorded, on filesystems with sub-second times: many kernel clock ticks.
const SETTLE: Duration = Duration::from_millis(100);
/// The same on filesystems whose times have whole seconds (FAT keeps two).
const SETTLE_COARSE: Duration = Duration::from_secs(3);

/// What identifies one state of a file: any write, truncation, rename over it or mode change
/// gives another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FileIdentity {
    dev: u64,
    ino: u64,
    size: u64,
    mode: u32,
    uid: u32,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileIdentity {
    /// The identity of the file `meta` describes (`None` off Unix: every load checks in full).
    pub(crate) fn of(meta: &Metadata) -> Option<Self> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            meta.is_file().then(|| Self {
                dev: meta.dev(),
                ino: meta.ino(),
                size: meta.size(),
                mode: meta.mode(),
                uid: meta.uid(),
                mtime: (meta.mtime(), meta.mtime_nsec()),
                ctime: (meta.ctime(), meta.ctime_nsec()),
            })
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            None
        }
    }

    /// The identity of an open file, from the descriptor itself.
    pub(crate) fn of_file(file: &File) -> Option<Self> {
        file.metadata().ok().as_ref().and_then(Self::of)
    }

    /// Its size in bytes.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// Whether only this user can change the file's bytes: owned by the effective user, not
    /// writable by group or others (what compiled code mapped after the check needs).
    pub(crate) fn writable_by_owner_only(&self) -> bool {
        #[cfg(unix)]
        {
            // SAFETY: `geteuid` has no preconditions and cannot fail.
            let me = unsafe { libc::geteuid() };
            self.uid == me && self.mode & 0o022 == 0
        }
        #[cfg(not(unix))]
        {
            false
        }
    }

    fn margin(&self) -> Duration {
        if self.ctime.1 == 0 && self.mtime.1 == 0 {
            SETTLE_COARSE
        } else {
            SETTLE
        }
    }

    fn ctime(&self) -> SystemTime {
        let (secs, nanos) = self.ctime;
        let at = Duration::new(secs.unsigned_abs(), nanos.clamp(0, 999_999_999) as u32);
        if secs >= 0 {
            SystemTime::UNIX_EPOCH + at
        } else {
            SystemTime::UNIX_EPOCH - at
        }
    }

    /// Whether this identity, taken before a check that started at `started`, may be
    /// recorded: its ctime is older than the margin, so an edit made after the check began
    /// cannot have kept it.
    pub(crate) fn settled(&self, started: SystemTime) -> bool {
        self.ctime() + self.margin() < started
    }

    /// Sleep until [`settled`](FileIdentity::settled) holds for a check starting then (at
    /// most the margin): what an install does before the check that records an identity.
    pub(crate) fn wait_settled(&self) {
        let ready = self.ctime() + self.margin() + Duration::from_millis(1);
        if let Ok(wait) = ready.duration_since(SystemTime::now()) {
            std::thread::sleep(wait.min(SETTLE_COARSE + Duration::from_secs(1)));
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Body {
    identity: FileIdentity,
}

/// The identity recorded at `record` for what `context` names (e.g. the sha256 the file
/// was found to have), if the record is sealed with `key` for exactly that.
pub(crate) fn recorded(record: &Path, key: &CacheKey, context: &[u8]) -> Option<FileIdentity> {
    use std::io::Read;
    let mut data = Vec::new();
    File::open(record)
        .ok()?
        .take(RECORD_MAX + 1)
        .read_to_end(&mut data)
        .ok()?;
    let rest = data
        .strip_prefix(RECORD_MAGIC.as_bytes())?
        .strip_prefix(b"\n")?;
    let newline = rest.iter().position(|&b| b == b'\n')?;
    let mac = blake3::Hash::from_hex(std::str::from_utf8(&rest[..newline]).ok()?).ok()?;
    let body = &rest[newline + 1..];
    // `blake3::Hash` compares in constant time.
    if key.seal(RECORD_DOMAIN, context, body) != mac {
        return None;
    }
    serde_json::from_slice::<Body>(body)
        .ok()
        .map(|b| b.identity)
}

/// Record `identity` at `record` for `context`, sealed with `key`. Best effort: a record
/// that cannot be written only means the next load checks in full.
pub(crate) fn record(record: &Path, key: &CacheKey, context: &[u8], identity: &FileIdentity) {
    let body = serde_json::to_vec(&Body {
        identity: *identity,
    })
    .expect("serialising plain data");
    let mac = key.seal(RECORD_DOMAIN, context, &body);
    let mut out = format!("{RECORD_MAGIC}\n{}\n", mac.to_hex()).into_bytes();
    out.extend_from_slice(&body);
    if let Err(e) = AtomicWrite::new().private().write(record, &out) {
        tracing::debug!(
            "could not record the identity of a verified file in `{}`: {e}",
            record.display()
        );
    }
}
