//! `cargo flowtrace run <PLUGIN> <TRACES>...`

use std::io::Write;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{anyhow, Context as _, Result};
use clap::Args;
use flowtrace_plugins::manifest::PluginKind;
use serde::Serialize;

use super::eval::{self, EvalOptions, FailOn};
use crate::context::Context;
use crate::error::ResultExt;
use crate::eval::apply::{Apply, ApplyWork, SpanField, TraceFormat};
use crate::eval::engine;
use crate::eval::feedback::Feedback;
use crate::eval::input::{self, Reading};
use crate::eval::report::{Output, RunRecord, RunSummary, Status};
use crate::eval::source::{self, LoadedPlugin};
use crate::eval::PluginSource;
use crate::exit_codes;

/// Run a plugin of any kind over files of traces (or of text, for an embedder)
///
/// PLUGIN is what `eval` takes: a plugin directory (built first), a built component
/// (`.wasm`), or the id of an installed plugin. What comes out depends on its kind:
///
/// - exporter: the export of every trace, in input order, in `--format` (default: the first
///   format the exporter lists). Each trace is exported in its own call, and the outputs are
///   written one after the other: right for formats made of lines or records (JSON lines,
///   CSV rows), not for one document holding every trace.
/// - transformer: the transformed traces as Flowtrace JSON lines, one trace per line, which
///   `eval` and `run` read back (`cargo flowtrace run redactor traces.json | cargo
///   flowtrace eval checker -`); with `--to otlp`, as OTLP/JSON exports, one per trace and
///   line (a trace whose ids are not OpenTelemetry's hex ids is then an error).
/// - embedder: one JSON line per vector, `{"file", "line", "vector"}`, for each line of the
///   input files (texts, one per line; blank lines are skipped); with `--field output` (or
///   `input`) the input files are traces, and each span's output (or input) is embedded,
///   its line naming `trace-id` and `span-id`.
/// - evaluator: what `cargo flowtrace eval` does, with its flags.
///
/// The output goes to stdout, or to `--output FILE`. Traces are read as `eval` reads them
/// (any format, gzip-compressed or not, `-` for standard input), on every core, each in its
/// own call under the plugin's limits, and the outputs are written in input order. A trace
/// or line that cannot be read or whose call fails is an error, shown with its file and line
/// (and what the plugin logged), and the run goes on; nothing is written for it.
/// `--message-format json` writes a `run-result` message per trace (or line) and a final
/// `run-summary` on stdout, so the output then needs `--output FILE`.
///
/// The exit code is 0 when every input was read and run, whatever failed; with `--fail-on
/// error` it is 3 when a trace or line could not be run.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  cargo flowtrace run my-exporter traces.jsonl -o spans.jsonl
  cargo flowtrace run my-exporter traces.jsonl --format csv > spans.csv
  cargo flowtrace run redactor traces.json | cargo flowtrace eval checker -
  cargo flowtrace run my-embedder questions.txt > vectors.jsonl
  cargo flowtrace run my-embedder traces.jsonl --field output -o vectors.jsonl
  cargo flowtrace run my-eval traces.jsonl --fail-on failed   same as `eval`")]
pub struct RunCommand {
    /// The plugin: an installed plugin's id, a plugin directory, or a component (`.wasm`)
    #[arg(value_name = "PLUGIN")]
    pub plugin: String,

    /// Files of traces (Flowtrace JSON, JSON lines, OTLP/JSON or OTLP/protobuf,
    /// gzip-compressed or not), or of text for an embedder without `--field`; `-` for
    /// standard input
    #[arg(value_name = "TRACES", required = true)]
    pub traces: Vec<PathBuf>,

    /// Write the output to FILE (`-` for stdout) [default: stdout]; for an evaluator, one
    /// JSON line per trace, as `eval --output`
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Exporter: the format to export in [default: the first the exporter lists]
    #[arg(long, value_name = "NAME")]
    pub format: Option<String>,

    /// Transformer: write the traces as Flowtrace JSON lines (`flowtrace`) or as OTLP/JSON,
    /// one export per trace and line (`otlp`) [default: flowtrace]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub to: Option<TraceFormat>,

    /// Embedder: read traces, and embed this text of each span (spans without one are
    /// skipped) [default: the input files are text, one per line]
    #[arg(long, value_enum, value_name = "FIELD")]
    pub field: Option<SpanField>,

    /// Evaluator: also write the results as JUnit XML to FILE
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Run N traces at once [default: the number of CPUs]
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<NonZeroUsize>,

    /// Exit with code 3 when a trace could not be run (`error`), or, for an evaluator, also
    /// when one failed (`failed`)
    #[arg(long, value_enum, value_name = "WHEN")]
    pub fail_on: Option<FailOn>,

    #[command(flatten)]
    pub load: source::LoadArgs,
}

impl RunCommand {
    /// Run `run`.
    pub fn exec(self, cx: &Context) -> Result<()> {
        if let Some(path) = &self.junit {
            crate::junit::check_destination(path)?;
        }
        let source = PluginSource::parse(&self.plugin)?;
        // Before the plugin is built or loaded: a typo in a file name fails at once.
        let files = input::open_all(&self.traces, self.load.read.options())?;
        let request = self.load.request(true);
        let loaded = source::load(cx, &source, &request, None)?;
        let kind = loaded.plugin.manifest().plugin.kind;
        self.check_flags(kind)?;
        let to_stdout = self.output.is_none() || eval::is_stdout(self.output.as_deref());
        if kind == PluginKind::Evaluator {
            if to_stdout && self.output.is_some() && cx.term.is_json() {
                return Err(anyhow!(
                    "`--output -` cannot be used with `--message-format json`"
                ))
                .help("the `eval-result` messages on stdout already hold every result; drop `--output -`, or write them to a file")
                .exit_code(exit_codes::USAGE);
            }
            let output = eval::open_output(self.output.as_deref())?;
            let options = EvalOptions {
                junit: self.junit.as_deref(),
                jobs: eval::jobs(self.jobs),
                fail_on: self.fail_on,
            };
            return eval::evaluate(cx, &options, &loaded, files, output);
        }
        if to_stdout && cx.term.is_json() {
            return Err(anyhow!(
                "the {kind}'s output and the JSON messages would both go to stdout"
            ))
            .help("write the output to a file with `--output FILE`")
            .exit_code(exit_codes::USAGE);
        }
        let apply = match kind {
            PluginKind::Exporter => Apply::Export {
                format: self.format(&loaded)?,
            },
            PluginKind::Transformer => Apply::Transform {
                to: self.to.unwrap_or_default(),
            },
            PluginKind::Embedder => Apply::Embed { field: self.field },
            PluginKind::Evaluator => unreachable!("evaluators are run by `eval` above"),
        };
        let output = match eval::open_output(self.output.as_deref())? {
            Some(output) => output,
            None => eval::open_output(Some("-".as_ref()))?.expect("stdout"),
        };
        let reading = match apply {
            Apply::Embed { field: None } => Reading::Texts,
            _ => Reading::Traces,
        };
        run(cx, &loaded, apply, reading, files, output, self)
    }

    /// Refuse the flags of other kinds.
    fn check_flags(&self, kind: PluginKind) -> Result<()> {
        let given: [(&str, bool, PluginKind); 5] = [
            ("--format", self.format.is_some(), PluginKind::Exporter),
            ("--to", self.to.is_some(), PluginKind::Transformer),
            ("--field", self.field.is_some(), PluginKind::Embedder),
            ("--junit", self.junit.is_some(), PluginKind::Evaluator),
            (
                "--fail-on failed",
                self.fail_on == Some(FailOn::Failed),
                PluginKind::Evaluator,
            ),
        ];
        for (flag, set, owner) in given {
            if set && kind != owner {
                return Err(anyhow!(
                    "`{flag}` applies to {}s, and `{}` is {} {kind}",
                    owner.as_str(),
                    self.plugin,
                    flowtrace_plugins::diag::article(kind.as_str())
                ))
                .help(format!("drop `{flag}`"))
                .exit_code(exit_codes::USAGE);
            }
        }
        Ok(())
    }

    /// `--format`, checked against the exporter's formats, or its first format.
    fn format(&self, loaded: &LoadedPlugin) -> Result<String> {
        let formats = loaded
            .plugin
            .formats()
            .map_err(anyhow::Error::new)
            .with_context(|| format!("failed to ask {} for its formats", loaded.description))?;
        let names: Vec<String> = formats.iter().map(|f| format!("`{}`", f.name)).collect();
        match (&self.format, formats.first()) {
            (Some(format), _) if formats.iter().any(|f| f.name == *format) => Ok(format.clone()),
            (Some(format), _) => Err(anyhow!("{} does not export `{format}`", loaded.description))
                .help(if names.is_empty() {
                    "the exporter lists no formats".to_string()
                } else {
                    format!("pass one of its formats: {}", names.join(", "))
                })
                .exit_code(exit_codes::USAGE),
            (None, Some(first)) => Ok(first.name.clone()),
            (None, None) => Err(anyhow!("{} lists no formats", loaded.description))
                .help("an exporter's `formats()` names what it writes: fix the plugin"),
        }
    }
}

/// One line of an embedder's output.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct VectorLine<'a> {
    file: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    span_id: Option<&'a str>,
    vector: &'a [f32],
}

/// Write what `record` produced to `out`.
fn write_output(out: &mut dyn Write, record: &RunRecord, name: &str) -> Result<()> {
    let failed = || format!("failed to write the output to {name}");
    match &record.output {
        Output::Nothing => {}
        Output::Export(bytes) => out.write_all(bytes).with_context(failed)?,
        Output::Traces(traces) => {
            for trace in traces {
                eval::write_line(out, trace, name)?;
            }
        }
        Output::Exports(exports) => {
            for export in exports {
                eval::write_line(out, export, name)?;
            }
        }
        Output::Vectors(vectors) => {
            for embedded in vectors {
                let line = VectorLine {
                    file: &record.file,
                    line: record.line,
                    trace_id: record.trace_id.as_deref(),
                    span_id: embedded.span_id.as_deref(),
                    vector: &embedded.vector,
                };
                eval::write_line(out, &line, name)?;
            }
        }
    }
    Ok(())
}

/// Run an exporter, transformer or embedder over `files`, writing to `output` in input order.
fn run(
    cx: &Context,
    loaded: &LoadedPlugin,
    apply: Apply,
    reading: Reading,
    files: Vec<input::TraceFile>,
    output: (String, Box<dyn Write>),
    command: RunCommand,
) -> Result<()> {
    let term = &cx.term;
    let plugin = &loaded.plugin;
    let kind = plugin.manifest().plugin.kind;
    let (verb, unit, noun) = match &apply {
        Apply::Export { .. } => ("Exporting", "bytes", "trace"),
        Apply::Transform { .. } => ("Transforming", "traces", "trace"),
        Apply::Embed { field: None } => ("Embedding", "vectors", "text"),
        Apply::Embed { field: Some(_) } => ("Embedding", "vectors", "trace"),
    };
    let jobs = eval::jobs(command.jobs);
    let (name, mut out) = output;
    let started = Instant::now();
    let mut feedback = Feedback::start(
        term,
        verb,
        &files,
        &loaded.description,
        jobs,
        plugin.id().as_str(),
    );
    let (mut inputs, mut errors, mut written) = (0u64, 0u64, 0u64);
    let mut on_record = |record: &RunRecord, read: u64| -> Result<()> {
        inputs += 1;
        write_output(&mut *out, record, &name)?;
        written += record.written.unwrap_or(0);
        term.emit(record)?;
        if record.status == Status::Error {
            errors += 1;
            feedback.error(
                &record.location(),
                record.trace_id.as_deref(),
                record.error.as_ref(),
                &record.log,
                record.log_dropped,
            );
        } else {
            feedback.warnings(&record.location(), record.trace_id.as_deref(), &record.log);
        }
        feedback.progress(read, || {
            format!("{inputs} {noun}s, {errors} errors, {written} {unit} written")
        });
        Ok(())
    };
    let work = ApplyWork { plugin, apply };
    engine::run(&work, files, reading, jobs, &mut on_record)?;
    out.flush()
        .with_context(|| format!("failed to write the output to {name}"))?;
    drop(out);
    let elapsed = started.elapsed();
    feedback.finish(None, inputs, noun, elapsed);
    let summary = RunSummary {
        plugin: plugin.id().to_string(),
        kind: kind.as_str().to_string(),
        inputs,
        ok: inputs - errors,
        errors,
        written,
        unit,
        jobs,
        duration: elapsed,
    };
    if term.is_human() {
        term.status(
            "Wrote",
            format_args!(
                "{written} {unit} to {name} ({} of {inputs} {noun}s ok, {errors} errors)",
                inputs - errors
            ),
        );
    }
    term.emit(&summary)?;
    if inputs == 0 {
        term.warn(format_args!("no {noun}s in the input"));
    }
    match command.fail_on {
        Some(_) => eval::fail_if(errors, inputs, "could not be run"),
        None => Ok(()),
    }
}
