//! The work of `run` with an exporter, a transformer or an embedder: one call per trace (or
//! per line of text), so each has the plugin's limits and its own error, as under `eval`.

use std::time::Instant;

use flowtrace_plugins::services::CallLog;
use flowtrace_plugins::trace::{to_otlp_json, Trace};
use flowtrace_plugins::{CallError, Logged, Plugin, PreparedTrace};

use super::engine::{self, Origin, Work};
use super::input::{self, Item};
use super::report::{self, Embedded, ErrorKind, Output, RecordError, RunRecord, Status};

/// A span's text that an embedder embeds (`--field`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SpanField {
    /// The span's output (a completion, a tool's result).
    Output,
    /// The span's input (a prompt, a tool's arguments).
    Input,
}

/// How `run` writes traces (`--to`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum TraceFormat {
    /// Flowtrace JSON, one trace per line.
    #[default]
    Flowtrace,
    /// OTLP/JSON, one export (`{"resourceSpans": ...}`) per trace and line.
    Otlp,
}

/// What `run` asks of the plugin.
#[derive(Debug, Clone)]
pub enum Apply {
    /// Export each trace in `format`.
    Export {
        /// The exporter's format name.
        format: String,
    },
    /// Transform each trace, written as `to` says.
    Transform {
        /// The format of the traces written.
        to: TraceFormat,
    },
    /// Embed each line of text, or with `field` the texts of each trace's spans.
    Embed {
        /// Which text of each span; `None`: the input is text, one per line.
        field: Option<SpanField>,
    },
}

/// Call one plugin on every unit of input.
pub struct ApplyWork<'p> {
    /// The plugin.
    pub plugin: &'p Plugin,
    /// The call.
    pub apply: Apply,
}

impl Work for ApplyWork<'_> {
    type Record = RunRecord;

    fn records(&self, names: &[String], items: Vec<Item>) -> Vec<(RunRecord, u64)> {
        if let Apply::Embed { field: None } = self.apply {
            return items
                .into_iter()
                .map(|item| {
                    let origin = Origin {
                        file: names[item.file].clone(),
                        line: item.line,
                        trace_id: None,
                        progress: item.progress,
                        started: Instant::now(),
                    };
                    let outcome = match input::text_of(item.payload) {
                        Ok(text) => self.embed(vec![(None, text)]),
                        Err(message) => (Err(RecordError::input(message)), CallLog::default()),
                    };
                    record(origin, outcome)
                })
                .collect();
        }
        engine::traces_of(self.plugin.runtime(), names, items)
            .into_iter()
            .map(|(origin, prepared)| {
                let outcome = match prepared {
                    Ok(trace) => self.call(&trace),
                    Err(error) => (Err(error), CallLog::default()),
                };
                record(origin, outcome)
            })
            .collect()
    }
}

impl ApplyWork<'_> {
    /// The plugin's output for one trace, and what the call logged.
    fn call(&self, trace: &PreparedTrace) -> Called {
        let plugin = self.plugin;
        let traces = std::slice::from_ref(trace);
        match &self.apply {
            Apply::Export { format } => {
                settle(plugin.export_logged(format, traces), Output::Export)
            }
            Apply::Transform { to } => {
                let (outcome, log) = settle(plugin.transform_logged(traces), Output::Traces);
                let outcome = match (outcome, to) {
                    (Ok(Output::Traces(traces)), TraceFormat::Otlp) => otlp(&traces),
                    (outcome, _) => outcome,
                };
                (outcome, log)
            }
            Apply::Embed { field } => {
                let field = field.unwrap_or(SpanField::Output);
                self.embed(span_texts(trace.trace(), field))
            }
        }
    }

    /// Embed `texts`, each with the span it comes from; no call for no text.
    fn embed(&self, texts: Vec<(Option<String>, String)>) -> Called {
        if texts.is_empty() {
            return (Ok(Output::Vectors(Vec::new())), CallLog::default());
        }
        let (spans, texts): (Vec<Option<String>>, Vec<String>) = texts.into_iter().unzip();
        settle(self.plugin.embed_logged(&texts), |vectors| {
            Output::Vectors(
                spans
                    .into_iter()
                    .zip(vectors)
                    .map(|(span_id, vector)| Embedded { span_id, vector })
                    .collect(),
            )
        })
    }
}

/// `traces` as OTLP/JSON exports; a trace OTLP cannot hold is the record's error.
fn otlp(traces: &[Trace]) -> Result<Output, RecordError> {
    traces
        .iter()
        .map(to_otlp_json)
        .collect::<Result<Vec<_>, _>>()
        .map(Output::Exports)
        .map_err(|e| RecordError {
            kind: ErrorKind::InvalidResult,
            message: format!("a transformed trace cannot be written as OTLP/JSON: {e}"),
        })
}

/// What a call gave, and what it logged.
type Called = (Result<Output, RecordError>, CallLog);

/// A call's value as an output, its error as a record's.
fn settle<T>(logged: Logged<Result<T, CallError>>, output: impl FnOnce(T) -> Output) -> Called {
    let value = logged
        .value
        .map(output)
        .map_err(|e| RecordError::of_call(&e));
    (value, logged.log)
}

/// The `field` text of every span of `trace` that has one, with the span's id.
fn span_texts(trace: &Trace, field: SpanField) -> Vec<(Option<String>, String)> {
    trace
        .spans
        .iter()
        .filter_map(|span| {
            let text = match field {
                SpanField::Output => span.output.as_ref(),
                SpanField::Input => span.input.as_ref(),
            };
            text.map(|t| (Some(span.id.clone()), t.clone()))
        })
        .collect()
}

/// The record of one unit of input.
fn record(origin: Origin, (outcome, log): Called) -> (RunRecord, u64) {
    let (log, log_dropped) = report::log_of(log);
    let (status, output, error) = match outcome {
        Ok(output) => (Status::Ok, output, None),
        Err(error) => (Status::Error, Output::Nothing, Some(error)),
    };
    let written = match &output {
        Output::Nothing => None,
        Output::Export(bytes) => Some(bytes.len() as u64),
        Output::Traces(traces) => Some(traces.len() as u64),
        Output::Exports(exports) => Some(exports.len() as u64),
        Output::Vectors(vectors) => Some(vectors.len() as u64),
    };
    let record = RunRecord {
        file: origin.file,
        line: origin.line,
        trace_id: origin.trace_id,
        status,
        written,
        error,
        log,
        log_dropped,
        exec_time: origin.started.elapsed(),
        output,
    };
    (record, origin.progress)
}
