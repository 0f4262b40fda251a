//! Reading traces: the three real OTLP/JSON fixtures, Flowtrace JSON, JSON lines, errors.

use std::error::Error;

use base64::Engine as _;
use flowtrace_plugins::trace::{
    from_otlp_json, from_otlp_value, parse_json_line, parse_traces, Attribute, AttributeValue,
    Span, SpanKind, SpanStatus, Trace, TraceError, TraceReader,
};
use serde_json::{json, Value};

pub(crate) const NODE: &str = "real-node-traceloop-otlpjson.json";
pub(crate) const BASE64: &str = "real-python-openaiv2legacy-base64.json";
pub(crate) const PYTHON: &str = "real-python-traceloop0475-hex.json";

/// Each fixture with its trace id and root span id as hex (the base64 ones decoded by hand).
pub(crate) const FIXTURES: [(&str, &str, &str); 3] = [
    (NODE, "caa4116ef420e1615bb310ca9fce5a60", "f3cec27b8e002ece"),
    (
        BASE64,
        "39b01d1de14bd9fe67932f2005db731a",
        "a3ffc163a82edc20",
    ),
    (
        PYTHON,
        "3b429b69ccd304040c90f9c9cea82918",
        "0cd91d8312725548",
    ),
];

pub(crate) fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/traces/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("failed to read `{path}`: {e}"))
}

pub(crate) fn fixture_json(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).unwrap()
}

pub(crate) fn one_trace(bytes: &[u8]) -> Trace {
    let mut traces = parse_traces(bytes).unwrap();
    assert_eq!(traces.len(), 1);
    traces.remove(0)
}

fn text<'a>(span: &'a Span, key: &str) -> Option<&'a str> {
    span.attribute(key).and_then(AttributeValue::as_text)
}

fn finish_reasons(span: &Span) -> Vec<String> {
    match span.attribute("gen_ai.response.finish_reasons") {
        Some(AttributeValue::Json(json)) => serde_json::from_str(json).unwrap(),
        other => panic!("no finish reasons on `{}`: {other:?}", span.name),
    }
}

fn chats(trace: &Trace) -> Vec<&Span> {
    trace
        .spans
        .iter()
        .filter(|s| s.kind == SpanKind::LlmCall)
        .collect()
}

/// An error and its sources, as the CLI prints them.
pub(crate) fn chain(error: &TraceError) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}

fn spans_mut(export: &mut Value) -> impl Iterator<Item = &mut Value> {
    export["resourceSpans"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .flat_map(|rs| rs["scopeSpans"].as_array_mut().unwrap().iter_mut())
        .flat_map(|ss| ss["spans"].as_array_mut().unwrap().iter_mut())
}

#[test]
fn real_fixtures_map_the_agent_flow() {
    for (name, trace_id, root_id) in FIXTURES {
        let trace = one_trace(&fixture(name));
        assert_eq!(trace.id, trace_id, "{name}");
        assert_eq!(trace.spans.len(), 6, "{name}");
        let kinds: Vec<SpanKind> = trace.spans.iter().map(|s| s.kind).collect();
        use SpanKind::{AgentStep, LlmCall, ToolCall};
        assert_eq!(
            kinds,
            [AgentStep, LlmCall, LlmCall, LlmCall, ToolCall, LlmCall],
            "{name}"
        );
        assert!(trace
            .spans
            .windows(2)
            .all(|w| w[0].start_time_ns <= w[1].start_time_ns));

        let root = trace.root().unwrap();
        assert_eq!(
            (root.id.as_str(), root.name.as_str()),
            (root_id, "agent run"),
            "{name}"
        );
        assert_eq!(
            (root.parent_id.as_deref(), root.status),
            (None, SpanStatus::Ok),
            "{name}"
        );
        assert_eq!(text(root, "gen_ai.agent.name"), Some("demo-agent"));
        assert!(root.end_time_ns.unwrap() > root.start_time_ns);
        for span in &trace.spans[1..] {
            assert_eq!(
                span.parent_id.as_deref(),
                Some(root_id),
                "{name}: {}",
                span.name
            );
            assert!(trace.span(span.parent_id.as_deref().unwrap()).is_some());
            assert_eq!(span.id.len(), 16);
            assert!(span
                .id
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        }
        let service = trace
            .attribute("service.name")
            .and_then(AttributeValue::as_text);
        assert!(service.unwrap().starts_with("demo-agent-"), "{name}");

        let chats = chats(&trace);
        for chat in &chats {
            assert_eq!(
                chat.model.as_deref(),
                Some("gpt-4o-mini-2024-07-18"),
                "{name}"
            );
            assert_eq!(text(chat, "gen_ai.request.model"), Some("gpt-4o-mini"));
        }
        assert_eq!(
            (chats[0].usage.input, chats[0].usage.output),
            (Some(49), Some(17))
        );
        assert_eq!(finish_reasons(chats[0]), ["stop"], "{name}");
        // The second chat asked for 16 tokens at most and was cut off.
        assert_eq!(finish_reasons(chats[1]), ["length"], "{name}");
        assert_eq!(chats[1].usage.output, Some(16), "{name}");

        let tool = &trace.spans[4];
        assert_eq!(tool.name, "execute_tool get_weather");
        assert_eq!(text(tool, "gen_ai.tool.name"), Some("get_weather"));
        let arguments: Value = serde_json::from_str(tool.input.as_deref().unwrap()).unwrap();
        assert_eq!(
            arguments,
            json!({"city": "Paris", "unit": "celsius"}),
            "{name}"
        );
        let result: Value = serde_json::from_str(tool.output.as_deref().unwrap()).unwrap();
        assert_eq!(result["temperature_c"], 18, "{name}");
        // The root span has no input or output, so neither has the trace.
        assert_eq!((&trace.input, &trace.output), (&None, &None));
    }
}

#[test]
fn totals_and_content_where_the_instrumentation_records_them() {
    let node = one_trace(&fixture(NODE));
    let python = one_trace(&fixture(PYTHON));
    let legacy = one_trace(&fixture(BASE64));
    assert_eq!(chats(&node)[0].usage.total, Some(66)); // gen_ai.usage.total_tokens
    assert_eq!(chats(&python)[0].usage.total, Some(66)); // llm.usage.total_tokens
    assert_eq!(chats(&legacy)[0].usage.total, None); // not recorded: never computed
                                                     // openai-v2 puts message content in log records, not on spans.
    assert!(chats(&legacy)
        .iter()
        .all(|c| c.input.is_none() && c.output.is_none()));
    assert!(node
        .spans
        .iter()
        .chain(&python.spans)
        .all(|s| s.cost_usd.is_none()));
}

#[test]
fn the_three_encodings_of_the_same_flow_agree() {
    let traces: Vec<Trace> = [NODE, BASE64, PYTHON]
        .map(|n| one_trace(&fixture(n)))
        .into();
    let summary = |trace: &Trace| -> Vec<(SpanKind, Option<String>, String)> {
        let spans = trace.spans.iter();
        spans
            .map(|s| {
                (
                    s.kind,
                    s.model.clone(),
                    s.name.replace("openai.chat", "chat gpt-4o-mini"),
                )
            })
            .collect()
    };
    let tokens = |trace: &Trace| -> Vec<(Option<u64>, Option<u64>)> {
        chats(trace)[..3]
            .iter()
            .map(|s| (s.usage.input, s.usage.output))
            .collect()
    };
    for trace in &traces[1..] {
        assert_eq!(summary(trace), summary(&traces[0]));
        assert_eq!(tokens(trace), tokens(&traces[0]));
        assert_eq!(
            tokens(trace),
            [
                (Some(49), Some(17)),
                (Some(52), Some(16)),
                (Some(51), Some(23))
            ]
        );
    }
}

#[test]
fn traceloop_indexed_prompts_render_as_the_genai_parts_messages() {
    let node = one_trace(&fixture(NODE));
    let python = one_trace(&fixture(PYTHON));
    let parse = |text: &Option<String>| -> Value {
        serde_json::from_str(text.as_deref().unwrap()).unwrap()
    };
    for (n, p) in chats(&node).into_iter().zip(chats(&python)).take(2) {
        assert_eq!(parse(&n.input), parse(&p.input));
        assert_eq!(parse(&n.output), parse(&p.output));
    }
    let cut = chats(&python)[1];
    assert_eq!(parse(&cut.output)[0]["finish_reason"], "length");
    assert_eq!(
        text(cut, "gen_ai.completion.0.finish_reason"),
        Some("length")
    );
    // Tool calls and tool results, in the format the Node instrumentation writes.
    let last = chats(&python)[3];
    let input = parse(&last.input);
    assert_eq!(input.as_array().unwrap().len(), 4);
    assert_eq!(
        input[2],
        json!({"role": "assistant", "parts": [{"type": "tool_call", "id": "call_0043abcXYZ",
            "name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}]})
    );
    assert_eq!(input[3]["parts"][0]["type"], "tool_call_response");
    assert_eq!(input[3]["parts"][0]["id"], "call_0043abcXYZ");
}

#[test]
fn every_otlp_attribute_is_kept() {
    for (name, ..) in FIXTURES {
        let trace = one_trace(&fixture(name));
        let mut raw = fixture_json(name);
        for raw_span in spans_mut(&mut raw) {
            let start = raw_span["startTimeUnixNano"].as_str().unwrap();
            let span = trace
                .spans
                .iter()
                .find(|s| s.start_time_ns.to_string() == start)
                .unwrap();
            for attribute in raw_span["attributes"].as_array().unwrap() {
                let key = attribute["key"].as_str().unwrap();
                assert!(
                    span.attribute(key).is_some(),
                    "{name}: `{key}` lost from `{}`",
                    span.name
                );
            }
        }
    }
}

#[test]
fn unknown_and_structured_attributes_are_kept() {
    let mut export = fixture_json(NODE);
    let span = spans_mut(&mut export).next().unwrap();
    span["attributes"].as_array_mut().unwrap().extend([
        json!({"key": "acme.score", "value": {"kvlistValue": {"values": [
            {"key": "a", "value": {"intValue": "1"}},
            {"key": "b", "value": {"arrayValue": {"values": [{"boolValue": true}, {"doubleValue": 0.5}]}}}
        ]}}}),
        json!({"key": "acme.blob", "value": {"bytesValue": "AAEC"}}),
        json!({"key": "acme.future", "value": {"fancyValue": 3}}),
        json!({"key": "acme.nan", "value": {"doubleValue": "NaN"}}),
    ]);
    let trace = &from_otlp_value(&export).unwrap()[0];
    let span = trace
        .spans
        .iter()
        .find(|s| s.id == "9ac14cbd629b3acf")
        .unwrap();
    let json = |key| match span.attribute(key) {
        Some(AttributeValue::Json(text)) => serde_json::from_str::<Value>(text).unwrap(),
        other => panic!("`{key}`: {other:?}"),
    };
    assert_eq!(json("acme.score"), json!({"a": 1, "b": [true, 0.5]}));
    assert_eq!(json("acme.future"), json!({"fancyValue": 3}));
    assert_eq!(text(span, "acme.blob"), Some("AAEC"));
    // JSON has no NaN: kept as protobuf's JSON mapping spells it, so the trace still round-trips.
    assert_eq!(text(span, "acme.nan"), Some("NaN"));
    assert_eq!(
        &one_trace(serde_json::to_string(trace).unwrap().as_bytes()),
        trace
    );
    assert_eq!(
        span.attribute("gen_ai.request.temperature"),
        Some(&AttributeValue::Float(0.2))
    );
    assert_eq!(span.kind, SpanKind::LlmCall);
}

/// Rewrites an export in protobuf's JSON mapping: base64 ids, enum names, numbers as needed.
fn reencode(export: &mut Value, id: impl Fn(&[u8]) -> String) {
    let hex = |text: &str| -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    };
    for span in spans_mut(export) {
        for key in ["traceId", "spanId", "parentSpanId"] {
            if let Some(Value::String(text)) = span.get(key).cloned() {
                span[key] = Value::String(id(&hex(&text)));
            }
        }
        let kind = [
            "SPAN_KIND_UNSPECIFIED",
            "SPAN_KIND_INTERNAL",
            "SPAN_KIND_SERVER",
            "SPAN_KIND_CLIENT",
        ];
        span["kind"] = json!(kind[span["kind"].as_u64().unwrap() as usize]);
        let code = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];
        span["status"]["code"] = json!(code[span["status"]["code"].as_u64().unwrap() as usize]);
        let start: u64 = span["startTimeUnixNano"].as_str().unwrap().parse().unwrap();
        span["startTimeUnixNano"] = json!(start);
    }
}

#[test]
fn base64_uppercase_hex_and_hex_ids_give_identical_traces() {
    let expected = one_trace(&fixture(NODE));
    let engines = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    for engine in engines {
        let mut export = fixture_json(NODE);
        reencode(&mut export, |bytes| engine.encode(bytes));
        assert_eq!(one_trace(export.to_string().as_bytes()), expected);
    }
    let mut export = fixture_json(NODE);
    reencode(&mut export, |bytes| {
        bytes.iter().map(|b| format!("{b:02X}")).collect()
    });
    assert_eq!(one_trace(export.to_string().as_bytes()), expected);
}

#[test]
fn protobuf_snake_case_field_names_are_read() {
    fn snake_keys(value: &mut Value) {
        match value {
            Value::Object(obj) => {
                let entries = std::mem::take(obj);
                for (key, mut value) in entries {
                    snake_keys(&mut value);
                    let key: String = key
                        .chars()
                        .flat_map(|c| match c.is_ascii_uppercase() {
                            true => vec!['_', c.to_ascii_lowercase()],
                            false => vec![c],
                        })
                        .collect();
                    obj.insert(key, value);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(snake_keys),
            _ => {}
        }
    }
    let mut export = fixture_json(NODE);
    snake_keys(&mut export);
    assert!(export["resource_spans"][0]["scope_spans"][0]["spans"][0]["trace_id"].is_string());
    assert_eq!(
        one_trace(export.to_string().as_bytes()),
        one_trace(&fixture(NODE))
    );
}

#[test]
fn flowtrace_json_round_trips() {
    let traces: Vec<Trace> = FIXTURES
        .iter()
        .map(|(name, ..)| one_trace(&fixture(name)))
        .collect();
    for trace in &traces {
        assert_eq!(
            &one_trace(serde_json::to_string(trace).unwrap().as_bytes()),
            trace
        );
        assert_eq!(
            &one_trace(serde_json::to_string_pretty(trace).unwrap().as_bytes()),
            trace
        );
    }
    assert_eq!(
        parse_traces(serde_json::to_string(&traces).unwrap().as_bytes()).unwrap(),
        traces
    );
    let lines: String = traces
        .iter()
        .map(|t| serde_json::to_string(t).unwrap() + "\n")
        .collect();
    assert_eq!(parse_traces(lines.as_bytes()).unwrap(), traces);
    let streamed: Vec<Trace> = TraceReader::new(lines.as_bytes())
        .map(Result::unwrap)
        .collect();
    assert_eq!(streamed, traces);
}

#[test]
fn json_lines_report_the_bad_line_and_go_on() {
    let trace = one_trace(&fixture(NODE));
    let good = serde_json::to_string(&trace).unwrap();
    let otlp = fixture_json(PYTHON).to_string();
    let lines = format!("{good}\n\n{{\"id\": \"x\", \"spans\": [\n{otlp}\n{{\"id\": 5}}\n{good}\n");

    let results: Vec<_> = TraceReader::new(lines.as_bytes()).collect();
    assert_eq!(results.len(), 5);
    assert_eq!(results[0].as_ref().unwrap(), &trace);
    let error = results[1].as_ref().unwrap_err();
    assert_eq!(error.line(), Some(3));
    assert_eq!(
        chain(error),
        "invalid trace on line 3: not JSON at line 3, column 22: the text ends inside an \
         array: a `]` is missing"
    );
    assert_eq!(
        results[2].as_ref().unwrap().id,
        "3b429b69ccd304040c90f9c9cea82918"
    );
    assert_eq!(
        chain(results[3].as_ref().unwrap_err()),
        "invalid trace on line 5: the input is not a valid flowtrace trace: at `id`: \
         invalid type: integer `5`, expected a string"
    );
    assert_eq!(results[4].as_ref().unwrap(), &trace);

    let error = parse_traces(lines.as_bytes()).unwrap_err();
    assert_eq!(error.line(), Some(3));
    let without_bad: String = lines
        .lines()
        .enumerate()
        .filter(|(i, _)| ![2, 4].contains(i))
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    assert_eq!(parse_traces(without_bad.as_bytes()).unwrap().len(), 3);
}

#[test]
fn otlp_json_lines_merge_a_trace_split_over_exports() {
    let mut first = fixture_json(NODE);
    let mut second = first.clone();
    first["resourceSpans"][0]["scopeSpans"]
        .as_array_mut()
        .unwrap()
        .truncate(1);
    second["resourceSpans"][0]["scopeSpans"]
        .as_array_mut()
        .unwrap()
        .remove(0);
    second["resourceSpans"][0]["resource"]["attributes"][0]["value"]["stringValue"] =
        json!("tools");
    let lines = format!("{first}\n{second}\n");

    let trace = one_trace(lines.as_bytes());
    assert_eq!(
        from_otlp_json(lines.as_bytes()).unwrap(),
        std::slice::from_ref(&trace)
    );
    // The tool and root spans came with another `service.name`: they keep it.
    let mut expected = one_trace(&fixture(NODE));
    for span in expected
        .spans
        .iter_mut()
        .filter(|s| !s.name.starts_with("chat"))
    {
        let value = AttributeValue::Text("tools".into());
        span.attributes.push(Attribute {
            key: "service.name".into(),
            value,
        });
    }
    assert_eq!(trace, expected);
    // The streaming reader holds one line at a time: one partial trace per line.
    let streamed: Vec<Trace> = TraceReader::new(lines.as_bytes())
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        streamed.iter().map(|t| t.spans.len()).collect::<Vec<_>>(),
        [4, 2]
    );
}

#[test]
fn one_export_may_hold_several_traces() {
    let mut export = fixture_json(NODE);
    let python = fixture_json(PYTHON);
    export["resourceSpans"]
        .as_array_mut()
        .unwrap()
        .extend(python["resourceSpans"].as_array().unwrap().iter().cloned());
    let traces = from_otlp_value(&export).unwrap();
    let ids: Vec<&str> = traces.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, [FIXTURES[0].1, FIXTURES[2].1]);
    assert_eq!(traces[1], one_trace(&fixture(PYTHON)));
}

/// A one-span export with these attributes (and status, events).
fn export_with(span: Value) -> Vec<u8> {
    let mut base = json!({"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331",
        "name": "span", "startTimeUnixNano": "1", "endTimeUnixNano": "0"});
    base.as_object_mut()
        .unwrap()
        .extend(span.as_object().unwrap().clone());
    json!({"resourceSpans": [{"scopeSpans": [{"spans": [base]}]}]})
        .to_string()
        .into_bytes()
}

fn attrs(pairs: &[(&str, Value)]) -> Value {
    let list: Vec<Value> = pairs
        .iter()
        .map(|(k, v)| {
            let value = match v {
                Value::String(s) => json!({"stringValue": s}),
                Value::Number(n) if n.is_f64() => json!({"doubleValue": n}),
                other => json!({"intValue": other}),
            };
            json!({"key": k, "value": value})
        })
        .collect();
    json!({"attributes": list})
}

#[test]
fn other_conventions_map_kind_model_usage_cost_and_messages() {
    let kinds = [
        (
            vec![("gen_ai.operation.name", json!("embeddings"))],
            SpanKind::Embedding,
        ),
        (
            vec![("gen_ai.operation.name", json!("invoke_agent"))],
            SpanKind::AgentStep,
        ),
        (
            vec![("gen_ai.operation.name", json!("generate_content"))],
            SpanKind::LlmCall,
        ),
        (
            vec![("openinference.span.kind", json!("RETRIEVER"))],
            SpanKind::Retrieval,
        ),
        (
            vec![("openinference.span.kind", json!("CHAIN"))],
            SpanKind::AgentStep,
        ),
        (
            vec![("traceloop.span.kind", json!("tool"))],
            SpanKind::ToolCall,
        ),
        (
            vec![("traceloop.span.kind", json!("workflow"))],
            SpanKind::AgentStep,
        ),
        (
            vec![("llm.request.type", json!("completion"))],
            SpanKind::LlmCall,
        ),
        (vec![("http.method", json!("GET"))], SpanKind::Custom),
    ];
    for (pairs, kind) in kinds {
        assert_eq!(
            one_trace(&export_with(attrs(&pairs))).spans[0].kind,
            kind,
            "{pairs:?}"
        );
    }

    let span = one_trace(&export_with(attrs(&[
        ("openinference.span.kind", json!("LLM")),
        ("llm.model_name", json!("claude-3-5-sonnet")),
        ("llm.token_count.prompt", json!(25)),
        ("llm.token_count.completion", json!("8")),
        ("llm.token_count.total", json!(33)),
        ("llm.cost.total", json!(0.0066)),
        ("llm.input_messages.0.message.role", json!("user")),
        ("llm.input_messages.0.message.content", json!("Hi")),
        ("llm.output_messages.0.message.role", json!("assistant")),
        (
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.name",
            json!("f"),
        ),
        (
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments",
            json!("{\"x\":1}"),
        ),
        ("input.value", json!("{\"raw\": true}")),
    ])))
    .spans
    .remove(0);
    assert_eq!(
        (span.kind, span.model.as_deref()),
        (SpanKind::LlmCall, Some("claude-3-5-sonnet"))
    );
    assert_eq!(
        (span.usage.input, span.usage.output, span.usage.total),
        (Some(25), Some(8), Some(33))
    );
    assert_eq!(span.cost_usd, Some(0.0066));
    assert_eq!(
        span.input.as_deref(),
        Some(r#"[{"role":"user","parts":[{"type":"text","content":"Hi"}]}]"#)
    );
    assert_eq!(
        span.output.as_deref(),
        Some(
            r#"[{"role":"assistant","parts":[{"type":"tool_call","name":"f","arguments":{"x":1}}]}]"#
        )
    );
    assert_eq!(span.end_time_ns, None);
}

#[test]
fn error_status_keeps_its_message_or_the_exception() {
    let exception = json!({"name": "exception", "timeUnixNano": 5, "attributes": [
        {"key": "exception.message", "value": {"stringValue": "rate limited"}}]});
    let span = one_trace(&export_with(
        json!({"status": {"code": 2}, "events": [exception]}),
    ))
    .spans
    .remove(0);
    assert_eq!(
        (span.status, span.status_message.as_deref()),
        (SpanStatus::Error, Some("rate limited"))
    );
    let events: Value = serde_json::from_str(match span.attribute("otel.events") {
        Some(AttributeValue::Json(text)) => text,
        other => panic!("{other:?}"),
    })
    .unwrap();
    assert_eq!(events[0]["attributes"]["exception.message"], "rate limited");
    let span = one_trace(&export_with(
        json!({"status": {"code": "STATUS_CODE_ERROR", "message": "boom"}}),
    ))
    .spans
    .remove(0);
    assert_eq!(
        (span.status, span.status_message.as_deref()),
        (SpanStatus::Error, Some("boom"))
    );
}

#[test]
fn bad_input_is_rejected_with_what_and_where() {
    let expected = "expected a Flowtrace trace object (with `id` and `spans`), a JSON array or JSON lines of them, or an OTLP/JSON export (an object with `resourceSpans`)";
    let error = |bytes: &[u8]| chain(&parse_traces(bytes).unwrap_err());
    assert_eq!(error(b" \n"), format!("input is empty: {expected}"));
    // In plain words, never the parser's own (`expected ident`, `trailing characters`).
    assert_eq!(
        error(b"hello"),
        "not JSON at line 1, column 1: expected a value here (an object, array, string in \
         double quotes, number, `true`, `false` or `null`)"
    );
    assert_eq!(
        error(b"nope, not json"),
        "not JSON at line 1, column 2: a bare word: outside strings, JSON has only `true`, \
         `false` and `null`"
    );
    assert_eq!(
        error(b"{\"id\": \"a\", \"spans\": []} x"),
        "not JSON at line 1, column 26: more text after the end of the JSON value"
    );
    // JSON lines: the position is the line's in the file.
    assert_eq!(
        error(b"{\"id\": \"a\", \"spans\": []}\n\n]"),
        "invalid trace on line 3: not JSON at line 3, column 1: expected a value here (an \
         object, array, string in double quotes, number, `true`, `false` or `null`)"
    );
    assert_eq!(
        error(b"{\"id\": \"a\",\n \"spans\": [],}"),
        "not JSON at line 2, column 14: a comma before the closing bracket: JSON allows none"
    );
    assert_eq!(
        error(br#"{"foo": 1}"#),
        format!("the input is not a trace: {expected}, found an object with keys `foo`")
    );
    assert_eq!(
        error(br#"[{"id": "a"}, 3]"#),
        format!("`[1]` is not a trace: {expected}, found a number")
    );
    assert_eq!(
        chain(&from_otlp_json(br#"{"resourceLogs": []}"#).unwrap_err()),
        "the input is not a trace: expected an OTLP/JSON export (an object with `resourceSpans`) or JSON lines of them, found an OTLP logs export (`resourceLogs`)"
    );

    let span = "resourceSpans[0].scopeSpans[0].spans[0]";
    let cases = [
        (json!({"traceId": null}), format!("missing required field `{span}.traceId`")),
        (json!({"spanId": ""}), format!("missing required field `{span}.spanId`")),
        (json!({"spanId": "not-an-id!"}), format!("invalid id \"not-an-id!\" at `{span}.spanId`: expected 16 hex digits or 12 base64 characters (8 bytes), found neither")),
        (json!({"traceId": "0af7651916cd43dd"}), format!("invalid id \"0af7651916cd43dd\" at `{span}.traceId`: expected 32 hex digits or 24 base64 characters (16 bytes), found 16 hex digits")),
        (json!({"spanId": "AAAAAAAAAAA="}), format!("invalid id \"AAAAAAAAAAA=\" at `{span}.spanId`: an all-zero id is invalid")),
        (json!({"endTimeUnixNano": -3}), format!("`{span}.endTimeUnixNano` is not an integer: expected nanoseconds as an unsigned 64-bit integer (a JSON number or a decimal string), found -3")),
        (json!({"status": {"code": 7}}), format!("unknown value 7 at `{span}.status.code`: expected 0, 1, 2 or `STATUS_CODE_UNSET`, `STATUS_CODE_OK`, `STATUS_CODE_ERROR`")),
        (json!({"kind": "CLIENT"}), format!("unknown value \"CLIENT\" at `{span}.kind`: expected an integer 0 to 5 or a name like `SPAN_KIND_CLIENT`")),
        (json!({"attributes": {}}), format!("`{span}.attributes` has the wrong type: expected an array, found an object")),
    ];
    for (patch, message) in cases {
        assert_eq!(error(&export_with(patch)), message);
    }

    let mut export = fixture_json(NODE);
    export["resourceSpans"][0]["scopeSpans"][1]["spans"][1]["startTimeUnixNano"] = json!("12.5");
    assert_eq!(
        error(export.to_string().as_bytes()),
        "`resourceSpans[0].scopeSpans[1].spans[1].startTimeUnixNano` is not an integer: expected nanoseconds as an unsigned 64-bit integer (a JSON number or a decimal string), found \"12.5\""
    );
    let line = format!("{}\n{export}\n", fixture_json(PYTHON));
    assert!(error(line.as_bytes()).starts_with("invalid trace on line 2: `resourceSpans[0].scopeSpans[1].spans[1].startTimeUnixNano` is not an integer"));
}

#[test]
fn truncated_files_give_errors_never_panics() {
    // Every prefix of the one-line file; every fifth of the pretty-printed one (debug builds
    // parse slowly), and the one-line file as the last of two JSON lines.
    for (name, step) in [(NODE, 1), (BASE64, 5)] {
        let bytes = fixture(name);
        let whole = one_trace(&bytes);
        for len in (0..bytes.len()).step_by(step) {
            match parse_traces(&bytes[..len]) {
                Ok(traces) => assert_eq!(traces, std::slice::from_ref(&whole), "{name}[..{len}]"),
                Err(error) => assert!(!chain(&error).is_empty()),
            }
            if name == NODE && len % 7 == 0 {
                let lines = [&bytes[..], b"\n", &bytes[..len]].concat();
                let results: Vec<_> = TraceReader::new(&lines[..]).collect();
                assert_eq!(results[0].as_ref().unwrap(), &whole);
                assert!(
                    results.len() == 1 + usize::from(len > 0)
                        && results[1..].iter().all(Result::is_err)
                );
            }
        }
    }
}

#[test]
fn one_json_line_parses_as_the_whole_document_would() {
    // A Flowtrace trace takes the direct path into the model: the same trace.
    let agent = flowtrace_plugins::testing::agent_trace();
    let line = serde_json::to_vec(&agent).unwrap();
    assert_eq!(parse_json_line(&line).unwrap(), vec![agent]);
    // A repeated key, an unknown field: what every other path says.
    for text in [
        &br#"{"id":"a","id":"b","spans":[]}"#[..],
        br#"{"id":"a","spanz":[]}"#,
        br#"{"spans":[]}"#,
        br#"[{"id":"a","spans":[]},{"id":"b","spans":[]}]"#,
        b"\xEF\xBB\xBF{\"id\":\"bom\"}",
        b"{\"id\": ",
    ] {
        let line = parse_json_line(text).map_err(|e| e.to_string());
        let whole = parse_traces(text).map_err(|e| e.to_string());
        assert_eq!(line, whole, "{}", String::from_utf8_lossy(text));
    }
    // Each real OTLP export, on one line.
    for (name, _, _) in FIXTURES {
        let text = fixture(name);
        let line = serde_json::to_vec(&fixture_json(name)).unwrap();
        assert_eq!(
            parse_json_line(&line).unwrap(),
            parse_traces(&text).unwrap(),
            "{name}"
        );
    }
    assert!(parse_json_line(b" \r\n").unwrap().is_empty());
}
