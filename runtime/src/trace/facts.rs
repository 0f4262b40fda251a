//! Span facts: what a span says about an LLM application (finish reasons, messages, the tool
//! it ran, its error), the same whatever instrumentation recorded it.
//!
//! Facts are read from a span's attributes (and its `otel.events`) on demand, by the rules of
//! [`super::genai`]; the attributes themselves are never changed. `docs/trace-model.md` lists
//! every fact and the attributes that feed it, convention by convention.

use super::genai;
use super::model::Span;

/// One tool call: one a model asked for (in a [`Message`]), or one a tool span executed
/// ([`Span::tool_call`]).
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

/// One message sent to or received from a model.
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

/// Which messages of an LLM call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageDirection {
    /// What the model was sent (the prompt).
    Input,
    /// What the model answered (the completion).
    Output,
}

/// What went wrong in a span.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SpanError {
    /// The error's type or class (`error.type`, `exception.type`), when recorded.
    pub error_type: Option<String>,
    /// What happened (the status message, or `exception.message`), when recorded.
    pub message: Option<String>,
}

impl Span {
    /// Why the model stopped generating, one entry per choice (`stop`, `length`,
    /// `tool_calls`, ...), as recorded; empty when not recorded.
    pub fn finish_reasons(&self) -> Vec<String> {
        genai::facts::finish_reasons(&self.attributes)
    }

    /// The messages the call was sent or answered, in order; empty when not recorded (some
    /// instrumentations put content in logs, not in the trace).
    pub fn messages(&self, direction: MessageDirection) -> Vec<Message> {
        genai::facts::messages(&self.attributes, direction)
    }

    /// The messages the call was sent.
    pub fn input_messages(&self) -> Vec<Message> {
        self.messages(MessageDirection::Input)
    }

    /// The messages the model answered.
    pub fn output_messages(&self) -> Vec<Message> {
        self.messages(MessageDirection::Output)
    }

    /// The tool a tool span executed: a tool-call span always has one (its name may be
    /// empty); another span only when its attributes name a tool.
    pub fn tool_call(&self) -> Option<ToolCall> {
        genai::facts::tool_call(self)
    }

    /// What went wrong: `Some` for a span with an error status or an `error.type`.
    pub fn error(&self) -> Option<SpanError> {
        genai::facts::error(self)
    }
}
