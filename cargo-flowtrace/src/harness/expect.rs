//! Expectations and how a result is held against them.
//!
//! A check returns every mismatch it finds, not just the first, each as one readable line
//! (`expected score in 0.5..=0.9, got 0.95`), with a `help:` where there is a likely fix.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use flowtrace_plugins::diag::closest;
use flowtrace_plugins::results::{EvalResult, MetricValue};
use flowtrace_plugins::trace::Trace;

/// `[expect]`, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Expect {
    /// A result, or an error.
    pub outcome: Outcome,
    /// `snapshot`: the file the whole result is compared with (`--bless` writes it).
    pub snapshot: Option<PathBuf>,
}

/// Whether the call succeeds.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// It returns a result meeting these expectations.
    Success(KindExpect),
    /// `error`: it fails, with an error whose text contains this.
    Error(String),
}

/// The expectations on a result, by plugin kind.
#[derive(Debug, Clone, PartialEq)]
pub enum KindExpect {
    /// Evaluators: every field optional.
    Evaluator {
        /// `passed`
        passed: Option<bool>,
        /// `score`: a number (exact) or `{ min, max }`.
        score: Option<ScoreRange>,
        /// `label`: exact.
        label: Option<String>,
        /// `metrics`: by name.
        metrics: BTreeMap<String, MetricExpect>,
        /// `findings`: how many.
        findings: Option<usize>,
    },
    /// Exporters.
    Exporter {
        /// `contains`: texts the output must contain.
        contains: Vec<String>,
    },
    /// Embedders.
    Embedder {
        /// `dimension`: of `dimension()` and of every vector.
        dimension: Option<u32>,
    },
    /// Transformers.
    Transformer {
        /// `traces`: how many traces come out.
        traces: Option<usize>,
        /// `spans`: how many spans in all come out.
        spans: Option<usize>,
    },
}

/// An inclusive score range; `min == max` for an exact score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreRange {
    /// Lowest accepted score.
    pub min: f64,
    /// Highest accepted score.
    pub max: f64,
}

/// How close two floats must be to count as equal: results cross a float conversion.
const EPSILON: f64 = 1e-9;

impl ScoreRange {
    /// Whether `score` is in the range.
    pub fn contains(&self, score: f64) -> bool {
        score >= self.min - EPSILON && score <= self.max + EPSILON
    }
}

impl fmt::Display for ScoreRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.min == self.max {
            write!(f, "{}", self.min)
        } else {
            write!(f, "{}..={}", self.min, self.max)
        }
    }
}

/// The expectation on one metric.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricExpect {
    /// An integer or float metric equal to this.
    Number(f64),
    /// An integer or float metric within this inclusive range.
    Range {
        /// Lowest accepted value (`-inf` when not given).
        min: f64,
        /// Highest accepted value (`inf` when not given).
        max: f64,
    },
    /// A boolean metric.
    Boolean(bool),
    /// A text metric, exact.
    Text(String),
}

impl fmt::Display for MetricExpect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetricExpect::Number(n) => write!(f, "{n}"),
            MetricExpect::Range { min, max } => match (min.is_finite(), max.is_finite()) {
                (true, true) => write!(f, "{min}..={max}"),
                (true, false) => write!(f, ">= {min}"),
                (false, true) => write!(f, "<= {max}"),
                (false, false) => f.write_str("any number"),
            },
            MetricExpect::Boolean(b) => write!(f, "{b}"),
            MetricExpect::Text(s) => write!(f, "{s:?}"),
        }
    }
}

/// One way a result differs from what was expected.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Mismatch {
    /// What differs, on one line.
    pub message: String,
    /// The likely fix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// A unified diff (snapshots), shown under the message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

impl Mismatch {
    /// A mismatch with only a message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            help: None,
            diff: None,
        }
    }

    /// With a `help:` line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// With a prefix naming which trace of several it is about.
    pub fn about(mut self, prefix: &str) -> Self {
        if !prefix.is_empty() {
            self.message = format!("{prefix}: {}", self.message);
        }
        self
    }
}

fn metric_text(value: &MetricValue) -> String {
    match value {
        MetricValue::Boolean(b) => b.to_string(),
        MetricValue::Integer(i) => i.to_string(),
        MetricValue::Float(f) => f.to_string(),
        MetricValue::Text(s) => format!("{s:?}"),
    }
}

/// Hold an evaluation result against the evaluator expectations.
pub fn check_eval(
    result: &EvalResult,
    passed: Option<bool>,
    score: Option<ScoreRange>,
    label: Option<&str>,
    metrics: &BTreeMap<String, MetricExpect>,
    findings: Option<usize>,
) -> Vec<Mismatch> {
    let mut out = Vec::new();
    if let Some(expected) = passed {
        if result.passed != expected {
            out.push(Mismatch::new(format!(
                "expected passed = {expected}, got passed = {} (score {}{})",
                result.passed,
                result.score,
                result
                    .explanation
                    .as_deref()
                    .map(|e| format!("; {e}"))
                    .unwrap_or_default()
            )));
        }
    }
    if let Some(range) = score {
        if !range.contains(result.score) {
            let what = if range.min == range.max {
                format!("score {range}")
            } else {
                format!("score in {range}")
            };
            out.push(Mismatch::new(format!(
                "expected {what}, got {}",
                result.score
            )));
        }
    }
    if let Some(expected) = label {
        match &result.label {
            Some(got) if got == expected => {}
            Some(got) => out.push(Mismatch::new(format!(
                "expected label {expected:?}, got {got:?}"
            ))),
            None => out.push(Mismatch::new(format!(
                "expected label {expected:?}, got no label"
            ))),
        }
    }
    for (name, expected) in metrics {
        let Some(metric) = result.metrics.iter().find(|m| &m.name == name) else {
            let names: Vec<&str> = result.metrics.iter().map(|m| m.name.as_str()).collect();
            let returned = if names.is_empty() {
                "it returned no metrics".to_string()
            } else {
                format!(
                    "it returned {}",
                    names
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let mut m = Mismatch::new(format!(
                "expected metric `{name}`, but the plugin never returns it: {returned}"
            ));
            m = match closest(name, &names) {
                Some(close) => m.with_help(format!(
                    "did you mean `{close}`? rename it under `[expect.metrics]` in the fixture"
                )),
                None => {
                    m.with_help("expect only metrics the plugin returns, or remove the expectation")
                }
            };
            out.push(m);
            continue;
        };
        let got = &metric.value;
        let ok = match (expected, got) {
            (MetricExpect::Number(n), MetricValue::Integer(i)) => (*i as f64 - n).abs() <= EPSILON,
            (MetricExpect::Number(n), MetricValue::Float(f)) => (f - n).abs() <= EPSILON,
            (MetricExpect::Range { min, max }, MetricValue::Integer(i)) => {
                (*min..=*max).contains(&(*i as f64))
            }
            (MetricExpect::Range { min, max }, MetricValue::Float(f)) => {
                *f >= *min - EPSILON && *f <= *max + EPSILON
            }
            (MetricExpect::Boolean(b), MetricValue::Boolean(g)) => b == g,
            (MetricExpect::Text(t), MetricValue::Text(g)) => t == g,
            _ => false,
        };
        if !ok {
            out.push(Mismatch::new(format!(
                "metric `{name}`: expected {expected}, got {}",
                metric_text(got)
            )));
        }
    }
    if let Some(expected) = findings {
        if result.findings.len() != expected {
            let list: Vec<String> = result
                .findings
                .iter()
                .map(|f| match &f.span_id {
                    Some(span) => format!("[{span}] {}", f.message),
                    None => f.message.clone(),
                })
                .collect();
            let mut message = format!(
                "expected {expected} findings, got {}",
                result.findings.len()
            );
            if !list.is_empty() {
                message.push_str(&format!(": {}", list.join("; ")));
            }
            out.push(Mismatch::new(message));
        }
    }
    out
}

/// Hold an exporter's output against `contains`.
pub fn check_export(output: &[u8], contains: &[String]) -> Vec<Mismatch> {
    let text = String::from_utf8_lossy(output);
    contains
        .iter()
        .filter(|needle| !text.contains(needle.as_str()))
        .map(|needle| {
            Mismatch::new(format!(
                "expected the output to contain {needle:?}; it is {} bytes: {}",
                output.len(),
                preview(&text)
            ))
        })
        .collect()
}

/// Hold an embedder's answers against `dimension`.
pub fn check_embed(
    declared: u32,
    vectors: &[Vec<f32>],
    texts: usize,
    dimension: Option<u32>,
) -> Vec<Mismatch> {
    let mut out = Vec::new();
    if vectors.len() != texts {
        out.push(Mismatch::new(format!(
            "expected {texts} vectors (one per text), got {}",
            vectors.len()
        )));
    }
    if let Some(bad) = vectors.iter().position(|v| v.len() != declared as usize) {
        out.push(Mismatch::new(format!(
            "`dimension()` says {declared}, but vector {bad} has {} values",
            vectors[bad].len()
        )));
    }
    if let Some(expected) = dimension {
        if declared != expected {
            out.push(Mismatch::new(format!(
                "expected dimension {expected}, got {declared}"
            )));
        }
    }
    out
}

/// Hold a transformer's output against `traces` and `spans`.
pub fn check_transform(
    output: &[Trace],
    traces: Option<usize>,
    spans: Option<usize>,
) -> Vec<Mismatch> {
    let mut out = Vec::new();
    if let Some(expected) = traces {
        if output.len() != expected {
            out.push(Mismatch::new(format!(
                "expected {expected} traces, got {}",
                output.len()
            )));
        }
    }
    if let Some(expected) = spans {
        let got: usize = output.iter().map(|t| t.spans.len()).sum();
        if got != expected {
            out.push(Mismatch::new(format!(
                "expected {expected} spans in all, got {got}"
            )));
        }
    }
    out
}

/// Hold a failed call against `error`.
pub fn check_error(error: &str, expected: &str) -> Vec<Mismatch> {
    if error.contains(expected) {
        Vec::new()
    } else {
        vec![Mismatch::new(format!(
            "expected an error containing {expected:?}, got: {error}"
        ))]
    }
}

/// The start of a long text, on one line.
fn preview(text: &str) -> String {
    const MAX: usize = 200;
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX + 1)
        .collect();
    if flat.chars().count() > MAX {
        format!("{:?}...", flat.chars().take(MAX).collect::<String>())
    } else {
        format!("{flat:?}")
    }
}

#[cfg(test)]
mod tests {
    use flowtrace_plugins::results::Metric;

    use super::*;

    fn result() -> EvalResult {
        EvalResult {
            score: 0.75,
            passed: false,
            label: Some("truncated".into()),
            explanation: None,
            metrics: vec![
                Metric {
                    name: "flagged".into(),
                    value: MetricValue::Integer(1),
                },
                Metric {
                    name: "ratio".into(),
                    value: MetricValue::Float(0.25),
                },
            ],
            findings: Vec::new(),
        }
    }

    #[test]
    fn matching_expectations_give_no_mismatch() {
        let metrics = BTreeMap::from([
            ("flagged".to_string(), MetricExpect::Number(1.0)),
            (
                "ratio".to_string(),
                MetricExpect::Range { min: 0.2, max: 0.3 },
            ),
        ]);
        let range = ScoreRange { min: 0.5, max: 0.9 };
        assert_eq!(
            check_eval(
                &result(),
                Some(false),
                Some(range),
                Some("truncated"),
                &metrics,
                Some(0)
            ),
            []
        );
    }

    #[test]
    fn every_mismatch_is_reported() {
        let metrics = BTreeMap::from([
            ("flagged".to_string(), MetricExpect::Number(2.0)),
            ("flaged".to_string(), MetricExpect::Number(1.0)),
        ]);
        let range = ScoreRange { min: 0.8, max: 0.9 };
        let found = check_eval(
            &result(),
            Some(true),
            Some(range),
            Some("ok"),
            &metrics,
            None,
        );
        let messages: Vec<&str> = found.iter().map(|m| m.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "expected passed = true, got passed = false (score 0.75)",
                "expected score in 0.8..=0.9, got 0.75",
                "expected label \"ok\", got \"truncated\"",
                "expected metric `flaged`, but the plugin never returns it: it returned `flagged`, `ratio`",
                "metric `flagged`: expected 2, got 1",
            ]
        );
        assert_eq!(
            found[3].help.as_deref(),
            Some("did you mean `flagged`? rename it under `[expect.metrics]` in the fixture")
        );
    }
}
