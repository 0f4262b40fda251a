//! Evaluators: score a trace (`flowtrace:plugin/evaluator`): one trace per call, or many in
//! `evaluate-batch` calls ([`batch`]).

use super::Exports;
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
