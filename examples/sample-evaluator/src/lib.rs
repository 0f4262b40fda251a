//! Sample Flowtrace evaluator: flags LLM calls whose output is empty, cut off by the token
//! limit (finish reason `length`) or longer than `max-output-chars`, and tool calls that
//! failed.
//!
//! - score: 1 - flagged / checked spans (1.0 when there is no LLM or tool span)
//! - passed: nothing flagged
//! - label: the worst issue: `ok` < `too-long` < `truncated` < `empty-output` < `tool-error`
//! - one finding per flagged span; metrics `llm-spans`, `tool-calls`, `flagged`
//!
//! It reads span kinds, statuses and output lengths from the cached span facts, and
//! copies a string only where it has to look: finish reasons of LLM calls, short outputs
//! (to tell an empty one from a missing one), long ones (to count their characters), and
//! the ids and names of flagged spans.

mod issue;
mod output;

use flowtrace_plugin_sdk::{
    config, debug, export_evaluator, EvalResult, Evaluator, PluginError, SpanKind, SpanRef,
    SpanStatus, Trace,
};

use issue::{Flags, Issue};

/// An output with no content is a short JSON wrapping (about 90 bytes); longer outputs are
/// not copied to look for emptiness.
const EMPTY_CHECK_MAX_BYTES: u32 = 512;

struct SampleEvaluator;

impl Evaluator for SampleEvaluator {
    fn evaluate(trace: &Trace<'_>) -> Result<EvalResult, PluginError> {
        let max_chars: u64 = config::get("max-output-chars")?;
        let (mut llm_spans, mut tool_calls, mut flagged) = (0_u32, 0_u32, 0_u32);
        let mut worst: Option<Issue> = None;
        let mut result = EvalResult::pass(1.0);

        for span in trace.spans() {
            let flags = match span.kind() {
                SpanKind::LlmCall => {
                    llm_spans += 1;
                    check_llm_call(&span, max_chars)
                }
                SpanKind::ToolCall => {
                    tool_calls += 1;
                    check_tool_call(&span)
                }
                _ => continue,
            };
            if flags.is_empty() {
                continue;
            }
            flagged += 1;
            worst = worst.max(flags.worst());
            result = result.span_finding(span.id(), flags.message());
        }

        let checked = llm_spans + tool_calls;
        debug!("{checked} spans checked, {flagged} flagged");
        result.score = if checked == 0 {
            1.0
        } else {
            1.0 - f64::from(flagged) / f64::from(checked)
        };
        result.passed = flagged == 0;
        Ok(result
            .label(worst.map_or("ok", Issue::label))
            .explanation(explanation(checked, flagged))
            .metric("llm-spans", llm_spans)
            .metric("tool-calls", tool_calls)
            .metric("flagged", flagged))
    }
}

export_evaluator!(SampleEvaluator);

fn check_llm_call(span: &SpanRef<'_>, max_chars: u64) -> Flags {
    let mut flags = Flags::default();
    // Normalized by the host: OpenTelemetry GenAI, Traceloop, OpenInference, Vercel AI SDK.
    if span.finish_reasons().iter().any(|r| r == "length") {
        flags.add(
            Issue::Truncated,
            "output cut off by the token limit (finish reason `length`)".into(),
        );
    }
    // A byte length at or under the limit is a character count under it too: only copy
    // outputs that may be over it, or short enough to be empty.
    let len = span.output_len();
    if len <= EMPTY_CHECK_MAX_BYTES || u64::from(len) > max_chars {
        // `None`: the instrumentation did not record the content, nothing to judge.
        if let Some(text) = span.output() {
            let content = output::content(&text);
            if !content.has_content {
                flags.add(Issue::EmptyOutput, "empty output".into());
            }
            if content.chars as u64 > max_chars {
                flags.add(
                    Issue::TooLong,
                    format!(
                        "output of {} characters, over `max-output-chars` ({max_chars})",
                        content.chars
                    ),
                );
            }
        }
    }
    flags
}

fn check_tool_call(span: &SpanRef<'_>) -> Flags {
    let mut flags = Flags::default();
    if span.status() == SpanStatus::Error {
        let why = span
            .status_message()
            .map_or_else(String::new, |m| format!(": {m}"));
        flags.add(
            Issue::ToolError,
            format!("tool call `{}` failed{why}", span.name()),
        );
    }
    flags
}

fn explanation(checked: u32, flagged: u32) -> String {
    match (checked, flagged) {
        (0, _) => "no LLM or tool spans to check".into(),
        (_, 0) => format!("{checked} LLM and tool spans checked, none flagged"),
        _ => format!("{flagged} of {checked} LLM and tool spans flagged"),
    }
}
