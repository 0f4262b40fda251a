/**
 * Traces by value: {@link TraceData} and {@link Span}, what `trace.toData()` copies out
 * and what a transformer returns.
 *
 * @module
 */

import type { Attribute } from "./attribute";
import type { SpanKind, SpanStatus, TokenUsage } from "./span";

/**
 * A whole span, every string included. Read one with `span.toSpan()`; make one with
 * {@link createSpan}.
 *
 * ```ts
 * import { createSpan, setAttribute } from "@flowtrace/plugin-sdk";
 *
 * const span = createSpan({ id: "a1b2", name: "chat gpt-4o", kind: "llm-call" });
 * span.output = "hello";
 * setAttribute(span.attributes, "flowtrace.redacted", true);
 * ```
 */
export interface Span {
  /** The span id (16 lowercase hex digits for OpenTelemetry spans). */
  id: string;
  /** The parent's id; absent for a root span. */
  parentId?: string;
  /** The span name, e.g. `chat gpt-4o`. */
  name: string;
  /** What the span represents. */
  kind: SpanKind;
  /** Its outcome. */
  status: SpanStatus;
  /** Why it failed, for an error status. */
  statusMessage?: string;
  /** The input text (for LLM calls, GenAI "parts" message JSON). */
  input?: string;
  /** The output text. */
  output?: string;
  /** The model, for LLM and embedding calls. */
  model?: string;
  /** Start, nanoseconds since the Unix epoch. */
  startTimeNs: bigint;
  /** End, nanoseconds since the Unix epoch. */
  endTimeNs?: bigint;
  /** Token counts. */
  usage: TokenUsage;
  /** Cost in US dollars. */
  costUsd?: number;
  /** Every attribute. */
  attributes: Attribute[];
}

/**
 * What {@link createSpan} takes: the id, name and kind, and any other field (times as
 * numbers or bigints).
 *
 * ```ts
 * import type { SpanInit } from "@flowtrace/plugin-sdk";
 *
 * const init: SpanInit = { id: "01", name: "search", kind: "retrieval", startTimeNs: 5 };
 * ```
 */
export type SpanInit = Pick<Span, "id" | "name" | "kind"> &
  Partial<Omit<Span, "id" | "name" | "kind" | "startTimeNs" | "endTimeNs">> & {
    /** Start, nanoseconds since the Unix epoch (default 0). */
    startTimeNs?: bigint | number;
    /** End, nanoseconds since the Unix epoch. */
    endTimeNs?: bigint | number;
  };

/**
 * A span from its id, name and kind; the status is `unset`, the usage and attributes
 * empty, unless given.
 *
 * ```ts
 * import { createSpan } from "@flowtrace/plugin-sdk";
 *
 * const span = createSpan({ id: "01", name: "get_weather", kind: "tool-call", startTimeNs: 1_000 });
 * span.status; // "unset"
 * span.startTimeNs; // 1000n
 * ```
 */
export function createSpan(init: SpanInit): Span {
  const { startTimeNs, endTimeNs, ...rest } = init;
  const span: Span = {
    status: "unset",
    usage: {},
    attributes: [],
    ...rest,
    startTimeNs: BigInt(startTimeNs ?? 0),
  };
  if (endTimeNs !== undefined) span.endTimeNs = BigInt(endTimeNs);
  return span;
}

/**
 * A whole trace by value.
 *
 * ```ts
 * import { createSpan, type TraceData } from "@flowtrace/plugin-sdk";
 *
 * const trace: TraceData = {
 *   id: "4bf92f3577b34da6a3ce929d0e0e4736",
 *   attributes: [],
 *   spans: [createSpan({ id: "00f067aa0ba902b7", name: "agent run", kind: "agent-step" })],
 * };
 * ```
 */
export interface TraceData {
  /** The trace id. */
  id: string;
  /** Input of the whole run. */
  input?: string;
  /** Output of the whole run. */
  output?: string;
  /** Trace-level attributes. */
  attributes: Attribute[];
  /** Every span. */
  spans: Span[];
}
