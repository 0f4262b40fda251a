//! `cargo flowtrace diff <A> <B> <TRACES>...`

use std::io::Write;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{anyhow, Result};
use clap::{Args, ValueEnum};
use flowtrace_plugins::manifest::PluginKind;
use flowtrace_plugins::trace::Trace;

use super::eval;
use crate::context::Context;
use crate::error::ResultExt;
use crate::eval::diff::{self, DiffRecord, DiffSummary, DiffTally, DiffWork};
use crate::eval::engine::{self, Work};
use crate::eval::feedback::Feedback;
use crate::eval::input::{self, Item, Payload, Reading};
use crate::eval::source::{self, Expected, LoadedPlugin};
use crate::eval::{LoadRequest, PluginSource};
use crate::exit_codes;

/// Compare two evaluators (or two versions of one) over the same traces
///
/// A and B are each what `eval` takes: the id of an installed plugin, `id@version` for an
/// installed version other than the active one, a plugin directory (built first) or a
/// component (`.wasm`). Both evaluate every trace, read as `eval` reads them (any format,
/// `-` for standard input), on every core, each under its own limits.
///
/// Human output lists each trace whose outcome changed (verdict, score, label or a
/// metric), in input order, then a summary: traces changed, flips from pass to fail and
/// from fail to pass, traces that became errors or stopped being errors, the mean score
/// delta (B minus A, over the traces both evaluated), and each numeric metric's mean under A
/// and B. `--message-format json` writes a `diff-result` message per trace (`changed`,
/// `score-delta`, and each side's verdict, score, label, metrics and error) and a final
/// `diff-summary`.
///
/// The exit code is 0 whatever changed; with `--fail-on changed` it is 3 when any trace
/// changed, and with `--max-score-delta X` when a trace's score moved by more than X either
/// way (or became, or stopped being, an error).
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  cargo flowtrace diff my-eval@0.1.0 my-eval@0.2.0 traces.jsonl
  cargo flowtrace diff my-eval . traces/*.json          the installed one against this directory
  cargo flowtrace diff old.wasm new.wasm traces.jsonl --fail-on changed
  cargo flowtrace diff my-eval . traces.jsonl --max-score-delta 0.1 --message-format json")]
pub struct DiffCommand {
    /// The evaluator compared against: an installed plugin's id (`id@version`), a plugin
    /// directory, or a component (`.wasm`)
    #[arg(value_name = "A")]
    pub a: String,

    /// The evaluator compared, as A
    #[arg(value_name = "B")]
    pub b: String,

    /// Files of traces, as `eval` reads them; `-` for standard input
    #[arg(value_name = "TRACES", required = true)]
    pub traces: Vec<PathBuf>,

    /// Exit with code 3 when any trace's outcome changed
    #[arg(long, value_enum, value_name = "WHAT")]
    pub fail_on: Option<DiffFailOn>,

    /// Exit with code 3 when a trace's score moved by more than X (either way), or it became
    /// or stopped being an error
    #[arg(long, value_name = "X", value_parser = parse_delta)]
    pub max_score_delta: Option<f64>,

    /// Evaluate N traces at once [default: the number of CPUs]
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<NonZeroUsize>,

    #[command(flatten)]
    pub load: source::LoadArgs,
}

/// `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFailOn {
    /// Any trace's verdict, score, label or metrics changed.
    Changed,
}

fn parse_delta(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!(
            "`{text}` is not a score delta: give a number from 0, as `0.1`"
        )),
    }
}

/// How `diff` and `install` refuse a plugin that is not an evaluator.
const EXPECTED: Expected = Expected {
    kind: PluginKind::Evaluator,
    command: "cargo flowtrace diff",
};

impl DiffCommand {
    /// Run `diff`.
    pub fn exec(self, cx: &Context) -> Result<()> {
        let term = &cx.term;
        let (a, b) = (PluginSource::parse(&self.a)?, PluginSource::parse(&self.b)?);
        let files = input::open_all(&self.traces, self.load.read.options())?;
        let request = self.load.request(false);
        let a = source::load(cx, &a, &request, Some(EXPECTED))?;
        let b = source::load(cx, &b, &request, Some(EXPECTED))?;
        let jobs = eval::jobs(self.jobs);
        let started = Instant::now();
        let what = format!("{} and {}", a.description, b.description);
        let mut feedback = Feedback::start(term, "Comparing", &files, &what, jobs, "diff");
        let mut tally = DiffTally::default();
        let mut over = 0u64;
        let mut on_record = |record: &DiffRecord, read: u64| -> Result<()> {
            tally.add(record);
            if exceeds(record, self.max_score_delta) {
                over += 1;
            }
            term.emit(record)?;
            if record.is_input_error() {
                feedback.error(&record.location(), None, record.a.error.as_ref(), &[], 0);
            } else if !record.changed.is_empty() && term.is_human() {
                let mut out = term.stdout();
                writeln!(out, "{}", record.describe())?;
            }
            feedback.progress(read, || {
                format!("{} traces, {} changed", tally.total(), tally.changed())
            });
            Ok(())
        };
        let work = DiffWork {
            a: &a.plugin,
            b: &b.plugin,
        };
        engine::run(&work, files, Reading::Traces, jobs, &mut on_record)?;
        let elapsed = started.elapsed();
        let summary = tally.finish(a.description.clone(), b.description.clone(), elapsed);
        feedback.finish(None, summary.traces, "trace", elapsed);
        // A blank line between the changed traces and the summary.
        show(cx, &summary, summary.changed > 0)?;
        if summary.traces == 0 {
            term.warn("no traces in the input");
        }
        if self.fail_on == Some(DiffFailOn::Changed) && summary.changed > 0 {
            return eval::fail_if(summary.changed, summary.traces, "changed");
        }
        if let Some(max) = self.max_score_delta {
            if over > 0 {
                return Err(anyhow!(
                    "{over} of {} traces moved by more than {max} (or became, or stopped being, errors)",
                    summary.traces
                ))
                .exit_code(exit_codes::TESTS_FAILED);
            }
        }
        Ok(())
    }
}

/// Whether `record`'s score moved by more than `max`, or it became or stopped being an error.
fn exceeds(record: &DiffRecord, max: Option<f64>) -> bool {
    let Some(max) = max else { return false };
    if record.is_input_error() {
        return false;
    }
    match record.score_delta {
        Some(delta) => delta.abs() > max,
        None => record.a.verdict != record.b.verdict,
    }
}

/// The summary table on stdout (human), after a blank line with `separate`, and the
/// `diff-summary` message.
fn show(cx: &Context, summary: &DiffSummary, separate: bool) -> Result<()> {
    let term = &cx.term;
    if term.is_human() {
        let mut table = Vec::new();
        diff::table(&mut table, summary)?;
        let mut out = term.stdout();
        if separate {
            writeln!(out)?;
        }
        out.write_all(&table)?;
        out.flush()?;
    }
    term.emit(summary)?;
    Ok(())
}

/// Compare `a` and `b` over `traces` (each named, as a fixture) on this thread: what
/// `install` shows when it upgrades an evaluator.
pub(crate) fn over_traces(
    a: &LoadedPlugin,
    b: &LoadedPlugin,
    traces: Vec<(String, Trace)>,
) -> (Vec<DiffRecord>, DiffSummary) {
    let started = Instant::now();
    let names: Vec<String> = traces.iter().map(|(name, _)| name.clone()).collect();
    let items: Vec<Item> = traces
        .into_iter()
        .enumerate()
        .map(|(file, (_, trace))| Item {
            file,
            line: None,
            progress: 0,
            payload: Payload::Trace(Box::new(trace)),
        })
        .collect();
    let work = DiffWork {
        a: &a.plugin,
        b: &b.plugin,
    };
    let records: Vec<DiffRecord> = work
        .records(&names, items)
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    let mut tally = DiffTally::default();
    for record in &records {
        tally.add(record);
    }
    let summary = tally.finish(
        a.description.clone(),
        b.description.clone(),
        started.elapsed(),
    );
    (records, summary)
}

/// Load `source` as the evaluator `diff` compares, its `fs-read` paths relative to
/// `data_dir`.
pub(crate) fn load(
    cx: &Context,
    source: &PluginSource,
    data_dir: &std::path::Path,
) -> Result<LoadedPlugin> {
    let request = LoadRequest {
        data_dir: Some(data_dir.to_path_buf()),
        ..LoadRequest::default()
    };
    source::load(cx, source, &request, Some(EXPECTED))
}

/// Show `summary` as `diff` does.
pub(crate) fn show_summary(cx: &Context, summary: &DiffSummary) -> Result<()> {
    show(cx, summary, false)
}
