//! Traces: the host's model, and reading it from files.
//!
//! # Formats
//!
//! [`parse_traces`] tells the format from the content, never from a file name:
//!
//! - **Flowtrace JSON**: the [`Trace`] model serialised with serde; one trace object, a JSON
//!   array of them, or JSON lines of them. Read as is (no reordering, no normalisation), so
//!   serialising a trace and parsing it back gives an equal trace.
//! - **OTLP/JSON**: an OpenTelemetry export `{"resourceSpans": [...]}`, or JSON lines of
//!   exports (the collector's file exporter). Both the OTLP/JSON spec form and protobuf's
//!   canonical JSON mapping are accepted: ids in hex (any case) or base64 (standard or
//!   URL-safe, padded or not), 64-bit integers as strings or numbers, enums as numbers or names
//!   (`SPAN_KIND_CLIENT`, `STATUS_CODE_ERROR`), default fields omitted, snake_case field names,
//!   and the pre-1.0 `instrumentationLibrarySpans`.
//!
//! - **OTLP/protobuf**: `ExportTraceServiceRequest` messages (decoded with the OpenTelemetry
//!   project's `opentelemetry-proto` types), either one bare message (an OTLP/HTTP request
//!   body, as `otel-cli` or an SDK sends it) or a stream of messages each after its length as
//!   4 bytes big-endian (the OpenTelemetry Collector's file exporter with `format: proto`).
//!   They become exactly the traces the same export gives as OTLP/JSON. A record holds at
//!   most [`MAX_RECORD_BYTES`]. The collector's `compression: zstd` is not read.
//!
//! Any of them may be gzip-compressed (several gzip members one after the other included);
//! [`parse_traces`] decompresses up to [`MAX_INFLATED_BYTES`].
//!
//! [`Encoding::detect`] has the rule, from the first bytes: gzip and zstd by their magic
//! numbers; a length-prefixed protobuf stream by a first byte from 0 to 31 other than tab,
//! line feed and carriage return (a length under [`MAX_RECORD_BYTES`] starts with 0 to 7, and
//! JSON text never starts with a control character); a bare protobuf message by its first
//! byte `0a` (a line feed) with, in the first [`Encoding::HEAD_BYTES`], a byte JSON text cannot
//! hold (a control character JSON would have escaped, or bytes that are not UTF-8), which a
//! message has within its first few dozen bytes unless its first attribute key is kilobytes
//! long; JSON otherwise. So JSON text, JSON lines included, is never read as protobuf, and
//! protobuf is never read as JSON.
//!
//! A JSON document is never held as one JSON tree: [`read_document`] (which [`parse_traces`]
//! and each line of JSON lines go through too) reads an OTLP/JSON export one `resourceSpans`
//! entry at a time, and an array one element at a time, converting each before reading the
//! next; the traces, grouped by trace id across entries, come out at the document's end.
//! [`ReadOptions`] caps a line and a document, counted decompressed.
//!
//! A streaming [`TraceReader`] reads JSON lines one line at a time, or protobuf one record at
//! a time, and reports a bad line with its number or a bad record with its byte offset, then
//! goes on; [`parse_json_line`] and [`parse_protobuf_record`] parse one line or record the
//! same way, for callers that split the input themselves ([`ProtobufRecords`] cuts records) to
//! parse it on several threads.
//!
//! # From OTLP to the model
//!
//! Protobuf is first rendered as OTLP/JSON (ids as hex, bytes as base64), so both encodings
//! take one path:
//!
//! - One [`Trace`] per `traceId`, in order of first appearance; ids become lowercase hex. An
//!   absent, empty or all-zero `parentSpanId` makes a root span. Spans are ordered by start
//!   time, then id. The trace's input and output are the root span's ([`Trace::root`]).
//! - Resource attributes become trace attributes, each key once; a span whose resource gives a
//!   key another value keeps that value among its own attributes.
//! - Every span attribute is kept, those mapped into fields included. The importer adds
//!   `otel.scope.name` / `otel.scope.version` (the OpenTelemetry names for non-OTLP formats),
//!   `span.kind` (`client`, `internal`, ...) and `otel.events` (the span events as JSON) when
//!   the span does not already have them. Links, trace state and flags are not kept.
//! - Attribute values: `stringValue` and `bytesValue` (base64 text) become `Text`, `intValue`
//!   `Integer`, `doubleValue` `Float`, `boolValue` `Boolean`; `arrayValue` and `kvlistValue`
//!   become `Json` text (`["stop"]`, `{"k":1}`); a value of any other shape is kept as its raw
//!   JSON text rather than rejected.
//! - Status code 0/1/2 is unset/ok/error, with its message; an error span without a message
//!   takes the message of its first `exception` event. An end time of 0 or none is `None`.
//!
//! # GenAI conventions
//!
//! The first rule that answers wins. The span facts read on demand ([`Span::finish_reasons`],
//! [`Span::messages`], [`Span::tool_call`], [`Span::error`]) follow the same rule;
//! `docs/trace-model.md` lists every fact and its sources, the Vercel AI SDK's `ai.*` included.
//!
//! - **Kind**: `gen_ai.operation.name` (`chat`, `text_completion`, `generate_content`: LLM
//!   call; `embeddings`; `execute_tool`: tool call; `invoke_agent`, `create_agent`: agent step),
//!   then OpenInference `openinference.span.kind` (`LLM`, `TOOL`, `RETRIEVER`/`RERANKER`,
//!   `EMBEDDING`, `AGENT`/`CHAIN`: agent step), then Traceloop `traceloop.span.kind`
//!   (`workflow`/`task`/`agent`: agent step, `tool`) and `llm.request.type` (`chat`,
//!   `completion`, `embedding`, `rerank`), then the Vercel AI SDK's `ai.operationId` (or
//!   `operation.name`: `ai.*.doGenerate`/`doStream`: LLM call, `ai.toolCall`, `ai.*.doEmbed`,
//!   `ai.generateText` and the like: agent step). A span that names no operation is a tool
//!   call if it has `gen_ai.tool.name` or `gen_ai.tool.call.id`, an agent step if it has
//!   `gen_ai.agent.name` or `gen_ai.agent.id` (an agent's root span often carries only that),
//!   an LLM call if it has `gen_ai.request.model` or `llm.model_name`; otherwise custom.
//! - **Model**: `gen_ai.response.model`, `gen_ai.request.model`, `llm.response.model`,
//!   `llm.request.model`, `llm.response.model_name`, `llm.model_name`, `llm.request.model_name`,
//!   `ai.response.model`, `ai.model.id`, `embedding.model_name`.
//! - **Tokens**: input from `gen_ai.usage.input_tokens`, `gen_ai.usage.prompt_tokens`,
//!   `llm.usage.prompt_tokens`, `llm.token_count.prompt`, `ai.usage.inputTokens`,
//!   `ai.usage.promptTokens`; output likewise (`output_tokens`, `completion_tokens`,
//!   `llm.token_count.completion`, `ai.usage.outputTokens`, `ai.usage.completionTokens`); total
//!   from `gen_ai.usage.total_tokens`, `llm.usage.total_tokens`, `llm.token_count.total`,
//!   `ai.usage.totalTokens`, never computed. **Cost** from `gen_ai.usage.cost`,
//!   `gen_ai.usage.cost_usd`, `llm.cost.total`, or the sum of input and output costs;
//!   otherwise `None`.
//! - **Input / output** are always text, and for messages always the GenAI conventions'
//!   "parts" JSON (`[{"role":"user","parts":[{"type":"text","content":"..."}]}]`), so an
//!   evaluator reads one shape whatever the instrumentation:
//!   1. `gen_ai.input.messages` / `gen_ai.output.messages`, verbatim;
//!   2. Traceloop's indexed `gen_ai.prompt.N.*` / `gen_ai.completion.N.*` (role, content,
//!      finish_reason, tool_call_id, tool_calls.M.id/name/arguments), rendered in index order
//!      as parts messages: content becomes a `text` part (a `tool_call_response` part for
//!      role `tool`), tool calls become `tool_call` parts with JSON arguments embedded as JSON;
//!   3. OpenInference's indexed `llm.input_messages.N.message.*` / `llm.output_messages...`,
//!      rendered the same way;
//!   4. the Vercel AI SDK's `ai.prompt.messages` (or `ai.prompt`) / `ai.response.text` and
//!      `ai.response.toolCalls`, rendered the same way;
//!   5. tool spans' `gen_ai.tool.call.arguments` / `gen_ai.tool.call.result` (or
//!      `tool.arguments` / `tool.result`, `ai.toolCall.args` / `ai.toolCall.result`);
//!   6. OpenInference `input.value` / `output.value`, Traceloop `traceloop.entity.input` /
//!      `traceloop.entity.output`, and the older `gen_ai.prompt` / `gen_ai.completion`
//!      (attributes, or `gen_ai.content.prompt` / `gen_ai.content.completion` events).
//!
//!   Instrumentations that put content in log records (not in the trace) give `None`.
//! - **Finish reasons** stay visible in `gen_ai.response.finish_reasons` (a JSON array): when a
//!   span lacks it, it is derived from [`Span::finish_reasons`] (Traceloop's
//!   `gen_ai.completion.N.finish_reason`, the `finish_reason` of `gen_ai.output.messages`,
//!   OpenInference's `llm.finish_reason`, the Vercel AI SDK's `ai.response.finishReason`, span
//!   events). A `length` there means the output was cut.

mod error;
mod facts;
mod formats;
mod genai;
mod model;
mod otlp;
mod otlp_out;
mod otlp_proto;
mod otlp_value;
mod protobuf;
mod stream;

pub use error::TraceError;

/// The JSON Schema (draft 2020-12) of Flowtrace JSON: one trace object, which a file holds
/// alone, in an array, or as JSON lines. It describes exactly what [`parse_traces`] reads as
/// Flowtrace JSON (an object may name it in a `$schema` field, which is ignored); editors
/// use it to complete and check hand-written traces.
pub const JSON_SCHEMA: &str = include_str!("trace.schema.json");
pub use facts::{Message, MessageDirection, SpanError, ToolCall};
pub use formats::{
    from_otlp_json, from_otlp_value, parse_json_line, parse_traces, parse_traces_with, read_line,
    LineRead, TraceReader,
};
pub use model::*;
pub use otlp_out::{to_otlp_json, ToOtlpError};
pub use protobuf::{
    parse_protobuf_record, Encoding, Framing, ProtobufRecord, ProtobufRecords, MAX_INFLATED_BYTES,
    MAX_RECORD_BYTES,
};
pub use stream::{read_document, ReadOptions};
