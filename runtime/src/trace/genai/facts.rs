//! The span facts of [`crate::trace::facts`], read from attributes and `otel.events`. For each
//! fact the conventions are asked in a fixed order and the first that answers wins:
//! OpenTelemetry GenAI (attributes, then span events), Traceloop/OpenLLMetry, OpenInference,
//! the Vercel AI SDK, then the older OpenTelemetry `gen_ai.prompt` / `gen_ai.completion`.
//!
//! Work is bounded per span: at most [`MAX_MESSAGES`] messages per direction and
//! [`MAX_TOOL_CALLS`] tool calls per message are read; odd values are skipped, never an error.

use serde_json::{Map, Value};

use super::{get, indexed, text, IndexedMessage};
use crate::trace::facts::{Message, MessageDirection, SpanError, ToolCall};
use crate::trace::model::{Attribute, AttributeValue, Span, SpanKind, SpanStatus};

/// Messages read per span and direction; the rest are dropped.
pub(crate) const MAX_MESSAGES: usize = 1_000;
/// Tool calls read per message.
pub(crate) const MAX_TOOL_CALLS: usize = 128;

/// The current GenAI conventions' event that carries the messages when they are not attributes.
const DETAILS_EVENT: &str = "gen_ai.client.inference.operation.details";

pub(crate) fn finish_reasons(attributes: &[Attribute]) -> Vec<String> {
    let events = Events::new(attributes);
    let from_messages = || {
        let reasons: Vec<String> = messages_with(attributes, &events, MessageDirection::Output)
            .into_iter()
            .filter_map(|m| m.finish_reason)
            .collect();
        (!reasons.is_empty()).then_some(reasons)
    };
    recorded_reasons(attributes, &events)
        .or_else(from_messages)
        .or_else(|| {
            let reasons: Vec<String> = events
                .named("gen_ai.choice")
                .filter_map(|e| e.get("finish_reason")?.as_str().map(str::to_owned))
                .collect();
            (!reasons.is_empty()).then_some(reasons)
        })
        .unwrap_or_default()
}

/// Finish reasons recorded for the span as a whole rather than per message.
fn recorded_reasons(attributes: &[Attribute], events: &Events) -> Option<Vec<String>> {
    get(attributes, "gen_ai.response.finish_reasons")
        .and_then(string_list)
        .or_else(|| {
            events
                .attribute(DETAILS_EVENT, "gen_ai.response.finish_reasons")
                .and_then(json_string_list)
        })
        .or_else(|| one(text(attributes, "llm.finish_reason")))
        .or_else(|| one(text(attributes, "ai.response.finishReason")))
}

pub(crate) fn messages(attributes: &[Attribute], direction: MessageDirection) -> Vec<Message> {
    messages_with(attributes, &Events::new(attributes), direction)
}

fn messages_with(
    attributes: &[Attribute],
    events: &Events,
    direction: MessageDirection,
) -> Vec<Message> {
    let (genai, traceloop, openinference, older, older_event) = match direction {
        MessageDirection::Input => (
            "gen_ai.input.messages",
            "gen_ai.prompt.",
            "llm.input_messages.",
            "gen_ai.prompt",
            "gen_ai.content.prompt",
        ),
        MessageDirection::Output => (
            "gen_ai.output.messages",
            "gen_ai.completion.",
            "llm.output_messages.",
            "gen_ai.completion",
            "gen_ai.content.completion",
        ),
    };
    let found = |messages: Vec<Message>| (!messages.is_empty()).then_some(messages);
    let mut messages = get(attributes, genai)
        .and_then(|value| found(json_messages(&attribute_json(value)?)))
        .or_else(|| found(json_messages(events.attribute(DETAILS_EVENT, genai)?)))
        .or_else(|| found(from_indexed(indexed(attributes, traceloop, ""))))
        .or_else(|| found(from_indexed(indexed(attributes, openinference, "message."))))
        .or_else(|| found(vercel(attributes, direction)))
        .or_else(|| {
            let older = text(attributes, older).or_else(|| {
                events
                    .attribute(older_event, older)
                    .and_then(|v| v.as_str().map(str::to_owned))
            })?;
            found(loose_messages(&older))
        })
        .or_else(|| {
            (direction == MessageDirection::Output).then_some(())?;
            found(choice_events(events))
        })
        .unwrap_or_default();
    messages.truncate(MAX_MESSAGES);
    // Output messages without a finish reason take the span's, one per choice, when the
    // counts match (OpenInference's `llm.finish_reason`, the older `gen_ai.completion`).
    if direction == MessageDirection::Output && messages.iter().any(|m| m.finish_reason.is_none()) {
        if let Some(reasons) = recorded_reasons(attributes, events) {
            if reasons.len() == messages.len() {
                for (message, reason) in messages.iter_mut().zip(reasons) {
                    message.finish_reason.get_or_insert(reason);
                }
            }
        }
    }
    messages
}

pub(crate) fn tool_call(span: &Span) -> Option<ToolCall> {
    let attributes = &span.attributes;
    let first = |keys: &[&str]| keys.iter().find_map(|key| text(attributes, key));
    let openinference_tool = text(attributes, "openinference.span.kind")
        .is_some_and(|kind| kind.eq_ignore_ascii_case("TOOL"));
    let traceloop_tool = text(attributes, "traceloop.span.kind").as_deref() == Some("tool");
    let when = |yes: bool, key: &str| yes.then(|| text(attributes, key)).flatten();
    let name = first(&["gen_ai.tool.name", "tool.name", "ai.toolCall.name"])
        .or_else(|| when(traceloop_tool, "traceloop.entity.name"));
    if name.is_none() && span.kind != SpanKind::ToolCall {
        return None;
    }
    Some(ToolCall {
        id: first(&["gen_ai.tool.call.id", "tool_call.id", "ai.toolCall.id"]),
        name: name.unwrap_or_default(),
        arguments: first(&[
            "gen_ai.tool.call.arguments",
            "tool.arguments",
            "ai.toolCall.args",
            "ai.toolCall.input",
        ])
        .or_else(|| when(openinference_tool, "input.value"))
        .or_else(|| when(traceloop_tool, "traceloop.entity.input")),
        result: first(&[
            "gen_ai.tool.call.result",
            "tool.result",
            "ai.toolCall.result",
            "ai.toolCall.output",
        ])
        .or_else(|| when(openinference_tool, "output.value"))
        .or_else(|| when(traceloop_tool, "traceloop.entity.output")),
    })
}

pub(crate) fn error(span: &Span) -> Option<SpanError> {
    let error_type = text(&span.attributes, "error.type");
    if span.status != SpanStatus::Error && error_type.is_none() {
        return None;
    }
    let events = Events::new(&span.attributes);
    let exception = |key: &str| {
        events.named("exception").find_map(|e| {
            e.get(key)?
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        })
    };
    Some(SpanError {
        error_type: error_type.or_else(|| exception("exception.type")),
        message: span
            .status_message
            .clone()
            .filter(|m| !m.is_empty())
            .or_else(|| exception("exception.message")),
    })
}

// ---- span events ----------------------------------------------------------------------------

/// The span's events, from the `otel.events` attribute the OTLP importer writes
/// (`[{"name": ..., "attributes": {...}}]`).
struct Events(Vec<Value>);

impl Events {
    fn new(attributes: &[Attribute]) -> Self {
        let events = match get(attributes, "otel.events") {
            Some(AttributeValue::Json(json) | AttributeValue::Text(json)) => {
                match serde_json::from_str(json) {
                    Ok(Value::Array(events)) => events,
                    _ => Vec::new(),
                }
            }
            _ => Vec::new(),
        };
        Self(events)
    }

    /// The attributes of each event called `name`, in order.
    fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Map<String, Value>> + 'a {
        self.0
            .iter()
            .filter(move |e| e.get("name").and_then(Value::as_str) == Some(name))
            .filter_map(|e| e.get("attributes")?.as_object())
    }

    /// Attribute `key` of the first event called `event` that has it.
    fn attribute(&self, event: &str, key: &str) -> Option<&Value> {
        self.0
            .iter()
            .filter(|e| e.get("name").and_then(Value::as_str) == Some(event))
            .find_map(|e| e.get("attributes")?.get(key))
    }
}

/// The older GenAI event convention's `gen_ai.choice` events: one output message each.
fn choice_events(events: &Events) -> Vec<Message> {
    events
        .named("gen_ai.choice")
        .filter_map(|attributes| {
            let message = match attributes.get("message")? {
                Value::String(json) => serde_json::from_str(json).ok()?,
                value => value.clone(),
            };
            let mut message = json_message(&message)?;
            if message.finish_reason.is_none() {
                message.finish_reason = attributes
                    .get("finish_reason")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
            }
            Some(message)
        })
        .collect()
}

// ---- values ---------------------------------------------------------------------------------

fn one(text: Option<String>) -> Option<Vec<String>> {
    text.map(|text| vec![text])
}

/// A string list attribute: a JSON array of strings, or one plain string.
fn string_list(value: &AttributeValue) -> Option<Vec<String>> {
    match value {
        AttributeValue::Json(json) => json_string_list(&serde_json::from_str(json).ok()?),
        AttributeValue::Text(text) if !text.is_empty() => Some(vec![text.clone()]),
        _ => None,
    }
}

fn json_string_list(value: &Value) -> Option<Vec<String>> {
    let list: Vec<String> = match value {
        Value::Array(items) => items
            .iter()
            .filter_map(|item| item.as_str().map(str::to_owned))
            .collect(),
        Value::String(text) if !text.is_empty() => vec![text.clone()],
        _ => return None,
    };
    (!list.is_empty()).then_some(list)
}

/// An attribute holding JSON: a `Json` value, or a `Text` that parses as JSON.
fn attribute_json(value: &AttributeValue) -> Option<Value> {
    match value {
        AttributeValue::Json(json) | AttributeValue::Text(json) => serde_json::from_str(json).ok(),
        _ => None,
    }
}

/// JSON text of any value; a string stays itself.
fn json_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

fn str_field(object: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter()
        .find_map(|key| object.get(*key)?.as_str().filter(|s| !s.is_empty()))
        .map(str::to_owned)
}

// ---- messages -------------------------------------------------------------------------------

/// Messages from a JSON array of messages in any of the shapes the conventions use, or from
/// a string holding one.
fn json_messages(value: &Value) -> Vec<Message> {
    match value {
        Value::String(json) => match serde_json::from_str::<Value>(json) {
            Ok(value @ Value::Array(_)) => json_messages(&value),
            _ => Vec::new(),
        },
        Value::Array(items) => items
            .iter()
            .take(MAX_MESSAGES)
            .filter_map(json_message)
            .collect(),
        _ => Vec::new(),
    }
}

/// Older `gen_ai.prompt` / `gen_ai.completion`: a JSON array of messages, one message
/// object, or plain text (one message without a role).
fn loose_messages(text: &str) -> Vec<Message> {
    match serde_json::from_str::<Value>(text) {
        Ok(value @ Value::Array(_)) => json_messages(&value),
        Ok(value @ Value::Object(_)) => json_message(&value).into_iter().collect(),
        _ => vec![Message {
            content: Some(text.to_owned()),
            ..Message::default()
        }],
    }
}

/// One message in the GenAI "parts" shape (`{"role", "parts": [...], "finish_reason"}`), the
/// OpenAI shape (`{"role", "content", "tool_calls": [{"id", "function": {...}}]}`) or the
/// Vercel AI SDK shape (`{"role", "content": [{"type": "text" | "tool-call" | ...}]}`).
fn json_message(value: &Value) -> Option<Message> {
    let object = value.as_object()?;
    let mut message = Message {
        role: str_field(object, &["role"]).unwrap_or_default(),
        tool_call_id: str_field(object, &["tool_call_id", "toolCallId"]),
        finish_reason: str_field(object, &["finish_reason", "finishReason"]),
        ..Message::default()
    };
    let mut texts: Vec<String> = Vec::new();
    let parts = object.get("parts").or_else(|| object.get("content"));
    match parts {
        Some(Value::String(text)) => texts.push(text.clone()),
        Some(Value::Array(parts)) => {
            for part in parts.iter().filter_map(Value::as_object) {
                let kind = part.get("type").and_then(Value::as_str).unwrap_or("text");
                match kind {
                    "text" => {
                        if let Some(text) = str_field(part, &["content", "text"]) {
                            texts.push(text);
                        }
                    }
                    "tool_call" | "tool-call" => message.tool_calls.push(ToolCall {
                        id: str_field(part, &["id", "toolCallId"]),
                        name: str_field(part, &["name", "toolName"]).unwrap_or_default(),
                        arguments: ["arguments", "args", "input"]
                            .iter()
                            .find_map(|key| json_text(part.get(*key)?)),
                        result: None,
                    }),
                    "tool_call_response" | "tool-result" => {
                        message.tool_call_id = message
                            .tool_call_id
                            .take()
                            .or_else(|| str_field(part, &["id", "toolCallId"]));
                        if let Some(result) = ["response", "result", "output"]
                            .iter()
                            .find_map(|key| json_text(part.get(*key)?))
                        {
                            texts.push(result);
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
    if let Some(Value::Array(calls)) = object.get("tool_calls") {
        for call in calls.iter().filter_map(Value::as_object) {
            let function = call.get("function").and_then(Value::as_object);
            let field = |key: &str| {
                function
                    .and_then(|f| f.get(key))
                    .or_else(|| call.get(key))
                    .and_then(json_text)
            };
            message.tool_calls.push(ToolCall {
                id: str_field(call, &["id"]),
                name: field("name").unwrap_or_default(),
                arguments: field("arguments"),
                result: None,
            });
        }
    }
    message.tool_calls.truncate(MAX_TOOL_CALLS);
    message.content = (!texts.is_empty()).then(|| texts.join("\n"));
    Some(message)
}

/// Traceloop's or OpenInference's indexed messages, in index order.
pub(super) fn from_indexed(
    messages: std::collections::BTreeMap<usize, IndexedMessage>,
) -> Vec<Message> {
    messages
        .into_values()
        .take(MAX_MESSAGES)
        .map(|m| Message {
            role: m.role.unwrap_or_default(),
            content: m.content,
            tool_calls: m
                .tool_calls
                .into_values()
                .take(MAX_TOOL_CALLS)
                .map(|call| ToolCall {
                    id: call.id,
                    name: call.name.unwrap_or_default(),
                    arguments: call.arguments,
                    result: None,
                })
                .collect(),
            tool_call_id: m.tool_call_id,
            finish_reason: m.finish_reason,
        })
        .collect()
}

/// The Vercel AI SDK: `ai.prompt.messages` (or `ai.prompt`'s `system`, `prompt` and
/// `messages`) in; `ai.response.text`, `ai.response.toolCalls` and `ai.response.finishReason`
/// out, as one assistant message.
pub(super) fn vercel(attributes: &[Attribute], direction: MessageDirection) -> Vec<Message> {
    match direction {
        MessageDirection::Input => {
            if let Some(messages) = get(attributes, "ai.prompt.messages").and_then(attribute_json) {
                return json_messages(&messages);
            }
            let Some(Value::Object(prompt)) = get(attributes, "ai.prompt").and_then(attribute_json)
            else {
                return Vec::new();
            };
            let mut messages = Vec::new();
            let say = |role: &str, text: String| Message {
                role: role.to_owned(),
                content: Some(text),
                ..Message::default()
            };
            if let Some(system) = str_field(&prompt, &["system"]) {
                messages.push(say("system", system));
            }
            if let Some(text) = str_field(&prompt, &["prompt"]) {
                messages.push(say("user", text));
            }
            if let Some(list) = prompt.get("messages") {
                messages.extend(json_messages(list));
            }
            messages
        }
        MessageDirection::Output => {
            let content = text(attributes, "ai.response.text");
            let tool_calls: Vec<ToolCall> = get(attributes, "ai.response.toolCalls")
                .and_then(attribute_json)
                .and_then(|calls| match calls {
                    Value::Array(calls) => Some(calls),
                    _ => None,
                })
                .unwrap_or_default()
                .iter()
                .filter_map(Value::as_object)
                .take(MAX_TOOL_CALLS)
                .map(|call| ToolCall {
                    id: str_field(call, &["toolCallId", "id"]),
                    name: str_field(call, &["toolName", "name"]).unwrap_or_default(),
                    arguments: ["args", "input", "arguments"]
                        .iter()
                        .find_map(|key| json_text(call.get(*key)?)),
                    result: None,
                })
                .collect();
            if content.is_none() && tool_calls.is_empty() {
                return Vec::new();
            }
            vec![Message {
                role: "assistant".to_owned(),
                content,
                tool_calls,
                tool_call_id: None,
                finish_reason: text(attributes, "ai.response.finishReason"),
            }]
        }
    }
}
