"""A Flowtrace evaluator: flags spans that failed, or that ran longer than the
`max-span-ms` setting.

- score: the share of spans not flagged (1.0 for a trace without spans)
- passed: nothing flagged
- label: `ok`, `slow` or `error` (the worst found)
- one finding per flagged span; metrics `spans`, `errors`, `slow`

Change `evaluate` to check what matters to you; `cargo flowtrace test` runs the fixtures in
`tests/` against it.
"""

from flowtrace_plugin import EvalResult, Evaluator, SpanStatus, Trace, config, export


@export
class Plugin(Evaluator):
    def evaluate(self, trace: Trace) -> EvalResult:
        max_ms = config.require("max-span-ms", int)
        errors = slow = 0
        result = EvalResult.ok()

        for span in trace.spans():
            # Status and times come from facts the SDK fetched once for the whole trace;
            # only `id`, `name` and `status_message` copy a string, for flagged spans.
            ms = (span.duration_ns or 0) // 1_000_000
            if span.status is SpanStatus.ERROR:
                errors += 1
                why = span.status_message or "no message"
                result.finding(f"`{span.name}` failed: {why}", span_id=span.id)
            elif ms > max_ms:
                slow += 1
                result.finding(f"`{span.name}` took {ms} ms, over {max_ms} ms", span_id=span.id)

        spans = trace.span_count
        flagged = errors + slow
        result.score = 1.0 if spans == 0 else 1.0 - flagged / spans
        result.passed = flagged == 0
        result.label = "error" if errors else "slow" if slow else "ok"
        result.explanation = f"{flagged} of {spans} spans flagged"
        return result.metric("spans", spans).metric("errors", errors).metric("slow", slow)
