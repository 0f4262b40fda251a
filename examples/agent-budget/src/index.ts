/**
 * Agent Budget: checks an agent run against a token budget (`max-total-tokens`), an
 * LLM-call budget (`max-llm-calls`) and tool-call loops (a tool called more than
 * `max-repeats` times with the same input).
 *
 * - score: the product of the three checks' scores: each is 1 within its limit, then
 *   `limit / used` (and `1 / (1 + extra calls)` for loops)
 * - passed: every check within its limit
 * - label: `ok`, `over-budget` or `tool-loop` (a loop is the worse finding)
 * - findings: one per exceeded budget, one per looping call
 * - metrics: `llm-calls`, `tool-calls`, `total-tokens`, `repeated-tool-calls`,
 *   `tokens:<model>` per model, and `cost-usd` when the trace records costs
 *
 * LLM calls without token counts are left out of the token total, and said so in the
 * explanation.
 */

import { config, defineEvaluator, EvalResult, log, MetricValue } from "@flowtrace/plugin-sdk";

import { findLoops, measure, within, type Limits } from "./budget";

function limits(): Limits {
  return {
    maxTotalTokens: config.integer("max-total-tokens"),
    maxLlmCalls: config.integer("max-llm-calls"),
    maxRepeats: config.integer("max-repeats"),
  };
}

export const evaluator = defineEvaluator({
  evaluate(trace) {
    const limit = limits();
    const usage = measure(trace);
    const loops = findLoops(trace, limit.maxRepeats);
    const repeated = loops.reduce((sum, loop) => sum + loop.extra.length, 0);
    log.debug(`${usage.llmCalls} LLM calls, ${usage.totalTokens} tokens, ${loops.length} loops`);

    const result = new EvalResult(
      within(usage.totalTokens, limit.maxTotalTokens) *
        within(usage.llmCalls, limit.maxLlmCalls) *
        (1 / (1 + repeated)),
      true,
    );
    const problems: string[] = [];
    if (usage.totalTokens > limit.maxTotalTokens) {
      problems.push(`${usage.totalTokens} tokens, over the budget of ${limit.maxTotalTokens}`);
      result.finding(`the run used ${usage.totalTokens} tokens; the budget is ${limit.maxTotalTokens}`);
    }
    if (usage.llmCalls > limit.maxLlmCalls) {
      problems.push(`${usage.llmCalls} LLM calls, over the budget of ${limit.maxLlmCalls}`);
      result.finding(`the run made ${usage.llmCalls} LLM calls; the budget is ${limit.maxLlmCalls}`);
    }
    for (const loop of loops) {
      problems.push(`\`${loop.name}\` called ${loop.calls} times with the same input`);
      for (const span of loop.extra) {
        result.finding(`\`${loop.name}\` called again with the same input (a loop?)`, span);
      }
    }

    result.passed = problems.length === 0;
    result.label = loops.length > 0 ? "tool-loop" : problems.length > 0 ? "over-budget" : "ok";
    const uncounted =
      usage.uncounted > 0 ? `; ${usage.uncounted} LLM calls without token counts` : "";
    result.explanation =
      (problems.length > 0
        ? problems.join("; ")
        : `${usage.totalTokens} tokens in ${usage.llmCalls} LLM calls, within budget`) + uncounted;

    result
      .metric("llm-calls", usage.llmCalls)
      .metric("tool-calls", usage.toolCalls)
      .metric("total-tokens", usage.totalTokens)
      .metric("repeated-tool-calls", repeated);
    for (const [model, tokens] of usage.tokensByModel) result.metric(`tokens:${model}`, tokens);
    if (usage.costUsd !== undefined) result.metric("cost-usd", MetricValue.float(usage.costUsd));
    return result;
  },
});
