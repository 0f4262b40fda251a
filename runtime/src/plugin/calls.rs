//! The calls of each plugin kind, async and blocking.

use wasmtime::component::Resource;
use wasmtime::Store;

use super::lift;
use super::run::block_on;
use super::{Exports, Plugin};
use crate::error::{CallError, CallFailure};
use crate::host::trace::{PreparedTrace, TraceHandle};
use crate::host::{convert, HostState};
use crate::results::{EvalResult, ExportFormat, PluginError};
use crate::trace::Trace;

impl Plugin {
    /// Score one trace (evaluator plugins).
    pub async fn evaluate_async(&self, trace: &PreparedTrace) -> Result<EvalResult, CallError> {
        let Exports::Evaluator(_) = &self.inner.exports else {
            return Err(self.wrong_kind("an evaluator"));
        };
        let output = self.inner.limits.output;
        let result = self
            .run(async |store, instance| {
                let handle = store
                    .data_mut()
                    .table
                    .push(TraceHandle::new(trace.clone(), None))?;
                let out = lift::evaluate(store, instance, handle, output).await?;
                Ok(out.transpose().map_err(convert::plugin_error))
            })
            .await?;
        let result = self.fits(result)?;
        self.validate_eval(convert::eval_result(result))
    }

    pub(super) fn validate_eval(&self, result: EvalResult) -> Result<EvalResult, CallError> {
        if !(0.0..=1.0).contains(&result.score) {
            return Err(self.fail(CallFailure::InvalidResult(format!(
                "score {} is outside 0.0..=1.0",
                result.score
            ))));
        }
        Ok(result)
    }

    /// [`Plugin::evaluate_async`] for synchronous callers.
    pub fn evaluate(&self, trace: &PreparedTrace) -> Result<EvalResult, CallError> {
        block_on(self.evaluate_async(trace))
    }

    /// The formats an exporter writes.
    pub async fn formats_async(&self) -> Result<Vec<ExportFormat>, CallError> {
        let Exports::Exporter(_) = &self.inner.exports else {
            return Err(self.wrong_kind("an exporter"));
        };
        let output = self.inner.limits.output;
        let formats = self
            .run(async |store, instance| Ok(Ok(lift::formats(store, instance, output).await?)))
            .await?;
        Ok(self
            .fits(formats)?
            .into_iter()
            .map(|f| ExportFormat {
                name: f.name,
                media_type: f.media_type,
                file_extension: f.file_extension,
            })
            .collect())
    }

    /// [`Plugin::formats_async`] for synchronous callers.
    pub fn formats(&self) -> Result<Vec<ExportFormat>, CallError> {
        block_on(self.formats_async())
    }

    /// Export traces in `format` (exporter plugins).
    pub async fn export_async(
        &self,
        format: &str,
        traces: &[PreparedTrace],
    ) -> Result<Vec<u8>, CallError> {
        let Exports::Exporter(_) = &self.inner.exports else {
            return Err(self.wrong_kind("an exporter"));
        };
        let output = self.inner.limits.output;
        let bytes = self
            .run(async |store, instance| {
                let handles = push_traces(store, traces)?;
                let out = lift::export_traces(store, instance, format, &handles, output).await?;
                Ok(out.transpose().map_err(convert::plugin_error))
            })
            .await?;
        self.fits(bytes)
    }

    /// [`Plugin::export_async`] for synchronous callers.
    pub fn export(&self, format: &str, traces: &[PreparedTrace]) -> Result<Vec<u8>, CallError> {
        block_on(self.export_async(format, traces))
    }

    /// The embedding dimension (embedder plugins).
    pub async fn dimension_async(&self) -> Result<u32, CallError> {
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
        let Exports::Embedder(_) = &self.inner.exports else {
            return Err(self.wrong_kind("an embedder"));
        };
        let output = self.inner.limits.output;
        let vectors = self
            .run(async |store, instance| {
                let out = lift::embed(store, instance, texts, output).await?;
                Ok(out.transpose().map_err(convert::plugin_error))
            })
            .await?;
        let lift::Listed {
            len,
            items: vectors,
        } = self.fits(vectors)?;
        if len != texts.len() {
            return Err(self.fail(CallFailure::InvalidResult(format!(
                "{len} vectors for {} texts",
                texts.len()
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

    /// Rewrite traces (transformer plugins).
    pub async fn transform_async(&self, traces: &[PreparedTrace]) -> Result<Vec<Trace>, CallError> {
        let Exports::Transformer(_) = &self.inner.exports else {
            return Err(self.wrong_kind("a transformer"));
        };
        let output = self.inner.limits.output;
        let out = self
            .run(async |store, instance| {
                let handles = push_traces(store, traces)?;
                let out = lift::transform(store, instance, &handles, output).await?;
                Ok(out.transpose().map_err(convert::plugin_error))
            })
            .await?;
        let out = self.fits(out)?;
        Ok(out.into_iter().map(convert::trace_from_wit).collect())
    }

    /// [`Plugin::transform_async`] for synchronous callers.
    pub fn transform(&self, traces: &[PreparedTrace]) -> Result<Vec<Trace>, CallError> {
        block_on(self.transform_async(traces))
    }
}

fn push_traces(
    store: &mut Store<HostState>,
    traces: &[PreparedTrace],
) -> wasmtime::Result<Vec<Resource<TraceHandle>>> {
    traces
        .iter()
        .map(|t| {
            Ok(store
                .data_mut()
                .table
                .push(TraceHandle::new(t.clone(), None))?)
        })
        .collect()
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
