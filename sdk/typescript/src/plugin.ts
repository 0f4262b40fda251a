/**
 * What plugins of every kind share. Each kind has an interface and a `define*` function
 * that checks an object against it (one module of `kinds/` each); a plugin's entry module
 * exports its implementation under the kind's name: `evaluator`, `exporter`, `embedder`
 * or `transformer`.
 *
 * Each call from the host runs in a fresh instance of the plugin, so nothing carries
 * over between calls. Methods may be `async` (for `fetch`); the host waits for them.
 *
 * @module
 */

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
