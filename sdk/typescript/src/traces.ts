/**
 * Read other recorded traces (`flowtrace:plugin/traces`). Needs the capability
 * `traces = true` under `[capabilities]` in flowtrace.toml: without it, importing this
 * module fails the build with the line to add.
 *
 * ```ts
 * import { log } from "@flowtrace/plugin-sdk";
 * import * as traces from "@flowtrace/plugin-sdk/traces";
 *
 * // compare against the five latest runs of the same agent
 * for (const id of traces.query({ nameContains: "agent run", limit: 5 })) {
 *   const previous = traces.get(id);
 *   if (previous) log.info(`${id}: ${previous.spanCount} spans`);
 * }
 * ```
 *
 * These functions call the host: call them from plugin methods.
 *
 * @module
 */

import * as host from "flowtrace:plugin/traces@0.1.0";

import { Trace } from "./trace";

/**
 * Which traces {@link query} returns: every field optional.
 *
 * ```ts
 * import type { Query } from "@flowtrace/plugin-sdk/traces";
 *
 * const q: Query = { nameContains: "checkout", sinceNs: 1_700_000_000_000_000_000n, limit: 20 };
 * ```
 */
export interface Query {
  /** Only traces whose root span name contains this text. */
  nameContains?: string;
  /** Only traces that started at or after this time (ns since the Unix epoch). */
  sinceNs?: bigint | number;
  /** Only traces that started before this time (ns since the Unix epoch). */
  untilNs?: bigint | number;
  /** At most this many ids (the host caps it too). Default 100. */
  limit?: number;
}

/**
 * The trace with `id`, if the host has it.
 *
 * ```ts
 * import * as traces from "@flowtrace/plugin-sdk/traces";
 *
 * const previous = traces.get("4bf92f3577b34da6a3ce929d0e0e4736");
 * ```
 */
export function get(id: string): Trace | undefined {
  const raw = host.get(id);
  return raw === undefined ? undefined : new Trace(raw);
}

/**
 * Ids of the traces matching `query`, newest first.
 *
 * ```ts
 * import * as traces from "@flowtrace/plugin-sdk/traces";
 *
 * const latest = traces.query({ limit: 10 });
 * ```
 */
export function query(query: Query = {}): string[] {
  const wire: host.TraceQuery = { limit: query.limit ?? 100 };
  if (query.nameContains !== undefined) wire.nameContains = query.nameContains;
  if (query.sinceNs !== undefined) wire.sinceNs = BigInt(query.sinceNs);
  if (query.untilNs !== undefined) wire.untilNs = BigInt(query.untilNs);
  return host.query(wire);
}
