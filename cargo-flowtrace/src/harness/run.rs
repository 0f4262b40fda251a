//! Running cases: each in the embedded runtime, under the plugin's own manifest, in parallel.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use flowtrace_plugins::diag::error_chain;
use flowtrace_plugins::manifest::Manifest;
use flowtrace_plugins::services::{LogLevel, MemoryKv, MemoryLog, StaticTraces};
use flowtrace_plugins::{
    CallError, CallFailure, LoadError, LoadOptions, PrepareError, PreparedTrace, Runtime, Services,
};
use serde::Serialize;

use super::embed::{EmbedProblem, FixtureEmbeddings};
use super::expect::{self, Mismatch, Outcome};
use super::fixture::{display_path, Fixture, Input, Syntax};
use super::snapshot::{self, SnapshotOutcome};
use super::stub::FixtureHttp;

/// What the cases run against.
pub struct Suite<'a> {
    /// The host; give it a compiled cache (`RuntimeConfig::cache`) so each case's load
    /// reuses the first one's compilation.
    pub runtime: &'a Runtime,
    /// The component, as built (manifest embedded).
    pub component: &'a [u8],
    /// The plugin's manifest: its grants are the only ones a case gets.
    pub manifest: &'a Manifest,
    /// The plugin's directory: paths in messages are relative to it; the `fs-read` grants
    /// are too.
    pub root: &'a Path,
    /// `--bless`: write snapshots that are missing or differ.
    pub bless: bool,
    /// Python dev mode: `component` is the language's engine, which loads the plugin's
    /// sources from this directory ([`Runtime::load_dev`]); `None` runs a component as is.
    pub dev_sources: Option<&'a Path>,
    /// The code every instance is given, when the component is a dev engine
    /// (TypeScript: [`crate::build::DevEngine::preload`]).
    pub preload: Option<&'a flowtrace_plugins::Preload>,
}

/// How a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Every expectation met.
    Ok,
    /// At least one mismatch.
    Failed,
    /// `ignore` in the fixture.
    Ignored,
}

/// The report on one case.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CaseReport {
    /// The case name (the fixture's file name without `.toml`).
    pub name: String,
    /// The fixture file, relative to the plugin's directory.
    pub file: String,
    /// How it ended.
    pub status: Status,
    /// Why it failed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mismatches: Vec<Mismatch>,
    /// Why it was ignored, when a reason was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignore_reason: Option<String>,
    /// The snapshot `--bless` wrote, relative to the plugin's directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blessed: Option<String>,
    /// What the plugin logged (and wrote to stdout/stderr) during the case.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub log: Vec<LogLine>,
    /// The requests the plugin made to the HTTP stub.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub http_requests: Vec<String>,
    /// The result (as in the snapshot), when the calls succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
    /// Wall-clock time of the case, load included.
    #[serde(serialize_with = "seconds")]
    pub exec_time: Duration,
}

/// One line of plugin log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogLine {
    /// Its level.
    pub level: LogLevel,
    /// The text, as the plugin wrote it.
    pub message: String,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl Suite<'_> {
    /// Run `fixtures` on `jobs` threads; `on_done` sees each report as its case finishes.
    /// Reports come back in the order of `fixtures`.
    ///
    /// A problem that is not the case's (the component does not load under the policy, a
    /// snapshot cannot be written) stops the run: the error is returned.
    pub fn run(
        &self,
        fixtures: &[Fixture],
        jobs: usize,
        on_done: &(dyn Fn(&CaseReport) + Sync),
    ) -> Result<Vec<CaseReport>> {
        let slots: Mutex<Vec<Option<CaseReport>>> = Mutex::new(vec![None; fixtures.len()]);
        let failure: Mutex<Option<anyhow::Error>> = Mutex::new(None);
        let stop = AtomicBool::new(false);
        let record = |i: usize, result: Result<CaseReport>| match result {
            Ok(report) => {
                on_done(&report);
                slots.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(report);
            }
            Err(e) => {
                stop.store(true, Ordering::SeqCst);
                failure
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get_or_insert(e);
            }
        };
        // The first case that runs alone compiles the component into the cache; the others
        // then load it from there instead of all compiling it at once.
        let first = fixtures.iter().position(|f| f.ignore.is_none());
        if let Some(i) = first {
            record(i, self.case(&fixtures[i]));
        }
        let next = AtomicUsize::new(0);
        let worker = || loop {
            let i = next.fetch_add(1, Ordering::SeqCst);
            if i >= fixtures.len() || stop.load(Ordering::SeqCst) {
                break;
            }
            if Some(i) != first {
                record(i, self.case(&fixtures[i]));
            }
        };
        std::thread::scope(|s| {
            for _ in 0..jobs.max(1).min(fixtures.len().max(1)) {
                s.spawn(worker);
            }
        });
        if let Some(e) = failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
            return Err(e);
        }
        Ok(slots
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .into_iter()
            .flatten()
            .collect())
    }

    fn load(&self, options: LoadOptions) -> Result<flowtrace_plugins::Plugin, LoadError> {
        match self.dev_sources {
            Some(sources) => self
                .runtime
                .load_dev(self.component, self.manifest, options, sources),
            None => self.runtime.load(self.component, self.manifest, options),
        }
    }

    fn case(&self, fixture: &Fixture) -> Result<CaseReport> {
        let started = Instant::now();
        let mut report = CaseReport {
            name: fixture.name.clone(),
            file: display_path(self.root, &fixture.path),
            status: Status::Ok,
            mismatches: Vec::new(),
            ignore_reason: None,
            blessed: None,
            log: Vec::new(),
            http_requests: Vec::new(),
            result: None,
            exec_time: Duration::ZERO,
        };
        if let Some(reason) = &fixture.ignore {
            report.status = Status::Ignored;
            report.ignore_reason = (!reason.is_empty()).then(|| reason.clone());
            return Ok(report);
        }
        let log = Arc::new(MemoryLog::default());
        let http = Arc::new(FixtureHttp::new(fixture.http.clone()));
        let embeddings = Arc::new(FixtureEmbeddings::new(fixture.embeddings.clone()));
        // A trace over the host's span cap fails the case, as it would fail in Flowtrace.
        let (traces, refused) = match &fixture.input {
            Input::Traces { traces, .. } => match traces
                .iter()
                .map(|t| self.runtime.prepare(t.clone()))
                .collect::<Result<Vec<PreparedTrace>, _>>()
            {
                Ok(traces) => (traces, None),
                Err(e) => (Vec::new(), Some(CaseFailure::from(e))),
            },
            Input::Texts(_) => (Vec::new(), None),
        };
        let services = Services {
            log: log.clone(),
            kv: Arc::new(MemoryKv::default()),
            traces: Some(Arc::new(StaticTraces::new(traces.clone()))),
            embeddings: Some(embeddings.clone()),
            http_stub: Some(http.clone()),
            data_dir: Some(self.root.to_path_buf()),
            env: Some(fixture.env.clone()),
        };
        let options = LoadOptions {
            grants: None,
            config: fixture.config.clone(),
            services,
            cache: None,
            preload: self.preload.cloned(),
        };
        let called = match refused {
            Some(refusal) => Err(refusal),
            None => match self.load(options) {
                Ok(plugin) => fixture.expect.checks.call(&plugin, &fixture.input, &traces),
                // Config overrides are the case's own doing; anything else is the plugin's.
                Err(e @ LoadError::Config { .. }) => Err(CaseFailure::Config(e)),
                Err(e) => {
                    return Err(anyhow::Error::new(e)).with_context(|| {
                        format!("failed to load the plugin for case `{}`", fixture.name)
                    })
                }
            },
        };
        match (&fixture.expect.outcome, called) {
            (Outcome::Error(expected), Err(error)) => {
                report
                    .mismatches
                    .extend(expect::check_error(&error_chain(&error), expected));
            }
            (Outcome::Error(expected), Ok(called)) => {
                report.mismatches.push(Mismatch::new(format!(
                    "expected an error containing {expected:?}, but the call succeeded: {}",
                    called.summary
                )));
                report.result = Some(called.json);
            }
            (Outcome::Success, Err(error)) => {
                let mut mismatch =
                    Mismatch::new(format!("the call failed: {}", error_chain(&error)));
                if let CaseFailure::Call(CallError {
                    reason: CallFailure::Guest(guest),
                    ..
                }) = &error
                {
                    mismatch.backtrace = Some(guest.backtrace_text()).filter(|b| !b.is_empty());
                }
                report.mismatches.push(mismatch);
            }
            (Outcome::Success, Ok(called)) => {
                report.mismatches.extend(called.mismatches);
                if let Some(path) = &fixture.expect.snapshot {
                    let shown = display_path(self.root, path);
                    match snapshot::compare(
                        path,
                        &shown,
                        &called.bytes,
                        called.is_json,
                        self.bless,
                    )? {
                        SnapshotOutcome::Matched => {}
                        SnapshotOutcome::Blessed => report.blessed = Some(shown),
                        SnapshotOutcome::Mismatch(m) => report.mismatches.push(m),
                    }
                }
                report.result = Some(called.json);
            }
        }
        for what in http.unmatched() {
            let url = what.split_once(' ').map_or(what.as_str(), |(_, url)| url);
            let (entry, help) = match fixture.syntax {
                Syntax::Toml => (
                    "no `[[http]]` entry",
                    format!(
                        "add an `[[http]]` entry with `url = \"{url}\"` and the response to give"
                    ),
                ),
                Syntax::Json => (
                    "no entry of `http`",
                    format!(
                        "add an entry to `http` with `\"url\": \"{url}\"` and the response to give"
                    ),
                ),
            };
            report.mismatches.push(
                Mismatch::new(format!(
                    "the plugin requested `{what}`, which {entry} stubs"
                ))
                .with_help(help),
            );
        }
        for problem in embeddings.problems() {
            report
                .mismatches
                .push(embed_mismatch(&problem, fixture.syntax));
        }
        report.http_requests = http.requests();
        report.log = log
            .lines()
            .into_iter()
            .map(|(level, message)| LogLine { level, message })
            .collect();
        if !report.mismatches.is_empty() {
            report.status = Status::Failed;
        }
        report.exec_time = started.elapsed();
        Ok(report)
    }
}

/// The mismatch for an embedding call the fixture does not answer.
fn embed_mismatch(problem: &EmbedProblem, syntax: Syntax) -> Mismatch {
    match problem {
        EmbedProblem::Undeclared { call } => Mismatch::new(format!(
            "the plugin called `embeddings.{call}`, but the fixture declares no {}",
            syntax.pick("`[embeddings]`", "`embeddings`")
        ))
        .with_help(syntax.pick(
            "add `[embeddings]` with `dimension = <n>` (every text then gets a stable hash-based \
             vector), and `vectors = { \"<text>\" = [...] }` for exact ones",
            "add `\"embeddings\": {\"dimension\": <n>}` (every text then gets a stable \
             hash-based vector), with `\"vectors\": {\"<text>\": [...]}` for exact ones",
        )),
        EmbedProblem::Unlisted { text } => Mismatch::new(format!(
            "the plugin embedded {text:?}, which the fixture's `vectors` does not list"
        ))
        .with_help(format!(
            "add {} to the fixture's `vectors`, or remove `vectors` to give every text a \
             hash-based vector",
            match syntax {
                Syntax::Toml => format!("`{text:?} = [...]`"),
                Syntax::Json => format!("`{text:?}: [...]`"),
            }
        )),
    }
}

/// What a successful call gave.
pub(crate) struct Called {
    /// The result as JSON (for events and JSON snapshots).
    pub(crate) json: serde_json::Value,
    /// The snapshot's bytes.
    pub(crate) bytes: Vec<u8>,
    /// Whether `bytes` is JSON.
    pub(crate) is_json: bool,
    /// The expectations it did not meet.
    pub(crate) mismatches: Vec<Mismatch>,
    /// One line about it, for "expected an error, but ...".
    pub(crate) summary: String,
}

/// Why a case got no result: what `expect.error` is held against (as text, sources
/// included: [`error_text`]).
#[derive(Debug, thiserror::Error)]
pub(crate) enum CaseFailure {
    /// A call of the plugin failed.
    #[error(transparent)]
    Call(#[from] CallError),
    /// A trace of the fixture was refused before the plugin saw it.
    #[error(transparent)]
    Prepare(#[from] PrepareError),
    /// The case's config overrides do not fit the manifest.
    #[error(transparent)]
    Config(LoadError),
    /// The fixture's input does not fit the call.
    #[error("{0}")]
    Input(&'static str),
    /// The result could not be turned into JSON.
    #[error("the result is not representable as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl Called {
    /// A result that is JSON: the snapshot is `value` pretty-printed, fields in their
    /// declared order.
    pub(crate) fn json(
        value: &impl Serialize,
        mismatches: Vec<Mismatch>,
        summary: String,
    ) -> Result<Self, CaseFailure> {
        let json = serde_json::to_value(value)?;
        let mut bytes = serde_json::to_vec_pretty(value)?;
        bytes.push(b'\n');
        Ok(Self {
            json,
            bytes,
            is_json: true,
            mismatches,
            summary,
        })
    }
}
