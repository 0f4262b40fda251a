//! Transformers: rewrite traces (`flowtrace:plugin/transformer`).

use super::{push_traces, Exports, Transformer};
use crate::error::CallError;
use crate::host::convert;
use crate::host::services::CallLog;
use crate::host::trace::PreparedTrace;
use crate::plugin::lift;
use crate::plugin::run::block_on;
use crate::plugin::{Logged, Plugin};
use crate::trace::Trace;

impl Plugin {
    /// Rewrite traces (transformer plugins).
    pub async fn transform_async(&self, traces: &[PreparedTrace]) -> Result<Vec<Trace>, CallError> {
        self.transform_logged_async(traces).await.value
    }

    /// [`Plugin::transform_async`], and the last lines the call logged.
    pub async fn transform_logged_async(
        &self,
        traces: &[PreparedTrace],
    ) -> Logged<Result<Vec<Trace>, CallError>> {
        self.observe_logged("transform", traces, self.transform_call(traces))
            .await
    }

    async fn transform_call(
        &self,
        traces: &[PreparedTrace],
    ) -> Logged<Result<Vec<Trace>, CallError>> {
        let Exports::Transformer(_) = &self.inner.exports else {
            return Logged {
                value: Err(self.wrong_kind("a transformer")),
                log: CallLog::default(),
            };
        };
        let output = self.inner.limits.output;
        let (out, log) = self
            .run_logged(async |store, instance| {
                let handles = push_traces(store, traces)?;
                let out = lift::transform(store, instance, &handles, output).await?;
                Ok(out.transpose().map_err(convert::plugin_error))
            })
            .await;
        let value = out
            .and_then(|o| self.fits(o))
            .map(|o| o.into_iter().map(convert::trace_from_wit).collect());
        Logged { value, log }
    }

    /// [`Plugin::transform_logged_async`] for synchronous callers.
    pub fn transform_logged(
        &self,
        traces: &[PreparedTrace],
    ) -> Logged<Result<Vec<Trace>, CallError>> {
        block_on(self.transform_logged_async(traces))
    }

    /// [`Plugin::transform_async`] for synchronous callers.
    pub fn transform(&self, traces: &[PreparedTrace]) -> Result<Vec<Trace>, CallError> {
        block_on(self.transform_async(traces))
    }
}

impl Transformer {
    /// Rewrite traces: [`Plugin::transform_async`].
    pub async fn transform_async(&self, traces: &[PreparedTrace]) -> Result<Vec<Trace>, CallError> {
        self.plugin().transform_async(traces).await
    }

    /// [`Transformer::transform_async`] for synchronous callers.
    pub fn transform(&self, traces: &[PreparedTrace]) -> Result<Vec<Trace>, CallError> {
        self.plugin().transform(traces)
    }
}
