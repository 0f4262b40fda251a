/// <reference path="./wit.d.ts" />
/**
 * Write [Flowtrace](https://github.com/flowtrace/cargo-flowtrace) plugins in TypeScript.
 *
 * A Flowtrace plugin is a WebAssembly component that runs over the traces of LLM agents:
 * an **evaluator** scores a trace, an **exporter** writes traces in another format, an
 * **embedder** turns texts into vectors, a **transformer** rewrites traces. With this
 * package a plugin is one object implementing its kind's interface ({@link Evaluator},
 * {@link Exporter}, {@link Embedder}, {@link Transformer}), exported from `src/index.ts`
 * under the kind's name; no generated bindings to touch:
 *
 * ```ts
 * import { defineEvaluator, EvalResult } from "@flowtrace/plugin-sdk";
 *
 * // Fails traces whose LLM calls produced no output.
 * export const evaluator = defineEvaluator({
 *   evaluate(trace) {
 *     const llmCalls = trace.spansOfKind("llm-call");
 *     const result = EvalResult.pass(1, { label: "ok" }).metric("llm-spans", llmCalls.length);
 *     for (const span of llmCalls) {
 *       if (span.outputLen === 0) result.finding("empty output", span);
 *     }
 *     if (result.findings.length > 0) {
 *       result.score = 1 - result.findings.length / llmCalls.length;
 *       result.passed = false;
 *       result.label = "empty-output";
 *     }
 *     return result;
 *   },
 * });
 * ```
 *
 * Build it with `cargo flowtrace build` (esbuild bundles it with its npm dependencies and
 * this SDK, componentize-js makes the component; both are installed on first use) and
 * run its fixtures with `cargo flowtrace test`. The build does not type-check: run
 * `tsc --noEmit` for that (the template's `tsconfig.json` finds this SDK).
 *
 * **Reading traces.** The trace stays in the host. {@link Trace} fetches what you read:
 * {@link SpanRef} reads kinds, statuses, times, token counts and text lengths from one
 * call per trace, and copies a string (`name()`, `output()`, an attribute) only when you
 * ask for that string. A plugin that looks at span kinds and token counts never pays for
 * copying prompts.
 *
 * **Errors.** Throw a {@link PluginError} ({@link InvalidInput}, {@link InvalidConfig},
 * {@link Unavailable}, {@link Failed}); anything else thrown becomes a `failed` error
 * and its stack goes to the plugin log.
 *
 * **Capabilities.** {@link log} and {@link config} are always available. The other host
 * interfaces are modules of their own, which exist only when the plugin declares their
 * capability under `[capabilities]` in `flowtrace.toml`:
 *
 * | `[capabilities]` | module |
 * |---|---|
 * | `storage = true` | `@flowtrace/plugin-sdk/kv` |
 * | `traces = true` | `@flowtrace/plugin-sdk/traces` |
 * | `embeddings = true` | `@flowtrace/plugin-sdk/embeddings` |
 *
 * Importing one of them without its capability fails the build at the import, naming the
 * line to add. `network` (`fetch`, which the host checks against the allowed hosts),
 * `env` and `fs-read` need nothing from this package.
 *
 * **Unit tests.** Outside a component there is no host: build traces with
 * {@link Trace.fromData} to test plugin logic with any JavaScript test runner.
 *
 * @module
 */

export * as config from "./config";
export * as log from "./log";

export {
  AttributeValue,
  findAttribute,
  setAttribute,
  type Attribute,
  type AttributeInput,
  type AttributeTag,
  type JsonValue,
} from "./attribute";
export { createSpan, type Span, type SpanInit, type TraceData } from "./data";
export type { Message, SpanError, SpanFacts, ToolCall } from "./facts";
export {
  Failed,
  InvalidConfig,
  InvalidInput,
  PluginError,
  Unavailable,
  type PluginErrorKind,
} from "./error";
export * from "./kinds";
export type { MaybePromise } from "./plugin";
export {
  checkScore,
  EvalResult,
  MetricValue,
  type Finding,
  type Metric,
  type MetricInput,
  type ResultText,
} from "./result";
export { SpanKind, SpanStatus, totalTokens, type SpanInfo, type TokenUsage } from "./span";
export { SpanRef, Trace, type TraceSource } from "./trace";

/**
 * The SDK's version; it targets the contract `flowtrace:plugin@0.1.0`.
 *
 * ```ts
 * import { log, VERSION } from "@flowtrace/plugin-sdk";
 *
 * log.debug(`@flowtrace/plugin-sdk ${VERSION}`);
 * ```
 */
export const VERSION = "0.1.0";
