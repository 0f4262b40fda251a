//! What `eval` and `run` report: one record per trace (or line of text), and the summary of
//! the run.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::Duration;

use flowtrace_plugins::results::{EvalResult, MetricValue};
use flowtrace_plugins::services::{CallLog, LogLine};
use flowtrace_plugins::trace::Trace;
use flowtrace_plugins::{CallError, CallFailure, GuestFailureKind, PrepareError};
use serde::Serialize;

use crate::term::Message;

/// How one trace came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Evaluated, and the plugin said it passed.
    Passed,
    /// Evaluated, and the plugin said it failed.
    Failed,
    /// Not evaluated: unreadable input, or the call failed.
    Error,
}

/// Why a trace was not evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The line or file is not a trace.
    Input,
    /// The plugin ran past its deadline.
    Timeout,
    /// The plugin hit its memory limit.
    MemoryLimit,
    /// The plugin trapped.
    Trap,
    /// The plugin's result is over the output limit.
    OutputTooLarge,
    /// The plugin returned something the contract forbids.
    InvalidResult,
    /// The plugin reported an error.
    Plugin,
    /// The plugin was refused something its capabilities do not allow.
    CapabilityDenied,
    /// The host could not run the call (instance pool, instantiation).
    Host,
    /// The trace has more spans than the host's cap (`--max-spans`).
    TooManySpans,
}

impl ErrorKind {
    /// The kind of a failed call.
    pub fn of(error: &CallError) -> Self {
        Self::of_failure(&error.reason)
    }

    /// The kind of `failure`.
    pub fn of_failure(failure: &CallFailure) -> Self {
        match failure {
            CallFailure::Timeout { .. } => ErrorKind::Timeout,
            CallFailure::MemoryLimit { .. } => ErrorKind::MemoryLimit,
            CallFailure::Trap { .. } => ErrorKind::Trap,
            // An exception is the plugin's error; a panic or a stack overflow, a trap.
            CallFailure::Guest(guest) if guest.kind == GuestFailureKind::Exception => {
                ErrorKind::Plugin
            }
            CallFailure::Guest(_) => ErrorKind::Trap,
            CallFailure::OutputTooLarge { .. } => ErrorKind::OutputTooLarge,
            CallFailure::InvalidResult(_) => ErrorKind::InvalidResult,
            CallFailure::Plugin(_) => ErrorKind::Plugin,
            CallFailure::CapabilityDenied { .. } => ErrorKind::CapabilityDenied,
            _ => ErrorKind::Host,
        }
    }
}

/// A call's log as a record holds it: the lines, and how many were dropped.
pub fn log_of(log: CallLog) -> (Vec<LogLine>, usize) {
    let dropped = log.dropped();
    (log.into_lines(), dropped)
}

/// Why a trace has no result.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RecordError {
    /// What sort of problem.
    pub kind: ErrorKind,
    /// What went wrong, on one line.
    pub message: String,
}

impl RecordError {
    /// Why a call failed.
    pub fn of_call(error: &CallError) -> Self {
        let kind = ErrorKind::of(error);
        let reason = error.reason.to_string();
        RecordError {
            kind,
            message: match kind {
                ErrorKind::Plugin => format!("plugin error: {reason}"),
                _ => reason,
            },
        }
    }

    /// The input could not be read.
    pub fn input(message: String) -> Self {
        RecordError {
            kind: ErrorKind::Input,
            message,
        }
    }

    /// Why the host would not prepare a trace, with the flag that lifts the cap.
    pub fn of_prepare(error: &PrepareError) -> Self {
        match error {
            PrepareError::TooManySpans { spans, cap, .. } => RecordError {
                kind: ErrorKind::TooManySpans,
                message: format!(
                    "{spans} spans, more than the cap of {cap}; raise it with `--max-spans {spans}`"
                ),
            },
            other => RecordError {
                kind: ErrorKind::Input,
                message: other.to_string(),
            },
        }
    }
}

/// The result of one trace: a line of `--output`, and an `eval-result` message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct EvalRecord {
    /// The trace file, as given on the command line.
    pub file: String,
    /// The line (from 1) of JSON lines; for a document, the line of a syntax error if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// The trace id, when the trace could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// How it came out.
    pub verdict: Verdict,
    /// The plugin's result: `score`, `passed`, `label`, `explanation`, `metrics`, `findings`.
    #[serde(flatten)]
    pub result: Option<EvalResult>,
    /// Why there is no result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<RecordError>,
    /// The last lines the plugin logged on it (at most 50 lines or 16 KiB, the older lines
    /// dropped first).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub log: Vec<LogLine>,
    /// How many older lines were dropped to stay within those bounds.
    #[serde(skip_serializing_if = "is_zero")]
    pub log_dropped: usize,
    /// Wall-clock time of the call, parsing the line included, in seconds.
    #[serde(serialize_with = "seconds")]
    pub exec_time: Duration,
}

impl Message for EvalRecord {
    const REASON: &'static str = "eval-result";
}

impl EvalRecord {
    /// `file:line` (or `file`), for messages.
    pub fn location(&self) -> String {
        match self.line {
            Some(line) => format!("{}:{line}", self.file),
            None => self.file.clone(),
        }
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// How one unit of `run` input (a trace, or a line of text) came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The plugin's call succeeded: its output is written.
    Ok,
    /// Unreadable input, or the call failed: nothing is written for it.
    Error,
}

/// What `run` writes for one unit of input, in input order.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Output {
    /// Nothing (an error).
    #[default]
    Nothing,
    /// An exporter's bytes for one trace.
    Export(Vec<u8>),
    /// A transformer's traces for one trace (none, when it dropped it).
    Traces(Vec<Trace>),
    /// A transformer's traces for one trace, each as an OTLP/JSON export (`--to otlp`).
    Exports(Vec<serde_json::Value>),
    /// An embedder's vectors: for one line of text, or for the spans of one trace.
    Vectors(Vec<Embedded>),
}

/// One vector of an embedder, and the span whose text it embeds (with `--field`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Embedded {
    /// The span, for the texts of spans.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    /// The vector.
    pub vector: Vec<f32>,
}

/// The outcome of one unit of `run` input: a `run-result` message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RunRecord {
    /// The input file, as given on the command line.
    pub file: String,
    /// The line (from 1) of JSON lines or text; for a document, the line of a syntax error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// The trace id, when the input is a trace that could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// How it came out.
    pub status: Status,
    /// How much it wrote: traces (transformer), bytes (exporter) or vectors (embedder).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub written: Option<u64>,
    /// Why there is no output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<RecordError>,
    /// The last lines the plugin logged on it (at most 50 lines or 16 KiB, the older lines
    /// dropped first).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub log: Vec<LogLine>,
    /// How many older lines were dropped to stay within those bounds.
    #[serde(skip_serializing_if = "is_zero")]
    pub log_dropped: usize,

    /// Wall-clock time of the call, parsing the input included, in seconds.
    #[serde(serialize_with = "seconds")]
    pub exec_time: Duration,
    /// What to write.
    #[serde(skip)]
    pub output: Output,
}

impl Message for RunRecord {
    const REASON: &'static str = "run-result";
}

impl RunRecord {
    /// `file:line` (or `file`), for messages.
    pub fn location(&self) -> String {
        match self.line {
            Some(line) => format!("{}:{line}", self.file),
            None => self.file.clone(),
        }
    }
}

/// A `run` in numbers: the final `run-summary` message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RunSummary {
    /// The plugin's id.
    pub plugin: String,
    /// Its kind.
    pub kind: String,
    /// Units of input (traces or lines of text, and what could not be read), in all.
    pub inputs: u64,
    /// Units whose call succeeded.
    pub ok: u64,
    /// Units with an error.
    pub errors: u64,
    /// What was written in all: traces (transformer), bytes (exporter) or vectors (embedder).
    pub written: u64,
    /// The unit of `written`: `traces`, `bytes` or `vectors`.
    pub unit: &'static str,
    /// Worker threads.
    pub jobs: usize,
    /// Wall-clock time of the run, in seconds (loading the plugin excluded).
    #[serde(serialize_with = "seconds")]
    pub duration: Duration,
}

impl Message for RunSummary {
    const REASON: &'static str = "run-summary";
}

/// The mean, minimum and maximum of one numeric metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct MetricSummary {
    /// The metric's name.
    pub name: String,
    /// How many traces reported it (as a number; booleans count as 0 or 1).
    pub traces: u64,
    /// Its mean.
    pub mean: f64,
    /// Its smallest value.
    pub min: f64,
    /// Its largest value.
    pub max: f64,
}

/// The run in numbers: the final `eval-summary` message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct EvalSummary {
    /// The plugin's id.
    pub plugin: String,
    /// Traces read (and lines or files that could not be read), in all.
    pub traces: u64,
    /// Evaluated, passed.
    pub passed: u64,
    /// Evaluated, failed.
    pub failed: u64,
    /// Not evaluated.
    pub errors: u64,
    /// The mean score of the evaluated traces; `None` when none was.
    pub mean_score: Option<f64>,
    /// Numeric and boolean metrics, by name.
    pub metrics: Vec<MetricSummary>,
    /// Worker threads.
    pub jobs: usize,
    /// Wall-clock time of the run, in seconds (loading the plugin excluded).
    #[serde(serialize_with = "seconds")]
    pub duration: Duration,
}

impl Message for EvalSummary {
    const REASON: &'static str = "eval-summary";
}

/// Adds records up into an [`EvalSummary`], in constant memory (one entry per metric name).
#[derive(Debug, Default)]
pub struct Tally {
    passed: u64,
    failed: u64,
    errors: u64,
    score_sum: f64,
    metrics: BTreeMap<String, Acc>,
}

#[derive(Debug)]
struct Acc {
    n: u64,
    sum: f64,
    min: f64,
    max: f64,
}

impl Tally {
    /// Count one record.
    pub fn add(&mut self, record: &EvalRecord) {
        match record.verdict {
            Verdict::Passed => self.passed += 1,
            Verdict::Failed => self.failed += 1,
            Verdict::Error => self.errors += 1,
        }
        let Some(result) = &record.result else {
            return;
        };
        self.score_sum += result.score;
        for metric in &result.metrics {
            let value = match &metric.value {
                MetricValue::Float(f) if f.is_finite() => *f,
                MetricValue::Integer(i) => *i as f64,
                MetricValue::Boolean(b) => f64::from(u8::from(*b)),
                MetricValue::Float(_) | MetricValue::Text(_) => continue,
            };
            let acc = self.metrics.entry(metric.name.clone()).or_insert(Acc {
                n: 0,
                sum: 0.0,
                min: f64::INFINITY,
                max: f64::NEG_INFINITY,
            });
            acc.n += 1;
            acc.sum += value;
            acc.min = acc.min.min(value);
            acc.max = acc.max.max(value);
        }
    }

    /// Records counted so far.
    pub fn total(&self) -> u64 {
        self.passed + self.failed + self.errors
    }

    /// Records that are errors so far.
    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// Records with a failed verdict so far.
    pub fn failed(&self) -> u64 {
        self.failed
    }

    /// The summary.
    pub fn finish(self, plugin: String, jobs: usize, duration: Duration) -> EvalSummary {
        let evaluated = self.passed + self.failed;
        EvalSummary {
            plugin,
            traces: self.total(),
            passed: self.passed,
            failed: self.failed,
            errors: self.errors,
            mean_score: (evaluated > 0).then(|| self.score_sum / evaluated as f64),
            metrics: self
                .metrics
                .into_iter()
                .map(|(name, acc)| MetricSummary {
                    name,
                    traces: acc.n,
                    mean: acc.sum / acc.n as f64,
                    min: acc.min,
                    max: acc.max,
                })
                .collect(),
            jobs,
            duration,
        }
    }
}

/// The summary as a table:
///
/// ```text
/// traces      1000
/// passed       450
/// failed       200
/// errors       350
/// mean score 0.712 (of 650 evaluated)
///
/// metric   traces     mean      min      max
/// spans       650    9.000    0.000   18.000
/// ```
pub fn table(out: &mut dyn Write, summary: &EvalSummary) -> io::Result<()> {
    let width = summary.traces.to_string().len().max(5);
    writeln!(out, "traces     {:>width$}", summary.traces)?;
    writeln!(out, "passed     {:>width$}", summary.passed)?;
    writeln!(out, "failed     {:>width$}", summary.failed)?;
    writeln!(out, "errors     {:>width$}", summary.errors)?;
    match summary.mean_score {
        Some(mean) => writeln!(
            out,
            "mean score {:>width$.3} (of {} evaluated)",
            mean,
            summary.passed + summary.failed
        )?,
        None => writeln!(out, "mean score {:>width$}", "-")?,
    }
    if summary.metrics.is_empty() {
        return Ok(());
    }
    let name_width = metric_column_width(summary.metrics.iter().map(|m| m.name.as_str()));
    writeln!(out)?;
    writeln!(
        out,
        "{:<name_width$}  {:>8}  {:>10}  {:>10}  {:>10}",
        "metric", "traces", "mean", "min", "max"
    )?;
    for m in &summary.metrics {
        writeln!(
            out,
            "{:<name_width$}  {:>8}  {:>10}  {:>10}  {:>10}",
            crate::term::sanitize(&m.name),
            m.traces,
            number(m.mean),
            number(m.min),
            number(m.max)
        )?;
    }
    Ok(())
}

/// Three decimals, or scientific notation when that would not fit.
fn number(x: f64) -> String {
    let fixed = format!("{x:.3}");
    if fixed.len() <= 10 {
        fixed
    } else {
        format!("{x:.3e}")
    }
}

/// The width of a summary's `metric` column: its longest name, or the heading.
pub(crate) fn metric_column_width<'a>(names: impl Iterator<Item = &'a str>) -> usize {
    names
        .map(|name| name.chars().count())
        .max()
        .unwrap_or(0)
        .max("metric".len())
}

#[cfg(test)]
mod tests {
    use flowtrace_plugins::results::Metric;

    use super::*;

    fn record(verdict: Verdict, score: f64, metrics: Vec<Metric>) -> EvalRecord {
        EvalRecord {
            file: "t.jsonl".into(),
            line: Some(1),
            trace_id: Some("a".into()),
            verdict,
            result: (verdict != Verdict::Error).then(|| EvalResult {
                score,
                passed: verdict == Verdict::Passed,
                label: None,
                explanation: None,
                metrics,
                findings: Vec::new(),
            }),
            error: None,
            log: Vec::new(),
            log_dropped: 0,
            exec_time: Duration::from_millis(2),
        }
    }

    fn metric(name: &str, value: MetricValue) -> Metric {
        Metric {
            name: name.into(),
            value,
        }
    }

    #[test]
    fn the_tally_counts_verdicts_and_averages_scores_and_numeric_metrics() {
        let mut tally = Tally::default();
        tally.add(&record(
            Verdict::Passed,
            1.0,
            vec![
                metric("spans", MetricValue::Integer(4)),
                metric("cut", MetricValue::Boolean(true)),
                metric("model", MetricValue::Text("x".into())),
            ],
        ));
        tally.add(&record(
            Verdict::Failed,
            0.5,
            vec![metric("spans", MetricValue::Float(2.0))],
        ));
        tally.add(&record(Verdict::Error, 0.0, Vec::new()));
        let summary = tally.finish("p".into(), 2, Duration::from_secs(1));
        assert_eq!(
            (
                summary.traces,
                summary.passed,
                summary.failed,
                summary.errors
            ),
            (3, 1, 1, 1)
        );
        assert_eq!(summary.mean_score, Some(0.75));
        assert_eq!(
            summary.metrics,
            [
                MetricSummary {
                    name: "cut".into(),
                    traces: 1,
                    mean: 1.0,
                    min: 1.0,
                    max: 1.0
                },
                MetricSummary {
                    name: "spans".into(),
                    traces: 2,
                    mean: 3.0,
                    min: 2.0,
                    max: 4.0
                },
            ]
        );
        let mut out = Vec::new();
        table(&mut out, &summary).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "traces         3\npassed         1\nfailed         1\nerrors         1\n\
             mean score 0.750 (of 2 evaluated)\n\n\
             metric    traces        mean         min         max\n\
             cut            1       1.000       1.000       1.000\n\
             spans          2       3.000       2.000       4.000\n"
        );
    }

    #[test]
    fn a_record_flattens_the_result_and_names_its_error() {
        let mut r = record(Verdict::Error, 0.0, Vec::new());
        r.error = Some(RecordError {
            kind: ErrorKind::Trap,
            message: "trapped: unreachable".into(),
        });
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "file": "t.jsonl", "line": 1, "trace-id": "a", "verdict": "error",
                "error": {"kind": "trap", "message": "trapped: unreachable"},
                "exec-time": 0.002
            })
        );
        let ok = serde_json::to_value(record(Verdict::Passed, 1.0, Vec::new())).unwrap();
        assert_eq!(ok["score"], 1.0);
        assert_eq!(ok["passed"], true);
        assert_eq!(ok["verdict"], "passed");
    }
}
