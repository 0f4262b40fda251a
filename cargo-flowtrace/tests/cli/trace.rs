//! `trace show` and `schema trace`, and the JSON Schema `new` writes beside a template's
//! traces.

use std::fs;
use std::path::Path;

use flowtrace_plugins::trace::JSON_SCHEMA;
use serde_json::Value;

use crate::support::{flowtrace, run, tmp, Run};

fn cli(dir: &Path, args: &[&str]) -> Run {
    run(flowtrace(dir), args)
}

#[test]
fn schema_trace_prints_the_schema_the_runtime_ships() {
    let dir = tmp();
    let out = cli(dir.path(), &["schema", "trace"]).expect_code(0);
    assert_eq!(out.stdout, JSON_SCHEMA);
    let lines = cli(dir.path(), &["schema", "trace", "--message-format", "json"])
        .expect_code(0)
        .json_lines();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["reason"], "schema");
    assert_eq!(
        lines[0]["schema"],
        serde_json::from_str::<Value>(JSON_SCHEMA).unwrap()
    );
}

#[test]
fn new_writes_the_schema_its_traces_name() {
    let dir = tmp();
    cli(
        dir.path(),
        &["new", "schema-eval", "--template", "python-evaluator"],
    )
    .expect_code(0);
    let traces = dir.path().join("schema-eval/tests/traces");
    assert_eq!(
        fs::read_to_string(traces.join("trace.schema.json")).unwrap(),
        JSON_SCHEMA
    );
    let agent: Value =
        serde_json::from_str(&fs::read_to_string(traces.join("agent.json")).unwrap()).unwrap();
    assert_eq!(agent["$schema"], "./trace.schema.json");
    // An OpenTelemetry export is left as it is.
    let otlp = fs::read_to_string(traces.join("otlp-agent.json")).unwrap();
    assert!(!otlp.contains("$schema"));
}

#[test]
fn trace_show_prints_the_spans_as_the_runtime_normalizes_them() {
    let dir = tmp();
    let file = dir.path().join("agent.json");
    fs::write(
        &file,
        r#"{
  "$schema": "./trace.schema.json",
  "id": "t1",
  "spans": [
    {"id": "c", "parent-id": "a", "name": "execute_tool get_weather", "kind": "tool-call",
     "status": "error", "status-message": "timed out",
     "attributes": [{"key": "gen_ai.tool.name", "value": {"text": "get_weather"}}],
     "start-time-ns": 1000000000, "end-time-ns": 1500000000},
    {"id": "a", "name": "weather-agent", "kind": "agent-step", "status": "ok",
     "start-time-ns": 0, "end-time-ns": 2000000000},
    {"id": "b", "parent-id": "a", "name": "chat gpt-4o-mini", "kind": "llm-call",
     "model": "gpt-4o-mini", "usage": {"input": 24, "output": 12},
     "attributes": [{"key": "gen_ai.completion.0.finish_reason", "value": {"text": "length"}}],
     "start-time-ns": 100000000}
  ]
}"#,
    )
    .unwrap();
    let out = cli(dir.path(), &["trace", "show", "agent.json"]).expect_code(0);
    assert_eq!(
        out.stdout,
        "trace t1 (3 spans) from agent.json
  agent-step  weather-agent  ok  2.000 s
    input 0 B, output 0 B
    tool-call  execute_tool get_weather  error  0.500 s
      tool get_weather; error timed out; input 0 B, output 0 B
    llm-call  chat gpt-4o-mini  unset  (no end time)
      model gpt-4o-mini; tokens 24 in, 12 out, - total; finish length; input 0 B, output 0 B
"
    );
    let lines = cli(
        dir.path(),
        &["trace", "show", "agent.json", "--message-format", "json"],
    )
    .expect_code(0)
    .json_lines();
    assert_eq!(lines.len(), 1);
    let spans = lines[0]["spans"].as_array().unwrap();
    let ids: Vec<&str> = spans.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["a", "c", "b"]);
    assert_eq!(spans[2]["depth"], 1);
    assert_eq!(spans[2]["finish-reasons"], serde_json::json!(["length"]));
    assert_eq!(spans[2]["usage"]["input"], 24);

    // An OpenTelemetry export, normalized: the kinds, models and finish reasons plugins see.
    let real = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../runtime/tests/fixtures/traces/real-python-traceloop0475-hex.json");
    let lines = cli(
        dir.path(),
        &[
            "trace",
            "show",
            real.to_str().unwrap(),
            "--message-format",
            "json",
        ],
    )
    .expect_code(0)
    .json_lines();
    let llm: Vec<&Value> = lines
        .iter()
        .flat_map(|t| t["spans"].as_array().unwrap())
        .filter(|s| s["kind"] == "llm-call")
        .collect();
    assert!(!llm.is_empty(), "{lines:?}");
    assert!(llm.iter().all(|s| s["model"].is_string()), "{llm:?}");
    assert!(
        llm.iter()
            .any(|s| !s["finish-reasons"].as_array().unwrap().is_empty()),
        "{llm:?}"
    );
}

#[test]
fn a_trace_that_does_not_match_the_format_names_the_field() {
    let dir = tmp();
    fs::write(
        dir.path().join("bad.json"),
        r#"{"id": "t", "spans": [{"id": "a", "name": "n",
            "attributes": [{"key": "gen_ai.response.finish_reasons", "value": {"json": ["length"]}}]}]}"#,
    )
    .unwrap();
    let out = cli(dir.path(), &["trace", "show", "bad.json"]).expect_code(1);
    assert!(
        out.stderr.contains(
            "error: `bad.json` is not a file of traces\n\nCaused by:\n  0: the input is not a \
             valid flowtrace trace: at `spans[0].attributes[0].value.json`\n  1: invalid type: \
             sequence, expected a string"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("`cargo flowtrace schema trace` prints its JSON Schema"),
        "{}",
        out.stderr
    );
}
