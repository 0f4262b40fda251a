//! What a span's attributes say about an LLM application: kind, model, tokens, cost, input and
//! output, read from the OpenTelemetry GenAI semantic conventions (current and older), Traceloop
//! (OpenLLMetry) and OpenInference. The first convention that answers wins; see the module docs
//! of [`super`] for the order. Nothing here rejects a span: what is not understood is left to
//! the attributes, which are always kept.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::model::{Attribute, AttributeValue, SpanKind, TokenUsage};

/// The fields of a span that come from its attributes.
pub(crate) struct GenAi {
    pub(crate) kind: SpanKind,
    pub(crate) model: Option<String>,
    pub(crate) input: Option<String>,
    pub(crate) output: Option<String>,
    pub(crate) usage: TokenUsage,
    pub(crate) cost_usd: Option<f64>,
    /// Attributes derived from others (`gen_ai.response.finish_reasons` from Traceloop's
    /// indexed completions), only ever for keys the span lacks.
    pub(crate) derived: Vec<Attribute>,
}

const MODEL: &[&str] = &[
    "gen_ai.response.model",
    "gen_ai.request.model",
    "llm.response.model",
    "llm.request.model",
    "llm.model_name",
    "embedding.model_name",
];
const INPUT_TOKENS: &[&str] = &[
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.prompt_tokens",
    "llm.usage.prompt_tokens",
    "llm.token_count.prompt",
];
const OUTPUT_TOKENS: &[&str] = &[
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens",
    "llm.usage.completion_tokens",
    "llm.token_count.completion",
];
const TOTAL_TOKENS: &[&str] = &[
    "gen_ai.usage.total_tokens",
    "llm.usage.total_tokens",
    "llm.token_count.total",
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
    let prompts = indexed(attributes, "gen_ai.prompt.", "");
    let completions = indexed(attributes, "gen_ai.completion.", "");
    let input = text(attributes, "gen_ai.input.messages")
        .or_else(|| render(&prompts))
        .or_else(|| render(&indexed(attributes, "llm.input_messages.", "message.")))
        .or_else(|| text(attributes, "gen_ai.tool.call.arguments"))
        .or_else(|| text(attributes, "tool.arguments"))
        .or_else(|| text(attributes, "input.value"))
        .or_else(|| text(attributes, "traceloop.entity.input"))
        .or_else(|| text(attributes, "gen_ai.prompt"));
    let output_messages = text(attributes, "gen_ai.output.messages");
    let mut derived = Vec::new();
    if get(attributes, FINISH_REASONS).is_none() {
        let reasons: Vec<String> = if completions.is_empty() {
            output_messages
                .as_deref()
                .map(finish_reasons)
                .unwrap_or_default()
        } else {
            completions
                .values()
                .filter_map(|m| m.finish_reason.clone())
                .collect()
        };
        if !reasons.is_empty() {
            derived.push(Attribute {
                key: FINISH_REASONS.to_owned(),
                value: AttributeValue::Json(Value::from(reasons).to_string()),
            });
        }
    }
    let output = output_messages
        .or_else(|| render(&completions))
        .or_else(|| render(&indexed(attributes, "llm.output_messages.", "message.")))
        .or_else(|| text(attributes, "gen_ai.tool.call.result"))
        .or_else(|| text(attributes, "tool.result"))
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
        derived,
    }
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

/// The `finish_reason`s of GenAI "parts" output messages.
fn finish_reasons(messages: &str) -> Vec<String> {
    let Ok(Value::Array(messages)) = serde_json::from_str::<Value>(messages) else {
        return Vec::new();
    };
    messages
        .iter()
        .filter_map(|m| m.get("finish_reason")?.as_str().map(str::to_owned))
        .collect()
}

// ---- indexed messages ---------------------------------------------------------------------

/// One message flattened into attributes, e.g. Traceloop's `gen_ai.prompt.1.role` or
/// OpenInference's `llm.input_messages.1.message.role`.
#[derive(Default)]
struct Message {
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
fn indexed(attributes: &[Attribute], prefix: &str, inner: &str) -> BTreeMap<usize, Message> {
    let mut messages = BTreeMap::<usize, Message>::new();
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
        let message = messages.entry(index).or_default();
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

/// Indexed messages as "parts" JSON, so every convention yields the same input/output shape.
/// Tool-call arguments that are JSON text are embedded as JSON, as the conventions do.
fn render(messages: &BTreeMap<usize, Message>) -> Option<String> {
    if messages.is_empty() {
        return None;
    }
    let rendered: Vec<PartsMessage<'_>> = messages
        .values()
        .map(|m| {
            let mut parts = Vec::new();
            if let Some(content) = m.content.as_deref() {
                parts.push(match m.role.as_deref() {
                    Some("tool") => Part::ToolCallResponse {
                        id: m.tool_call_id.as_deref(),
                        response: content,
                    },
                    _ => Part::Text { content },
                });
            }
            parts.extend(m.tool_calls.values().map(|call| Part::ToolCall {
                id: call.id.as_deref(),
                name: call.name.as_deref(),
                arguments: call.arguments.as_deref().map(|arguments| {
                    serde_json::from_str(arguments)
                        .unwrap_or_else(|_| Value::String(arguments.to_owned()))
                }),
            }));
            PartsMessage {
                role: m.role.as_deref(),
                finish_reason: m.finish_reason.as_deref(),
                parts,
            }
        })
        .collect();
    serde_json::to_string(&rendered).ok()
}
