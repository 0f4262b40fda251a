//! Evaluators: each trace of the fixture scored; `passed`, `score`, `label`, `metrics` and
//! `findings` held against the result.

use std::collections::BTreeMap;
use std::fmt;

use flowtrace_plugins::results::{EvalResult, MetricValue};
use flowtrace_plugins::{Plugin, PreparedTrace};
use toml::Spanned;

use super::{Expectations, InputShape, KindHarness};
use crate::harness::expect::Mismatch;
use crate::harness::fixture::raw::RawExpect;
use crate::harness::fixture::validate::{number, Validator};
use crate::harness::fixture::Input;
use crate::harness::run::{Called, CaseFailure};
use flowtrace_plugins::diag::closest;

pub(super) struct Evaluator;

impl KindHarness for Evaluator {
    fn expect_keys(&self) -> &'static [&'static str] {
        &["passed", "score", "label", "findings", "metrics"]
    }

    fn input(&self) -> InputShape {
        InputShape::Traces { format: false }
    }

    fn expectations(&self, v: &mut Validator<'_>, raw: &RawExpect) -> Box<dyn Expectations> {
        let score = raw.score.as_ref().and_then(|s| score(v, s));
        let metrics = raw
            .metrics
            .iter()
            .filter_map(|(k, m)| Some((k.get_ref().clone(), metric(v, k.get_ref(), m)?)))
            .collect();
        Box::new(EvalExpect {
            passed: raw.passed.as_ref().map(|p| *p.get_ref()),
            score,
            label: raw.label.as_ref().map(|l| l.get_ref().clone()),
            metrics,
            findings: raw.findings.as_ref().map(|f| *f.get_ref() as usize),
        })
    }
}

/// What an evaluator's fixture expects; every field optional.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EvalExpect {
    /// `passed`
    pub(crate) passed: Option<bool>,
    /// `score`: a number (exact) or `{ min, max }`.
    pub(crate) score: Option<ScoreRange>,
    /// `label`: exact.
    pub(crate) label: Option<String>,
    /// `metrics`: by name.
    pub(crate) metrics: BTreeMap<String, MetricExpect>,
    /// `findings`: how many.
    pub(crate) findings: Option<usize>,
}

impl Expectations for EvalExpect {
    fn call(
        &self,
        plugin: &Plugin,
        _input: &Input,
        traces: &[PreparedTrace],
    ) -> Result<Called, CaseFailure> {
        let mut results = Vec::new();
        let mut mismatches = Vec::new();
        for (i, trace) in traces.iter().enumerate() {
            let result = plugin.evaluate(trace)?;
            let prefix = if traces.len() > 1 {
                format!(
                    "trace {} of {} (`{}`)",
                    i + 1,
                    traces.len(),
                    trace.trace().id
                )
            } else {
                String::new()
            };
            mismatches.extend(self.check(&result).into_iter().map(|m| m.about(&prefix)));
            results.push(result);
        }
        if traces.len() > 1 {
            mismatches.extend(batch_order(plugin, traces));
        }
        let summary = results
            .iter()
            .map(|r| format!("passed = {}, score = {}", r.passed, r.score))
            .collect::<Vec<_>>()
            .join("; ");
        match &results[..] {
            [one] => Called::json(one, mismatches, summary),
            all => Called::json(&all, mismatches, summary),
        }
    }
}

/// The contract binds `evaluate-batch`'s results to their traces by position, and `eval`
/// sends traces in batches: check that the batch of the fixture's traces gives each trace its
/// own result (the runtime reports a trace that got another's).
fn batch_order(plugin: &Plugin, traces: &[PreparedTrace]) -> Vec<Mismatch> {
    let help = "`evaluate-batch` must return one result per trace, in the order of the traces \
                it was given";
    match plugin.check_batch_order(traces) {
        Ok(misplaced) => misplaced
            .iter()
            .map(|m| {
                Mismatch::new(format!(
                    "`evaluate-batch` gave trace {} of {} (`{}`) the result `evaluate` gives \
                     trace {} (`{}`)",
                    m.index + 1,
                    traces.len(),
                    m.trace,
                    m.like + 1,
                    traces[m.like].trace().id
                ))
                .with_help(help)
            })
            .collect(),
        Err(e) => vec![Mismatch::new(format!(
            "`evaluate-batch` over the fixture's traces failed where `evaluate` of each did not: {e}"
        ))
        .with_help(help)],
    }
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

fn score(fx: &mut Validator<'_>, value: &Spanned<toml::Value>) -> Option<ScoreRange> {
    let range = match value.get_ref() {
        toml::Value::Table(t) => {
            let mut range = ScoreRange { min: 0.0, max: 1.0 };
            for (k, v) in t {
                match (k.as_str(), number(v)) {
                    ("min", Some(n)) => range.min = n,
                    ("max", Some(n)) => range.max = n,
                    ("min" | "max", None) => {
                        fx.at(
                            value,
                            format!("`score.{k}` is a number, not {}", fx.ty(v)),
                            None,
                        );
                        return None;
                    }
                    _ => {
                        fx.at(
                            value,
                            format!("unknown key `{k}` in `score`: expected `min` or `max`"),
                            None,
                        );
                        return None;
                    }
                }
            }
            range
        }
        other => match number(other) {
            Some(n) => ScoreRange { min: n, max: n },
            None => {
                fx.at(
                    value,
                    format!(
                        "`expect.score` is a number or {}, not {}",
                        fx.pick("`{ min = .., max = .. }`", "`{\"min\": .., \"max\": ..}`"),
                        fx.ty(other)
                    ),
                    None,
                );
                return None;
            }
        },
    };
    let in_unit = |x: f64| (0.0..=1.0).contains(&x);
    if !in_unit(range.min) || !in_unit(range.max) || range.min > range.max {
        fx.at(
            value,
            format!(
                "score range {} is not within 0.0..=1.0 with min <= max",
                range
            ),
            None,
        );
        return None;
    }
    Some(range)
}

fn metric(
    fx: &mut Validator<'_>,
    name: &str,
    value: &Spanned<toml::Value>,
) -> Option<MetricExpect> {
    let expect = match value.get_ref() {
        toml::Value::Boolean(b) => MetricExpect::Boolean(*b),
        toml::Value::String(s) => MetricExpect::Text(s.clone()),
        toml::Value::Integer(_) | toml::Value::Float(_) => {
            MetricExpect::Number(number(value.get_ref())?)
        }
        toml::Value::Table(t) => {
            let mut min = f64::NEG_INFINITY;
            let mut max = f64::INFINITY;
            for (k, v) in t {
                match (k.as_str(), number(v)) {
                    ("min", Some(n)) => min = n,
                    ("max", Some(n)) => max = n,
                    _ => {
                        fx.at(
                            value,
                            format!(
                                "metric `{name}`: a range is {}, found key `{k}` = {}",
                                fx.pick(
                                    "`{ min = <number>, max = <number> }`",
                                    "`{\"min\": <number>, \"max\": <number>}`"
                                ),
                                fx.ty(v)
                            ),
                            None,
                        );
                        return None;
                    }
                }
            }
            MetricExpect::Range { min, max }
        }
        other => {
            fx.at(
                value,
                format!(
                    "metric `{name}` expects a number, a range, a boolean or a string, not {}",
                    fx.ty(other)
                ),
                None,
            );
            return None;
        }
    };
    Some(expect)
}

fn metric_text(value: &MetricValue) -> String {
    match value {
        MetricValue::Boolean(b) => b.to_string(),
        MetricValue::Integer(i) => i.to_string(),
        MetricValue::Float(f) => f.to_string(),
        MetricValue::Text(s) => format!("{s:?}"),
    }
}

impl EvalExpect {
    /// Hold an evaluation result against these expectations.
    fn check(&self, result: &EvalResult) -> Vec<Mismatch> {
        let (passed, score, label, metrics, findings) = (
            self.passed,
            self.score,
            self.label.as_deref(),
            &self.metrics,
            self.findings,
        );
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
                    None => m.with_help(
                        "expect only metrics the plugin returns, or remove the expectation",
                    ),
                };
                out.push(m);
                continue;
            };
            let got = &metric.value;
            let ok = match (expected, got) {
                (MetricExpect::Number(n), MetricValue::Integer(i)) => {
                    (*i as f64 - n).abs() <= EPSILON
                }
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
        let expect = EvalExpect {
            passed: Some(false),
            score: Some(range),
            label: Some("truncated".into()),
            metrics,
            findings: Some(0),
        };
        assert_eq!(expect.check(&result()), []);
    }

    #[test]
    fn every_mismatch_is_reported() {
        let metrics = BTreeMap::from([
            ("flagged".to_string(), MetricExpect::Number(2.0)),
            ("flaged".to_string(), MetricExpect::Number(1.0)),
        ]);
        let range = ScoreRange { min: 0.8, max: 0.9 };
        let expect = EvalExpect {
            passed: Some(true),
            score: Some(range),
            label: Some("ok".into()),
            metrics,
            findings: None,
        };
        let found = expect.check(&result());
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
