//! What plugins return, as host-side types (serialisable for JSON output).

use serde::{Deserialize, Serialize};

/// A named measurement attached to an evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Metric {
    /// Metric name, e.g. `empty-outputs`.
    pub name: String,
    /// Its value.
    pub value: MetricValue,
}

/// A metric's value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", untagged)]
pub enum MetricValue {
    /// A boolean.
    Boolean(bool),
    /// An integer.
    Integer(i64),
    /// A float.
    Float(f64),
    /// A text.
    Text(String),
}

/// Something an evaluator noticed, optionally about one span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Finding {
    /// The span the finding is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    /// What was found.
    pub message: String,
}

/// An evaluator's verdict on one trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct EvalResult {
    /// Between 0.0 and 1.0 (checked by the host).
    pub score: f64,
    /// Whether the trace passed.
    pub passed: bool,
    /// A short label, e.g. `truncated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// A sentence or two on why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    /// Named measurements.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<Metric>,
    /// Per-span findings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
}

/// A format an exporter writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ExportFormat {
    /// Short name passed back to `export`.
    pub name: String,
    /// e.g. `application/x-ndjson`.
    pub media_type: String,
    /// e.g. `jsonl`.
    pub file_extension: String,
}

/// The error a plugin itself reported (as opposed to a trap or a limit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "message")]
pub enum PluginError {
    /// The input is not usable by the plugin.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The plugin's configuration is wrong.
    #[error("invalid config: {0}")]
    InvalidConfig(String),
    /// A service the plugin relies on failed.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Anything else.
    #[error("{0}")]
    Failed(String),
}
