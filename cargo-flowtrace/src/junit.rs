//! JUnit XML for CI systems (`test --junit FILE`, `eval --junit FILE`), in the shape
//! cargo-nextest writes (with its library, quick-junit): one `<testsuites>`, one `<testsuite>`
//! per plugin, one `<testcase>` per fixture or per trace with its time; a failure carries its
//! first line as `message` and every mismatch, with its help and diff, as its text; what the
//! plugin logged goes to `<system-out>`.
//!
//! Text from plugins and traces is untrusted: quick-junit escapes it and drops the characters
//! XML 1.0 cannot hold, so a hostile log line cannot break the file.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, Result};
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use crate::eval::report::{EvalRecord, Verdict};
use crate::harness::{CaseReport, Status};

/// The name of the `<testsuites>` element.
const REPORT_NAME: &str = "cargo-flowtrace";

/// The report of a `test` run: the suite of `plugin`'s fixtures.
pub fn test_report(plugin: &str, cases: &[CaseReport], elapsed: Duration) -> Report {
    let mut suite = TestSuite::new(plugin);
    suite.set_time(elapsed);
    suite.add_test_cases(cases.iter().map(|case| test_case(plugin, case)));
    report(suite, elapsed)
}

fn test_case(plugin: &str, case: &CaseReport) -> TestCase {
    let status = match case.status {
        Status::Ok => TestCaseStatus::success(),
        Status::Ignored => {
            let mut status = TestCaseStatus::skipped();
            if let Some(reason) = &case.ignore_reason {
                status.set_message(reason.as_str());
            }
            status
        }
        Status::Failed => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let first = case
                .mismatches
                .first()
                .map_or("failed", |m| m.message.as_str());
            status
                .set_message(first_line(first))
                .set_type("mismatch")
                .set_description(mismatches_text(case));
            status
        }
    };
    let mut test = TestCase::new(case.name.as_str(), status);
    test.set_classname(plugin)
        .set_time(case.exec_time)
        .add_property(Property::new("file", case.file.as_str()));
    if !case.log.is_empty() {
        let log: Vec<String> = case
            .log
            .iter()
            .map(|line| format!("[{}] {}", line.level.as_str(), line.message))
            .collect();
        test.set_system_out(log.join("\n"));
    }
    test
}

/// Every mismatch of a failed case, as the human report shows them.
fn mismatches_text(case: &CaseReport) -> String {
    let mut text = String::new();
    for m in &case.mismatches {
        text.push_str(&m.message);
        text.push('\n');
        if let Some(help) = &m.help {
            text.push_str(&format!("help: {help}\n"));
        }
        if let Some(diff) = &m.diff {
            text.push_str(diff);
            if !diff.ends_with('\n') {
                text.push('\n');
            }
        }
        // A CI log is read once: the plugin's backtrace goes in whole.
        if let Some(backtrace) = &m.backtrace {
            text.push_str("plugin backtrace:\n");
            text.push_str(backtrace);
        }
    }
    text
}

/// The `<testsuite>` of an `eval` run, a `<testcase>` per trace as the records come.
///
/// It holds a few dozen bytes per trace until it is written: a run over millions of traces
/// is better served by `--output` (JSON lines, streamed).
pub struct EvalSuite {
    plugin: String,
    suite: TestSuite,
}

impl EvalSuite {
    /// An empty suite for `plugin`.
    pub fn new(plugin: &str) -> Self {
        Self {
            plugin: plugin.to_string(),
            suite: TestSuite::new(plugin),
        }
    }

    /// Add one trace's record: passed is a success, failed a failure, not evaluated an
    /// error whose type is the error's kind.
    pub fn add(&mut self, record: &EvalRecord) {
        let status = match record.verdict {
            Verdict::Passed => TestCaseStatus::success(),
            Verdict::Failed => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                let message = match &record.result {
                    Some(result) => match &result.explanation {
                        Some(explanation) => first_line(explanation).to_string(),
                        None => format!("failed with score {}", result.score),
                    },
                    None => "failed".into(),
                };
                status.set_message(message).set_type("failed");
                status
            }
            Verdict::Error => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                if let Some(error) = &record.error {
                    let kind = serde_json::to_value(error.kind)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default();
                    status
                        .set_message(first_line(&error.message))
                        .set_type(kind)
                        .set_description(error.message.as_str());
                }
                status
            }
        };
        let name = match &record.trace_id {
            Some(id) => id.clone(),
            None => record.location(),
        };
        let mut test = TestCase::new(name, status);
        test.set_classname(self.plugin.as_str())
            .set_time(record.exec_time)
            .add_property(Property::new("location", record.location()));
        if !record.log.is_empty() {
            let log: Vec<String> = record
                .log
                .iter()
                .map(|line| format!("[{}] {}", line.level.as_str(), line.message))
                .collect();
            test.set_system_out(log.join("\n"));
        }
        if let Some(result) = &record.result {
            test.add_property(Property::new("score", result.score.to_string()));
            if let Some(label) = &result.label {
                test.add_property(Property::new("label", label.as_str()));
            }
        }
        self.suite.add_test_case(test);
    }

    /// The report, with the run's wall-clock time.
    pub fn finish(mut self, elapsed: Duration) -> Report {
        self.suite.set_time(elapsed);
        report(self.suite, elapsed)
    }
}

fn report(suite: TestSuite, elapsed: Duration) -> Report {
    let mut report = Report::new(REPORT_NAME);
    report.set_time(elapsed).add_test_suite(suite);
    report
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// Make sure `path` can be written before any work is done: its directory is created if
/// missing (as cargo-nextest does for its JUnit file), and it must not be a directory.
pub fn check_destination(path: &Path) -> Result<()> {
    use crate::error::ResultExt as _;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| {
                format!(
                    "cannot write the JUnit report `{}`: failed to create its directory",
                    path.display()
                )
            })
            .help("give a path whose directories are directories, not files")?;
    }
    if path.is_dir() {
        return Err(anyhow::anyhow!(
            "cannot write the JUnit report `{}`: it is a directory",
            path.display()
        ))
        .help("give a file name, e.g. `junit.xml`");
    }
    Ok(())
}

/// Write `report` to `path` (created or replaced whole: a reader never sees half a file).
pub fn write(path: &Path, report: &Report) -> Result<()> {
    let xml = report
        .to_string()
        .context("failed to serialise the JUnit report")?;
    crate::build::write_atomically(path, xml.as_bytes())
        .with_context(|| format!("failed to write the JUnit report `{}`", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::expect::Mismatch;
    use crate::harness::run::LogLine;
    use flowtrace_plugins::services::LogLevel;

    fn case(name: &str, status: Status) -> CaseReport {
        CaseReport {
            name: name.into(),
            file: format!("tests/{name}.toml"),
            status,
            mismatches: Vec::new(),
            ignore_reason: None,
            blessed: None,
            log: Vec::new(),
            http_requests: Vec::new(),
            result: None,
            exec_time: Duration::from_millis(1500),
        }
    }

    #[test]
    fn a_test_run_gives_a_suite_with_a_case_per_fixture() {
        let mut failed = case("truncated", Status::Failed);
        failed.mismatches = vec![
            Mismatch::new("expected passed = false, got passed = true (score 1)"),
            Mismatch::new("expected label \"cut\", got no label").with_help("add a label"),
        ];
        failed.log = vec![LogLine {
            level: LogLevel::Info,
            message: "scanned 3 spans \u{1b}[31m<&>\u{0}".into(),
        }];
        let mut ignored = case("flaky", Status::Ignored);
        ignored.ignore_reason = Some("upstream".into());
        let cases = [case("ok", Status::Ok), failed, ignored];
        let xml = test_report("my-eval", &cases, Duration::from_secs(2))
            .to_string()
            .unwrap();
        let parsed = Report::deserialize_from_str(&xml).unwrap();
        let suite = &parsed.test_suites[0];
        assert_eq!(suite.name.as_str(), "my-eval");
        assert_eq!(
            (suite.tests, suite.failures, suite.errors, suite.skipped),
            (3, 1, 0, 1)
        );
        let truncated = &suite.test_cases[1];
        assert_eq!(truncated.name.as_str(), "truncated");
        assert_eq!(truncated.time, Some(Duration::from_millis(1500)));
        match &truncated.status {
            TestCaseStatus::NonSuccess {
                kind: NonSuccessKind::Failure,
                message,
                description,
                ..
            } => {
                assert_eq!(
                    message.as_ref().unwrap().as_str(),
                    "expected passed = false, got passed = true (score 1)"
                );
                let description = description.as_ref().unwrap().as_str();
                assert!(description.contains("help: add a label"), "{description}");
            }
            other => panic!("not a failure: {other:?}"),
        }
        // The escape and NUL of a hostile log line are gone; markup is escaped, not lost.
        let out = truncated.system_out.as_ref().unwrap().as_str();
        assert!(out.starts_with("[info] scanned 3 spans"), "{out}");
        assert!(out.contains("<&>") && !out.contains('\u{0}'), "{out}");
    }
}
