/**
 * The fixed-size facts of a span: {@link SpanKind}, {@link SpanStatus},
 * {@link TokenUsage} and {@link SpanInfo}.
 *
 * @module
 */

import { toNumber } from "./attribute";

/**
 * What a span represents in an LLM application: the contract's kebab-case names.
 *
 * ```ts
 * import { SpanKind } from "@flowtrace/plugin-sdk";
 *
 * const kind: SpanKind = SpanKind.LlmCall; // "llm-call"
 * ```
 */
export type SpanKind =
  | "llm-call"
  | "tool-call"
  | "retrieval"
  | "agent-step"
  | "embedding"
  | "custom";

/**
 * The span kinds by name, for code that prefers constants to string literals.
 *
 * ```ts
 * import { SpanKind } from "@flowtrace/plugin-sdk";
 *
 * SpanKind.ToolCall === "tool-call"; // true
 * ```
 */
export const SpanKind = {
  /** A call to a language model (chat, completion). */
  LlmCall: "llm-call",
  /** A tool (function) call. */
  ToolCall: "tool-call",
  /** A retrieval from a document store. */
  Retrieval: "retrieval",
  /** A step of an agent (a run, a task, a chain). */
  AgentStep: "agent-step",
  /** A call to an embedding model. */
  Embedding: "embedding",
  /** Anything else. */
  Custom: "custom",
} as const satisfies Record<string, SpanKind>;

/**
 * The outcome of a span, as recorded by the instrumentation: `unset` (most successful
 * spans), `ok` (explicitly successful) or `error`.
 *
 * ```ts
 * import { SpanStatus } from "@flowtrace/plugin-sdk";
 *
 * const failed = (status: SpanStatus) => status === SpanStatus.Error;
 * ```
 */
export type SpanStatus = "unset" | "ok" | "error";

/**
 * The span statuses by name.
 *
 * ```ts
 * import { SpanStatus } from "@flowtrace/plugin-sdk";
 *
 * SpanStatus.Error === "error"; // true
 * ```
 */
export const SpanStatus = {
  /** Not recorded. */
  Unset: "unset",
  /** Explicitly successful. */
  Ok: "ok",
  /** Failed; the span's status message says why. */
  Error: "error",
} as const satisfies Record<string, SpanStatus>;

/**
 * Token counts of an LLM or embedding call, when the instrumentation recorded them.
 *
 * ```ts
 * import { totalTokens, type TokenUsage } from "@flowtrace/plugin-sdk";
 *
 * const usage: TokenUsage = { input: 120, output: 30 };
 * totalTokens(usage); // 150
 * ```
 *
 * A count is a `number` when it is one exactly (up to 2^53 - 1), else a `bigint`, as integer
 * attributes and config values are: the contract's counts are 64-bit, and a `number` would
 * silently round them.
 */
export interface TokenUsage {
  /** Prompt tokens. */
  input?: number | bigint;
  /** Completion tokens. */
  output?: number | bigint;
  /** Total as recorded (never computed by the host). */
  total?: number | bigint;
}

/**
 * The recorded total of `usage`, or input + output when both are known.
 *
 * ```ts
 * import { totalTokens } from "@flowtrace/plugin-sdk";
 *
 * totalTokens({ total: 42 }); // 42
 * totalTokens({ input: 1 }); // undefined
 * ```
 */
export function totalTokens(usage: TokenUsage): number | bigint | undefined {
  if (usage.total !== undefined) return usage.total;
  if (usage.input !== undefined && usage.output !== undefined) {
    return toNumber(BigInt(usage.input) + BigInt(usage.output));
  }
  return undefined;
}

/**
 * The fixed-size facts of a span: no strings, so reading them copies a few bytes.
 * Usually read through a {@link SpanRef} (`span.kind`, `span.usage`, ...);
 * `trace.infos` gives them all.
 *
 * Times are `bigint` nanoseconds since the Unix epoch (they do not fit a `number`);
 * `SpanRef.durationMs` gives a duration as a `number`.
 *
 * ```ts
 * import { totalTokens, type Trace } from "@flowtrace/plugin-sdk";
 *
 * function tokens(trace: Trace): number {
 *   return trace.infos.reduce((sum, info) => sum + (totalTokens(info.usage) ?? 0), 0);
 * }
 * ```
 */
export interface SpanInfo {
  /** What the span represents. */
  readonly kind: SpanKind;
  /** Its outcome. */
  readonly status: SpanStatus;
  /** Index of the parent span in this trace, if the parent is part of it. */
  readonly parent?: number;
  /** Start, nanoseconds since the Unix epoch. */
  readonly startTimeNs: bigint;
  /** End, nanoseconds since the Unix epoch, when recorded. */
  readonly endTimeNs?: bigint;
  /** Token counts. */
  readonly usage: TokenUsage;
  /** Cost in US dollars, when known. */
  readonly costUsd?: number;
  /** Length in bytes of the input text (0 when absent). */
  readonly inputLen: number;
  /** Length in bytes of the output text (0 when absent). */
  readonly outputLen: number;
  /** Number of attributes on the span. */
  readonly attributeCount: number;
}
