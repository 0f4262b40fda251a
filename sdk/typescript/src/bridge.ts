/**
 * What the export bridges of every kind (`kinds/<kind>.ts`) share: calling plugin methods
 * that may be async, and turning what they throw or return wrongly into the contract's
 * `plugin-error`. Not public API.
 *
 * @module
 */

import type * as wit from "flowtrace:plugin/types@0.1.0";

import { installConsole } from "./console";
import { Failed, hostPayload, PluginError, toWire } from "./error";
import { write as writeLog } from "./log";
import { describe } from "./result";
import { Trace, type TraceSource } from "./trace";

/** What an exported function returning `result<T, plugin-error>` gives componentize-js. */
export type Result<T> = { tag: "ok"; val: T } | { tag: "err"; val: wit.PluginError };

/** What a plugin method gave: a value, or what it threw. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

export function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/** Run `call`, then `then` on its outcome: synchronously when `call` is synchronous. */
export function settle<T, R>(call: () => T | Promise<T>, then: (outcome: Outcome<T>) => R): R | Promise<R> {
  let value: T | Promise<T>;
  try {
    value = call();
  } catch (error) {
    return then({ ok: false, error });
  }
  if (isPromise(value)) {
    return value.then(
      (v) => then({ ok: true, value: v }),
      (error: unknown) => then({ ok: false, error }),
    );
  }
  return then({ ok: true, value });
}

/**
 * The contract's error for what a plugin threw; an unexpected exception is reported to the
 * host with its stack ({@link report}).
 */
export function errorOf(error: unknown, method: string): wit.PluginError {
  if (error instanceof PluginError) return toWire(error);
  const converted = PluginError.from(error);
  if (!hostPayload(error)) report(error, converted.message, method);
  return toWire(converted);
}

/**
 * What the log line that reports an exception to the host starts with; the host keeps the
 * report with the call's error instead of logging it (`flowtrace_plugins::failure`).
 */
const REPORT_MARKER = "\u001eflowtrace-failure ";

/**
 * Tell the host about an exception the plugin did not catch: its name, message and stack
 * (the frames in the bundle, `function@plugin.js:line:column`, which the host maps back to
 * the TypeScript sources), paired with the `failed` message `summary`.
 */
export function report(error: unknown, summary: string, method: string): void {
  const isError = error instanceof Error;
  const frames = isError && typeof error.stack === "string" ? bundleFrames(error.stack) : [];
  const name = isError ? error.name : undefined;
  const message = isError ? error.message : String(error);
  writeLog(
    "error",
    REPORT_MARKER +
      JSON.stringify({
        summary,
        exception: name ?? `a value thrown by \`${method}\``,
        message,
        location: frames[0] ?? null,
        backtrace: frames,
        // SpiderMonkey's error for a recursion past its stack.
        "stack-overflow": name === "InternalError" && /too much recursion/.test(message),
      }),
  );
}

/** The frames of a SpiderMonkey stack that are in the bundle (not componentize-js's own). */
function bundleFrames(stack: string): string[] {
  return stack
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => /@plugin\.js:\d+:\d+$/.test(line));
}

/** `result` with an `invalid result` message when converting it fails. */
export function converted<T, W>(value: T, convert: (value: T) => W, method: string): Result<W> {
  try {
    return { tag: "ok", val: convert(value) };
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { tag: "err", val: toWire(new Failed(`\`${method}\` returned an invalid result: ${why}`)) };
  }
}

export function methodOf(impl: object, kind: string, name: string, example: string): (...args: never[]) => unknown {
  const method = (impl as Record<string, unknown>)[name];
  if (typeof method !== "function") {
    throw new TypeError(
      `the plugin's \`${kind}\` export has no \`${name}\` method (found ${describe(method)}): ` +
        `export \`${example}\``,
    );
  }
  return method as (...args: never[]) => unknown;
}

/**
 * The plugin a bridge wraps: `impl`, checked to be an object (named `kind`, made by
 * `define`), once `console` is routed to the plugin log.
 */
export function pluginOf<T>(impl: unknown, kind: string, define: string): T {
  installConsole();
  if (typeof impl !== "object" || impl === null) {
    throw new TypeError(
      `the plugin exports \`${kind}\` as ${describe(impl)}, not an object: ` +
        `\`export const ${kind} = ${define}({ ... })\``,
    );
  }
  return impl as T;
}

export function traces(raw: readonly TraceSource[]): Trace[] {
  return raw.map((t) => new Trace(t));
}
