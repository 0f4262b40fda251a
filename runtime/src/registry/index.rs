//! `index.json`: what is installed, from where, with which hash, enabled or not, granted what.
//!
//! A machine-written format: every field has a default or is required for a reason, unknown
//! fields are kept (an older flowtrace rewriting the index keeps what a newer one added), and
//! `format-version` says which layout the file has. Every write is atomic: a temp file in
//! the same directory, flushed, renamed over the old file, and the directory flushed.
//!
//! ```json
//! {
//!   "format-version": 1,
//!   "embedder": "embedder-minilm",
//!   "plugins": {
//!     "sample-evaluator": {
//!       "active": "0.2.0",
//!       "enabled": true,
//!       "grants": { "network": ["api.openai.com"], "env": [], "fs-read": [], ... },
//!       "pending-grants": null,
//!       "config": { "threshold": 0.8, "tags": ["prod"] },
//!       "embedder": "embedder-minilm",
//!       "versions": {
//!         "0.2.0": {
//!           "sha256": "9f86d0...",
//!           "manifest-sha256": "60303a...",
//!           "source": { "type": "git", "url": "https://...", "commit": "1a2b3c..." },
//!           "installed-at": "2025-06-01T12:00:00Z",
//!           "name": "Sample Evaluator", "kind": "evaluator", "language": "rust",
//!           "capabilities": { ... },
//!           "dependencies": { "embedder-minilm": "^1.2" }
//!         }
//!       }
//!     }
//!   }
//! }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::PathBuf;

use semver::{Version, VersionReq};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::manifest::{Capabilities, Language, PluginId, PluginKind};

use super::error::RegistryError;
use super::store::Store;
use crate::fs::AtomicWrite;

/// The index layout this runtime writes, and the newest it reads.
pub const INDEX_FORMAT_VERSION: u32 = 1;

/// The largest index read: far beyond thousands of plugins.
const MAX_INDEX_BYTES: u64 = 64 << 20;

/// Prefix of the temp files an index write renames into place; a crash can leave one.
pub(crate) const INDEX_TEMP_PREFIX: &str = ".index-";

/// How the registry writes its files at its root (the index, the lock's sidecar): owner-only,
/// through temp files that recovery finds by their prefix.
pub(crate) const REGISTRY_WRITE: AtomicWrite =
    AtomicWrite::new().private().temp_prefix(INDEX_TEMP_PREFIX);

/// Where an installed version came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case"
)]
pub enum Source {
    /// A plugin directory, built before it was installed.
    Path {
        /// The directory.
        path: PathBuf,
    },
    /// A built component (`.wasm`).
    File {
        /// The file.
        path: PathBuf,
    },
    /// A `.tar.gz` archive of a plugin directory or of a built plugin.
    Archive {
        /// The archive.
        path: PathBuf,
    },
    /// A git repository, cloned.
    Git {
        /// The URL or path it was cloned from, without the `#rev`.
        url: String,
        /// The `#rev` asked for, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rev: Option<String>,
        /// The commit that was checked out (`git rev-parse HEAD`).
        commit: String,
        /// The plugin's directory in the repository, when not its root.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
    },
    /// An OCI registry.
    Oci {
        /// `oci://host[:port]/repository:tag`, as asked for (the tag resolved).
        reference: String,
        /// The manifest digest that was pulled, `sha256:<hex>`.
        digest: String,
        /// The id of the trusted key whose signature verified, if one did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signed_by: Option<String>,
    },
}

impl fmt::Display for Source {
    /// `path/to/dir`, `plugin.wasm`, `plugin.tar.gz`, `https://host/repo.git@1a2b3c4d5e6f`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Path { path } | Source::File { path } | Source::Archive { path } => {
                write!(f, "{}", path.display())
            }
            Source::Git {
                url, commit, path, ..
            } => {
                write!(f, "{url}@{}", commit.get(..12).unwrap_or(commit))?;
                match path {
                    Some(path) => write!(f, ":{path}"),
                    None => Ok(()),
                }
            }
            Source::Oci {
                reference,
                digest,
                signed_by,
            } => {
                if reference.contains('@') {
                    f.write_str(reference)?;
                } else {
                    let hex = digest.trim_start_matches("sha256:");
                    write!(f, "{reference}@sha256:{}", hex.get(..12).unwrap_or(hex))?;
                }
                match signed_by {
                    Some(key) => write!(f, " (signed by {key})"),
                    None => Ok(()),
                }
            }
        }
    }
}

/// The whole index.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Index {
    #[serde(default = "format_one")]
    pub format_version: u32,
    #[serde(default)]
    pub plugins: BTreeMap<PluginId, PluginRecord>,
    /// The embedder that serves `embeddings` to the plugins that have none of their own
    /// (`PluginRecord::embedder`); none serves none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedder: Option<PluginId>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
    /// Records that contradict themselves (an active version with no entry), moved out of
    /// `plugins` on load so one bad record costs only its own plugin; written back as they
    /// were unless `plugins` has the id again (a reinstall replaces it).
    #[serde(skip)]
    pub broken: BTreeMap<PluginId, PluginRecord>,
}

fn format_one() -> u32 {
    1
}

impl Default for Index {
    fn default() -> Self {
        Self {
            format_version: INDEX_FORMAT_VERSION,
            plugins: BTreeMap::new(),
            embedder: None,
            other: Map::new(),
            broken: BTreeMap::new(),
        }
    }
}

/// One plugin: its versions, which one runs, and what the user granted it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct PluginRecord {
    /// The version that runs; always a key of `versions`. Required: without it the record
    /// cannot mean anything.
    pub active: Version,
    /// Missing reads as disabled: never run what the index does not say to run.
    #[serde(default)]
    pub enabled: bool,
    /// What the user granted; what the runtime links.
    #[serde(default)]
    pub grants: Capabilities,
    /// What the active version asks for beyond `grants`, awaiting approval
    /// (`enable --grant`); the plugin stays disabled meanwhile.
    #[serde(default)]
    pub pending_grants: Option<Capabilities>,
    /// The user's settings: values for `[config]` keys, as JSON, whichever version is
    /// active (checked against its declared types when set and when loaded).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub config: BTreeMap<String, Value>,
    /// The embedder that serves this plugin's `embeddings`, over the registry's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedder: Option<PluginId>,
    #[serde(default)]
    pub versions: BTreeMap<Version, VersionRecord>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// One installed version.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct VersionRecord {
    /// SHA-256 of `plugin.wasm`, lowercase hex. Missing is an error at load, never a
    /// skipped check.
    #[serde(default)]
    pub sha256: Option<String>,
    /// SHA-256 of `flowtrace.toml`; checked like `sha256`.
    #[serde(default)]
    pub manifest_sha256: Option<String>,
    pub source: Source,
    /// RFC 3339, UTC.
    #[serde(default)]
    pub installed_at: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub kind: PluginKind,
    pub language: Language,
    /// What this version's manifest declares.
    #[serde(default)]
    pub capabilities: Capabilities,
    #[serde(default)]
    pub dependencies: BTreeMap<PluginId, VersionReq>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl PluginRecord {
    /// The record of the active version. [`Index::load`] moves records without one to
    /// [`Index::broken`], so it exists.
    pub fn active_record(&self) -> &VersionRecord {
        &self.versions[&self.active]
    }
}

impl Index {
    /// Read the index; a missing file is an empty registry.
    pub fn load(store: &Store) -> Result<Index, RegistryError> {
        Index::load_from(store.index_path())
    }

    /// Read an index file (the index, or its backup); a missing file is an empty registry.
    pub fn load_from(path: PathBuf) -> Result<Index, RegistryError> {
        let file = match std::fs::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Index::default()),
            Err(source) => {
                return Err(RegistryError::Io {
                    action: "read",
                    path,
                    source,
                })
            }
        };
        let mut bytes = Vec::new();
        file.take(MAX_INDEX_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|source| RegistryError::Io {
                action: "read",
                path: path.clone(),
                source,
            })?;
        if bytes.len() as u64 > MAX_INDEX_BYTES {
            return Err(RegistryError::IndexInvalid {
                path,
                reason: format!("it is larger than {MAX_INDEX_BYTES} bytes"),
            });
        }
        // Read the version first: a newer layout may not parse as this one.
        #[derive(Deserialize)]
        struct Probe {
            #[serde(rename = "format-version", default = "format_one")]
            format_version: u32,
        }
        let probe: Probe =
            serde_json::from_slice(&bytes).map_err(|source| RegistryError::IndexCorrupt {
                path: path.clone(),
                source,
            })?;
        if probe.format_version > INDEX_FORMAT_VERSION {
            return Err(RegistryError::IndexTooNew {
                path,
                found: probe.format_version,
                supported: INDEX_FORMAT_VERSION,
            });
        }
        let mut index: Index =
            serde_json::from_slice(&bytes).map_err(|source| RegistryError::IndexCorrupt {
                path: path.clone(),
                source,
            })?;
        let (good, broken) = std::mem::take(&mut index.plugins)
            .into_iter()
            .partition(|(_, record)| record.versions.contains_key(&record.active));
        index.plugins = good;
        index.broken = broken;
        Ok(index)
    }

    /// The error for a plugin whose record is in [`broken`](Index::broken).
    pub fn broken_error(&self, store: &Store, id: &PluginId) -> Option<RegistryError> {
        let record = self.broken.get(id)?;
        Some(RegistryError::IndexInvalid {
            path: store.index_path(),
            reason: format!(
                "plugin `{id}` has active version {} but no record of it",
                record.active
            ),
        })
    }

    /// Write the index atomically, then the same bytes to `index.json.bak`: a copy of the
    /// last index this registry committed, which survives whatever happens to `index.json`
    /// afterwards (an edit by hand, a damaged disk) and is what a repair takes the user's
    /// decisions from.
    pub fn save(&self, store: &Store) -> Result<(), RegistryError> {
        let mut whole = self.clone();
        for (id, record) in &self.broken {
            whole
                .plugins
                .entry(id.clone())
                .or_insert_with(|| record.clone());
        }
        let mut bytes = serde_json::to_vec_pretty(&whole).expect("the index serialises");
        bytes.push(b'\n');
        REGISTRY_WRITE
            .durable()
            .write(&store.index_path(), &bytes)?;
        Ok(REGISTRY_WRITE
            .durable()
            .write(&store.index_backup_path(), &bytes)?)
    }
}

/// Now as RFC 3339 in UTC, to the second: `2025-06-01T12:00:00Z`.
pub(crate) fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

/// Seconds since the epoch as RFC 3339 (Howard Hinnant's `civil_from_days`).
pub(crate) fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_748_779_200), "2025-06-01T12:00:00Z");
        assert_eq!(rfc3339(4_107_542_399), "2100-02-28T23:59:59Z");
    }
}
