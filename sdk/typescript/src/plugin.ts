/**
 * One interface per plugin kind, and a `define*` function that checks an object against
 * it. A plugin's entry module exports its implementation under the kind's name:
 * `evaluator`, `exporter`, `embedder` or `transformer`.
 *
 * Each call from the host runs in a fresh instance of the plugin, so nothing carries
 * over between calls. Methods may be `async` (for `fetch`); the host waits for them.
 *
 * @module
 */

import type { TraceData } from "./data";
import type { PluginError } from "./error";
import type { EvalResult } from "./result";
import type { Trace } from "./trace";

/**
 * A value, or a promise of it: what plugin methods may return.
 *
 * ```ts
 * import { EvalResult, type MaybePromise } from "@flowtrace/plugin-sdk";
 *
 * const later: MaybePromise<EvalResult> = Promise.resolve(EvalResult.pass());
 * ```
 */
export type MaybePromise<T> = T | Promise<T>;

/**
 * Scores traces. Export it as `evaluator`.
 *
 * ```ts
 * import { defineEvaluator, EvalResult } from "@flowtrace/plugin-sdk";
 *
 * export const evaluator = defineEvaluator({
 *   evaluate(trace) {
 *     const errors = trace.spans().filter((s) => s.status === "error").length;
 *     return (errors === 0 ? EvalResult.pass() : EvalResult.fail()).metric("errors", errors);
 *   },
 * });
 * ```
 */
export interface Evaluator {
  /**
   * Score one trace; throw a {@link PluginError} when it cannot be scored.
   *
   * ```ts
   * const evaluator: Evaluator = { evaluate: () => EvalResult.pass(1, { label: "ok" }) };
   * ```
   */
  evaluate(trace: Trace): MaybePromise<EvalResult>;

  /**
   * Score several traces, one result (or error) per trace, in order. Without it, the SDK
   * calls `evaluate` for each; write it to share work across traces.
   *
   * ```ts
   * const evaluator: Evaluator = {
   *   evaluate: () => EvalResult.pass(),
   *   evaluateBatch: (traces) => traces.map(() => EvalResult.pass()),
   * };
   * ```
   */
  evaluateBatch?(traces: Trace[]): MaybePromise<(EvalResult | PluginError)[]>;
}

/**
 * A format an exporter writes.
 *
 * ```ts
 * import type { ExportFormat } from "@flowtrace/plugin-sdk";
 *
 * const jsonl: ExportFormat = { name: "jsonl", mediaType: "application/x-ndjson", fileExtension: "jsonl" };
 * ```
 */
export interface ExportFormat {
  /** Short name passed back to `exportTraces`, e.g. `jsonl`. */
  name: string;
  /** The media type of the output, e.g. `application/x-ndjson`. */
  mediaType: string;
  /** The file extension, without the dot, e.g. `jsonl`. */
  fileExtension: string;
}

/**
 * Writes traces in another format. Export it as `exporter`.
 *
 * ```ts
 * import { defineExporter, InvalidInput } from "@flowtrace/plugin-sdk";
 *
 * export const exporter = defineExporter({
 *   formats: () => [{ name: "count", mediaType: "text/plain", fileExtension: "txt" }],
 *   exportTraces(format, traces) {
 *     if (format !== "count") throw new InvalidInput(`unknown format \`${format}\``);
 *     return traces.map((t) => `${t.id()} ${t.spanCount}\n`).join("");
 *   },
 * });
 * ```
 */
export interface Exporter {
  /**
   * The formats this exporter writes.
   *
   * ```ts
   * formats: () => [{ name: "csv", mediaType: "text/csv", fileExtension: "csv" }]
   * ```
   */
  formats(): MaybePromise<ExportFormat[]>;

  /**
   * Write `traces` in `format` (one of the names from `formats`): bytes, or a string
   * (written as UTF-8).
   *
   * ```ts
   * exportTraces: (_format, traces) => traces.map((t) => t.id() + "\n").join("")
   * ```
   */
  exportTraces(format: string, traces: Trace[]): MaybePromise<Uint8Array | string>;
}

/**
 * Turns texts into vectors. Export it as `embedder`.
 *
 * The SDK checks what `embed` returns: one vector per text, each of `dimension()`
 * numbers; anything else is a `failed` error saying what was wrong.
 *
 * ```ts
 * import { defineEmbedder } from "@flowtrace/plugin-sdk";
 *
 * export const embedder = defineEmbedder({
 *   dimension: () => 1,
 *   embed: (texts) => texts.map((t) => [t.length]),
 * });
 * ```
 */
export interface Embedder {
  /**
   * Dimension of the vectors `embed` returns.
   *
   * ```ts
   * dimension: () => 384
   * ```
   */
  dimension(): number;

  /**
   * One vector per text, in order.
   *
   * ```ts
   * embed: (texts) => texts.map(() => new Float32Array(384))
   * ```
   */
  embed(texts: string[]): MaybePromise<ArrayLike<number>[]>;
}

/**
 * Rewrites traces (redaction, enrichment, sampling). Export it as `transformer`.
 *
 * ```ts
 * import { defineTransformer } from "@flowtrace/plugin-sdk";
 *
 * // Drops every input and output.
 * export const transformer = defineTransformer({
 *   transform: (traces) =>
 *     traces.map((trace) => {
 *       const data = trace.toData();
 *       for (const span of data.spans) {
 *         delete span.input;
 *         delete span.output;
 *       }
 *       return data;
 *     }),
 * });
 * ```
 */
export interface Transformer {
  /**
   * The rewritten traces; a trace left out is dropped (sampling).
   *
   * ```ts
   * transform: (traces) =>
   *   traces.filter((t) => t.spans().some((s) => s.status === "error")).map((t) => t.toData())
   * ```
   */
  transform(traces: Trace[]): MaybePromise<TraceData[]>;
}

/**
 * `evaluator`, checked against {@link Evaluator} by the type checker (and typed for
 * editors): `export const evaluator = defineEvaluator({ ... })`.
 *
 * ```ts
 * import { defineEvaluator, EvalResult } from "@flowtrace/plugin-sdk";
 *
 * export const evaluator = defineEvaluator({ evaluate: () => EvalResult.pass() });
 * ```
 */
export function defineEvaluator<T extends Evaluator>(evaluator: T): T {
  return evaluator;
}

/**
 * `exporter`, checked against {@link Exporter}.
 *
 * ```ts
 * import { defineExporter } from "@flowtrace/plugin-sdk";
 *
 * export const exporter = defineExporter({
 *   formats: () => [{ name: "ids", mediaType: "text/plain", fileExtension: "txt" }],
 *   exportTraces: (_format, traces) => traces.map((t) => t.id()).join("\n"),
 * });
 * ```
 */
export function defineExporter<T extends Exporter>(exporter: T): T {
  return exporter;
}

/**
 * `embedder`, checked against {@link Embedder}.
 *
 * ```ts
 * import { defineEmbedder } from "@flowtrace/plugin-sdk";
 *
 * export const embedder = defineEmbedder({ dimension: () => 2, embed: (t) => t.map(() => [0, 1]) });
 * ```
 */
export function defineEmbedder<T extends Embedder>(embedder: T): T {
  return embedder;
}

/**
 * `transformer`, checked against {@link Transformer}.
 *
 * ```ts
 * import { defineTransformer } from "@flowtrace/plugin-sdk";
 *
 * export const transformer = defineTransformer({ transform: (traces) => traces.map((t) => t.toData()) });
 * ```
 */
export function defineTransformer<T extends Transformer>(transformer: T): T {
  return transformer;
}
