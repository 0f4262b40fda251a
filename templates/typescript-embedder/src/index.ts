/**
 * A Flowtrace embedder: a deterministic hashing embedder. Each word (lowercased, split on
 * anything not alphanumeric) is hashed into one of 64 dimensions with a sign, and the
 * vector is L2-normalised, so texts sharing words have a high cosine similarity. No model,
 * no network: a baseline, and a starting point for a real embedder.
 *
 * Replace `embedText` with a real model when you need semantic similarity;
 * `cargo flowtrace test` runs the fixtures in `tests/` against it.
 */

import { defineEmbedder } from "@flowtrace/plugin-sdk";

import { isAlphanumeric } from "./alphanumeric";

const DIMENSION = 64;

export const embedder = defineEmbedder({
  dimension() {
    return DIMENSION;
  },

  embed(texts) {
    return texts.map((text) => embedText(text));
  },
});

/** The unit vector of `text` (all zeros for a text without words), in 32-bit floats, as
 * the Rust template computes it and the host receives it. */
function embedText(text: string): Float32Array {
  const vector = new Float32Array(DIMENSION);
  const utf8 = new TextEncoder();
  for (const word of words(text)) {
    const [high, low] = fnv1a(utf8.encode(lowercase(word)));
    const sign = high >>> 31 === 0 ? 1 : -1;
    vector[low % DIMENSION] += sign;
  }
  let squares = 0;
  for (const x of vector) squares += x * x;
  const norm = Math.fround(Math.sqrt(squares));
  if (norm > 0) {
    for (let i = 0; i < DIMENSION; i++) vector[i] /= norm;
  }
  return vector;
}

/** The words of `text`: its runs of letters and digits, in any script. */
function words(text: string): string[] {
  const found: string[] = [];
  let word = "";
  for (const char of text) {
    // one code point at a time
    if (isAlphanumeric(char.codePointAt(0) ?? 0)) {
      word += char;
    } else if (word !== "") {
      found.push(word);
      word = "";
    }
  }
  if (word !== "") found.push(word);
  return found;
}

/** `word` lowercased as Rust's `to_lowercase` does it. The engine componentize-js builds
 * on (without ICU) lowercases a capital sigma to `σ` everywhere; after a cased letter and
 * at the end of a word it is `ς` (Unicode's Final_Sigma rule). */
function lowercase(word: string): string {
  if (!word.includes("Σ")) return word.toLowerCase();
  const chars = [...word];
  const cased = (char: string | undefined) =>
    char !== undefined && char.toLowerCase() !== char.toUpperCase();
  return chars
    .map((char, i) => {
      if (char !== "Σ") return char.toLowerCase();
      return cased(chars[i - 1]) && !cased(chars[i + 1]) ? "ς" : "σ";
    })
    .join("");
}

/** 64-bit FNV-1a, as its high and low 32 bits: stable across platforms and releases, and
 * plain number arithmetic (no `bigint` per byte). */
function fnv1a(bytes: Uint8Array): [number, number] {
  let high = 0xcbf29ce4;
  let low = 0x84222325;
  for (const byte of bytes) {
    low = (low ^ byte) >>> 0;
    // times the FNV prime, 2^40 + 0x1b3, modulo 2^64
    const product = low * 0x1b3; // below 2^41: exact
    high = (Math.imul(high, 0x1b3) + (low << 8) + Math.floor(product / 2 ** 32)) >>> 0;
    low = product >>> 0;
  }
  return [high, low];
}
