//! What `eval`, `run` and `diff` tell a person while they run, the same way: the status line,
//! a progress bar over the bytes of input, the first errors (each with its file, line and
//! trace), and the `Finished` line.

use std::time::Duration;

use flowtrace_plugins::services::{LogLevel, LogLine};

use super::input::TraceFile;
use super::report::RecordError;
use crate::term::{Progress, Term};

/// How many errors human output lists before it only counts them.
pub const ERRORS_SHOWN: u64 = 10;

/// The feedback of one run.
pub struct Feedback<'t> {
    term: &'t Term,
    progress: Progress<'t>,
    errors: u64,
}

impl<'t> Feedback<'t> {
    /// Say what runs (`Evaluating `traces.jsonl` with `x` v0.1.0 (...), 2 threads`) and start
    /// the progress bar over `files`.
    pub fn start(
        term: &'t Term,
        verb: &'static str,
        files: &[TraceFile],
        what: &str,
        jobs: usize,
        name: &str,
    ) -> Self {
        // Unknown with standard input among the files: a spinner then.
        let total_bytes: Option<u64> = files.iter().map(|f| f.size).sum();
        let input = match files {
            [one] => format!("`{}`", one.shown),
            many => format!("{} files", many.len()),
        };
        term.status(
            verb,
            format_args!(
                "{input} with {what}, {jobs} {}",
                if jobs == 1 { "thread" } else { "threads" }
            ),
        );
        Feedback {
            term,
            progress: term.progress_bytes(verb, total_bytes, name.to_string()),
            errors: 0,
        }
    }

    /// Show an error in human output (the first [`ERRORS_SHOWN`]), with what the plugin
    /// logged on it under it (`dropped`: older lines not kept).
    pub fn error(
        &mut self,
        location: &str,
        trace_id: Option<&str>,
        error: Option<&RecordError>,
        log: &[LogLine],
        dropped: usize,
    ) {
        if !self.term.is_human() {
            return;
        }
        if self.errors < ERRORS_SHOWN {
            self.term.error(error_line(location, trace_id, error));
            if !log.is_empty() {
                self.term.stderr_line(log_text(log, dropped).trim_end());
            }
        }
        self.errors += 1;
    }

    /// Show in human output the warnings and errors the plugin logged on a record without
    /// an error (the log sink does not print them: [`super::source::LoadRequest`]).
    pub fn warnings(&self, location: &str, trace_id: Option<&str>, log: &[LogLine]) {
        if !self.term.is_human() {
            return;
        }
        let warnings: Vec<LogLine> = log
            .iter()
            .filter(|line| line.level >= LogLevel::Warn)
            .cloned()
            .collect();
        if warnings.is_empty() {
            return;
        }
        let trace = trace_id.map_or(String::new(), |id| {
            format!(" trace `{}`:", crate::term::sanitize(id))
        });
        self.term.warn(format_args!(
            "{location}:{trace} {}",
            log_text(&warnings, 0).trim_end()
        ));
    }

    /// Move the progress bar to `read` bytes, with `message` (made only when it is shown).
    pub fn progress(&self, read: u64, message: impl FnOnce() -> String) {
        if !self.progress.is_hidden() {
            self.progress.set_position(read);
            self.progress.set_message(message());
        }
    }

    /// End the progress bar, count the errors not shown (`output` names where every record
    /// went, if anywhere), and say how long `count` units of `noun` took.
    pub fn finish(self, output: Option<&str>, count: u64, noun: &str, elapsed: Duration) {
        drop(self.progress);
        let term = self.term;
        if !term.is_human() {
            return;
        }
        if self.errors > ERRORS_SHOWN {
            let more = self.errors - ERRORS_SHOWN;
            match output {
                Some(name) => term.note(format_args!(
                    "{more} more errors not shown; {name} has every result"
                )),
                None => term.note(format_args!(
                    "{more} more errors not shown; `--output <file>` writes every result"
                )),
            }
        }
        let rate = count as f64 / elapsed.as_secs_f64().max(1e-9);
        term.status(
            "Finished",
            format_args!(
                "{count} {noun}{} in {:.2}s ({rate:.0} {noun}s/s)",
                if count == 1 { "" } else { "s" },
                elapsed.as_secs_f64()
            ),
        );
    }
}

/// `plugin log:` and each line as `  [level] text`, control characters neutralised, as `test`
/// shows a failed case's log.
fn log_text(log: &[LogLine], dropped: usize) -> String {
    let mut out = String::from("plugin log:\n");
    if dropped > 0 {
        out.push_str(&format!("  ({dropped} earlier lines not kept)\n"));
    }
    for line in log {
        let text = crate::term::sanitize(&line.message);
        let mut lines = text.lines();
        out.push_str(&format!(
            "  [{}] {}\n",
            line.level.as_str(),
            lines.next().unwrap_or_default()
        ));
        for more in lines {
            out.push_str(&format!("    {more}\n"));
        }
    }
    out
}

/// `traces.jsonl:12: trace `abc`: trapped: ...`, control characters neutralised.
fn error_line(location: &str, trace_id: Option<&str>, error: Option<&RecordError>) -> String {
    let message = error.map_or("no result", |e| e.message.as_str());
    let message = crate::term::sanitize(message);
    let message = message.lines().next().unwrap_or_default();
    match trace_id {
        Some(id) => format!(
            "{location}: trace `{}`: {message}",
            crate::term::sanitize(id)
        ),
        None => format!("{location}: {message}"),
    }
}
