//! Loading what the registry holds into a [`Runtime`]: what Flowtrace does at start.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Registry, RegistryError};
use crate::error::LoadError;
use crate::host::Services;
use crate::manifest::{ConfigValue, PluginId, PluginKind};
use crate::plugin::{LoadOptions, Plugin};
use crate::Runtime;

/// Why one installed plugin could not be loaded; the others still load.
#[derive(Debug, thiserror::Error)]
pub enum LoadEnabledError {
    /// The registry refused it (a hash mismatch, a missing file).
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The runtime refused it (policy, compilation, link).
    #[error(transparent)]
    Load(#[from] LoadError),
}

/// One enabled plugin and whether it loaded.
#[derive(Debug)]
pub struct LoadedPlugin {
    /// The plugin.
    pub id: PluginId,
    /// Its kind.
    pub kind: PluginKind,
    /// The loaded plugin, or why not.
    pub plugin: Result<Plugin, LoadEnabledError>,
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
    /// Embedders load first; when `services` has no embedding provider, the first enabled
    /// embedder that loads serves the `embeddings` capability of the others.
    pub fn load_enabled(
        &self,
        runtime: &Runtime,
        kind: Option<PluginKind>,
        services: &Services,
    ) -> Result<Vec<LoadedPlugin>, RegistryError> {
        let mut enabled = self.enabled(None)?;
        // Embedders first, then by id (the order `enabled` returns).
        enabled.sort_by_key(|p| p.kind != PluginKind::Embedder);
        let mut services = services.clone();
        let mut loaded = Vec::new();
        for summary in enabled {
            let wanted = kind.is_none_or(|k| k == summary.kind);
            let needed_as_embedder =
                summary.kind == PluginKind::Embedder && services.embeddings.is_none();
            if !wanted && !needed_as_embedder {
                continue;
            }
            let plugin = self.load_one(runtime, &summary.id, &services);
            if let (Ok(p), true) = (&plugin, needed_as_embedder) {
                services.embeddings = Some(Arc::new(p.clone()));
            }
            if wanted {
                loaded.push(LoadedPlugin {
                    id: summary.id,
                    kind: summary.kind,
                    plugin,
                });
            }
        }
        Ok(loaded)
    }

    fn load_one(
        &self,
        runtime: &Runtime,
        id: &PluginId,
        services: &Services,
    ) -> Result<Plugin, LoadEnabledError> {
        self.load(runtime, id, services)
    }

    /// Load the active version of one installed plugin, enabled or not, the way
    /// [`load_enabled`](Registry::load_enabled) loads each: its recorded sha256 checked
    /// ([`read_component`](Registry::read_component)), only the capabilities the user
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
    /// [`RegistryError::GrantsPending`], before anything is linked.
    pub fn load_with_config(
        &self,
        runtime: &Runtime,
        id: &PluginId,
        services: &Services,
        config: BTreeMap<String, ConfigValue>,
    ) -> Result<Plugin, LoadEnabledError> {
        let installed = self.read_component(id)?;
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
        // The user's settings, and the caller's overrides over them.
        let mut settings = installed.config;
        settings.extend(config);
        let options = LoadOptions {
            grants: Some(installed.grants),
            config: settings,
            services: services.clone(),
            cache: Some(installed.precompiled),
        };
        // `read_component` has just hashed the bytes and found the recorded hash.
        Ok(runtime.load_hashed(
            &installed.bytes,
            Some(&installed.sha256),
            &installed.manifest,
            options,
        )?)
    }
}
