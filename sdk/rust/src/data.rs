//! Traces by value: [`TraceData`] and [`Span`], what a transformer returns.

use crate::bindings::wit;
use crate::{Attribute, AttributeValue, SpanKind, SpanStatus, TokenUsage};

/// A whole span, every string included.
///
/// Read one with [`SpanRef::to_span`](crate::SpanRef::to_span); build one with
/// [`Span::new`] and the public fields.
///
/// ```
/// use flowtrace_plugin_sdk::{Span, SpanKind};
///
/// let mut span = Span::new("a1b2", "chat gpt-4o", SpanKind::LlmCall);
/// span.output = Some("hello".into());
/// span.set_attribute("flowtrace.redacted", true);
/// assert_eq!(span.attribute("flowtrace.redacted").and_then(|v| v.as_bool()), Some(true));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    /// The span id (16 lowercase hex digits for OpenTelemetry spans).
    pub id: String,
    /// The parent's id; `None` for a root span.
    pub parent_id: Option<String>,
    /// The span name, e.g. `chat gpt-4o`.
    pub name: String,
    /// What the span represents.
    pub kind: SpanKind,
    /// Its outcome.
    pub status: SpanStatus,
    /// Why it failed, for an error status.
    pub status_message: Option<String>,
    /// The input text (for LLM calls, GenAI "parts" message JSON).
    pub input: Option<String>,
    /// The output text.
    pub output: Option<String>,
    /// The model, for LLM and embedding calls.
    pub model: Option<String>,
    /// Start, nanoseconds since the Unix epoch.
    pub start_time_ns: u64,
    /// End, nanoseconds since the Unix epoch.
    pub end_time_ns: Option<u64>,
    /// Token counts.
    pub usage: TokenUsage,
    /// Cost in US dollars.
    pub cost_usd: Option<f64>,
    /// Every attribute.
    pub attributes: Vec<Attribute>,
}

impl Span {
    /// A span with an id, a name and a kind; every other field empty.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::{Span, SpanKind, SpanStatus};
    /// let span = Span::new("01", "get_weather", SpanKind::ToolCall);
    /// assert_eq!(span.status, SpanStatus::Unset);
    /// ```
    pub fn new(id: impl Into<String>, name: impl Into<String>, kind: SpanKind) -> Self {
        Self {
            id: id.into(),
            parent_id: None,
            name: name.into(),
            kind,
            status: SpanStatus::Unset,
            status_message: None,
            input: None,
            output: None,
            model: None,
            start_time_ns: 0,
            end_time_ns: None,
            usage: TokenUsage::default(),
            cost_usd: None,
            attributes: Vec::new(),
        }
    }

    /// The value of attribute `key`.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::{Attribute, Span, SpanKind};
    /// let mut span = Span::new("01", "chat", SpanKind::LlmCall);
    /// span.attributes.push(Attribute::new("gen_ai.system", "openai"));
    /// assert_eq!(span.attribute("gen_ai.system").and_then(|v| v.as_str()), Some("openai"));
    /// ```
    pub fn attribute(&self, key: &str) -> Option<&AttributeValue> {
        find(&self.attributes, key)
    }

    /// Set attribute `key`, replacing any value it had.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::{Span, SpanKind};
    /// let mut span = Span::new("01", "chat", SpanKind::LlmCall);
    /// span.set_attribute("n", 1);
    /// span.set_attribute("n", 2);
    /// assert_eq!(span.attributes.len(), 1);
    /// ```
    pub fn set_attribute(&mut self, key: &str, value: impl Into<AttributeValue>) {
        set(&mut self.attributes, key, value.into());
    }

    pub(crate) fn from_wit(s: wit::Span) -> Self {
        Self {
            id: s.id,
            parent_id: s.parent_id,
            name: s.name,
            kind: SpanKind::from_wit(s.kind),
            status: SpanStatus::from_wit(s.status),
            status_message: s.status_message,
            input: s.input,
            output: s.output,
            model: s.model,
            start_time_ns: s.start_time_ns,
            end_time_ns: s.end_time_ns,
            usage: TokenUsage::from_wit(s.usage),
            cost_usd: s.cost_usd,
            attributes: s.attributes.into_iter().map(Attribute::from_wit).collect(),
        }
    }

    pub(crate) fn into_wit(self) -> wit::Span {
        wit::Span {
            id: self.id,
            parent_id: self.parent_id,
            name: self.name,
            kind: self.kind.into_wit(),
            status: self.status.into_wit(),
            status_message: self.status_message,
            input: self.input,
            output: self.output,
            model: self.model,
            start_time_ns: self.start_time_ns,
            end_time_ns: self.end_time_ns,
            usage: self.usage.into_wit(),
            cost_usd: self.cost_usd,
            attributes: self
                .attributes
                .into_iter()
                .map(Attribute::into_wit)
                .collect(),
        }
    }
}

/// A whole trace by value: what [`Trace::to_data`](crate::Trace::to_data) copies out and
/// what a [`Transformer`](crate::Transformer) returns.
///
/// ```
/// use flowtrace_plugin_sdk::{Span, SpanKind, TraceData};
///
/// let trace = TraceData {
///     id: "4bf92f3577b34da6a3ce929d0e0e4736".into(),
///     spans: vec![Span::new("00f067aa0ba902b7", "agent run", SpanKind::AgentStep)],
///     ..TraceData::default()
/// };
/// assert_eq!(trace.spans.len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TraceData {
    /// The trace id.
    pub id: String,
    /// Input of the whole run.
    pub input: Option<String>,
    /// Output of the whole run.
    pub output: Option<String>,
    /// Trace-level attributes.
    pub attributes: Vec<Attribute>,
    /// Every span.
    pub spans: Vec<Span>,
}

impl TraceData {
    /// The value of trace attribute `key`.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::{Attribute, TraceData};
    /// let mut trace = TraceData::default();
    /// trace.attributes.push(Attribute::new("service.name", "agent"));
    /// assert!(trace.attribute("service.name").is_some());
    /// ```
    pub fn attribute(&self, key: &str) -> Option<&AttributeValue> {
        find(&self.attributes, key)
    }

    /// Set trace attribute `key`, replacing any value it had.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::TraceData;
    /// let mut trace = TraceData::default();
    /// trace.set_attribute("flowtrace.sampled", true);
    /// ```
    pub fn set_attribute(&mut self, key: &str, value: impl Into<AttributeValue>) {
        set(&mut self.attributes, key, value.into());
    }

    pub(crate) fn from_wit(t: wit::TraceData) -> Self {
        Self {
            id: t.id,
            input: t.input,
            output: t.output,
            attributes: t.attributes.into_iter().map(Attribute::from_wit).collect(),
            spans: t.spans.into_iter().map(Span::from_wit).collect(),
        }
    }

    pub(crate) fn into_wit(self) -> wit::TraceData {
        wit::TraceData {
            id: self.id,
            input: self.input,
            output: self.output,
            attributes: self
                .attributes
                .into_iter()
                .map(Attribute::into_wit)
                .collect(),
            spans: self.spans.into_iter().map(Span::into_wit).collect(),
        }
    }
}

fn find<'a>(attributes: &'a [Attribute], key: &str) -> Option<&'a AttributeValue> {
    attributes.iter().find(|a| a.key == key).map(|a| &a.value)
}

fn set(attributes: &mut Vec<Attribute>, key: &str, value: AttributeValue) {
    match attributes.iter_mut().find(|a| a.key == key) {
        Some(a) => a.value = value,
        None => attributes.push(Attribute::new(key, value)),
    }
}
