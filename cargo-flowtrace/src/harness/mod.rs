//! The test harness behind `cargo flowtrace test`: fixtures in the plugin's `tests/`
//! directory, run in the embedded runtime under the plugin's own manifest.
//!
//! # Fixtures
//!
//! Each `tests/<case>.toml` or `tests/<case>.json` is one test case named `<case>`. Unknown
//! keys are errors, and every problem in every fixture is reported at once, with its file,
//! line and column.
//!
//! Fixtures may sit in subdirectories: `tests/otlp/openai-chat.toml` is the case
//! `otlp/openai-chat`, and `cargo flowtrace test otlp/` runs that directory's cases (the
//! filter matches a substring of the case name). Every `*.toml` and `*.json` file under
//! `tests/` is a fixture, except files in directories named `traces` or `snapshots`, hidden
//! files, and files that a fixture names as its `trace` or `snapshot` (see [`discover`]).
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
//! [embeddings]                      # plugins granted `embeddings`: what the host's embedder
//! dimension = 3                     # answers (an installed embedder plugin, in Flowtrace).
//! vectors = { "hello" = [0.5, 0.0, 0.5] }   # optional: exact vectors; a text not listed fails
//!                                   # the case. Without `vectors`, each text gets a stable
//!                                   # unit vector from a hash of it. Without the section, a
//!                                   # call to `embeddings` fails the case.
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
//! snapshot = "snapshots/truncated.json"   # or `true`: snapshots/<file>.json beside the fixture,
//!                                   # <file> its file name without extension (`.out` for exporters);
//!                                   # the whole result, written by `--bless`, compared as JSON
//! # error = "invalid input"         # instead: the call must fail with an error containing this
//! ```
//!
//! An evaluator scores every trace of its input, and each result must meet the expectations
//! (the snapshot holds one result object, or an array for several traces). The plugin is
//! loaded for each case with the manifest's own capabilities (the policy engine of
//! production, never a lenient mock), a fresh in-memory log (shown when the case fails), a
//! fresh key-value store, the case's traces behind the `traces` interface, `[embeddings]`
//! behind the `embeddings` interface, and the stub as its only network; `fs-read` grants are
//! relative to the plugin's directory.
//!
//! A fixture may say `schema = 1`: the format's version, for upgrades.

pub mod embed;
pub mod expect;
pub mod fixture;
pub(crate) mod kinds;
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

/// Directories under `tests/` that hold data, never fixtures, at any depth.
pub const DATA_DIRS: [&str; 2] = ["traces", "snapshots"];

/// The fixture files under `dir`, sorted by case name; none when the directory does not exist.
///
/// The rule: every `*.toml` and `*.json` file under `dir`, at any depth, is a fixture, except
///
/// * files in a directory named `traces` or `snapshots` (at any depth), and hidden files and
///   directories (names starting with `.`): these hold data;
/// * files that a fixture names as its `trace` or its `snapshot` (a trace kept next to its
///   fixture, `tests/otlp/chat.toml` with `trace = "chat.otlp.json"`).
///
/// Symbolic links to directories are not followed.
pub fn discover(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut candidates = Vec::new();
    if let Err(e) = walk(dir, &mut candidates) {
        if e.kind() == std::io::ErrorKind::NotFound && !dir.exists() {
            return Ok(Vec::new());
        }
        return Err(e).with_context(|| format!("failed to read directory `{}`", dir.display()));
    }
    let referenced: std::collections::HashSet<PathBuf> = candidates
        .iter()
        .flat_map(|file| fixture::referenced_files(file))
        .collect();
    let mut files: Vec<PathBuf> = candidates
        .into_iter()
        .filter(|file| !referenced.contains(&normalize(file)))
        .collect();
    files.sort_by_cached_key(|f| (case_name(dir, f), f.clone()));
    Ok(files)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if !DATA_DIRS.contains(&name.as_ref()) {
                walk(&path, out)?;
            }
        } else if fixture::Syntax::of(&path).is_some() && path.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

/// `path` with `.` and `dir/..` components taken out, without touching the file system.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The case name of the fixture file `path` under the tests directory `tests`: its path
/// relative to `tests`, without the extension, with `/` between directories
/// (`otlp/openai-chat` for `tests/otlp/openai-chat.toml`). A file outside `tests` is named
/// after its file stem.
pub fn case_name(tests: &Path, path: &Path) -> String {
    let relative = path
        .strip_prefix(tests)
        .unwrap_or_else(|_| path.file_name().map_or(path, Path::new));
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if let (Some(last), Some(stem)) = (parts.last_mut(), relative.file_stem()) {
        *last = stem.to_string_lossy().into_owned();
    }
    parts.join("/")
}

/// Read and validate `files`; every problem of every file, or the fixtures.
///
/// Case names are relative to `cx.root/tests` (see [`case_name`]); two files with one name
/// (`a.toml` and `a.json`) are a problem.
pub fn load_all(files: &[PathBuf], cx: &FixtureContext<'_>) -> Result<Vec<Fixture>, FixtureErrors> {
    let mut fixtures = Vec::new();
    let mut problems = Vec::new();
    let tests = cx.root.join(TESTS_DIR);
    let mut named: std::collections::BTreeMap<String, Vec<&PathBuf>> = Default::default();
    for file in files {
        named.entry(case_name(&tests, file)).or_default().push(file);
    }
    for (name, same) in &named {
        if let [first, rest @ ..] = same.as_slice() {
            for other in rest {
                problems.push(Problem {
                    file: fixture::display_path(cx.root, other),
                    position: None,
                    message: format!(
                        "two fixtures are named `{name}`: `{}` and this one",
                        fixture::display_path(cx.root, first)
                    ),
                    help: Some("rename one of them: a case name is the file's path under `tests/` without its extension".into()),
                });
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_names_are_paths_under_tests_without_the_extension() {
        let tests = Path::new("/p/tests");
        assert_eq!(case_name(tests, Path::new("/p/tests/ok.toml")), "ok");
        assert_eq!(
            case_name(tests, Path::new("/p/tests/otlp/openai-chat.json")),
            "otlp/openai-chat"
        );
        assert_eq!(case_name(tests, Path::new("/elsewhere/x.y.toml")), "x.y");
    }

    #[test]
    fn normalising_drops_dots_and_resolves_parents() {
        assert_eq!(
            normalize(Path::new("/p/tests/a/../traces/./t.json")),
            Path::new("/p/tests/traces/t.json")
        );
        assert_eq!(normalize(Path::new("../x")), Path::new("../x"));
    }
}
