//! The compiled-component cache.
//!
//! Compiling a Python or JavaScript component takes seconds; loading its compiled form takes
//! milliseconds. Entries live under `<dir>/<wasmtime version>-<engine hash>/` as
//! `<component sha256>.cwasm` plus a `.meta` sidecar recording the component hash and an
//! xxh3-128 checksum of the `.cwasm`. An entry is used only when its sidecar matches and the
//! checksum verifies, so a truncated, corrupted or foreign file is recompiled, never
//! deserialized. Both files are written to a temp file and renamed into place.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

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
    /// An entry was there but invalid (corrupt, stale, foreign); compiled and replaced.
    Replaced,
}

#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    component_sha256: String,
    cwasm_xxh3: String,
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
    /// An entry that cannot be used (corrupt, stale, foreign); it will be replaced.
    Invalid,
}

/// A directory of compiled components for one engine configuration.
#[derive(Debug, Clone)]
pub(crate) struct CompileCache {
    root: PathBuf,
    dir: PathBuf,
}

impl CompileCache {
    pub(crate) fn new(root: PathBuf, engine: &Engine) -> Self {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let dir = root.join(format!(
            "wasmtime-{}-{:016x}",
            wasmtime_version(),
            hasher.finish()
        ));
        Self { root, dir }
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

    /// The entry for the component whose sha256 is `sha256`.
    pub(crate) fn lookup(&self, engine: &Engine, sha256: &str) -> Lookup {
        let (cwasm, meta) = self.paths(sha256);
        if !meta.exists() && !cwasm.exists() {
            return Lookup::Absent;
        }
        match self.try_load(engine, &cwasm, &meta, sha256) {
            Some(hit) => Lookup::Hit(Box::new(hit)),
            None => Lookup::Invalid,
        }
    }

    fn try_load(
        &self,
        engine: &Engine,
        cwasm: &Path,
        meta: &Path,
        sha256: &str,
    ) -> Option<(Component, Inspection)> {
        let meta: Meta = serde_json::from_slice(&std::fs::read(meta).ok()?).ok()?;
        if meta.component_sha256 != sha256
            || meta.inspection.sha256 != sha256
            || meta.wasmtime != wasmtime_version()
        {
            return None;
        }
        if !self.verify(cwasm, &meta) {
            tracing::warn!("cache entry `{}` is corrupt; recompiling", cwasm.display());
            return None;
        }
        // SAFETY: the file was written by `compile_and_store` through this engine's
        // `Component::serialize` and renamed into place whole (never written in place); the
        // sidecar's checksum over exactly these bytes proves they are the ones written, and
        // wasmtime checks the engine compatibility header itself.
        match unsafe { Component::deserialize_file(engine, cwasm) } {
            Ok(component) => Some((component, meta.inspection)),
            Err(err) => {
                tracing::warn!(
                    "cache entry `{}` is stale ({err}); recompiling",
                    cwasm.display()
                );
                None
            }
        }
    }

    /// Whether the `.cwasm` has the length and checksum its sidecar recorded. Reads through a
    /// map of the file: no copy of a 20 MB entry.
    fn verify(&self, cwasm: &Path, meta: &Meta) -> bool {
        let Ok(file) = std::fs::File::open(cwasm) else {
            return false;
        };
        if file.metadata().map(|m| m.len()).ok() != Some(meta.cwasm_len) {
            return false;
        }
        // SAFETY: entries are only ever replaced by renaming a new file over them, never
        // modified in place, so the mapped bytes cannot change while they are read.
        match unsafe { memmap2::Mmap::map(&file) } {
            Ok(map) => checksum(&map) == meta.cwasm_xxh3,
            Err(_) => false,
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
        let meta = Meta {
            component_sha256: inspection.sha256.clone(),
            cwasm_xxh3: checksum(&serialized),
            cwasm_len: serialized.len() as u64,
            wasmtime: wasmtime_version().to_string(),
            inspection: inspection.clone(),
        };
        // Meta last: a crash between the two renames leaves a `.cwasm` whose old or missing
        // sidecar does not match it, which `try_load` treats as no entry.
        write_atomic(&self.dir, &cwasm, &serialized).map_err(io(&cwasm))?;
        let meta = serde_json::to_vec(&meta).expect("serialising plain data");
        write_atomic(&self.dir, &meta_path, &meta).map_err(io(&meta_path))?;
        Ok(component)
    }
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

fn write_atomic(dir: &Path, path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(data)?;
    tmp.as_file().sync_data()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn checksum(data: &[u8]) -> String {
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(data))
}

fn wasmtime_version() -> &'static str {
    // The pinned version; part of the key so an upgrade never reads old entries.
    "48.0.8"
}
