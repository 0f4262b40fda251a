//! [`Evaluator`]: scores traces (`flowtrace:plugin/evaluator`).

use crate::__private::Bridge;
use crate::bindings::exports::flowtrace::sdk::evaluator;
use crate::bindings::wit;
use crate::{EvalResult, PluginError, Trace};

use super::with_traces;

/// Scores traces. Export with [`export_evaluator!`](crate::export_evaluator!).
///
/// ```
/// use flowtrace_plugin_sdk::{export_evaluator, EvalResult, Evaluator, PluginError, SpanStatus, Trace};
///
/// struct NoErrors;
///
/// impl Evaluator for NoErrors {
///     fn evaluate(trace: &Trace<'_>) -> Result<EvalResult, PluginError> {
///         let errors = trace.spans().filter(|s| s.status() == SpanStatus::Error).count();
///         let result = if errors == 0 { EvalResult::pass(1.0) } else { EvalResult::fail(0.0) };
///         Ok(result.metric("errors", errors))
///     }
/// }
///
/// export_evaluator!(NoErrors);
/// ```
pub trait Evaluator {
    /// Score one trace.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::{EvalResult, Evaluator, PluginError, Trace};
    /// struct AlwaysPass;
    /// impl Evaluator for AlwaysPass {
    ///     fn evaluate(_trace: &Trace<'_>) -> Result<EvalResult, PluginError> {
    ///         Ok(EvalResult::pass(1.0).label("ok"))
    ///     }
    /// }
    /// ```
    fn evaluate(trace: &Trace<'_>) -> Result<EvalResult, PluginError>;

    /// Score several traces, one result per trace, in order. The default calls
    /// [`evaluate`](Self::evaluate) for each; override it to share work across traces.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::{EvalResult, Evaluator, PluginError, Trace};
    /// struct Batched;
    /// impl Evaluator for Batched {
    ///     fn evaluate(trace: &Trace<'_>) -> Result<EvalResult, PluginError> {
    ///         Ok(EvalResult::pass(1.0))
    ///     }
    ///     fn evaluate_batch(traces: &[Trace<'_>]) -> Vec<Result<EvalResult, PluginError>> {
    ///         traces.iter().map(Self::evaluate).collect()
    ///     }
    /// }
    /// ```
    fn evaluate_batch(traces: &[Trace<'_>]) -> Vec<Result<EvalResult, PluginError>> {
        traces.iter().map(Self::evaluate).collect()
    }
}

fn eval(result: Result<EvalResult, PluginError>) -> Result<wit::EvalResult, wit::PluginError> {
    result
        .map(EvalResult::into_wit)
        .map_err(PluginError::into_wit)
}

impl<T: Evaluator> evaluator::Guest for Bridge<T> {
    fn evaluate(trace: &wit::Trace) -> Result<wit::EvalResult, wit::PluginError> {
        eval(T::evaluate(&Trace::borrowed(trace)))
    }

    fn evaluate_batch(traces: Vec<u32>) -> Vec<Result<wit::EvalResult, wit::PluginError>> {
        with_traces(traces, |traces| {
            T::evaluate_batch(traces).into_iter().map(eval).collect()
        })
    }
}

/// Export a type implementing [`Evaluator`](crate::Evaluator) as the plugin: the
/// component then exports `flowtrace:plugin/evaluator`. Use it once per plugin, at the top
/// level of the crate, with `kind = "evaluator"` in flowtrace.toml.
///
/// ```
/// use flowtrace_plugin_sdk::{export_evaluator, EvalResult, Evaluator, PluginError, Trace};
///
/// struct HasSpans;
///
/// impl Evaluator for HasSpans {
///     fn evaluate(trace: &Trace<'_>) -> Result<EvalResult, PluginError> {
///         Ok(EvalResult::new(1.0, trace.span_count() > 0))
///     }
/// }
///
/// export_evaluator!(HasSpans);
/// ```
#[macro_export]
macro_rules! export_evaluator {
    ($ty:ty) => {
        $crate::__export_kind! {
            $ty,
            Evaluator,
            evaluator,
            EVALUATOR,
            "component-type:flowtrace-plugin-sdk:evaluator-plugin";

            #[unsafe(export_name = "flowtrace:plugin/evaluator@0.1.0#evaluate")]
            unsafe extern "C" fn evaluate(a0: i32) -> *mut u8 {
                unsafe { e::_export_evaluate_cabi::<Bridge>(a0) }
            }
            #[unsafe(export_name = "cabi_post_flowtrace:plugin/evaluator@0.1.0#evaluate")]
            unsafe extern "C" fn post_evaluate(a0: *mut u8) {
                unsafe { e::__post_return_evaluate::<Bridge>(a0) }
            }
            #[unsafe(export_name = "flowtrace:plugin/evaluator@0.1.0#evaluate-batch")]
            unsafe extern "C" fn evaluate_batch(a0: *mut u8, a1: usize) -> *mut u8 {
                unsafe { e::_export_evaluate_batch_cabi::<Bridge>(a0, a1) }
            }
            #[unsafe(export_name = "cabi_post_flowtrace:plugin/evaluator@0.1.0#evaluate-batch")]
            unsafe extern "C" fn post_evaluate_batch(a0: *mut u8) {
                unsafe { e::__post_return_evaluate_batch::<Bridge>(a0) }
            }
        }
    };
}
