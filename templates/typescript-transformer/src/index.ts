/**
 * A Flowtrace transformer: redacts email addresses from every text of a trace (inputs,
 * outputs, status messages and text attributes, where instrumentations keep copies of
 * prompts) and records how many it replaced in the trace attribute
 * `flowtrace.redacted.emails`.
 *
 * The `replacement` setting is what each address becomes (default `[email]`).
 *
 * Change `redactTrace` to rewrite traces your way; `cargo flowtrace test` runs the
 * fixtures in `tests/` against it.
 */

import {
  AttributeValue,
  config,
  defineTransformer,
  setAttribute,
  type Attribute,
  type TraceData,
} from "@flowtrace/plugin-sdk";

import { redact } from "./email";

export const transformer = defineTransformer({
  transform(traces) {
    const replacement = config.string("replacement");
    return traces.map((trace) => redactTrace(trace.toData(), replacement));
  },
});

/** `trace` with its texts redacted, and how many addresses were replaced in its attribute
 * `flowtrace.redacted.emails` when there were any. */
function redactTrace(trace: TraceData, replacement: string): TraceData {
  // Inside a JSON attribute an address is always within a string, where the replacement
  // must be written escaped for the JSON to stay valid.
  const inJson = JSON.stringify(replacement).slice(1, -1);
  let count = 0;
  const text = (value: string, replaceWith = replacement): string => {
    const redacted = redact(value, replaceWith);
    if (redacted === undefined) return value;
    count += redacted.count;
    return redacted.text;
  };
  const optional = (value: string | undefined) => (value === undefined ? undefined : text(value));
  const attributes = (list: Attribute[]) => {
    for (const attribute of list) {
      const plain = attribute.value.asString();
      const json = attribute.value.asJson();
      if (plain !== undefined) attribute.value = AttributeValue.text(text(plain));
      if (json !== undefined) attribute.value = AttributeValue.json(text(json, inJson));
    }
  };

  trace.input = optional(trace.input);
  trace.output = optional(trace.output);
  attributes(trace.attributes);
  for (const span of trace.spans) {
    span.input = optional(span.input);
    span.output = optional(span.output);
    span.statusMessage = optional(span.statusMessage);
    attributes(span.attributes);
  }
  if (count > 0) {
    setAttribute(trace.attributes, "flowtrace.redacted.emails", count);
  }
  return trace;
}
