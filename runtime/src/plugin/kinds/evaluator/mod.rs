//! Evaluators: score a trace (`flowtrace:plugin/evaluator`): one trace per call, or many in
//! `evaluate-batch` calls ([`batch`]).

use super::Exports;
use crate::error::{CallError, CallFailure};
use crate::host::convert;
use crate::host::trace::{PreparedTrace, TraceHandle};
use crate::plugin::run::block_on;
use crate::plugin::Plugin;
use crate::results::EvalResult;

pub(crate) mod batch;

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
