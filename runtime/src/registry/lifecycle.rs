//! Enable, disable, uninstall, list, info, and reading an installed component to load it.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use semver::Version;
use sha2::{Digest, Sha256};

use std::io::Read;

use crate::cache::{CacheDir, CacheKey};
use crate::identity::FileIdentity;
use crate::manifest::{Capabilities, ConfigValue, Manifest, PluginId, PluginKind};

use super::error::RegistryError;
use super::grants;
use super::index::{Index, PluginRecord, VersionRecord};
use super::recover::{write_synced, Intent, INTENT_FILE};
use super::report::{
    BrokenPlugin, DependencyState, DisableOutcome, EnableOutcome, PluginDetails, PluginSummary,
    UninstallOutcome, VersionDetails, Warning,
};
use super::resolve;
use super::settings::SettingEdit;
use super::store::Store;
use super::Registry;
use crate::fs::sync_dir;

/// An installed component, checked against its recorded hashes, ready to load.
#[derive(Debug, Clone)]
pub struct InstalledComponent {
    /// The plugin.
    pub id: PluginId,
    /// The active version.
    pub version: Version,
    /// The component.
    pub bytes: Vec<u8>,
    /// Its manifest.
    pub manifest: Manifest,
    /// What the user granted: pass as [`LoadOptions::grants`](crate::LoadOptions).
    pub grants: Capabilities,
    /// Whether it is enabled.
    pub enabled: bool,
    /// Its compiled-code cache, sealed with the home's key: pass as
    /// [`LoadOptions::cache`](crate::LoadOptions).
    pub precompiled: CacheDir,
    /// SHA-256 of `bytes`, lowercase hex.
    pub sha256: String,
    /// The user's settings, checked against the manifest's `[config]`: pass as
    /// [`LoadOptions::config`](crate::LoadOptions) (with any overrides on top).
    pub config: BTreeMap<String, ConfigValue>,
}

impl Registry {
    /// Every installed plugin, by id.
    pub fn list(&self) -> Result<Vec<PluginSummary>, RegistryError> {
        let index = Index::load(&self.store)?;
        Ok(index
            .plugins
            .iter()
            .map(|(id, record)| summary(id, record))
            .collect())
    }

    /// The plugins whose record in the index is broken (an active version with no entry).
    /// [`list`](Registry::list) leaves them out, and loading one fails with
    /// [`RegistryError::IndexInvalid`]; the other plugins are not affected. Reinstalling one
    /// replaces its record, and [`uninstall`](Registry::uninstall) of the whole plugin removes
    /// it.
    pub fn broken(&self) -> Result<Vec<BrokenPlugin>, RegistryError> {
        let index = Index::load(&self.store)?;
        Ok(index
            .broken
            .iter()
            .map(|(id, record)| BrokenPlugin {
                id: id.clone(),
                active: record.active.clone(),
                problem: format!(
                    "active version {} has no record in the index",
                    record.active
                ),
            })
            .collect())
    }

    /// The enabled plugins, of `kind` when given: what Flowtrace loads.
    pub fn enabled(&self, kind: Option<PluginKind>) -> Result<Vec<PluginSummary>, RegistryError> {
        let mut list = self.list()?;
        list.retain(|p| p.enabled && kind.is_none_or(|k| p.kind == k));
        Ok(list)
    }

    /// Everything the registry knows of one plugin.
    pub fn info(&self, id: &PluginId) -> Result<PluginDetails, RegistryError> {
        let index = Index::load(&self.store)?;
        let record = plugin(&self.store, &index, id)?;
        let active = record.active_record();
        Ok(PluginDetails {
            summary: summary(id, record),
            description: active.description.clone(),
            declared_capabilities: active.capabilities.clone(),
            dependencies: active.dependencies.clone(),
            dependents: resolve::dependents(&resolve::universe(&index), id),
            embedder: record
                .grants
                .embeddings
                .then(|| super::wiring::choice(&index, id)),
            embeds_for: super::wiring::served_by(&index, id),
            installed: record
                .versions
                .iter()
                .map(|(version, r)| VersionDetails {
                    version: version.clone(),
                    active: *version == record.active,
                    sha256: r.sha256.clone(),
                    source: r.source.clone(),
                    installed_at: r.installed_at.clone(),
                    path: self.store.version_dir(id, version),
                })
                .collect(),
        })
    }

    /// Enable a plugin. Refused while its active version waits for grants, unless `grant`:
    /// then what it asks for is recorded as granted. Its dependencies must be installed,
    /// enabled and at matching active versions.
    pub fn enable(&self, id: &PluginId, grant: bool) -> Result<EnableOutcome, RegistryError> {
        self.enable_with(id, grant, &[])
    }

    /// [`enable`](Registry::enable), changing the plugin's settings in the same index write
    /// (as [`configure`](Registry::configure) checks them): when either is refused, neither
    /// happens.
    pub fn enable_with(
        &self,
        id: &PluginId,
        grant: bool,
        settings: &[SettingEdit],
    ) -> Result<EnableOutcome, RegistryError> {
        let _lock = self.lock()?;
        let mut index = Index::load(&self.store)?;
        let record = plugin_mut(&self.store, &mut index, id)?;
        let version = record.active.clone();
        let configured = if settings.is_empty() {
            false
        } else {
            let manifest = read_manifest(&self.store, id, &version, record.active_record())?;
            let before = record.config.clone();
            let problems = super::settings::apply(&manifest, &mut record.config, settings);
            if !problems.is_empty() {
                return Err(RegistryError::Settings {
                    id: id.clone(),
                    version,
                    problems,
                });
            }
            record.config != before
        };
        // What the active version asks for decides, whatever the pending record says.
        let requested = record.active_record().capabilities.clone();
        let granted = grants::uncovered(&record.grants, &requested);
        if !granted.is_empty() {
            if !grant {
                return Err(RegistryError::GrantsPending {
                    id: id.clone(),
                    version,
                    added: granted,
                });
            }
            record.grants = requested;
        }
        let unchanged =
            record.enabled && granted.is_empty() && record.pending_grants.is_none() && !configured;
        record.pending_grants = None;
        record.enabled = true;
        resolve::check(&resolve::universe(&index), id).map_err(|source| {
            RegistryError::Dependencies {
                id: id.clone(),
                version: version.clone(),
                source,
            }
        })?;
        if !unchanged {
            index.save(&self.store)?;
        }
        Ok(EnableOutcome {
            id: id.clone(),
            version,
            granted,
            unchanged,
        })
    }

    /// Disable a plugin. Refused while enabled plugins depend on it, unless `force` (the
    /// outcome then warns about them).
    pub fn disable(&self, id: &PluginId, force: bool) -> Result<DisableOutcome, RegistryError> {
        let _lock = self.lock()?;
        let mut index = Index::load(&self.store)?;
        let dependents = resolve::dependents(&resolve::universe(&index), id);
        let record = plugin_mut(&self.store, &mut index, id)?;
        let version = record.active.clone();
        if !record.enabled {
            return Ok(DisableOutcome {
                id: id.clone(),
                version,
                unchanged: true,
                warnings: Vec::new(),
            });
        }
        if !dependents.is_empty() && !force {
            return Err(RegistryError::HasDependents {
                id: id.clone(),
                action: "disable",
                dependents,
            });
        }
        record.enabled = false;
        index.save(&self.store)?;
        Ok(DisableOutcome {
            id: id.clone(),
            version,
            unchanged: false,
            warnings: dependents_warning(id, dependents, DependencyState::Disabled),
        })
    }

    /// Uninstall a plugin, or one inactive `version` of it. Uninstalling the plugin is
    /// refused while enabled plugins depend on it, unless `force` (the outcome then warns
    /// about them). The index is written first; the files go after, and a crash between
    /// leaves them for the next open to remove.
    pub fn uninstall(
        &self,
        id: &PluginId,
        version: Option<&Version>,
        force: bool,
    ) -> Result<UninstallOutcome, RegistryError> {
        let _lock = self.lock()?;
        let mut index = Index::load(&self.store)?;
        let dependents = resolve::dependents(&resolve::universe(&index), id);
        if version.is_none() {
            // A broken record can still be removed whole: what it lists goes.
            if let Some(record) = index.broken.remove(id) {
                index.plugins.insert(id.clone(), record);
            }
        }
        let record = plugin_mut(&self.store, &mut index, id)?;
        let removed: Vec<Version> = match version {
            None => record.versions.keys().cloned().collect(),
            Some(v) if !record.versions.contains_key(v) => {
                return Err(RegistryError::VersionNotInstalled {
                    id: id.clone(),
                    version: v.clone(),
                })
            }
            Some(v) if *v == record.active && record.versions.len() > 1 => {
                return Err(RegistryError::ActiveVersion {
                    id: id.clone(),
                    version: v.clone(),
                })
            }
            Some(v) => vec![v.clone()],
        };
        let whole = removed.len() == record.versions.len();
        let mut warnings = Vec::new();
        if whole && !dependents.is_empty() {
            if !force {
                return Err(RegistryError::HasDependents {
                    id: id.clone(),
                    action: "uninstall",
                    dependents,
                });
            }
            warnings = dependents_warning(id, dependents, DependencyState::Uninstalled);
        }

        let txn = self.store.new_tmp_dir("uninstall-")?;
        write_synced(
            &txn.path().join(INTENT_FILE),
            &Intent::Remove {
                id: id.clone(),
                versions: removed.clone(),
            }
            .to_json(),
        )?;
        sync_dir(txn.path()).map_err(|source| RegistryError::Io {
            action: "flush directory",
            path: txn.path().to_path_buf(),
            source,
        })?;
        let remaining = if whole {
            index.plugins.remove(id);
            Vec::new()
        } else {
            for v in &removed {
                record.versions.remove(v);
            }
            record.versions.keys().cloned().collect()
        };
        index.save(&self.store)?;
        let mut all_gone = true;
        for (n, v) in removed.iter().enumerate() {
            let dir = self.store.version_dir(id, v);
            // Renamed out first, so a half-deleted directory is never at its place.
            let trash = txn.path().join(format!("removed-{n}"));
            match fs::rename(&dir, &trash) {
                Ok(()) => {
                    let _ = fs::remove_dir_all(&trash);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(_) => all_gone = false,
            }
        }
        if whole {
            let _ = fs::remove_dir(self.store.plugin_dir(id));
        }
        if all_gone {
            drop(txn);
        } else {
            txn.leave(); // the next open tries again
        }
        Ok(UninstallOutcome {
            id: id.clone(),
            removed,
            remaining,
            warnings,
        })
    }

    /// Read the active version of a plugin to load it: the component and manifest are
    /// checked against the sha256 recorded at install. A mismatch, or a record without a
    /// hash, is an error: nothing is ever loaded unchecked.
    ///
    /// The component is hashed again only when its file changed since its last full check:
    /// see [`Registry::load`] and the crate's file identities (a sealed record of its inode,
    /// size, mode, owner, mtime and ctime, kept next to it in the registry).
    pub fn read_component(&self, id: &PluginId) -> Result<InstalledComponent, RegistryError> {
        self.read_version(id, None)
    }

    /// [`read_component`](Registry::read_component) of an installed `version` of `id` (the
    /// active one when `None`), checked the same way. A version that is not installed is
    /// [`RegistryError::VersionNotInstalled`].
    pub fn read_version(
        &self,
        id: &PluginId,
        version: Option<&Version>,
    ) -> Result<InstalledComponent, RegistryError> {
        let (mut installed, component) = self.open_version(id, version)?;
        installed.bytes = component.into_bytes(
            id,
            self.store.component_path(id, &installed.version),
            &installed.sha256,
        )?;
        Ok(installed)
    }

    /// Whether a load of the active version of `id` would skip hashing its component: its
    /// file is unchanged since its last full check (nothing is hashed to tell). For tests
    /// and benchmarks.
    #[doc(hidden)]
    pub fn component_unchanged(&self, id: &PluginId) -> Result<bool, RegistryError> {
        let index = Index::load(&self.store)?;
        let record = plugin(&self.store, &index, id)?;
        let version = &record.active;
        let entry = record.versions.get(version);
        let sha256 = recorded_hash(
            id,
            version,
            &entry.and_then(|e| e.sha256.clone()),
            "component",
        )?;
        let path = self.store.component_path(id, version);
        let identity = fs::File::open(&path)
            .ok()
            .as_ref()
            .and_then(FileIdentity::of_file);
        Ok(identity.is_some()
            && crate::identity::recorded(
                &self.store.verified_path(id, version),
                &self.cache_key,
                sha256.as_bytes(),
            ) == identity)
    }

    /// [`read_version`](Registry::read_version) that leaves the component unread when it is
    /// unchanged since its last full check (the returned `bytes` are then empty).
    pub(crate) fn open_version(
        &self,
        id: &PluginId,
        version: Option<&Version>,
    ) -> Result<(InstalledComponent, CheckedComponent), RegistryError> {
        let index = Index::load(&self.store)?;
        let record = plugin(&self.store, &index, id)?;
        let version = version.unwrap_or(&record.active).clone();
        let Some(entry) = record.versions.get(&version) else {
            return Err(RegistryError::VersionNotInstalled {
                id: id.clone(),
                version,
            });
        };
        let sha256 = recorded_hash(id, &version, &entry.sha256, "component")?;
        // Both hashes are required before either file is read.
        recorded_hash(id, &version, &entry.manifest_sha256, "manifest")?;
        let component = check_component(
            id,
            self.store.component_path(id, &version),
            &self.store.verified_path(id, &version),
            &self.cache_key,
            &sha256,
            false,
        )?;
        let manifest = read_manifest(&self.store, id, &version, entry)?;
        let config = super::settings::resolve(&manifest, &record.config).map_err(|problems| {
            RegistryError::Settings {
                id: id.clone(),
                version: version.clone(),
                problems,
            }
        })?;
        let installed = InstalledComponent {
            id: id.clone(),
            precompiled: CacheDir::new(
                self.store.precompiled_dir(id, &version),
                self.cache_key.clone(),
            ),
            version,
            bytes: Vec::new(),
            manifest,
            grants: record.grants.clone(),
            enabled: record.enabled,
            sha256,
            config,
        };
        Ok((installed, component))
    }
}

/// An installed component, checked against its recorded sha256.
#[derive(Debug)]
pub(crate) enum CheckedComponent {
    /// Hashed just now: its bytes.
    Read(Vec<u8>),
    /// Unchanged since its last full check (the sealed record holds this identity): open,
    /// not read.
    Unchanged {
        file: fs::File,
        identity: FileIdentity,
    },
}

impl CheckedComponent {
    /// Its bytes: an unchanged file is read now, and hashed if it changed meanwhile.
    fn into_bytes(
        self,
        id: &PluginId,
        path: PathBuf,
        recorded: &str,
    ) -> Result<Vec<u8>, RegistryError> {
        match self {
            CheckedComponent::Read(bytes) => Ok(bytes),
            CheckedComponent::Unchanged { file, identity } => {
                let mut bytes = Vec::with_capacity(identity.size() as usize);
                (&file)
                    .read_to_end(&mut bytes)
                    .map_err(|source| RegistryError::Io {
                        action: "read",
                        path: path.clone(),
                        source,
                    })?;
                if FileIdentity::of_file(&file) != Some(identity) {
                    check_hash(id, path, recorded, &bytes)?;
                }
                Ok(bytes)
            }
        }
    }
}

/// That `bytes`, the component of `id` read from `path`, hash to its `recorded` sha256.
fn check_hash(
    id: &PluginId,
    path: PathBuf,
    recorded: &str,
    bytes: &[u8],
) -> Result<(), RegistryError> {
    let found = hex::encode(Sha256::digest(bytes));
    if found == recorded {
        return Ok(());
    }
    Err(RegistryError::HashMismatch {
        id: id.clone(),
        path,
        recorded: recorded.to_string(),
        found,
    })
}

/// Check the component at `path` against its `recorded` sha256: unread when its identity is
/// the one sealed in `record` for that hash, else read whole and hashed, and its identity
/// sealed in `record` when its times have settled ([`crate::identity`]). With `wait`
/// (an install), wait for them to settle first, so the first load finds the record.
pub(crate) fn check_component(
    id: &PluginId,
    path: PathBuf,
    record: &std::path::Path,
    key: &CacheKey,
    recorded: &str,
    wait: bool,
) -> Result<CheckedComponent, RegistryError> {
    let io = |path: &PathBuf| {
        let path = path.clone();
        move |source| RegistryError::Io {
            action: "read",
            path,
            source,
        }
    };
    let mut file = fs::File::open(&path).map_err(io(&path))?;
    let before = FileIdentity::of_file(&file);
    if let Some(identity) = before {
        if crate::identity::recorded(record, key, recorded.as_bytes()) == Some(identity) {
            return Ok(CheckedComponent::Unchanged { file, identity });
        }
        if wait {
            identity.wait_settled();
        }
    }
    let started = std::time::SystemTime::now();
    let mut bytes = Vec::with_capacity(before.map_or(0, |id| id.size()) as usize);
    file.read_to_end(&mut bytes).map_err(io(&path))?;
    check_hash(id, path, recorded, &bytes)?;
    if let Some(identity) = before {
        if identity.settled(started) && FileIdentity::of_file(&file) == Some(identity) {
            crate::identity::record(record, key, recorded.as_bytes(), &identity);
        }
    }
    Ok(CheckedComponent::Read(bytes))
}

/// The hash recorded for one of a version's files: missing or empty is an error.
fn recorded_hash(
    id: &PluginId,
    version: &Version,
    hash: &Option<String>,
    file: &'static str,
) -> Result<String, RegistryError> {
    hash.as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(str::to_ascii_lowercase)
        .ok_or_else(|| RegistryError::MissingHash {
            id: id.clone(),
            version: version.clone(),
            file,
        })
}

/// The bytes of `path`, if their sha256 is `recorded`.
fn read_checked(id: &PluginId, path: PathBuf, recorded: String) -> Result<Vec<u8>, RegistryError> {
    let bytes = fs::read(&path).map_err(|source| RegistryError::Io {
        action: "read",
        path: path.clone(),
        source,
    })?;
    check_hash(id, path, &recorded, &bytes)?;
    Ok(bytes)
}

/// The manifest of an installed version, checked against its recorded sha256 and against
/// the id and version it is recorded under.
pub(crate) fn read_manifest(
    store: &Store,
    id: &PluginId,
    version: &Version,
    entry: &VersionRecord,
) -> Result<Manifest, RegistryError> {
    let manifest_sha256 = recorded_hash(id, version, &entry.manifest_sha256, "manifest")?;
    let manifest_path = store.manifest_path(id, version);
    let text = read_checked(id, manifest_path.clone(), manifest_sha256)?;
    let text = String::from_utf8_lossy(&text);
    let manifest = Manifest::from_str(&text, &manifest_path).map_err(|source| {
        RegistryError::InstalledManifest {
            path: manifest_path.clone(),
            source,
        }
    })?;
    if manifest.plugin.id != *id || manifest.plugin.version != *version {
        return Err(RegistryError::IndexInvalid {
            path: store.index_path(),
            reason: format!(
                "`{id}` {version} is recorded, but its manifest says `{}` {}",
                manifest.plugin.id, manifest.plugin.version
            ),
        });
    }
    Ok(manifest)
}

/// The record of `id`: not installed, or broken (an error naming the index), or usable.
pub(crate) fn plugin<'a>(
    store: &Store,
    index: &'a Index,
    id: &PluginId,
) -> Result<&'a PluginRecord, RegistryError> {
    index
        .plugins
        .get(id)
        .ok_or_else(|| missing(store, index, id))
}

pub(crate) fn plugin_mut<'a>(
    store: &Store,
    index: &'a mut Index,
    id: &PluginId,
) -> Result<&'a mut PluginRecord, RegistryError> {
    if !index.plugins.contains_key(id) {
        return Err(missing(store, index, id));
    }
    Ok(index.plugins.get_mut(id).expect("checked above"))
}

fn missing(store: &Store, index: &Index, id: &PluginId) -> RegistryError {
    index
        .broken_error(store, id)
        .unwrap_or_else(|| RegistryError::NotInstalled { id: id.clone() })
}

fn summary(id: &PluginId, record: &PluginRecord) -> PluginSummary {
    let active = record.active_record();
    PluginSummary {
        id: id.clone(),
        name: active.name.clone(),
        version: record.active.clone(),
        kind: active.kind,
        language: active.language,
        enabled: record.enabled,
        capabilities: record.grants.clone(),
        pending_grants: grants::uncovered(&record.grants, &active.capabilities),
        source: active.source.clone(),
        versions: record.versions.keys().cloned().collect(),
    }
}

fn dependents_warning(
    id: &PluginId,
    dependents: Vec<PluginId>,
    state: DependencyState,
) -> Vec<Warning> {
    if dependents.is_empty() {
        return Vec::new();
    }
    vec![Warning::Dependents {
        dependency: id.clone(),
        dependents,
        state,
    }]
}
