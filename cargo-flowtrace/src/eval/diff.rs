//! The work of `diff` (and of `install`'s summary of an upgrade): each trace evaluated by two
//! evaluators, and what changed between their results.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::Duration;

use flowtrace_plugins::results::{EvalResult, MetricValue};
use flowtrace_plugins::Plugin;
use serde::Serialize;

use super::engine::{self, Work};
use super::evaluate;
use super::input::Item;
use super::report::{EvalRecord, RecordError, Verdict};
use crate::term::Message;

/// Evaluate every trace with `a` and with `b`.
pub struct DiffWork<'p> {
    /// The plugin compared against (the old version).
    pub a: &'p Plugin,
    /// The plugin compared (the new version).
    pub b: &'p Plugin,
}

impl Work for DiffWork<'_> {
    type Record = DiffRecord;

    fn records(&self, names: &[String], items: Vec<Item>) -> Vec<(DiffRecord, u64)> {
        let units = engine::traces_of(self.a.runtime(), names, items);
        let (mut a, traces) = evaluate::pending(units);
        let mut b = a.clone();
        let prepared: Vec<_> = traces.iter().map(|(_, t)| t.clone()).collect();
        for (plugin, records) in [(self.a, &mut a), (self.b, &mut b)] {
            for ((at, _), evaluation) in traces.iter().zip(plugin.evaluate_each(&prepared)) {
                evaluate::settle(&mut records[*at].0, evaluation);
            }
        }
        a.into_iter()
            .zip(b)
            .map(|((a, progress), (b, _))| (DiffRecord::new(a, b), progress))
            .collect()
    }
}

/// One side of a trace's comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Side {
    /// How the trace came out.
    pub verdict: Verdict,
    /// The score, when evaluated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// The label, when the result has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The metrics, by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, MetricValue>,
    /// Why it was not evaluated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<RecordError>,
}

impl Side {
    fn of(record: EvalRecord) -> Self {
        let (score, label, metrics) = match record.result {
            Some(EvalResult {
                score,
                label,
                metrics,
                ..
            }) => (
                Some(score),
                label,
                metrics.into_iter().map(|m| (m.name, m.value)).collect(),
            ),
            None => (None, None, BTreeMap::new()),
        };
        Side {
            verdict: record.verdict,
            score,
            label,
            metrics,
            error: record.error,
        }
    }
}

/// One trace under both plugins: a `diff-result` message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct DiffRecord {
    /// The trace file, as given.
    pub file: String,
    /// The line (from 1) of JSON lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// The trace id, when the trace could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// What changed: `verdict`, `score`, `label`, `metric:<name>`; empty when nothing did.
    pub changed: Vec<String>,
    /// B's score minus A's, when both evaluated the trace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score_delta: Option<f64>,
    /// A's outcome.
    pub a: Side,
    /// B's outcome.
    pub b: Side,
}

impl Message for DiffRecord {
    const REASON: &'static str = "diff-result";
}

/// Two values of a metric differ: by value (NaN equal to NaN), or by type.
fn differ(a: Option<&MetricValue>, b: Option<&MetricValue>) -> bool {
    match (a, b) {
        (Some(MetricValue::Float(x)), Some(MetricValue::Float(y))) => {
            !(x == y || (x.is_nan() && y.is_nan()))
        }
        (a, b) => a != b,
    }
}

impl DiffRecord {
    /// Compare `a` and `b`, the records of one trace.
    pub fn new(a: EvalRecord, b: EvalRecord) -> Self {
        let (file, line, trace_id) = (a.file.clone(), a.line, a.trace_id.clone());
        let (a, b) = (Side::of(a), Side::of(b));
        let mut changed = Vec::new();
        if a.verdict != b.verdict {
            changed.push("verdict".to_string());
        }
        if a.score != b.score {
            changed.push("score".to_string());
        }
        if a.label != b.label {
            changed.push("label".to_string());
        }
        let names: std::collections::BTreeSet<&String> =
            a.metrics.keys().chain(b.metrics.keys()).collect();
        for name in names {
            if differ(a.metrics.get(name), b.metrics.get(name)) {
                changed.push(format!("metric:{name}"));
            }
        }
        let score_delta = match (a.score, b.score) {
            (Some(x), Some(y)) => Some(y - x),
            _ => None,
        };
        DiffRecord {
            file,
            line,
            trace_id,
            changed,
            score_delta,
            a,
            b,
        }
    }

    /// `file:line` (or `file`), for messages.
    pub fn location(&self) -> String {
        match self.line {
            Some(line) => format!("{}:{line}", self.file),
            None => self.file.clone(),
        }
    }

    /// Whether the input could not be read (the same for both plugins).
    pub fn is_input_error(&self) -> bool {
        self.trace_id.is_none()
            || matches!((&self.a.error, &self.b.error), (Some(a), Some(b)) if a == b && a.kind == super::report::ErrorKind::Input)
    }

    /// One line saying what changed: `` trace `t-3`: passed -> failed, score 1.000 -> 0.500
    /// (-0.500), label ok -> slow, errors 0 -> 1 ``, control characters neutralised.
    pub fn describe(&self) -> String {
        let sanitize = |s: &str| crate::term::sanitize(s).into_owned();
        let mut parts = Vec::new();
        for what in &self.changed {
            match what.as_str() {
                "verdict" => parts.push(format!(
                    "{} -> {}",
                    verdict_text(&self.a),
                    verdict_text(&self.b)
                )),
                "score" => parts.push(match (self.a.score, self.b.score, self.score_delta) {
                    (Some(x), Some(y), Some(d)) => format!("score {x:.3} -> {y:.3} ({d:+.3})"),
                    (x, y, _) => format!("score {} -> {}", opt_score(x), opt_score(y)),
                }),
                "label" => parts.push(format!(
                    "label {} -> {}",
                    self.a.label.as_deref().map_or("-".into(), sanitize),
                    self.b.label.as_deref().map_or("-".into(), sanitize)
                )),
                metric => {
                    let name = metric.trim_start_matches("metric:");
                    parts.push(format!(
                        "{} {} -> {}",
                        sanitize(name),
                        metric_text(self.a.metrics.get(name)),
                        metric_text(self.b.metrics.get(name))
                    ));
                }
            }
        }
        let subject = match &self.trace_id {
            Some(id) => format!("{}: trace `{}`", self.location(), sanitize(id)),
            None => self.location(),
        };
        format!("{subject}: {}", parts.join(", "))
    }
}

fn verdict_text(side: &Side) -> String {
    match (&side.verdict, &side.error) {
        (Verdict::Passed, _) => "passed".into(),
        (Verdict::Failed, _) => "failed".into(),
        (Verdict::Error, Some(e)) => {
            let kind = serde_json::to_value(e.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            format!("error ({kind})")
        }
        (Verdict::Error, None) => "error".into(),
    }
}

fn opt_score(score: Option<f64>) -> String {
    score.map_or("-".into(), |s| format!("{s:.3}"))
}

fn metric_text(value: Option<&MetricValue>) -> String {
    match value {
        None => "-".into(),
        Some(MetricValue::Integer(i)) => i.to_string(),
        Some(MetricValue::Float(f)) => format!("{f}"),
        Some(MetricValue::Boolean(b)) => b.to_string(),
        Some(MetricValue::Text(t)) => format!("{:?}", crate::term::sanitize(t)),
    }
}

/// A metric's mean on both sides, over the traces where both reported it as a number.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct MetricDelta {
    /// The metric's name.
    pub name: String,
    /// Traces where both reported it as a number (booleans count as 0 or 1).
    pub traces: u64,
    /// Its mean under A.
    pub mean_a: f64,
    /// Its mean under B.
    pub mean_b: f64,
    /// `mean-b - mean-a`.
    pub mean_delta: f64,
}

/// The comparison in numbers: the final `diff-summary` message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct DiffSummary {
    /// A, as described in messages.
    pub a: String,
    /// B, as described in messages.
    pub b: String,
    /// Traces compared (and inputs that could not be read).
    pub traces: u64,
    /// Traces where anything changed.
    pub changed: u64,
    /// Passed under A, failed under B.
    pub pass_to_fail: u64,
    /// Failed under A, passed under B.
    pub fail_to_pass: u64,
    /// Evaluated under A, an error under B.
    pub new_errors: u64,
    /// An error under A, evaluated under B.
    pub fixed_errors: u64,
    /// Inputs that could not be read (for either).
    pub unreadable: u64,
    /// The mean of B's score minus A's over the traces both evaluated; `None` when none.
    pub mean_score_delta: Option<f64>,
    /// The largest score change of one trace, either way (its absolute value).
    pub max_score_delta: Option<f64>,
    /// Traces both evaluated.
    pub both_evaluated: u64,
    /// Numeric and boolean metrics, by name.
    pub metrics: Vec<MetricDelta>,
    /// Wall-clock time, in seconds.
    #[serde(serialize_with = "seconds")]
    pub duration: Duration,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl Message for DiffSummary {
    const REASON: &'static str = "diff-summary";
}

/// Adds diff records up, in memory constant in the number of traces.
#[derive(Debug, Default)]
pub struct DiffTally {
    traces: u64,
    changed: u64,
    pass_to_fail: u64,
    fail_to_pass: u64,
    new_errors: u64,
    fixed_errors: u64,
    unreadable: u64,
    both: u64,
    delta_sum: f64,
    delta_max: Option<f64>,
    metrics: BTreeMap<String, (u64, f64, f64)>,
}

fn number(value: &MetricValue) -> Option<f64> {
    match value {
        MetricValue::Float(f) if f.is_finite() => Some(*f),
        MetricValue::Integer(i) => Some(*i as f64),
        MetricValue::Boolean(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

impl DiffTally {
    /// Count one record.
    pub fn add(&mut self, record: &DiffRecord) {
        self.traces += 1;
        if record.is_input_error() {
            self.unreadable += 1;
            return;
        }
        if !record.changed.is_empty() {
            self.changed += 1;
        }
        match (record.a.verdict, record.b.verdict) {
            (Verdict::Passed, Verdict::Failed) => self.pass_to_fail += 1,
            (Verdict::Failed, Verdict::Passed) => self.fail_to_pass += 1,
            (Verdict::Passed | Verdict::Failed, Verdict::Error) => self.new_errors += 1,
            (Verdict::Error, Verdict::Passed | Verdict::Failed) => self.fixed_errors += 1,
            _ => {}
        }
        if let Some(delta) = record.score_delta {
            self.both += 1;
            self.delta_sum += delta;
            self.delta_max = Some(self.delta_max.unwrap_or(0.0).max(delta.abs()));
        }
        for (name, a) in &record.a.metrics {
            let (Some(x), Some(y)) = (number(a), record.b.metrics.get(name).and_then(number))
            else {
                continue;
            };
            let acc = self.metrics.entry(name.clone()).or_insert((0, 0.0, 0.0));
            acc.0 += 1;
            acc.1 += x;
            acc.2 += y;
        }
    }

    /// Records with a change so far.
    pub fn changed(&self) -> u64 {
        self.changed
    }

    /// Records counted so far.
    pub fn total(&self) -> u64 {
        self.traces
    }

    /// The summary.
    pub fn finish(self, a: String, b: String, duration: Duration) -> DiffSummary {
        DiffSummary {
            a,
            b,
            traces: self.traces,
            changed: self.changed,
            pass_to_fail: self.pass_to_fail,
            fail_to_pass: self.fail_to_pass,
            new_errors: self.new_errors,
            fixed_errors: self.fixed_errors,
            unreadable: self.unreadable,
            mean_score_delta: (self.both > 0).then(|| self.delta_sum / self.both as f64),
            max_score_delta: self.delta_max,
            both_evaluated: self.both,
            metrics: self
                .metrics
                .into_iter()
                .map(|(name, (n, a, b))| MetricDelta {
                    name,
                    traces: n,
                    mean_a: a / n as f64,
                    mean_b: b / n as f64,
                    mean_delta: (b - a) / n as f64,
                })
                .collect(),
            duration,
        }
    }
}

/// The summary as a table:
///
/// ```text
/// traces               20
/// changed               5
/// pass -> fail          3
/// fail -> pass          1
/// new errors            0
/// fixed errors          0
/// mean score delta -0.125 (over 20 traces both evaluated; largest change 0.500)
///
/// metric   traces      mean A      mean B       delta
/// errors       20       0.000       0.150      +0.150
/// ```
pub fn table(out: &mut dyn Write, summary: &DiffSummary) -> io::Result<()> {
    let rows = [
        ("traces", summary.traces),
        ("changed", summary.changed),
        ("pass -> fail", summary.pass_to_fail),
        ("fail -> pass", summary.fail_to_pass),
        ("new errors", summary.new_errors),
        ("fixed errors", summary.fixed_errors),
    ];
    for (name, value) in rows {
        writeln!(out, "{name:<16} {value:>6}")?;
    }
    if summary.unreadable > 0 {
        writeln!(out, "{:<16} {:>6}", "unreadable", summary.unreadable)?;
    }
    match (summary.mean_score_delta, summary.max_score_delta) {
        (Some(mean), Some(max)) => writeln!(
            out,
            "{:<16} {mean:>+6.3} (over {} traces both evaluated; largest change {max:.3})",
            "mean score delta", summary.both_evaluated
        )?,
        _ => writeln!(out, "{:<16} {:>6}", "mean score delta", "-")?,
    }
    if summary.metrics.is_empty() {
        return Ok(());
    }
    let width = super::report::metric_column_width(summary.metrics.iter().map(|m| m.name.as_str()));
    writeln!(out)?;
    writeln!(
        out,
        "{:<width$}  {:>8}  {:>10}  {:>10}  {:>10}",
        "metric", "traces", "mean A", "mean B", "delta"
    )?;
    for m in &summary.metrics {
        writeln!(
            out,
            "{:<width$}  {:>8}  {:>10.3}  {:>10.3}  {:>+10.3}",
            crate::term::sanitize(&m.name),
            m.traces,
            m.mean_a,
            m.mean_b,
            m.mean_delta
        )?;
    }
    Ok(())
}
