/**
 * The plugin's settings: the `[config]` table of its `flowtrace.toml`, with the user's
 * overrides, checked by the host against the declared types before the plugin runs.
 *
 * ```toml
 * [config]
 * threshold = { type = "float", default = 0.7 }
 * max-output-chars = { type = "integer", default = 20000 }
 * ```
 *
 * ```ts
 * import { config } from "@flowtrace/plugin-sdk";
 *
 * const threshold = config.number("threshold");
 * const maxChars = config.integer("max-output-chars");
 * ```
 *
 * These functions call the host: call them from plugin methods, not while the module
 * loads.
 *
 * @module
 */

import * as host from "flowtrace:plugin/config@0.1.0";

import { InvalidConfig } from "./error";
import { toNumber } from "./attribute";

/**
 * A configuration value as JavaScript sees it: `string` (`type = "string"`), `number`
 * (`integer` and `float`; an integer too big for a number is a `bigint`), `boolean`,
 * `string[]` (`string-list`).
 *
 * ```ts
 * import { config } from "@flowtrace/plugin-sdk";
 *
 * const value: config.ConfigValue | undefined = config.get("threshold");
 * ```
 */
export type ConfigValue = string | number | bigint | boolean | string[];

/**
 * The manifest's name of a value's type, as `[config]` declares it.
 *
 * ```ts
 * import { config } from "@flowtrace/plugin-sdk";
 *
 * const declared: config.ConfigType = "string-list";
 * ```
 */
export type ConfigType = "string" | "integer" | "float" | "boolean" | "string-list";

/**
 * The value of `key`, or `undefined` when it has none (not declared in `[config]`, or
 * declared without a default and not set by the user).
 *
 * ```ts
 * import { config } from "@flowtrace/plugin-sdk";
 *
 * const apiBase = config.get("api-base") ?? "https://api.openai.com";
 * ```
 */
export function get(key: string): ConfigValue | undefined {
  const value = host.get(key);
  if (value === undefined) return undefined;
  switch (value.tag) {
    case "integer":
      return toNumber(value.val);
    case "text-list":
      return [...value.val];
    default:
      return value.val;
  }
}

/**
 * The value of `key`; an {@link InvalidConfig} error naming the key when it has none.
 *
 * ```ts
 * import { config } from "@flowtrace/plugin-sdk";
 *
 * const mode = config.require("mode");
 * ```
 */
export function require(key: string): ConfigValue {
  const value = get(key);
  if (value === undefined) {
    throw new InvalidConfig(
      `config \`${key}\` has no value: declare it under \`[config]\` in flowtrace.toml with a default`,
    );
  }
  return value;
}

/**
 * A `float` or `integer` setting as a number.
 *
 * ```ts
 * import { config } from "@flowtrace/plugin-sdk";
 *
 * const threshold = config.number("threshold"); // 0.7
 * ```
 */
export function number(key: string): number {
  const value = host.get(key);
  if (value?.tag === "float") return value.val;
  if (value?.tag === "integer") return Number(value.val);
  throw mismatch(key, "a float", value);
}

/**
 * An `integer` setting as a number (an {@link InvalidConfig} error if it does not fit one
 * exactly).
 *
 * ```ts
 * import { config } from "@flowtrace/plugin-sdk";
 *
 * const maxMs = config.integer("max-span-ms"); // 30000
 * ```
 */
export function integer(key: string): number {
  const value = host.get(key);
  if (value?.tag !== "integer") throw mismatch(key, "an integer", value);
  const n = Number(value.val);
  if (!Number.isSafeInteger(n)) {
    throw new InvalidConfig(`config \`${key}\`: ${value.val} is too large for a JavaScript number`);
  }
  return n;
}

/**
 * A `boolean` setting.
 *
 * ```ts
 * import { config } from "@flowtrace/plugin-sdk";
 *
 * const strict = config.boolean("strict");
 * ```
 */
export function boolean(key: string): boolean {
  const value = host.get(key);
  if (value?.tag !== "boolean") throw mismatch(key, "a boolean", value);
  return value.val;
}

/**
 * A `string` setting.
 *
 * ```ts
 * import { config } from "@flowtrace/plugin-sdk";
 *
 * const model = config.string("model");
 * ```
 */
export function string(key: string): string {
  const value = host.get(key);
  if (value?.tag !== "text") throw mismatch(key, "a string", value);
  return value.val;
}

/**
 * A `string-list` setting.
 *
 * ```ts
 * import { config } from "@flowtrace/plugin-sdk";
 *
 * const words = config.stringList("blocked-words");
 * ```
 */
export function stringList(key: string): string[] {
  const value = host.get(key);
  if (value?.tag !== "text-list") throw mismatch(key, "a string-list", value);
  return [...value.val];
}

/**
 * The keys of `[config]`, as the host reports them.
 *
 * ```ts
 * import { config, log } from "@flowtrace/plugin-sdk";
 *
 * for (const key of config.keys()) log.debug(`config key \`${key}\``);
 * ```
 */
export function keys(): string[] {
  return host.keys();
}

const TYPE_NAMES: Record<host.ConfigValue["tag"], ConfigType> = {
  text: "string",
  integer: "integer",
  float: "float",
  boolean: "boolean",
  "text-list": "string-list",
};

function mismatch(key: string, expected: string, value: host.ConfigValue | undefined): InvalidConfig {
  if (value === undefined) {
    return new InvalidConfig(
      `config \`${key}\` has no value: declare it under \`[config]\` in flowtrace.toml with a default`,
    );
  }
  const type = TYPE_NAMES[value.tag];
  const article = type === "integer" ? "an" : "a";
  const shown = JSON.stringify(value.val, (_k, v: unknown) =>
    typeof v === "bigint" ? Number(v) : v,
  );
  return new InvalidConfig(`config \`${key}\`: expected ${expected}, found ${article} ${type} (${shown})`);
}
