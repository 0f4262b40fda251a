/**
 * Hand-written declarations of the host interfaces of the Flowtrace plugin contract,
 * `flowtrace:plugin@0.1.0` (`wit/` of the cargo-flowtrace repository), as componentize-js
 * presents them to JavaScript: each interface is a module named after it, WIT names in
 * camelCase, enums as their kebab-case strings, variants as `{ tag, val }`, `option<T>` as
 * `T | undefined`, `u64`/`s64` as `bigint`, `list<u8>` as `Uint8Array`, and a `result`
 * error thrown as an `Error` whose `payload` is the error value.
 *
 * Plugins use the SDK's modules, which wrap these; the declarations are what the SDK is
 * type-checked against.
 */

declare module "flowtrace:plugin/types@0.1.0" {
  /** What a span represents in an LLM application. */
  export type SpanKind =
    | "llm-call"
    | "tool-call"
    | "retrieval"
    | "agent-step"
    | "embedding"
    | "custom";

  /** The outcome of a span. */
  export type SpanStatus = "unset" | "ok" | "error";

  /** A typed attribute value; arrays and maps arrive as their JSON text in `json`. */
  export type AttributeValue =
    | { tag: "text"; val: string }
    | { tag: "integer"; val: bigint }
    | { tag: "float"; val: number }
    | { tag: "boolean"; val: boolean }
    | { tag: "json"; val: string };

  export interface Attribute {
    key: string;
    value: AttributeValue;
  }

  export interface TokenUsage {
    input?: bigint;
    output?: bigint;
    total?: bigint;
  }

  export interface SpanInfo {
    kind: SpanKind;
    status: SpanStatus;
    parent?: number;
    startTimeNs: bigint;
    endTimeNs?: bigint;
    usage: TokenUsage;
    costUsd?: number;
    inputLen: number;
    outputLen: number;
    attributeCount: number;
  }

  export interface Span {
    id: string;
    parentId?: string;
    name: string;
    kind: SpanKind;
    status: SpanStatus;
    statusMessage?: string;
    input?: string;
    output?: string;
    model?: string;
    startTimeNs: bigint;
    endTimeNs?: bigint;
    usage: TokenUsage;
    costUsd?: number;
    attributes: Attribute[];
  }

  export interface TraceData {
    id: string;
    input?: string;
    output?: string;
    attributes: Attribute[];
    spans: Span[];
  }

  /** A recorded trace, owned by the host. */
  export class Trace {
    private constructor();
    id(): string;
    spanCount(): number;
    input(): string | undefined;
    output(): string | undefined;
    attributes(): Attribute[];
    spanInfo(index: number): SpanInfo | undefined;
    spanInfos(): SpanInfo[];
    spansOfKind(kind: SpanKind): Uint32Array | number[];
    spanId(index: number): string | undefined;
    spanName(index: number): string | undefined;
    spanModel(index: number): string | undefined;
    spanInput(index: number): string | undefined;
    spanOutput(index: number): string | undefined;
    spanStatusMessage(index: number): string | undefined;
    spanAttribute(index: number, key: string): AttributeValue | undefined;
    spanAttributes(index: number): Attribute[];
    span(index: number): Span | undefined;
    toData(): TraceData;
  }

  export type MetricValue =
    | { tag: "float"; val: number }
    | { tag: "integer"; val: bigint }
    | { tag: "boolean"; val: boolean }
    | { tag: "text"; val: string };

  export interface Metric {
    name: string;
    value: MetricValue;
  }

  export interface Finding {
    spanId?: string;
    message: string;
  }

  export interface EvalResult {
    score: number;
    passed: boolean;
    label?: string;
    explanation?: string;
    metrics: Metric[];
    findings: Finding[];
  }

  export type PluginError =
    | { tag: "invalid-input"; val: string }
    | { tag: "invalid-config"; val: string }
    | { tag: "unavailable"; val: string }
    | { tag: "failed"; val: string };

  export interface ExportFormat {
    name: string;
    mediaType: string;
    fileExtension: string;
  }

  export type Result<T, E> = { tag: "ok"; val: T } | { tag: "err"; val: E };
}

declare module "flowtrace:plugin/log@0.1.0" {
  export type Level = "trace" | "debug" | "info" | "warn" | "error";
  export function log(level: Level, message: string): void;
}

declare module "flowtrace:plugin/config@0.1.0" {
  export type ConfigValue =
    | { tag: "text"; val: string }
    | { tag: "integer"; val: bigint }
    | { tag: "float"; val: number }
    | { tag: "boolean"; val: boolean }
    | { tag: "text-list"; val: string[] };
  export function get(key: string): ConfigValue | undefined;
  export function keys(): string[];
}

declare module "flowtrace:plugin/kv@0.1.0" {
  export function get(key: string): Uint8Array | undefined;
  /** Throws an `Error` whose `payload` is the host's message when the quota is exceeded. */
  export function set(key: string, value: Uint8Array): void;
  function remove(key: string): void;
  export { remove as delete };
  export function keys(prefix: string): string[];
}

declare module "flowtrace:plugin/traces@0.1.0" {
  import type { Trace } from "flowtrace:plugin/types@0.1.0";
  export interface TraceQuery {
    nameContains?: string;
    sinceNs?: bigint;
    untilNs?: bigint;
    limit: number;
  }
  export function get(id: string): Trace | undefined;
  export function query(query: TraceQuery): string[];
}

declare module "flowtrace:plugin/embeddings@0.1.0" {
  /** Both throw an `Error` whose `payload` is a `PluginError` when the service fails. */
  export function dimension(): number;
  export function embed(texts: string[]): Float32Array[];
}
