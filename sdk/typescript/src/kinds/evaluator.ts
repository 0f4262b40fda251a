/**
 * The evaluator kind: {@link Evaluator}, which scores traces, {@link defineEvaluator}, and
 * {@link exportEvaluator}, its bridge to `flowtrace:plugin/evaluator`.
 *
 * @module
 */

import type * as wit from "flowtrace:plugin/types@0.1.0";

import {
  converted,
  errorOf,
  isPromise,
  methodOf,
  pluginOf,
  settle,
  traces,
  type Outcome,
  type Result,
} from "../bridge";
import { Failed, toWire, type PluginError } from "../error";
import type { MaybePromise } from "../plugin";
import { describe, EvalResult } from "../result";
import { Trace, type TraceSource } from "../trace";
import { evalResultToWire } from "../wire";

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
  const plugin = pluginOf<Evaluator>(impl, "evaluator", "defineEvaluator");
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
