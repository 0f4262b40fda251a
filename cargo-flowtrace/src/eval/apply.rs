//! The work of `run` with an exporter, a transformer or an embedder: one call per trace (or
//! per line of text), so each has the plugin's limits and its own error, as under `eval`.

use std::time::Instant;

use flowtrace_plugins::trace::Trace;
use flowtrace_plugins::{Plugin, PreparedTrace};

use super::engine::{self, Origin, Work};
use super::input::{self, Item};
use super::report::{Embedded, Output, RecordError, RunRecord, Status};

/// A span's text that an embedder embeds (`--field`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SpanField {
    /// The span's output (a completion, a tool's result).
    Output,
    /// The span's input (a prompt, a tool's arguments).
    Input,
}

/// What `run` asks of the plugin.
#[derive(Debug, Clone)]
pub enum Apply {
    /// Export each trace in `format`.
    Export {
        /// The exporter's format name.
        format: String,
    },
    /// Transform each trace.
    Transform,
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
                    let outcome = input::text_of(item.payload)
                        .map_err(RecordError::input)
                        .and_then(|text| self.embed(vec![(None, text)]));
                    record(origin, outcome)
                })
                .collect();
        }
        engine::traces_of(self.plugin.runtime(), names, items)
            .into_iter()
            .map(|(origin, prepared)| {
                let outcome = prepared.and_then(|trace| self.call(&trace));
                record(origin, outcome)
            })
            .collect()
    }
}

impl ApplyWork<'_> {
    /// The plugin's output for one trace.
    fn call(&self, trace: &PreparedTrace) -> Result<Output, RecordError> {
        let plugin = self.plugin;
        let call = |e| RecordError::of_call(&e);
        match &self.apply {
            Apply::Export { format } => plugin
                .export(format, std::slice::from_ref(trace))
                .map(Output::Export)
                .map_err(call),
            Apply::Transform => plugin
                .transform(std::slice::from_ref(trace))
                .map(Output::Traces)
                .map_err(call),
            Apply::Embed { field } => {
                let field = field.unwrap_or(SpanField::Output);
                self.embed(span_texts(trace.trace(), field))
            }
        }
    }

    /// Embed `texts`, each with the span it comes from; no call for no text.
    fn embed(&self, texts: Vec<(Option<String>, String)>) -> Result<Output, RecordError> {
        if texts.is_empty() {
            return Ok(Output::Vectors(Vec::new()));
        }
        let (spans, texts): (Vec<Option<String>>, Vec<String>) = texts.into_iter().unzip();
        let vectors = self
            .plugin
            .embed(&texts)
            .map_err(|e| RecordError::of_call(&e))?;
        Ok(Output::Vectors(
            spans
                .into_iter()
                .zip(vectors)
                .map(|(span_id, vector)| Embedded { span_id, vector })
                .collect(),
        ))
    }
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
fn record(origin: Origin, outcome: Result<Output, RecordError>) -> (RunRecord, u64) {
    let (status, output, error) = match outcome {
        Ok(output) => (Status::Ok, output, None),
        Err(error) => (Status::Error, Output::Nothing, Some(error)),
    };
    let written = match &output {
        Output::Nothing => None,
        Output::Export(bytes) => Some(bytes.len() as u64),
        Output::Traces(traces) => Some(traces.len() as u64),
        Output::Vectors(vectors) => Some(vectors.len() as u64),
    };
    let record = RunRecord {
        file: origin.file,
        line: origin.line,
        trace_id: origin.trace_id,
        status,
        written,
        error,
        exec_time: origin.started.elapsed(),
        output,
    };
    (record, origin.progress)
}
