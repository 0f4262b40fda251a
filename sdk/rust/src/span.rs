//! The fixed-size facts of a span: [`SpanKind`], [`SpanStatus`], [`TokenUsage`],
//! [`SpanInfo`].

use std::fmt;

use crate::bindings::wit;

/// What a span represents in an LLM application.
///
/// ```
/// use flowtrace_plugin_sdk::SpanKind;
///
/// assert_eq!(SpanKind::LlmCall.as_str(), "llm-call");
/// assert_eq!(SpanKind::ToolCall.to_string(), "tool-call");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpanKind {
    /// A call to a language model (chat, completion).
    LlmCall,
    /// A tool (function) call.
    ToolCall,
    /// A retrieval from a document store.
    Retrieval,
    /// A step of an agent (a run, a task, a chain).
    AgentStep,
    /// A call to an embedding model.
    Embedding,
    /// Anything else.
    Custom,
}

impl SpanKind {
    /// Every kind, in contract order.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::SpanKind;
    /// assert_eq!(SpanKind::ALL.len(), 6);
    /// ```
    pub const ALL: [SpanKind; 6] = [
        Self::LlmCall,
        Self::ToolCall,
        Self::Retrieval,
        Self::AgentStep,
        Self::Embedding,
        Self::Custom,
    ];

    /// The contract's name for the kind, e.g. `llm-call`.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::SpanKind;
    /// assert_eq!(SpanKind::AgentStep.as_str(), "agent-step");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LlmCall => "llm-call",
            Self::ToolCall => "tool-call",
            Self::Retrieval => "retrieval",
            Self::AgentStep => "agent-step",
            Self::Embedding => "embedding",
            Self::Custom => "custom",
        }
    }

    pub(crate) fn from_wit(k: wit::SpanKind) -> Self {
        match k {
            wit::SpanKind::LlmCall => Self::LlmCall,
            wit::SpanKind::ToolCall => Self::ToolCall,
            wit::SpanKind::Retrieval => Self::Retrieval,
            wit::SpanKind::AgentStep => Self::AgentStep,
            wit::SpanKind::Embedding => Self::Embedding,
            wit::SpanKind::Custom => Self::Custom,
        }
    }

    pub(crate) fn into_wit(self) -> wit::SpanKind {
        match self {
            Self::LlmCall => wit::SpanKind::LlmCall,
            Self::ToolCall => wit::SpanKind::ToolCall,
            Self::Retrieval => wit::SpanKind::Retrieval,
            Self::AgentStep => wit::SpanKind::AgentStep,
            Self::Embedding => wit::SpanKind::Embedding,
            Self::Custom => wit::SpanKind::Custom,
        }
    }
}

impl fmt::Display for SpanKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of a span, as recorded by the instrumentation.
///
/// ```
/// use flowtrace_plugin_sdk::SpanStatus;
///
/// assert_eq!(SpanStatus::Error.as_str(), "error");
/// assert_eq!(SpanStatus::default(), SpanStatus::Unset);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SpanStatus {
    /// Not recorded (most successful spans).
    #[default]
    Unset,
    /// Explicitly successful.
    Ok,
    /// Failed; the span's status message says why.
    Error,
}

impl SpanStatus {
    /// The contract's name for the status.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::SpanStatus;
    /// assert_eq!(SpanStatus::Ok.as_str(), "ok");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unset => "unset",
            Self::Ok => "ok",
            Self::Error => "error",
        }
    }

    pub(crate) fn from_wit(s: wit::SpanStatus) -> Self {
        match s {
            wit::SpanStatus::Unset => Self::Unset,
            wit::SpanStatus::Ok => Self::Ok,
            wit::SpanStatus::Error => Self::Error,
        }
    }

    pub(crate) fn into_wit(self) -> wit::SpanStatus {
        match self {
            Self::Unset => wit::SpanStatus::Unset,
            Self::Ok => wit::SpanStatus::Ok,
            Self::Error => wit::SpanStatus::Error,
        }
    }
}

impl fmt::Display for SpanStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Token counts of an LLM or embedding call, when the instrumentation recorded them.
///
/// ```
/// use flowtrace_plugin_sdk::TokenUsage;
///
/// let usage = TokenUsage { input: Some(120), output: Some(30), total: None };
/// assert_eq!(usage.total_or_sum(), Some(150));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TokenUsage {
    /// Prompt tokens.
    pub input: Option<u64>,
    /// Completion tokens.
    pub output: Option<u64>,
    /// Total as recorded (never computed by the host).
    pub total: Option<u64>,
}

impl TokenUsage {
    /// The recorded total, or input + output when both are known.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::TokenUsage;
    /// let usage = TokenUsage { input: Some(1), output: None, total: None };
    /// assert_eq!(usage.total_or_sum(), None);
    /// ```
    pub fn total_or_sum(&self) -> Option<u64> {
        self.total
            .or_else(|| Some(self.input?.saturating_add(self.output?)))
    }

    pub(crate) fn from_wit(u: wit::TokenUsage) -> Self {
        Self {
            input: u.input,
            output: u.output,
            total: u.total,
        }
    }

    pub(crate) fn into_wit(self) -> wit::TokenUsage {
        wit::TokenUsage {
            input: self.input,
            output: self.output,
            total: self.total,
        }
    }
}

/// The fixed-size facts of a span: no strings, so reading them copies a few bytes.
///
/// Usually read through [`SpanRef`](crate::SpanRef) (`span.kind()`, `span.usage()`, ...);
/// [`Trace::infos`](crate::Trace::infos) gives them all as a slice.
///
/// ```
/// use flowtrace_plugin_sdk::{Evaluator, EvalResult, PluginError, Trace};
///
/// struct TokenBudget;
///
/// impl Evaluator for TokenBudget {
///     fn evaluate(trace: &Trace<'_>) -> Result<EvalResult, PluginError> {
///         let tokens: u64 = trace.infos().iter().filter_map(|i| i.usage.total_or_sum()).sum();
///         Ok(EvalResult::new(if tokens <= 10_000 { 1.0 } else { 0.0 }, tokens <= 10_000)
///             .metric("tokens", tokens))
///     }
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpanInfo {
    /// What the span represents.
    pub kind: SpanKind,
    /// Its outcome.
    pub status: SpanStatus,
    /// Index of the parent span in this trace, if the parent is part of it.
    pub parent: Option<u32>,
    /// Start, nanoseconds since the Unix epoch.
    pub start_time_ns: u64,
    /// End, nanoseconds since the Unix epoch, when recorded.
    pub end_time_ns: Option<u64>,
    /// Token counts.
    pub usage: TokenUsage,
    /// Cost in US dollars, when known.
    pub cost_usd: Option<f64>,
    /// Length in bytes of the input text (0 when absent).
    pub input_len: u32,
    /// Length in bytes of the output text (0 when absent).
    pub output_len: u32,
    /// Number of attributes on the span.
    pub attribute_count: u32,
}

impl SpanInfo {
    /// End minus start, when the end is recorded (0 if the clock went backwards).
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::{SpanInfo, SpanKind, SpanStatus, TokenUsage};
    /// let info = SpanInfo {
    ///     kind: SpanKind::LlmCall, status: SpanStatus::Ok, parent: None,
    ///     start_time_ns: 1_000, end_time_ns: Some(3_500), usage: TokenUsage::default(),
    ///     cost_usd: None, input_len: 0, output_len: 0, attribute_count: 0,
    /// };
    /// assert_eq!(info.duration_ns(), Some(2_500));
    /// ```
    pub fn duration_ns(&self) -> Option<u64> {
        Some(self.end_time_ns?.saturating_sub(self.start_time_ns))
    }

    pub(crate) fn from_wit(i: wit::SpanInfo) -> Self {
        Self {
            kind: SpanKind::from_wit(i.kind),
            status: SpanStatus::from_wit(i.status),
            parent: i.parent,
            start_time_ns: i.start_time_ns,
            end_time_ns: i.end_time_ns,
            usage: TokenUsage::from_wit(i.usage),
            cost_usd: i.cost_usd,
            input_len: i.input_len,
            output_len: i.output_len,
            attribute_count: i.attribute_count,
        }
    }
}
