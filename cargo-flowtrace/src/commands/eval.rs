//! `cargo flowtrace eval <PLUGIN> <TRACES>...`

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{anyhow, Context as _, Result};
use clap::{Args, ValueEnum};
use flowtrace_plugins::manifest::PluginKind;

use crate::context::Context;
use crate::error::ResultExt;
use crate::eval::engine;
use crate::eval::evaluate::Evaluate;
use crate::eval::feedback::Feedback;
use crate::eval::input::{self, Reading, TraceFile};
use crate::eval::report::{self, EvalRecord, Tally};
use crate::eval::source::{self, Expected, LoadedPlugin};
use crate::eval::PluginSource;
use crate::exit_codes;
use crate::junit;

/// Run an evaluator over files of traces, on every core
///
/// PLUGIN is a plugin directory (built first, like `test` does), a built component (`.wasm`,
/// with the flowtrace.toml that `cargo flowtrace build` embeds), or the id of a plugin
/// installed in `$FLOWTRACE_HOME` (default `~/.flowtrace`), loaded with the capabilities the
/// user granted it and its precompiled code. An existing path is taken as a path; anything
/// else as an id. A plugin that is not an evaluator is refused.
///
/// Each trace file is Flowtrace JSON (one trace or an array), JSON lines (one trace, array
/// or OTLP/JSON export per line), an OTLP/JSON export with any number of traces, or
/// OTLP/protobuf (one `ExportTraceServiceRequest`, as an OTLP/HTTP body, or the
/// length-prefixed records of the OpenTelemetry Collector's file exporter with `format:
/// proto`); the format is told from the content, never the name. A gzip-compressed file
/// (`traces.jsonl.gz`) is decompressed as it is read; `-` reads standard input. JSON lines
/// and protobuf records are streamed: memory stays flat however many there are. A JSON
/// document (or an export on one line) is read one `resourceSpans` entry or array element at
/// a time, never as one JSON tree; its traces are complete only at its end. A line or
/// document over `--max-trace-bytes` once decompressed, a bad line or a bad record is an
/// error with its line or byte offset, and the run goes on.
///
/// Traces are evaluated in parallel, each once and under the plugin's limits (its timeout is
/// each trace's), up to 16 in one instance of the plugin (one, for a plugin granted
/// `network` or `embeddings`). Results come out in input order. A trace that cannot be
/// evaluated (an unparsable line, more spans than `--max-spans`, a trap, a timeout, an
/// invalid result, an error the plugin returns) is an error in the results, with its file
/// and line, and the run goes on.
///
/// Human output: `Evaluating` and `Finished` status lines, the first errors, and a summary
/// table on stdout (traces, passed, failed, errors, mean score, and the mean, min and max of
/// every numeric or boolean metric). `--output <file>` writes one JSON object per trace
/// (`file`, `line`, `trace-id`, `verdict`, the result's fields, `error`, and `log`: the last
/// 50 lines or 16 KiB the plugin logged on that trace, with `log-dropped` counting older
/// lines); `--output -` writes them to stdout and the summary to stderr. `--message-format
/// json` writes an `eval-result` message per trace and a final `eval-summary`. An error in
/// human output is shown with the trace's log under it.
///
/// A plugin granted `fs-read` reads its directories relative to a data directory: the
/// plugin's directory for a plugin directory (as under `cargo flowtrace test`), or
/// `--data-dir`. An installed plugin or a `.wasm` has no directory of its own: one granted
/// `fs-read` needs `--data-dir`, and is refused without it.
///
/// The exit code is 0 when every trace was read and run, whatever the verdicts; with
/// `--fail-on error` it is 3 when a trace could not be evaluated, and with `--fail-on failed`
/// also when one failed.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  cargo flowtrace eval . traces.jsonl                    the plugin in this directory
  cargo flowtrace eval sample-evaluator traces/*.json    an installed plugin, many files
  cargo flowtrace eval my-eval-0.1.0.wasm export.json -o results.jsonl
  cargo flowtrace eval my-eval traces.jsonl --config threshold=0.8 --fail-on failed
  cargo flowtrace eval my-eval traces.jsonl --output - | jq 'select(.verdict != \"passed\")'
  cargo flowtrace eval my-eval traces.jsonl --message-format json
  cargo flowtrace eval my-eval traces.jsonl --junit results.xml   JUnit XML for CI
  zcat day-*.jsonl.gz | cargo flowtrace eval my-eval -     traces from standard input")]
pub struct EvalCommand {
    /// The evaluator: an installed plugin's id, a plugin directory, or a component (`.wasm`)
    #[arg(value_name = "PLUGIN")]
    pub plugin: String,

    /// Files of traces: Flowtrace JSON, JSON lines, OTLP/JSON or OTLP/protobuf,
    /// gzip-compressed or not; `-` for standard input
    #[arg(value_name = "TRACES", required = true)]
    pub traces: Vec<PathBuf>,

    /// Write one JSON line per trace to FILE (`-` for stdout)
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also write the results as JUnit XML to FILE (a testcase per trace: failed traces are
    /// failures, traces that could not be evaluated errors), for CI systems
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Evaluate N traces at once [default: the number of CPUs]
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<NonZeroUsize>,

    /// Exit with code 3 when a trace could not be evaluated (`error`), or also when one
    /// failed (`failed`)
    #[arg(long, value_enum, value_name = "WHEN")]
    pub fail_on: Option<FailOn>,

    #[command(flatten)]
    pub load: source::LoadArgs,
}

/// `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Failed,
}

impl EvalCommand {
    /// Run `eval`.
    pub fn exec(self, cx: &Context) -> Result<()> {
        let to_stdout = is_stdout(self.output.as_deref());
        if to_stdout && cx.term.is_json() {
            return Err(anyhow!(
                "`--output -` cannot be used with `--message-format json`"
            ))
            .help("the `eval-result` messages on stdout already hold every result; drop `--output -`, or write them to a file")
            .exit_code(exit_codes::USAGE);
        }
        if let Some(path) = &self.junit {
            junit::check_destination(path)?;
        }
        let source = PluginSource::parse(&self.plugin)?;
        // Before the plugin is built or loaded: a typo in a file name fails at once.
        let files = input::open_all(&self.traces, self.load.read.options())?;
        let output = open_output(self.output.as_deref())?;
        let request = self.load.request(true);
        let expected = Expected {
            kind: PluginKind::Evaluator,
            command: "cargo flowtrace eval",
        };
        let loaded = source::load(cx, &source, &request, Some(expected))?;
        let options = EvalOptions {
            junit: self.junit.as_deref(),
            jobs: jobs(self.jobs),
            fail_on: self.fail_on,
        };
        evaluate(cx, &options, &loaded, files, output)
    }
}

/// What `eval` (and `run` of an evaluator) does with the results, beyond the summary.
pub(crate) struct EvalOptions<'a> {
    /// `--junit FILE`.
    pub junit: Option<&'a Path>,
    /// Worker threads.
    pub jobs: usize,
    /// `--fail-on`.
    pub fail_on: Option<FailOn>,
}

/// `-j N`, or the number of CPUs.
pub(crate) fn jobs(jobs: Option<NonZeroUsize>) -> usize {
    jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
        NonZeroUsize::get,
    )
}

/// Whether `--output` is `-`.
pub(crate) fn is_stdout(output: Option<&Path>) -> bool {
    output.is_some_and(|p| p.as_os_str() == "-")
}

/// Where `--output` writes, and its name for messages: stdout for `-`, else the file,
/// created now (before anything is built or run).
pub(crate) fn open_output(output: Option<&Path>) -> Result<Option<(String, Box<dyn Write>)>> {
    Ok(match output {
        None => None,
        Some(_) if is_stdout(output) => {
            Some(("stdout".into(), Box::new(BufWriter::new(io::stdout()))))
        }
        Some(path) => {
            let file = File::create(path)
                .with_context(|| format!("failed to create `{}`", path.display()))?;
            Some((
                format!("`{}`", path.display()),
                Box::new(BufWriter::new(file)),
            ))
        }
    })
}

/// Evaluate every trace of `files` with the evaluator `loaded`: records to `output` and as
/// `eval-result` messages, the summary table, JUnit XML, the exit code of `--fail-on`.
pub(crate) fn evaluate(
    cx: &Context,
    options: &EvalOptions<'_>,
    loaded: &LoadedPlugin,
    files: Vec<TraceFile>,
    mut output: Option<(String, Box<dyn Write>)>,
) -> Result<()> {
    let term = &cx.term;
    let plugin = &loaded.plugin;
    let jobs = options.jobs;
    let to_stdout = output.as_ref().is_some_and(|(name, _)| name == "stdout");
    let started = Instant::now();
    let mut tally = Tally::default();
    let mut feedback = Feedback::start(
        term,
        "Evaluating",
        &files,
        &loaded.description,
        jobs,
        plugin.id().as_str(),
    );
    let mut junit = options
        .junit
        .map(|_| junit::EvalSuite::new(plugin.id().as_str()));
    let mut on_record = |record: &EvalRecord, read: u64| -> Result<()> {
        tally.add(record);
        if let Some(junit) = &mut junit {
            junit.add(record);
        }
        if let Some((name, out)) = &mut output {
            write_line(out, record, name)?;
        }
        term.emit(record)?;
        if record.error.is_some() {
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
            format!(
                "{} traces, {} failed, {} errors",
                tally.total(),
                tally.failed(),
                tally.errors()
            )
        });
        Ok(())
    };
    engine::run(
        &Evaluate { plugin },
        files,
        Reading::Traces,
        jobs,
        &mut on_record,
    )?;
    if let Some((name, out)) = &mut output {
        out.flush()
            .with_context(|| format!("failed to write the results to {name}"))?;
    }
    let elapsed = started.elapsed();
    let summary = tally.finish(plugin.id().to_string(), jobs, elapsed);
    feedback.finish(
        output.as_ref().map(|(name, _)| name.as_str()),
        summary.traces,
        "trace",
        elapsed,
    );
    if let (Some(path), Some(suite)) = (options.junit, junit) {
        crate::junit::write(path, &suite.finish(elapsed))?;
    }
    if term.is_human() {
        let mut table = Vec::new();
        report::table(&mut table, &summary)?;
        if to_stdout {
            term.stderr_line(String::from_utf8_lossy(&table).trim_end());
        } else {
            let mut out = term.stdout();
            out.write_all(&table)?;
            out.flush()?;
        }
    }
    term.emit(&summary)?;
    if summary.traces == 0 {
        term.warn("no traces in the input");
    }
    let (bad, what) = match options.fail_on {
        None => return Ok(()),
        Some(FailOn::Error) => (summary.errors, "could not be evaluated"),
        Some(FailOn::Failed) => (
            summary.errors + summary.failed,
            "failed or could not be evaluated",
        ),
    };
    fail_if(bad, summary.traces, what)
}

/// Exit code 3 when `bad` of `total` traces are `what`.
pub(crate) fn fail_if(bad: u64, total: u64, what: &str) -> Result<()> {
    if bad == 0 {
        return Ok(());
    }
    Err(anyhow!(
        "{bad} of {total} {} {what}",
        if total == 1 { "trace" } else { "traces" }
    ))
    .exit_code(exit_codes::TESTS_FAILED)
}

/// One JSON line of `value` to `out` (named `name` in errors).
pub(crate) fn write_line(
    out: &mut dyn Write,
    value: &impl serde::Serialize,
    name: &str,
) -> Result<()> {
    serde_json::to_writer(&mut *out, value)
        .map_err(io::Error::from)
        .and_then(|()| out.write_all(b"\n"))
        .with_context(|| format!("failed to write the results to {name}"))
}
