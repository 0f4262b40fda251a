/**
 * The exporter kind: {@link Exporter}, which writes traces in another format, the
 * {@link ExportFormat}s it names, {@link defineExporter}, and {@link exportExporter}, its
 * bridge to `flowtrace:plugin/exporter`.
 *
 * @module
 */

import type * as wit from "flowtrace:plugin/exporter@0.1.0";

import { converted, errorOf, methodOf, pluginOf, settle, traces, type Result } from "../bridge";
import type { MaybePromise } from "../plugin";
import { describe } from "../result";
import type { Trace, TraceSource } from "../trace";

/**
 * A format an exporter writes.
 *
 * ```ts
 * import type { ExportFormat } from "@flowtrace/plugin-sdk";
 *
 * const jsonl: ExportFormat = { name: "jsonl", mediaType: "application/x-ndjson", fileExtension: "jsonl" };
 * ```
 */
export interface ExportFormat {
  /** Short name passed back to `exportTraces`, e.g. `jsonl`. */
  name: string;
  /** The media type of the output, e.g. `application/x-ndjson`. */
  mediaType: string;
  /** The file extension, without the dot, e.g. `jsonl`. */
  fileExtension: string;
}

/**
 * Writes traces in another format. Export it as `exporter`.
 *
 * ```ts
 * import { defineExporter, InvalidInput } from "@flowtrace/plugin-sdk";
 *
 * export const exporter = defineExporter({
 *   formats: () => [{ name: "count", mediaType: "text/plain", fileExtension: "txt" }],
 *   exportTraces(format, traces) {
 *     if (format !== "count") throw new InvalidInput(`unknown format \`${format}\``);
 *     return traces.map((t) => `${t.id()} ${t.spanCount}\n`).join("");
 *   },
 * });
 * ```
 */
export interface Exporter {
  /**
   * The formats this exporter writes.
   *
   * ```ts
   * formats: () => [{ name: "csv", mediaType: "text/csv", fileExtension: "csv" }]
   * ```
   */
  formats(): MaybePromise<ExportFormat[]>;

  /**
   * Write `traces` in `format` (one of the names from `formats`): bytes, or a string
   * (written as UTF-8).
   *
   * ```ts
   * exportTraces: (_format, traces) => traces.map((t) => t.id() + "\n").join("")
   * ```
   */
  exportTraces(format: string, traces: Trace[]): MaybePromise<Uint8Array | string>;
}

/**
 * `exporter`, checked against {@link Exporter}.
 *
 * ```ts
 * import { defineExporter } from "@flowtrace/plugin-sdk";
 *
 * export const exporter = defineExporter({
 *   formats: () => [{ name: "ids", mediaType: "text/plain", fileExtension: "txt" }],
 *   exportTraces: (_format, traces) => traces.map((t) => t.id()).join("\n"),
 * });
 * ```
 */
export function defineExporter<T extends Exporter>(exporter: T): T {
  return exporter;
}

/**
 * The `flowtrace:plugin/exporter` export for `impl`.
 *
 * ```ts
 * import { defineExporter } from "@flowtrace/plugin-sdk";
 * import { exportExporter } from "@flowtrace/plugin-sdk/export";
 *
 * export const exporter = exportExporter(
 *   defineExporter({
 *     formats: () => [{ name: "ids", mediaType: "text/plain", fileExtension: "txt" }],
 *     exportTraces: (_format, traces) => traces.map((t) => t.id()).join("\n"),
 *   }),
 * );
 * ```
 */
export function exportExporter(impl: Exporter) {
  const plugin = pluginOf<Exporter>(impl, "exporter", "defineExporter");
  const formats = methodOf(plugin, "exporter", "formats", "defineExporter({ formats() { ... }, exportTraces(format, traces) { ... } })");
  const exportTraces = methodOf(plugin, "exporter", "exportTraces", "defineExporter({ formats() { ... }, exportTraces(format, traces) { ... } })");
  return {
    formats(): wit.ExportFormat[] | Promise<wit.ExportFormat[]> {
      return settle(
        () => (formats as Exporter["formats"]).call(plugin),
        (o) => {
          if (!o.ok) throw o.error;
          if (!Array.isArray(o.value)) {
            throw new TypeError(`\`formats\` returned ${describe(o.value)}, not an array`);
          }
          return o.value.map((f) => ({
            name: String(f.name),
            mediaType: String(f.mediaType),
            fileExtension: String(f.fileExtension),
          }));
        },
      );
    },
    exportTraces(format: string, raw: TraceSource[]): Result<Uint8Array> | Promise<Result<Uint8Array>> {
      return settle(
        () => (exportTraces as Exporter["exportTraces"]).call(plugin, format, traces(raw)),
        (o): Result<Uint8Array> => {
          if (!o.ok) return { tag: "err", val: errorOf(o.error, "exportTraces") };
          return converted(o.value, bytesOf, "exportTraces");
        },
      );
    },
  };
}

function bytesOf(value: Uint8Array | string): Uint8Array {
  if (typeof value === "string") return new TextEncoder().encode(value);
  if (value instanceof Uint8Array) return value;
  throw new TypeError(`expected a Uint8Array or a string, got ${describe(value)}`);
}
