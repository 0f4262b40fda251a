/**
 * `console` routed to the plugin log. `cargo flowtrace build` builds components without
 * componentize-js's `stdio` feature (which would add stdin, stdout, terminal and
 * filesystem imports); instead the export bridge replaces `console` with this one when the
 * plugin loads, so `console.log` and friends reach the plugin log, at the level their
 * name says.
 *
 * | call | level |
 * |---|---|
 * | `console.trace` | `trace` |
 * | `console.debug` | `debug` |
 * | `console.log`, `console.info` | `info` |
 * | `console.warn` | `warn` |
 * | `console.error` | `error` |
 *
 * Arguments are joined with spaces: strings as they are, errors with their stack, other
 * values as JSON (a bigint inside one as a string of its digits).
 *
 * @module
 */

import { write, type Level } from "./log";

/**
 * One log line for `console` arguments.
 *
 * ```ts
 * import { formatConsole } from "@flowtrace/plugin-sdk/export";
 *
 * formatConsole(["spans:", 3, { ok: true }]); // 'spans: 3 {"ok":true}'
 * ```
 */
export function formatConsole(args: readonly unknown[]): string {
  return args.map(formatOne).join(" ");
}

function formatOne(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) {
    return value.stack ? `${value.name}: ${value.message}\n${value.stack}` : `${value.name}: ${value.message}`;
  }
  if (value === undefined || typeof value === "function" || typeof value === "symbol") {
    return String(value);
  }
  try {
    const json = JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
    return json ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Replace `globalThis.console` with one that writes to the plugin log. The export bridge
 * calls it when the plugin loads; plugins need not.
 *
 * ```ts
 * import { installConsole } from "@flowtrace/plugin-sdk/export";
 *
 * installConsole();
 * console.warn("1 of 4 spans flagged"); // a `warn` line in the plugin log
 * ```
 */
export function installConsole(): void {
  const to =
    (level: Level) =>
    (...args: unknown[]): void => {
      write(level, formatConsole(args));
    };
  const console = {
    trace: to("trace"),
    debug: to("debug"),
    log: to("info"),
    info: to("info"),
    warn: to("warn"),
    error: to("error"),
  };
  Object.defineProperty(globalThis, "console", {
    value: console,
    writable: true,
    configurable: true,
    enumerable: false,
  });
}
