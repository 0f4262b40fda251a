//! The manifest and trace parsers under mutated real inputs: no panic, and every error that
//! promises a position has one inside the input. A fixed seed and a bounded budget (see
//! [`flowtrace_plugins::testing::fuzz`]; `FLOWTRACE_FUZZ_SECS` lengthens it).

use std::path::{Path, PathBuf};

use flowtrace_plugins::manifest::{Manifest, ManifestError};
use flowtrace_plugins::testing::fuzz::{self, Budget};
use flowtrace_plugins::trace::{parse_traces, TraceError, TraceReader};
use prost::Message as _;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read_all(paths: &[PathBuf]) -> Vec<Vec<u8>> {
    paths.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// A template's `{{ value }}` placeholders filled with a plausible value.
fn fill_placeholders(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        match rest[start..].find("}}") {
            Some(end) => {
                out.push_str("fuzz-plugin");
                rest = &rest[start + end + 2..];
            }
            None => {
                rest = &rest[start..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

fn manifest_corpus() -> Vec<Vec<u8>> {
    let root = repo();
    let mut paths = fuzz::files(&root.join("examples"), &["flowtrace.toml"]);
    paths.extend(fuzz::files(
        &root.join("runtime/tests/golden/manifest"),
        &[".toml"],
    ));
    let mut corpus = read_all(&paths);
    for template in fuzz::files(&root.join("templates"), &["flowtrace.toml.hbs"]) {
        let text = std::fs::read_to_string(template).unwrap();
        corpus.push(fill_placeholders(&text).into_bytes());
    }
    assert!(corpus.len() >= 10, "found {} manifests", corpus.len());
    corpus
}

fn trace_corpus() -> Vec<Vec<u8>> {
    let root = repo();
    let mut paths = fuzz::files(&root.join("runtime/tests/fixtures/traces"), &[".json"]);
    paths.extend(
        fuzz::files(&root.join("examples"), &[".json", ".jsonl"])
            .into_iter()
            .filter(|p| p.components().any(|c| c.as_os_str() == "traces")),
    );
    let mut corpus = read_all(&paths);
    assert!(corpus.len() >= 5, "found {} trace files", corpus.len());
    // The real OTLP exports as protobuf too, bare and as the collector's length-prefixed
    // records.
    for path in paths
        .iter()
        .filter(|p| p.starts_with(root.join("runtime/tests")))
    {
        let export = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let message = crate::trace_protobuf::to_protobuf(&export).encode_to_vec();
        let prefixed = [&(message.len() as u32).to_be_bytes()[..], &message].concat();
        corpus.extend([message, prefixed]);
    }
    corpus
}

/// A protobuf record's offset lies inside the input (it counts decompressed bytes for gzip).
fn check_offset(bytes: &[u8], error: &TraceError) {
    if let Some(offset) = error.offset().filter(|_| !bytes.starts_with(&[0x1f, 0x8b])) {
        assert!(
            offset <= bytes.len() as u64,
            "offset {offset} of {}: {error}",
            bytes.len()
        );
    }
}

#[test]
fn manifest_parser_survives_mutations_and_places_every_problem() {
    let scratch = tempfile::tempdir().unwrap();
    let ran = fuzz::run(
        "manifest",
        &manifest_corpus(),
        Budget::from_env(),
        scratch.path(),
        |bytes| {
            let text = String::from_utf8_lossy(bytes);
            match Manifest::from_str(&text, Path::new("flowtrace.toml")) {
                Ok(_) => true,
                Err(ManifestError::Invalid { diagnostics, .. }) => {
                    assert!(
                        !diagnostics.is_empty(),
                        "an invalid manifest with no problem"
                    );
                    for d in &diagnostics {
                        assert!(
                            fuzz::position_in(&text, d.line, d.column),
                            "{}:{} is outside the input: {}",
                            d.line,
                            d.column,
                            d.message
                        );
                        assert!(!d.message.is_empty());
                    }
                    false
                }
                Err(ManifestError::TooLarge { .. }) => false,
                Err(other) => panic!("unexpected error from text: {other}"),
            }
        },
    );
    assert!(ran.iterations > 0);
    // The corpus parses, and mutations reach past the first error now and then.
    assert!(ran.accepted > 0, "{ran:?}");
}

/// The checks every trace error must pass: a JSON syntax error has a line and column inside
/// the input, a line of JSON lines is a line of it.
fn check_trace_error(text: &str, error: &TraceError) {
    let lines = text.split('\n').count();
    match error {
        TraceError::InvalidJson { line, column, .. } => {
            assert!(
                fuzz::position_in(text, *line, *column),
                "{line}:{column} is outside the input: {error}"
            );
        }
        TraceError::Line { line, source } => {
            assert!(*line >= 1 && *line <= lines, "line {line} of {lines}");
            check_trace_error(text, source);
        }
        _ => {}
    }
    // Every error renders.
    assert!(!error.to_string().is_empty());
}

#[test]
fn trace_parsers_survive_mutations_and_place_syntax_errors() {
    let scratch = tempfile::tempdir().unwrap();
    let ran = fuzz::run(
        "traces",
        &trace_corpus(),
        Budget::from_env(),
        scratch.path(),
        |bytes| {
            let text = String::from_utf8_lossy(bytes);
            let whole = match parse_traces(bytes) {
                Ok(traces) => {
                    for trace in &traces {
                        // What was accepted serialises back.
                        serde_json::to_vec(trace).unwrap();
                    }
                    true
                }
                Err(e) => {
                    check_trace_error(&text, &e);
                    check_offset(bytes, &e);
                    false
                }
            };
            // The streaming reader: one item per trace or bad line or record, never a panic.
            for item in TraceReader::new(bytes) {
                if let Err(e) = item {
                    assert!(
                        e.line().is_some()
                            || e.offset().is_some()
                            || matches!(e, TraceError::Decompress { .. }),
                        "a streamed error without a line or offset: {e}"
                    );
                    check_trace_error(&text, &e);
                    check_offset(bytes, &e);
                }
            }
            whole
        },
    );
    assert!(ran.iterations > 0);
    assert!(ran.accepted > 0, "{ran:?}");
}
