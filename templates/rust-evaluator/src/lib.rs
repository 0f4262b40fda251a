//! A Flowtrace evaluator: flags spans that failed, or that ran longer than the
//! `max-span-ms` setting.
//!
//! - score: the share of spans not flagged (1.0 for a trace without spans)
//! - passed: nothing flagged
//! - label: `ok`, `slow` or `error` (the worst found)
//! - one finding per flagged span; metrics `spans`, `errors`, `slow`
//!
//! Change `evaluate` to check what matters to you; `cargo flowtrace test` runs the
//! fixtures in `tests/` against it.

use flowtrace_plugin_sdk::{
    config, export_evaluator, EvalResult, Evaluator, PluginError, SpanStatus, Trace,
};

struct Plugin;

impl Evaluator for Plugin {
    fn evaluate(trace: &Trace<'_>) -> Result<EvalResult, PluginError> {
        let max_ms: u64 = config::get("max-span-ms")?;
        let (mut errors, mut slow) = (0_u32, 0_u32);
        let mut result = EvalResult::pass(1.0);

        for span in trace.spans() {
            // Status and times come from facts the SDK fetched once for the whole trace;
            // only `id`, `name` and `status_message` copy a string, for flagged spans.
            let ms = span.duration_ns().map_or(0, |ns| ns / 1_000_000);
            if span.status() == SpanStatus::Error {
                errors += 1;
                let why = span.status_message().unwrap_or_else(|| "no message".into());
                let message = format!("`{}` failed: {why}", span.name());
                result = result.span_finding(span.id(), message);
            } else if ms > max_ms {
                slow += 1;
                let message = format!("`{}` took {ms} ms, over {max_ms} ms", span.name());
                result = result.span_finding(span.id(), message);
            }
        }

        let spans = trace.span_count();
        let flagged = errors + slow;
        result.score = if spans == 0 {
            1.0
        } else {
            1.0 - f64::from(flagged) / f64::from(spans)
        };
        result.passed = flagged == 0;
        let label = match (errors, slow) {
            (0, 0) => "ok",
            (0, _) => "slow",
            _ => "error",
        };
        Ok(result
            .label(label)
            .explanation(format!("{flagged} of {spans} spans flagged"))
            .metric("spans", spans)
            .metric("errors", errors)
            .metric("slow", slow))
    }
}

export_evaluator!(Plugin);
