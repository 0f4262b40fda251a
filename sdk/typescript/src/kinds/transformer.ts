/**
 * The transformer kind: {@link Transformer}, which rewrites traces, {@link defineTransformer},
 * and {@link exportTransformer}, its bridge to `flowtrace:plugin/transformer`.
 *
 * @module
 */

import type * as wit from "flowtrace:plugin/types@0.1.0";

import { converted, errorOf, methodOf, pluginOf, settle, traces, type Result } from "../bridge";
import type { TraceData } from "../data";
import type { MaybePromise } from "../plugin";
import { describe } from "../result";
import type { Trace, TraceSource } from "../trace";
import { traceDataToWire } from "../wire";

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
  const plugin = pluginOf<Transformer>(impl, "transformer", "defineTransformer");
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
