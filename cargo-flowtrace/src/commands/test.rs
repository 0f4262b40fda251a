//! `cargo flowtrace test [--bless] [FILTER]`

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{Context as _, Result};
use clap::Args;
use flowtrace_plugins::cache::CacheDir;
use flowtrace_plugins::manifest::Manifest;
use flowtrace_plugins::{Runtime, RuntimeConfig};

use crate::build::{self, BuildRequest};
use crate::context::{self, Context};
use crate::error::TestsFailed;
use crate::harness::report::{self, RunStarted, Summary};
use crate::harness::{self, CaseReport, FixtureContext, Status, Suite, TESTS_DIR};
use crate::junit;
use crate::lang::{DevArtefact, LoadFailure};
use crate::term::github::{self, Annotation};

/// Build the plugin if it changed, then run its test fixtures
///
/// The fixtures run in the embedded runtime, as the plugin runs in Flowtrace.
///
/// Each `tests/<case>.toml` (or `.json`, with the same keys) names an input (a trace file in
/// Flowtrace JSON or OpenTelemetry OTLP/JSON, or texts for an embedder), config overrides,
/// stubbed HTTP responses, and what to expect: `passed`, a `score` range, a `label`, `metrics`, an `error`, or a `snapshot`
/// of the whole result. Cases run in parallel, each with the plugin's own capabilities (the
/// production policy, never a lenient mock) and a fresh plugin log, shown when it fails.
///
/// Fixtures may sit in subdirectories of `tests/`; files in `traces/` and `snapshots/`
/// directories, and the files a fixture names as its `trace` or `snapshot`, are data, not
/// fixtures. The fixture format is described in the README of every plugin template.
///
/// A Python plugin runs in dev mode: its sources are loaded, read-only, into an interpreter
/// component built once per toolchain, kind and capabilities; a TypeScript plugin's bundle is
/// handed to an engine built once the same way. So an edit needs no componentize run.
/// `--release` tests the release build instead, the component `build` and `install` make.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  cargo flowtrace test                       every case in tests/
  cargo flowtrace test truncated             the cases whose name contains `truncated`
  cargo flowtrace test otlp/                 the cases in tests/otlp/
  cargo flowtrace test --bless               write or update the snapshots, then review them
  cargo flowtrace test --message-format json one `test-case` message per case, then a `test-summary`
  cargo flowtrace test --junit target/flowtrace/junit.xml   JUnit XML for CI as well

With GITHUB_ACTIONS=true (GitHub Actions), each failed case is also printed as an `::error`
annotation on its fixture's `[expect]` line.")]
pub struct TestCommand {
    /// Run only the cases whose name contains this text (a case in a subdirectory is named
    /// by its path: `otlp/openai-chat`)
    #[arg(value_name = "FILTER")]
    pub filter: Option<String>,

    /// Write the snapshots that are missing or differ instead of failing on them
    #[arg(long)]
    pub bless: bool,

    /// Build and test with the release profile: the component `build --release` makes and
    /// `install` takes, instead of dev mode (Python: the plugin's sources in an interpreter
    /// component built once; TypeScript: its bundle in a prebuilt dev engine)
    #[arg(long)]
    pub release: bool,

    /// TypeScript: build without type-checking first
    #[arg(long)]
    pub no_typecheck: bool,

    /// Run at most N cases at once [default: the number of CPUs]
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<usize>,

    /// Also write the results as JUnit XML to FILE (a testsuite for the plugin, a testcase
    /// per fixture), for CI systems
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

impl TestCommand {
    /// Run `test`.
    pub fn exec(self, cx: &Context) -> Result<()> {
        let term = &cx.term;
        if let Some(path) = &self.junit {
            junit::check_destination(path)?;
        }
        let request = BuildRequest {
            manifest_path: cx.manifest_path()?,
            release: self.release,
            typecheck: !self.no_typecheck,
            dev_engine: !self.release,
            caps: flowtrace_plugins::HostCaps::default(),
        };
        let made = build::build_for_test(term, &request)?;
        let loosened;
        let plugin = match &made {
            Ok(dev) => Tested {
                manifest: {
                    loosened = dev.artefact.loosen(&dev.manifest, &request.caps);
                    &loosened
                },
                root: &dev.root,
                component: &dev.artefact.bytes,
                artefact: &dev.artefact.engine,
                cache: context::sealed_cache(dev.artefact.cache.clone())?,
                dev: Some(&dev.artefact),
                preload: None,
            },
            // A dev engine (TypeScript) runs as it was built, its compiled code beside it.
            Err(built) => match &built.dev {
                Some(engine) => Tested {
                    manifest: &built.manifest,
                    root: &built.root,
                    component: &engine.bytes,
                    artefact: &built.artefact,
                    cache: context::sealed_cache(engine.cache.clone())?,
                    dev: None,
                    preload: Some(&engine.preload),
                },
                None => Tested {
                    manifest: &built.manifest,
                    root: &built.root,
                    component: &built.bytes,
                    artefact: &built.artefact,
                    cache: context::build_cache(&built.target_dir)?,
                    dev: None,
                    preload: None,
                },
            },
        };
        let started = Instant::now();
        let tests_dir = plugin.root.join(TESTS_DIR);
        let files = harness::discover(&tests_dir)?;
        let total_files = files.len();
        let files: Vec<_> = files
            .into_iter()
            .filter(|f| {
                self.filter
                    .as_deref()
                    .is_none_or(|filter| harness::case_name(&tests_dir, f).contains(filter))
            })
            .collect();
        let filtered_out = total_files - files.len();
        let fixtures = harness::load_all(
            &files,
            &FixtureContext {
                root: plugin.root,
                manifest: plugin.manifest,
            },
        )?;
        if total_files == 0 {
            term.warn(format_args!(
                "no test fixtures in `{}`",
                tests_dir.display()
            ));
            term.help(
                "add a case as `tests/<case>.toml`, e.g. `trace = \"traces/ok.json\"` and \
                 `[expect] passed = true`, or as `tests/<case>.json` with the same keys",
            );
        }

        let runtime = Runtime::with_config(RuntimeConfig {
            cache: Some(plugin.cache.clone()),
            ..RuntimeConfig::default()
        })
        .context("failed to start the plugin runtime")?;
        let suite = Suite {
            runtime: &runtime,
            component: plugin.component,
            manifest: plugin.manifest,
            root: plugin.root,
            bless: self.bless,
            dev_sources: plugin.dev.map(|d| d.sources.as_path()),
            preload: plugin.preload,
        };
        term.emit(&RunStarted {
            plugin: plugin.manifest.plugin.id.to_string(),
            component: plugin.artefact.display().to_string(),
            count: fixtures.len(),
            filtered_out,
        })?;
        if term.is_human() {
            report::running(&mut term.stdout(), fixtures.len())?;
        }
        let jobs = self.jobs.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
        });
        let emit_error: Mutex<Option<anyhow::Error>> = Mutex::new(None);
        // Dev mode: sources that fail to import fail every case alike; that is shown once,
        // as a failed build is, instead of as each case's failure.
        let load_failed: Mutex<Option<LoadFailure>> = Mutex::new(None);
        let on_done = |case: &CaseReport| {
            if let Some(failure) = plugin.load_failure(case) {
                load_failed
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get_or_insert(failure);
                return;
            }
            let written = if term.is_human() {
                report::case_line(&mut term.stdout(), case).map_err(anyhow::Error::from)
            } else {
                term.emit(case)
            };
            if let Err(e) = written {
                emit_error
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get_or_insert(e);
            }
        };
        let reports = suite.run(&fixtures, jobs, &on_done)?;
        if let Some(e) = emit_error.into_inner().unwrap_or_else(|e| e.into_inner()) {
            return Err(e).context("failed to write the test output");
        }
        if let Some(LoadFailure { shown, helps }) =
            load_failed.into_inner().unwrap_or_else(|e| e.into_inner())
        {
            for line in shown.lines() {
                term.stderr_line(line);
            }
            let mut err = anyhow::anyhow!(
                "failed to load plugin `{}` from its sources (dev mode)",
                plugin.manifest.plugin.id
            );
            for help in helps {
                err = crate::error::with_help(err, help);
            }
            return Err(err);
        }
        let summary = Summary::of(&reports, filtered_out, started.elapsed());
        if let Some(path) = &self.junit {
            let id = plugin.manifest.plugin.id.to_string();
            junit::write(path, &junit::test_report(&id, &reports, summary.exec_time))?;
        }
        if term.is_human() {
            let mut out = term.stdout();
            report::failures(&mut out, &reports, term.is_verbose())?;
            report::summary(&mut out, &summary)?;
            out.flush()?;
        }
        term.emit(&summary)?;
        if github::enabled() {
            annotate(
                cx,
                plugin.root,
                &plugin.manifest.plugin.id.to_string(),
                &reports,
            );
        }
        if summary.failed > 0 {
            return Err(TestsFailed {
                failed: summary.failed,
                total: summary.passed + summary.failed,
            }
            .into());
        }
        Ok(())
    }
}

/// What `test` runs: a plugin's component, or in dev mode its language's engine.
struct Tested<'a> {
    manifest: &'a Manifest,
    root: &'a Path,
    component: &'a [u8],
    /// The file `component` was read from.
    artefact: &'a Path,
    /// Where its compiled code is cached.
    cache: CacheDir,
    /// Python dev mode: the engine and what it loads.
    dev: Option<&'a DevArtefact>,
    /// TypeScript dev engine: the code every instance is given.
    preload: Option<&'a flowtrace_plugins::Preload>,
}

impl Tested<'_> {
    /// In dev mode, whether `case` failed because the engine could not import the plugin:
    /// what to show, and the helps.
    fn load_failure(&self, case: &CaseReport) -> Option<LoadFailure> {
        let dev = self.dev?;
        case.mismatches
            .iter()
            .find_map(|m| (dev.load_failure)(&m.message, self.root, self.manifest))
    }
}

/// An `::error` annotation per failed case, on its fixture's `[expect]` line: on stdout, or
/// on stderr when stdout carries JSON messages.
fn annotate(cx: &Context, root: &Path, plugin: &str, reports: &[CaseReport]) {
    for case in reports.iter().filter(|c| c.status == Status::Failed) {
        let path = root.join(&case.file);
        let line = std::fs::read_to_string(&path)
            .ok()
            .and_then(|text| github::expect_line(&text));
        let message: Vec<String> = case
            .mismatches
            .iter()
            .map(|m| match &m.help {
                Some(help) => format!("{}\nhelp: {help}", m.message),
                None => m.message.clone(),
            })
            .collect();
        let annotation = Annotation::on(
            &path,
            line,
            format!("{plugin}: test {} failed", case.name),
            crate::term::sanitize(&message.join("\n")).into_owned(),
        );
        if cx.term.is_json() {
            cx.term.stderr_line(annotation);
        } else {
            let mut out = cx.term.stdout();
            // Nothing useful to do when stdout is gone: the summary already failed the run.
            let _ = writeln!(out, "{annotation}");
        }
    }
}
