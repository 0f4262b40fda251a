/**
 * Conversions between the SDK's types and the shapes componentize-js gives the contract's
 * types (`flowtrace:plugin/types@0.1.0`). Not part of the public API.
 *
 * @module
 */

import type * as wit from "flowtrace:plugin/types@0.1.0";

import { AttributeValue, toNumber, type Attribute } from "./attribute";
import type { Span, TraceData } from "./data";
import { toWire as errorToWire, type PluginError } from "./error";
import { checkScore, describe, EvalResult, MetricValue } from "./result";
import type { SpanInfo, TokenUsage } from "./span";

const SPAN_KINDS: readonly string[] = [
  "llm-call",
  "tool-call",
  "retrieval",
  "agent-step",
  "embedding",
  "custom",
];
const SPAN_STATUSES: readonly string[] = ["unset", "ok", "error"];

export function usageFromWire(usage: wit.TokenUsage): TokenUsage {
  const out: TokenUsage = {};
  if (usage.input !== undefined) out.input = toNumber(usage.input);
  if (usage.output !== undefined) out.output = toNumber(usage.output);
  if (usage.total !== undefined) out.total = toNumber(usage.total);
  return out;
}

function u64(value: unknown, what: string): bigint {
  if (typeof value === "bigint" || (typeof value === "number" && Number.isInteger(value))) {
    const n = BigInt(value);
    if (n >= 0n && n < 2n ** 64n) return n;
  }
  throw new TypeError(`${what} must be a non-negative integer, got ${describe(value)}`);
}

function optionalU64(value: unknown, what: string): bigint | undefined {
  return value === undefined || value === null ? undefined : u64(value, what);
}

function optionalString(value: unknown, what: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") {
    throw new TypeError(`${what} must be a string, got ${describe(value)}`);
  }
  return value;
}

function string(value: unknown, what: string): string {
  if (typeof value !== "string") {
    throw new TypeError(`${what} must be a string, got ${describe(value)}`);
  }
  return value;
}

export function usageToWire(usage: TokenUsage | undefined, what: string): wit.TokenUsage {
  const out: wit.TokenUsage = {};
  const input = optionalU64(usage?.input, `${what}.input`);
  const output = optionalU64(usage?.output, `${what}.output`);
  const total = optionalU64(usage?.total, `${what}.total`);
  if (input !== undefined) out.input = input;
  if (output !== undefined) out.output = output;
  if (total !== undefined) out.total = total;
  return out;
}

export function spanInfoFromWire(info: wit.SpanInfo): SpanInfo {
  const out: {
    -readonly [K in keyof SpanInfo]: SpanInfo[K];
  } = {
    kind: info.kind,
    status: info.status,
    startTimeNs: info.startTimeNs,
    usage: usageFromWire(info.usage),
    inputLen: info.inputLen,
    outputLen: info.outputLen,
    attributeCount: info.attributeCount,
  };
  if (info.parent !== undefined) out.parent = info.parent;
  if (info.endTimeNs !== undefined) out.endTimeNs = info.endTimeNs;
  if (info.costUsd !== undefined) out.costUsd = info.costUsd;
  return out;
}

export function attributeValueFromWire(value: wit.AttributeValue): AttributeValue {
  switch (value.tag) {
    case "text":
      return AttributeValue.text(value.val);
    case "integer":
      return AttributeValue.integer(value.val);
    case "float":
      return AttributeValue.float(value.val);
    case "boolean":
      return AttributeValue.boolean(value.val);
    default:
      return AttributeValue.json(value.val);
  }
}

export function attributesFromWire(attributes: wit.Attribute[]): Attribute[] {
  return attributes.map((a) => ({ key: a.key, value: attributeValueFromWire(a.value) }));
}

export function attributeValueToWire(value: AttributeValue): wit.AttributeValue {
  switch (value.tag) {
    case "text":
      return { tag: "text", val: value.raw as string };
    case "integer":
      return { tag: "integer", val: value.raw as bigint };
    case "float":
      return { tag: "float", val: value.raw as number };
    case "boolean":
      return { tag: "boolean", val: value.raw as boolean };
    default:
      return { tag: "json", val: value.raw as string };
  }
}

export function attributesToWire(attributes: unknown, what: string): wit.Attribute[] {
  if (attributes === undefined) return [];
  if (!Array.isArray(attributes)) {
    throw new TypeError(`${what} must be an array of attributes, got ${describe(attributes)}`);
  }
  return attributes.map((a: Attribute, i) => ({
    key: string(a?.key, `${what}[${i}].key`),
    value: attributeValueToWire(AttributeValue.from(a.value)),
  }));
}

export function spanFromWire(span: wit.Span): Span {
  const out: Span = {
    id: span.id,
    name: span.name,
    kind: span.kind,
    status: span.status,
    startTimeNs: span.startTimeNs,
    usage: usageFromWire(span.usage),
    attributes: attributesFromWire(span.attributes),
  };
  if (span.parentId !== undefined) out.parentId = span.parentId;
  if (span.statusMessage !== undefined) out.statusMessage = span.statusMessage;
  if (span.input !== undefined) out.input = span.input;
  if (span.output !== undefined) out.output = span.output;
  if (span.model !== undefined) out.model = span.model;
  if (span.endTimeNs !== undefined) out.endTimeNs = span.endTimeNs;
  if (span.costUsd !== undefined) out.costUsd = span.costUsd;
  return out;
}

export function spanToWire(span: Span, what: string): wit.Span {
  if (typeof span !== "object" || span === null) {
    throw new TypeError(`${what} must be a span, got ${describe(span)}`);
  }
  if (!SPAN_KINDS.includes(span.kind)) {
    throw new TypeError(`${what}.kind must be one of ${SPAN_KINDS.join(", ")}, got ${describe(span.kind)}`);
  }
  const status = span.status ?? "unset";
  if (!SPAN_STATUSES.includes(status)) {
    throw new TypeError(`${what}.status must be unset, ok or error, got ${describe(status)}`);
  }
  const out: wit.Span = {
    id: string(span.id, `${what}.id`),
    name: string(span.name, `${what}.name`),
    kind: span.kind,
    status,
    startTimeNs: u64(span.startTimeNs ?? 0n, `${what}.startTimeNs`),
    usage: usageToWire(span.usage, `${what}.usage`),
    attributes: attributesToWire(span.attributes, `${what}.attributes`),
  };
  const parentId = optionalString(span.parentId, `${what}.parentId`);
  const statusMessage = optionalString(span.statusMessage, `${what}.statusMessage`);
  const input = optionalString(span.input, `${what}.input`);
  const output = optionalString(span.output, `${what}.output`);
  const model = optionalString(span.model, `${what}.model`);
  const endTimeNs = optionalU64(span.endTimeNs, `${what}.endTimeNs`);
  if (parentId !== undefined) out.parentId = parentId;
  if (statusMessage !== undefined) out.statusMessage = statusMessage;
  if (input !== undefined) out.input = input;
  if (output !== undefined) out.output = output;
  if (model !== undefined) out.model = model;
  if (endTimeNs !== undefined) out.endTimeNs = endTimeNs;
  if (span.costUsd !== undefined && span.costUsd !== null) {
    if (typeof span.costUsd !== "number") {
      throw new TypeError(`${what}.costUsd must be a number, got ${describe(span.costUsd)}`);
    }
    out.costUsd = span.costUsd;
  }
  return out;
}

export function traceDataFromWire(data: wit.TraceData): TraceData {
  const out: TraceData = {
    id: data.id,
    attributes: attributesFromWire(data.attributes),
    spans: data.spans.map(spanFromWire),
  };
  if (data.input !== undefined) out.input = data.input;
  if (data.output !== undefined) out.output = data.output;
  return out;
}

export function traceDataToWire(data: TraceData, what: string): wit.TraceData {
  if (typeof data !== "object" || data === null) {
    throw new TypeError(`${what} must be a TraceData, got ${describe(data)}`);
  }
  if (!Array.isArray(data.spans)) {
    throw new TypeError(`${what}.spans must be an array, got ${describe(data.spans)}`);
  }
  const out: wit.TraceData = {
    id: string(data.id, `${what}.id`),
    attributes: attributesToWire(data.attributes, `${what}.attributes`),
    spans: data.spans.map((s, i) => spanToWire(s, `${what}.spans[${i}]`)),
  };
  const input = optionalString(data.input, `${what}.input`);
  const output = optionalString(data.output, `${what}.output`);
  if (input !== undefined) out.input = input;
  if (output !== undefined) out.output = output;
  return out;
}

export function evalResultToWire(result: EvalResult): wit.EvalResult {
  if (!(result instanceof EvalResult)) {
    if (typeof result !== "object" || result === null) {
      throw new TypeError(`an evaluator returns an EvalResult, got ${describe(result)}`);
    }
  }
  const metrics = result.metrics ?? [];
  const findings = result.findings ?? [];
  if (!Array.isArray(metrics)) throw new TypeError(`metrics must be an array, got ${describe(metrics)}`);
  if (!Array.isArray(findings)) throw new TypeError(`findings must be an array, got ${describe(findings)}`);
  const out: wit.EvalResult = {
    score: checkScore(result.score),
    passed: Boolean(result.passed),
    metrics: metrics.map((m, i) => ({
      name: string(m?.name, `metrics[${i}].name`),
      value: MetricValue.from(m.value),
    })),
    findings: findings.map((f, i) => {
      const finding: wit.Finding = { message: string(f?.message, `findings[${i}].message`) };
      const spanId = optionalString(f.spanId, `findings[${i}].spanId`);
      if (spanId !== undefined) finding.spanId = spanId;
      return finding;
    }),
  };
  const label = optionalString(result.label, "label");
  const explanation = optionalString(result.explanation, "explanation");
  if (label !== undefined) out.label = label;
  if (explanation !== undefined) out.explanation = explanation;
  return out;
}

export function pluginErrorToWire(error: PluginError): wit.PluginError {
  return errorToWire(error);
}
