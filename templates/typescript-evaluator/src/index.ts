/**
 * A Flowtrace evaluator: flags spans that failed, or that ran longer than the
 * `max-span-ms` setting.
 *
 * - score: the share of spans not flagged (1 for a trace without spans)
 * - passed: nothing flagged
 * - label: `ok`, `slow` or `error` (the worst found)
 * - one finding per flagged span; metrics `spans`, `errors`, `slow`
 *
 * Change `evaluate` to check what matters to you; `cargo flowtrace test` runs the
 * fixtures in `tests/` against it.
 */

import { config, defineEvaluator, EvalResult, SpanStatus } from "@flowtrace/plugin-sdk";

export const evaluator = defineEvaluator({
  evaluate(trace) {
    const maxMs = config.integer("max-span-ms");
    let errors = 0;
    let slow = 0;
    const result = EvalResult.pass();

    for (const span of trace.spans()) {
      // Status and times come from facts the SDK fetched once for the whole trace; only
      // `id()`, `name()` and `statusMessage()` copy a string, for flagged spans.
      const ms = Math.floor(span.durationMs ?? 0);
      if (span.status === SpanStatus.Error) {
        errors += 1;
        const why = span.statusMessage() ?? "no message";
        result.finding(`\`${span.name()}\` failed: ${why}`, span.id());
      } else if (ms > maxMs) {
        slow += 1;
        result.finding(`\`${span.name()}\` took ${ms} ms, over ${maxMs} ms`, span.id());
      }
    }

    const spans = trace.spanCount;
    const flagged = errors + slow;
    result.score = spans === 0 ? 1 : 1 - flagged / spans;
    result.passed = flagged === 0;
    result.label = errors > 0 ? "error" : slow > 0 ? "slow" : "ok";
    result.explanation = `${flagged} of ${spans} spans flagged`;
    return result.metric("spans", spans).metric("errors", errors).metric("slow", slow);
  },
});
