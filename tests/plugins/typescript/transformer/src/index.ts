/**
 * The contract transformer: drops traces without spans and returns the others whole, with
 * one trace attribute of each type appended. The Rust and Python ones do the same; the
 * rules are in the README's "Contract suite" section.
 */

import { AttributeValue, defineTransformer } from "@flowtrace/plugin-sdk";

export const transformer = defineTransformer({
  transform(traces) {
    return traces
      .filter((trace) => trace.spanCount > 0)
      .map((trace) => {
        const data = trace.toData();
        data.attributes.push(
          { key: "contract.spans", value: AttributeValue.integer(data.spans.length) },
          { key: "contract.text", value: AttributeValue.text("✓ 😀") },
          { key: "contract.float", value: AttributeValue.float(0.25) },
          { key: "contract.flag", value: AttributeValue.boolean(true) },
          { key: "contract.json", value: AttributeValue.json('["a",1]') },
        );
        return data;
      });
  },
});
