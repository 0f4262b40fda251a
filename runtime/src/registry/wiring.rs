//! Which embedder serves the `embeddings` capability of which plugin: chosen, never guessed.
//!
//! A plugin granted `embeddings` is served by the embedder chosen for it, else by the
//! registry's default embedder; with neither it does not load
//! ([`RegistryError::EmbedderNotChosen`]). A host that passes its own provider
//! ([`Services::embeddings`](crate::Services::embeddings)) to
//! [`load_enabled`](super::Registry::load_enabled) serves every plugin with it instead.

use serde::Serialize;

use super::error::RegistryError;
use super::index::Index;
use super::lifecycle::plugin;
use super::Registry;
use crate::manifest::{PluginId, PluginKind};

/// Which embedder serves a plugin's `embeddings`, and why that one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "chosen",
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case"
)]
pub enum EmbedderChoice {
    /// Chosen for this plugin.
    ForPlugin {
        /// The embedder.
        embedder: PluginId,
    },
    /// The registry's default embedder.
    Default {
        /// The embedder.
        embedder: PluginId,
    },
    /// None is chosen: the plugin does not load from the registry.
    None,
}

impl EmbedderChoice {
    /// The embedder, if one is chosen.
    pub fn embedder(&self) -> Option<&PluginId> {
        match self {
            EmbedderChoice::ForPlugin { embedder } | EmbedderChoice::Default { embedder } => {
                Some(embedder)
            }
            EmbedderChoice::None => None,
        }
    }
}

impl std::fmt::Display for EmbedderChoice {
    /// `` `minilm` (chosen for it) ``, `` `minilm` (the registry's default) ``, `none chosen`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EmbedderChoice::ForPlugin { embedder } => write!(f, "`{embedder}` (chosen for it)"),
            EmbedderChoice::Default { embedder } => {
                write!(f, "`{embedder}` (the registry's default)")
            }
            EmbedderChoice::None => f.write_str("none chosen"),
        }
    }
}

/// The choice for plugin `id` in `index` (whether or not it is granted `embeddings`).
pub(super) fn choice(index: &Index, id: &PluginId) -> EmbedderChoice {
    let own = index.plugins.get(id).and_then(|r| r.embedder.clone());
    match (own, &index.embedder) {
        (Some(embedder), _) => EmbedderChoice::ForPlugin { embedder },
        (None, Some(embedder)) => EmbedderChoice::Default {
            embedder: embedder.clone(),
        },
        (None, None) => EmbedderChoice::None,
    }
}

/// The installed embedders of `index`, sorted.
pub(super) fn embedders(index: &Index) -> Vec<PluginId> {
    index
        .plugins
        .iter()
        .filter(|(_, r)| r.active_record().kind == PluginKind::Embedder)
        .map(|(id, _)| id.clone())
        .collect()
}

/// The plugins granted `embeddings` that `embedder` serves, sorted.
pub(super) fn served_by(index: &Index, embedder: &PluginId) -> Vec<PluginId> {
    index
        .plugins
        .iter()
        .filter(|(id, r)| r.grants.embeddings && choice(index, id).embedder() == Some(embedder))
        .map(|(id, _)| id.clone())
        .collect()
}

impl Registry {
    /// Choose the embedder that serves the `embeddings` capability of `plugin`, or with
    /// `plugin` `None` the registry's default, which serves every plugin that has no
    /// embedder of its own. `embedder` `None` clears the choice. The embedder must be an
    /// installed embedder (it must also be enabled when a plugin it serves is loaded).
    ///
    /// ```no_run
    /// use flowtrace_plugins::manifest::PluginId;
    /// use flowtrace_plugins::registry::Registry;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let registry = Registry::open_default()?;
    /// let minilm = PluginId::parse("embedder-minilm")?;
    /// registry.set_embedder(None, Some(&minilm))?; // the default for every plugin
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_embedder(
        &self,
        plugin_id: Option<&PluginId>,
        embedder: Option<&PluginId>,
    ) -> Result<(), RegistryError> {
        let _lock = self.lock()?;
        let mut index = Index::load(&self.store)?;
        if let Some(embedder) = embedder {
            let kind = plugin(&self.store, &index, embedder)?.active_record().kind;
            if kind != PluginKind::Embedder {
                return Err(RegistryError::NotAnEmbedder {
                    id: embedder.clone(),
                    kind,
                });
            }
        }
        let slot = match plugin_id {
            Some(id) => {
                plugin(&self.store, &index, id)?;
                &mut index.plugins.get_mut(id).expect("checked above").embedder
            }
            None => &mut index.embedder,
        };
        if slot.as_ref() == embedder {
            return Ok(());
        }
        *slot = embedder.cloned();
        index.save(&self.store)
    }

    /// Which embedder serves the `embeddings` capability of plugin `id`.
    pub fn embedder_for(&self, id: &PluginId) -> Result<EmbedderChoice, RegistryError> {
        let index = Index::load(&self.store)?;
        plugin(&self.store, &index, id)?;
        Ok(choice(&index, id))
    }
}
