//! The JSON Schema of Flowtrace JSON (`trace::JSON_SCHEMA`) against the reader: every
//! document one accepts the other accepts, every one one refuses the other refuses; and the
//! reader's errors name the field.

use std::path::Path;

use flowtrace_plugins::trace::{parse_traces, Trace, JSON_SCHEMA};
use serde_json::{json, Value};

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(JSON_SCHEMA).expect("the schema is JSON");
    jsonschema::draft202012::new(&schema).expect("the schema is a valid 2020-12 schema")
}

/// Both accept `doc`, and the reader reads it as `serde_json` reads the model.
fn both_accept(validator: &jsonschema::Validator, doc: &Value) {
    let errors: Vec<String> = validator.iter_errors(doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "the schema refuses {doc}: {errors:?}");
    let traces = parse_traces(doc.to_string().as_bytes())
        .unwrap_or_else(|e| panic!("the reader refuses {doc}: {e:?}"));
    assert_eq!(traces.len(), 1, "{doc}");
}

fn both_refuse(validator: &jsonschema::Validator, doc: &Value) {
    assert!(!validator.is_valid(doc), "the schema accepts {doc}");
    assert!(
        parse_traces(doc.to_string().as_bytes()).is_err(),
        "the reader accepts {doc}"
    );
}

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

#[test]
fn every_flowtrace_json_trace_of_the_templates_and_examples_validates() {
    let validator = validator();
    let mut checked = 0;
    for parent in ["templates", "examples"] {
        for plugin in std::fs::read_dir(repo().join(parent)).unwrap() {
            let traces = plugin.unwrap().path().join("tests/traces");
            let Ok(entries) = std::fs::read_dir(&traces) else {
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                if path.extension().is_none_or(|e| e != "json") {
                    continue;
                }
                let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
                if doc.get("resourceSpans").is_some() || doc.get("$defs").is_some() {
                    continue; // OTLP, or a schema
                }
                let errors: Vec<String> =
                    validator.iter_errors(&doc).map(|e| e.to_string()).collect();
                assert!(errors.is_empty(), "{}: {errors:?}", path.display());
                checked += 1;
            }
        }
    }
    assert!(checked >= 15, "only {checked} traces found");
}

#[test]
fn schema_and_reader_agree_on_every_field() {
    let v = validator();
    let full = json!({
        "$schema": "./trace.schema.json",
        "id": "t", "input": "in", "output": null,
        "attributes": [{"key": "service.name", "value": {"text": "agent"}}],
        "spans": [{
            "id": "s", "parent-id": null, "name": "chat", "kind": "llm-call", "status": "error",
            "status-message": "boom", "input": "[]", "output": null, "model": "gpt-4o",
            "start-time-ns": 0, "end-time-ns": 18446744073709551615u64,
            "usage": {"input": 1, "output": null, "total": 18446744073709551615u64},
            "cost-usd": 0.25,
            "attributes": [
                {"key": "i", "value": {"integer": -9223372036854775808i64}},
                {"key": "f", "value": {"float": 1}},
                {"key": "b", "value": {"boolean": false}},
                {"key": "j", "value": {"json": "[\"length\"]"}},
                {"key": "extra", "value": {"text": ""}, "ignored": true}
            ]
        }]
    });
    both_accept(&v, &full);
    both_accept(&v, &json!({"id": "bare"}));
    both_accept(&v, &json!({"id": "s", "spans": [{"id": "a", "name": "n", "usage": {}}]}));

    let span = |extra: Value| {
        let mut span = json!({"id": "a", "name": "n"});
        span.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({"id": "t", "spans": [span]})
    };
    for bad in [
        json!({"spans": []}),
        json!({"id": "t", "extra": 1}),
        json!({"id": "t", "$schema": 3}),
        json!({"id": 7}),
        json!({"id": "t", "spans": [{"id": "a"}]}),
        span(json!({"kind": "llm"})),
        span(json!({"kind": null})),
        span(json!({"status": "failed"})),
        span(json!({"parentId": "p"})),
        span(json!({"start-time-ns": -1})),
        span(json!({"start-time-ns": 1.5})),
        span(json!({"start-time-ns": null})),
        span(json!({"end-time-ns": 18446744073709551616u128 as f64})),
        span(json!({"usage": {"cached": 1}})),
        span(json!({"usage": null})),
        span(json!({"cost-usd": "0.1"})),
        span(json!({"attributes": null})),
        span(json!({"attributes": [{"key": "k"}]})),
        span(json!({"attributes": [{"key": "k", "value": "v"}]})),
        span(json!({"attributes": [{"key": "k", "value": {"json": ["length"]}}]})),
        span(json!({"attributes": [{"key": "k", "value": {"text": "a", "integer": 1}}]})),
        span(json!({"attributes": [{"key": "k", "value": {"integer": 9223372036854775808u64}}]})),
        span(json!({"attributes": [{"key": "k", "value": {"integer": 1.5}}]})),
        span(json!({"attributes": [{"key": "k", "value": {}}]})),
    ] {
        both_refuse(&v, &bad);
    }
}

#[test]
fn the_reader_names_the_field_that_is_wrong() {
    let doc = json!({
        "$schema": "./trace.schema.json",
        "id": "t",
        "spans": [
            {"id": "a", "name": "ok"},
            {"id": "b", "name": "n", "attributes": [{"key": "k", "value": {"json": ["length"]}}]}
        ]
    });
    let error = parse_traces(doc.to_string().as_bytes()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the input is not a valid flowtrace trace: at `spans[1].attributes[0].value.json`"
    );
    assert_eq!(
        std::error::Error::source(&error).unwrap().to_string(),
        "invalid type: sequence, expected a string"
    );
    let error = parse_traces(br#"[{"id": "x"}, {"id": "y", "spans": [{"id": "s", "name": "n", "kind": "llm"}]}]"#)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "`$[1]` is not a valid flowtrace trace: at `spans[0].kind`"
    );
    // `$schema` is for editors: the trace reads as without it.
    let with: Vec<Trace> =
        parse_traces(br#"{"$schema": "./trace.schema.json", "id": "t"}"#).unwrap();
    assert_eq!(with, parse_traces(br#"{"id": "t"}"#).unwrap());
    let error = parse_traces(br#"{"$schema": 3, "id": "t"}"#).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the input is not a valid flowtrace trace: at `$schema`"
    );
}
