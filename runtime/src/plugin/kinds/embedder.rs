//! Embedders: turn texts into vectors (`flowtrace:plugin/embedder`), and serve
//! `flowtrace:plugin/embeddings` to the other plugins of a registry.

use super::{Embedder, Exports};
use crate::error::{CallError, CallFailure};
use crate::host::convert;
use crate::host::services::CallLog;
use crate::plugin::lift;
use crate::plugin::run::block_on;
use crate::plugin::{Logged, Plugin};
use crate::results::PluginError;

impl Plugin {
    /// The embedding dimension (embedder plugins).
    pub async fn dimension_async(&self) -> Result<u32, CallError> {
        self.observe_call("dimension", &[], self.dimension_call())
            .await
    }

    async fn dimension_call(&self) -> Result<u32, CallError> {
        let Exports::Embedder(indices) = &self.inner.exports else {
            return Err(self.wrong_kind("an embedder"));
        };
        self.run(async |store, instance| {
            let guest = indices.load(&mut *store, instance)?;
            Ok(Ok(guest.call_dimension(&mut *store).await?))
        })
        .await
    }

    /// [`Plugin::dimension_async`] for synchronous callers.
    pub fn dimension(&self) -> Result<u32, CallError> {
        block_on(self.dimension_async())
    }

    /// Embed texts (embedder plugins): one vector per text, all of the same length.
    pub async fn embed_async(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, CallError> {
        self.embed_logged_async(texts).await.value
    }

    /// [`Plugin::embed_async`], and the last lines the call logged.
    pub async fn embed_logged_async(
        &self,
        texts: &[String],
    ) -> Logged<Result<Vec<Vec<f32>>, CallError>> {
        self.observe_logged("embed", &[], self.embed_call(texts))
            .await
    }

    async fn embed_call(&self, texts: &[String]) -> Logged<Result<Vec<Vec<f32>>, CallError>> {
        let Exports::Embedder(_) = &self.inner.exports else {
            return Logged {
                value: Err(self.wrong_kind("an embedder")),
                log: CallLog::default(),
            };
        };
        let output = self.inner.limits.output;
        let (vectors, log) = self
            .run_logged(async |store, instance| {
                let out = lift::embed(store, instance, texts, output).await?;
                Ok(out.transpose().map_err(convert::plugin_error))
            })
            .await;
        Logged {
            value: vectors.and_then(|v| self.checked_vectors(v, texts.len())),
            log,
        }
    }

    /// [`Plugin::embed_logged_async`] for synchronous callers.
    pub fn embed_logged(&self, texts: &[String]) -> Logged<Result<Vec<Vec<f32>>, CallError>> {
        block_on(self.embed_logged_async(texts))
    }

    /// The vectors of an `embed` call over `texts` texts, checked against the contract.
    fn checked_vectors(
        &self,
        vectors: lift::Lifted<lift::Listed<Vec<f32>>>,
        texts: usize,
    ) -> Result<Vec<Vec<f32>>, CallError> {
        let lift::Listed {
            len,
            items: vectors,
        } = self.fits(vectors)?;
        if len != texts {
            return Err(self.fail(CallFailure::InvalidResult(format!(
                "{len} vectors for {texts} texts"
            ))));
        }
        if let Some(first) = vectors.first() {
            if let Some(bad) = vectors.iter().position(|v| v.len() != first.len()) {
                return Err(self.fail(CallFailure::InvalidResult(format!(
                    "vector {bad} has {} dimensions, vector 0 has {}",
                    vectors[bad].len(),
                    first.len()
                ))));
            }
        }
        Ok(vectors)
    }

    /// [`Plugin::embed_async`] for synchronous callers.
    pub fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, CallError> {
        block_on(self.embed_async(texts))
    }
}

impl Embedder {
    /// The embedding dimension: [`Plugin::dimension_async`].
    pub async fn dimension_async(&self) -> Result<u32, CallError> {
        self.plugin().dimension_async().await
    }

    /// [`Embedder::dimension_async`] for synchronous callers.
    pub fn dimension(&self) -> Result<u32, CallError> {
        self.plugin().dimension()
    }

    /// One vector per text, all of the same length: [`Plugin::embed_async`].
    pub async fn embed_async(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, CallError> {
        self.plugin().embed_async(texts).await
    }

    /// [`Embedder::embed_async`] for synchronous callers.
    pub fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, CallError> {
        self.plugin().embed(texts)
    }
}

/// An embedder serves `flowtrace:plugin/embeddings` for other plugins
/// ([`Services::embeddings`](crate::Services::embeddings)).
impl crate::host::services::EmbeddingProvider for Embedder {
    fn dimension(&self) -> crate::host::services::BoxFuture<'_, Result<u32, PluginError>> {
        crate::host::services::EmbeddingProvider::dimension(self.plugin())
    }

    fn embed(
        &self,
        texts: Vec<String>,
    ) -> crate::host::services::BoxFuture<'_, Result<Vec<Vec<f32>>, PluginError>> {
        crate::host::services::EmbeddingProvider::embed(self.plugin(), texts)
    }
}

/// An embedder plugin serves `flowtrace:plugin/embeddings` for other plugins.
impl crate::host::services::EmbeddingProvider for Plugin {
    fn dimension(&self) -> crate::host::services::BoxFuture<'_, Result<u32, PluginError>> {
        Box::pin(async move {
            self.dimension_async()
                .await
                .map_err(|e| PluginError::Unavailable(e.to_string()))
        })
    }

    fn embed(
        &self,
        texts: Vec<String>,
    ) -> crate::host::services::BoxFuture<'_, Result<Vec<Vec<f32>>, PluginError>> {
        Box::pin(async move {
            self.embed_async(&texts)
                .await
                .map_err(|e| PluginError::Unavailable(e.to_string()))
        })
    }
}
