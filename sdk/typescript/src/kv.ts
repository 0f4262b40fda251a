/**
 * A per-plugin key-value store (`flowtrace:plugin/kv`). Needs the capability
 * `storage = true` under `[capabilities]` in flowtrace.toml: without it, importing this
 * module fails the build with the line to add.
 *
 * Values are bytes (a string is stored as UTF-8); the host keeps a quota per plugin.
 *
 * ```ts
 * import * as kv from "@flowtrace/plugin-sdk/kv";
 *
 * function countRun(): number {
 *   const runs = Number(kv.getText("runs") ?? "0") + 1;
 *   kv.set("runs", String(runs));
 *   return runs;
 * }
 * ```
 *
 * These functions call the host: call them from plugin methods.
 *
 * @module
 */

import * as host from "flowtrace:plugin/kv@0.1.0";

import { Unavailable } from "./error";

/**
 * The value under `key`, if any.
 *
 * ```ts
 * import * as kv from "@flowtrace/plugin-sdk/kv";
 *
 * const baseline = kv.get("baseline");
 * ```
 */
export function get(key: string): Uint8Array | undefined {
  return host.get(key);
}

/**
 * The value under `key` as UTF-8 text, if any.
 *
 * ```ts
 * import * as kv from "@flowtrace/plugin-sdk/kv";
 *
 * const baseline = Number(kv.getText("baseline") ?? "0.8");
 * ```
 */
export function getText(key: string): string | undefined {
  const value = host.get(key);
  return value === undefined ? undefined : new TextDecoder().decode(value);
}

/**
 * Store `value` under `key` (a string as UTF-8), replacing what was there. Throws
 * {@link Unavailable} when the store's quota would be exceeded.
 *
 * ```ts
 * import * as kv from "@flowtrace/plugin-sdk/kv";
 *
 * kv.set("baseline", "0.82");
 * ```
 */
export function set(key: string, value: Uint8Array | string): void {
  const bytes = typeof value === "string" ? new TextEncoder().encode(value) : value;
  try {
    host.set(key, bytes);
  } catch (error) {
    const reason =
      typeof (error as { payload?: unknown } | null)?.payload === "string"
        ? (error as { payload: string }).payload
        : String(error);
    throw new Unavailable(`cannot store \`${key}\`: ${reason}`);
  }
}

/**
 * Remove `key`; removing a missing key is not an error.
 *
 * ```ts
 * import * as kv from "@flowtrace/plugin-sdk/kv";
 *
 * kv.remove("baseline");
 * ```
 */
export function remove(key: string): void {
  host.delete(key);
}

/**
 * The keys starting with `prefix` (every key without one), sorted.
 *
 * ```ts
 * import * as kv from "@flowtrace/plugin-sdk/kv";
 *
 * for (const key of kv.keys("seen/")) kv.remove(key);
 * ```
 */
export function keys(prefix = ""): string[] {
  return host.keys(prefix);
}
