// Unit tests of the TypeScript SDK, over the fake host in `host/` (run by `run.mjs`).

import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";

import {
  AttributeValue,
  config,
  createSpan,
  EvalResult,
  Failed,
  InvalidConfig,
  InvalidInput,
  MetricValue,
  PluginError,
  setAttribute,
  Trace,
  Unavailable,
  type TraceData,
  type TraceSource,
} from "@flowtrace/plugin-sdk";
import * as embeddings from "@flowtrace/plugin-sdk/embeddings";
import {
  exportEmbedder,
  exportEvaluator,
  exportExporter,
  exportTransformer,
} from "@flowtrace/plugin-sdk/export";
import * as kv from "@flowtrace/plugin-sdk/kv";
import * as traces from "@flowtrace/plugin-sdk/traces";

import * as hostConfig from "./host/config";
import * as hostKv from "./host/kv";
import * as hostLog from "./host/log";
import * as hostTraces from "./host/traces";

/** An agent run: spans given out of order, to check the host's ordering. */
function agentData(): TraceData {
  return {
    id: "4bf92f3577b34da6a3ce929d0e0e4736",
    input: "What is the weather in Paris?",
    attributes: [{ key: "service.name", value: AttributeValue.text("agent") }],
    spans: [
      createSpan({
        id: "b",
        parentId: "a",
        name: "chat gpt-4o-mini",
        kind: "llm-call",
        model: "gpt-4o-mini",
        output: "héllo",
        startTimeNs: 1_700_000_000_100_000_000n,
        endTimeNs: 1_700_000_000_900_000_000n,
        usage: { input: 24, output: 12 },
        attributes: [
          { key: "gen_ai.request.temperature", value: AttributeValue.float(1) },
          { key: "gen_ai.response.finish_reasons", value: AttributeValue.json('["length"]') },
        ],
      }),
      createSpan({
        id: "a",
        name: "weather-agent",
        kind: "agent-step",
        status: "ok",
        startTimeNs: 1_700_000_000_000_000_000n,
        endTimeNs: 1_700_000_002_000_000_000n,
      }),
      createSpan({
        id: "c",
        parentId: "a",
        name: "execute_tool get_weather",
        kind: "tool-call",
        status: "error",
        statusMessage: "timeout",
        startTimeNs: 1_700_000_001_000_000_000n,
        costUsd: 0.5,
      }),
    ],
  };
}

/** A trace source that counts the calls made to it. */
function counted(data: TraceData): { source: TraceSource; calls: Map<string, number> } {
  const inner = Trace.fromData(data).source;
  const calls = new Map<string, number>();
  const source = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls.set(String(prop), (calls.get(String(prop)) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { source, calls };
}

describe("EvalResult", () => {
  test("chains metrics and findings, replacing a metric of the same name", () => {
    const result = EvalResult.fail(0.5, { label: "truncated" })
      .metric("llm-spans", 2)
      .metric("cost-usd", 0.0042)
      .metric("llm-spans", 3)
      .finding("the run has no final output")
      .finding("empty output", "00f067aa0ba902b7");
    assert.equal(result.passed, false);
    assert.equal(result.label, "truncated");
    assert.deepEqual(result.metrics, [
      { name: "llm-spans", value: { tag: "integer", val: 3n } },
      { name: "cost-usd", value: { tag: "float", val: 0.0042 } },
    ]);
    assert.deepEqual(result.findings, [
      { message: "the run has no final output" },
      { message: "empty output", spanId: "00f067aa0ba902b7" },
    ]);
  });

  test("refuses scores outside [0, 1]", () => {
    assert.throws(() => EvalResult.pass(1.5), /score must be between 0 and 1, got 1.5/);
    assert.throws(() => new EvalResult(Number.NaN, true), RangeError);
    assert.equal(EvalResult.pass().score, 1);
    assert.equal(EvalResult.fail().score, 0);
  });

  test("metric values follow the JavaScript type unless given", () => {
    assert.deepEqual(MetricValue.from(true), { tag: "boolean", val: true });
    assert.deepEqual(MetricValue.from("gpt-4o"), { tag: "text", val: "gpt-4o" });
    assert.deepEqual(MetricValue.from(0.25), { tag: "float", val: 0.25 });
    assert.deepEqual(MetricValue.from(7n), { tag: "integer", val: 7n });
    assert.deepEqual(MetricValue.float(1), { tag: "float", val: 1 });
    assert.throws(() => MetricValue.integer(1.5), TypeError);
  });
});

describe("PluginError", () => {
  test("each kind reads like the host shows it", () => {
    assert.equal(String(new InvalidInput("no spans")), "invalid input: no spans");
    assert.equal(String(new InvalidConfig("bad")), "invalid config: bad");
    assert.equal(String(new Unavailable("down")), "unavailable: down");
    assert.equal(String(new Failed("boom")), "boom");
    assert.ok(new Unavailable("down") instanceof PluginError);
  });

  test("other errors become `failed`, host payloads their own kind", () => {
    assert.equal(PluginError.from(new RangeError("bad index")).message, "RangeError: bad index");
    assert.equal(PluginError.from("text").kind, "failed");
    const hostError = Object.assign(new Error("x"), { payload: { tag: "unavailable", val: "gone" } });
    const converted = PluginError.from(hostError);
    assert.ok(converted instanceof Unavailable);
    assert.equal(converted.message, "gone");
  });
});

describe("AttributeValue", () => {
  test("keeps its kind and reads as plain values", () => {
    assert.equal(AttributeValue.from(3).tag, "integer");
    assert.equal(AttributeValue.from(0.5).tag, "float");
    assert.equal(AttributeValue.from(["a"]).raw, '["a"]');
    assert.equal(AttributeValue.integer(3).value, 3);
    assert.equal(AttributeValue.integer(2n ** 60n).value, 2n ** 60n);
    assert.deepEqual(AttributeValue.json('{"k":1}').value, { k: 1 });
    assert.equal(AttributeValue.json("not json").value, "not json");
    assert.deepEqual(AttributeValue.text("stop").toStringList(), ["stop"]);
    assert.equal(AttributeValue.json("[1]").toStringList(), undefined);
    assert.equal(JSON.stringify({ v: AttributeValue.integer(2) }), '{"v":2}');
    const attributes: { key: string; value: AttributeValue }[] = [];
    setAttribute(attributes, "k", true);
    setAttribute(attributes, "k", "v");
    assert.equal(attributes.length, 1);
    assert.equal(attributes[0]?.value.asString(), "v");
  });
});

describe("Trace", () => {
  test("span facts come from the source, converted to the SDK's values", () => {
    const call = { id: "call_1", name: "get_weather", arguments: "{}" };
    const trace = Trace.fromData(agentData(), {
      b: {
        finishReasons: ["length"],
        inputMessages: [{ role: "user", content: "weather?", toolCalls: [] }],
        outputMessages: [{ role: "assistant", toolCalls: [call], finishReason: "length" }],
      },
      c: { toolCall: { ...call, result: "sunny" }, error: { errorType: "Timeout" } },
    });
    const [a, b, c] = trace.spans();
    assert.deepEqual(b?.finishReasons(), ["length"]);
    assert.deepEqual(b?.inputMessages(), [{ role: "user", content: "weather?", toolCalls: [] }]);
    assert.deepEqual(b?.outputMessages(), [
      { role: "assistant", toolCalls: [call], finishReason: "length" },
    ]);
    assert.deepEqual(c?.toolCall(), { ...call, result: "sunny" });
    assert.deepEqual(c?.error(), { errorType: "Timeout" });
    assert.deepEqual(a?.finishReasons(), []);
    assert.equal(a?.toolCall(), undefined);
    assert.equal(a?.error(), undefined);
    // A source written before the facts existed gives none.
    const facts = ["spanFinishReasons", "spanMessages", "spanToolCall", "spanError"];
    const older = new Proxy(trace.source, {
      get(target, prop) {
        if (facts.includes(String(prop))) return undefined;
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === "function" ? (value as () => unknown).bind(target) : value;
      },
    });
    const olderB = new Trace(older).span(1);
    assert.deepEqual(olderB?.finishReasons(), []);
    assert.deepEqual(olderB?.outputMessages(), []);
  });

  test("orders spans like the host and resolves parents", () => {
    const trace = Trace.fromData(agentData());
    assert.deepEqual(
      trace.spans().map((s) => s.id()),
      ["a", "b", "c"],
    );
    assert.equal(trace.root()?.name(), "weather-agent");
    assert.equal(trace.span(1)?.parent?.id(), "a");
    assert.deepEqual(
      trace.span(0)?.children().map((s) => s.index),
      [1, 2],
    );
    assert.equal(trace.span(3), undefined);
    assert.equal(trace.span(-1), undefined);
  });

  test("reads facts from memory and strings on demand", () => {
    const { source, calls } = counted(agentData());
    const trace = new Trace(source);
    const llm = trace.spansOfKind("llm-call")[0];
    assert.ok(llm);
    assert.equal(llm.durationMs, 800);
    assert.equal(llm.durationNs, 800_000_000n);
    assert.equal(llm.totalTokens, 36);
    assert.equal(llm.outputLen, 6, "bytes, not characters");
    assert.equal(trace.spanCount, 3);
    assert.equal(trace.span(2)?.durationMs, undefined);
    assert.equal(trace.span(2)?.costUsd, 0.5);
    assert.equal(calls.get("spanInfos"), 1, "one call for every fact");
    assert.equal(calls.get("spanOutput"), undefined, "no string copied yet");
    assert.equal(llm.output(), "héllo");
    assert.equal(llm.model(), "gpt-4o-mini");
    assert.equal(trace.span(2)?.statusMessage(), "timeout");
    assert.deepEqual(
      llm.attribute("gen_ai.response.finish_reasons")?.toStringList(),
      ["length"],
    );
    assert.equal(trace.attribute("service.name")?.asString(), "agent");
    assert.equal(trace.input(), "What is the weather in Paris?");
    assert.equal(trace.output(), undefined);
  });

  test("toData keeps every attribute's kind", () => {
    const data = Trace.fromData(agentData()).toData();
    const llm = data.spans.find((s) => s.id === "b");
    const temperature = llm?.attributes.find((a) => a.key === "gen_ai.request.temperature");
    assert.equal(temperature?.value.tag, "float");
    assert.equal(llm?.endTimeNs, 1_700_000_000_900_000_000n);
    assert.deepEqual(llm?.usage, { input: 24, output: 12 });
  });
});

describe("config", () => {
  beforeEach(() => hostConfig.values.clear());

  test("typed getters convert and name the key when the type is wrong", () => {
    hostConfig.values.set("max-span-ms", { tag: "integer", val: 500n });
    hostConfig.values.set("threshold", { tag: "float", val: 0.7 });
    hostConfig.values.set("words", { tag: "text-list", val: ["a", "b"] });
    assert.equal(config.integer("max-span-ms"), 500);
    assert.equal(config.number("max-span-ms"), 500);
    assert.equal(config.number("threshold"), 0.7);
    assert.deepEqual(config.stringList("words"), ["a", "b"]);
    assert.equal(config.get("max-span-ms"), 500);
    assert.equal(config.get("missing"), undefined);
    assert.throws(
      () => config.boolean("threshold"),
      (e: unknown) =>
        e instanceof InvalidConfig &&
        e.message === "config `threshold`: expected a boolean, found a float (0.7)",
    );
    assert.throws(() => config.require("missing"), /config `missing` has no value/);
    assert.deepEqual(config.keys(), ["max-span-ms", "threshold", "words"]);
  });
});

describe("capability modules", () => {
  test("kv stores text and bytes, and a full store is `unavailable`", () => {
    kv.set("runs", "1");
    assert.equal(kv.getText("runs"), "1");
    kv.set("bin", new Uint8Array([1, 2]));
    assert.deepEqual(kv.keys(), ["bin", "runs"]);
    kv.remove("bin");
    assert.deepEqual(kv.keys("b"), []);
    assert.throws(
      () => kv.set("big", new Uint8Array(100)),
      (e: unknown) => e instanceof Unavailable && /cannot store `big`: quota/.test(e.message),
    );
    assert.ok(hostKv.store.has("runs"));
  });

  test("embeddings errors are the service's plugin errors", () => {
    assert.equal(embeddings.dimension(), 2);
    assert.deepEqual([...embeddings.embedOne("abc")], [3, 1]);
    assert.throws(() => embeddings.embed(["down"]), Unavailable);
    assert.equal(embeddings.cosine([1, 0], [1, 0]), 1);
    assert.equal(embeddings.cosine([1, 0], [0, 0]), 0);
  });

  test("traces queries default their limit", () => {
    assert.deepEqual(traces.query({ nameContains: "agent", sinceNs: 5 }), ["t2", "t1"]);
    assert.deepEqual(hostTraces.queries.at(-1), { limit: 100, nameContains: "agent", sinceNs: 5n });
    assert.equal(traces.get("t1"), undefined);
  });
});

describe("export bridges", () => {
  const source = () => Trace.fromData(agentData()).source;

  test("an evaluator's result and errors reach the host's shapes", async () => {
    const bridge = exportEvaluator({
      evaluate(trace) {
        if (trace.spanCount === 0) throw new InvalidInput("no spans");
        return EvalResult.pass(0.5).metric("spans", trace.spanCount).finding("x", trace.span(0));
      },
    });
    assert.deepEqual(bridge.evaluate(source()), {
      tag: "ok",
      val: {
        score: 0.5,
        passed: true,
        metrics: [{ name: "spans", value: { tag: "integer", val: 3n } }],
        findings: [{ message: "x", spanId: "a" }],
      },
    });
    const empty = Trace.fromData({ id: "e", attributes: [], spans: [] }).source;
    assert.deepEqual(bridge.evaluate(empty), {
      tag: "err",
      val: { tag: "invalid-input", val: "no spans" },
    });
    assert.deepEqual(await bridge.evaluateBatch([source(), empty]), [
      bridge.evaluate(source()),
      bridge.evaluate(empty),
    ]);
  });

  test("async methods, `this`, thrown errors and invalid results", async () => {
    const bridge = exportEvaluator({
      threshold: 0.7,
      async evaluate(trace) {
        await Promise.resolve();
        if (trace.spanCount === 3) (undefined as unknown as { x: number }).x;
        return EvalResult.pass(this.threshold);
      },
    });
    const empty = Trace.fromData({ id: "e", attributes: [], spans: [] }).source;
    assert.deepEqual(await bridge.evaluate(empty), {
      tag: "ok",
      val: { score: 0.7, passed: true, metrics: [], findings: [] },
    });
    const thrown = (await bridge.evaluate(source())) as { tag: string; val: { tag: string; val: string } };
    assert.equal(thrown.tag, "err");
    assert.equal(thrown.val.tag, "failed");
    assert.match(thrown.val.val, /^TypeError: /);
    // Reported to the host on one marked line, paired with the error by its message.
    const line = hostLog.lines.at(-1)?.[1] ?? "";
    assert.ok(line.startsWith("\u001eflowtrace-failure "), line);
    const report = JSON.parse(line.slice("\u001eflowtrace-failure ".length));
    assert.equal(report.summary, thrown.val.val);
    assert.equal(report.exception, "TypeError");
    assert.equal(report["stack-overflow"], false);

    const invalid = exportEvaluator({
      evaluate: () => ({ score: 2, passed: true }) as unknown as EvalResult,
    });
    assert.deepEqual(invalid.evaluate(source()), {
      tag: "err",
      val: {
        tag: "failed",
        val: "`evaluate` returned an invalid result: score must be between 0 and 1, got 2",
      },
    });
    const badFinding = exportEvaluator({
      evaluate: (trace) => {
        const result = EvalResult.pass();
        result.findings.push({ message: "m", spanId: trace.span(0)?.id as unknown as string });
        return result;
      },
    });
    const err = badFinding.evaluate(source()) as { val: { val: string } };
    assert.match(err.val.val, /findings\[0\]\.spanId must be a string, got a function/);
  });

  test("console goes to the plugin log at its level", () => {
    exportEvaluator({ evaluate: () => EvalResult.pass() });
    console.warn("flagged", 3, { ok: true }, 2n);
    assert.deepEqual(hostLog.lines.at(-1), ["warn", 'flagged 3 {"ok":true} 2']);
    console.log("done");
    assert.deepEqual(hostLog.lines.at(-1), ["info", "done"]);
    console.error(new RangeError("bad"));
    assert.match(hostLog.lines.at(-1)?.[1] ?? "", /^RangeError: bad\n/);
  });

  test("an export without its method fails while the module loads", () => {
    assert.throws(
      () => exportEvaluator({} as never),
      /the plugin's `evaluator` export has no `evaluate` method/,
    );
    assert.throws(() => exportEvaluator(undefined as never), /exports `evaluator` as undefined/);
  });

  test("exporters write strings as UTF-8", () => {
    const bridge = exportExporter({
      formats: () => [{ name: "ids", mediaType: "text/plain", fileExtension: "txt" }],
      exportTraces: (_format, all) => all.map((t) => t.id()).join("\n"),
    });
    assert.deepEqual(bridge.formats(), [{ name: "ids", mediaType: "text/plain", fileExtension: "txt" }]);
    const out = bridge.exportTraces("ids", [source()]) as { tag: "ok"; val: Uint8Array };
    assert.equal(new TextDecoder().decode(out.val), "4bf92f3577b34da6a3ce929d0e0e4736");
  });

  test("embedders' vectors are checked against the dimension", () => {
    const bridge = exportEmbedder({ dimension: () => 2, embed: (texts) => texts.map(() => [1, 2]) });
    const ok = bridge.embed(["a"]) as { tag: "ok"; val: Float32Array[] };
    assert.ok(ok.val[0] instanceof Float32Array);
    const wrong = exportEmbedder({ dimension: () => 3, embed: (texts) => texts.map(() => [1]) });
    assert.deepEqual(wrong.embed(["a"]), {
      tag: "err",
      val: { tag: "failed", val: "`embed` returned an invalid result: vector 0 has 1 numbers, the dimension is 3" },
    });
  });

  test("transformers return data in the host's shapes", () => {
    const bridge = exportTransformer({
      transform: (all) =>
        all.map((t) => {
          const data = t.toData();
          for (const span of data.spans) delete span.output;
          return data;
        }),
    });
    const out = bridge.transform([source()]) as { tag: "ok"; val: { spans: { output?: string; attributes: unknown[] }[] }[] };
    assert.equal(out.tag, "ok");
    assert.ok(out.val[0]?.spans.every((s) => s.output === undefined));
    assert.deepEqual(out.val[0]?.spans[1]?.attributes[0], {
      key: "gen_ai.request.temperature",
      value: { tag: "float", val: 1 },
    });
  });
});
