//! Reading fixture files: TOML text to the `Raw*` serde shapes (unknown keys refused), then to
//! a validated [`Fixture`], with every problem found kept, each with its line and column.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use flowtrace_plugins::diag;
use flowtrace_plugins::manifest::{ConfigValue, Manifest};
use flowtrace_plugins::trace::Trace;

use super::embed::EmbeddingsStub;
use super::expect::Expect;

mod expectations;
mod json;
pub(crate) mod raw;
pub(crate) mod validate;

use raw::RawFixture;
use validate::Validator;

/// The fixture format this version writes and reads (`schema = 1`, the default).
pub const FIXTURE_SCHEMA: u32 = 1;

/// Largest fixture or trace file read: far beyond any real one.
pub const MAX_FIXTURE_FILE_BYTES: u64 = 64 << 20;

/// The language a fixture file is written in, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// `*.toml`
    Toml,
    /// `*.json`: the same keys and shapes, as JSON.
    Json,
}

impl Syntax {
    /// The syntax of a fixture file named `path`, when its extension is one.
    pub fn of(path: &Path) -> Option<Syntax> {
        match path.extension()?.to_str()? {
            "toml" => Some(Syntax::Toml),
            "json" => Some(Syntax::Json),
            _ => None,
        }
    }

    /// `toml` or `json`, whichever this is: for `help:` lines that show fixture text.
    pub fn pick<'a>(self, toml: &'a str, json: &'a str) -> &'a str {
        match self {
            Syntax::Toml => toml,
            Syntax::Json => json,
        }
    }

    /// What a table (TOML) or an object (JSON) is called.
    pub fn table(self) -> &'static str {
        self.pick("a table", "an object")
    }
}

/// One test case: what to feed the plugin, under which config, and what to expect.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// The case name: the file's path under `tests/` without `.toml` or `.json`
    /// (`otlp/openai-chat`).
    pub name: String,
    /// The fixture file.
    pub path: PathBuf,
    /// Its language.
    pub syntax: Syntax,
    /// `description`
    pub description: Option<String>,
    /// `ignore`: skipped, with the reason (empty when none was given).
    pub ignore: Option<String>,
    /// What the plugin is called with.
    pub input: Input,
    /// `[config]`: overrides of the manifest's `[config]` defaults.
    pub config: BTreeMap<String, ConfigValue>,
    /// `[env]`: the values of the granted environment variables (the process environment is
    /// never read, so a test runs the same everywhere).
    pub env: BTreeMap<String, String>,
    /// `[[http]]`: the stubbed responses.
    pub http: Vec<StubbedResponse>,
    /// `[embeddings]`: what the `embeddings` interface answers; `None` fails every call.
    pub embeddings: Option<EmbeddingsStub>,
    /// `[expect]`
    pub expect: Expect,
}

/// What a case calls the plugin with.
#[derive(Debug, Clone)]
pub enum Input {
    /// Traces (evaluators, exporters, transformers); evaluators score each one.
    Traces {
        /// Where they came from, for messages: a file path or `inline`.
        source: String,
        /// The traces, at least one.
        traces: Vec<Trace>,
        /// `format`: the export format (exporters); `None` uses the first one the exporter
        /// lists.
        format: Option<String>,
    },
    /// `texts` (embedders).
    Texts(Vec<String>),
}

/// One `[[http]]` entry: a request pattern and the response to give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StubbedResponse {
    /// The URL, exact, or a prefix when it ends with `*`.
    pub url: String,
    /// The method (upper case); `None` matches any.
    pub method: Option<String>,
    /// The status code.
    pub status: u16,
    /// Response headers.
    pub headers: Vec<(String, String)>,
    /// Response body.
    pub body: Vec<u8>,
}

impl StubbedResponse {
    /// Whether this entry answers `method url`.
    pub fn matches(&self, method: &str, url: &str) -> bool {
        let method_ok = self
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method));
        let url_ok = match self.url.strip_suffix('*') {
            Some(prefix) => url.starts_with(prefix),
            None => url == self.url || url.strip_suffix('/') == Some(self.url.as_str()),
        };
        method_ok && url_ok
    }
}

/// Why fixture files could not be read: every problem in every file.
#[derive(Debug, thiserror::Error)]
#[error("{}", render(.problems))]
pub struct FixtureErrors {
    /// Every problem, file by file, in position order.
    pub problems: Vec<Problem>,
}

/// One problem in a fixture file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file, as shown (relative to the plugin's directory).
    pub file: String,
    /// 1-based line and column, when the problem has a place.
    pub position: Option<(usize, usize)>,
    /// What is wrong: lowercase, no trailing period.
    pub message: String,
    /// The fix, when one is known.
    pub help: Option<String>,
}

impl Problem {
    /// Where it is: `tests/a.toml:3:1`, or the file alone.
    pub fn place(&self) -> String {
        match self.position {
            Some((line, column)) => format!("{}:{line}:{column}", self.file),
            None => self.file.clone(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place(), self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\n    help: {help}")?;
        }
        Ok(())
    }
}

impl FixtureErrors {
    /// The first line: which fixtures, how many problems.
    pub fn summary(&self) -> String {
        summary(&self.problems)
    }
}

fn render(problems: &[Problem]) -> String {
    let mut out = summary(problems);
    for p in problems {
        out.push_str(&format!("\n  {p}"));
    }
    out
}

fn summary(problems: &[Problem]) -> String {
    let files: std::collections::BTreeSet<&str> =
        problems.iter().map(|p| p.file.as_str()).collect();
    let count = match problems.len() {
        1 => "1 problem".to_string(),
        n => format!("{n} problems"),
    };
    let what = match files.len() {
        1 => format!("invalid fixture `{}`", files.iter().next().unwrap_or(&"")),
        n => format!("invalid fixtures in {n} files"),
    };
    format!("{what}: {count}")
}

// ---------------------------------------------------------------------------------------------
// Reading and validating

/// Everything validation needs besides the file.
pub struct FixtureContext<'a> {
    /// The plugin's directory: paths in messages are relative to it.
    pub root: &'a Path,
    /// The plugin's manifest: its kind decides the input and the expectations, its
    /// `[config]` the overrides, its `network` hosts the stubs.
    pub manifest: &'a Manifest,
}

/// `path` relative to `root` when it is inside it, for messages.
pub fn display_path(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Read and validate one fixture file; `Err` holds every problem found in it.
pub fn load(path: &Path, cx: &FixtureContext<'_>) -> Result<Fixture, Vec<Problem>> {
    let file = display_path(cx.root, path);
    let text = read_limited(path).map_err(|message| {
        vec![Problem {
            file: file.clone(),
            position: None,
            message,
            help: None,
        }]
    })?;
    let text = String::from_utf8(text).map_err(|e| {
        vec![Problem {
            file: file.clone(),
            position: None,
            message: format!(
                "the file is not valid UTF-8 (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
            help: Some("save the fixture as UTF-8".into()),
        }]
    })?;
    let syntax = Syntax::of(path).unwrap_or(Syntax::Toml);
    let mut v = Validator {
        file,
        text: &text,
        syntax,
        dir: path.parent().unwrap_or(Path::new(".")).to_path_buf(),
        cx,
        problems: Vec::new(),
    };
    let raw: RawFixture = match syntax {
        Syntax::Toml => match toml::from_str(&text) {
            Ok(raw) => raw,
            Err(e) => {
                let message = syntax_message(e.message());
                let help = unknown_field_help(e.message());
                v.error(e.span(), message, help);
                return Err(v.problems);
            }
        },
        Syntax::Json => match json::from_str(&text) {
            Ok(raw) => raw,
            Err(e) => {
                let message = syntax_message(&e.message);
                let help = looks_like_trace(&text)
                    .then(|| {
                        "this file looks like a trace, not a fixture: keep traces in a `traces/` \
                         directory, or name this file as a fixture's `trace`"
                            .to_string()
                    })
                    .or_else(|| unknown_field_help(&e.message))
                    .or_else(|| {
                        e.message
                            .contains("`null` is not allowed")
                            .then(|| "give a value, or leave the key out".to_string())
                    });
                match e.position {
                    Some(position) => v.problems.push(Problem {
                        file: v.file.clone(),
                        position: Some(position),
                        message,
                        help,
                    }),
                    None => v.error(e.span, message, help),
                }
                return Err(v.problems);
            }
        },
    };
    let name = super::case_name(&cx.root.join(super::TESTS_DIR), path);
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let fixture = v.fixture(name, &stem, path, raw);
    match fixture {
        Some(fixture) if v.problems.is_empty() => Ok(fixture),
        _ => {
            v.problems
                .sort_by_key(|p| p.position.unwrap_or((usize::MAX, 0)));
            Err(v.problems)
        }
    }
}

/// The files the fixture at `path` names as its `trace` or `snapshot`, normalised, read
/// leniently (a fixture that does not parse names none; loading it reports why).
pub(super) fn referenced_files(path: &Path) -> Vec<PathBuf> {
    let Ok(bytes) = read_limited(path) else {
        return Vec::new();
    };
    let value: serde_json::Value = match Syntax::of(path) {
        Some(Syntax::Json) => serde_json::from_slice(&bytes).unwrap_or_default(),
        _ => std::str::from_utf8(&bytes)
            .ok()
            .and_then(|text| toml::from_str(text).ok())
            .unwrap_or_default(),
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let trace = value.get("trace").and_then(serde_json::Value::as_str);
    let snapshot = value
        .get("expect")
        .and_then(|e| e.get("snapshot"))
        .and_then(serde_json::Value::as_str);
    trace
        .filter(|t| !t.trim_start().starts_with(['{', '[']))
        .into_iter()
        .chain(snapshot)
        .map(|rel| super::normalize(&dir.join(rel)))
        .collect()
}

/// Whether JSON `text` is a Flowtrace trace (or several) or an OTLP export, not a fixture.
fn looks_like_trace(text: &str) -> bool {
    let is_trace =
        |v: &serde_json::Value| v.get("spans").is_some() || v.get("resourceSpans").is_some();
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Array(items)) => items.first().is_some_and(is_trace),
        Ok(value) => is_trace(&value),
        Err(_) => false,
    }
}

/// A file's bytes, refusing anything over [`MAX_FIXTURE_FILE_BYTES`].
fn read_limited(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "the file does not exist".to_string(),
        _ => format!("failed to read the file: {e}"),
    })?;
    let mut bytes = Vec::new();
    file.take(MAX_FIXTURE_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("failed to read the file: {e}"))?;
    if bytes.len() as u64 > MAX_FIXTURE_FILE_BYTES {
        return Err(format!(
            "the file is larger than the {MAX_FIXTURE_FILE_BYTES}-byte limit"
        ));
    }
    Ok(bytes)
}

/// A parser or serde message on one line, lowercase first letter, no trailing period.
fn syntax_message(message: &str) -> String {
    let flat = message.split_whitespace().collect::<Vec<_>>().join(" ");
    let flat = flat.trim_end_matches('.');
    format!("invalid fixture: {flat}")
}

/// `did you mean ...?` for serde's `unknown field `x`, expected one of `a`, `b``.
fn unknown_field_help(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, expected) = rest.split_once('`')?;
    let names: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    diag::did_you_mean(field, &names)
}

/// How a TOML value's type reads in a message: `a string`, `an integer`, ...
pub fn type_name(value: &toml::Value) -> &'static str {
    match value {
        toml::Value::String(_) => "a string",
        toml::Value::Integer(_) => "an integer",
        toml::Value::Float(_) => "a float",
        toml::Value::Boolean(_) => "a boolean",
        toml::Value::Datetime(_) => "a date-time",
        toml::Value::Array(_) => "an array",
        toml::Value::Table(_) => "a table",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stubs_match_exact_urls_prefixes_and_methods() {
        let stub = StubbedResponse {
            url: "https://a.com/v1/x".into(),
            method: Some("POST".into()),
            status: 200,
            headers: Vec::new(),
            body: Vec::new(),
        };
        assert!(stub.matches("post", "https://a.com/v1/x"));
        assert!(stub.matches("POST", "https://a.com/v1/x/"));
        assert!(!stub.matches("GET", "https://a.com/v1/x"));
        assert!(!stub.matches("POST", "https://a.com/v1/xy"));
        let prefix = StubbedResponse {
            url: "https://a.com/v1/*".into(),
            method: None,
            ..stub
        };
        assert!(prefix.matches("GET", "https://a.com/v1/anything?q=1"));
        assert!(!prefix.matches("GET", "https://a.com/v2/"));
    }
}
