//! Transformers: rewrite traces (`flowtrace:plugin/transformer`).

use super::{push_traces, Exports};
use crate::error::CallError;
use crate::host::convert;
use crate::host::trace::PreparedTrace;
use crate::plugin::run::block_on;
use crate::plugin::Plugin;
use crate::trace::Trace;

impl Plugin {
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
