/**
 * The contract evaluator: reports every fact it can read of a trace as metrics, findings
 * and an explanation, in a fixed order. The Rust and Python ones do exactly the same; the
 * rules are in the README's "Contract suite" section.
 */

import {
  config,
  defineEvaluator,
  EvalResult,
  MetricValue,
  type AttributeValue,
  type SpanInfo,
} from "@flowtrace/plugin-sdk";

/** An attribute value as a metric value: `json` becomes text with a `json:` prefix. */
function typed(value: AttributeValue): MetricValue {
  switch (value.tag) {
    case "text":
      return MetricValue.text(value.raw as string);
    case "integer":
      return MetricValue.integer(value.raw as bigint);
    case "float":
      return MetricValue.float(value.raw as number);
    case "boolean":
      return MetricValue.boolean(value.raw as boolean);
    case "json":
      return MetricValue.text(`json:${value.raw as string}`);
  }
}

/** The sum of the counts `pick` reads, exactly (they may pass 2^53). */
function sum(infos: readonly SpanInfo[], pick: (i: SpanInfo) => number | bigint | undefined): string {
  let total = 0n;
  for (const info of infos) {
    const n = pick(info);
    if (n !== undefined) total += BigInt(n);
  }
  return total.toString();
}

/** The traces this instance has evaluated: every trace has an instance of its own, so 1. */
let evaluations = 0;

export const evaluator = defineEvaluator({
  evaluate(trace) {
    const label = config.string("label");
    const scale = config.get("scale") as number | bigint;
    const weight = config.number("weight");
    const strict = config.boolean("strict");
    const tags = config.stringList("tags");
    const detail = config.integer("detail");
    const pad = config.integer("pad");

    const m: [string, MetricValue][] = [
      ["config.label", MetricValue.text(label)],
      ["config.scale", MetricValue.integer(scale)],
      ["config.weight", MetricValue.float(weight)],
      ["config.strict", MetricValue.boolean(strict)],
      ["config.tags", MetricValue.text(tags.join("|"))],
      ["config.tag-count", MetricValue.integer(tags.length)],
    ];
    evaluations += 1;
    m.push(["instance.evaluations", MetricValue.integer(evaluations)]);
    const id = trace.id();
    const count = trace.spanCount;
    m.push(["trace.id", MetricValue.text(id)]);
    m.push(["trace.span-count", MetricValue.integer(count)]);
    const input = trace.input();
    if (input !== undefined) m.push(["trace.input", MetricValue.text(input)]);
    const output = trace.output();
    if (output !== undefined) m.push(["trace.output", MetricValue.text(output)]);
    for (const a of trace.attributes()) m.push([`trace.attr.${a.key}`, typed(a.value)]);

    // Aggregates over every span, from the span facts alone.
    const infos = trace.infos;
    for (const kind of ["llm-call", "tool-call", "retrieval", "agent-step", "embedding", "custom"]) {
      m.push([`spans.${kind}`, MetricValue.integer(infos.filter((i) => i.kind === kind).length)]);
    }
    for (const status of ["unset", "ok", "error"]) {
      const n = infos.filter((i) => i.status === status).length;
      m.push([`spans.${status}`, MetricValue.integer(n)]);
    }
    m.push(["tokens.input", MetricValue.text(sum(infos, (i) => i.usage.input))]);
    m.push(["tokens.output", MetricValue.text(sum(infos, (i) => i.usage.output))]);
    m.push(["tokens.total", MetricValue.text(sum(infos, (i) => i.usage.total))]);
    const durations = sum(infos, (i) =>
      i.endTimeNs !== undefined && i.endTimeNs >= i.startTimeNs
        ? i.endTimeNs - i.startTimeNs
        : undefined,
    );
    m.push(["durations", MetricValue.text(durations)]);
    let cost = 0;
    for (const i of infos) if (i.costUsd !== undefined) cost += i.costUsd;
    m.push(["cost.sum", MetricValue.float(cost)]);
    const lens = (pick: (i: SpanInfo) => number) =>
      MetricValue.integer(infos.reduce((a, i) => a + pick(i), 0));
    m.push(["len.input", lens((i) => i.inputLen)]);
    m.push(["len.output", lens((i) => i.outputLen)]);
    m.push(["len.attributes", lens((i) => i.attributeCount)]);
    m.push(["roots", MetricValue.integer(infos.filter((i) => i.parent === undefined).length)]);

    // Every fact of the first `detail` spans, each string read on its own.
    const result = new EvalResult(count === 0 ? 1 : 0.5, true);
    const shown = Math.min(Math.max(detail, 0), count);
    for (const span of trace.spans().slice(0, shown)) {
      const p = `span.${span.index}.`;
      const info = span.info;
      m.push([p + "kind", MetricValue.text(info.kind)]);
      m.push([p + "status", MetricValue.text(info.status)]);
      if (info.parent !== undefined) m.push([p + "parent", MetricValue.integer(info.parent)]);
      m.push([p + "start", MetricValue.text(info.startTimeNs.toString())]);
      if (info.endTimeNs !== undefined) m.push([p + "end", MetricValue.text(info.endTimeNs.toString())]);
      const usage: [string, number | bigint | undefined][] = [
        ["input-tokens", info.usage.input],
        ["output-tokens", info.usage.output],
        ["total-tokens", info.usage.total],
      ];
      for (const [name, tokens] of usage) {
        if (tokens !== undefined) m.push([p + name, MetricValue.text(tokens.toString())]);
      }
      if (info.costUsd !== undefined) m.push([p + "cost", MetricValue.float(info.costUsd)]);
      m.push([p + "input-len", MetricValue.integer(info.inputLen)]);
      m.push([p + "output-len", MetricValue.integer(info.outputLen)]);
      m.push([p + "attr-count", MetricValue.integer(info.attributeCount)]);
      const spanId = span.id();
      m.push([p + "id", MetricValue.text(spanId)]);
      m.push([p + "name", MetricValue.text(span.name())]);
      const texts: [string, string | undefined][] = [
        ["model", span.model()],
        ["input", span.input()],
        ["output", span.output()],
        ["status-message", span.statusMessage()],
      ];
      for (const [name, text] of texts) {
        if (text !== undefined) m.push([p + name, MetricValue.text(text)]);
      }
      for (const a of span.attributes()) m.push([`${p}attr.${a.key}`, typed(a.value)]);
      const probe = span.attribute("probe");
      m.push([p + "probe-found", MetricValue.boolean(probe !== undefined)]);
      if (probe !== undefined) m.push([p + "probe", typed(probe)]);
      if (info.status === "error") {
        result.finding(span.statusMessage() ?? "no message", spanId);
        result.passed = false;
      }
    }
    result.finding(`${count} spans, ${shown} shown`);
    result.label = label;
    result.explanation = `trace ${id}${"~".repeat(Math.max(pad, 0))}`;
    for (const [name, value] of m) result.metric(name, value);
    return result;
  },
});
