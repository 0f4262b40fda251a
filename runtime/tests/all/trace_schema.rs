//! The JSON Schema of Flowtrace JSON (`trace::JSON_SCHEMA`) against the reader: the schema
//! names exactly the fields, kinds, statuses and attribute value types of the model; the
//! reader refuses what the schema forbids and reads what it allows; and its errors name the
//! field.
//!
//! (A schema validator, `jsonschema`, was tried as a dev-dependency to hold the two to the
//! same documents: it adds 40 crates and, by unifying features, a second build of wasmtime
//! for the tests. The schema is plain enough to be checked field by field instead.)

use std::collections::BTreeSet;
use std::path::Path;

use flowtrace_plugins::trace::{
    parse_traces, Attribute, AttributeValue, Span, SpanKind, SpanStatus, TokenUsage, Trace,
    JSON_SCHEMA,
};
use serde_json::{json, Value};

fn schema() -> Value {
    serde_json::from_str(JSON_SCHEMA).expect("the schema is JSON")
}

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

fn names(value: &Value) -> BTreeSet<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn every_kind() -> Vec<SpanKind> {
    // A new kind fails to compile here, until the schema has it.
    match SpanKind::Custom {
        SpanKind::LlmCall
        | SpanKind::ToolCall
        | SpanKind::Retrieval
        | SpanKind::AgentStep
        | SpanKind::Embedding
        | SpanKind::Custom => {}
    }
    vec![
        SpanKind::LlmCall,
        SpanKind::ToolCall,
        SpanKind::Retrieval,
        SpanKind::AgentStep,
        SpanKind::Embedding,
        SpanKind::Custom,
    ]
}

fn every_status() -> Vec<SpanStatus> {
    match SpanStatus::Unset {
        SpanStatus::Unset | SpanStatus::Ok | SpanStatus::Error => {}
    }
    vec![SpanStatus::Unset, SpanStatus::Ok, SpanStatus::Error]
}

fn every_value() -> Vec<AttributeValue> {
    let values = vec![
        AttributeValue::Text("t".into()),
        AttributeValue::Integer(1),
        AttributeValue::Float(0.5),
        AttributeValue::Boolean(true),
        AttributeValue::Json("[]".into()),
    ];
    for value in &values {
        match value {
            AttributeValue::Text(_)
            | AttributeValue::Integer(_)
            | AttributeValue::Float(_)
            | AttributeValue::Boolean(_)
            | AttributeValue::Json(_) => {}
        }
    }
    values
}

/// A trace with every field set, as serde writes it.
fn full_trace() -> Value {
    let attributes: Vec<Attribute> = every_value()
        .into_iter()
        .map(|value| Attribute {
            key: "k".into(),
            value,
        })
        .collect();
    let trace = Trace {
        id: "t".into(),
        input: Some("in".into()),
        output: Some("out".into()),
        attributes: attributes.clone(),
        spans: vec![Span {
            id: "s".into(),
            parent_id: Some("p".into()),
            name: "n".into(),
            kind: SpanKind::LlmCall,
            status: SpanStatus::Error,
            status_message: Some("m".into()),
            input: Some("i".into()),
            output: Some("o".into()),
            model: Some("gpt".into()),
            start_time_ns: 1,
            end_time_ns: Some(2),
            usage: TokenUsage {
                input: Some(1),
                output: Some(2),
                total: Some(3),
            },
            cost_usd: Some(0.5),
            attributes,
        }],
    };
    serde_json::to_value(&trace).unwrap()
}

#[test]
fn the_schema_names_exactly_the_models_fields_and_values() {
    let schema = schema();
    let defs = &schema["$defs"];
    let full = full_trace();

    let mut trace_fields = keys(&defs["trace"]["properties"]);
    assert!(trace_fields.remove("$schema"));
    assert_eq!(trace_fields, keys(&full));
    let span = &full["spans"][0];
    assert_eq!(keys(&defs["span"]["properties"]), keys(span));
    assert_eq!(
        keys(&defs["span"]["properties"]["usage"]["properties"]),
        keys(&span["usage"])
    );
    assert_eq!(
        keys(&defs["attribute"]["properties"]),
        keys(&span["attributes"][0])
    );
    let variants: BTreeSet<String> = defs["attribute-value"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|branch| names(&branch["required"]).into_iter().next().unwrap())
        .collect();
    let serialized: BTreeSet<String> = span["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| keys(&a["value"]))
        .collect();
    assert_eq!(variants, serialized);
    let kinds: BTreeSet<String> = every_kind()
        .iter()
        .map(|k| {
            serde_json::to_value(k)
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(names(&defs["span"]["properties"]["kind"]["enum"]), kinds);
    let statuses: BTreeSet<String> = every_status()
        .iter()
        .map(|s| {
            serde_json::to_value(s)
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        names(&defs["span"]["properties"]["status"]["enum"]),
        statuses
    );
    // What the schema requires is what the reader requires.
    assert_eq!(
        names(&defs["trace"]["required"]),
        BTreeSet::from(["id".into()])
    );
    assert_eq!(
        names(&defs["span"]["required"]),
        BTreeSet::from(["id".into(), "name".into()])
    );
    assert!(parse_traces(br#"{"id": "t", "spans": [{"id": "s", "name": "n"}]}"#).is_ok());
    assert!(parse_traces(br#"{"spans": []}"#).is_err());
    assert!(parse_traces(br#"{"id": "t", "spans": [{"id": "s"}]}"#).is_err());
    assert!(parse_traces(br#"{"id": "t", "spans": [{"name": "n"}]}"#).is_err());
    // And the full trace reads back as it was written.
    assert_eq!(parse_traces(full.to_string().as_bytes()).unwrap().len(), 1);
}

#[test]
fn the_reader_refuses_what_the_schema_forbids_and_reads_what_it_allows() {
    let span = |extra: Value| {
        let mut span = json!({"id": "a", "name": "n"});
        span.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({"id": "t", "spans": [span]})
    };
    for good in [
        json!({"$schema": "./trace.schema.json", "id": "t", "input": null}),
        span(
            json!({"parent-id": null, "usage": {}, "cost-usd": 1, "end-time-ns": 18446744073709551615u64}),
        ),
        span(json!({"usage": {"input": null, "total": 18446744073709551615u64}})),
        span(json!({"attributes": [{"key": "k", "value": {"float": 1}}]})),
        span(json!({"attributes": [{"key": "k", "value": {"integer": -9223372036854775808i64}}]})),
        span(json!({"attributes": [{"key": "k", "value": {"json": "[\"length\"]"}}]})),
    ] {
        parse_traces(good.to_string().as_bytes())
            .unwrap_or_else(|e| panic!("the reader refuses {good}: {e:?}"));
    }
    for bad in [
        json!({"id": "t", "extra": 1}),
        json!({"id": "t", "$schema": 3}),
        json!({"id": 7}),
        span(json!({"kind": "llm"})),
        span(json!({"kind": null})),
        span(json!({"status": "failed"})),
        span(json!({"parentId": "p"})),
        span(json!({"start-time-ns": -1})),
        span(json!({"start-time-ns": 1.5})),
        span(json!({"start-time-ns": null})),
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
        assert!(
            parse_traces(bad.to_string().as_bytes()).is_err(),
            "the reader accepts {bad}"
        );
    }
}

#[test]
fn every_flowtrace_json_trace_of_the_templates_and_examples_reads() {
    let repo = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let mut checked = 0;
    for parent in ["templates", "examples"] {
        for plugin in std::fs::read_dir(repo.join(parent)).unwrap() {
            let Ok(entries) = std::fs::read_dir(plugin.unwrap().path().join("tests/traces")) else {
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                if path.extension().is_none_or(|e| e != "json") {
                    continue;
                }
                let bytes = std::fs::read(&path).unwrap();
                let doc: Value = serde_json::from_slice(&bytes).unwrap();
                if doc.get("resourceSpans").is_some() {
                    continue;
                }
                parse_traces(&bytes).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
                checked += 1;
            }
        }
    }
    assert!(checked >= 15, "only {checked} traces found");
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
    let error = parse_traces(
        br#"[{"id": "x"}, {"id": "y", "spans": [{"id": "s", "name": "n", "kind": "llm"}]}]"#,
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "`[1]` is not a valid flowtrace trace: at `spans[0].kind`"
    );
    // `$schema` is for editors: the trace reads as without it.
    let with = parse_traces(br#"{"$schema": "./trace.schema.json", "id": "t"}"#).unwrap();
    assert_eq!(with, parse_traces(br#"{"id": "t"}"#).unwrap());
    let error = parse_traces(br#"{"$schema": 3, "id": "t"}"#).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the input is not a valid flowtrace trace: at `$schema`"
    );
}
