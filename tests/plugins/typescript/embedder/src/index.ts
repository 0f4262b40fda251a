/**
 * The contract embedder: eight numbers per text, computed the same way in every language
 * (lengths in UTF-8 bytes, code points and UTF-16 units, first and last code point, a
 * division rounded to f32); NaN and infinities for the empty text; `fail` refused. The rules
 * are in the README's "Contract suite" section.
 */

import { defineEmbedder, InvalidInput } from "@flowtrace/plugin-sdk";

function vector(text: string): number[] {
  if (text.length === 0) return [NaN, Infinity, -Infinity, -0, 0, 0, 0, 0];
  const points = [...text].map((c) => c.codePointAt(0) ?? 0);
  const size = points.reduce((n, p) => n + (p < 0x80 ? 1 : p < 0x800 ? 2 : p < 0x10000 ? 3 : 4), 0);
  return [
    size,
    points.length,
    text.length,
    points[0] ?? 0,
    points[points.length - 1] ?? 0,
    size / 3,
    0.1,
    points.reduce((a, p) => a + p, 0) % 65521,
  ];
}

export const embedder = defineEmbedder({
  dimension() {
    return 8;
  },

  embed(texts) {
    const failing = texts.indexOf("fail");
    if (failing >= 0) throw new InvalidInput(`text ${failing} asks to fail`);
    return texts.map(vector);
  },
});
