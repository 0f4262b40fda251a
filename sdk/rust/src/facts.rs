//! The normalized facts of a span that are not fixed-size: [`Message`], [`ToolCall`],
//! [`SpanError`]. The host reads them from whichever GenAI convention recorded the span
//! (OpenTelemetry GenAI, Traceloop/OpenLLMetry, OpenInference, the Vercel AI SDK), so a
//! plugin reads one shape; `docs/trace-model.md` lists the attributes behind each.

use crate::bindings::wit;

/// One tool call: one a model asked for (in a [`Message`]), or one a tool span executed
/// ([`SpanRef::tool_call`](crate::SpanRef::tool_call)).
///
/// ```
/// use flowtrace_plugin_sdk::ToolCall;
///
/// let call = ToolCall { name: "get_weather".into(), ..ToolCall::default() };
/// assert!(call.result.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ToolCall {
    /// The id that ties a model's request to its execution and its result.
    pub id: Option<String>,
    /// The tool's (function's) name; empty when the source recorded none.
    pub name: String,
    /// The arguments as recorded, usually JSON text.
    pub arguments: Option<String>,
    /// What the tool returned, for an executed tool; `None` in a message.
    pub result: Option<String>,
}

impl ToolCall {
    pub(crate) fn from_wit(c: wit::ToolCall) -> Self {
        Self {
            id: c.id,
            name: c.name,
            arguments: c.arguments,
            result: c.result,
        }
    }
}

/// One message sent to or received from a model.
///
/// ```
/// use flowtrace_plugin_sdk::Message;
///
/// let message = Message { role: "assistant".into(), finish_reason: Some("length".into()),
///     ..Message::default() };
/// assert!(message.was_cut_off());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    /// `system`, `user`, `assistant`, `tool`, ... as recorded; empty when not recorded.
    pub role: String,
    /// The text of the message (its text parts joined by newlines), when it has text.
    pub content: Option<String>,
    /// The tool calls the message asks for.
    pub tool_calls: Vec<ToolCall>,
    /// For a tool result: the id of the call it answers.
    pub tool_call_id: Option<String>,
    /// Why the model stopped, on an output message that records it.
    pub finish_reason: Option<String>,
}

impl Message {
    /// The model stopped at the token limit (finish reason `length`).
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::Message;
    /// assert!(!Message::default().was_cut_off());
    /// ```
    pub fn was_cut_off(&self) -> bool {
        self.finish_reason.as_deref() == Some("length")
    }

    pub(crate) fn from_wit(m: wit::Message) -> Self {
        Self {
            role: m.role,
            content: m.content,
            tool_calls: m.tool_calls.into_iter().map(ToolCall::from_wit).collect(),
            tool_call_id: m.tool_call_id,
            finish_reason: m.finish_reason,
        }
    }
}

/// What went wrong in a span: from its status, `error.type` and exception events.
///
/// ```
/// use flowtrace_plugin_sdk::SpanError;
///
/// let error = SpanError { error_type: Some("TimeoutError".into()), message: None };
/// assert_eq!(error.error_type.as_deref(), Some("TimeoutError"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SpanError {
    /// The error's type or class (`error.type`, `exception.type`), when recorded.
    pub error_type: Option<String>,
    /// What happened (the status message, or `exception.message`), when recorded.
    pub message: Option<String>,
}

impl SpanError {
    pub(crate) fn from_wit(e: wit::SpanError) -> Self {
        Self {
            error_type: e.error_type,
            message: e.message,
        }
    }
}
