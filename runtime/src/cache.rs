//! The compiled-component cache.
//!
//! Compiling a Python or JavaScript component takes seconds; loading its compiled form takes
//! milliseconds. But compiled code is native code: wasmtime runs it as it finds it, so an
//! entry must be code that this machine's user compiled, never bytes that arrived from
//! somewhere else (a plugin directory cloned with its `target/`, an archive, a registry).
//!
//! Every entry is therefore sealed with a [`CacheKey`]: a random 256-bit secret that only the
//! user's Flowtrace home holds (`$FLOWTRACE_HOME/cache.key`, mode 0600). Entries live under
//! `<dir>/wasmtime-<version>-<engine hash>/` as `<component sha256>.cwasm` plus a `.meta`
//! sidecar holding the entry's description (component hash, wasmtime version, the
//! component's inspection) and a keyed BLAKE3 MAC over that description and every byte of the
//! `.cwasm`. An entry is used only when the MAC verifies under this key: a forged, foreign,
//! truncated or corrupted entry is recompiled (with a warning) and replaced, never
//! deserialized. The `.cwasm` is read into memory once and the code wasmtime loads is the
//! very bytes the MAC was checked over, so nothing can swap the file in between.
//!
//! MACing 35 MB of an interpreter's code on every load costs more than loading it, so once an
//! entry's MAC has verified over every byte, the `.cwasm`'s identity (inode, size, mode,
//! owner, mtime, ctime; see the crate's file identities) is recorded in `<sha256>.seen`,
//! sealed with the same key and bound to the sidecar's MAC and description. While the file
//! keeps that identity, belongs to this user and is writable by no one else, it is mapped
//! (Linux: `/proc/self/fd/N` of the descriptor whose identity was checked) without being read
//! or MACed; any change to it changes its ctime, and it is then checked in full again.
//! [`Runtime::precompile`](crate::Runtime::precompile) waits for a new entry's times to settle
//! and checks it, so the first load after an install maps it.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::fs::AtomicWrite;
use crate::identity::FileIdentity;
use crate::inspect::Inspection;
use wasmtime::component::Component;
use wasmtime::Engine;

/// Where an entry came from, for callers that report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// No cache configured; compiled.
    Disabled,
    /// Loaded from a valid entry.
    Hit,
    /// No entry; compiled and stored.
    Miss,
    /// An entry was there but could not be trusted or used (not sealed with this key,
    /// corrupt, stale, another component's); compiled and replaced.
    Replaced,
    /// The runtime already held the compiled code of this component (another plugin loaded
    /// from it is alive): shared, nothing read or compiled.
    Shared,
}

impl CacheOutcome {
    /// `disabled`, `hit`, `miss`, `replaced` or `shared`.
    pub fn as_str(self) -> &'static str {
        match self {
            CacheOutcome::Disabled => "disabled",
            CacheOutcome::Hit => "hit",
            CacheOutcome::Miss => "miss",
            CacheOutcome::Replaced => "replaced",
            CacheOutcome::Shared => "shared",
        }
    }
}

/// The secret that seals compiled-cache entries: entries sealed with another key (made by
/// another user, on another machine, or forged) are never loaded.
///
/// ```
/// use flowtrace_plugins::cache::CacheKey;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let home = tempfile::tempdir()?;
/// let key = CacheKey::load_or_create(&home.path().join("cache.key"))?;
/// // The same file gives the same key.
/// assert_eq!(key, CacheKey::load_or_create(&home.path().join("cache.key"))?);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct CacheKey([u8; KEY_LEN]);

const KEY_LEN: usize = 32;

impl fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CacheKey(..)")
    }
}

/// Why the cache key could not be read or created.
#[derive(Debug, thiserror::Error)]
pub enum CacheKeyError {
    /// The operating system's random source failed.
    #[error("failed to generate a random cache key")]
    Random {
        /// The cause.
        #[source]
        source: getrandom::Error,
    },
    /// The key file could not be read or written.
    #[error("failed to {action} `{}`", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl CacheKey {
    /// A fresh random key held only in memory: what this process compiles with it can be
    /// loaded by this process alone.
    pub fn ephemeral() -> Result<Self, CacheKeyError> {
        let mut key = [0u8; KEY_LEN];
        getrandom::fill(&mut key).map_err(|source| CacheKeyError::Random { source })?;
        Ok(Self(key))
    }

    /// The key stored at `path`, created (32 random bytes, readable by its owner only) when
    /// there is none. A key file that other users could read or write, that another user
    /// owns, or that is not exactly 32 bytes is not trusted: it is replaced by a new key,
    /// which turns every entry sealed with the old one into a recompile.
    pub fn load_or_create(path: &Path) -> Result<Self, CacheKeyError> {
        let io = |action, path: &Path| {
            let path = path.to_path_buf();
            move |source| CacheKeyError::Io {
                action,
                path,
                source,
            }
        };
        match read_key(path) {
            Ok(Some(key)) => return Ok(key),
            Ok(None) => {}
            Err(reason) => {
                tracing::warn!(
                    "not trusting the compiled-cache key `{}` ({reason}); replacing it, so \
                     compiled code made with it will be compiled again",
                    path.display()
                );
                let key = Self::ephemeral()?;
                write_key(path, &key, true).map_err(io("write", path))?;
                return Ok(key);
            }
        }
        let key = Self::ephemeral()?;
        match write_key(path, &key, false) {
            Ok(()) => Ok(key),
            // Another process created it first: use theirs, so both seal alike.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => match read_key(path) {
                Ok(Some(key)) => Ok(key),
                _ => Err(CacheKeyError::Io {
                    action: "read",
                    path: path.to_path_buf(),
                    source: e,
                }),
            },
            Err(e) => Err(io("create", path)(e)),
        }
    }

    /// A keyed MAC over `context` and `body` for the purpose `domain` names.
    pub(crate) fn seal(&self, domain: &[u8], context: &[u8], body: &[u8]) -> blake3::Hash {
        let mut hasher = blake3::Hasher::new_keyed(&self.0);
        hasher.update(domain);
        hasher.update(&(context.len() as u64).to_le_bytes());
        hasher.update(context);
        hasher.update(body);
        hasher.finalize()
    }

    fn mac(&self, body: &[u8], code: &[u8]) -> blake3::Hash {
        let mut hasher = blake3::Hasher::new_keyed(&self.0);
        hasher.update(SEAL_DOMAIN);
        hasher.update(&(body.len() as u64).to_le_bytes());
        hasher.update(body);
        hasher.update(code);
        hasher.finalize()
    }
}

/// `Ok(None)`: no key file. `Err(reason)`: a file that must not be trusted.
fn read_key(path: &Path) -> Result<Option<CacheKey>, String> {
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let meta = file.metadata().map_err(|e| e.to_string())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.mode() & 0o077 != 0 {
            return Err(format!(
                "its mode {:o} lets other users read or write it",
                meta.mode() & 0o777
            ));
        }
        // SAFETY: `geteuid` has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return Err(format!("it belongs to user {}, not {me}", meta.uid()));
        }
    }
    if !meta.is_file() || meta.len() != KEY_LEN as u64 {
        return Err(format!("it is not a {KEY_LEN}-byte file"));
    }
    let mut key = [0u8; KEY_LEN];
    file.read_exact(&mut key).map_err(|e| e.to_string())?;
    Ok(Some(CacheKey(key)))
}

/// Write the key to a temp file (mode 0600 from its creation) and move it into place:
/// without `replace`, only if no key is there yet.
fn write_key(path: &Path, key: &CacheKey, replace: bool) -> std::io::Result<()> {
    let write = AtomicWrite::new().private().durable();
    let write = if replace {
        write
    } else {
        write.keep_existing()
    };
    write.write(path, &key.0).map_err(|e| e.source)
}

/// Where a cache lives and the key its entries are sealed with.
#[derive(Debug, Clone)]
pub struct CacheDir {
    /// The directory (created when the first entry is stored).
    pub dir: PathBuf,
    /// The key that seals and checks its entries.
    pub key: CacheKey,
}

impl CacheDir {
    /// A cache at `dir` sealed with `key`.
    pub fn new(dir: impl Into<PathBuf>, key: CacheKey) -> Self {
        Self {
            dir: dir.into(),
            key,
        }
    }
}

/// Tag hashed before every sealed entry, so a MAC made for anything else never verifies.
const SEAL_DOMAIN: &[u8] = b"flowtrace compiled-cache entry v2\0";
/// First line of every `.meta` file.
const META_MAGIC: &str = "flowtrace-cache-v2";
/// A sidecar bigger than this is not ours (inspections are a few KiB).
const META_MAX: u64 = 16 << 20;

#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    component_sha256: String,
    cwasm_len: u64,
    wasmtime: String,
    /// The inspection of the component, so a cached load skips validating and decoding it
    /// again (the sha256 proves it is the same component).
    inspection: Inspection,
}

/// What the cache holds for a component.
pub(crate) enum Lookup {
    /// A valid entry: the compiled component and its inspection.
    Hit(Box<(Component, Inspection)>),
    /// No entry.
    Absent,
    /// An entry that cannot be used (not sealed with this key, corrupt, stale, foreign); it
    /// will be replaced.
    Invalid,
}

/// A directory of compiled components for one engine configuration.
#[derive(Debug, Clone)]
pub(crate) struct CompileCache {
    root: PathBuf,
    dir: PathBuf,
    key: CacheKey,
}

impl CompileCache {
    pub(crate) fn new(at: &CacheDir, engine: &Engine) -> Self {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let dir = at.dir.join(format!(
            "wasmtime-{}-{:016x}",
            wasmtime_version(),
            hasher.finish()
        ));
        Self {
            root: at.dir.clone(),
            dir,
            key: at.key.clone(),
        }
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    fn paths(&self, sha256: &str) -> (PathBuf, PathBuf) {
        (
            self.dir.join(format!("{sha256}.cwasm")),
            self.dir.join(format!("{sha256}.meta")),
        )
    }

    /// The identity record of an entry's `.cwasm` ([`crate::identity`]).
    fn seen_path(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}.seen"))
    }

    /// The entry for the component whose sha256 is `sha256`.
    pub(crate) fn lookup(&self, engine: &Engine, sha256: &str) -> Lookup {
        let (cwasm, meta) = self.paths(sha256);
        if !meta.exists() && !cwasm.exists() {
            return Lookup::Absent;
        }
        match self.try_load(engine, &cwasm, &meta, sha256) {
            Ok(hit) => Lookup::Hit(Box::new(hit)),
            Err(reason) => {
                tracing::warn!(
                    "compiled cache entry `{}` {reason}; compiling the component again",
                    cwasm.display()
                );
                Lookup::Invalid
            }
        }
    }

    /// Whether the entry of `sha256` would be mapped without reading it: its `.cwasm` is
    /// unchanged since its seal was last checked in full (tests of that route use it).
    #[cfg(feature = "test-support")]
    pub(crate) fn unchanged(&self, sha256: &str) -> bool {
        let (cwasm, meta) = self.paths(sha256);
        let Ok(sidecar) = read_bounded(&meta, META_MAX) else {
            return false;
        };
        let Some((mac, body)) = split_sidecar(&sidecar) else {
            return false;
        };
        let mut context = mac.as_bytes().to_vec();
        context.extend_from_slice(blake3::hash(body).as_bytes());
        std::fs::File::open(&cwasm)
            .ok()
            .as_ref()
            .and_then(FileIdentity::of_file)
            .is_some_and(|id| {
                id.writable_by_owner_only()
                    && crate::identity::recorded(&self.seen_path(sha256), &self.key, &context)
                        == Some(id)
            })
    }

    /// Wait until the entry of `sha256` has been on disk long enough for a check of it to
    /// record its identity, then check it (recording the identity): what
    /// [`Runtime::precompile`](crate::Runtime::precompile) does, so that the first load
    /// after an install maps the code without reading it whole.
    pub(crate) fn settle(&self, engine: &Engine, sha256: &str) -> Lookup {
        let (cwasm, _) = self.paths(sha256);
        if let Some(identity) = std::fs::File::open(&cwasm)
            .ok()
            .as_ref()
            .and_then(FileIdentity::of_file)
        {
            identity.wait_settled();
        }
        self.lookup(engine, sha256)
    }

    /// The entry, or why it cannot be used (words that follow "entry `x`").
    ///
    /// Two ways in. When this user's process checked the `.cwasm` in full before and it has
    /// not changed since (its identity, from the descriptor opened here, is the one recorded
    /// in the sealed `.seen` record for this very sidecar), wasmtime maps that descriptor's
    /// file: the 35 MB of an interpreter's code are neither read nor hashed. Otherwise the
    /// whole file is read once, its seal checked over those bytes, and those bytes loaded.
    fn try_load(
        &self,
        engine: &Engine,
        cwasm: &Path,
        meta: &Path,
        sha256: &str,
    ) -> Result<(Component, Inspection), String> {
        let sidecar = read_bounded(meta, META_MAX)
            .map_err(|e| format!("has no readable sidecar `{}` ({e})", meta.display()))?;
        let (mac, body) = split_sidecar(&sidecar)
            .ok_or_else(|| format!("has a sidecar `{}` in no known format", meta.display()))?;
        let mut file = std::fs::File::open(cwasm).map_err(|e| format!("cannot be read ({e})"))?;
        let before = FileIdentity::of_file(&file);
        // What a `.seen` record vouches for: this seal over this description.
        let mut context = mac.as_bytes().to_vec();
        context.extend_from_slice(blake3::hash(body).as_bytes());
        let seen = self.seen_path(sha256);
        if let Some(identity) = before.filter(|id| {
            id.writable_by_owner_only()
                && crate::identity::recorded(&seen, &self.key, &context) == Some(*id)
        }) {
            match self.load_unchanged(engine, &file, identity, body, sha256) {
                Ok(Some(hit)) => return Ok(hit),
                Ok(None) => {}
                Err(reason) => tracing::debug!(
                    "compiled cache entry `{}` {reason}; checking it in full",
                    cwasm.display()
                ),
            }
        }
        let started = std::time::SystemTime::now();
        let mut code = Vec::with_capacity(before.map_or(0, |id| id.size()) as usize);
        file.read_to_end(&mut code)
            .map_err(|e| format!("cannot be read ({e})"))?;
        // The seal first: nothing of an entry is believed before it verifies.
        if self.key.mac(body, &code) != mac {
            return Err(
                "was not compiled on this machine by this user, or was altered since \
                 (its seal does not verify with this Flowtrace home's key)"
                    .into(),
            );
        }
        let meta = parse_meta(body, sha256, code.len() as u64)?;
        // SAFETY: `code` is exactly the bytes this key sealed, and only `compile_and_store`
        // seals, over the output of this engine configuration's `Component::serialize`; the
        // key never leaves this user's Flowtrace home. wasmtime checks the engine
        // compatibility header itself, and copies `code` into memory of its own, so nothing
        // can change the bytes between the check above and their use.
        let component = match unsafe { Component::deserialize(engine, &code) } {
            Ok(component) => component,
            Err(err) => return Err(format!("is stale ({err})")),
        };
        // The file was read whole between two identical identities taken from its
        // descriptor: remember it, so the next load maps it unread.
        if let Some(identity) = before {
            if identity.settled(started)
                && identity.writable_by_owner_only()
                && FileIdentity::of_file(&file) == Some(identity)
            {
                crate::identity::record(&seen, &self.key, &context, &identity);
            }
        }
        Ok((component, meta.inspection))
    }

    /// The entry from `file`, whose identity is the one recorded when its seal was last
    /// checked in full: `Ok(None)` where mapping a descriptor is not supported.
    fn load_unchanged(
        &self,
        engine: &Engine,
        file: &std::fs::File,
        identity: FileIdentity,
        body: &[u8],
        sha256: &str,
    ) -> Result<Option<(Component, Inspection)>, String> {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let meta = parse_meta(body, sha256, identity.size())?;
            // `/proc/self/fd/N` opens the very file this descriptor has open (the link is
            // not resolved by name), so a file renamed into the entry's place since the
            // identity was read is not the one mapped.
            let path = format!("/proc/self/fd/{}", file.as_raw_fd());
            // SAFETY: the file's identity (inode, size, ctime: any write changes it, and no
            // user can set a ctime) is the one recorded, under this home's key, when this
            // process's user last checked its seal over every byte, and that record binds
            // this sidecar's seal and description. It is owned by this user and writable by
            // no one else, so only this user can change it after the check below; and the
            // check below finds it unchanged once it is mapped.
            let component = unsafe { Component::deserialize_file(engine, &path) }
                .map_err(|err| format!("is stale ({err})"))?;
            if FileIdentity::of_file(file) != Some(identity) {
                return Err("changed while it was being loaded".into());
            }
            Ok(Some((component, meta.inspection)))
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (engine, file, identity, body, sha256);
            Ok(None)
        }
    }

    /// Compile `bytes` (already inspected) and store the result with its inspection.
    pub(crate) fn compile_and_store(
        &self,
        engine: &Engine,
        bytes: &[u8],
        inspection: &Inspection,
    ) -> Result<Component, CacheFailure> {
        let component = Component::new(engine, bytes).map_err(CacheFailure::Compile)?;
        let serialized = component.serialize().map_err(CacheFailure::Compile)?;
        let (cwasm, meta_path) = self.paths(&inspection.sha256);
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CacheFailure::Io { path, source }
        };
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let body = serde_json::to_vec(&Meta {
            component_sha256: inspection.sha256.clone(),
            cwasm_len: serialized.len() as u64,
            wasmtime: wasmtime_version().to_string(),
            inspection: inspection.clone(),
        })
        .expect("serialising plain data");
        let mac = self.key.mac(&body, &serialized);
        let mut sidecar = format!("{META_MAGIC}\n{}\n", mac.to_hex()).into_bytes();
        sidecar.extend_from_slice(&body);
        // Meta last: a crash between the two renames leaves a `.cwasm` whose old or missing
        // sidecar does not seal it, which `try_load` treats as an invalid entry.
        write_entry(&cwasm, &serialized).map_err(io(&cwasm))?;
        write_entry(&meta_path, &sidecar).map_err(io(&meta_path))?;
        Ok(component)
    }
}

/// Seal `code` again under `key`, keeping the sidecar's description: what a forger who
/// knows the format does (tests of the forgery routes use it).
#[cfg(feature = "test-support")]
pub(crate) fn reseal(meta: &Path, code: &[u8], key: &CacheKey) {
    let sidecar = std::fs::read(meta).expect("a readable sidecar");
    let (_, body) = split_sidecar(&sidecar).expect("a sidecar in the current format");
    let mut out = format!("{META_MAGIC}\n{}\n", key.mac(body, code).to_hex()).into_bytes();
    out.extend_from_slice(body);
    std::fs::write(meta, out).expect("a writable sidecar");
}

/// The description of an entry of `code_len` bytes for the component `sha256`, from a
/// sidecar body whose seal has been checked.
fn parse_meta(body: &[u8], sha256: &str, code_len: u64) -> Result<Meta, String> {
    let meta: Meta = serde_json::from_slice(body)
        .map_err(|e| format!("has a sealed sidecar that does not parse ({e})"))?;
    if meta.component_sha256 != sha256
        || meta.inspection.sha256 != sha256
        || meta.cwasm_len != code_len
    {
        return Err("belongs to another component".into());
    }
    if meta.wasmtime != wasmtime_version() {
        return Err(format!("was made by wasmtime {}", meta.wasmtime));
    }
    Ok(meta)
}

/// `META_MAGIC \n <mac hex> \n <body>`.
fn split_sidecar(sidecar: &[u8]) -> Option<(blake3::Hash, &[u8])> {
    let rest = sidecar
        .strip_prefix(META_MAGIC.as_bytes())?
        .strip_prefix(b"\n")?;
    let newline = rest.iter().position(|&b| b == b'\n')?;
    let mac = std::str::from_utf8(&rest[..newline]).ok()?;
    let mac = blake3::Hash::from_hex(mac).ok()?;
    Some((mac, &rest[newline + 1..]))
}

fn read_bounded(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    let mut data = Vec::new();
    file.take(max + 1).read_to_end(&mut data)?;
    if data.len() as u64 > max {
        return Err(std::io::Error::other(format!("larger than {max} bytes")));
    }
    Ok(data)
}

/// Why the cache could not produce a component.
#[derive(Debug)]
pub(crate) enum CacheFailure {
    Compile(wasmtime::Error),
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// An entry's file, owner-only, on disk before it is in place.
fn write_entry(path: &Path, data: &[u8]) -> std::io::Result<()> {
    AtomicWrite::new()
        .private()
        .durable()
        .write(path, data)
        .map_err(|e| e.source)
}

fn wasmtime_version() -> &'static str {
    // The pinned version; part of the key so an upgrade never reads old entries.
    "48.0.8"
}
