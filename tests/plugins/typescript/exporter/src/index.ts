/**
 * The contract exporter: `dump` writes every field of every span (each read whole) in a
 * fixed text form, `ids` one trace id a line. The Rust and Python ones write the same
 * bytes; the rules are in the README's "Contract suite" section.
 */

import { defineExporter, InvalidInput, type Attribute, type Trace } from "@flowtrace/plugin-sdk";

/** An optional text: `=` and the text, or `!`. */
function opt(value: string | number | bigint | undefined): string {
  return value === undefined ? "!" : `=${value}`;
}

/** A float by its bits (16 hex digits), NaN as `NaN` (its payload is not kept). */
function float(f: number): string {
  if (Number.isNaN(f)) return "NaN";
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, f);
  return view.getBigUint64(0).toString(16).padStart(16, "0");
}

function attributes(out: string[], attrs: Attribute[]): void {
  for (const a of attrs) {
    const v = a.value;
    const text = v.tag === "float" ? float(v.raw as number) : String(v.raw);
    out.push(`attr\t${a.key}\t${v.tag}:${text}\n`);
  }
}

function dump(out: string[], trace: Trace): void {
  const count = trace.spanCount;
  out.push(`trace\t${trace.id()}\t${count}\n`);
  out.push(`input\t${opt(trace.input())}\n`);
  out.push(`output\t${opt(trace.output())}\n`);
  attributes(out, trace.attributes());
  for (let index = 0; index < count; index++) {
    const ref = trace.span(index);
    if (ref === undefined) continue;
    const s = ref.toSpan();
    const fields = [
      "span",
      String(index),
      s.id,
      opt(s.parentId),
      s.name,
      s.kind,
      s.status,
      opt(s.statusMessage),
      opt(s.input),
      opt(s.output),
      opt(s.model),
      s.startTimeNs.toString(),
      opt(s.endTimeNs),
      opt(s.usage.input),
      opt(s.usage.output),
      opt(s.usage.total),
      opt(s.costUsd === undefined ? undefined : float(s.costUsd)),
    ];
    out.push(fields.join("\t") + "\n");
    attributes(out, s.attributes);
  }
}

export const exporter = defineExporter({
  formats() {
    return [
      { name: "dump", mediaType: "text/plain; charset=utf-8", fileExtension: "txt" },
      { name: "ids", mediaType: "text/plain", fileExtension: "ids" },
    ];
  },

  exportTraces(format, traces) {
    const out: string[] = [];
    if (format === "dump") {
      for (const trace of traces) dump(out, trace);
    } else if (format === "ids") {
      for (const trace of traces) out.push(`${trace.id()}\n`);
    } else {
      throw new InvalidInput(`unknown format \`${format}\``);
    }
    return out.join("");
  },
});
