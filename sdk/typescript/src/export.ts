/**
 * The bridge between a plugin's implementation and the contract: `cargo flowtrace build`
 * writes an entry module that imports the plugin's export and passes it to the function
 * of its kind here, which returns the object componentize-js exports:
 *
 * ```ts
 * import { evaluator as plugin } from "../../../src/index.ts";
 * import { exportEvaluator } from "@flowtrace/plugin-sdk/export";
 * export const evaluator = exportEvaluator(plugin);
 * ```
 *
 * Each bridge converts the host's values into the SDK's types and back, calls the
 * plugin's methods with the plugin as `this`, waits for promises, and turns what they
 * throw into the contract's `plugin-error`: a {@link PluginError} as it is, anything else
 * as `failed` with the exception's name and message, its stack in the plugin log. Each
 * also routes `console` to the plugin log ({@link installConsole}).
 *
 * @module
 */

import type * as wit from "flowtrace:plugin/types@0.1.0";

import { installConsole } from "./console";
import type { TraceData } from "./data";
import { Failed, PluginError, toWire } from "./error";
import { write as writeLog } from "./log";
import type { Embedder, Evaluator, Exporter, Transformer } from "./plugin";
import { describe, EvalResult } from "./result";
import { Trace, type TraceSource } from "./trace";
import { evalResultToWire, traceDataToWire } from "./wire";

export { formatConsole, installConsole } from "./console";

type Result<T> = wit.Result<T, wit.PluginError>;

/** What a plugin method gave: a value, or what it threw. */
type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/** Run `call`, then `then` on its outcome: synchronously when `call` is synchronous. */
function settle<T, R>(call: () => T | Promise<T>, then: (outcome: Outcome<T>) => R): R | Promise<R> {
  let value: T | Promise<T>;
  try {
    value = call();
  } catch (error) {
    return then({ ok: false, error });
  }
  if (isPromise(value)) {
    return value.then(
      (v) => then({ ok: true, value: v }),
      (error: unknown) => then({ ok: false, error }),
    );
  }
  return then({ ok: true, value });
}

/** The contract's error for what a plugin threw; an unexpected exception's stack is logged. */
function errorOf(error: unknown, method: string): wit.PluginError {
  if (error instanceof PluginError) return toWire(error);
  const converted = PluginError.from(error);
  const stack = error instanceof Error && error.stack ? `\n${error.stack}` : "";
  writeLog("error", `\`${method}\` threw ${converted.message}${stack}`);
  return toWire(converted);
}

/** `result` with an `invalid result` message when converting it fails. */
function converted<T, W>(value: T, convert: (value: T) => W, method: string): Result<W> {
  try {
    return { tag: "ok", val: convert(value) };
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { tag: "err", val: toWire(new Failed(`\`${method}\` returned an invalid result: ${why}`)) };
  }
}

function methodOf(impl: object, kind: string, name: string, example: string): (...args: never[]) => unknown {
  const method = (impl as Record<string, unknown>)[name];
  if (typeof method !== "function") {
    throw new TypeError(
      `the plugin's \`${kind}\` export has no \`${name}\` method (found ${describe(method)}): ` +
        `export \`${example}\``,
    );
  }
  return method as (...args: never[]) => unknown;
}

function checkExport(impl: unknown, kind: string, define: string): object {
  if (typeof impl !== "object" || impl === null) {
    throw new TypeError(
      `the plugin exports \`${kind}\` as ${describe(impl)}, not an object: ` +
        `\`export const ${kind} = ${define}({ ... })\``,
    );
  }
  return impl;
}

function traces(raw: readonly TraceSource[]): Trace[] {
  return raw.map((t) => new Trace(t));
}

/**
 * The `flowtrace:plugin/evaluator` export for `impl`.
 *
 * ```ts
 * import { defineEvaluator, EvalResult } from "@flowtrace/plugin-sdk";
 * import { exportEvaluator } from "@flowtrace/plugin-sdk/export";
 *
 * export const evaluator = exportEvaluator(defineEvaluator({ evaluate: () => EvalResult.pass() }));
 * ```
 */
export function exportEvaluator(impl: Evaluator) {
  installConsole();
  const plugin = checkExport(impl, "evaluator", "defineEvaluator") as Evaluator;
  const evaluate = methodOf(plugin, "evaluator", "evaluate", "defineEvaluator({ evaluate(trace) { ... } })");
  const batch = (plugin as { evaluateBatch?: unknown }).evaluateBatch;
  const one = (trace: Trace) => (evaluate as (t: Trace) => EvalResult | Promise<EvalResult>).call(plugin, trace);
  const toResult = (outcome: Outcome<EvalResult>, method: string): Result<wit.EvalResult> =>
    outcome.ok ? converted(outcome.value, evalResultToWire, method) : { tag: "err", val: errorOf(outcome.error, method) };

  return {
    evaluate(raw: TraceSource): Result<wit.EvalResult> | Promise<Result<wit.EvalResult>> {
      return settle(() => one(new Trace(raw)), (o) => toResult(o, "evaluate"));
    },
    evaluateBatch(raw: TraceSource[]): Result<wit.EvalResult>[] | Promise<Result<wit.EvalResult>[]> {
      const all = traces(raw);
      if (typeof batch === "function") {
        return settle(
          () => (batch as NonNullable<Evaluator["evaluateBatch"]>).call(plugin, all),
          (o) => {
            if (!o.ok) {
              const error = errorOf(o.error, "evaluateBatch");
              return all.map((): Result<wit.EvalResult> => ({ tag: "err", val: error }));
            }
            if (!Array.isArray(o.value) || o.value.length !== all.length) {
              const error = toWire(
                new Failed(
                  `\`evaluateBatch\` returned ${describe(o.value)} for ${all.length} traces: return one result or error per trace`,
                ),
              );
              return all.map((): Result<wit.EvalResult> => ({ tag: "err", val: error }));
            }
            return o.value.map((item) =>
              item instanceof Error
                ? { tag: "err" as const, val: errorOf(item, "evaluateBatch") }
                : converted(item, evalResultToWire, "evaluateBatch"),
            );
          },
        );
      }
      // One after the other, waiting for each when `evaluate` is async.
      const results: Result<wit.EvalResult>[] = [];
      const from = (index: number): Result<wit.EvalResult>[] | Promise<Result<wit.EvalResult>[]> => {
        for (let i = index; i < all.length; i++) {
          const next = settle(() => one(all[i] as Trace), (o) => toResult(o, "evaluate"));
          if (isPromise(next)) {
            return next.then((r) => {
              results.push(r);
              return from(i + 1);
            });
          }
          results.push(next);
        }
        return results;
      };
      return from(0);
    },
  };
}

/**
 * The `flowtrace:plugin/exporter` export for `impl`.
 *
 * ```ts
 * import { defineExporter } from "@flowtrace/plugin-sdk";
 * import { exportExporter } from "@flowtrace/plugin-sdk/export";
 *
 * export const exporter = exportExporter(
 *   defineExporter({
 *     formats: () => [{ name: "ids", mediaType: "text/plain", fileExtension: "txt" }],
 *     exportTraces: (_format, traces) => traces.map((t) => t.id()).join("\n"),
 *   }),
 * );
 * ```
 */
export function exportExporter(impl: Exporter) {
  installConsole();
  const plugin = checkExport(impl, "exporter", "defineExporter") as Exporter;
  const formats = methodOf(plugin, "exporter", "formats", "defineExporter({ formats() { ... }, exportTraces(format, traces) { ... } })");
  const exportTraces = methodOf(plugin, "exporter", "exportTraces", "defineExporter({ formats() { ... }, exportTraces(format, traces) { ... } })");
  return {
    formats(): wit.ExportFormat[] | Promise<wit.ExportFormat[]> {
      return settle(
        () => (formats as Exporter["formats"]).call(plugin),
        (o) => {
          if (!o.ok) throw o.error;
          if (!Array.isArray(o.value)) {
            throw new TypeError(`\`formats\` returned ${describe(o.value)}, not an array`);
          }
          return o.value.map((f) => ({
            name: String(f.name),
            mediaType: String(f.mediaType),
            fileExtension: String(f.fileExtension),
          }));
        },
      );
    },
    exportTraces(format: string, raw: TraceSource[]): Result<Uint8Array> | Promise<Result<Uint8Array>> {
      return settle(
        () => (exportTraces as Exporter["exportTraces"]).call(plugin, format, traces(raw)),
        (o): Result<Uint8Array> => {
          if (!o.ok) return { tag: "err", val: errorOf(o.error, "exportTraces") };
          return converted(o.value, bytesOf, "exportTraces");
        },
      );
    },
  };
}

function bytesOf(value: Uint8Array | string): Uint8Array {
  if (typeof value === "string") return new TextEncoder().encode(value);
  if (value instanceof Uint8Array) return value;
  throw new TypeError(`expected a Uint8Array or a string, got ${describe(value)}`);
}

/**
 * The `flowtrace:plugin/embedder` export for `impl`.
 *
 * ```ts
 * import { defineEmbedder } from "@flowtrace/plugin-sdk";
 * import { exportEmbedder } from "@flowtrace/plugin-sdk/export";
 *
 * export const embedder = exportEmbedder(defineEmbedder({ dimension: () => 1, embed: (t) => t.map(() => [1]) }));
 * ```
 */
export function exportEmbedder(impl: Embedder) {
  installConsole();
  const plugin = checkExport(impl, "embedder", "defineEmbedder") as Embedder;
  const dimension = methodOf(plugin, "embedder", "dimension", "defineEmbedder({ dimension() { ... }, embed(texts) { ... } })");
  const embed = methodOf(plugin, "embedder", "embed", "defineEmbedder({ dimension() { ... }, embed(texts) { ... } })");
  const dim = (): number => {
    const d = (dimension as Embedder["dimension"]).call(plugin);
    if (!Number.isInteger(d) || d < 0 || d > 0xffff_ffff) {
      throw new TypeError(`\`dimension\` returned ${describe(d)}, not a non-negative integer`);
    }
    return d;
  };
  return {
    dimension(): number {
      return dim();
    },
    embed(texts: string[]): Result<Float32Array[]> | Promise<Result<Float32Array[]>> {
      return settle(
        () => (embed as Embedder["embed"]).call(plugin, texts),
        (o): Result<Float32Array[]> => {
          if (!o.ok) return { tag: "err", val: errorOf(o.error, "embed") };
          return converted(
            o.value,
            (vectors) => {
              if (!Array.isArray(vectors)) {
                throw new TypeError(`expected an array of vectors, got ${describe(vectors)}`);
              }
              if (vectors.length !== texts.length) {
                throw new TypeError(`${vectors.length} vectors for ${texts.length} texts`);
              }
              const d = dim();
              return vectors.map((v, i) => {
                if (v === null || typeof v !== "object" || typeof v.length !== "number") {
                  throw new TypeError(`vector ${i} is ${describe(v)}, not an array of numbers`);
                }
                if (v.length !== d) {
                  throw new TypeError(`vector ${i} has ${v.length} numbers, the dimension is ${d}`);
                }
                return Float32Array.from(v);
              });
            },
            "embed",
          );
        },
      );
    },
  };
}

/**
 * The `flowtrace:plugin/transformer` export for `impl`.
 *
 * ```ts
 * import { defineTransformer } from "@flowtrace/plugin-sdk";
 * import { exportTransformer } from "@flowtrace/plugin-sdk/export";
 *
 * export const transformer = exportTransformer(defineTransformer({ transform: (t) => t.map((x) => x.toData()) }));
 * ```
 */
export function exportTransformer(impl: Transformer) {
  installConsole();
  const plugin = checkExport(impl, "transformer", "defineTransformer") as Transformer;
  const transform = methodOf(plugin, "transformer", "transform", "defineTransformer({ transform(traces) { ... } })");
  return {
    transform(raw: TraceSource[]): Result<wit.TraceData[]> | Promise<Result<wit.TraceData[]>> {
      return settle(
        () => (transform as Transformer["transform"]).call(plugin, traces(raw)),
        (o): Result<wit.TraceData[]> => {
          if (!o.ok) return { tag: "err", val: errorOf(o.error, "transform") };
          return converted(
            o.value,
            (out: TraceData[]) => {
              if (!Array.isArray(out)) {
                throw new TypeError(`expected an array of TraceData, got ${describe(out)}`);
              }
              return out.map((data, i) => traceDataToWire(data, `traces[${i}]`));
            },
            "transform",
          );
        },
      );
    },
  };
}
