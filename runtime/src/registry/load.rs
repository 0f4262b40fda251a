//! Loading what the registry holds into a [`Runtime`]: what Flowtrace does at start.

use std::sync::Arc;

use super::{Registry, RegistryError};
use crate::error::LoadError;
use crate::host::Services;
use crate::manifest::{PluginId, PluginKind};
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
                .precompile(p.component, p.dir)
                .map(drop)
                .map_err(|e| Box::new(e) as crate::error::BoxError)
        })
    }

    /// Load every enabled plugin (of `kind`, or of every kind), each with the capabilities
    /// the user granted and its precompiled code, after checking its recorded sha256.
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
        let installed = self.read_component(id)?;
        let options = LoadOptions {
            grants: Some(installed.grants),
            cache_dir: Some(installed.precompiled_dir),
            services: services.clone(),
            ..LoadOptions::default()
        };
        Ok(runtime.load(&installed.bytes, &installed.manifest, options)?)
    }
}
