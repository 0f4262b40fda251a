//! Evaluators: score a trace (`flowtrace:plugin/evaluator`): one trace per call, or many in
//! `evaluate-batch` calls ([`batch`]).

use super::{Evaluator, Exports};
use crate::error::{CallError, CallFailure};
use crate::host::convert;
use crate::host::services::CallLog;
use crate::host::trace::{PreparedTrace, TraceHandle};
use crate::plugin::lift;
use crate::plugin::run::block_on;
use crate::plugin::{Logged, Plugin};
use crate::results::EvalResult;

pub(crate) mod batch;

impl Plugin {
    /// Score one trace (evaluator plugins).
    pub async fn evaluate_async(&self, trace: &PreparedTrace) -> Result<EvalResult, CallError> {
        self.evaluate_logged_async(trace).await.value
    }

    /// [`Plugin::evaluate_async`], and the last lines the call logged.
    pub async fn evaluate_logged_async(
        &self,
        trace: &PreparedTrace,
    ) -> Logged<Result<EvalResult, CallError>> {
        let traces = std::slice::from_ref(trace);
        self.observe_logged("evaluate", traces, self.evaluate_call(trace))
            .await
    }

    async fn evaluate_call(&self, trace: &PreparedTrace) -> Logged<Result<EvalResult, CallError>> {
        let Exports::Evaluator(_) = &self.inner.exports else {
            return Logged {
                value: Err(self.wrong_kind("an evaluator")),
                log: CallLog::default(),
            };
        };
        let output = self.inner.limits.output;
        let (result, log) = self
            .run_logged(async |store, instance| {
                let handle = store
                    .data_mut()
                    .table
                    .push(TraceHandle::new(trace.clone(), None))?;
                let out = lift::evaluate(store, instance, handle, output).await?;
                Ok(out.transpose().map_err(convert::plugin_error))
            })
            .await;
        let value = result
            .and_then(|r| self.fits(r))
            .and_then(|r| self.validate_eval(convert::eval_result(r)));
        Logged { value, log }
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
}

impl Evaluator {
    /// Score one trace: [`Plugin::evaluate_async`].
    pub async fn evaluate_async(&self, trace: &PreparedTrace) -> Result<EvalResult, CallError> {
        self.plugin().evaluate_async(trace).await
    }

    /// Score one trace, for synchronous callers: [`Plugin::evaluate`].
    pub fn evaluate(&self, trace: &PreparedTrace) -> Result<EvalResult, CallError> {
        self.plugin().evaluate(trace)
    }

    /// Score each trace once, in batch calls where that is safe:
    /// [`Plugin::evaluate_each_async`].
    pub async fn evaluate_each_async(&self, traces: &[PreparedTrace]) -> Vec<batch::Evaluation> {
        self.plugin().evaluate_each_async(traces).await
    }

    /// [`Evaluator::evaluate_each_async`] for synchronous callers.
    pub fn evaluate_each(&self, traces: &[PreparedTrace]) -> Vec<batch::Evaluation> {
        self.plugin().evaluate_each(traces)
    }

    /// Score several traces in one `evaluate-batch` call: [`Plugin::evaluate_batch_async`].
    pub async fn evaluate_batch_async(
        &self,
        traces: &[PreparedTrace],
    ) -> Result<Vec<Result<EvalResult, CallFailure>>, CallError> {
        self.plugin().evaluate_batch_async(traces).await
    }

    /// [`Evaluator::evaluate_batch_async`] for synchronous callers.
    pub fn evaluate_batch(
        &self,
        traces: &[PreparedTrace],
    ) -> Result<Vec<Result<EvalResult, CallFailure>>, CallError> {
        self.plugin().evaluate_batch(traces)
    }
}
