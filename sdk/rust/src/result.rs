//! What an evaluator returns: [`EvalResult`], built with chained calls.

use crate::bindings::wit;

/// A named measurement's value.
///
/// Anything numeric, boolean or textual converts into one, so
/// [`EvalResult::metric`] takes plain values.
///
/// ```
/// use flowtrace_plugin_sdk::MetricValue;
///
/// assert_eq!(MetricValue::from(3_usize), MetricValue::Integer(3));
/// assert_eq!(MetricValue::from(0.25), MetricValue::Float(0.25));
/// assert_eq!(MetricValue::from("gpt-4o"), MetricValue::Text("gpt-4o".into()));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum MetricValue {
    /// A float.
    Float(f64),
    /// An integer.
    Integer(i64),
    /// A boolean.
    Boolean(bool),
    /// A text.
    Text(String),
}

impl MetricValue {
    fn into_wit(self) -> wit::MetricValue {
        match self {
            Self::Float(f) => wit::MetricValue::Float(f),
            Self::Integer(i) => wit::MetricValue::Integer(i),
            Self::Boolean(b) => wit::MetricValue::Boolean(b),
            Self::Text(s) => wit::MetricValue::Text(s),
        }
    }
}

macro_rules! metric_from {
    ($variant:ident: $($ty:ty => $conv:expr),* $(,)?) => {$(
        impl From<$ty> for MetricValue {
            fn from(v: $ty) -> Self {
                #[allow(clippy::redundant_closure_call)]
                Self::$variant(($conv)(v))
            }
        }
    )*};
}

metric_from!(Float: f64 => |v| v, f32 => f64::from);
metric_from!(Integer:
    i64 => |v| v,
    i32 => i64::from,
    u32 => i64::from,
    u64 => |v: u64| i64::try_from(v).unwrap_or(i64::MAX),
    usize => |v: usize| i64::try_from(v).unwrap_or(i64::MAX),
);
metric_from!(Boolean: bool => |v| v);
metric_from!(Text: String => |v| v, &str => str::to_string);

/// A named measurement attached to a result.
///
/// ```
/// use flowtrace_plugin_sdk::{Metric, MetricValue};
///
/// let m = Metric::new("flagged", 2_u32);
/// assert_eq!(m.value, MetricValue::Integer(2));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// The name, kebab-case by convention, e.g. `llm-spans`.
    pub name: String,
    /// The value.
    pub value: MetricValue,
}

impl Metric {
    /// A metric from a name and any value that converts into a [`MetricValue`].
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::Metric;
    /// let m = Metric::new("latency-ms", 812.5);
    /// ```
    pub fn new(name: impl Into<String>, value: impl Into<MetricValue>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// Something an evaluator noticed, optionally about one span.
///
/// ```
/// use flowtrace_plugin_sdk::Finding;
///
/// let f = Finding::on_span("5f8a0c2b9d1e3f47", "output cut off by the token limit");
/// assert_eq!(f.span_id.as_deref(), Some("5f8a0c2b9d1e3f47"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The span the finding is about.
    pub span_id: Option<String>,
    /// What was found.
    pub message: String,
}

impl Finding {
    /// A finding about the whole trace.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::Finding;
    /// let f = Finding::new("the run produced no final answer");
    /// assert!(f.span_id.is_none());
    /// ```
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            span_id: None,
            message: message.into(),
        }
    }

    /// A finding about span `span_id`.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::Finding;
    /// let f = Finding::on_span("00f067aa0ba902b7", "tool call failed");
    /// ```
    pub fn on_span(span_id: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            span_id: Some(span_id.into()),
            message: message.into(),
        }
    }
}

/// The verdict of an evaluator on one trace.
///
/// Start from [`EvalResult::pass`], [`EvalResult::fail`] or [`EvalResult::new`], then
/// chain [`label`](Self::label), [`explanation`](Self::explanation),
/// [`metric`](Self::metric) and [`finding`](Self::finding) /
/// [`span_finding`](Self::span_finding). The fields are public too.
///
/// The score must lie in `0.0..=1.0`: the host rejects anything else (NaN included).
///
/// ```
/// use flowtrace_plugin_sdk::{EvalResult, MetricValue};
///
/// let result = EvalResult::fail(0.5)
///     .label("truncated")
///     .explanation("1 of 2 LLM calls was cut off by the token limit")
///     .metric("llm-spans", 2)
///     .span_finding("5f8a0c2b9d1e3f47", "finish reason `length`");
/// assert!(!result.passed);
/// assert_eq!(result.label.as_deref(), Some("truncated"));
/// assert_eq!(result.metrics[0].value, MetricValue::Integer(2));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct EvalResult {
    /// Between 0.0 and 1.0.
    pub score: f64,
    /// Whether the trace passed.
    pub passed: bool,
    /// A short label, e.g. `ok` or `truncated`.
    pub label: Option<String>,
    /// A sentence or two on why.
    pub explanation: Option<String>,
    /// Named measurements.
    pub metrics: Vec<Metric>,
    /// What was noticed, per span or for the whole trace.
    pub findings: Vec<Finding>,
}

impl EvalResult {
    /// A result with a score and a verdict, nothing else yet.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::EvalResult;
    /// let score = 0.8;
    /// let result = EvalResult::new(score, score >= 0.7);
    /// assert!(result.passed);
    /// ```
    pub fn new(score: f64, passed: bool) -> Self {
        Self {
            score,
            passed,
            label: None,
            explanation: None,
            metrics: Vec::new(),
            findings: Vec::new(),
        }
    }

    /// A passing result.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::EvalResult;
    /// assert!(EvalResult::pass(1.0).passed);
    /// ```
    pub fn pass(score: f64) -> Self {
        Self::new(score, true)
    }

    /// A failing result.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::EvalResult;
    /// assert!(!EvalResult::fail(0.2).passed);
    /// ```
    pub fn fail(score: f64) -> Self {
        Self::new(score, false)
    }

    /// Set the label.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::EvalResult;
    /// let result = EvalResult::pass(1.0).label("ok");
    /// ```
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Set the explanation.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::EvalResult;
    /// let result = EvalResult::pass(1.0).explanation("every tool call succeeded");
    /// ```
    pub fn explanation(mut self, explanation: impl Into<String>) -> Self {
        self.explanation = Some(explanation.into());
        self
    }

    /// Add a metric, or replace the value of the metric of that name (where it stands), as
    /// the Python and TypeScript SDKs do.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::EvalResult;
    /// let result = EvalResult::pass(1.0).metric("tool-calls", 3).metric("cost-usd", 0.0042);
    /// assert_eq!(result.metrics.len(), 2);
    /// let result = result.metric("tool-calls", 4);
    /// assert_eq!(result.metrics.len(), 2);
    /// ```
    pub fn metric(mut self, name: impl Into<String>, value: impl Into<MetricValue>) -> Self {
        let metric = Metric::new(name, value);
        match self.metrics.iter_mut().find(|m| m.name == metric.name) {
            Some(existing) => existing.value = metric.value,
            None => self.metrics.push(metric),
        }
        self
    }

    /// Add a finding about the whole trace.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::EvalResult;
    /// let result = EvalResult::fail(0.0).finding("the run has no final output");
    /// assert!(result.findings[0].span_id.is_none());
    /// ```
    pub fn finding(mut self, message: impl Into<String>) -> Self {
        self.findings.push(Finding::new(message));
        self
    }

    /// Add a finding about one span.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::EvalResult;
    /// let result = EvalResult::fail(0.5).span_finding("00f067aa0ba902b7", "empty output");
    /// assert_eq!(result.findings[0].span_id.as_deref(), Some("00f067aa0ba902b7"));
    /// ```
    pub fn span_finding(mut self, span_id: impl Into<String>, message: impl Into<String>) -> Self {
        self.findings.push(Finding::on_span(span_id, message));
        self
    }

    pub(crate) fn into_wit(self) -> wit::EvalResult {
        wit::EvalResult {
            score: self.score,
            passed: self.passed,
            label: self.label,
            explanation: self.explanation,
            metrics: self
                .metrics
                .into_iter()
                .map(|m| wit::Metric {
                    name: m.name,
                    value: m.value.into_wit(),
                })
                .collect(),
            findings: self
                .findings
                .into_iter()
                .map(|f| wit::Finding {
                    span_id: f.span_id,
                    message: f.message,
                })
                .collect(),
        }
    }
}
