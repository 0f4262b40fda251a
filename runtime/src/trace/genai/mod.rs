//! What a span's attributes say about an LLM application: kind, model, tokens, cost, input and
//! output, read from the OpenTelemetry GenAI semantic conventions (current and older), Traceloop
//! (OpenLLMetry), OpenInference and the Vercel AI SDK; [`facts`] reads the rest (finish
//! reasons, messages, tool calls, errors) on demand. The first convention that answers wins;
//! see the module docs of [`super`] and `docs/trace-model.md` for the order. Nothing here
//! rejects a span: what is not understood is left to the attributes, which are always kept.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::facts::{Message, MessageDirection};
use super::model::{Attribute, AttributeValue, SpanKind, TokenUsage};

pub(crate) mod facts;

/// The fields of a span that come from its attributes.
pub(crate) struct GenAi {
    pub(crate) kind: SpanKind,
    pub(crate) model: Option<String>,
    pub(crate) input: Option<String>,
    pub(crate) output: Option<String>,
    pub(crate) usage: TokenUsage,
    pub(crate) cost_usd: Option<f64>,
}

const MODEL: &[&str] = &[
    "gen_ai.response.model",
    "gen_ai.request.model",
    "llm.response.model",
    "llm.request.model",
    "llm.response.model_name",
    "llm.model_name",
    "llm.request.model_name",
    "ai.response.model",
    "ai.model.id",
    "embedding.model_name",
];
const INPUT_TOKENS: &[&str] = &[
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.prompt_tokens",
    "llm.usage.prompt_tokens",
    "llm.token_count.prompt",
    "ai.usage.inputTokens",
    "ai.usage.promptTokens",
];
const OUTPUT_TOKENS: &[&str] = &[
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens",
    "llm.usage.completion_tokens",
    "llm.token_count.completion",
    "ai.usage.outputTokens",
    "ai.usage.completionTokens",
];
const TOTAL_TOKENS: &[&str] = &[
    "gen_ai.usage.total_tokens",
    "llm.usage.total_tokens",
    "llm.token_count.total",
    "ai.usage.totalTokens",
];
const COST: &[&str] = &[
    "gen_ai.usage.cost",
    "gen_ai.usage.cost_usd",
    "llm.cost.total",
];
const COST_PARTS: &[(&str, &str)] = &[
    ("gen_ai.usage.input_cost", "gen_ai.usage.output_cost"),
    ("llm.cost.prompt", "llm.cost.completion"),
];
const FINISH_REASONS: &str = "gen_ai.response.finish_reasons";

/// Reads what the attributes say.
pub(crate) fn map(attributes: &[Attribute]) -> GenAi {
    let indexed_messages = |prefix: &str, inner: &str| {
        render(&facts::from_indexed(indexed(attributes, prefix, inner)))
    };
    let vercel = |direction| render(&facts::vercel(attributes, direction));
    let input = text(attributes, "gen_ai.input.messages")
        .or_else(|| indexed_messages("gen_ai.prompt.", ""))
        .or_else(|| indexed_messages("llm.input_messages.", "message."))
        .or_else(|| vercel(MessageDirection::Input))
        .or_else(|| text(attributes, "gen_ai.tool.call.arguments"))
        .or_else(|| text(attributes, "tool.arguments"))
        .or_else(|| text(attributes, "ai.toolCall.args"))
        .or_else(|| text(attributes, "input.value"))
        .or_else(|| text(attributes, "traceloop.entity.input"))
        .or_else(|| text(attributes, "gen_ai.prompt"));
    let output = text(attributes, "gen_ai.output.messages")
        .or_else(|| indexed_messages("gen_ai.completion.", ""))
        .or_else(|| indexed_messages("llm.output_messages.", "message."))
        .or_else(|| vercel(MessageDirection::Output))
        .or_else(|| text(attributes, "gen_ai.tool.call.result"))
        .or_else(|| text(attributes, "tool.result"))
        .or_else(|| text(attributes, "ai.toolCall.result"))
        .or_else(|| text(attributes, "output.value"))
        .or_else(|| text(attributes, "traceloop.entity.output"))
        .or_else(|| text(attributes, "gen_ai.completion"));

    let model = MODEL.iter().find_map(|key| {
        let model = get(attributes, key)?.as_text()?;
        (!model.is_empty()).then(|| model.to_owned())
    });
    let count = |keys: &[&str]| keys.iter().find_map(|key| count(get(attributes, key)?));
    let usage = TokenUsage {
        input: count(INPUT_TOKENS),
        output: count(OUTPUT_TOKENS),
        total: count(TOTAL_TOKENS),
    };
    let cost = |key: &str| get(attributes, key).and_then(number);
    let cost_usd = COST.iter().find_map(|key| cost(key)).or_else(|| {
        COST_PARTS
            .iter()
            .find_map(|(input, output)| Some(cost(input)? + cost(output)?))
    });
    GenAi {
        kind: kind(attributes),
        model,
        input,
        output,
        usage,
        cost_usd,
    }
}

/// Attributes derived from others, only ever for keys the span lacks: the normalized finish
/// reasons as `gen_ai.response.finish_reasons`, so plugins that read that attribute see every
/// convention's. Call it once the span's attributes are complete (`otel.events` included).
pub(crate) fn derived(attributes: &[Attribute]) -> Vec<Attribute> {
    if get(attributes, FINISH_REASONS).is_some() {
        return Vec::new();
    }
    let reasons = facts::finish_reasons(attributes);
    if reasons.is_empty() {
        return Vec::new();
    }
    vec![Attribute {
        key: FINISH_REASONS.to_owned(),
        value: AttributeValue::Json(Value::from(reasons).to_string()),
    }]
}

fn kind(attributes: &[Attribute]) -> SpanKind {
    let attr = |key: &str| get(attributes, key).and_then(AttributeValue::as_text);
    let by_operation = attr("gen_ai.operation.name").and_then(|op| match op {
        "chat" | "text_completion" | "generate_content" => Some(SpanKind::LlmCall),
        "embeddings" => Some(SpanKind::Embedding),
        "execute_tool" => Some(SpanKind::ToolCall),
        "invoke_agent" | "create_agent" => Some(SpanKind::AgentStep),
        _ => None,
    });
    let by_openinference = || {
        let kind = attr("openinference.span.kind")?.to_ascii_uppercase();
        match kind.as_str() {
            "LLM" => Some(SpanKind::LlmCall),
            "TOOL" => Some(SpanKind::ToolCall),
            "RETRIEVER" | "RERANKER" => Some(SpanKind::Retrieval),
            "EMBEDDING" => Some(SpanKind::Embedding),
            "AGENT" | "CHAIN" => Some(SpanKind::AgentStep),
            _ => None,
        }
    };
    let by_traceloop = || match attr("traceloop.span.kind")? {
        "workflow" | "task" | "agent" => Some(SpanKind::AgentStep),
        "tool" => Some(SpanKind::ToolCall),
        _ => None,
    };
    let by_request_type = || match attr("llm.request.type")? {
        "chat" | "completion" => Some(SpanKind::LlmCall),
        "embedding" => Some(SpanKind::Embedding),
        "rerank" => Some(SpanKind::Retrieval),
        _ => None,
    };
    // The Vercel AI SDK names its operation `ai.<function>[.<step>]`; `operation.name`
    // appends the telemetry function id after a space.
    let by_vercel = || {
        let operation =
            attr("ai.operationId").or_else(|| attr("operation.name")?.split(' ').next())?;
        match operation {
            "ai.generateText.doGenerate"
            | "ai.streamText.doStream"
            | "ai.generateObject.doGenerate"
            | "ai.streamObject.doStream" => Some(SpanKind::LlmCall),
            "ai.toolCall" => Some(SpanKind::ToolCall),
            "ai.embed.doEmbed" | "ai.embedMany.doEmbed" => Some(SpanKind::Embedding),
            "ai.generateText" | "ai.streamText" | "ai.generateObject" | "ai.streamObject"
            | "ai.embed" | "ai.embedMany" => Some(SpanKind::AgentStep),
            _ => None,
        }
    };
    // Last resorts, for spans that name no operation: what their attributes are about.
    let has = |keys: &[&str]| keys.iter().any(|key| get(attributes, key).is_some());
    let by_presence = || {
        if has(&["gen_ai.tool.name", "gen_ai.tool.call.id"]) {
            Some(SpanKind::ToolCall)
        } else if has(&["gen_ai.agent.name", "gen_ai.agent.id"]) {
            Some(SpanKind::AgentStep)
        } else if has(&["gen_ai.request.model", "llm.model_name"]) {
            Some(SpanKind::LlmCall)
        } else {
            None
        }
    };
    by_operation
        .or_else(by_openinference)
        .or_else(by_traceloop)
        .or_else(by_request_type)
        .or_else(by_vercel)
        .or_else(by_presence)
        .unwrap_or(SpanKind::Custom)
}

fn get<'a>(attributes: &'a [Attribute], key: &str) -> Option<&'a AttributeValue> {
    attributes.iter().find(|a| a.key == key).map(|a| &a.value)
}

/// A text-like attribute: a non-empty string, or the JSON text of an array or map.
fn text(attributes: &[Attribute], key: &str) -> Option<String> {
    get(attributes, key).and_then(as_text)
}

fn as_text(value: &AttributeValue) -> Option<String> {
    match value {
        AttributeValue::Text(text) | AttributeValue::Json(text) if !text.is_empty() => {
            Some(text.clone())
        }
        _ => None,
    }
}

/// A token count: a non-negative integer, a whole float, or a decimal string.
fn count(value: &AttributeValue) -> Option<u64> {
    match value {
        AttributeValue::Integer(n) => u64::try_from(*n).ok(),
        AttributeValue::Float(x) if *x >= 0.0 && x.fract() == 0.0 && *x < u64::MAX as f64 => {
            Some(*x as u64)
        }
        AttributeValue::Text(text) => text.trim().parse().ok(),
        _ => None,
    }
}

fn number(value: &AttributeValue) -> Option<f64> {
    let x = match value {
        AttributeValue::Integer(n) => *n as f64,
        AttributeValue::Float(x) => *x,
        AttributeValue::Text(text) => text.trim().parse().ok()?,
        _ => return None,
    };
    x.is_finite().then_some(x)
}

// ---- indexed messages ---------------------------------------------------------------------

/// One message flattened into attributes, e.g. Traceloop's `gen_ai.prompt.1.role` or
/// OpenInference's `llm.input_messages.1.message.role`.
#[derive(Default)]
struct IndexedMessage {
    role: Option<String>,
    content: Option<String>,
    finish_reason: Option<String>,
    tool_call_id: Option<String>,
    tool_calls: BTreeMap<usize, ToolCall>,
}

#[derive(Default)]
struct ToolCall {
    id: Option<String>,
    name: Option<String>,
    arguments: Option<String>,
}

/// Collects `{prefix}{N}.{inner}{field}` attributes into messages, by index.
fn indexed(attributes: &[Attribute], prefix: &str, inner: &str) -> BTreeMap<usize, IndexedMessage> {
    let mut messages = BTreeMap::<usize, IndexedMessage>::new();
    for attribute in attributes {
        let Some(rest) = attribute.key.strip_prefix(prefix) else {
            continue;
        };
        let Some((index, field)) = rest.split_once('.') else {
            continue;
        };
        let (Ok(index), Some(field)) = (index.parse::<usize>(), field.strip_prefix(inner)) else {
            continue;
        };
        let Some(value) = as_text(&attribute.value) else {
            continue;
        };
        let Some(field) = Field::parse(field) else {
            continue;
        };
        let message: &mut IndexedMessage = messages.entry(index).or_default();
        let slot = match field {
            Field::Role => &mut message.role,
            Field::Content => &mut message.content,
            Field::FinishReason => &mut message.finish_reason,
            Field::ToolCallId => &mut message.tool_call_id,
            Field::Call(call, field) => {
                let call = message.tool_calls.entry(call).or_default();
                match field {
                    CallField::Id => &mut call.id,
                    CallField::Name => &mut call.name,
                    CallField::Arguments => &mut call.arguments,
                }
            }
        };
        *slot = Some(value);
    }
    messages
}

/// A field of an indexed message, after the message index (and OpenInference's `message.`).
enum Field {
    Role,
    Content,
    FinishReason,
    ToolCallId,
    Call(usize, CallField),
}

enum CallField {
    Id,
    Name,
    Arguments,
}

impl Field {
    fn parse(field: &str) -> Option<Field> {
        Some(match field {
            "role" => Field::Role,
            "content" => Field::Content,
            "finish_reason" => Field::FinishReason,
            "tool_call_id" => Field::ToolCallId,
            _ => {
                let (call, field) = field.strip_prefix("tool_calls.")?.split_once('.')?;
                let field = match field.strip_prefix("tool_call.").unwrap_or(field) {
                    "id" => CallField::Id,
                    "name" | "function.name" => CallField::Name,
                    "arguments" | "function.arguments" => CallField::Arguments,
                    _ => return None,
                };
                Field::Call(call.parse().ok()?, field)
            }
        })
    }
}

/// A message in the GenAI semantic conventions' "parts" JSON format, the format of
/// `gen_ai.input.messages` / `gen_ai.output.messages`.
#[derive(Serialize)]
struct PartsMessage<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    finish_reason: Option<&'a str>,
    parts: Vec<Part<'a>>,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Part<'a> {
    Text {
        content: &'a str,
    },
    ToolCall {
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        arguments: Option<Value>,
    },
    ToolCallResponse {
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<&'a str>,
        response: &'a str,
    },
}

/// Messages as "parts" JSON, so every convention yields the same input/output shape.
/// Tool-call arguments that are JSON text are embedded as JSON, as the conventions do.
fn render(messages: &[Message]) -> Option<String> {
    if messages.is_empty() {
        return None;
    }
    let rendered: Vec<PartsMessage<'_>> = messages
        .iter()
        .map(|m| {
            let mut parts = Vec::new();
            if let Some(content) = m.content.as_deref() {
                parts.push(match m.role.as_str() {
                    "tool" => Part::ToolCallResponse {
                        id: m.tool_call_id.as_deref(),
                        response: content,
                    },
                    _ => Part::Text { content },
                });
            }
            parts.extend(m.tool_calls.iter().map(|call| Part::ToolCall {
                id: call.id.as_deref(),
                name: non_empty(&call.name),
                arguments: call.arguments.as_deref().map(|arguments| {
                    serde_json::from_str(arguments)
                        .unwrap_or_else(|_| Value::String(arguments.to_owned()))
                }),
            }));
            PartsMessage {
                role: non_empty(&m.role),
                finish_reason: m.finish_reason.as_deref(),
                parts,
            }
        })
        .collect();
    serde_json::to_string(&rendered).ok()
}

fn non_empty(text: &str) -> Option<&str> {
    Some(text).filter(|text| !text.is_empty())
}
