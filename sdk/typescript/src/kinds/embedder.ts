/**
 * The embedder kind: {@link Embedder}, which turns texts into vectors,
 * {@link defineEmbedder}, and {@link exportEmbedder}, its bridge to
 * `flowtrace:plugin/embedder`.
 *
 * @module
 */

import { converted, errorOf, methodOf, pluginOf, settle, type Result } from "../bridge";
import type { MaybePromise } from "../plugin";
import { describe } from "../result";

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
  const plugin = pluginOf<Embedder>(impl, "embedder", "defineEmbedder");
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
