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
//! A streaming [`TraceReader`] reads JSON lines one line at a time and reports a bad line with
//! its number, then goes on; [`parse_json_line`] parses one line the same way, for callers that
//! split the lines themselves (to parse them on several threads).
//!
//! # From OTLP to the model
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
mod otlp_value;

pub use error::TraceError;
pub use facts::{Message, MessageDirection, SpanError, ToolCall};
pub use formats::{from_otlp_json, from_otlp_value, parse_json_line, parse_traces, TraceReader};
pub use model::*;
