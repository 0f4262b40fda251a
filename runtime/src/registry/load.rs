//! Loading what the registry holds into a [`Runtime`]: what Flowtrace does at start.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::index::Index;
use super::lifecycle::CheckedComponent;
use super::{wiring, Registry, RegistryError};
use crate::error::{KindMismatch, LoadError};
use crate::host::Services;
use crate::manifest::{ConfigValue, PluginId, PluginKind};
use crate::plugin::{Embedder, KindHandle, LoadOptions, Plugin};
use crate::Runtime;

/// Why one installed plugin could not be loaded; the others still load.
#[derive(Debug, thiserror::Error)]
pub enum LoadEnabledError {
    /// The registry refused it (a hash mismatch, a missing file, no embedder chosen).
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The runtime refused it (policy, compilation, link).
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The embedder chosen to serve its `embeddings` did not load.
    #[error("embedder `{embedder}`, which serves its `embeddings`, did not load")]
    Embedder {
        /// The embedder.
        embedder: PluginId,
        /// Why (shared by every plugin it was to serve).
        #[source]
        source: Arc<LoadEnabledError>,
    },
    /// It is not of the kind asked for ([`Registry::load_enabled_as`]).
    #[error(transparent)]
    Kind(#[from] KindMismatch),
}

/// One enabled plugin and whether it loaded: a [`Plugin`], or a typed handle
/// ([`Registry::load_enabled_as`]).
#[derive(Debug)]
pub struct LoadedPlugin<P = Plugin> {
    /// The plugin.
    pub id: PluginId,
    /// Its kind.
    pub kind: PluginKind,
    /// The loaded plugin, or why not.
    pub plugin: Result<P, LoadEnabledError>,
}

impl Registry {
    /// A registry that compiles every install into its `precompiled/` directory with
    /// `runtime`, so the first load after an install is fast.
    pub fn precompiling_with(self, runtime: &Runtime) -> Self {
        let runtime = runtime.clone();
        self.with_precompiler(move |p| {
            runtime
                .precompile(p.component, p.cache)
                .map(drop)
                .map_err(|e| Box::new(e) as crate::error::BoxError)
        })
    }

    /// Load every enabled plugin (of `kind`, or of every kind), each with the capabilities
    /// the user granted, its settings and its precompiled code, after checking its recorded sha256.
    ///
    /// A plugin granted `embeddings` is served by `services.embeddings` when the host gives
    /// one; otherwise by the embedder the registry names for it
    /// ([`set_embedder`](Registry::set_embedder), [`embedder_for`](Registry::embedder_for)),
    /// loaded once however many plugins it serves. None is ever picked silently: with no
    /// embedder named, the plugin fails with [`RegistryError::EmbedderNotChosen`], and with
    /// one that is disabled or does not load, with the reason.
    pub fn load_enabled(
        &self,
        runtime: &Runtime,
        kind: Option<PluginKind>,
        services: &Services,
    ) -> Result<Vec<LoadedPlugin>, RegistryError> {
        let index = Index::load(self.store())?;
        let enabled = self.enabled(kind)?;
        let mut embedders: BTreeMap<PluginId, Result<Embedder, Arc<LoadEnabledError>>> =
            BTreeMap::new();
        let mut loaded = Vec::new();
        for summary in enabled {
            let granted = summary.capabilities.embeddings;
            let plugin = self
                .wire(
                    runtime,
                    &index,
                    &summary.id,
                    granted,
                    services,
                    &mut embedders,
                )
                .and_then(|services| self.load(runtime, &summary.id, &services));
            loaded.push(LoadedPlugin {
                id: summary.id,
                kind: summary.kind,
                plugin,
            });
        }
        Ok(loaded)
    }

    /// [`load_enabled`](Registry::load_enabled) of the plugins of one kind, as typed
    /// handles: `registry.load_enabled_as::<Evaluator>(&runtime, &services)`.
    ///
    /// ```no_run
    /// use flowtrace_plugins::registry::Registry;
    /// use flowtrace_plugins::{Evaluator, PreparedTrace, Runtime, Services};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let runtime = Runtime::new()?;
    /// let registry = Registry::open_default()?;
    /// let export = std::fs::read("traces.json")?;
    /// let traces = flowtrace_plugins::trace::parse_traces(&export)?;
    /// let trace = PreparedTrace::new(traces.into_iter().next().ok_or("no trace")?);
    /// for loaded in registry.load_enabled_as::<Evaluator>(&runtime, &Services::default())? {
    ///     let evaluator = loaded.plugin?;
    ///     println!("{}: {:?}", evaluator.id(), evaluator.evaluate(&trace)?.score);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn load_enabled_as<H: KindHandle>(
        &self,
        runtime: &Runtime,
        services: &Services,
    ) -> Result<Vec<LoadedPlugin<H>>, RegistryError> {
        Ok(self
            .load_enabled(runtime, Some(H::KIND), services)?
            .into_iter()
            .map(|l| LoadedPlugin {
                id: l.id,
                kind: l.kind,
                plugin: l.plugin.and_then(|p| Ok(H::from_plugin(p)?)),
            })
            .collect())
    }

    /// The services of `summary`'s plugin: `services` with the embedder that serves its
    /// `embeddings`, when it is granted them and the host gives none.
    fn wire(
        &self,
        runtime: &Runtime,
        index: &Index,
        id: &PluginId,
        granted_embeddings: bool,
        services: &Services,
        embedders: &mut BTreeMap<PluginId, Result<Embedder, Arc<LoadEnabledError>>>,
    ) -> Result<Services, LoadEnabledError> {
        if !granted_embeddings || services.embeddings.is_some() {
            return Ok(services.clone());
        }
        let Some(embedder) = wiring::choice(index, id).embedder().cloned() else {
            return Err(RegistryError::EmbedderNotChosen {
                id: id.clone(),
                embedders: wiring::embedders(index),
            }
            .into());
        };
        let unavailable = |reason: String, disabled: bool| RegistryError::EmbedderUnavailable {
            id: id.clone(),
            embedder: embedder.clone(),
            reason,
            disabled,
        };
        match index.plugins.get(&embedder) {
            None => return Err(unavailable("is not installed".into(), false).into()),
            Some(record) if record.active_record().kind != PluginKind::Embedder => {
                let kind = record.active_record().kind;
                let a = crate::diag::article(kind.as_str());
                return Err(unavailable(format!("is {a} {kind}, not an embedder"), false).into());
            }
            Some(record) if !record.enabled => {
                return Err(unavailable("is disabled".into(), true).into())
            }
            Some(_) => {}
        }
        let served = embedders
            .entry(embedder.clone())
            .or_insert_with(|| {
                // An embedder is loaded with the host's services, unwired: one granted
                // `embeddings` itself is served by none (its calls get `unavailable`).
                self.load_installed(runtime, &embedder, None, services, BTreeMap::new(), false)
                    .and_then(|p| Ok(p.as_embedder()?))
                    .map_err(Arc::new)
            })
            .clone();
        match served {
            Ok(handle) => Ok(Services {
                embeddings: Some(Arc::new(handle)),
                ..services.clone()
            }),
            Err(source) => Err(LoadEnabledError::Embedder { embedder, source }),
        }
    }

    /// Load the active version of one installed plugin, enabled or not, the way
    /// [`load_enabled`](Registry::load_enabled) loads each: its recorded sha256 checked
    /// ([`read_component`](Registry::read_component): hashed in full unless the file is
    /// unchanged since its last full check, and then not even read when its compiled code is
    /// cached or already held by `runtime`), only the capabilities the user
    /// granted, the settings the user gave it ([`configure`](Registry::configure); a recorded
    /// value its active version does not take is [`RegistryError::Settings`]), and its
    /// precompiled code (compiled there on the first load when the install did not
    /// precompile it).
    ///
    /// ```no_run
    /// use flowtrace_plugins::manifest::PluginId;
    /// use flowtrace_plugins::registry::Registry;
    /// use flowtrace_plugins::{Runtime, Services};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let runtime = Runtime::new()?;
    /// let registry = Registry::open_default()?;
    /// let plugin = registry.load(&runtime, &PluginId::parse("sample-evaluator")?, &Services::default())?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn load(
        &self,
        runtime: &Runtime,
        id: &PluginId,
        services: &Services,
    ) -> Result<Plugin, LoadEnabledError> {
        self.load_with_config(runtime, id, services, BTreeMap::new())
    }

    /// [`load`](Registry::load) with overrides of the plugin's `[config]` defaults and of the
    /// user's settings, checked against the declared types (a wrong one is
    /// [`LoadError::Config`]).
    ///
    /// A plugin whose active version asks for capabilities not granted yet (an upgrade that
    /// waits for [`enable`](Registry::enable) with `grant`) is
    /// [`RegistryError::GrantsPending`], before anything is linked. One granted `embeddings`
    /// is served as [`load_enabled`](Registry::load_enabled) serves it: by
    /// `services.embeddings`, else by the embedder the registry names for it.
    pub fn load_with_config(
        &self,
        runtime: &Runtime,
        id: &PluginId,
        services: &Services,
        config: BTreeMap<String, ConfigValue>,
    ) -> Result<Plugin, LoadEnabledError> {
        self.load_version_with_config(runtime, id, None, services, config)
    }

    /// [`load_with_config`](Registry::load_with_config) of an installed `version` of `id`
    /// (the active one when `None`), with the grants recorded for the plugin.
    pub fn load_version_with_config(
        &self,
        runtime: &Runtime,
        id: &PluginId,
        version: Option<&semver::Version>,
        services: &Services,
        config: BTreeMap<String, ConfigValue>,
    ) -> Result<Plugin, LoadEnabledError> {
        self.load_installed(runtime, id, version, services, config, true)
    }

    /// Load `version` of installed plugin `id` (the active one when `None`); with `wire`,
    /// with the embedder that serves its `embeddings` when `services` has none.
    fn load_installed(
        &self,
        runtime: &Runtime,
        id: &PluginId,
        version: Option<&semver::Version>,
        services: &Services,
        config: BTreeMap<String, ConfigValue>,
        wire: bool,
    ) -> Result<Plugin, LoadEnabledError> {
        let (installed, component) = self.open_version(id, version)?;
        // Linking with the grants would fail on the first import they leave out: say why.
        let added = super::grants::uncovered(&installed.grants, &installed.manifest.capabilities);
        if !added.is_empty() {
            return Err(RegistryError::GrantsPending {
                id: installed.id,
                version: installed.version,
                added,
            }
            .into());
        }
        let services = if wire && installed.grants.embeddings && services.embeddings.is_none() {
            let index = Index::load(self.store())?;
            let mut embedders = BTreeMap::new();
            self.wire(runtime, &index, id, true, services, &mut embedders)?
        } else {
            services.clone()
        };
        // The user's settings, and the caller's overrides over them.
        let mut settings = installed.config;
        settings.extend(config);
        let options = LoadOptions {
            grants: Some(installed.grants),
            config: settings,
            services,
            cache: Some(installed.precompiled),
            preload: None,
        };
        // `open_version` has just hashed the bytes and found the recorded hash, or found the
        // file unchanged since it did.
        Ok(match component {
            CheckedComponent::Read(bytes) => runtime.load_hashed(
                &bytes,
                Some(&installed.sha256),
                &installed.manifest,
                options,
            )?,
            CheckedComponent::Unchanged { file, identity } => runtime.load_unchanged(
                &file,
                identity,
                &installed.sha256,
                &installed.manifest,
                options,
            )?,
        })
    }
}
