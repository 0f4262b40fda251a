//! `cargo flowtrace eval <PLUGIN> <TRACES>...`

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{anyhow, Context as _, Result};
use clap::{Args, ValueEnum};
use flowtrace_plugins::trace::ReadOptions;

use crate::context::Context;
use crate::error::ResultExt;
use crate::eval::report::{self, EvalRecord, Tally, Verdict};
use crate::eval::{input, run, source, LoadRequest, PluginSource};
use crate::exit_codes;
use crate::junit;

/// How many errors human output lists before it only counts them.
const ERRORS_SHOWN: u64 = 10;

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
/// (`file`, `line`, `trace-id`, `verdict`, the result's fields, `error`); `--output -` writes
/// them to stdout and the summary to stderr. `--message-format json` writes an `eval-result`
/// message per trace and a final `eval-summary`.
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

    /// Override a `[config]` value of the plugin (repeatable); lists are `a,b,c`
    #[arg(long, value_name = "KEY=VALUE", value_parser = source::parse_config_arg)]
    pub config: Vec<(String, String)>,

    /// Exit with code 3 when a trace could not be evaluated (`error`), or also when one
    /// failed (`failed`)
    #[arg(long, value_enum, value_name = "WHEN")]
    pub fail_on: Option<FailOn>,

    /// Build a plugin directory with the release profile
    #[arg(long)]
    pub release: bool,

    /// The directory the plugin's `fs-read` paths are relative to [default: the plugin's
    /// directory, for a plugin directory]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Refuse traces of more than N spans: each is an error in the results, and the run goes
    /// on [default: 100000]
    #[arg(long, value_name = "N")]
    pub max_spans: Option<NonZeroUsize>,

    /// Refuse a line of JSON lines, or a JSON document, of more than SIZE bytes once
    /// decompressed (`64MiB`, `2GiB`, or bytes): each is an error in the results, a long line
    /// is skipped without being held, and the run goes on [default: 256MiB]
    #[arg(long, value_name = "SIZE", value_parser = parse_trace_bytes)]
    pub max_trace_bytes: Option<u64>,
}

/// `--max-trace-bytes`: a size as the manifest's limits write it.
fn parse_trace_bytes(text: &str) -> Result<u64, String> {
    flowtrace_plugins::manifest::parse_size(text)
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
        let term = &cx.term;
        let to_stdout = self.output.as_deref().is_some_and(|p| p.as_os_str() == "-");
        if to_stdout && term.is_json() {
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
        let mut read = ReadOptions::default();
        if let Some(bytes) = self.max_trace_bytes {
            read.max_line_bytes = bytes;
            read.max_document_bytes = bytes;
        }
        let files = input::open_all(&self.traces, read)?;
        let mut output: Option<(String, Box<dyn Write>)> = match &self.output {
            None => None,
            Some(_) if to_stdout => Some(("stdout".into(), Box::new(BufWriter::new(io::stdout())))),
            Some(path) => {
                let file = File::create(path)
                    .with_context(|| format!("failed to create `{}`", path.display()))?;
                Some((
                    format!("`{}`", path.display()),
                    Box::new(BufWriter::new(file)),
                ))
            }
        };
        let loaded = source::load(
            cx,
            &source,
            &LoadRequest {
                release: self.release,
                config: self.config.clone(),
                max_spans: self.max_spans.map(NonZeroUsize::get),
                data_dir: self.data_dir.clone(),
            },
        )?;
        let plugin = &loaded.plugin;
        let jobs = self.jobs.map_or_else(
            || std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
            NonZeroUsize::get,
        );
        // Unknown with standard input among the files: a spinner then.
        let total_bytes: Option<u64> = files.iter().map(|f| f.size).sum();
        let what = match files.as_slice() {
            [one] => format!("`{}`", one.shown),
            many => format!("{} files", many.len()),
        };
        term.status(
            "Evaluating",
            format_args!(
                "{what} with {}, {jobs} {}",
                loaded.description,
                if jobs == 1 { "thread" } else { "threads" }
            ),
        );

        let started = Instant::now();
        let mut tally = Tally::default();
        let mut errors_shown = 0u64;
        let progress = term.progress_bytes("Evaluating", total_bytes, plugin.id().to_string());
        let mut junit = self
            .junit
            .as_ref()
            .map(|_| junit::EvalSuite::new(plugin.id().as_str()));
        let mut on_record = |record: &EvalRecord, read: u64| -> Result<()> {
            tally.add(record);
            if let Some(junit) = &mut junit {
                junit.add(record);
            }
            if let Some((name, out)) = &mut output {
                serde_json::to_writer(&mut *out, record)
                    .map_err(io::Error::from)
                    .and_then(|()| out.write_all(b"\n"))
                    .with_context(|| format!("failed to write the results to {name}"))?;
            }
            term.emit(record)?;
            if term.is_human() && record.verdict == Verdict::Error {
                if errors_shown < ERRORS_SHOWN {
                    term.error(error_line(record));
                }
                errors_shown += 1;
            }
            if !progress.is_hidden() {
                progress.set_position(read);
                progress.set_message(format!(
                    "{} traces, {} failed, {} errors",
                    tally.total(),
                    tally.failed(),
                    tally.errors()
                ));
            }
            Ok(())
        };
        run::run(plugin, files, jobs, &mut on_record)?;
        drop(progress);
        if let Some((name, out)) = &mut output {
            out.flush()
                .with_context(|| format!("failed to write the results to {name}"))?;
        }
        let elapsed = started.elapsed();
        let summary = tally.finish(plugin.id().to_string(), jobs, elapsed);
        if let (Some(path), Some(suite)) = (&self.junit, junit) {
            crate::junit::write(path, &suite.finish(elapsed))?;
        }

        if term.is_human() {
            if errors_shown > ERRORS_SHOWN {
                let more = errors_shown - ERRORS_SHOWN;
                match &output {
                    Some((name, _)) => term.note(format_args!(
                        "{more} more errors not shown; {name} has every result"
                    )),
                    None => term.note(format_args!(
                        "{more} more errors not shown; `--output <file>` writes every result"
                    )),
                }
            }
            let rate = summary.traces as f64 / elapsed.as_secs_f64().max(1e-9);
            term.status(
                "Finished",
                format_args!(
                    "{} {} in {:.2}s ({rate:.0} traces/s)",
                    summary.traces,
                    if summary.traces == 1 {
                        "trace"
                    } else {
                        "traces"
                    },
                    elapsed.as_secs_f64()
                ),
            );
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
        let (bad, what) = match self.fail_on {
            None => return Ok(()),
            Some(FailOn::Error) => (summary.errors, "could not be evaluated"),
            Some(FailOn::Failed) => (
                summary.errors + summary.failed,
                "failed or could not be evaluated",
            ),
        };
        if bad == 0 {
            return Ok(());
        }
        Err(anyhow!(
            "{bad} of {} {} {what}",
            summary.traces,
            if summary.traces == 1 {
                "trace"
            } else {
                "traces"
            }
        ))
        .exit_code(exit_codes::TESTS_FAILED)
    }
}

/// `traces.jsonl:12: trace `abc`: trapped: ...`, control characters neutralised.
fn error_line(record: &EvalRecord) -> String {
    let message = record
        .error
        .as_ref()
        .map_or("no result", |e| e.message.as_str());
    let message = crate::term::sanitize(message);
    let message = message.lines().next().unwrap_or_default();
    match &record.trace_id {
        Some(id) => format!(
            "{}: trace `{}`: {message}",
            record.location(),
            crate::term::sanitize(id)
        ),
        None => format!("{}: {message}", record.location()),
    }
}
