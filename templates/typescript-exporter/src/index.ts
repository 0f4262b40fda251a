/**
 * A Flowtrace exporter: writes traces as JSON lines, one line per span with its ids, name,
 * kind, status, timing, token usage and cost (`jsonl`). Prompts and completions are not
 * copied out of the host, only their lengths.
 *
 * The `include-model` setting adds each span's model.
 *
 * Change `summary` to write what you need, or add a format to `formats`;
 * `cargo flowtrace test` runs the fixtures in `tests/` against it.
 */

import { config, defineExporter, InvalidInput, type SpanRef } from "@flowtrace/plugin-sdk";

export const exporter = defineExporter({
  formats() {
    return [{ name: "jsonl", mediaType: "application/x-ndjson", fileExtension: "jsonl" }];
  },

  exportTraces(format, traces) {
    if (format !== "jsonl") {
      throw new InvalidInput(`unknown format \`${format}\`: this exporter writes \`jsonl\``);
    }
    const includeModel = config.boolean("include-model");
    const lines: string[] = [];
    for (const trace of traces) {
      const traceId = trace.id();
      const spans = trace.spans();
      // one copy of each span id, so parents are looked up by index
      const ids = spans.map((span) => span.id());
      for (const span of spans) {
        lines.push(summary(traceId, ids, span, includeModel));
      }
    }
    // a string is written as UTF-8
    return lines.map((line) => `${line}\n`).join("");
  },
});

/** A JSON value of a summary: times are `bigint` nanoseconds. */
type Field = string | number | bigint | null;

/** The JSON line of one span. Its kind, status, times, token counts and lengths come
 * from facts the SDK fetched once for the whole trace; `name()` and `model()` copy one
 * string each. */
function summary(traceId: string, ids: string[], span: SpanRef, includeModel: boolean): string {
  const info = span.info;
  const line: Record<string, Field> = {
    trace_id: traceId,
    span_id: ids[span.index],
    parent_id: info.parent === undefined ? null : ids[info.parent],
    name: span.name(),
    kind: info.kind,
    status: info.status,
    start_time_ns: info.startTimeNs,
    duration_ns: span.durationNs ?? null,
    input_tokens: info.usage.input ?? null,
    output_tokens: info.usage.output ?? null,
    cost_usd: info.costUsd ?? null,
    input_len: info.inputLen,
    output_len: info.outputLen,
  };
  if (includeModel) {
    line.model = span.model() ?? null;
  }
  return jsonObject(line);
}

/** `fields` as one line of JSON, keys sorted. `JSON.stringify` refuses a `bigint`, and
 * nanosecond times do not fit a `number` exactly: they are written as their digits. */
function jsonObject(fields: Record<string, Field>): string {
  const members = Object.keys(fields)
    .sort()
    .map((key) => {
      const value = fields[key];
      const text = typeof value === "bigint" ? value.toString() : JSON.stringify(value);
      return `${JSON.stringify(key)}:${text}`;
    });
  return `{${members.join(",")}}`;
}
