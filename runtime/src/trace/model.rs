//! The host's trace model, and its native serialisation (Flowtrace JSON).
//!
//! Flowtrace JSON is this model serialised with serde: kebab-case fields, absent options
//! omitted. One trace is an object; a file of traces is a JSON array or JSON lines.

use serde::{Deserialize, Serialize};

/// What a span represents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SpanKind {
    /// A call to a language model (chat, text completion, content generation).
    LlmCall,
    /// The execution of a tool (function) the model asked for.
    ToolCall,
    /// A retrieval (or rerank) over documents.
    Retrieval,
    /// An agent, workflow or task step that orchestrates other spans.
    AgentStep,
    /// A call that computes embeddings.
    Embedding,
    /// Anything else.
    #[default]
    Custom,
}

/// The outcome of a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SpanStatus {
    /// No status was recorded (the OpenTelemetry default).
    #[default]
    Unset,
    /// The operation succeeded.
    Ok,
    /// The operation failed; see the span's `status_message`.
    Error,
}

/// A typed attribute value; arrays and maps are kept as their JSON text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttributeValue {
    /// A string.
    Text(String),
    /// A signed 64-bit integer.
    Integer(i64),
    /// A double-precision float.
    Float(f64),
    /// A boolean.
    Boolean(bool),
    /// An array or a map, as its JSON text.
    Json(String),
}

impl AttributeValue {
    /// The string, if this is a [`AttributeValue::Text`].
    pub fn as_text(&self) -> Option<&str> {
        match self {
            AttributeValue::Text(text) => Some(text),
            _ => None,
        }
    }
}

/// One attribute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    /// The attribute's name, e.g. `gen_ai.request.model`.
    pub key: String,
    /// The attribute's value.
    pub value: AttributeValue,
}

/// Token counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct TokenUsage {
    /// Tokens in the prompt (input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<u64>,
    /// Tokens in the completion (output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<u64>,
    /// Total tokens, as reported by the source (never computed by the importer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

impl TokenUsage {
    fn is_empty(&self) -> bool {
        self.input.is_none() && self.output.is_none() && self.total.is_none()
    }
}

/// One span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Span {
    /// The span id (16 lowercase hex digits when imported from OpenTelemetry).
    pub id: String,
    /// The parent span's id; `None` for a root span.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// The span's name, e.g. `chat gpt-4o-mini`.
    pub name: String,
    /// What the span represents.
    #[serde(default)]
    pub kind: SpanKind,
    /// The span's outcome.
    #[serde(default)]
    pub status: SpanStatus,
    /// The error description, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// The span's input: prompt messages, tool arguments, ... (see the `trace` module docs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// The span's output: completion messages, tool result, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// The model that answered (or, failing that, the model requested).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Nanoseconds since the Unix epoch.
    #[serde(default)]
    pub start_time_ns: u64,
    /// Nanoseconds since the Unix epoch; `None` when the span has not ended or the end is unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time_ns: Option<u64>,
    /// Token counts.
    #[serde(default, skip_serializing_if = "TokenUsage::is_empty")]
    pub usage: TokenUsage,
    /// The cost in US dollars, when the source recorded one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// Every attribute of the span, including those mapped into the fields above.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
}

impl Span {
    /// The value of the first attribute named `key`.
    pub fn attribute(&self, key: &str) -> Option<&AttributeValue> {
        find_attribute(&self.attributes, key)
    }
}

/// One trace: a tree of spans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Trace {
    /// The trace id (32 lowercase hex digits when imported from OpenTelemetry).
    pub id: String,
    /// The trace's input (the root span's input when imported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// The trace's output (the root span's output when imported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// Attributes of the whole trace (OpenTelemetry resource attributes when imported).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    /// The spans, ordered by start time when imported.
    #[serde(default)]
    pub spans: Vec<Span>,
}

impl Trace {
    /// The span with this id.
    pub fn span(&self, id: &str) -> Option<&Span> {
        self.spans.iter().find(|span| span.id == id)
    }

    /// The root span: the first span without a parent or, when the trace is partial, the first
    /// span whose parent is not in the trace.
    pub fn root(&self) -> Option<&Span> {
        self.spans
            .iter()
            .find(|span| span.parent_id.is_none())
            .or_else(|| {
                let ids: std::collections::HashSet<&str> =
                    self.spans.iter().map(|span| span.id.as_str()).collect();
                self.spans.iter().find(|span| {
                    span.parent_id
                        .as_deref()
                        .is_some_and(|parent| !ids.contains(parent))
                })
            })
    }

    /// The value of the first trace attribute named `key`.
    pub fn attribute(&self, key: &str) -> Option<&AttributeValue> {
        find_attribute(&self.attributes, key)
    }
}

fn find_attribute<'a>(attributes: &'a [Attribute], key: &str) -> Option<&'a AttributeValue> {
    attributes
        .iter()
        .find(|attribute| attribute.key == key)
        .map(|attribute| &attribute.value)
}
