/**
 * {@link Trace}: a host-owned trace read field by field, and {@link SpanRef}, a view of
 * one span.
 *
 * The trace stays in the host; a plugin copies in only what it asks for. Span kinds,
 * statuses, times, token counts and text lengths ({@link SpanInfo}) come in one call for
 * the whole trace, the first time any span is looked at, and are then read from memory;
 * each string (a name, an output, an attribute) is one call that copies that string
 * alone.
 *
 * @module
 */

import type * as wit from "flowtrace:plugin/types@0.1.0";

import { findAttribute, type Attribute, type AttributeValue } from "./attribute";
import { createSpan, type Span, type TraceData } from "./data";
import {
  messageFromWire,
  spanErrorFromWire,
  toolCallFromWire,
  type Message,
  type SpanError,
  type SpanFacts,
  type ToolCall,
} from "./facts";
import { totalTokens, type SpanInfo, type SpanKind, type SpanStatus, type TokenUsage } from "./span";
import {
  attributesFromWire,
  attributeValueFromWire,
  spanFromWire,
  spanInfoFromWire,
  traceDataFromWire,
  traceDataToWire,
} from "./wire";

/**
 * What a {@link Trace} reads from: the host's `trace` resource, or a {@link TraceData}
 * in memory ({@link Trace.fromData}). Implement it to back a `Trace` with something else
 * (a test double that counts calls, say).
 *
 * ```ts
 * import { Trace, type TraceSource } from "@flowtrace/plugin-sdk";
 *
 * const source: TraceSource = Trace.fromData({ id: "t", attributes: [], spans: [] }).source;
 * new Trace(source).spanCount; // 0
 * ```
 */
export interface TraceSource {
  id(): string;
  spanCount(): number;
  input(): string | undefined;
  output(): string | undefined;
  attributes(): wit.Attribute[];
  spanInfos(): wit.SpanInfo[];
  spanId(index: number): string | undefined;
  spanName(index: number): string | undefined;
  spanModel(index: number): string | undefined;
  spanInput(index: number): string | undefined;
  spanOutput(index: number): string | undefined;
  spanStatusMessage(index: number): string | undefined;
  spanAttribute(index: number, key: string): wit.AttributeValue | undefined;
  spanAttributes(index: number): wit.Attribute[];
  span(index: number): wit.Span | undefined;
  toData(): wit.TraceData;
  /** The normalized facts; a source without them gives none. */
  spanFinishReasons?(index: number): string[];
  spanMessages?(index: number, direction: wit.MessageDirection): wit.Message[];
  spanToolCall?(index: number): wit.ToolCall | undefined;
  spanError?(index: number): wit.SpanError | undefined;
}

/**
 * A recorded trace, owned by the host.
 *
 * Spans are addressed by index, `0 .. spanCount - 1`, in start-time order; a parent
 * always has a lower index than its children when both carry start times. Getters
 * (`spanCount`, `infos`, and on spans `kind`, `status`, `usage`, ...) read facts fetched
 * once per trace; methods that return strings (`id()`, `name()`, `output()`, ...) copy
 * that one string from the host each time.
 *
 * ```ts
 * import { defineEvaluator, EvalResult, SpanKind } from "@flowtrace/plugin-sdk";
 *
 * export const evaluator = defineEvaluator({
 *   evaluate(trace) {
 *     const result = EvalResult.pass();
 *     for (const span of trace.spansOfKind(SpanKind.ToolCall)) {
 *       // `durationMs` reads the cached span facts: no call to the host
 *       if ((span.durationMs ?? 0) > 5_000) {
 *         // `name()` copies one string
 *         result.finding(`\`${span.name()}\` took over 5 s`, span);
 *       }
 *     }
 *     return result;
 *   },
 * });
 * ```
 */
export class Trace {
  readonly #source: TraceSource;
  #infos: readonly SpanInfo[] | undefined;

  /**
   * A trace reading from `source`; plugins get theirs from the host.
   *
   * ```ts
   * const copy = new Trace(trace.source);
   * ```
   */
  constructor(source: TraceSource) {
    this.#source = source;
  }

  /**
   * A trace over `data` in memory, for unit tests of plugin code outside a component.
   *
   * ```ts
   * import { createSpan, Trace } from "@flowtrace/plugin-sdk";
   *
   * const trace = Trace.fromData({
   *   id: "t1",
   *   attributes: [],
   *   spans: [createSpan({ id: "s1", name: "chat", kind: "llm-call", output: "" })],
   * });
   * trace.span(0)?.outputLen; // 0
   * ```
   *
   * Without a host nothing normalizes attributes: `facts` gives the normalized facts
   * (finish reasons, messages, ...) of spans by span id; other spans have none.
   *
   * ```ts
   * Trace.fromData(data, { s1: { finishReasons: ["length"] } }).span(0)?.finishReasons(); // ["length"]
   * ```
   */
  static fromData(data: TraceData, facts: Readonly<Record<string, SpanFacts>> = {}): Trace {
    return new Trace(new DataSource(data, facts));
  }

  /**
   * The trace id (32 lowercase hex digits for OpenTelemetry traces).
   *
   * ```ts
   * log.info(`evaluating trace ${trace.id()}`);
   * ```
   */
  id(): string {
    return this.#source.id();
  }

  /**
   * Number of spans.
   *
   * ```ts
   * if (trace.spanCount === 0) return EvalResult.pass(1, { label: "empty" });
   * ```
   */
  get spanCount(): number {
    return this.#infos?.length ?? this.#source.spanCount();
  }

  /**
   * Input of the whole run, when recorded.
   *
   * ```ts
   * const question = trace.input() ?? "";
   * ```
   */
  input(): string | undefined {
    return this.#source.input();
  }

  /**
   * Output of the whole run, when recorded.
   *
   * ```ts
   * const answered = (trace.output() ?? "").length > 0;
   * ```
   */
  output(): string | undefined {
    return this.#source.output();
  }

  /**
   * Trace-level attributes (OpenTelemetry resource attributes).
   *
   * ```ts
   * for (const { key, value } of trace.attributes()) log.debug(`${key} = ${value}`);
   * ```
   */
  attributes(): Attribute[] {
    return attributesFromWire(this.#source.attributes());
  }

  /**
   * One trace-level attribute by key (copies every trace attribute, then picks one).
   *
   * ```ts
   * const service = trace.attribute("service.name")?.asString();
   * ```
   */
  attribute(key: string): AttributeValue | undefined {
    return findAttribute(this.attributes(), key);
  }

  /**
   * The fixed-size facts of every span, in index order; fetched from the host in one
   * call the first time and kept.
   *
   * ```ts
   * const cost = trace.infos.reduce((sum, info) => sum + (info.costUsd ?? 0), 0);
   * ```
   */
  get infos(): readonly SpanInfo[] {
    if (this.#infos === undefined) {
      this.#infos = Object.freeze(this.#source.spanInfos().map(spanInfoFromWire));
    }
    return this.#infos;
  }

  /**
   * Every span, in index order.
   *
   * ```ts
   * const errors = trace.spans().filter((s) => s.status === "error").length;
   * ```
   */
  spans(): SpanRef[] {
    return this.infos.map((_, index) => new SpanRef(this, index));
  }

  /**
   * Span `index`, if in range.
   *
   * ```ts
   * const first = trace.span(0)?.name();
   * ```
   */
  span(index: number): SpanRef | undefined {
    return Number.isInteger(index) && index >= 0 && index < this.infos.length
      ? new SpanRef(this, index)
      : undefined;
  }

  /**
   * The spans of one kind, in index order.
   *
   * ```ts
   * const llmCalls = trace.spansOfKind("llm-call").length;
   * ```
   */
  spansOfKind(kind: SpanKind): SpanRef[] {
    return this.spans().filter((s) => s.kind === kind);
  }

  /**
   * The first span without a parent in this trace (the run's root, usually index 0).
   *
   * ```ts
   * const runName = trace.root()?.name();
   * ```
   */
  root(): SpanRef | undefined {
    return this.spans().find((s) => s.info.parent === undefined);
  }

  /**
   * The whole trace by value: the most expensive call, it copies every string. What a
   * transformer starts from.
   *
   * ```ts
   * const data = trace.toData();
   * data.spans = data.spans.filter((s) => s.kind !== "custom");
   * ```
   */
  toData(): TraceData {
    return traceDataFromWire(this.#source.toData());
  }

  /**
   * The spans, for `for (const span of trace)`.
   *
   * ```ts
   * for (const span of trace) log.debug(span.kind);
   * ```
   */
  [Symbol.iterator](): Iterator<SpanRef> {
    return this.spans()[Symbol.iterator]();
  }

  /**
   * What the trace reads from.
   *
   * ```ts
   * const again = new Trace(trace.source);
   * ```
   */
  get source(): TraceSource {
    return this.#source;
  }
}

/**
 * A view of one span of a {@link Trace}: an index, nothing copied yet.
 *
 * Getters returning numbers and enums (`kind`, `status`, `usage`, `outputLen`, ...) read
 * the trace's cached {@link SpanInfo} and never call the host. Methods returning strings
 * (`id()`, `name()`, `output()`, `attribute()`, ...) copy that one string from the host.
 *
 * ```ts
 * import type { Trace } from "@flowtrace/plugin-sdk";
 *
 * function emptyLlmOutputs(trace: Trace): string[] {
 *   return trace
 *     .spansOfKind("llm-call")
 *     .filter((span) => span.outputLen === 0) // no string copied
 *     .map((span) => span.id()); // one string copied per flagged span
 * }
 * ```
 */
export class SpanRef {
  /** The trace the span belongs to. */
  readonly trace: Trace;
  /** The span's index in its trace. */
  readonly index: number;

  /**
   * The span at `index` of `trace`; `trace.span(index)` checks the range first.
   *
   * ```ts
   * const first = new SpanRef(trace, 0);
   * ```
   */
  constructor(trace: Trace, index: number) {
    this.trace = trace;
    this.index = index;
  }

  /**
   * Every fixed-size fact of the span.
   *
   * ```ts
   * const tokens = span.info.usage.total;
   * ```
   */
  get info(): SpanInfo {
    return this.trace.infos[this.index] as SpanInfo;
  }

  /**
   * What the span represents.
   *
   * ```ts
   * const isLlm = span.kind === "llm-call";
   * ```
   */
  get kind(): SpanKind {
    return this.info.kind;
  }

  /**
   * The span's outcome.
   *
   * ```ts
   * const failed = span.status === "error";
   * ```
   */
  get status(): SpanStatus {
    return this.info.status;
  }

  /**
   * The parent span, if it is part of this trace.
   *
   * ```ts
   * let depth = 0;
   * for (let p = span.parent; p; p = p.parent) depth++;
   * ```
   */
  get parent(): SpanRef | undefined {
    const parent = this.info.parent;
    return parent === undefined ? undefined : this.trace.span(parent);
  }

  /**
   * The spans whose parent is this one, in index order.
   *
   * ```ts
   * const leaf = span.children().length === 0;
   * ```
   */
  children(): SpanRef[] {
    return this.trace.spans().filter((s) => s.info.parent === this.index);
  }

  /**
   * Start, nanoseconds since the Unix epoch.
   *
   * ```ts
   * const startedMs = Number(span.startTimeNs / 1_000_000n);
   * ```
   */
  get startTimeNs(): bigint {
    return this.info.startTimeNs;
  }

  /**
   * End, nanoseconds since the Unix epoch, when recorded.
   *
   * ```ts
   * const open = span.endTimeNs === undefined;
   * ```
   */
  get endTimeNs(): bigint | undefined {
    return this.info.endTimeNs;
  }

  /**
   * End minus start in nanoseconds, when the end is recorded (0 if the clock went
   * backwards).
   *
   * ```ts
   * const ns = span.durationNs ?? 0n;
   * ```
   */
  get durationNs(): bigint | undefined {
    const { startTimeNs, endTimeNs } = this.info;
    if (endTimeNs === undefined) return undefined;
    return endTimeNs > startTimeNs ? endTimeNs - startTimeNs : 0n;
  }

  /**
   * {@link SpanRef.durationNs} in milliseconds, as a number.
   *
   * ```ts
   * const slow = (span.durationMs ?? 0) > 30_000;
   * ```
   */
  get durationMs(): number | undefined {
    const ns = this.durationNs;
    return ns === undefined ? undefined : Number(ns) / 1e6;
  }

  /**
   * Token counts.
   *
   * ```ts
   * const promptTokens = span.usage.input ?? 0;
   * ```
   */
  get usage(): TokenUsage {
    return this.info.usage;
  }

  /**
   * The recorded total tokens, or input + output when both are known.
   *
   * ```ts
   * const tokens = span.totalTokens ?? 0;
   * ```
   */
  get totalTokens(): number | bigint | undefined {
    return totalTokens(this.info.usage);
  }

  /**
   * Cost in US dollars, when known.
   *
   * ```ts
   * const expensive = (span.costUsd ?? 0) > 0.1;
   * ```
   */
  get costUsd(): number | undefined {
    return this.info.costUsd;
  }

  /**
   * Length in bytes of the input text, without copying it (0 when absent).
   *
   * ```ts
   * const hugePrompt = span.inputLen > 100_000;
   * ```
   */
  get inputLen(): number {
    return this.info.inputLen;
  }

  /**
   * Length in bytes of the output text, without copying it (0 when absent or empty).
   *
   * ```ts
   * const maybeEmpty = span.outputLen === 0;
   * ```
   */
  get outputLen(): number {
    return this.info.outputLen;
  }

  /**
   * Number of attributes on the span.
   *
   * ```ts
   * const bare = span.attributeCount === 0;
   * ```
   */
  get attributeCount(): number {
    return this.info.attributeCount;
  }

  /**
   * The span id (copies one string).
   *
   * ```ts
   * result.finding("tool call failed", span.id());
   * ```
   */
  id(): string {
    return this.trace.source.spanId(this.index) ?? "";
  }

  /**
   * The span name, e.g. `chat gpt-4o` (copies one string).
   *
   * ```ts
   * const isWeather = span.name().includes("get_weather");
   * ```
   */
  name(): string {
    return this.trace.source.spanName(this.index) ?? "";
  }

  /**
   * The model of an LLM or embedding call (copies one string).
   *
   * ```ts
   * const model = span.model() ?? "unknown";
   * ```
   */
  model(): string | undefined {
    return this.trace.source.spanModel(this.index);
  }

  /**
   * The input text (copies it). For LLM calls, GenAI "parts" message JSON.
   *
   * ```ts
   * const mentionsSecret = span.input()?.includes("password") ?? false;
   * ```
   */
  input(): string | undefined {
    return this.trace.source.spanInput(this.index);
  }

  /**
   * The output text (copies it); `undefined` when the instrumentation did not record it,
   * `""` when it recorded an empty output.
   *
   * ```ts
   * const chars = span.output()?.length ?? 0;
   * ```
   */
  output(): string | undefined {
    return this.trace.source.spanOutput(this.index);
  }

  /**
   * Why the span failed, for an error status (copies one string).
   *
   * ```ts
   * const why = span.statusMessage() ?? "no message";
   * ```
   */
  statusMessage(): string | undefined {
    return this.trace.source.spanStatusMessage(this.index);
  }

  /**
   * One attribute by key (copies that value alone).
   *
   * ```ts
   * const truncated = span
   *   .attribute("gen_ai.response.finish_reasons")
   *   ?.toStringList()
   *   ?.includes("length") ?? false;
   * ```
   */
  attribute(key: string): AttributeValue | undefined {
    const value = this.trace.source.spanAttribute(this.index, key);
    return value === undefined ? undefined : attributeValueFromWire(value);
  }

  /**
   * Every attribute of the span.
   *
   * ```ts
   * const genAi = span.attributes().filter((a) => a.key.startsWith("gen_ai.")).length;
   * ```
   */
  attributes(): Attribute[] {
    return attributesFromWire(this.trace.source.spanAttributes(this.index));
  }

  /**
   * Why the model stopped generating, one entry per choice (`stop`, `length`,
   * `tool_calls`, ...), as recorded; empty when not recorded. The host reads it from
   * whichever convention recorded the span (OpenTelemetry GenAI, Traceloop,
   * OpenInference's `llm.finish_reason`, the Vercel AI SDK's `ai.response.finishReason`).
   *
   * ```ts
   * const cutOff = span.finishReasons().includes("length");
   * ```
   */
  finishReasons(): string[] {
    return this.trace.source.spanFinishReasons?.(this.index) ?? [];
  }

  /**
   * The messages the LLM call was sent, in order (copies them); empty when not recorded.
   *
   * ```ts
   * const question = span.inputMessages().findLast((m) => m.role === "user")?.content;
   * ```
   */
  inputMessages(): Message[] {
    return (this.trace.source.spanMessages?.(this.index, "input") ?? []).map(messageFromWire);
  }

  /**
   * The messages the model answered, in order (copies them); empty when not recorded.
   *
   * ```ts
   * const askedForTools = span.outputMessages().some((m) => m.toolCalls.length > 0);
   * ```
   */
  outputMessages(): Message[] {
    return (this.trace.source.spanMessages?.(this.index, "output") ?? []).map(messageFromWire);
  }

  /**
   * The tool a tool span executed: name, call id, arguments and result. A tool-call span
   * always has one (its name may be empty); another span only when it names a tool.
   *
   * ```ts
   * const call = span.toolCall();
   * if (call) log.debug(`${call.name} returned ${call.result}`);
   * ```
   */
  toolCall(): ToolCall | undefined {
    const raw = this.trace.source.spanToolCall?.(this.index);
    return raw === undefined ? undefined : toolCallFromWire(raw);
  }

  /**
   * What went wrong, for a span with an error status or an `error.type`.
   *
   * ```ts
   * const timedOut = span.error()?.errorType === "timeout";
   * ```
   */
  error(): SpanError | undefined {
    const raw = this.trace.source.spanError?.(this.index);
    return raw === undefined ? undefined : spanErrorFromWire(raw);
  }

  /**
   * The whole span, every string copied.
   *
   * ```ts
   * const owned = span.toSpan();
   * ```
   */
  toSpan(): Span {
    const raw = this.trace.source.span(this.index);
    return raw ? spanFromWire(raw) : createSpan({ id: "", name: "", kind: this.kind });
  }
}

/** A {@link TraceSource} over a {@link TraceData} in memory, as the host would order it. */
class DataSource implements TraceSource {
  readonly #data: wit.TraceData;
  readonly #parents: (number | undefined)[];
  readonly #facts: Readonly<Record<string, SpanFacts>>;

  constructor(data: TraceData, facts: Readonly<Record<string, SpanFacts>>) {
    this.#facts = facts;
    const wire = traceDataToWire(data, "trace");
    // The host's order: by start time, parents before children at equal times.
    const depth = (span: wit.Span): number => {
      let d = 0;
      const seen = new Set<string>();
      for (let p = span.parentId; p !== undefined && !seen.has(p); d++) {
        seen.add(p);
        p = wire.spans.find((s) => s.id === p)?.parentId;
      }
      return d;
    };
    const keyed = wire.spans.map((span) => ({ span, depth: depth(span) }));
    keyed.sort((a, b) =>
      a.span.startTimeNs !== b.span.startTimeNs
        ? a.span.startTimeNs < b.span.startTimeNs
          ? -1
          : 1
        : a.depth !== b.depth
          ? a.depth - b.depth
          : a.span.id < b.span.id
            ? -1
            : a.span.id > b.span.id
              ? 1
              : 0,
    );
    wire.spans = keyed.map((k) => k.span);
    this.#data = wire;
    this.#parents = wire.spans.map((span) => {
      if (span.parentId === undefined) return undefined;
      const at = wire.spans.findIndex((s) => s.id === span.parentId);
      return at >= 0 ? at : undefined;
    });
  }

  #at(index: number): wit.Span | undefined {
    return this.#data.spans[index];
  }

  id(): string {
    return this.#data.id;
  }
  spanCount(): number {
    return this.#data.spans.length;
  }
  input(): string | undefined {
    return this.#data.input;
  }
  output(): string | undefined {
    return this.#data.output;
  }
  attributes(): wit.Attribute[] {
    return this.#data.attributes;
  }
  spanInfos(): wit.SpanInfo[] {
    const bytes = (text: string | undefined) =>
      text === undefined ? 0 : new TextEncoder().encode(text).length;
    return this.#data.spans.map((s, i) => {
      const info: wit.SpanInfo = {
        kind: s.kind,
        status: s.status,
        startTimeNs: s.startTimeNs,
        usage: s.usage,
        inputLen: bytes(s.input),
        outputLen: bytes(s.output),
        attributeCount: s.attributes.length,
      };
      const parent = this.#parents[i];
      if (parent !== undefined) info.parent = parent;
      if (s.endTimeNs !== undefined) info.endTimeNs = s.endTimeNs;
      if (s.costUsd !== undefined) info.costUsd = s.costUsd;
      return info;
    });
  }
  spanId(index: number): string | undefined {
    return this.#at(index)?.id;
  }
  spanName(index: number): string | undefined {
    return this.#at(index)?.name;
  }
  spanModel(index: number): string | undefined {
    return this.#at(index)?.model;
  }
  spanInput(index: number): string | undefined {
    return this.#at(index)?.input;
  }
  spanOutput(index: number): string | undefined {
    return this.#at(index)?.output;
  }
  spanStatusMessage(index: number): string | undefined {
    return this.#at(index)?.statusMessage;
  }
  spanAttribute(index: number, key: string): wit.AttributeValue | undefined {
    return this.#at(index)?.attributes.find((a) => a.key === key)?.value;
  }
  spanAttributes(index: number): wit.Attribute[] {
    return this.#at(index)?.attributes ?? [];
  }
  span(index: number): wit.Span | undefined {
    return this.#at(index);
  }
  toData(): wit.TraceData {
    return this.#data;
  }
  #factsAt(index: number): SpanFacts {
    const id = this.#at(index)?.id;
    return (id !== undefined && Object.hasOwn(this.#facts, id) && this.#facts[id]) || {};
  }
  spanFinishReasons(index: number): string[] {
    return [...(this.#factsAt(index).finishReasons ?? [])];
  }
  spanMessages(index: number, direction: wit.MessageDirection): wit.Message[] {
    const facts = this.#factsAt(index);
    const messages = (direction === "input" ? facts.inputMessages : facts.outputMessages) ?? [];
    return messages.map((m) => ({ ...m, toolCalls: [...m.toolCalls] }));
  }
  spanToolCall(index: number): wit.ToolCall | undefined {
    const call = this.#factsAt(index).toolCall;
    return call === undefined ? undefined : { ...call };
  }
  spanError(index: number): wit.SpanError | undefined {
    const error = this.#factsAt(index).error;
    return error === undefined ? undefined : { ...error };
  }
}
