/**
 * The checks of the agent-budget evaluator, as functions of a trace and the limits: no
 * host calls but the trace's own, so they run in unit tests over `Trace.fromData`.
 */

import type { SpanRef, Trace } from "@flowtrace/plugin-sdk";

/** The limits from `[config]`. */
export interface Limits {
  maxTotalTokens: number;
  maxLlmCalls: number;
  maxRepeats: number;
}

/** A tool called more than `maxRepeats` times with the same input. */
export interface Loop {
  /** The tool span's name, e.g. `execute_tool get_weather`. */
  name: string;
  /** How many calls had that input. */
  calls: number;
  /** The spans after the allowed repeats: the ones to report. */
  extra: SpanRef[];
}

/** What the checks measured. */
export interface Usage {
  llmCalls: number;
  toolCalls: number;
  totalTokens: number;
  /** LLM calls without token counts (their tokens are unknown, not zero). */
  uncounted: number;
  /** Sum of the known costs, when any span has one. */
  costUsd: number | undefined;
  /** Tokens per model, in order of first use. */
  tokensByModel: Map<string, number>;
}

/** Count LLM calls, tool calls, tokens and cost. Reads span facts only, plus one string
 * (the model) per LLM call. */
export function measure(trace: Trace): Usage {
  const usage: Usage = {
    llmCalls: 0,
    toolCalls: 0,
    totalTokens: 0,
    uncounted: 0,
    costUsd: undefined,
    tokensByModel: new Map(),
  };
  for (const span of trace.spans()) {
    if (span.costUsd !== undefined) usage.costUsd = (usage.costUsd ?? 0) + span.costUsd;
    if (span.kind === "tool-call") usage.toolCalls += 1;
    if (span.kind !== "llm-call") continue;
    usage.llmCalls += 1;
    const counted = span.totalTokens;
    if (counted === undefined) {
      usage.uncounted += 1;
      continue;
    }
    // A count past 2^53 comes as a bigint; a budget is compared in numbers, where such a
    // count is over any budget anyway.
    const tokens = Number(counted);
    usage.totalTokens += tokens;
    const model = span.model() ?? "unknown";
    usage.tokensByModel.set(model, (usage.tokensByModel.get(model) ?? 0) + tokens);
  }
  return usage;
}

/**
 * Tools called more than `maxRepeats` times with the same input. Tool spans are grouped
 * by name and input length first (one string copied per tool call); only the inputs of
 * groups big enough to hold a loop are copied and compared.
 */
export function findLoops(trace: Trace, maxRepeats: number): Loop[] {
  const groups = new Map<string, SpanRef[]>();
  for (const span of trace.spansOfKind("tool-call")) {
    const key = `${span.name()}\u0000${span.inputLen}`;
    const group = groups.get(key);
    if (group) group.push(span);
    else groups.set(key, [span]);
  }
  const loops: Loop[] = [];
  for (const group of groups.values()) {
    if (group.length <= maxRepeats) continue;
    const byInput = new Map<string, SpanRef[]>();
    for (const span of group) {
      const input = span.input() ?? "";
      const same = byInput.get(input);
      if (same) same.push(span);
      else byInput.set(input, [span]);
    }
    for (const calls of byInput.values()) {
      if (calls.length > maxRepeats) {
        loops.push({
          name: (calls[0] as SpanRef).name(),
          calls: calls.length,
          extra: calls.slice(maxRepeats),
        });
      }
    }
  }
  return loops;
}

/** `used` against `limit` as a score: 1 within the limit, then falling as `limit / used`. */
export function within(used: number, limit: number): number {
  return used <= limit ? 1 : limit <= 0 ? 0 : limit / used;
}
