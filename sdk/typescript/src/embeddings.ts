/**
 * Text embeddings served by the host, usually by an installed embedder plugin
 * (`flowtrace:plugin/embeddings`). Needs the capability `embeddings = true` under
 * `[capabilities]` in flowtrace.toml: without it, importing this module fails the build
 * with the line to add.
 *
 * ```ts
 * import * as embeddings from "@flowtrace/plugin-sdk/embeddings";
 *
 * function similarity(a: string, b: string): number {
 *   const [x, y] = embeddings.embed([a, b]);
 *   return embeddings.cosine(x!, y!);
 * }
 * ```
 *
 * These functions call the host: call them from plugin methods.
 *
 * @module
 */

import * as host from "flowtrace:plugin/embeddings@0.1.0";

import { Failed, PluginError } from "./error";

/**
 * Dimension of the vectors {@link embed} returns. Throws the service's
 * {@link PluginError} when it fails.
 *
 * ```ts
 * import * as embeddings from "@flowtrace/plugin-sdk/embeddings";
 *
 * const dim = embeddings.dimension();
 * ```
 */
export function dimension(): number {
  try {
    return host.dimension();
  } catch (error) {
    throw PluginError.from(error);
  }
}

/**
 * One vector per text, in order. Throws the service's {@link PluginError} when it
 * fails.
 *
 * ```ts
 * import * as embeddings from "@flowtrace/plugin-sdk/embeddings";
 *
 * const vectors = embeddings.embed(["refund policy", "return window"]);
 * ```
 */
export function embed(texts: readonly string[]): Float32Array[] {
  try {
    return host.embed([...texts]);
  } catch (error) {
    throw PluginError.from(error);
  }
}

/**
 * The vector of one text.
 *
 * ```ts
 * import * as embeddings from "@flowtrace/plugin-sdk/embeddings";
 *
 * const v = embeddings.embedOne("where is my order?");
 * ```
 */
export function embedOne(text: string): Float32Array {
  const [vector] = embed([text]);
  if (vector === undefined) throw new Failed("the embedding service returned no vector");
  return vector;
}

/**
 * The cosine similarity of two vectors of the same length (0 when either is all zeros).
 *
 * ```ts
 * import { cosine } from "@flowtrace/plugin-sdk/embeddings";
 *
 * cosine([1, 0], [1, 0]); // 1
 * cosine([1, 0], [0, 1]); // 0
 * ```
 */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new RangeError(`vectors of different lengths: ${a.length} and ${b.length}`);
  }
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
