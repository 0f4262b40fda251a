/**
 * What an evaluator returns: {@link EvalResult}, with {@link Metric}s and
 * {@link Finding}s.
 *
 * @module
 */

import type { SpanRef } from "./trace";

/**
 * A metric's value as the contract carries it: a kind and a value.
 *
 * ```ts
 * import { MetricValue } from "@flowtrace/plugin-sdk";
 *
 * const v: MetricValue = MetricValue.float(1); // stays a float: { tag: "float", val: 1 }
 * ```
 */
export type MetricValue =
  | { tag: "float"; val: number }
  | { tag: "integer"; val: bigint }
  | { tag: "boolean"; val: boolean }
  | { tag: "text"; val: string };

/**
 * What {@link EvalResult.metric} accepts: a plain value or a {@link MetricValue}.
 *
 * ```ts
 * import { MetricValue, type MetricInput } from "@flowtrace/plugin-sdk";
 *
 * const values: MetricInput[] = [3, 0.25, true, "gpt-4o", 7n, MetricValue.float(1)];
 * ```
 */
export type MetricInput = number | bigint | boolean | string | MetricValue;

/**
 * Constructors of {@link MetricValue}s, for a number whose kind must not be guessed.
 *
 * ```ts
 * import { MetricValue } from "@flowtrace/plugin-sdk";
 *
 * MetricValue.from(3); // { tag: "integer", val: 3n }
 * MetricValue.from(0.25); // { tag: "float", val: 0.25 }
 * MetricValue.float(1); // { tag: "float", val: 1 }
 * ```
 */
export const MetricValue = {
  /**
   * A `float` metric, also for a whole number.
   *
   * ```ts
   * MetricValue.float(0.0042);
   * ```
   */
  float(value: number): MetricValue {
    return { tag: "float", val: Number(value) };
  },
  /**
   * An `integer` metric (64-bit signed).
   *
   * ```ts
   * MetricValue.integer(12);
   * ```
   */
  integer(value: number | bigint): MetricValue {
    if (typeof value === "number" && !Number.isInteger(value)) {
      throw new TypeError(`an integer metric cannot hold ${value}`);
    }
    return { tag: "integer", val: BigInt.asIntN(64, BigInt(value)) };
  },
  /**
   * A `boolean` metric.
   *
   * ```ts
   * MetricValue.boolean(true);
   * ```
   */
  boolean(value: boolean): MetricValue {
    return { tag: "boolean", val: Boolean(value) };
  },
  /**
   * A `text` metric.
   *
   * ```ts
   * MetricValue.text("gpt-4o");
   * ```
   */
  text(value: string): MetricValue {
    return { tag: "text", val: String(value) };
  },
  /**
   * The metric value of a plain value: a boolean is `boolean`, a string `text`, a bigint
   * or a whole number `integer`, another number `float`. A {@link MetricValue} is
   * returned as it is.
   *
   * ```ts
   * MetricValue.from(true); // { tag: "boolean", val: true }
   * ```
   */
  from(value: MetricInput): MetricValue {
    switch (typeof value) {
      case "boolean":
        return MetricValue.boolean(value);
      case "string":
        return MetricValue.text(value);
      case "bigint":
        return MetricValue.integer(value);
      case "number":
        return Number.isSafeInteger(value) ? MetricValue.integer(value) : MetricValue.float(value);
      default:
        if (isMetricValue(value)) return value;
        throw new TypeError(
          `a metric value is a number, bigint, boolean, string or MetricValue, not ${describe(value)}`,
        );
    }
  },
};

function isMetricValue(value: unknown): value is MetricValue {
  if (typeof value !== "object" || value === null) return false;
  const { tag, val } = value as { tag?: unknown; val?: unknown };
  return (
    (tag === "float" && typeof val === "number") ||
    (tag === "integer" && typeof val === "bigint") ||
    (tag === "boolean" && typeof val === "boolean") ||
    (tag === "text" && typeof val === "string")
  );
}

/**
 * A named measurement attached to a result.
 *
 * ```ts
 * import { MetricValue, type Metric } from "@flowtrace/plugin-sdk";
 *
 * const m: Metric = { name: "flagged", value: MetricValue.from(2) };
 * ```
 */
export interface Metric {
  /** The name, kebab-case by convention, e.g. `llm-spans`. */
  name: string;
  /** The value. */
  value: MetricValue;
}

/**
 * Something an evaluator noticed, optionally about one span.
 *
 * ```ts
 * import type { Finding } from "@flowtrace/plugin-sdk";
 *
 * const f: Finding = { message: "output cut off by the token limit", spanId: "5f8a0c2b9d1e3f47" };
 * ```
 */
export interface Finding {
  /** What was found. */
  message: string;
  /** The span the finding is about; absent for the whole trace. */
  spanId?: string;
}

/**
 * The label and explanation {@link EvalResult.pass} and {@link EvalResult.fail} take.
 *
 * ```ts
 * import { EvalResult, type ResultText } from "@flowtrace/plugin-sdk";
 *
 * const text: ResultText = { label: "ok", explanation: "every tool call succeeded" };
 * EvalResult.pass(1, text);
 * ```
 */
export interface ResultText {
  /** A short label, e.g. `ok` or `truncated`. */
  label?: string;
  /** A sentence or two on why. */
  explanation?: string;
}

/**
 * The verdict of an evaluator on one trace.
 *
 * Start from {@link EvalResult.pass} or {@link EvalResult.fail} (or the constructor),
 * then add metrics and findings with {@link EvalResult.metric} and
 * {@link EvalResult.finding}, which return the result so calls chain. The fields can be
 * set directly too.
 *
 * The score must lie in `[0, 1]`: the constructor throws a `RangeError` otherwise, and a
 * score changed later is checked again when the result goes back to the host.
 *
 * ```ts
 * import { EvalResult } from "@flowtrace/plugin-sdk";
 *
 * const result = EvalResult.fail(0.5, {
 *   label: "truncated",
 *   explanation: "1 of 2 LLM calls was cut off by the token limit",
 * })
 *   .metric("llm-spans", 2)
 *   .finding("finish reason `length`", "5f8a0c2b9d1e3f47");
 * result.passed; // false
 * result.findings.length; // 1
 * ```
 */
export class EvalResult {
  /** Between 0 and 1. */
  score: number;
  /** Whether the trace passed. */
  passed: boolean;
  /** A short label, e.g. `ok` or `truncated`. */
  label?: string;
  /** A sentence or two on why. */
  explanation?: string;
  /** Named measurements, in the order they were added. */
  metrics: Metric[] = [];
  /** What was noticed, per span or for the whole trace. */
  findings: Finding[] = [];

  /**
   * A result with a score and a verdict.
   *
   * ```ts
   * import { EvalResult } from "@flowtrace/plugin-sdk";
   *
   * const score = 0.8;
   * new EvalResult(score, score >= 0.7, { label: "ok" }).passed; // true
   * ```
   */
  constructor(score: number, passed: boolean, text: ResultText = {}) {
    this.score = checkScore(score);
    this.passed = Boolean(passed);
    if (text.label !== undefined) this.label = text.label;
    if (text.explanation !== undefined) this.explanation = text.explanation;
  }

  /**
   * A passing result, score 1 unless given.
   *
   * ```ts
   * import { EvalResult } from "@flowtrace/plugin-sdk";
   *
   * EvalResult.pass().score; // 1
   * EvalResult.pass(0.9, { label: "ok" }).label; // "ok"
   * ```
   */
  static pass(score = 1, text: ResultText = {}): EvalResult {
    return new EvalResult(score, true, text);
  }

  /**
   * A failing result, score 0 unless given.
   *
   * ```ts
   * import { EvalResult } from "@flowtrace/plugin-sdk";
   *
   * EvalResult.fail(0.2, { explanation: "2 of 5 tool calls failed" }).passed; // false
   * ```
   */
  static fail(score = 0, text: ResultText = {}): EvalResult {
    return new EvalResult(score, false, text);
  }

  /**
   * Set the label; returns the result.
   *
   * ```ts
   * import { EvalResult } from "@flowtrace/plugin-sdk";
   *
   * EvalResult.pass().withLabel("ok");
   * ```
   */
  withLabel(label: string): this {
    this.label = label;
    return this;
  }

  /**
   * Set the explanation; returns the result.
   *
   * ```ts
   * import { EvalResult } from "@flowtrace/plugin-sdk";
   *
   * EvalResult.pass().withExplanation("every tool call succeeded");
   * ```
   */
  withExplanation(explanation: string): this {
    this.explanation = explanation;
    return this;
  }

  /**
   * Add metric `name` (replacing a metric of that name); returns the result. The kind
   * follows the value ({@link MetricValue.from}): pass `MetricValue.float(x)` for a float
   * that may be whole.
   *
   * ```ts
   * import { EvalResult } from "@flowtrace/plugin-sdk";
   *
   * EvalResult.pass().metric("tool-calls", 3).metric("cost-usd", 0.0042).metrics.length; // 2
   * ```
   */
  metric(name: string, value: MetricInput): this {
    const metric = { name, value: MetricValue.from(value) };
    const at = this.metrics.findIndex((m) => m.name === name);
    if (at >= 0) {
      this.metrics[at] = metric;
    } else {
      this.metrics.push(metric);
    }
    return this;
  }

  /**
   * Add a finding, about one span when `span` is given (its id, or a span whose id is
   * read); returns the result.
   *
   * ```ts
   * import { EvalResult } from "@flowtrace/plugin-sdk";
   *
   * const result = EvalResult.fail().finding("the run has no final output");
   * result.finding("empty output", "00f067aa0ba902b7").findings[1]?.spanId; // "00f067aa0ba902b7"
   * ```
   */
  finding(message: string, span?: string | SpanRef): this {
    const finding: Finding = { message };
    if (span !== undefined) {
      finding.spanId = typeof span === "string" ? span : span.id();
    }
    this.findings.push(finding);
    return this;
  }
}

/**
 * `score` if it is a number in `[0, 1]`; else a `TypeError` or `RangeError` saying what
 * is wrong.
 *
 * ```ts
 * import { checkScore } from "@flowtrace/plugin-sdk";
 *
 * checkScore(1); // 1
 * checkScore(1.5); // throws RangeError: score must be between 0 and 1, got 1.5
 * ```
 */
export function checkScore(score: unknown): number {
  if (typeof score !== "number") {
    throw new TypeError(`score must be a number between 0 and 1, got ${describe(score)}`);
  }
  if (!(score >= 0 && score <= 1)) {
    throw new RangeError(`score must be between 0 and 1, got ${score}`);
  }
  return score;
}

/** `value` for a message: its type, and the value when it is short. Internal. */
export function describe(value: unknown): string {
  if (value === undefined || value === null) return String(value);
  if (typeof value === "function") return "a function";
  if (typeof value === "string") return `a string (${JSON.stringify(value.slice(0, 40))})`;
  if (typeof value === "object") return Array.isArray(value) ? "an array" : "an object";
  return `${typeof value} ${String(value)}`;
}
