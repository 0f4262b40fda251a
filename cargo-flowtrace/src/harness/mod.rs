//! The test harness behind `cargo flowtrace test`: fixtures in the plugin's `tests/`
//! directory, run in the embedded runtime under the plugin's own manifest.
//!
//! # Fixtures
//!
//! Each `tests/<case>.toml` or `tests/<case>.json` is one test case named `<case>`. Unknown
//! keys are errors, and every problem in every fixture is reported at once, with its file,
//! line and column.
//!
//! A JSON fixture has exactly the keys and shapes of a TOML one, written as JSON; `null`
//! counts as an absent key, and is allowed inside `trace` and `body-json` (which are JSON
//! anyway) but nowhere else. Duplicate keys are errors, as in TOML:
//!
//! ```json
//! {
//!   "trace": "traces/truncated.json",
//!   "config": {"max-output-chars": 100},
//!   "http": [{"url": "https://api.openai.com/v1/embeddings", "body-json": {"data": []}}],
//!   "expect": {"passed": false, "score": {"min": 0.5, "max": 0.9}, "snapshot": true}
//! }
//! ```
//!
//! The TOML form, with every key:
//!
//! ```toml
//! description = "a truncated answer fails"   # optional, for people
//! ignore = "flaky upstream"                  # optional: `true` or a reason; the case is skipped
//!
//! # The input. Evaluators, exporters and transformers take a trace:
//! trace = "traces/truncated.json"   # a file, relative to this fixture: Flowtrace JSON (one
//!                                   # trace, an array, or JSON lines) or OTLP/JSON
//! # or inline: trace = '{"resourceSpans": [...]}'   (JSON text)
//! # or inline: [trace] with the Flowtrace JSON fields as TOML (id, spans = [...])
//! format = "jsonl"                  # exporters: the format to export (default: the first listed)
//! # Embedders take texts instead:
//! # texts = ["hello", "world"]
//!
//! [config]                          # overrides of the manifest's [config] defaults, checked
//! max-output-chars = 100            # against the declared types
//!
//! [env]                             # values of the granted `env` variables (the real
//! OPENAI_API_KEY = "test-key"       # environment is never read)
//!
//! [[http]]                          # stubbed responses for network plugins; a request no entry
//! url = "https://api.openai.com/v1/embeddings"   # matches fails the case, naming its URL. A
//! method = "POST"                   # trailing `*` matches a prefix; no `method` matches any.
//! status = 200                      # default 200
//! headers = { "content-type" = "application/json" }
//! body = '{"data": []}'             # or body-json = { data = [] }
//!
//! [expect]                          # every key optional; with none, the call must just succeed
//! passed = false                    # evaluators
//! score = { min = 0.5, max = 0.9 }  # or an exact `score = 1.0`
//! label = "truncated"
//! metrics = { flagged = 1, ratio = { min = 0.1, max = 0.2 }, model = "gpt-4o", cut = true }
//! findings = 2                      # how many findings
//! # contains = ["\"trace_id\""]     # exporters: texts the output contains
//! # dimension = 384                 # embedders: of `dimension()` and of every vector
//! # traces = 1                      # transformers: traces out
//! # spans = 3                       # transformers: spans out, in all
//! snapshot = "snapshots/truncated.json"   # or `true` (snapshots/<case>.json; `.out` for exporters):
//!                                   # the whole result, written by `--bless`, compared as JSON
//! # error = "invalid input"         # instead: the call must fail with an error containing this
//! ```
//!
//! An evaluator scores every trace of its input, and each result must meet the expectations
//! (the snapshot holds one result object, or an array for several traces). The plugin is
//! loaded for each case with the manifest's own capabilities (the policy engine of
//! production, never a lenient mock), a fresh in-memory log (shown when the case fails), a
//! fresh key-value store, the case's traces behind the `traces` interface, and the stub as
//! its only network; `fs-read` grants are relative to the plugin's directory.
//!
//! A fixture may say `schema = 1`: the format's version, for upgrades.

pub mod expect;
pub mod fixture;
pub mod report;
pub mod run;
pub mod snapshot;
pub mod stub;

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

pub use fixture::{Fixture, FixtureContext, FixtureErrors, Problem, Syntax};
pub use run::{CaseReport, Status, Suite};

/// The directory of fixtures, beside the manifest.
pub const TESTS_DIR: &str = "tests";

/// The fixture files in `dir` (`*.toml` and `*.json`, not recursive), sorted by name; none
/// when the directory does not exist.
pub fn discover(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(e).with_context(|| format!("failed to read directory `{}`", dir.display()))
        }
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry =
            entry.with_context(|| format!("failed to read directory `{}`", dir.display()))?;
        let path = entry.path();
        if fixture::Syntax::of(&path).is_some() && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The case name of a fixture file.
pub fn case_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Read and validate `files`; every problem of every file, or the fixtures.
pub fn load_all(files: &[PathBuf], cx: &FixtureContext<'_>) -> Result<Vec<Fixture>, FixtureErrors> {
    let mut fixtures = Vec::new();
    let mut problems = Vec::new();
    for file in files {
        match fixture::load(file, cx) {
            Ok(f) => fixtures.push(f),
            Err(p) => problems.extend(p),
        }
    }
    if problems.is_empty() {
        Ok(fixtures)
    } else {
        Err(FixtureErrors { problems })
    }
}
