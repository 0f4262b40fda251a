//! Install: check a component, decide what installing it means (fresh, upgrade, downgrade,
//! reinstall; which grants), resolve dependencies, then stage, place and commit it so that
//! a crash at any step leaves the old state or the new one.

use std::fmt;
use std::fs;
use std::path::Path;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::cache::CacheDir;
use crate::capability::{self, CONTRACT_VERSION};
use crate::inspect::{self, InspectWarning, MANIFEST_SECTION};
use crate::manifest::{self, Capabilities, Manifest, PluginId};
use crate::HostCaps;

use super::error::RegistryError;
use super::grants::CapabilityDiff;
use super::index::{now_rfc3339, Index, PluginRecord, Source, VersionRecord};
use super::recover::{undo_install, write_synced, Intent};
use super::report::{DependencyState, InstallAction, InstallOutcome, Warning};
use super::resolve;
use super::store::{component_in, install_record_in, manifest_in, precompiled_in, verified_in};
use super::Registry;
use crate::fs::sync_dir;

/// What to install.
#[derive(Debug, Clone)]
pub struct InstallRequest {
    /// The component, with the manifest `cargo flowtrace build` embeds in it.
    pub component: Vec<u8>,
    /// Where it came from, recorded in the index.
    pub source: Source,
    /// Reinstall the version that is installed already.
    pub force: bool,
    /// Install a version lower than the active one.
    pub allow_downgrade: bool,
    /// The plugin the user named, when they did: a component of another id is refused.
    pub expected_id: Option<PluginId>,
}

impl InstallRequest {
    /// Install `component` from `source`, without `force` or `allow_downgrade`.
    pub fn new(component: Vec<u8>, source: Source) -> Self {
        Self {
            component,
            source,
            force: false,
            allow_downgrade: false,
            expected_id: None,
        }
    }
}

/// The steps of an install, in order. [`Registry::on_install_step`] hears each one after
/// it is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InstallStep {
    /// The registry lock is held; nothing is written yet.
    Locked,
    /// The component and manifest are written and flushed in a staging dir under `tmp/`.
    Staged,
    /// The precompiler hook has run (or there is none).
    Precompiled,
    /// A directory already at the version's place was moved aside into the staging area
    /// (a reinstall); skipped when there is none.
    Displaced,
    /// The staged version is renamed into `plugins/<id>/<version>/`.
    Placed,
    /// The index, naming the new version, is written: the install is done.
    Committed,
    /// The staging area is removed.
    Cleaned,
}

impl InstallStep {
    /// Every step, in order.
    pub const ALL: [InstallStep; 7] = [
        InstallStep::Locked,
        InstallStep::Staged,
        InstallStep::Precompiled,
        InstallStep::Displaced,
        InstallStep::Placed,
        InstallStep::Committed,
        InstallStep::Cleaned,
    ];

    /// The step's name: `locked`, `staged`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            InstallStep::Locked => "locked",
            InstallStep::Staged => "staged",
            InstallStep::Precompiled => "precompiled",
            InstallStep::Displaced => "displaced",
            InstallStep::Placed => "placed",
            InstallStep::Committed => "committed",
            InstallStep::Cleaned => "cleaned",
        }
    }
}

impl fmt::Display for InstallStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for InstallStep {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        InstallStep::ALL
            .into_iter()
            .find(|step| step.as_str() == s)
            .ok_or_else(|| format!("no install step named `{s}`"))
    }
}

/// What the precompiler hook gets: compile `component` into `cache` (the staged
/// `precompiled/` directory with the home's key, e.g. as
/// [`LoadOptions::cache`](crate::LoadOptions)).
#[derive(Debug)]
pub struct Precompile<'a> {
    /// The component.
    pub component: &'a [u8],
    /// Its manifest.
    pub manifest: &'a Manifest,
    /// Where the compiled code goes, and the key that seals it.
    pub cache: &'a CacheDir,
}

/// A component that passed every check that does not need the registry.
struct Checked {
    manifest: Manifest,
    manifest_text: String,
    sha256: String,
    manifest_sha256: String,
}

impl Registry {
    /// Install a component: check it, resolve its dependencies, stage it and commit it.
    ///
    /// The manifest comes from the component's embedded `flowtrace-manifest` section. A
    /// fresh install is enabled with the capabilities the manifest declares. An upgrade
    /// that asks for more than was granted installs but stays disabled, with the request
    /// recorded as pending, until [`Registry::enable`] grants it.
    pub fn install(&self, request: InstallRequest) -> Result<InstallOutcome, RegistryError> {
        let checked = check(&request, &self.caps)?;
        let manifest = &checked.manifest;
        let id = manifest.plugin.id.clone();
        let version = manifest.plugin.version.clone();

        let _lock = self.lock()?;
        self.step(InstallStep::Locked);
        let mut index = Index::load(&self.store)?;
        let previous = index.plugins.get(&id);
        let action = action(previous, &checked, &request)?;
        let previous_version = previous.map(|r| r.active.clone());

        let declared = &manifest.capabilities;
        let (granted, pending, enabled, changes) = match previous {
            None => (
                declared.clone(),
                None,
                true,
                CapabilityDiff::between(&Capabilities::default(), declared),
            ),
            Some(record) => {
                let changes = CapabilityDiff::between(&record.grants, declared);
                if changes.added.is_empty() {
                    // Nothing new: the grants narrow to what this version asks for.
                    (declared.clone(), None, record.enabled, changes)
                } else {
                    (
                        record.grants.clone(),
                        Some(declared.clone()),
                        false,
                        changes,
                    )
                }
            }
        };

        let record = VersionRecord {
            sha256: Some(checked.sha256.clone()),
            manifest_sha256: Some(checked.manifest_sha256.clone()),
            source: request.source.clone(),
            installed_at: now_rfc3339(),
            name: manifest.plugin.name.clone(),
            description: manifest.plugin.description.clone(),
            kind: manifest.plugin.kind,
            language: manifest.build.language,
            capabilities: declared.clone(),
            dependencies: manifest.dependencies.clone(),
            other: Default::default(),
        };
        // A broken record (no entry for its active version) is replaced, as on a fresh
        // install; its version entries stay, so their files are still tracked.
        let stale = index.broken.remove(&id);
        let entry = index
            .plugins
            .entry(id.clone())
            .or_insert_with(|| PluginRecord {
                active: version.clone(),
                enabled,
                grants: Capabilities::default(),
                pending_grants: None,
                config: Default::default(),
                embedder: None,
                versions: stale.map(|r| r.versions).unwrap_or_default(),
                other: Default::default(),
            });
        entry.active = version.clone();
        entry.enabled = enabled;
        entry.grants = granted.clone();
        entry.pending_grants = pending;
        let own_record = serde_json::to_vec_pretty(&record).expect("a record serialises");
        entry.versions.insert(version.clone(), record);

        let universe = resolve::universe(&index);
        resolve::check(&universe, &id).map_err(|source| RegistryError::Dependencies {
            id: id.clone(),
            version: version.clone(),
            source,
        })?;
        let mut warnings = Vec::new();
        let settings = super::settings::problems(manifest, &entry_config(&index, &id));
        if !settings.is_empty() {
            warnings.push(Warning::Settings {
                id: id.clone(),
                version: version.clone(),
                problems: settings,
            });
        }
        let dependents = resolve::dependents(&universe, &id);
        if !enabled && !dependents.is_empty() {
            warnings.push(Warning::Dependents {
                dependency: id.clone(),
                dependents,
                state: DependencyState::AwaitingGrants,
            });
        }

        // Stage.
        let io = RegistryError::io;
        let txn = self.store.new_tmp_dir("install-")?;
        write_synced(
            &txn.path().join(super::recover::INTENT_FILE),
            &Intent::Install {
                id: id.clone(),
                version: version.clone(),
                sha256: checked.sha256.clone(),
            }
            .to_json(),
        )?;
        let stage = txn.path().join("stage");
        fs::create_dir(&stage).map_err(io("create directory", &stage))?;
        write_synced(&component_in(&stage), &request.component)?;
        write_synced(&manifest_in(&stage), checked.manifest_text.as_bytes())?;
        // The version's own record: what rebuilds the index if it is lost.
        write_synced(&install_record_in(&stage), &own_record)?;
        let precompiled = precompiled_in(&stage);
        fs::create_dir(&precompiled).map_err(io("create directory", &precompiled))?;
        sync_dir(&stage).map_err(io("flush directory", &stage))?;
        sync_dir(txn.path()).map_err(io("flush directory", txn.path()))?;
        self.step(InstallStep::Staged);

        if let Some(precompile) = &self.precompile {
            precompile(&Precompile {
                component: &request.component,
                manifest,
                cache: &CacheDir::new(&precompiled, self.cache_key.clone()),
            })
            .map_err(|source| RegistryError::Precompile {
                id: id.clone(),
                version: version.clone(),
                source,
            })?;
        }
        // Record the component's identity once its times have settled, so that loads do
        // not hash it again while it stays the same (waiting only when it was precompiled:
        // otherwise the first load compiles it anyway).
        super::lifecycle::check_component(
            &id,
            component_in(&stage),
            &verified_in(&stage),
            &self.cache_key,
            &checked.sha256,
            self.precompile.is_some(),
        )?;
        self.step(InstallStep::Precompiled);

        // Place and commit. On an error, put back what was there: the index on disk says
        // what that is (the old one, unless the new one was written).
        let version_dir = self.store.version_dir(&id, &version);
        let placed = self.place_and_commit(&index, txn.path(), &version_dir);
        if let Err(e) = placed {
            match Index::load(&self.store) {
                Ok(on_disk) => {
                    let undone = undo_install(
                        &self.store,
                        &on_disk,
                        txn.path(),
                        id.clone(),
                        version.clone(),
                        &checked.sha256,
                    );
                    match undone {
                        Some(_) => drop(txn),
                        None => txn.leave(),
                    }
                }
                Err(_) => txn.leave(),
            }
            return Err(e);
        }
        drop(txn);
        self.step(InstallStep::Cleaned);

        Ok(InstallOutcome {
            id,
            kind: manifest.plugin.kind,
            action,
            previous: previous_version,
            enabled,
            pending: if enabled || changes.added.is_empty() {
                Vec::new()
            } else {
                changes.added.clone()
            },
            granted,
            changes,
            sha256: checked.sha256,
            path: version_dir,
            warnings,
            version,
        })
    }
}

impl Registry {
    /// Move the staged version (`<txn>/stage`) to `version_dir`, moving aside whatever is
    /// there, and write the index.
    fn place_and_commit(
        &self,
        index: &Index,
        txn: &Path,
        version_dir: &Path,
    ) -> Result<(), RegistryError> {
        let io = RegistryError::io;
        let plugin_dir = version_dir.parent().expect("a version dir has a parent");
        fs::create_dir_all(plugin_dir).map_err(io("create directory", plugin_dir))?;
        if fs::symlink_metadata(version_dir).is_ok() {
            fs::rename(version_dir, txn.join("displaced"))
                .map_err(io("move aside", version_dir))?;
            sync_dir(plugin_dir).map_err(io("flush directory", plugin_dir))?;
            sync_dir(txn).map_err(io("flush directory", txn))?;
            self.step(InstallStep::Displaced);
        }
        fs::rename(txn.join("stage"), version_dir).map_err(io("move into place", version_dir))?;
        sync_dir(plugin_dir).map_err(io("flush directory", plugin_dir))?;
        sync_dir(txn).map_err(io("flush directory", txn))?;
        self.step(InstallStep::Placed);
        index.save(&self.store)?;
        self.step(InstallStep::Committed);
        Ok(())
    }
}

/// Everything that can be checked without the registry: the component validates, carries
/// a valid manifest of the expected id and a contract this runtime implements, and its
/// imports and exports match that manifest.
fn check(request: &InstallRequest, caps: &HostCaps) -> Result<Checked, RegistryError> {
    let inspection = inspect::inspect(&request.component)
        .map_err(|source| RegistryError::InvalidComponent { source })?;
    let Some(text) = inspection.embedded_manifest.clone() else {
        if let Some(count) = inspection.warnings.iter().find_map(|w| match w {
            InspectWarning::DuplicateManifest { count } => Some(*count),
            _ => None,
        }) {
            return Err(RegistryError::DuplicateManifest { count });
        }
        return Err(RegistryError::NoEmbeddedManifest {
            warnings: inspection
                .warnings
                .iter()
                .filter(|w| !matches!(w, InspectWarning::WorldNotDecoded { .. }))
                .cloned()
                .collect(),
        });
    };
    let shown = format!("{}#{MANIFEST_SECTION}", request.source);
    let manifest = Manifest::from_str(&text, Path::new(&shown))
        .map_err(|source| RegistryError::InvalidManifest { source })?;
    let id = &manifest.plugin.id;
    let version = &manifest.plugin.version;
    if let Some(expected) = &request.expected_id {
        if expected != id {
            return Err(RegistryError::IdMismatch {
                expected: expected.clone(),
                found: id.clone(),
            });
        }
    }
    if !manifest.plugin.flowtrace.matches(&CONTRACT_VERSION) {
        return Err(RegistryError::Contract {
            id: id.clone(),
            version: version.clone(),
            required: manifest.plugin.flowtrace.clone(),
        });
    }
    manifest::check_limits(&text, Path::new(&shown), caps).map_err(|source| {
        RegistryError::LimitsAboveCaps {
            id: id.clone(),
            version: version.clone(),
            source,
        }
    })?;
    let report = capability::check(&inspection, &manifest);
    if !report.is_ok() {
        return Err(RegistryError::Policy {
            id: id.clone(),
            version: version.clone(),
            report: Box::new(report),
        });
    }
    Ok(Checked {
        manifest_sha256: hex::encode(Sha256::digest(text.as_bytes())),
        sha256: inspection.sha256,
        manifest_text: text,
        manifest,
    })
}

/// Whether installing this version over `previous` is allowed, and what it is.
fn action(
    previous: Option<&PluginRecord>,
    checked: &Checked,
    request: &InstallRequest,
) -> Result<InstallAction, RegistryError> {
    let id = &checked.manifest.plugin.id;
    let version = &checked.manifest.plugin.version;
    let Some(record) = previous else {
        return Ok(InstallAction::Installed);
    };
    // A version installed already: the same bytes may become active again; other bytes
    // under the same version replace them only with `force`.
    if let Some(existing) = record.versions.get(version) {
        if existing.sha256.as_deref() != Some(checked.sha256.as_str()) && !request.force {
            return Err(RegistryError::AlreadyInstalled {
                id: id.clone(),
                version: version.clone(),
            });
        }
    }
    refused_before(record, id, version, request.force, request.allow_downgrade)?;
    if *version == record.active {
        return Ok(InstallAction::Reinstalled);
    }
    if *version < record.active {
        return Ok(InstallAction::Downgraded);
    }
    Ok(InstallAction::Upgraded)
}

/// The settings recorded for `id`, which an install keeps.
fn entry_config(
    index: &Index,
    id: &PluginId,
) -> std::collections::BTreeMap<String, serde_json::Value> {
    index
        .plugins
        .get(id)
        .map(|r| r.config.clone())
        .unwrap_or_default()
}

/// What refuses `id` `version` over `record` whatever the component's bytes: the active
/// version again without `force`, a lower one without `allow_downgrade`.
fn refused_before(
    record: &PluginRecord,
    id: &PluginId,
    version: &semver::Version,
    force: bool,
    allow_downgrade: bool,
) -> Result<(), RegistryError> {
    if *version == record.active && !force {
        return Err(RegistryError::AlreadyInstalled {
            id: id.clone(),
            version: version.clone(),
        });
    }
    if *version < record.active && !allow_downgrade {
        return Err(RegistryError::Downgrade {
            id: id.clone(),
            installed: record.active.clone(),
            requested: version.clone(),
        });
    }
    Ok(())
}

impl Registry {
    /// Whether installing `id` `version` with these flags would be refused whatever the
    /// component holds ([`RegistryError::AlreadyInstalled`] for the active version without
    /// `force`, [`RegistryError::Downgrade`] for a lower one without `allow_downgrade`):
    /// what a front end checks before it spends time building or downloading a component
    /// whose manifest it already knows. [`Registry::install`] decides the same way.
    pub fn check_install(
        &self,
        id: &PluginId,
        version: &semver::Version,
        force: bool,
        allow_downgrade: bool,
    ) -> Result<(), RegistryError> {
        let index = Index::load(&self.store)?;
        match index.plugins.get(id) {
            Some(record) => refused_before(record, id, version, force, allow_downgrade),
            None => Ok(()),
        }
    }
}
