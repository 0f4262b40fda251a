/**
 * The plugin log (`flowtrace:plugin/log`, always granted). The host shows each line with
 * the plugin's id; `console.log`, `console.warn`, `console.error`, ... end up there too,
 * at their level.
 *
 * ```ts
 * import { log } from "@flowtrace/plugin-sdk";
 *
 * log.info(`checked ${4} spans`);
 * log.warn("1 of 4 spans flagged");
 * ```
 *
 * Logging calls the host: call it from plugin methods, not while the module loads (the
 * build runs the module's top level, where there is no host).
 *
 * @module
 */

import { log as hostLog } from "flowtrace:plugin/log@0.1.0";

/**
 * How important a log line is, least to most.
 *
 * ```ts
 * import { log } from "@flowtrace/plugin-sdk";
 *
 * const level: log.Level = "warn";
 * ```
 */
export type Level = "trace" | "debug" | "info" | "warn" | "error";

/**
 * Write one line at `level`.
 *
 * ```ts
 * import { log } from "@flowtrace/plugin-sdk";
 *
 * log.write("info", "starting");
 * ```
 */
export function write(level: Level, message: string): void {
  hostLog(level, String(message));
}

/**
 * Log at `trace`: very detailed tracing.
 *
 * ```ts
 * import { log } from "@flowtrace/plugin-sdk";
 *
 * log.trace("span 3 read");
 * ```
 */
export function trace(message: string): void {
  write("trace", message);
}

/**
 * Log at `debug`.
 *
 * ```ts
 * import { log } from "@flowtrace/plugin-sdk";
 *
 * log.debug(`config: threshold = ${0.7}`);
 * ```
 */
export function debug(message: string): void {
  write("debug", message);
}

/**
 * Log at `info`: normal progress.
 *
 * ```ts
 * import { log } from "@flowtrace/plugin-sdk";
 *
 * log.info("evaluated 12 spans");
 * ```
 */
export function info(message: string): void {
  write("info", message);
}

/**
 * Log at `warn`: something looks wrong, work goes on.
 *
 * ```ts
 * import { log } from "@flowtrace/plugin-sdk";
 *
 * log.warn("span 00f067aa0ba902b7 has no end time");
 * ```
 */
export function warn(message: string): void {
  write("warn", message);
}

/**
 * Log at `error`: something failed.
 *
 * ```ts
 * import { log } from "@flowtrace/plugin-sdk";
 *
 * log.error("cannot parse the output of span 4");
 * ```
 */
export function error(message: string): void {
  write("error", message);
}
