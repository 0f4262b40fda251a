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

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Meta {
    component_sha256: String,
    cwasm_xxh3: String,
    cwasm_len: u64,
    wasmtime: String,
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

    /// The compiled component for `bytes` (whose sha256 is `sha256`), from the cache when a
    /// valid entry exists, else compiled and stored.
    pub(crate) fn load_or_compile(
        &self,
        engine: &Engine,
        bytes: &[u8],
        sha256: &str,
    ) -> Result<(Component, CacheOutcome), CacheFailure> {
        let (cwasm, meta) = self.paths(sha256);
        let had_entry = meta.exists() || cwasm.exists();
        if let Some(component) = self.try_load(engine, &cwasm, &meta, sha256) {
            return Ok((component, CacheOutcome::Hit));
        }
        let component = Component::new(engine, bytes).map_err(CacheFailure::Compile)?;
        let serialized = component.serialize().map_err(CacheFailure::Compile)?;
        self.store(&cwasm, &meta, sha256, &serialized)?;
        let outcome = if had_entry {
            CacheOutcome::Replaced
        } else {
            CacheOutcome::Miss
        };
        Ok((component, outcome))
    }

    fn try_load(
        &self,
        engine: &Engine,
        cwasm: &Path,
        meta: &Path,
        sha256: &str,
    ) -> Option<Component> {
        let meta: Meta = serde_json::from_slice(&std::fs::read(meta).ok()?).ok()?;
        if meta.component_sha256 != sha256 || meta.wasmtime != wasmtime_version() {
            return None;
        }
        let data = std::fs::read(cwasm).ok()?;
        if data.len() as u64 != meta.cwasm_len || checksum(&data) != meta.cwasm_xxh3 {
            tracing::warn!("cache entry `{}` is corrupt; recompiling", cwasm.display());
            return None;
        }
        // SAFETY: the bytes were written by `store` below through this engine's
        // `Component::serialize` (the sidecar's checksum over exactly these bytes proves they
        // are the ones written), and wasmtime checks the engine compatibility header itself.
        match unsafe { Component::deserialize(engine, &data) } {
            Ok(component) => Some(component),
            Err(err) => {
                tracing::warn!(
                    "cache entry `{}` is stale ({err}); recompiling",
                    cwasm.display()
                );
                None
            }
        }
    }

    fn store(
        &self,
        cwasm: &Path,
        meta_path: &Path,
        sha256: &str,
        data: &[u8],
    ) -> Result<(), CacheFailure> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CacheFailure::Io { path, source }
        };
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let meta = Meta {
            component_sha256: sha256.to_string(),
            cwasm_xxh3: checksum(data),
            cwasm_len: data.len() as u64,
            wasmtime: wasmtime_version().to_string(),
        };
        // Meta last: a crash between the two renames leaves a `.cwasm` whose old or missing
        // sidecar does not match it, which `try_load` treats as no entry.
        write_atomic(&self.dir, cwasm, data).map_err(io(cwasm))?;
        let meta = serde_json::to_vec(&meta).expect("serialising a plain struct");
        write_atomic(&self.dir, meta_path, &meta).map_err(io(meta_path))?;
        Ok(())
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
