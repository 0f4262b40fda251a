//! `eval`: an evaluator written in the WebAssembly text format over generated files of
//! traces, from a `.wasm`, from the registry and from a plugin directory; every way the
//! input or the plugin can be wrong.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use flowtrace_plugins::cache::CacheKey;
use flowtrace_plugins::inspect;
use flowtrace_plugins::registry::{InstallRequest, Registry, Source};
use flowtrace_plugins::{testing, Runtime};
use serde_json::Value;

use sha2::{Digest, Sha256};

use crate::build::{guest_target, in_plugin, new_plugin};
use crate::support::{assert_golden, flowtrace, normalize, run, tmp, validated, Run};

/// A core module whose verdict depends on the number of spans `n` of the trace:
/// `n == 99` loops forever (timeout), `n % 10 == 3` traps, `n % 10 == 5` returns the plugin
/// error `failed("boom")`, `n % 10 == 7` scores 2.0 (an invalid result); otherwise an odd
/// `n` fails with score 0.25 and an even one passes with 1.0, each with a metric `spans = n`.
const GUEST: &str = r#"(module
  (import "flowtrace:plugin/types@0.1.0" "[method]trace.span-count" (func $span_count (param i32) (result i32)))
  (import "flowtrace:plugin/types@0.1.0" "[resource-drop]trace" (func $drop_trace (param i32)))
  @PRELUDE@
  (data (i32.const 2048) "boom")
  (data (i32.const 2056) "spans")
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate") (param $t i32) (result i32)
    (local $n i32) (local $odd i32) (local $r i32)
    (local.set $n (call $span_count (local.get $t)))
    (call $drop_trace (local.get $t))
    (if (i32.eq (local.get $n) (i32.const 99)) (then (loop $spin (br $spin))))
    (if (i32.eq (i32.rem_u (local.get $n) (i32.const 10)) (i32.const 3)) (then unreachable))
    (if (i32.eq (i32.rem_u (local.get $n) (i32.const 10)) (i32.const 5))
      (then
        (memory.fill (i32.const 1024) (i32.const 0) (i32.const 64))
        (i32.store8 (i32.const 1024) (i32.const 1))
        (i32.store8 (i32.const 1032) (i32.const 3))
        (i32.store (i32.const 1036) (i32.const 2048))
        (i32.store (i32.const 1040) (i32.const 4))
        (return (i32.const 1024))))
    (if (i32.eq (i32.rem_u (local.get $n) (i32.const 10)) (i32.const 7))
      (then (return (call $ok (f64.const 2) (i32.const 1)))))
    (local.set $odd (i32.and (local.get $n) (i32.const 1)))
    (local.set $r
      (call $ok
        (select (f64.const 0.25) (f64.const 1) (local.get $odd))
        (i32.eqz (local.get $odd))))
    ;; metrics = [{ name: "spans", value: float(n) }]
    (i32.store (i32.const 3072) (i32.const 2056))
    (i32.store (i32.const 3076) (i32.const 5))
    (i32.store8 (i32.const 3080) (i32.const 0))
    (f64.store (i32.const 3088) (f64.convert_i32_u (local.get $n)))
    (i32.store (i32.const 1068) (i32.const 3072))
    (i32.store (i32.const 1072) (i32.const 1))
    (local.get $r))
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate-batch") (param i32 i32) (result i32)
    unreachable))"#;

/// What [`GUEST`] makes of a trace with `n` spans: the verdict and the error kind.
fn expected(n: usize) -> (&'static str, Option<&'static str>) {
    match n {
        99 => ("error", Some("timeout")),
        n if n % 10 == 3 => ("error", Some("trap")),
        n if n % 10 == 5 => ("error", Some("plugin")),
        n if n % 10 == 7 => ("error", Some("invalid-result")),
        n if n % 2 == 1 => ("failed", None),
        _ => ("passed", None),
    }
}

fn manifest_text(id: &str, kind: &str) -> String {
    format!(
        "[plugin]\nid = \"{id}\"\nname = \"{id}\"\nversion = \"0.1.0\"\nkind = \"{kind}\"\n\n\
         [build]\nlanguage = \"rust\"\n\n[limits]\ntimeout = \"200ms\"\n"
    )
}

/// The test evaluator, without a manifest.
fn bare_evaluator() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| validated(testing::evaluator(&testing::expand(GUEST))))
}

/// The test evaluator with its manifest embedded, as `cargo flowtrace build` writes it.
fn evaluator(id: &str) -> Vec<u8> {
    let bytes = inspect::embed_manifest(bare_evaluator(), &manifest_text(id, "evaluator"))
        .expect("the manifest embeds");
    validated(bytes)
}

/// The runtime's WAT exporter, with an exporter manifest embedded.
fn exporter(id: &str) -> Vec<u8> {
    let bytes = testing::componentize(
        &testing::guest_wat("exporter"),
        "package test:guest; world w { import flowtrace:plugin/log@0.1.0; export flowtrace:plugin/exporter@0.1.0; }",
    )
    .expect("the exporter componentizes");
    validated(inspect::embed_manifest(&bytes, &manifest_text(id, "exporter")).unwrap())
}

/// The number of spans of trace `i` in generated files: `i % 20`, and 99 (a timeout) for
/// every 250th.
fn spans_of(i: usize) -> usize {
    if i % 250 == 249 {
        99
    } else {
        i % 20
    }
}

/// A trace `t-<i>` with `n` spans, as one line of Flowtrace JSON.
fn trace_line(i: usize, n: usize) -> String {
    let mut trace = testing::trace_with_spans(n);
    trace.id = format!("t-{i}");
    serde_json::to_string(&trace).unwrap()
}

/// `count` traces as JSON lines (trace `i` on line `i + 1`).
fn write_traces(path: &Path, count: usize) {
    let mut text = String::new();
    for i in 0..count {
        text.push_str(&trace_line(i, spans_of(i)));
        text.push('\n');
    }
    fs::write(path, text).unwrap();
}

fn eval(dir: &Path, args: &[&str]) -> Run {
    let mut all = vec!["eval"];
    all.extend_from_slice(args);
    run(flowtrace(dir), all)
}

fn read_jsonl(path: &Path) -> Vec<Value> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn count_by(values: &[Value], key: impl Fn(&Value) -> String) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for v in values {
        *out.entry(key(v)).or_insert(0) += 1;
    }
    out
}

/// `error.kind` of a record, or its verdict when it has no error.
fn outcome(record: &Value) -> String {
    match record["error"]["kind"].as_str() {
        Some(kind) => kind.to_string(),
        None => record["verdict"].as_str().unwrap().to_string(),
    }
}

fn expected_outcomes(count: usize) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for i in 0..count {
        let (verdict, error) = expected(spans_of(i));
        *out.entry(error.unwrap_or(verdict).to_string()).or_insert(0) += 1;
    }
    out
}

#[test]
fn a_thousand_traces_with_failures_and_errors_are_all_counted() {
    let dir = tmp();
    fs::write(dir.path().join("plugin.wasm"), evaluator("mixed")).unwrap();
    write_traces(&dir.path().join("traces.jsonl"), 1000);

    let out = eval(
        dir.path(),
        &[
            "plugin.wasm",
            "traces.jsonl",
            "--output",
            "results.jsonl",
            "-j",
            "2",
        ],
    )
    .expect_code(0);
    // 500 passed (score 1), 196 failed (score 0.25), 304 errors: 100 traps, 100 plugin
    // errors, 100 invalid results, 4 timeouts.
    assert_golden("eval/mixed.stdout", &out.stdout);
    let stderr: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(
        stderr[0],
        "  Evaluating `traces.jsonl` with `mixed` v0.1.0 (plugin.wasm), 2 threads"
    );
    // The first errors in input order, with file and line: trace `t-3` is on line 4.
    assert!(
        stderr[1].starts_with("error: traces.jsonl:4: trace `t-3`: trapped: "),
        "{}",
        out.stderr
    );
    assert_eq!(
        stderr[2],
        "error: traces.jsonl:6: trace `t-5`: plugin error: boom"
    );
    assert_eq!(
        stderr[3],
        "error: traces.jsonl:8: trace `t-7`: returned an invalid result: score 2 is outside 0.0..=1.0"
    );
    assert_eq!(
        stderr[11],
        "note: 294 more errors not shown; `results.jsonl` has every result"
    );
    assert!(
        stderr[12].starts_with("    Finished 1000 traces in "),
        "{}",
        out.stderr
    );

    let results = read_jsonl(&dir.path().join("results.jsonl"));
    assert_eq!(results.len(), 1000);
    assert_eq!(count_by(&results, outcome), expected_outcomes(1000));
    assert_eq!(
        count_by(&results, |r| r["verdict"].as_str().unwrap().to_string()),
        BTreeMap::from([
            ("error".to_string(), 304),
            ("failed".to_string(), 196),
            ("passed".to_string(), 500),
        ])
    );
    for (i, record) in results.iter().enumerate() {
        // In input order, each with its file, line and trace.
        assert_eq!(record["file"], "traces.jsonl");
        assert_eq!(record["line"], i + 1);
        assert_eq!(record["trace-id"], format!("t-{i}"));
        let n = spans_of(i);
        match expected(n) {
            ("passed", _) => assert_eq!(record["score"], 1.0, "{record}"),
            ("failed", _) => {
                assert_eq!(record["score"], 0.25, "{record}");
                assert_eq!(record["passed"], false, "{record}");
            }
            _ => assert!(record.get("score").is_none(), "{record}"),
        }
        if record["verdict"] != "error" {
            assert_eq!(
                record["metrics"],
                serde_json::json!([{"name": "spans", "value": n as f64}])
            );
        }
    }
    let timeout = &results[249]["error"];
    assert_eq!(timeout["kind"], "timeout");
    assert_eq!(timeout["message"], "timed out after 200ms");
}

#[test]
fn json_mode_writes_one_result_per_trace_then_the_summary() {
    let dir = tmp();
    fs::write(dir.path().join("plugin.wasm"), evaluator("mixed")).unwrap();
    write_traces(&dir.path().join("traces.jsonl"), 300);
    let out = eval(
        dir.path(),
        &["plugin.wasm", "traces.jsonl", "--message-format", "json"],
    )
    .expect_code(0);
    let messages = out.json_lines();
    assert_eq!(messages.len(), 301, "{}", out.stdout);
    let (results, summary) = messages.split_at(300);
    assert!(results.iter().all(|m| m["reason"] == "eval-result"));
    assert_eq!(count_by(results, outcome), expected_outcomes(300));
    let summary = &summary[0];
    assert_eq!(summary["reason"], "eval-summary");
    assert_eq!(summary["plugin"], "mixed");
    let counts: Vec<u64> = ["traces", "passed", "failed", "errors"]
        .iter()
        .map(|k| summary[*k].as_u64().unwrap())
        .collect();
    let expected = expected_outcomes(300);
    let errors = 300 - expected["passed"] - expected["failed"];
    assert_eq!(
        counts,
        [
            300,
            expected["passed"] as u64,
            expected["failed"] as u64,
            errors as u64
        ]
    );
    assert_eq!(summary["metrics"][0]["name"], "spans");
    // No status lines on stdout, no table.
    assert!(!out.stdout.contains("Finished"));

    // The results are on stdout already: `--output -` would mix two streams.
    let out = eval(
        dir.path(),
        &[
            "plugin.wasm",
            "traces.jsonl",
            "--message-format",
            "json",
            "-o",
            "-",
        ],
    )
    .expect_code(2);
    assert!(
        out.stderr
            .starts_with("error: `--output -` cannot be used with `--message-format json`"),
        "{}",
        out.stderr
    );
}

#[test]
fn junit_has_a_testcase_per_trace_with_failures_and_errors() {
    use quick_junit::{NonSuccessKind, Report, TestCaseStatus};

    let dir = tmp();
    fs::write(dir.path().join("plugin.wasm"), evaluator("mixed")).unwrap();
    write_traces(&dir.path().join("traces.jsonl"), 40);
    eval(
        dir.path(),
        &[
            "plugin.wasm",
            "traces.jsonl",
            "-q",
            "--junit",
            "results.xml",
        ],
    )
    .expect_code(0);
    let xml = fs::read_to_string(dir.path().join("results.xml")).unwrap();
    let report = Report::deserialize_from_str(&xml).unwrap();
    let suite = &report.test_suites[0];
    assert_eq!(suite.name.as_str(), "mixed");
    let outcomes = expected_outcomes(40);
    let errors = 40 - outcomes["passed"] - outcomes["failed"];
    assert_eq!(
        (suite.tests, suite.failures, suite.errors),
        (40, outcomes["failed"], errors)
    );
    for (i, case) in suite.test_cases.iter().enumerate() {
        // In input order, named by trace id.
        assert_eq!(case.name.as_str(), format!("t-{i}"));
        let (verdict, error) = expected(spans_of(i));
        match (&case.status, verdict) {
            (TestCaseStatus::Success { .. }, "passed") => {}
            (
                TestCaseStatus::NonSuccess {
                    kind: NonSuccessKind::Failure,
                    ..
                },
                "failed",
            ) => {}
            (
                TestCaseStatus::NonSuccess {
                    kind: NonSuccessKind::Error,
                    ty,
                    ..
                },
                "error",
            ) => assert_eq!(ty.as_ref().map(|t| t.as_str()), error, "trace {i}"),
            (status, verdict) => panic!("trace {i}: {status:?} for a {verdict} trace"),
        }
    }
    // An unwritable destination is refused before the plugin runs.
    let out = eval(
        dir.path(),
        &[
            "plugin.wasm",
            "traces.jsonl",
            "--junit",
            "traces.jsonl/r.xml",
        ],
    )
    .expect_code(1);
    assert!(
        out.stderr.contains("failed to create its directory"),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains("Finished"), "{}", out.stdout);
}

#[test]
fn fail_on_turns_errors_or_failures_into_exit_code_3() {
    let dir = tmp();
    fs::write(dir.path().join("plugin.wasm"), evaluator("mixed")).unwrap();
    fs::write(
        dir.path().join("ok.jsonl"),
        format!("{}\n{}\n", trace_line(0, 0), trace_line(1, 1)),
    )
    .unwrap();
    fs::write(
        dir.path().join("bad.jsonl"),
        format!("{}\n{}\n", trace_line(0, 0), trace_line(1, 3)),
    )
    .unwrap();
    // One passed, one failed: no errors.
    eval(
        dir.path(),
        &["plugin.wasm", "ok.jsonl", "-q", "--fail-on", "error"],
    )
    .expect_code(0);
    let out = eval(
        dir.path(),
        &["plugin.wasm", "ok.jsonl", "-q", "--fail-on", "failed"],
    )
    .expect_code(3);
    assert_eq!(
        out.stderr,
        "error: 1 of 2 traces failed or could not be evaluated\n"
    );
    let out = eval(
        dir.path(),
        &["plugin.wasm", "bad.jsonl", "-q", "--fail-on", "error"],
    )
    .expect_code(3);
    assert!(
        out.stderr
            .ends_with("error: 1 of 2 traces could not be evaluated\n"),
        "{}",
        out.stderr
    );
}

/// A disabled plugin still runs under `eval`, with a warning; an argument that is both a
/// path here and an installed plugin's id is taken as the path, and the note says so.
#[test]
fn a_disabled_or_shadowed_installed_plugin_is_named() {
    let dir = tmp();
    let home = dir.path().join("flowtrace-home");
    let runtime = Runtime::new().unwrap();
    let registry = Registry::open(&home).unwrap().precompiling_with(&runtime);
    let id = flowtrace_plugins::manifest::PluginId::parse("quiet-eval").unwrap();
    registry
        .install(InstallRequest::new(
            evaluator("quiet-eval"),
            Source::File {
                path: PathBuf::from("quiet-eval.wasm"),
            },
        ))
        .unwrap();
    write_traces(&dir.path().join("traces.jsonl"), 3);

    let out = eval(dir.path(), &["quiet-eval", "traces.jsonl"]).expect_code(0);
    assert!(!out.stderr.contains("disabled"), "{}", out.stderr);
    registry.disable(&id, false).unwrap();
    let out = eval(dir.path(), &["quiet-eval", "traces.jsonl"]).expect_code(0);
    assert!(
        out.stderr.contains(
            "warning: plugin `quiet-eval` is disabled: Flowtrace does not run it; running it \
             anyway (`cargo flowtrace enable quiet-eval` enables it)"
        ),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("Finished 3 traces"), "{}", out.stderr);

    // A file named like the plugin: the file is taken, and that is said.
    fs::write(dir.path().join("quiet-eval"), evaluator("other-eval")).unwrap();
    let out = eval(dir.path(), &["quiet-eval", "traces.jsonl"]).expect_code(0);
    assert!(
        out.stderr.contains(
            "note: `quiet-eval` is both the file `./quiet-eval` and an installed plugin: taking \
             the file"
        ),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("is disabled"), "{}", out.stderr);
    // A directory too (here one that is no plugin's: the note comes before its error).
    fs::remove_file(dir.path().join("quiet-eval")).unwrap();
    fs::create_dir(dir.path().join("quiet-eval")).unwrap();
    let out = eval(dir.path(), &["quiet-eval", "traces.jsonl"]).expect_code(1);
    assert!(
        out.stderr.contains(
            "note: `quiet-eval` is both the directory `./quiet-eval` and an installed plugin: \
             taking the directory"
        ),
        "{}",
        out.stderr
    );
    // A path written as one is no id: nothing to say.
    let out = eval(dir.path(), &["./quiet-eval", "traces.jsonl"]).expect_code(1);
    assert!(!out.stderr.contains("note: "), "{}", out.stderr);
}

#[test]
fn an_installed_plugin_is_evaluated_by_its_id() {
    let dir = tmp();
    let home = dir.path().join("flowtrace-home");
    let runtime = Runtime::new().unwrap();
    let registry = Registry::open(&home).unwrap().precompiling_with(&runtime);
    registry
        .install(InstallRequest::new(
            evaluator("installed-eval"),
            Source::File {
                path: PathBuf::from("installed-eval.wasm"),
            },
        ))
        .unwrap();
    registry
        .install(InstallRequest::new(
            exporter("some-exporter"),
            Source::File {
                path: PathBuf::from("some-exporter.wasm"),
            },
        ))
        .unwrap();
    write_traces(&dir.path().join("traces.jsonl"), 20);

    let out = eval(
        dir.path(),
        &["installed-eval", "traces.jsonl", "-o", "-", "-q"],
    )
    .expect_code(0);
    // `--output -`: the results on stdout, the summary on stderr.
    assert_eq!(count_by(&out.json_lines(), outcome), expected_outcomes(20));
    assert!(out.stderr.contains("traces        20\n"), "{}", out.stderr);

    let out = eval(dir.path(), &["some-exporter", "traces.jsonl"]).expect_code(1);
    assert_golden("eval/installed-exporter.stderr", &out.stderr);
    let out = eval(dir.path(), &["not-there", "traces.jsonl"]).expect_code(1);
    assert_golden("eval/not-installed.stderr", &out.stderr);

    // A component changed after install is refused at load, with both hashes.
    let component = home.join("plugins/installed-eval/0.1.0/plugin.wasm");
    let mut bytes = std::fs::read(&component).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&component, &bytes).unwrap();
    let out = eval(dir.path(), &["installed-eval", "traces.jsonl"]).expect_code(1);
    assert!(
        out.stderr.contains("hash mismatch: recorded sha256:"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("found sha256:"), "{}", out.stderr);
    assert!(
        out.stderr.contains("cargo flowtrace install --force"),
        "{}",
        out.stderr
    );
}

#[test]
fn config_overrides_are_checked_against_the_manifest() {
    let dir = tmp();
    fs::write(dir.path().join("plugin.wasm"), evaluator("mixed")).unwrap();
    write_traces(&dir.path().join("traces.jsonl"), 2);
    let out = eval(
        dir.path(),
        &["plugin.wasm", "traces.jsonl", "--config", "threshold=0.5"],
    )
    .expect_code(1);
    assert_golden("eval/undeclared-config.stderr", &out.stderr);
}

#[test]
fn a_component_without_a_manifest_is_refused_with_the_fix() {
    let dir = tmp();
    fs::write(dir.path().join("bare.wasm"), bare_evaluator()).unwrap();
    write_traces(&dir.path().join("traces.jsonl"), 2);
    let out = eval(dir.path(), &["bare.wasm", "traces.jsonl"]).expect_code(1);
    assert_golden("eval/no-manifest.stderr", &out.stderr);
}

#[test]
fn a_component_of_another_kind_is_refused() {
    let dir = tmp();
    fs::write(dir.path().join("exporter.wasm"), exporter("an-exporter")).unwrap();
    write_traces(&dir.path().join("traces.jsonl"), 2);
    let out = eval(dir.path(), &["exporter.wasm", "traces.jsonl"]).expect_code(1);
    assert_golden("eval/exporter.stderr", &out.stderr);
}

#[test]
fn missing_trace_files_are_named_before_anything_runs() {
    let dir = tmp();
    fs::write(dir.path().join("plugin.wasm"), evaluator("mixed")).unwrap();
    write_traces(&dir.path().join("traces.jsonl"), 2);
    let out = eval(
        dir.path(),
        &["plugin.wasm", "traces.jsonl", "missing.jsonl"],
    )
    .expect_code(1);
    assert_golden(
        "eval/missing-file.stderr",
        &normalize(&out.stderr, dir.path()),
    );
    let out = eval(dir.path(), &["no-such-plugin.wasm", "traces.jsonl"]).expect_code(1);
    assert_golden("eval/missing-plugin.stderr", &out.stderr);
}

/// `eval plugin.wasm <files> -o results.jsonl` in `dir`, which must succeed: the run, the
/// results, and each result as `file:line trace-id outcome` (trace ids cut to 8 characters).
fn eval_to_results(dir: &Path, files: &[&str]) -> (Run, Vec<Value>, Vec<String>) {
    let mut args = vec!["plugin.wasm"];
    args.extend_from_slice(files);
    args.extend(["-o", "results.jsonl"]);
    let out = eval(dir, &args).expect_code(0);
    let results = read_jsonl(&dir.join("results.jsonl"));
    let summary = results
        .iter()
        .map(|r| {
            let id = r["trace-id"].as_str().unwrap_or("-");
            let id = &id[..id.len().min(8)];
            let file = r["file"].as_str().unwrap();
            format!("{file}:{} {id} {}", r["line"], outcome(r))
        })
        .collect();
    (out, results, summary)
}

#[test]
fn an_unparsable_line_is_an_error_with_its_number_and_the_run_goes_on() {
    let dir = tmp();
    fs::write(dir.path().join("plugin.wasm"), evaluator("mixed")).unwrap();
    fs::write(
        dir.path().join("traces.jsonl"),
        format!(
            "{}\n{{\"id\": \"cut\", \"spans\": [\n\n{}\n{{\"resourceLogs\": []}}\n{}\n",
            trace_line(0, 0),
            trace_line(1, 1),
            trace_line(2, 2)
        ),
    )
    .unwrap();
    // A pretty-printed document is read whole, alongside.
    let mut doc = testing::trace_with_spans(4);
    doc.id = "doc".into();
    fs::write(
        dir.path().join("doc.json"),
        serde_json::to_string_pretty(&[doc]).unwrap(),
    )
    .unwrap();
    let (out, results, summary) = eval_to_results(dir.path(), &["traces.jsonl", "doc.json"]);
    assert_eq!(
        summary,
        [
            "traces.jsonl:1 t-0 passed",
            "traces.jsonl:2 - input",
            "traces.jsonl:4 t-1 failed",
            "traces.jsonl:5 - input",
            "traces.jsonl:6 t-2 passed",
            "doc.json:null doc passed",
        ]
    );
    assert!(
        results[1]["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("not JSON at column 24: the text ends inside an array"),
        "{}",
        results[1]
    );
    assert!(
        results[3]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("an OTLP logs export"),
        "{}",
        results[3]
    );
    assert!(
        out.stdout.starts_with(
            "traces         6\npassed         3\nfailed         1\nerrors         2\n"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr
            .contains("error: traces.jsonl:2: not JSON at column 24: the text ends"),
        "{}",
        out.stderr
    );
}

/// A file that is not JSON at all: its problem in plain words (never serde's `expected
/// ident`), its position as fixtures give it (`at line 2, column 1`).
#[test]
fn a_file_that_is_not_json_is_said_in_plain_words() {
    let dir = tmp();
    fs::write(dir.path().join("plugin.wasm"), evaluator("words")).unwrap();
    fs::write(dir.path().join("notes.txt"), "nothing here\nnull\n").unwrap();
    let (out, results, _) = eval_to_results(dir.path(), &["notes.txt"]);
    let message = results[0]["error"]["message"].as_str().unwrap();
    assert_eq!(
        message,
        "not JSON at line 1, column 2: a bare word: outside strings, JSON has only `true`, \
         `false` and `null`"
    );
    assert!(
        out.stderr.contains(&format!("error: notes.txt: {message}")),
        "{}",
        out.stderr
    );
}

#[test]
fn a_plugin_directory_is_built_then_evaluated() {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "eval-from-dir", "rust-evaluator");
    let out = in_plugin(
        &plugin,
        [
            "eval",
            ".",
            "tests/traces/agent.json",
            "tests/traces/failed-tool.json",
            "tests/traces/otlp-agent.json",
            "--message-format",
            "json",
        ],
    )
    .expect_code(0);
    let messages = out.json_lines();
    let summary = messages.last().unwrap();
    assert_eq!(summary["reason"], "eval-summary", "{}", out.stdout);
    assert_eq!(summary["plugin"], "eval-from-dir");
    assert_eq!(summary["traces"], 3, "{}", out.stdout);
    assert_eq!(summary["errors"], 0, "{}", out.stdout);
    assert!(
        messages
            .iter()
            .any(|m| m["reason"] == "build-finished" && m["success"] == true),
        "{}",
        out.stdout
    );

    // The compiled cache under `target/` as a cloned repository could carry it: code made
    // and sealed on another machine (here: forged to trap, sealed with another key). It is
    // compiled again with a warning, never run, by `eval` and by `test`.
    // (The tests share one target dir: only this plugin's entry is forged.)
    let cache = guest_target().join("flowtrace/cache");
    let built = messages
        .iter()
        .find(|m| m["reason"] == "build-finished")
        .unwrap();
    let sha256 = built["sha256"]
        .as_str()
        .unwrap_or_else(|| panic!("{built}"));
    let attacker = CacheKey::ephemeral().unwrap();
    assert_eq!(testing::forge_cache_entries(&cache, sha256, &attacker), 1);
    let out = in_plugin(&plugin, ["eval", ".", "tests/traces/agent.json"]).expect_code(0);
    assert!(
        out.stderr
            .contains("was not compiled on this machine by this user"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("compiling the component again"),
        "{}",
        out.stderr
    );
    assert_eq!(testing::forge_cache_entries(&cache, sha256, &attacker), 1);
    let out = in_plugin(&plugin, ["test"]).expect_code(0);
    assert!(
        out.stderr
            .contains("was not compiled on this machine by this user"),
        "{}",
        out.stderr
    );
}

#[test]
fn forged_precompiled_code_of_an_installed_plugin_is_never_run() {
    // Another home installs the plugin, forges its precompiled code to trap and seals it
    // with its own key; the victim's installed copy gets that `precompiled/` directory.
    let dir = tmp();
    let runtime = Runtime::new().unwrap();
    let attacker_home = dir.path().join("attacker-home");
    let attacker = Registry::open(&attacker_home)
        .unwrap()
        .precompiling_with(&runtime);
    let component = evaluator("forged-eval");
    let source = || Source::File {
        path: PathBuf::from("forged-eval.wasm"),
    };
    attacker
        .install(InstallRequest::new(component.clone(), source()))
        .unwrap();
    let precompiled = "plugins/forged-eval/0.1.0/precompiled";
    let forged = attacker_home.join(precompiled);
    let sha256 = hex::encode(Sha256::digest(&component));
    assert_eq!(
        testing::forge_cache_entries(&forged, &sha256, attacker.cache_key()),
        1
    );

    let home = dir.path().join("flowtrace-home");
    let victim = Registry::open(&home).unwrap().precompiling_with(&runtime);
    victim
        .install(InstallRequest::new(component, source()))
        .unwrap();
    fs::remove_dir_all(home.join(precompiled)).unwrap();
    copy_dir(&forged, &home.join(precompiled));

    write_traces(&dir.path().join("traces.jsonl"), 20);
    let out = eval(dir.path(), &["forged-eval", "traces.jsonl", "-o", "-"]).expect_code(0);
    assert_eq!(count_by(&out.json_lines(), outcome), expected_outcomes(20));
    assert!(
        out.stderr
            .contains("was not compiled on this machine by this user"),
        "{}",
        out.stderr
    );
    // Replaced by this home's own code: the next run is quiet.
    let out = eval(dir.path(), &["forged-eval", "traces.jsonl", "-o", "-"]).expect_code(0);
    assert!(
        !out.stderr.contains("compiled cache entry"),
        "{}",
        out.stderr
    );
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn eval_help() {
    let dir = tmp();
    let out = run(flowtrace(dir.path()), ["eval", "--help"]).expect_code(0);
    assert_golden("help/eval.txt", &out.stdout);
}

#[test]
fn gzip_files_and_standard_input_are_read_like_plain_files() {
    use std::io::Write as _;
    let dir = tmp();
    let wasm = dir.path().join("plugin.wasm");
    fs::write(&wasm, evaluator("gz-eval")).unwrap();
    let plain = dir.path().join("traces.jsonl");
    write_traces(&plain, 60);
    let text = fs::read(&plain).unwrap();
    // Two gzip members one after the other, as `cat a.gz b.gz` makes: both are read.
    let half = text[..text.len() / 2]
        .iter()
        .rposition(|b| *b == b'\n')
        .unwrap()
        + 1;
    let (first, rest) = text.split_at(half);
    let mut gz = Vec::new();
    for part in [first, rest] {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(part).unwrap();
        gz.extend(encoder.finish().unwrap());
    }
    // The name does not matter: the content does.
    let compressed = dir.path().join("traces.data");
    fs::write(&compressed, &gz).unwrap();

    let expected = expected_outcomes(60);
    let results = |out: &Run| -> Vec<Value> {
        out.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let from_plain = eval(
        dir.path(),
        &["plugin.wasm", "traces.jsonl", "-o", "-", "-q"],
    )
    .expect_code(0);
    let from_gz = eval(dir.path(), &["plugin.wasm", "traces.data", "-o", "-", "-q"]).expect_code(0);
    assert_eq!(count_by(&results(&from_gz), outcome), expected);
    let lines = |values: Vec<Value>| -> Vec<(Value, Value)> {
        values
            .into_iter()
            .map(|v| (v["line"].clone(), v["trace-id"].clone()))
            .collect()
    };
    assert_eq!(lines(results(&from_gz)), lines(results(&from_plain)));

    for input in [text.clone(), gz] {
        let mut child = flowtrace(dir.path())
            .args(["eval", "plugin.wasm", "-", "-o", "-", "-q"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || stdin.write_all(&input).unwrap());
        let output = child.wait_with_output().unwrap();
        writer.join().unwrap();
        assert!(output.status.success(), "{output:?}");
        let records: Vec<Value> = String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(count_by(&records, outcome), expected);
        assert_eq!(records[0]["file"], "<stdin>");
    }

    let out = eval(dir.path(), &["plugin.wasm", "-", "-"]).expect_code(1);
    assert!(
        out.stderr.contains("named more than once"),
        "{}",
        out.stderr
    );
}

/// An OTLP/protobuf export of the traces `(i, n)`: trace `i` has the id `iiii...` (16 bytes
/// of `i`) and `n` spans, with ids 1 to `n`, named `span <k>`, starting at `k` ns.
pub(crate) fn otlp_protobuf(traces: &[(u8, usize)]) -> Vec<u8> {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    use prost::Message as _;
    let spans = traces
        .iter()
        .flat_map(|&(i, n)| {
            (1..=n as u64).map(move |k| Span {
                trace_id: vec![i; 16],
                span_id: k.to_be_bytes().to_vec(),
                name: format!("span {k}"),
                start_time_unix_nano: k,
                ..Default::default()
            })
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

/// Each message after its length as 4 bytes big-endian, as the collector's file exporter
/// writes `format: proto`.
pub(crate) fn length_prefixed(messages: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for message in messages {
        out.extend((message.len() as u32).to_be_bytes());
        out.extend(*message);
    }
    out
}

#[test]
fn otlp_protobuf_files_are_read_and_a_bad_record_is_an_error_with_its_offset() {
    use std::io::Write as _;
    let dir = tmp();
    fs::write(dir.path().join("plugin.wasm"), evaluator("proto-eval")).unwrap();
    // The collector's length-prefixed records: a good one, garbage, two traces in one.
    let first = otlp_protobuf(&[(1, 2)]);
    let garbage = b"\x0a\x05\x12\x09oops".to_vec();
    let bad_at = 4 + first.len();
    let records = length_prefixed(&[&first, &garbage, &otlp_protobuf(&[(2, 1), (3, 4)])]);
    fs::write(dir.path().join("traces.binpb"), records).unwrap();
    // A bare message (an OTLP/HTTP body), gzip-compressed; the name does not matter.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(&otlp_protobuf(&[(4, 6)])).unwrap();
    fs::write(dir.path().join("body.data"), encoder.finish().unwrap()).unwrap();
    // A record cut short ends its file, after the good one before it.
    let cut = length_prefixed(&[&first, &first]);
    fs::write(dir.path().join("cut.pb"), &cut[..cut.len() - 3]).unwrap();
    fs::write(dir.path().join("traces.jsonl"), trace_line(5, 2) + "\n").unwrap();

    let files = ["traces.binpb", "body.data", "cut.pb", "traces.jsonl"];
    let (out, results, summary) = eval_to_results(dir.path(), &files);
    assert_eq!(
        summary,
        [
            "traces.binpb:null 01010101 passed",
            "traces.binpb:null - input",
            "traces.binpb:null 02020202 failed",
            "traces.binpb:null 03030303 passed",
            "body.data:null 04040404 passed",
            "cut.pb:null 01010101 passed",
            "cut.pb:null - input",
            "traces.jsonl:1 t-5 passed",
        ]
    );
    assert_eq!(
        results[1]["error"]["message"],
        format!(
            "invalid OTLP/protobuf record at byte {bad_at}: the bytes are not an OTLP trace \
             export (`ExportTraceServiceRequest`): failed to decode Protobuf message: \
             ResourceSpans.scope_spans: ExportTraceServiceRequest.resource_spans: buffer \
             underflow"
        )
    );
    assert_eq!(
        results[6]["error"]["message"],
        format!(
            "invalid OTLP/protobuf record at byte {bad_at}: the input is cut short: the record \
             needs {} bytes, but only {} remain",
            first.len(),
            first.len() - 3
        )
    );
    assert!(
        out.stderr.contains(&format!(
            "error: traces.binpb: invalid OTLP/protobuf record at byte {bad_at}"
        )),
        "{}",
        out.stderr
    );
}

/// The runtime's `counter` guest (it counts its evaluations in `kv`; 1 span loops, 3 spans
/// trap, both after counting), granted `storage` and `traces`, with a 200 ms timeout.
fn counter_evaluator() -> Vec<u8> {
    let bytes = testing::componentize(&testing::guest_wat("counter"), testing::COUNTER_WORLD)
        .expect("the counter componentizes");
    let manifest = format!(
        "{}\n[capabilities]\nstorage = true\ntraces = true\n",
        manifest_text("counter", "evaluator")
    );
    validated(inspect::embed_manifest(&bytes, &manifest).unwrap())
}

/// Traces `t-0`.. with 10 + i spans, except those `special` names.
fn counter_traces(path: &Path, count: usize, special: &[(usize, usize)]) {
    let mut text = String::new();
    for i in 0..count {
        let n = special
            .iter()
            .find(|(at, _)| *at == i)
            .map_or(10 + i, |(_, n)| *n);
        text.push_str(&trace_line(i, n));
        text.push('\n');
    }
    fs::write(path, text).unwrap();
}

/// Each record's `calls` metric, or its error kind.
fn calls_or_error(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| match r["error"]["kind"].as_str() {
            Some(kind) => kind.to_string(),
            None => {
                let calls = r["metrics"].as_array().unwrap().iter();
                let calls = calls.clone().find(|m| m["name"] == "calls").unwrap();
                calls["value"].to_string()
            }
        })
        .collect()
}

#[test]
fn eval_of_a_batch_with_a_trap_evaluates_every_trace_once() {
    let dir = tmp();
    fs::write(dir.path().join("plugin.wasm"), counter_evaluator()).unwrap();
    // Trace 5 of 20 counts, then traps: the batch call of traces 0..=15 fails as a whole.
    counter_traces(&dir.path().join("traces.jsonl"), 20, &[(5, 3)]);
    let out = eval(
        dir.path(),
        &["plugin.wasm", "traces.jsonl", "-o", "-", "-j", "1"],
    )
    .expect_code(0);
    // Each trace sees every earlier trace's count once (traces run twice saw 6..=25).
    let expected: Vec<String> = (0..20)
        .map(|i| match i {
            5 => "trap".to_string(),
            i => i.to_string(),
        })
        .collect();
    assert_eq!(
        calls_or_error(&out.json_lines()),
        expected,
        "{}",
        out.stderr
    );
    // The guest's log line of the trapping trace, once: under its error (the log sink does
    // not print it too).
    assert_eq!(out.stderr.matches("trapping").count(), 1, "{}", out.stderr);
    let shown = out
        .stderr
        .matches("plugin log:\n  [warn] trapping\n")
        .count();
    assert_eq!(shown, 1, "{}", out.stderr);
}

#[test]
fn eval_of_a_looping_trace_costs_one_deadline() {
    let dir = tmp();
    fs::write(dir.path().join("plugin.wasm"), counter_evaluator()).unwrap();
    counter_traces(&dir.path().join("traces.jsonl"), 16, &[(5, 1)]);
    let out = eval(
        dir.path(),
        &["plugin.wasm", "traces.jsonl", "-o", "-", "-j", "1"],
    )
    .expect_code(0);
    let records = out.json_lines();
    let expected: Vec<String> = (0..16)
        .map(|i| match i {
            5 => "timeout".to_string(),
            i => i.to_string(),
        })
        .collect();
    assert_eq!(calls_or_error(&records), expected, "{}", out.stderr);
    // The looping trace ran once (it logs `looping` as it starts to loop), not again alone:
    // once in its record, once under its error (the log sink does not print it too).
    assert_eq!(out.stderr.matches("looping").count(), 1, "{}", out.stderr);
    assert_eq!(records[5]["log"][0]["message"], "looping", "{}", records[5]);
    assert_eq!(records[5]["log"].as_array().unwrap().len(), 1);
    assert_eq!(
        out.stderr.matches("  [warn] looping").count(),
        1,
        "{}",
        out.stderr
    );
    // Its time is what it spent: its deadline, not nothing and not two.
    let spent = records[5]["exec-time"].as_f64().unwrap();
    assert!((0.2..0.4).contains(&spent), "exec-time {spent}");
    let total: f64 = records
        .iter()
        .map(|r| r["exec-time"].as_f64().unwrap())
        .sum();
    assert!(total < 2.0, "exec-times add up to {total} s");
}

#[test]
fn eval_of_a_trace_over_the_span_cap_is_an_error_and_the_others_run() {
    let dir = tmp();
    fs::write(dir.path().join("plugin.wasm"), evaluator("capped")).unwrap();
    fs::write(
        dir.path().join("traces.jsonl"),
        [trace_line(0, 10), trace_line(1, 60), trace_line(2, 20)].join("\n"),
    )
    .unwrap();
    let out = eval(
        dir.path(),
        &[
            "plugin.wasm",
            "traces.jsonl",
            "--max-spans",
            "50",
            "-o",
            "out.jsonl",
        ],
    )
    .expect_code(0);
    let records = read_jsonl(&dir.path().join("out.jsonl"));
    assert_eq!(
        records.iter().map(outcome).collect::<Vec<_>>(),
        ["passed", "too-many-spans", "passed"]
    );
    assert_eq!(
        records[1]["error"]["message"],
        "60 spans, more than the cap of 50; raise it with `--max-spans 60`"
    );
    assert_eq!(records[1]["trace-id"], "t-1");
    assert!(
        out.stderr.contains(
            "error: traces.jsonl:2: trace `t-1`: 60 spans, more than the cap of 50; raise it with `--max-spans 60`\n"
        ),
        "{}",
        out.stderr
    );
    // The default cap is 100,000: the same file passes whole.
    let out = eval(
        dir.path(),
        &["plugin.wasm", "traces.jsonl", "-o", "-", "-q"],
    )
    .expect_code(0);
    assert_eq!(
        out.json_lines().iter().map(outcome).collect::<Vec<_>>(),
        ["passed", "passed", "passed"]
    );
}

/// An evaluator that counts the directories preopened for it: score 1 and passed with one,
/// score 0 and failed with none.
const PREOPENS_GUEST: &str = r#"(module
  (import "flowtrace:plugin/types@0.1.0" "[resource-drop]trace" (func $drop_trace (param i32)))
  (import "wasi:filesystem/preopens@0.2.12" "get-directories" (func $get_directories (param i32)))
  @PRELUDE@
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate") (param $t i32) (result i32)
    (local $n i32)
    (call $drop_trace (local.get $t))
    (call $get_directories (i32.const 4096))
    (local.set $n (i32.load (i32.const 4100)))
    (call $ok (f64.convert_i32_u (local.get $n)) (i32.eq (local.get $n) (i32.const 1))))
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate-batch") (param i32 i32) (result i32)
    unreachable))"#;

/// [`PREOPENS_GUEST`] granted `fs-read = ["data"]`, its manifest embedded.
fn fs_reader(id: &str) -> Vec<u8> {
    let bytes = testing::componentize(
        &testing::expand(PREOPENS_GUEST),
        "package test:guest; world w { import wasi:filesystem/preopens@0.2.12; export flowtrace:plugin/evaluator@0.1.0; }",
    )
    .expect("the fs reader componentizes");
    let manifest = format!(
        "{}\n[capabilities]\nfs-read = [\"data\"]\n",
        manifest_text(id, "evaluator")
    );
    validated(inspect::embed_manifest(&bytes, &manifest).unwrap())
}

/// The scores of `--output -`.
fn scores(out: &Run) -> Vec<f64> {
    out.json_lines()
        .iter()
        .map(|r| r["score"].as_f64().unwrap_or_else(|| panic!("{r}")))
        .collect()
}

#[test]
fn fs_read_directories_are_mounted_from_the_data_dir() {
    let dir = tmp();
    let home = dir.path().join("flowtrace-home");
    fs::create_dir_all(dir.path().join("files/data")).unwrap();
    fs::write(dir.path().join("reader.wasm"), fs_reader("fs-reader")).unwrap();
    write_traces(&dir.path().join("traces.jsonl"), 2);
    Registry::open(&home)
        .unwrap()
        .install(InstallRequest::new(
            fs_reader("fs-reader"),
            Source::File {
                path: PathBuf::from("reader.wasm"),
            },
        ))
        .unwrap();

    for plugin in ["fs-reader", "reader.wasm"] {
        // No directory of its own: refused, with the flag to pass, never run blind.
        let out = eval(dir.path(), &[plugin, "traces.jsonl"]).expect_code(1);
        assert!(
            out.stderr
                .contains("reads files (`fs-read`: `data`), and has no plugin directory"),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr.contains("help: pass `--data-dir <DIR>`"),
            "{}",
            out.stderr
        );

        let out = eval(
            dir.path(),
            &[
                plugin,
                "traces.jsonl",
                "--data-dir",
                "files",
                "-o",
                "-",
                "-q",
            ],
        )
        .expect_code(0);
        assert_eq!(scores(&out), [1.0, 1.0], "{}", out.stderr);

        // A data dir without the granted directory: a warning, and nothing mounted.
        let out = eval(
            dir.path(),
            &[plugin, "traces.jsonl", "--data-dir", ".", "-o", "-"],
        )
        .expect_code(0);
        assert_eq!(scores(&out), [0.0, 0.0]);
        assert!(
            out.stderr
                .contains("`fs-read` directory `data` is not a directory under"),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn a_plugin_directory_reads_its_fs_read_directories_from_itself() {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "eval-data-dir", "rust-evaluator");
    // An evaluator that labels each trace with the text of `data/answer.txt`.
    fs::write(
        plugin.join("src/lib.rs"),
        r#"use flowtrace_plugin_sdk::{export_evaluator, EvalResult, Evaluator, PluginError, Trace};

struct Plugin;

impl Evaluator for Plugin {
    fn evaluate(_trace: &Trace<'_>) -> Result<EvalResult, PluginError> {
        let text = std::fs::read_to_string("data/answer.txt")
            .unwrap_or_else(|e| format!("unreadable: {e}"));
        Ok(EvalResult::pass(1.0).label(text.trim().to_string()))
    }
}

export_evaluator!(Plugin);
"#,
    )
    .unwrap();
    let mut manifest = fs::read_to_string(plugin.join("flowtrace.toml")).unwrap();
    manifest.push_str("\n[capabilities]\nfs-read = [\"data\"]\n");
    fs::write(plugin.join("flowtrace.toml"), manifest).unwrap();
    fs::create_dir_all(plugin.join("data")).unwrap();
    fs::write(plugin.join("data/answer.txt"), "from-the-plugin\n").unwrap();
    let elsewhere = dir.path().join("elsewhere");
    fs::create_dir_all(elsewhere.join("data")).unwrap();
    fs::write(elsewhere.join("data/answer.txt"), "from-data-dir\n").unwrap();

    let labels = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["eval", ".", "tests/traces/agent.json", "-o", "-", "-q"];
        all.extend_from_slice(args);
        let out = in_plugin(&plugin, all).expect_code(0);
        out.json_lines()
            .iter()
            .map(|r| r["label"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(labels(&[]), ["from-the-plugin"]);
    let flag = elsewhere.to_str().unwrap();
    assert_eq!(labels(&["--data-dir", flag]), ["from-data-dir"]);
}

#[test]
fn a_component_with_two_manifest_sections_is_refused_as_such() {
    let dir = tmp();
    let twice = testing::with_custom_section(
        evaluator("twice"),
        inspect::MANIFEST_SECTION,
        manifest_text("twice", "evaluator").as_bytes(),
        None,
    );
    fs::write(dir.path().join("twice.wasm"), validated(twice)).unwrap();
    write_traces(&dir.path().join("traces.jsonl"), 1);
    let out = eval(dir.path(), &["twice.wasm", "traces.jsonl"]).expect_code(1);
    assert!(
        out.stderr.contains(
            "the component has two `flowtrace-manifest` sections: exactly one must describe \
             the plugin"
        ),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("no embedded manifest"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("help: rebuild the plugin with `cargo flowtrace build`"),
        "{}",
        out.stderr
    );
}

/// `parts` gzip-compressed each as its own member, one after the other (as `cat a.gz b.gz`).
fn gzip_members(parts: &[&[u8]]) -> Vec<u8> {
    use std::io::Write as _;
    let mut out = Vec::new();
    for part in parts {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(part).unwrap();
        out.extend(encoder.finish().unwrap());
    }
    out
}

#[test]
fn a_line_or_document_over_max_trace_bytes_once_decompressed_is_an_error_and_the_run_goes_on() {
    let dir = tmp();
    fs::write(dir.path().join("plugin.wasm"), evaluator("capped")).unwrap();
    // A small file whose second line inflates to 8 MiB: eight members of 1 MiB of `a`.
    let megabyte = vec![b'a'; 1 << 20];
    let first = format!("{}\n{{\"id\": \"", trace_line(0, 0));
    let last = format!("\", \"spans\": []}}\n{}\n", trace_line(2, 2));
    let mut parts: Vec<&[u8]> = vec![first.as_bytes()];
    parts.extend(std::iter::repeat_n(&megabyte[..], 8));
    parts.push(last.as_bytes());
    let lines = gzip_members(&parts);
    assert!(lines.len() < 64 << 10, "{}", lines.len());
    fs::write(dir.path().join("traces.jsonl.gz"), lines).unwrap();
    // A document of 2 MiB once inflated.
    let mut doc = testing::trace_with_spans(2);
    doc.id = "big".into();
    doc.input = Some("b".repeat(2 << 20));
    let doc = serde_json::to_string_pretty(&[doc]).unwrap();
    fs::write(
        dir.path().join("doc.json.gz"),
        gzip_members(&[doc.as_bytes()]),
    )
    .unwrap();

    let out = eval(
        dir.path(),
        &[
            "plugin.wasm",
            "traces.jsonl.gz",
            "doc.json.gz",
            "--max-trace-bytes",
            "1MiB",
            "-o",
            "results.jsonl",
        ],
    )
    .expect_code(0);
    let results = read_jsonl(&dir.path().join("results.jsonl"));
    let summary: Vec<String> = results
        .iter()
        .map(|r| {
            let id = r["trace-id"].as_str().unwrap_or("-");
            format!(
                "{}:{} {id} {}",
                r["file"].as_str().unwrap(),
                r["line"],
                outcome(r)
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            "traces.jsonl.gz:1 t-0 passed",
            "traces.jsonl.gz:2 - input",
            "traces.jsonl.gz:3 t-2 passed",
            "doc.json.gz:null - input",
        ]
    );
    assert_eq!(
        results[1]["error"]["message"],
        "the line is longer than the 1048576-byte limit for a line (counted decompressed); raise \
         the limit with `--max-trace-bytes`"
    );
    assert_eq!(
        results[3]["error"]["message"],
        "the input is larger than the 1048576-byte limit for one document (counted \
         decompressed): split it into JSON lines, one OTLP/JSON export or trace per line, which \
         are read one line at a time, or raise the limit with `--max-trace-bytes`"
    );
    assert!(
        out.stderr
            .contains("error: traces.jsonl.gz:2: the line is longer than the 1048576-byte limit"),
        "{}",
        out.stderr
    );

    // Under the default caps both are read.
    let out = eval(
        dir.path(),
        &["plugin.wasm", "traces.jsonl.gz", "doc.json.gz"],
    )
    .expect_code(0);
    assert!(
        out.stdout.starts_with("traces         4\n"),
        "{}",
        out.stdout
    );
}
