//! The calls of each plugin kind, async and blocking.

use wasmtime::component::Resource;
use wasmtime::Store;

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
        let Exports::Evaluator(indices) = &self.inner.exports else {
            return Err(self.wrong_kind("an evaluator"));
        };
        let result = self
            .run(async |store, instance| {
                let guest = indices.load(&mut *store, instance)?;
                let handle = store
                    .data_mut()
                    .table
                    .push(TraceHandle::new(trace.clone(), None))?;
                let out = guest.call_evaluate(&mut *store, handle).await?;
                Ok(out.map_err(convert::plugin_error))
            })
            .await?;
        self.check_output(eval_size(&result))?;
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
        let Exports::Exporter(indices) = &self.inner.exports else {
            return Err(self.wrong_kind("an exporter"));
        };
        let formats = self
            .run(async |store, instance| {
                let guest = indices.load(&mut *store, instance)?;
                Ok(Ok(guest.call_formats(&mut *store).await?))
            })
            .await?;
        Ok(formats
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
        let Exports::Exporter(indices) = &self.inner.exports else {
            return Err(self.wrong_kind("an exporter"));
        };
        let bytes = self
            .run(async |store, instance| {
                let guest = indices.load(&mut *store, instance)?;
                let handles = push_traces(store, traces)?;
                let out = guest
                    .call_export_traces(&mut *store, format, &handles)
                    .await?;
                Ok(out.map_err(convert::plugin_error))
            })
            .await?;
        self.check_output(bytes.len())?;
        Ok(bytes)
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
        let Exports::Embedder(indices) = &self.inner.exports else {
            return Err(self.wrong_kind("an embedder"));
        };
        let vectors = self
            .run(async |store, instance| {
                let guest = indices.load(&mut *store, instance)?;
                let out = guest.call_embed(&mut *store, texts).await?;
                Ok(out.map_err(convert::plugin_error))
            })
            .await?;
        self.check_output(vectors.iter().map(|v| v.len() * 4).sum())?;
        if vectors.len() != texts.len() {
            return Err(self.fail(CallFailure::InvalidResult(format!(
                "{} vectors for {} texts",
                vectors.len(),
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
        let Exports::Transformer(indices) = &self.inner.exports else {
            return Err(self.wrong_kind("a transformer"));
        };
        let out = self
            .run(async |store, instance| {
                let guest = indices.load(&mut *store, instance)?;
                let handles = push_traces(store, traces)?;
                let out = guest.call_transform(&mut *store, &handles).await?;
                Ok(out.map_err(convert::plugin_error))
            })
            .await?;
        let traces: Vec<Trace> = out.into_iter().map(convert::trace_from_wit).collect();
        self.check_output(traces.iter().map(trace_size).sum())?;
        Ok(traces)
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

/// Bytes an evaluation result carries (its strings plus a fixed part per item).
pub(super) fn eval_size(r: &crate::bindings::types::EvalResult) -> usize {
    use crate::bindings::types::MetricValue;
    let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    32 + opt(&r.label)
        + opt(&r.explanation)
        + r.metrics
            .iter()
            .map(|m| {
                16 + m.name.len()
                    + match &m.value {
                        MetricValue::Text(s) => s.len(),
                        _ => 8,
                    }
            })
            .sum::<usize>()
        + r.findings
            .iter()
            .map(|f| 16 + opt(&f.span_id) + f.message.len())
            .sum::<usize>()
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

/// Bytes a returned trace carries (its strings plus a fixed part per span and attribute),
/// measured without serialising it.
fn trace_size(t: &Trace) -> usize {
    use crate::trace::{Attribute, AttributeValue};
    let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    let attrs = |a: &[Attribute]| -> usize {
        a.iter()
            .map(|a| {
                16 + a.key.len()
                    + match &a.value {
                        AttributeValue::Text(s) | AttributeValue::Json(s) => s.len(),
                        _ => 8,
                    }
            })
            .sum()
    };
    32 + t.id.len()
        + opt(&t.input)
        + opt(&t.output)
        + attrs(&t.attributes)
        + t.spans
            .iter()
            .map(|s| {
                96 + s.id.len()
                    + opt(&s.parent_id)
                    + s.name.len()
                    + opt(&s.status_message)
                    + opt(&s.input)
                    + opt(&s.output)
                    + opt(&s.model)
                    + attrs(&s.attributes)
            })
            .sum::<usize>()
}
