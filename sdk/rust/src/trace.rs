//! [`Trace`]: a host-owned trace read field by field, and [`SpanRef`], a view of one span.
//!
//! The trace stays in the host; a plugin copies in only what it asks for. Span kinds,
//! statuses, times, token counts and text lengths ([`SpanInfo`]) come in one call for the
//! whole trace, the first time any span is looked at, and are then read from memory; each
//! string (a name, an output, an attribute) is one call that copies that string alone.

use std::cell::OnceCell;
use std::fmt;
use std::ops::Range;

use crate::bindings::wit;
use crate::{
    Attribute, AttributeValue, Message, Span, SpanError, SpanInfo, SpanKind, SpanStatus,
    TokenUsage, ToolCall, TraceData,
};

/// A recorded trace, owned by the host.
///
/// Spans are addressed by index, `0..span_count()`, in start-time order; a parent always
/// has a lower index than its children when both carry start times.
///
/// ```
/// use flowtrace_plugin_sdk::{Evaluator, EvalResult, PluginError, SpanKind, Trace};
///
/// struct SlowTools;
///
/// impl Evaluator for SlowTools {
///     fn evaluate(trace: &Trace<'_>) -> Result<EvalResult, PluginError> {
///         let mut result = EvalResult::pass(1.0);
///         for span in trace.spans_of_kind(SpanKind::ToolCall) {
///             // `duration_ns` reads the cached span facts: no call to the host
///             if span.duration_ns().unwrap_or(0) > 5_000_000_000 {
///                 // `id` and `name` each copy one string
///                 result = result.span_finding(span.id(), format!("`{}` took over 5 s", span.name()));
///             }
///         }
///         Ok(result)
///     }
/// }
/// ```
pub struct Trace<'a> {
    handle: Handle<'a>,
    infos: OnceCell<Vec<SpanInfo>>,
}

enum Handle<'a> {
    Borrowed(&'a wit::Trace),
    #[cfg_attr(not(feature = "traces"), allow(dead_code))]
    Owned(wit::Trace),
}

impl<'a> Trace<'a> {
    pub(crate) fn borrowed(raw: &'a wit::Trace) -> Self {
        Self {
            handle: Handle::Borrowed(raw),
            infos: OnceCell::new(),
        }
    }

    #[cfg(feature = "traces")]
    pub(crate) fn owned(raw: wit::Trace) -> Trace<'static> {
        Trace {
            handle: Handle::Owned(raw),
            infos: OnceCell::new(),
        }
    }

    fn raw(&self) -> &wit::Trace {
        match &self.handle {
            Handle::Borrowed(raw) => raw,
            Handle::Owned(raw) => raw,
        }
    }

    /// The trace id (32 lowercase hex digits for OpenTelemetry traces).
    ///
    /// ```no_run
    /// # fn f(trace: &flowtrace_plugin_sdk::Trace<'_>) {
    /// flowtrace_plugin_sdk::info!("evaluating trace {}", trace.id());
    /// # }
    /// ```
    pub fn id(&self) -> String {
        self.raw().id()
    }

    /// Number of spans.
    ///
    /// ```no_run
    /// # fn f(trace: &flowtrace_plugin_sdk::Trace<'_>) {
    /// if trace.span_count() == 0 { /* nothing to look at */ }
    /// # }
    /// ```
    pub fn span_count(&self) -> u32 {
        match self.infos.get() {
            Some(infos) => infos.len() as u32,
            None => self.raw().span_count(),
        }
    }

    /// Input of the whole run, when recorded.
    ///
    /// ```no_run
    /// # fn f(trace: &flowtrace_plugin_sdk::Trace<'_>) {
    /// let question = trace.input().unwrap_or_default();
    /// # }
    /// ```
    pub fn input(&self) -> Option<String> {
        self.raw().input()
    }

    /// Output of the whole run, when recorded.
    ///
    /// ```no_run
    /// # fn f(trace: &flowtrace_plugin_sdk::Trace<'_>) {
    /// let answered = trace.output().is_some_and(|o| !o.is_empty());
    /// # }
    /// ```
    pub fn output(&self) -> Option<String> {
        self.raw().output()
    }

    /// Trace-level attributes (OpenTelemetry resource attributes).
    ///
    /// ```no_run
    /// # fn f(trace: &flowtrace_plugin_sdk::Trace<'_>) {
    /// for attr in trace.attributes() {
    ///     flowtrace_plugin_sdk::debug!("{} = {:?}", attr.key, attr.value);
    /// }
    /// # }
    /// ```
    pub fn attributes(&self) -> Vec<Attribute> {
        self.raw()
            .attributes()
            .into_iter()
            .map(Attribute::from_wit)
            .collect()
    }

    /// One trace-level attribute by key (copies every trace attribute, then picks one).
    ///
    /// ```no_run
    /// # fn f(trace: &flowtrace_plugin_sdk::Trace<'_>) {
    /// let service = trace.attribute("service.name");
    /// # }
    /// ```
    pub fn attribute(&self, key: &str) -> Option<AttributeValue> {
        self.raw()
            .attributes()
            .into_iter()
            .find(|a| a.key == key)
            .map(|a| AttributeValue::from_wit(a.value))
    }

    /// The fixed-size facts of every span, in index order; fetched from the host in one
    /// call the first time and kept.
    ///
    /// ```no_run
    /// # fn f(trace: &flowtrace_plugin_sdk::Trace<'_>) {
    /// let cost: f64 = trace.infos().iter().filter_map(|i| i.cost_usd).sum();
    /// # }
    /// ```
    pub fn infos(&self) -> &[SpanInfo] {
        self.infos.get_or_init(|| {
            self.raw()
                .span_infos()
                .into_iter()
                .map(SpanInfo::from_wit)
                .collect()
        })
    }

    /// Every span, in index order.
    ///
    /// ```no_run
    /// # use flowtrace_plugin_sdk::SpanStatus;
    /// # fn f(trace: &flowtrace_plugin_sdk::Trace<'_>) {
    /// let errors = trace.spans().filter(|s| s.status() == SpanStatus::Error).count();
    /// # }
    /// ```
    pub fn spans(&self) -> Spans<'_> {
        Spans {
            trace: self,
            range: 0..self.infos().len() as u32,
        }
    }

    /// Span `index`, if in range.
    ///
    /// ```no_run
    /// # fn f(trace: &flowtrace_plugin_sdk::Trace<'_>) {
    /// let first = trace.span(0).map(|s| s.name());
    /// # }
    /// ```
    pub fn span(&self, index: u32) -> Option<SpanRef<'_>> {
        ((index as usize) < self.infos().len()).then_some(SpanRef { trace: self, index })
    }

    /// The spans of one kind, in index order.
    ///
    /// ```no_run
    /// # use flowtrace_plugin_sdk::SpanKind;
    /// # fn f(trace: &flowtrace_plugin_sdk::Trace<'_>) {
    /// let llm_calls = trace.spans_of_kind(SpanKind::LlmCall).count();
    /// # }
    /// ```
    pub fn spans_of_kind(&self, kind: SpanKind) -> impl Iterator<Item = SpanRef<'_>> + '_ {
        self.spans().filter(move |s| s.kind() == kind)
    }

    /// The first span without a parent in this trace (the run's root, usually index 0).
    ///
    /// ```no_run
    /// # fn f(trace: &flowtrace_plugin_sdk::Trace<'_>) {
    /// let run_name = trace.root().map(|root| root.name());
    /// # }
    /// ```
    pub fn root(&self) -> Option<SpanRef<'_>> {
        self.spans().find(|s| s.info().parent.is_none())
    }

    /// The whole trace by value: the most expensive call, it copies every string. What a
    /// transformer starts from.
    ///
    /// ```no_run
    /// # fn f(trace: &flowtrace_plugin_sdk::Trace<'_>) {
    /// let mut data = trace.to_data();
    /// data.spans.retain(|s| s.kind != flowtrace_plugin_sdk::SpanKind::Custom);
    /// # }
    /// ```
    pub fn to_data(&self) -> TraceData {
        TraceData::from_wit(self.raw().to_data())
    }
}

impl fmt::Debug for Trace<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Trace")
            .field("handle", &self.raw().handle())
            .finish_non_exhaustive()
    }
}

/// The spans of a [`Trace`], in index order; from [`Trace::spans`].
///
/// ```no_run
/// # fn f(trace: &flowtrace_plugin_sdk::Trace<'_>) {
/// let spans = trace.spans();
/// assert_eq!(spans.len() as u32, trace.span_count());
/// # }
/// ```
#[derive(Clone)]
pub struct Spans<'t> {
    trace: &'t Trace<'t>,
    range: Range<u32>,
}

impl<'t> Iterator for Spans<'t> {
    type Item = SpanRef<'t>;

    fn next(&mut self) -> Option<SpanRef<'t>> {
        let index = self.range.next()?;
        Some(SpanRef {
            trace: self.trace,
            index,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.range.size_hint()
    }
}

impl DoubleEndedIterator for Spans<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let index = self.range.next_back()?;
        Some(SpanRef {
            trace: self.trace,
            index,
        })
    }
}

impl ExactSizeIterator for Spans<'_> {}

impl fmt::Debug for Spans<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spans").field("range", &self.range).finish()
    }
}

/// A view of one span of a [`Trace`]: an index, nothing copied yet.
///
/// Methods returning numbers and enums (`kind`, `status`, `usage`, `output_len`, ...) read
/// the trace's cached [`SpanInfo`] and never call the host. Methods returning strings
/// (`id`, `name`, `output`, `attribute`, ...) copy that one string from the host.
///
/// ```no_run
/// use flowtrace_plugin_sdk::{SpanKind, Trace};
///
/// fn empty_llm_outputs(trace: &Trace<'_>) -> Vec<String> {
///     trace
///         .spans_of_kind(SpanKind::LlmCall)
///         .filter(|span| span.output_len() == 0) // no string copied
///         .map(|span| span.id()) // one string copied per flagged span
///         .collect()
/// }
/// ```
#[derive(Clone, Copy)]
pub struct SpanRef<'t> {
    trace: &'t Trace<'t>,
    index: u32,
}

impl<'t> SpanRef<'t> {
    /// The span's index in its trace.
    ///
    /// ```no_run
    /// # fn f(trace: &flowtrace_plugin_sdk::Trace<'_>) {
    /// assert!(trace.spans().enumerate().all(|(i, s)| s.index() as usize == i));
    /// # }
    /// ```
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The trace the span belongs to.
    ///
    /// ```no_run
    /// # fn f(span: flowtrace_plugin_sdk::SpanRef<'_>) {
    /// let trace_id = span.trace().id();
    /// # }
    /// ```
    pub fn trace(&self) -> &'t Trace<'t> {
        self.trace
    }

    /// Every fixed-size fact of the span.
    ///
    /// ```no_run
    /// # fn f(span: flowtrace_plugin_sdk::SpanRef<'_>) {
    /// let info = span.info();
    /// let tokens = info.usage.total_or_sum();
    /// # }
    /// ```
    pub fn info(&self) -> &'t SpanInfo {
        &self.trace.infos()[self.index as usize]
    }

    /// What the span represents.
    ///
    /// ```no_run
    /// # use flowtrace_plugin_sdk::SpanKind;
    /// # fn f(span: flowtrace_plugin_sdk::SpanRef<'_>) {
    /// let is_llm = span.kind() == SpanKind::LlmCall;
    /// # }
    /// ```
    pub fn kind(&self) -> SpanKind {
        self.info().kind
    }

    /// The span's outcome.
    ///
    /// ```no_run
    /// # use flowtrace_plugin_sdk::SpanStatus;
    /// # fn f(span: flowtrace_plugin_sdk::SpanRef<'_>) {
    /// let failed = span.status() == SpanStatus::Error;
    /// # }
    /// ```
    pub fn status(&self) -> SpanStatus {
        self.info().status
    }

    /// The parent span, if it is part of this trace.
    ///
    /// ```no_run
    /// # fn f(span: flowtrace_plugin_sdk::SpanRef<'_>) {
    /// let depth = std::iter::successors(span.parent(), |p| p.parent()).count();
    /// # }
    /// ```
    pub fn parent(&self) -> Option<SpanRef<'t>> {
        let index = self.info().parent?;
        self.trace.span(index)
    }

    /// The spans whose parent is this one, in index order.
    ///
    /// ```no_run
    /// # fn f(span: flowtrace_plugin_sdk::SpanRef<'_>) {
    /// let leaf = span.children().next().is_none();
    /// # }
    /// ```
    pub fn children(&self) -> impl Iterator<Item = SpanRef<'t>> + 't {
        let index = self.index;
        self.trace
            .spans()
            .filter(move |s| s.info().parent == Some(index))
    }

    /// End minus start, nanoseconds, when the end is recorded.
    ///
    /// ```no_run
    /// # fn f(span: flowtrace_plugin_sdk::SpanRef<'_>) {
    /// let ms = span.duration_ns().map(|ns| ns / 1_000_000);
    /// # }
    /// ```
    pub fn duration_ns(&self) -> Option<u64> {
        self.info().duration_ns()
    }

    /// Token counts.
    ///
    /// ```no_run
    /// # fn f(span: flowtrace_plugin_sdk::SpanRef<'_>) {
    /// let prompt_tokens = span.usage().input.unwrap_or(0);
    /// # }
    /// ```
    pub fn usage(&self) -> TokenUsage {
        self.info().usage
    }

    /// Cost in US dollars, when known.
    ///
    /// ```no_run
    /// # fn f(span: flowtrace_plugin_sdk::SpanRef<'_>) {
    /// let expensive = span.cost_usd().is_some_and(|c| c > 0.10);
    /// # }
    /// ```
    pub fn cost_usd(&self) -> Option<f64> {
        self.info().cost_usd
    }

    /// Length in bytes of the input text, without copying it (0 when absent).
    ///
    /// ```no_run
    /// # fn f(span: flowtrace_plugin_sdk::SpanRef<'_>) {
    /// let huge_prompt = span.input_len() > 100_000;
    /// # }
    /// ```
    pub fn input_len(&self) -> u32 {
        self.info().input_len
    }

    /// Length in bytes of the output text, without copying it (0 when absent or empty).
    ///
    /// ```no_run
    /// # fn f(span: flowtrace_plugin_sdk::SpanRef<'_>) {
    /// let maybe_empty = span.output_len() == 0;
    /// # }
    /// ```
    pub fn output_len(&self) -> u32 {
        self.info().output_len
    }

    /// The span id (copies one string).
    ///
    /// ```no_run
    /// # use flowtrace_plugin_sdk::EvalResult;
    /// # fn f(span: flowtrace_plugin_sdk::SpanRef<'_>) {
    /// let result = EvalResult::fail(0.0).span_finding(span.id(), "tool call failed");
    /// # }
    /// ```
    pub fn id(&self) -> String {
        self.trace.raw().span_id(self.index).unwrap_or_default()
    }

    /// The span name, e.g. `chat gpt-4o` (copies one string).
    ///
    /// ```no_run
    /// # fn f(span: flowtrace_plugin_sdk::SpanRef<'_>) {
    /// let is_weather = span.name().contains("get_weather");
    /// # }
    /// ```
    pub fn name(&self) -> String {
        self.trace.raw().span_name(self.index).unwrap_or_default()
    }

    /// The model of an LLM or embedding call (copies one string).
    ///
    /// ```no_run
    /// # fn f(span: flowtrace_plugin_sdk::SpanRef<'_>) {
    /// let model = span.model().unwrap_or_else(|| "unknown".into());
    /// # }
    /// ```
    pub fn model(&self) -> Option<String> {
        self.trace.raw().span_model(self.index)
    }

    /// The input text (copies it). For LLM calls, GenAI "parts" message JSON.
    ///
    /// ```no_run
    /// # fn f(span: flowtrace_plugin_sdk::SpanRef<'_>) {
    /// let mentions_secret = span.input().is_some_and(|i| i.contains("password"));
    /// # }
    /// ```
    pub fn input(&self) -> Option<String> {
        self.trace.raw().span_input(self.index)
    }

    /// The output text (copies it); `None` when the instrumentation did not record it,
    /// `Some("")` when it recorded an empty output.
    ///
    /// ```no_run
    /// # fn f(span: flowtrace_plugin_sdk::SpanRef<'_>) {
    /// let chars = span.output().map_or(0, |o| o.chars().count());
    /// # }
    /// ```
    pub fn output(&self) -> Option<String> {
        self.trace.raw().span_output(self.index)
    }

    /// Why the span failed, for an error status (copies one string).
    ///
    /// ```no_run
    /// # fn f(span: flowtrace_plugin_sdk::SpanRef<'_>) {
    /// let why = span.status_message().unwrap_or_else(|| "no message".into());
    /// # }
    /// ```
    pub fn status_message(&self) -> Option<String> {
        self.trace.raw().span_status_message(self.index)
    }

    /// One attribute by key (copies that value alone).
    ///
    /// ```no_run
    /// # fn f(span: flowtrace_plugin_sdk::SpanRef<'_>) {
    /// let truncated = span
    ///     .attribute("gen_ai.response.finish_reasons")
    ///     .and_then(|v| v.to_string_list())
    ///     .is_some_and(|reasons| reasons.iter().any(|r| r == "length"));
    /// # }
    /// ```
    pub fn attribute(&self, key: &str) -> Option<AttributeValue> {
        self.trace
            .raw()
            .span_attribute(self.index, key)
            .map(AttributeValue::from_wit)
    }

    /// Every attribute of the span.
    ///
    /// ```no_run
    /// # fn f(span: flowtrace_plugin_sdk::SpanRef<'_>) {
    /// let gen_ai = span.attributes().iter().filter(|a| a.key.starts_with("gen_ai.")).count();
    /// # }
    /// ```
    pub fn attributes(&self) -> Vec<Attribute> {
        self.trace
            .raw()
            .span_attributes(self.index)
            .into_iter()
            .map(Attribute::from_wit)
            .collect()
    }

    /// Why the model stopped generating, one entry per choice (`stop`, `length`,
    /// `tool_calls`, ...), as recorded; empty when not recorded. The host reads it from
    /// whichever convention recorded the span (OpenTelemetry GenAI, Traceloop, OpenInference's
    /// `llm.finish_reason`, the Vercel AI SDK's `ai.response.finishReason`).
    ///
    /// ```no_run
    /// # fn f(span: flowtrace_plugin_sdk::SpanRef<'_>) {
    /// let cut_off = span.finish_reasons().iter().any(|r| r == "length");
    /// # }
    /// ```
    pub fn finish_reasons(&self) -> Vec<String> {
        self.trace.raw().span_finish_reasons(self.index)
    }

    /// The messages the LLM call was sent, in order (copies them); empty when not recorded.
    ///
    /// ```no_run
    /// # fn f(span: flowtrace_plugin_sdk::SpanRef<'_>) {
    /// let question = span.input_messages().into_iter().rev().find(|m| m.role == "user");
    /// # }
    /// ```
    pub fn input_messages(&self) -> Vec<Message> {
        self.messages(wit::MessageDirection::Input)
    }

    /// The messages the model answered, in order (copies them); empty when not recorded.
    ///
    /// ```no_run
    /// # fn f(span: flowtrace_plugin_sdk::SpanRef<'_>) {
    /// let asked_for_tools = span.output_messages().iter().any(|m| !m.tool_calls.is_empty());
    /// # }
    /// ```
    pub fn output_messages(&self) -> Vec<Message> {
        self.messages(wit::MessageDirection::Output)
    }

    fn messages(&self, direction: wit::MessageDirection) -> Vec<Message> {
        self.trace
            .raw()
            .span_messages(self.index, direction)
            .into_iter()
            .map(Message::from_wit)
            .collect()
    }

    /// The tool a tool span executed: name, call id, arguments and result. A tool-call span
    /// always has one (its name may be empty); another span only when it names a tool.
    ///
    /// ```no_run
    /// # fn f(span: flowtrace_plugin_sdk::SpanRef<'_>) {
    /// if let Some(call) = span.tool_call() {
    ///     flowtrace_plugin_sdk::debug!("{} returned {:?}", call.name, call.result);
    /// }
    /// # }
    /// ```
    pub fn tool_call(&self) -> Option<ToolCall> {
        self.trace
            .raw()
            .span_tool_call(self.index)
            .map(ToolCall::from_wit)
    }

    /// What went wrong, for a span with an error status or an `error.type`.
    ///
    /// ```no_run
    /// # fn f(span: flowtrace_plugin_sdk::SpanRef<'_>) {
    /// let timed_out = span.error().and_then(|e| e.error_type).is_some_and(|t| t == "timeout");
    /// # }
    /// ```
    pub fn error(&self) -> Option<SpanError> {
        self.trace
            .raw()
            .span_error(self.index)
            .map(SpanError::from_wit)
    }

    /// The whole span, every string copied.
    ///
    /// ```no_run
    /// # fn f(span: flowtrace_plugin_sdk::SpanRef<'_>) {
    /// let owned = span.to_span();
    /// # }
    /// ```
    pub fn to_span(&self) -> Span {
        let raw = self.trace.raw().span(self.index);
        raw.map(Span::from_wit)
            .unwrap_or_else(|| Span::new("", "", self.kind()))
    }
}

impl fmt::Debug for SpanRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpanRef")
            .field("index", &self.index)
            .field("info", self.info())
            .finish()
    }
}
