//! `test`: fixtures run end to end on plugins built from the templates (failures, diffs,
//! `--bless`, bad fixtures, JSON events), and the harness library on components written in
//! the WebAssembly text format (stubbed HTTP, several traces, errors, ignored cases).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::sync::Mutex;

use cargo_flowtrace::harness::{self, FixtureContext, Status, Suite};
use flowtrace_plugins::cache::{CacheDir, CacheKey};
use flowtrace_plugins::manifest::Manifest;
use flowtrace_plugins::{testing, Runtime, RuntimeConfig};

use crate::build::{edit, in_plugin, new_plugin, stable};
use crate::support::{assert_golden, tmp};

// ---------------------------------------------------------------------------------------------
// End to end, on the evaluator template

#[test]
fn a_failing_fixture_fails_the_run_with_a_readable_diff() {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "failing-fixtures", "rust-evaluator");
    // The snapshot says the trace scored better than it does.
    edit(
        &plugin.join("tests/snapshots/failed-tool.json"),
        "\"score\": 0.5,",
        "\"score\": 0.75,",
    );
    fs::write(
        plugin.join("tests/wrong.toml"),
        "trace = \"traces/agent.json\"\n\n[expect]\npassed = false\nscore = { min = 0.1, max = 0.2 }\n\
         label = \"slow\"\nmetrics = { spans = 2, erors = 0 }\n",
    )
    .unwrap();
    let out = in_plugin(&plugin, ["test", "-q"]).expect_code(3);
    // Cases finish in any order: the lines of the run are sorted for the golden.
    let stdout = stable(&out.stdout, dir.path());
    let (cases, rest) = stdout.split_once("\nfailures:\n").unwrap();
    let mut lines: Vec<&str> = cases.lines().collect();
    lines.sort();
    assert_golden(
        "test/failures.stdout",
        &format!("{}\n\nfailures:\n{rest}", lines.join("\n")),
    );
    assert_eq!(out.stderr, "error: 2 of 5 tests failed\n");
}

#[test]
fn junit_and_github_annotations_report_each_case_for_ci() {
    use quick_junit::{NonSuccessKind, Report, TestCaseStatus};

    let dir = tmp();
    let plugin = new_plugin(dir.path(), "junit-cases", "rust-evaluator");
    fs::write(
        plugin.join("tests/wrong.toml"),
        "# says the trace fails\ntrace = \"traces/agent.json\"\n\n[expect]\npassed = false\n",
    )
    .unwrap();
    // A path that cannot be a file is refused before anything is built or run.
    let refused = in_plugin(
        &plugin,
        ["test", "-q", "--junit", "tests/ok.toml/junit.xml"],
    )
    .expect_code(1);
    assert!(
        refused.stderr.contains("failed to create its directory"),
        "{}",
        refused.stderr
    );
    assert!(!refused.stdout.contains("running"), "{}", refused.stdout);

    let mut command = crate::build::guest(&plugin);
    command.env("GITHUB_ACTIONS", "true");
    // Its directory is created.
    let out =
        crate::support::run(command, ["test", "-q", "--junit", "ci/junit.xml"]).expect_code(3);
    let annotations: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(
        annotations,
        [
            "::error file=tests/wrong.toml,line=4,title=junit-cases%3A test wrong failed::\
          expected passed = false, got passed = true (score 1; 0 of 3 spans flagged)"
        ],
        "{}",
        out.stdout
    );

    let xml = fs::read_to_string(plugin.join("ci/junit.xml")).unwrap();
    let report = Report::deserialize_from_str(&xml).unwrap();
    let suite = &report.test_suites[0];
    assert_eq!(suite.name.as_str(), "junit-cases");
    assert_eq!((suite.tests, suite.failures, suite.errors), (5, 1, 0));
    let mut names: Vec<&str> = suite.test_cases.iter().map(|c| c.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["failed-tool", "ok", "otlp", "slow", "wrong"]);
    let wrong = suite
        .test_cases
        .iter()
        .find(|c| c.name.as_str() == "wrong")
        .unwrap();
    match &wrong.status {
        TestCaseStatus::NonSuccess {
            kind: NonSuccessKind::Failure,
            message,
            ..
        } => assert_eq!(
            message.as_ref().unwrap().as_str(),
            "expected passed = false, got passed = true (score 1; 0 of 3 spans flagged)"
        ),
        other => panic!("`wrong` is not a failure: {other:?}"),
    }
    assert!(wrong.time.is_some());
    // Without GITHUB_ACTIONS, no annotation.
    let quiet = in_plugin(&plugin, ["test", "-q"]).expect_code(3);
    assert!(!quiet.stdout.contains("::error"), "{}", quiet.stdout);
}

#[test]
fn bless_writes_a_missing_snapshot_then_the_run_passes() {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "blessing", "rust-evaluator");
    fs::write(
        plugin.join("tests/slow-snapshot.toml"),
        "trace = \"traces/agent.json\"\n[config]\nmax-span-ms = 100\n[expect]\nsnapshot = true\n",
    )
    .unwrap();
    let snapshot = plugin.join("tests/snapshots/slow-snapshot.json");
    let out = in_plugin(&plugin, ["test", "-q", "slow-snapshot"]).expect_code(3);
    assert!(
        out.stdout
            .contains("snapshot `tests/snapshots/slow-snapshot.json` does not exist yet"),
        "{}",
        out.stdout
    );
    assert!(!snapshot.exists());

    let out = in_plugin(&plugin, ["test", "-q", "--bless"]).expect_code(0);
    assert!(
        out.stdout
            .contains("test slow-snapshot ... ok (blessed `tests/snapshots/slow-snapshot.json`)"),
        "{}",
        out.stdout
    );
    let written: serde_json::Value = serde_json::from_slice(&fs::read(&snapshot).unwrap()).unwrap();
    assert_eq!(written["label"], "slow");
    assert_eq!(written["passed"], false);

    let out = in_plugin(&plugin, ["test", "-q"]).expect_code(0);
    assert_eq!(out.stdout.lines().last(), Some("5 passed, 0 failed"));
    assert!(!out.stdout.contains("blessed"), "{}", out.stdout);
}

#[test]
fn bad_fixtures_are_reported_with_file_line_and_column() {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "bad-fixtures", "rust-evaluator");
    let tests = plugin.join("tests");
    fs::write(tests.join("syntax.toml"), "trace = \"traces/agent.json\n").unwrap();
    fs::write(
        tests.join("typos.toml"),
        "trace = \"traces/agent.json\"\n[expect]\npased = true\n",
    )
    .unwrap();
    fs::write(
        tests.join("values.toml"),
        "trace = \"traces/missing.json\"\n[config]\nmax-span-ms = \"fast\"\nmax-span = 3\n\
         [expect]\nscore = { min = 0.9, max = 0.1 }\ndimension = 3\n",
    )
    .unwrap();
    fs::write(
        tests.join("traces/broken.json"),
        "{\"id\": \"x\",\n  \"spans\": [}\n",
    )
    .unwrap();
    fs::write(tests.join("json.toml"), "trace = \"traces/broken.json\"\n").unwrap();
    let out = in_plugin(&plugin, ["test", "-q"]).expect_code(1);
    assert_golden("test/bad-fixtures.stderr", &stable(&out.stderr, dir.path()));
    assert_eq!(out.stdout, "", "nothing runs while a fixture is broken");
}

#[test]
fn json_fixtures_run_like_toml_ones() {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "json-fixtures", "rust-evaluator");
    let tests = plugin.join("tests");
    // The TOML `slow` case, as JSON.
    fs::write(
        tests.join("slow-json.json"),
        r#"{
  "description": "the `slow` case, as JSON",
  "trace": "traces/agent.json",
  "config": {"max-span-ms": 500},
  "expect": {"passed": false, "score": {"min": 0.3, "max": 0.4}, "label": "slow",
             "metrics": {"slow": 2}, "snapshot": null}
}
"#,
    )
    .unwrap();
    // An inline trace with `null`s, as Flowtrace JSON exports often have; a wrong expectation.
    fs::write(
        tests.join("inline-json.json"),
        r#"{
  "trace": {"id": "t1", "input": null, "spans": [
    {"id": "a", "parent-id": null, "name": "root", "kind": "agent-step", "status": "ok",
     "start-time-ns": 0, "end-time-ns": 1000}
  ]},
  "expect": {"passed": true, "metrics": {"spans": 2}}
}
"#,
    )
    .unwrap();
    let out = in_plugin(&plugin, ["test", "-q", "json"]).expect_code(3);
    assert!(
        out.stdout.contains("test slow-json ... ok"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("test inline-json ... FAILED"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "---- inline-json (tests/inline-json.json) ----
metric `spans`: expected 2, got 1
"
        ),
        "{}",
        out.stdout
    );
    assert_eq!(out.stdout.lines().last(), Some("1 passed, 1 failed"));
}

#[test]
fn bad_json_fixtures_are_reported_with_file_line_and_column() {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "bad-json-fixtures", "rust-evaluator");
    let tests = plugin.join("tests");
    fs::write(
        tests.join("syntax.json"),
        "{\"trace\": \"traces/agent.json\",\n}\n",
    )
    .unwrap();
    fs::write(
        tests.join("typos.json"),
        "{\"trace\": \"traces/agent.json\",\n \"expect\": {\"pased\": true}}\n",
    )
    .unwrap();
    fs::write(
        tests.join("values.json"),
        "{\n  \"trace\": \"traces/missing.json\",\n  \"config\": {\"max-span-ms\": \"fast\", \"max-span\": 3},\n  \
         \"expect\": {\"score\": {\"min\": 0.9, \"max\": 0.1}, \"dimension\": 3}\n}\n",
    )
    .unwrap();
    fs::write(
        tests.join("nulls.json"),
        "{\"trace\": \"traces/agent.json\", \"trace\": null}\n",
    )
    .unwrap();
    fs::write(
        tests.join("types.json"),
        "{\"trace\": 3,\n \"expect\": {\"score\": [1], \"label\": null}}\n",
    )
    .unwrap();
    fs::write(
        tests.join("null-metric.json"),
        "{\"trace\": \"traces/agent.json\",\n \"expect\": {\"metrics\": {\"spans\": null}}}\n",
    )
    .unwrap();
    fs::write(
        tests.join("missing.json"),
        "{\"expect\": {\"passed\": true}}\n",
    )
    .unwrap();
    let out = in_plugin(&plugin, ["test", "-q"]).expect_code(1);
    assert_golden(
        "test/bad-json-fixtures.stderr",
        &stable(&out.stderr, dir.path()),
    );
    assert_eq!(out.stdout, "", "nothing runs while a fixture is broken");
}

#[test]
fn fixtures_in_subdirectories_are_named_by_their_path_and_data_files_are_not_fixtures() {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "nested-fixtures", "rust-evaluator");
    let tests = plugin.join("tests");
    // A trace kept beside its fixture: named as its `trace`, so not a fixture itself.
    fs::create_dir_all(tests.join("otlp")).unwrap();
    fs::copy(
        tests.join("traces/otlp-agent.json"),
        tests.join("otlp/openai-chat.otlp.json"),
    )
    .unwrap();
    fs::write(
        tests.join("otlp/openai-chat.toml"),
        "trace = \"openai-chat.otlp.json\"\n[expect]\npassed = true\nsnapshot = true\n",
    )
    .unwrap();
    fs::create_dir_all(tests.join("nested/deep")).unwrap();
    fs::write(
        tests.join("nested/deep/slow.json"),
        r#"{"trace": "../../traces/agent.json", "config": {"max-span-ms": 500},
            "expect": {"label": "slow", "snapshot": true}}"#,
    )
    .unwrap();

    let out = in_plugin(&plugin, ["test", "-q", "--bless", "otlp/"]).expect_code(0);
    assert!(
        out.stdout.contains(
            "test otlp/openai-chat ... ok (blessed `tests/otlp/snapshots/openai-chat.json`)"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("1 passed; 0 failed; 0 skipped; 5 filtered out"),
        "{}",
        out.stdout
    );
    assert!(tests.join("otlp/snapshots/openai-chat.json").is_file());

    // The snapshots `--bless` writes are not fixtures either.
    in_plugin(&plugin, ["test", "-q", "--bless"]).expect_code(0);
    assert!(tests.join("nested/deep/snapshots/slow.json").is_file());
    let out = in_plugin(&plugin, ["test", "--message-format", "json"]).expect_code(0);
    let names: Vec<String> = out
        .json_lines()
        .iter()
        .filter(|l| l["reason"] == "test-case")
        .map(|l| {
            format!(
                "{} {}",
                l["name"].as_str().unwrap(),
                l["file"].as_str().unwrap()
            )
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        names,
        [
            "failed-tool tests/failed-tool.toml",
            "nested/deep/slow tests/nested/deep/slow.json",
            "ok tests/ok.toml",
            "otlp tests/otlp.toml",
            "otlp/openai-chat tests/otlp/openai-chat.toml",
            "slow tests/slow.toml",
        ]
    );

    // A trace nothing names, outside `traces/`, and two files with one case name.
    fs::copy(
        tests.join("traces/agent.json"),
        tests.join("nested/agent.json"),
    )
    .unwrap();
    fs::write(
        tests.join("ok.json"),
        "{\"trace\": \"traces/agent.json\"}\n",
    )
    .unwrap();
    let out = in_plugin(&plugin, ["test", "-q"]).expect_code(1);
    assert_golden(
        "test/discovery-problems.stderr",
        &stable(&out.stderr, dir.path()),
    );
}

#[test]
fn an_expected_metric_the_plugin_never_returns_names_the_ones_it_does() {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "metric-typo", "rust-evaluator");
    fs::write(
        plugin.join("tests/typo.toml"),
        "trace = \"traces/agent.json\"\n[expect]\nmetrics = { span = 3 }\n",
    )
    .unwrap();
    let out = in_plugin(&plugin, ["test", "-q", "typo"]).expect_code(3);
    assert_golden("test/metric-typo.stdout", &stable(&out.stdout, dir.path()));
}

#[test]
fn json_mode_writes_one_event_per_case_and_a_summary() {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "json-events", "rust-evaluator");
    let out = in_plugin(&plugin, ["test", "--message-format", "json", "l"]).expect_code(0);
    let lines = out.json_lines();
    let reasons: Vec<&str> = lines
        .iter()
        .map(|l| l["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        [
            "build-finished",
            "test-run-started",
            "test-case",
            "test-case",
            "test-case",
            "test-summary"
        ]
    );
    assert_eq!(lines[1]["count"], 3);
    assert_eq!(lines[1]["filtered-out"], 1, "`ok` has no `l`");
    let mut names: Vec<&str> = lines[2..5]
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["failed-tool", "otlp", "slow"]);
    for case in &lines[2..5] {
        assert_eq!(case["status"], "ok");
        assert!(case["exec-time"].as_f64().unwrap() >= 0.0);
        assert!(case["result"]["score"].is_number(), "{case}");
    }
    let summary = &lines[5];
    assert_eq!(summary["outcome"], "ok");
    assert_eq!(summary["passed"], 3);
    assert_eq!(summary["failed"], 0);
    assert_eq!(summary["skipped"], 0);
    assert_eq!(summary["filtered-out"], 1);
}

// ---------------------------------------------------------------------------------------------
// The harness library, on WAT components

/// A manifest for a test plugin, from `extra` TOML after the `[plugin]` and `[build]` tables.
fn manifest(kind: &str, extra: &str) -> Manifest {
    let text = format!(
        "[plugin]\nid = \"wat-plugin\"\nname = \"WAT plugin\"\nversion = \"0.1.0\"\n\
         kind = \"{kind}\"\n\n[build]\nlanguage = \"rust\"\n\n{extra}"
    );
    Manifest::from_str(&text, Path::new("flowtrace.toml")).unwrap()
}

/// The WAT guest that sends `GET http://<config authority>/hello` and scores status / 1000.
fn http_evaluator() -> Vec<u8> {
    testing::componentize(
        &testing::guest_wat("http"),
        "package test:guest; world w {
            import wasi:http/outgoing-handler@0.2.12;
            import flowtrace:plugin/config@0.1.0;
            export flowtrace:plugin/evaluator@0.1.0;
        }",
    )
    .unwrap()
}

/// Write `fixtures` (name, TOML) into `dir/tests`, load them and run them; the reports by name.
fn run_fixtures(
    dir: &Path,
    component: &[u8],
    manifest: &Manifest,
    fixtures: &[(&str, &str)],
) -> BTreeMap<String, harness::CaseReport> {
    let tests = dir.join("tests");
    fs::create_dir_all(tests.join("traces")).unwrap();
    let trace = serde_json::to_vec(&testing::trace_with_spans(3)).unwrap();
    fs::write(tests.join("traces/three.json"), trace).unwrap();
    let mut two = serde_json::to_vec(&testing::trace_with_spans(1)).unwrap();
    two.push(b'\n');
    let mut second = testing::trace_with_spans(2);
    second.id = "second".into();
    two.extend(serde_json::to_vec(&second).unwrap());
    fs::write(tests.join("traces/two.jsonl"), two).unwrap();
    for (name, text) in fixtures {
        fs::write(tests.join(format!("{name}.toml")), text).unwrap();
    }
    let files = harness::discover(&tests).unwrap();
    let cx = FixtureContext {
        root: dir,
        manifest,
    };
    let fixtures = harness::load_all(&files, &cx).unwrap_or_else(|e| panic!("{e}"));
    let runtime = Runtime::with_config(RuntimeConfig {
        cache: Some(CacheDir::new(
            dir.join("cache"),
            CacheKey::ephemeral().unwrap(),
        )),
        ..RuntimeConfig::default()
    })
    .unwrap();
    let suite = Suite {
        runtime: &runtime,
        component,
        manifest,
        root: dir,
        bless: false,
        dev_sources: None,
        preload: None,
    };
    let seen = Mutex::new(Vec::new());
    let reports = suite
        .run(&fixtures, 4, &|r| seen.lock().unwrap().push(r.name.clone()))
        .unwrap();
    assert_eq!(seen.into_inner().unwrap().len(), reports.len());
    reports.into_iter().map(|r| (r.name.clone(), r)).collect()
}

fn messages(report: &harness::CaseReport) -> Vec<String> {
    report
        .mismatches
        .iter()
        .map(|m| m.message.clone())
        .collect()
}

#[test]
fn stubbed_http_answers_matching_requests_and_unmatched_ones_fail_naming_the_url() {
    let dir = tmp();
    let manifest = manifest(
        "evaluator",
        "[capabilities]\nnetwork = { hosts = [\"api.example.com\"] }\n\n\
         [config]\nauthority = { type = \"string\", default = \"api.example.com\" }\n",
    );
    let reports = run_fixtures(
        dir.path(),
        &http_evaluator(),
        &manifest,
        &[
            (
                "stubbed",
                "trace = \"traces/three.json\"\n[[http]]\nurl = \"http://api.example.com/hello\"\n\
                 method = \"GET\"\nstatus = 201\nbody = \"hi\"\n[expect]\nscore = 0.201\n",
            ),
            (
                "prefix",
                "trace = \"traces/three.json\"\n[[http]]\nurl = \"http://api.example.com/*\"\n\
                 status = 404\n[expect]\nscore = 0.404\n",
            ),
            (
                "unstubbed",
                "trace = \"traces/three.json\"\n[expect]\nscore = 0.2\n",
            ),
            (
                "refused-host",
                "trace = \"traces/three.json\"\n[config]\nauthority = \"evil.example.org\"\n\
                 [expect]\nerror = \"capability denied: GET http://evil.example.org/hello\"\n",
            ),
        ],
    );
    assert_eq!(
        reports["stubbed"].status,
        Status::Ok,
        "{:?}",
        reports["stubbed"]
    );
    assert_eq!(
        reports["stubbed"].http_requests,
        ["GET http://api.example.com/hello"]
    );
    assert_eq!(
        reports["prefix"].status,
        Status::Ok,
        "{:?}",
        reports["prefix"]
    );
    let unstubbed = &reports["unstubbed"];
    assert_eq!(unstubbed.status, Status::Failed);
    assert_eq!(
        messages(unstubbed),
        [
            "the call failed: plugin `wat-plugin` failed: unavailable: request failed",
            "the plugin requested `GET http://api.example.com/hello`, which no `[[http]]` entry stubs",
        ]
    );
    assert_eq!(
        unstubbed.mismatches[1].help.as_deref(),
        Some(
            "add an `[[http]]` entry with `url = \"http://api.example.com/hello\"` and the \
             response to give"
        )
    );
    assert_eq!(
        reports["refused-host"].status,
        Status::Ok,
        "{:?}",
        reports["refused-host"]
    );
}

#[test]
fn a_stub_for_a_host_the_manifest_does_not_allow_is_a_fixture_error() {
    let dir = tmp();
    let manifest = manifest("evaluator", "");
    fs::create_dir_all(dir.path().join("tests")).unwrap();
    let path = dir.path().join("tests/stub.toml");
    fs::write(
        &path,
        "texts = [\"a\"]\ntrace = '{\"id\": \"t\", \"spans\": []}'\n\n[[http]]\nurl = \"https://api.openai.com/v1/x\"\n",
    )
    .unwrap();
    let cx = FixtureContext {
        root: dir.path(),
        manifest: &manifest,
    };
    let err = harness::load_all(&[path], &cx).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid fixture `tests/stub.toml`: 2 problems\n  \
         tests/stub.toml:1:9: `texts` is the input of embedder plugins; this plugin is an evaluator\n    \
         help: give a `trace` instead\n  \
         tests/stub.toml:5:7: host `api.openai.com` is not allowed by the manifest: the policy refuses the request before any stub sees it\n    \
         help: add `network = { hosts = [\"api.openai.com\"] }` under `[capabilities]` in flowtrace.toml"
    );
}

#[test]
fn every_trace_of_an_input_is_scored_and_errors_ignores_and_config_are_cases_of_their_own() {
    let dir = tmp();
    let manifest = manifest(
        "evaluator",
        "[config]\nlevel = { type = \"integer\", default = 1 }\n",
    );
    let component = testing::evaluator(&testing::guest_wat("scan-infos"));
    let reports = run_fixtures(
        dir.path(),
        &component,
        &manifest,
        &[
            (
                "two-traces",
                "trace = \"traces/two.jsonl\"\n[expect]\npassed = false\n",
            ),
            (
                "ignored",
                "ignore = \"not today\"\ntrace = \"traces/three.json\"\n",
            ),
            ("no-expectations", "trace = \"traces/three.json\"\n"),
            (
                "wrong-error",
                "trace = \"traces/three.json\"\n[expect]\nerror = \"boom\"\n",
            ),
            (
                "inline",
                "[trace]\nid = \"inline\"\n[[trace.spans]]\nid = \"a\"\nname = \"root\"\n",
            ),
        ],
    );
    let two = &reports["two-traces"];
    assert_eq!(two.status, Status::Failed);
    let msgs = messages(two);
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    assert!(msgs[0].starts_with("trace 1 of 2 (`"), "{msgs:?}");
    assert!(
        msgs[1].starts_with("trace 2 of 2 (`second`): expected passed = false"),
        "{msgs:?}"
    );
    // This guest's `evaluate-batch` is `unreachable`: the batch of several traces (what
    // `eval` sends) is checked against `evaluate` of each.
    assert!(
        msgs[2].starts_with(
            "`evaluate-batch` over the fixture's traces failed where `evaluate` of each did \
             not: plugin `wat-plugin` failed: trapped"
        ),
        "{msgs:?}"
    );
    assert!(two.result.as_ref().unwrap().is_array());

    let ignored = &reports["ignored"];
    assert_eq!(ignored.status, Status::Ignored);
    assert_eq!(ignored.ignore_reason.as_deref(), Some("not today"));
    assert_eq!(reports["no-expectations"].status, Status::Ok);
    assert_eq!(
        reports["inline"].status,
        Status::Ok,
        "{:?}",
        reports["inline"]
    );
    let wrong = &reports["wrong-error"];
    assert_eq!(wrong.status, Status::Failed);
    assert!(
        messages(wrong)[0].starts_with(
            "expected an error containing \"boom\", but the call succeeded: passed = true"
        ),
        "{:?}",
        messages(wrong)
    );
}

#[test]
fn a_fixture_reads_otlp_protobuf_trace_files_like_their_json() {
    use std::io::Write as _;
    let dir = tmp();
    let manifest = manifest(
        "evaluator",
        "[config]\nlevel = { type = \"integer\", default = 1 }\n",
    );
    let component = testing::evaluator(&testing::guest_wat("scan-infos"));
    let traces = dir.path().join("tests/traces");
    fs::create_dir_all(&traces).unwrap();
    // One trace of three spans, as OTLP/JSON and as protobuf: bare, and the collector's
    // length-prefixed records gzip-compressed.
    let spans: Vec<serde_json::Value> = (1..=3u64)
        .map(|k| {
            serde_json::json!({"traceId": "07".repeat(16), "spanId": format!("{k:016x}"),
                "name": format!("span {k}"), "startTimeUnixNano": k})
        })
        .collect();
    let json = serde_json::json!({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]});
    fs::write(traces.join("agent.otlp.json"), json.to_string()).unwrap();
    let bare = crate::eval::otlp_protobuf(&[(7, 3)]);
    fs::write(traces.join("agent.binpb"), &bare).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&crate::eval::length_prefixed(&[&bare]))
        .unwrap();
    fs::write(traces.join("agent.pb.gz"), gz.finish().unwrap()).unwrap();
    let reports = run_fixtures(
        dir.path(),
        &component,
        &manifest,
        &[
            ("json", "trace = \"traces/agent.otlp.json\"\n"),
            ("bare", "trace = \"traces/agent.binpb\"\n"),
            ("gzip", "trace = \"traces/agent.pb.gz\"\n"),
        ],
    );
    let json = &reports["json"];
    assert_eq!(json.status, Status::Ok, "{json:?}");
    assert!(json.result.is_some());
    for name in ["bare", "gzip"] {
        assert_eq!(reports[name].status, Status::Ok, "{:?}", reports[name]);
        assert_eq!(reports[name].result, json.result, "{name}");
    }

    // A bad record: the fixture error names the file and the record's offset.
    let bad = crate::eval::length_prefixed(&[&bare, b"\x0a\x05\x12\x09oops"]);
    fs::write(traces.join("bad.binpb"), bad).unwrap();
    let fixture = dir.path().join("tests/bad.toml");
    fs::write(&fixture, "trace = \"traces/bad.binpb\"\n").unwrap();
    let cx = FixtureContext {
        root: dir.path(),
        manifest: &manifest,
    };
    let error = harness::load_all(&[fixture], &cx).unwrap_err().to_string();
    let offset = 4 + bare.len();
    assert!(
        error.contains(&format!(
            "tests/bad.toml:1:9: `tests/traces/bad.binpb` is not a trace: invalid OTLP/protobuf \
             record at byte {offset}: the bytes are not an OTLP trace export"
        )),
        "{error}"
    );
}

/// The WAT guest that embeds "hello" through the host and scores the vector's first value / 10.
fn embeddings_evaluator() -> Vec<u8> {
    crate::support::validated(
        testing::componentize(
            &testing::guest_wat("embeddings-user"),
            "package test:guest; world w {
                import flowtrace:plugin/embeddings@0.1.0;
                export flowtrace:plugin/evaluator@0.1.0;
            }",
        )
        .unwrap(),
    )
}

#[test]
fn a_plugin_granted_embeddings_is_served_the_fixtures_embeddings() {
    let dir = tmp();
    let manifest = manifest("evaluator", "[capabilities]\nembeddings = true\n");
    let hello = harness::embed::hash_vector("hello", 8)[0];
    let reports = run_fixtures(
        dir.path(),
        &embeddings_evaluator(),
        &manifest,
        &[
            (
                "exact",
                "trace = \"traces/three.json\"\n[embeddings]\ndimension = 3\n\
                 vectors = { hello = [5, 0.0, 0.0] }\n[expect]\nscore = 0.5\n",
            ),
            (
                "hashed",
                &format!(
                    "trace = \"traces/three.json\"\n[embeddings]\ndimension = 8\n\
                     [expect]\nscore = {}\n",
                    f64::from(hello) / 10.0
                ),
            ),
            ("undeclared", "trace = \"traces/three.json\"\n"),
            (
                "unlisted",
                "trace = \"traces/three.json\"\n[embeddings]\ndimension = 1\n\
                 vectors = { hullo = [1] }\n",
            ),
        ],
    );
    for ok in ["exact", "hashed"] {
        assert_eq!(reports[ok].status, Status::Ok, "{:?}", reports[ok]);
    }
    let undeclared = &reports["undeclared"];
    assert_eq!(undeclared.status, Status::Failed);
    assert_eq!(
        messages(undeclared),
        [
            "the call failed: plugin `wat-plugin` failed: unavailable: the test fixture declares \
             no `[embeddings]` to answer embedding calls",
            "the plugin called `embeddings.embed`, but the fixture declares no `[embeddings]`",
        ]
    );
    assert_eq!(
        undeclared.mismatches[1].help.as_deref(),
        Some(
            "add `[embeddings]` with `dimension = <n>` (every text then gets a stable hash-based \
             vector), and `vectors = { \"<text>\" = [...] }` for exact ones"
        )
    );
    let unlisted = &reports["unlisted"];
    assert_eq!(unlisted.status, Status::Failed);
    assert_eq!(
        messages(unlisted)[1],
        "the plugin embedded \"hello\", which the fixture's `vectors` does not list"
    );
}

#[test]
fn an_embeddings_section_is_checked_against_the_manifest_and_its_dimension() {
    let dir = tmp();
    fs::create_dir_all(dir.path().join("tests")).unwrap();
    let path = dir.path().join("tests/embed.json");
    fs::write(
        &path,
        "{\"trace\": \"{\\\"id\\\": \\\"t\\\", \\\"spans\\\": []}\",\n \
         \"embeddings\": {\"dimension\": 2, \"vectors\": {\"a\": [1, 2, 3]}}}\n",
    )
    .unwrap();
    let cx = |manifest| FixtureContext {
        root: dir.path(),
        manifest,
    };
    let without = manifest("evaluator", "");
    let err = harness::load_all(std::slice::from_ref(&path), &cx(&without)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid fixture `tests/embed.json`: 2 problems\n  \
         tests/embed.json:2:16: `embeddings` answers the `embeddings` capability, which \
         flowtrace.toml does not declare: the policy refuses every call before it\n    \
         help: add `embeddings = true` under `[capabilities]` in flowtrace.toml, or remove the section\n  \
         tests/embed.json:2:50: the vector for \"a\" has 3 values, but `dimension` is 2"
    );
    let with = manifest("evaluator", "[capabilities]\nembeddings = true\n");
    fs::write(
        &path,
        "{\"trace\": \"{\\\"id\\\": \\\"t\\\", \\\"spans\\\": []}\", \"embeddings\": {\"dimension\": 0}}",
    )
    .unwrap();
    let err = harness::load_all(std::slice::from_ref(&path), &cx(&with)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid fixture `tests/embed.json`: 1 problem\n  \
         tests/embed.json:1:73: `dimension` 0 is outside 1..=65536"
    );
}

#[test]
fn a_binary_exporter_snapshot_shows_a_hex_summary_not_a_text_diff() {
    // The `count` exporter, writing "<traces>", a 0xff byte, then "<spans>": not UTF-8.
    let wat = testing::guest_wat("exporter").replace(
        "(i32.store8 (i32.const 3101) (i32.const 32))",
        "(i32.store8 (i32.const 3101) (i32.const 255))",
    );
    assert!(wat.contains("(i32.const 255)"));
    let component = crate::support::validated(
        testing::componentize(
            &wat,
            "package test:guest; world w { export flowtrace:plugin/exporter@0.1.0; }",
        )
        .unwrap(),
    );
    let dir = tmp();
    let snapshots = dir.path().join("tests/snapshots");
    fs::create_dir_all(&snapshots).unwrap();
    fs::write(snapshots.join("same.out"), b"1\xff3").unwrap();
    fs::write(snapshots.join("changed.out"), b"1\xff4").unwrap();
    let reports = run_fixtures(
        dir.path(),
        &component,
        &manifest("exporter", ""),
        &[
            (
                "same",
                "trace = \"traces/three.json\"\n[expect]\nsnapshot = true\n",
            ),
            (
                "changed",
                "trace = \"traces/three.json\"\n[expect]\nsnapshot = true\n",
            ),
        ],
    );
    assert_eq!(reports["same"].status, Status::Ok, "{:?}", reports["same"]);
    // JSON output carries the bytes as they are, in base64, not a lossy string.
    assert_eq!(
        reports["same"].result,
        Some(serde_json::json!({ "format": "count", "output-base64": "Mf8z" }))
    );
    let changed = &reports["changed"];
    assert_eq!(changed.status, Status::Failed);
    assert_eq!(
        messages(changed),
        [
            "the binary output differs from snapshot `tests/snapshots/changed.out` (the snapshot \
             is 3 bytes, the result 3)"
        ]
    );
    assert_eq!(
        changed.mismatches[0].diff.as_deref(),
        Some(
            "--- snapshot (3 bytes)\n+++ actual (3 bytes)\n\
             @@ first difference at byte 2 (0x2) @@\n\
             -00000000  31 ff 34                                          |1.4|\n\
             +00000000  31 ff 33                                          |1.3|\n"
        )
    );
}

#[test]
fn a_plugin_whose_batch_results_are_in_another_order_fails_its_fixtures_with_several_traces() {
    // The `order` guest scores a trace of n spans 1 / (n + 1); with `@REVERSE@` = 1 its
    // `evaluate-batch` returns the results in reverse order, so `eval`, which sends traces
    // in batches, would give each trace the other's score.
    let fixtures = [
        ("two-traces", "trace = \"traces/two.jsonl\"\n"),
        ("one-trace", "trace = \"traces/three.json\"\n"),
    ];
    let manifest = manifest("evaluator", "");
    let hostile = testing::evaluator(&testing::guest_wat("order").replace("@REVERSE@", "1"));
    let dir = tmp();
    let reports = run_fixtures(dir.path(), &hostile, &manifest, &fixtures);
    let two = &reports["two-traces"];
    assert_eq!(two.status, Status::Failed);
    assert_eq!(
        messages(two),
        [
            "`evaluate-batch` gave trace 1 of 2 (`trace-1`) the result `evaluate` gives trace 2 (`second`)",
            "`evaluate-batch` gave trace 2 of 2 (`second`) the result `evaluate` gives trace 1 (`trace-1`)",
        ]
    );
    assert_eq!(
        two.mismatches[0].help.as_deref(),
        Some(
            "`evaluate-batch` must return one result per trace, in the order of the traces it \
             was given"
        )
    );
    // One trace cannot show an order.
    assert_eq!(reports["one-trace"].status, Status::Ok);
    // The same plugin keeping the order passes both.
    let honest = testing::evaluator(&testing::guest_wat("order").replace("@REVERSE@", "0"));
    let dir = tmp();
    let reports = run_fixtures(dir.path(), &honest, &manifest, &fixtures);
    for (name, report) in &reports {
        assert_eq!(report.status, Status::Ok, "{name}: {:?}", messages(report));
    }
}
