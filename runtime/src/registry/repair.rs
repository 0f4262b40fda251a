//! Rebuilding a lost or corrupt `index.json` from the installed plugin directories.
//!
//! Every version directory is checked before it goes back into the index: its component and
//! manifest must hash to what a record of the version says (its own `install.json`, written
//! at install, or else the last good index, `index.json.bak`), and the manifest must be valid
//! and name the directory's id and version. A version that cannot be checked so is reported
//! and left out, never trusted. What the user decided (enabled or not, the capabilities
//! granted, the active version) is taken from `index.json.bak` where it has the plugin; a
//! plugin it does not know comes back disabled, with nothing granted.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use semver::Version;
use sha2::{Digest, Sha256};

use crate::manifest::{Capabilities, Manifest, PluginId};

use super::error::RegistryError;
use super::index::{Index, PluginRecord, VersionRecord, REGISTRY_WRITE};
use super::report::{RepairOutcome, RepairedPlugin, Unverified};
use super::store::{component_in, install_record_in, manifest_in};
use super::Registry;

impl Registry {
    /// Rebuild the index from the installed plugin directories when it cannot be read
    /// ([`RegistryError::IndexCorrupt`], [`RegistryError::IndexInvalid`]) or has records
    /// that contradict themselves. A version goes back only if its component and manifest
    /// hash to what a record of it says (its own `install.json`, else `index.json.bak`) and
    /// its manifest names its directory's id and version; any other is reported in
    /// [`RepairOutcome::unverified`] and left out. Enabled state, grants and the active
    /// version come from `index.json.bak`; a plugin it lacks comes back disabled with nothing
    /// granted. The unreadable index is kept
    /// beside it as `index.json.corrupt`. An index that reads well is left alone
    /// ([`RepairOutcome::repaired`] is `false`); one written by a newer version is an error.
    pub fn repair_index(&self) -> Result<RepairOutcome, RegistryError> {
        let _lock = self.lock()?;
        let path = self.store.index_path();
        match Index::load(&self.store) {
            Ok(index) if index.broken.is_empty() => {
                return Ok(RepairOutcome {
                    repaired: false,
                    ..RepairOutcome::default()
                })
            }
            Ok(_)
            | Err(RegistryError::IndexCorrupt { .. } | RegistryError::IndexInvalid { .. }) => {}
            Err(other) => return Err(other),
        }
        let backup_path = self.store.index_backup_path();
        // A backup that cannot be read either only means no decisions to keep.
        let backup = Index::load_from(backup_path.clone()).ok();

        let mut outcome = RepairOutcome {
            repaired: true,
            backup: backup.as_ref().map(|_| backup_path),
            ..RepairOutcome::default()
        };
        let mut index = Index {
            // The registry's default embedder is the user's decision, like grants.
            embedder: backup.as_ref().and_then(|b| b.embedder.clone()),
            ..Index::default()
        };
        for (id, dir) in plugin_dirs(&self.store.plugins_dir(), &mut outcome.unverified) {
            let known = backup.as_ref().and_then(|b| b.plugins.get(&id));
            let mut versions = BTreeMap::new();
            for (version, version_dir) in version_dirs(&dir, &mut outcome.unverified) {
                let from_backup = known.and_then(|r| r.versions.get(&version));
                match verify(&id, &version, &version_dir, from_backup) {
                    Ok(record) => {
                        versions.insert(version, record);
                    }
                    Err(reason) => outcome.unverified.push(Unverified {
                        path: version_dir,
                        reason,
                    }),
                }
            }
            let Some(highest) = versions.keys().next_back().cloned() else {
                continue;
            };
            let record = match known {
                // The user's decisions stand, for the version they were made about.
                Some(known) if versions.contains_key(&known.active) => PluginRecord {
                    versions,
                    ..known.clone()
                },
                _ => {
                    let declared = versions[&highest].capabilities.clone();
                    PluginRecord {
                        active: highest,
                        enabled: false,
                        grants: Capabilities::default(),
                        pending_grants: (declared != Capabilities::default()).then_some(declared),
                        embedder: None,
                        config: Default::default(),
                        versions,
                        other: Default::default(),
                    }
                }
            };
            outcome.plugins.push(RepairedPlugin {
                id: id.clone(),
                active: record.active.clone(),
                versions: record.versions.keys().cloned().collect(),
                enabled: record.enabled,
                from_backup: known.is_some_and(|k| k.active == record.active),
            });
            index.plugins.insert(id, record);
        }

        // Keep what could not be read, then write the new index in its place.
        if let Ok(bytes) = fs::read(&path) {
            let kept = path.with_file_name("index.json.corrupt");
            REGISTRY_WRITE.durable().write(&kept, &bytes)?;
            fs::remove_file(&path).map_err(RegistryError::io("remove", &path))?;
            outcome.corrupt = Some(kept);
        }
        index.save(&self.store)?;
        Ok(outcome)
    }
}

/// `plugins/<id>/` directories whose name is a plugin id; anything else is reported.
fn plugin_dirs(plugins: &Path, unverified: &mut Vec<Unverified>) -> Vec<(PluginId, PathBuf)> {
    let mut out = Vec::new();
    for entry in sorted_entries(plugins) {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        match PluginId::parse(&name) {
            Ok(id) if path.is_dir() => out.push((id, path)),
            _ => unverified.push(Unverified {
                path,
                reason: "not a plugin directory (its name is not a plugin id)".into(),
            }),
        }
    }
    out
}

/// `<id>/<version>/` directories whose name is a semver version; anything else is reported.
fn version_dirs(plugin: &Path, unverified: &mut Vec<Unverified>) -> Vec<(Version, PathBuf)> {
    let mut out = Vec::new();
    for entry in sorted_entries(plugin) {
        let path = entry.path();
        match Version::parse(&entry.file_name().to_string_lossy()) {
            Ok(version) if path.is_dir() => out.push((version, path)),
            _ => unverified.push(Unverified {
                path,
                reason: "not a version directory (its name is not a version)".into(),
            }),
        }
    }
    out
}

fn sorted_entries(dir: &Path) -> Vec<fs::DirEntry> {
    let mut entries: Vec<fs::DirEntry> = fs::read_dir(dir)
        .map(|entries| entries.flatten().collect())
        .unwrap_or_default();
    entries.sort_by_key(fs::DirEntry::file_name);
    entries
}

/// The index record of the version in `dir`, if its files hash to what a record of it says
/// (its own `install.json`, else the backup's) and its manifest names this id and version;
/// why not, otherwise.
fn verify(
    id: &PluginId,
    version: &Version,
    dir: &Path,
    from_backup: Option<&VersionRecord>,
) -> Result<VersionRecord, String> {
    let own = fs::read(install_record_in(dir))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<VersionRecord>(&bytes).ok());
    let Some(recorded) = own.or_else(|| from_backup.cloned()) else {
        return Err(
            "no record of its hashes (no readable `install.json`, and the index backup \
                    does not list it): it cannot be verified"
                .into(),
        );
    };
    let check = |path: PathBuf, hash: &Option<String>, what: &str| -> Result<Vec<u8>, String> {
        let Some(hash) = hash.as_deref().map(str::to_ascii_lowercase) else {
            return Err(format!("its record has no sha256 of the {what}"));
        };
        let bytes =
            fs::read(&path).map_err(|e| format!("failed to read `{}`: {e}", path.display()))?;
        let found = hex::encode(Sha256::digest(&bytes));
        if found != hash {
            return Err(format!(
                "the {what} does not match its record: recorded sha256:{hash}, found \
                 sha256:{found}"
            ));
        }
        Ok(bytes)
    };
    check(component_in(dir), &recorded.sha256, "component")?;
    let text = check(manifest_in(dir), &recorded.manifest_sha256, "manifest")?;
    let text = String::from_utf8(text).map_err(|_| "its manifest is not UTF-8".to_string())?;
    let manifest = Manifest::from_str(&text, &manifest_in(dir))
        .map_err(|e| format!("its manifest is invalid: {e}"))?;
    if manifest.plugin.id != *id || manifest.plugin.version != *version {
        return Err(format!(
            "its manifest is `{}` {}, not the directory's `{id}` {version}",
            manifest.plugin.id, manifest.plugin.version
        ));
    }
    // The facts come from the verified manifest; only where it came from and when from the
    // record.
    Ok(VersionRecord {
        sha256: recorded.sha256,
        manifest_sha256: recorded.manifest_sha256,
        source: recorded.source,
        installed_at: recorded.installed_at,
        name: manifest.plugin.name,
        description: manifest.plugin.description,
        kind: manifest.plugin.kind,
        language: manifest.build.language,
        capabilities: manifest.capabilities,
        dependencies: manifest.dependencies,
        other: recorded.other,
    })
}
