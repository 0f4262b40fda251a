//! How a test run reads: like `cargo test` for people, JSON lines for machines.
//!
//! ```text
//! running 3 tests
//! test empty-output ... ok
//! test truncated ... FAILED
//! test upstream ... ignored, flaky upstream
//!
//! failures:
//!
//! ---- truncated (tests/truncated.toml) ----
//! expected passed = false, got passed = true (score 1)
//! plugin log:
//!   [info] scanned 3 spans
//!
//! failures:
//!     truncated
//!
//! test result: FAILED. 1 passed; 1 failed; 1 skipped; 0 filtered out; finished in 0.05s
//!
//! 1 passed, 1 failed, 1 skipped
//! ```

use std::io::Write;
use std::time::Duration;

use serde::Serialize;

use super::run::{CaseReport, Status};
use crate::term::{sanitize, style, Message};

impl Message for CaseReport {
    const REASON: &'static str = "test-case";
}

/// `{"reason": "test-run-started", ...}`: before the first case.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RunStarted {
    /// The plugin id.
    pub plugin: String,
    /// The component the cases run.
    pub component: String,
    /// Cases to run (ignored ones included).
    pub count: usize,
    /// Cases the filter left out.
    pub filtered_out: usize,
}

impl Message for RunStarted {
    const REASON: &'static str = "test-run-started";
}

/// The counts of a run; `{"reason": "test-summary", ...}` after the last case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Summary {
    /// `ok` or `failed`.
    pub outcome: &'static str,
    /// Cases that met every expectation.
    pub passed: usize,
    /// Cases with a mismatch.
    pub failed: usize,
    /// Ignored cases.
    pub skipped: usize,
    /// Cases the filter left out.
    pub filtered_out: usize,
    /// Wall-clock time of the run, seconds.
    #[serde(serialize_with = "seconds")]
    pub exec_time: Duration,
    /// The snapshots `--bless` wrote.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blessed: Vec<String>,
}

impl Message for Summary {
    const REASON: &'static str = "test-summary";
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl Summary {
    /// Count `reports`.
    pub fn of(reports: &[CaseReport], filtered_out: usize, exec_time: Duration) -> Self {
        let count = |s: Status| reports.iter().filter(|r| r.status == s).count();
        let failed = count(Status::Failed);
        Summary {
            outcome: if failed == 0 { "ok" } else { "failed" },
            passed: count(Status::Ok),
            failed,
            skipped: count(Status::Ignored),
            filtered_out,
            exec_time,
            blessed: reports.iter().filter_map(|r| r.blessed.clone()).collect(),
        }
    }

    /// The closing line: `N passed, N failed`, and `, N skipped` when any were.
    pub fn closing_line(&self) -> String {
        let mut line = format!("{} passed, {} failed", self.passed, self.failed);
        if self.skipped > 0 {
            line.push_str(&format!(", {} skipped", self.skipped));
        }
        line
    }
}

/// `running N tests`, with a blank line before it as `cargo test` has.
pub fn running(out: &mut impl Write, count: usize) -> std::io::Result<()> {
    let plural = if count == 1 { "test" } else { "tests" };
    writeln!(out)?;
    writeln!(out, "running {count} {plural}")
}

/// `test <case> ... ok|FAILED|ignored`.
pub fn case_line(out: &mut impl Write, report: &CaseReport) -> std::io::Result<()> {
    let name = sanitize(&report.name);
    match report.status {
        Status::Ok => {
            let good = style::GOOD;
            match &report.blessed {
                Some(path) => writeln!(
                    out,
                    "test {name} ... {good}ok{good:#} (blessed `{}`)",
                    sanitize(path)
                ),
                None => writeln!(out, "test {name} ... {good}ok{good:#}"),
            }
        }
        Status::Failed => {
            let bad = style::BAD;
            writeln!(out, "test {name} ... {bad}FAILED{bad:#}")
        }
        Status::Ignored => {
            let caution = style::CAUTION;
            match &report.ignore_reason {
                Some(reason) => writeln!(
                    out,
                    "test {name} ... {caution}ignored{caution:#}, {}",
                    sanitize(reason)
                ),
                None => writeln!(out, "test {name} ... {caution}ignored{caution:#}"),
            }
        }
    }
}

/// The `failures:` section: each failed case's mismatches, diffs and plugin log, then the
/// list of failed names. Nothing when none failed. A plugin's backtrace is shown when
/// `verbose`, else a note says `-v` shows it.
pub fn failures(
    out: &mut impl Write,
    reports: &[CaseReport],
    verbose: bool,
) -> std::io::Result<()> {
    let failed: Vec<&CaseReport> = reports
        .iter()
        .filter(|r| r.status == Status::Failed)
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "failures:")?;
    let help_style = style::HELP;
    for report in &failed {
        writeln!(out)?;
        writeln!(
            out,
            "---- {} ({}) ----",
            sanitize(&report.name),
            sanitize(&report.file)
        )?;
        for m in &report.mismatches {
            writeln!(out, "{}", sanitize(&m.message))?;
            if let Some(diff) = &m.diff {
                write_diff(out, &sanitize(diff))?;
            }
            if let Some(help) = &m.help {
                writeln!(out, "{help_style}help:{help_style:#} {}", sanitize(help))?;
            }
            match &m.backtrace {
                Some(backtrace) if verbose => {
                    writeln!(out, "plugin backtrace:")?;
                    write!(out, "{}", sanitize(backtrace))?;
                }
                Some(_) => writeln!(out, "note: run with `-v` for the plugin's backtrace")?,
                None => {}
            }
        }
        if !report.log.is_empty() {
            writeln!(out, "plugin log:")?;
            for line in &report.log {
                let text = sanitize(&line.message);
                let mut lines = text.lines();
                writeln!(
                    out,
                    "  [{}] {}",
                    line.level.as_str(),
                    lines.next().unwrap_or_default()
                )?;
                for more in lines {
                    writeln!(out, "    {more}")?;
                }
            }
        }
    }
    writeln!(out)?;
    writeln!(out, "failures:")?;
    for report in &failed {
        writeln!(out, "    {}", sanitize(&report.name))?;
    }
    Ok(())
}

/// A unified diff, `-` lines red and `+` lines green.
fn write_diff(out: &mut impl Write, diff: &str) -> std::io::Result<()> {
    let (bad, good, dim) = (style::BAD, style::GOOD, style::DIM);
    for line in diff.lines() {
        if line.starts_with("---") || line.starts_with("+++") || line.starts_with("@@") {
            writeln!(out, "{dim}{line}{dim:#}")?;
        } else if line.starts_with('-') {
            writeln!(out, "{bad}{line}{bad:#}")?;
        } else if line.starts_with('+') {
            writeln!(out, "{good}{line}{good:#}")?;
        } else {
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}

/// `test result: ok. N passed; ...`, a blank line, and the closing `N passed, N failed`.
pub fn summary(out: &mut impl Write, summary: &Summary) -> std::io::Result<()> {
    let verdict = if summary.failed == 0 {
        let good = style::GOOD;
        format!("{good}ok{good:#}")
    } else {
        let bad = style::BAD;
        format!("{bad}FAILED{bad:#}")
    };
    writeln!(out)?;
    writeln!(
        out,
        "test result: {verdict}. {} passed; {} failed; {} skipped; {} filtered out; finished in {:.2}s",
        summary.passed,
        summary.failed,
        summary.skipped,
        summary.filtered_out,
        summary.exec_time.as_secs_f64()
    )?;
    writeln!(out)?;
    writeln!(out, "{}", summary.closing_line())
}
