//! Conformance of the span facts: one agent flow (a question, an LLM call that asks for a tool,
//! the tool's execution, an LLM call cut off by the token limit) exported by each GenAI
//! instrumentation convention, built from each project's documented attribute names, gives
//! the same facts; and the real exports in `tests/fixtures/traces/` give the facts they carry.

use flowtrace_plugins::trace::{parse_traces, Message, Span, SpanKind, ToolCall, Trace};
use serde_json::{json, Value};

const QUESTION: &str = "What is the weather in Paris?";
const ARGS: &str = r#"{"city":"Paris"}"#;
const RESULT: &str = r#"{"forecast":"sunny","celsius":18}"#;
const ANSWER: &str = "It is sunny and 18";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Convention {
    /// OpenTelemetry GenAI, messages in `gen_ai.input.messages` / `gen_ai.output.messages`.
    GenAi,
    /// OpenTelemetry GenAI, messages in the `gen_ai.client.inference.operation.details` event.
    GenAiEvents,
    /// The older OpenTelemetry GenAI: `gen_ai.prompt` / `gen_ai.completion` events.
    GenAiOlder,
    /// Traceloop / OpenLLMetry: indexed `gen_ai.prompt.N.*` / `gen_ai.completion.N.*`.
    Traceloop,
    /// OpenInference: `openinference.span.kind`, `llm.*`, `tool.*`.
    OpenInference,
    /// The Vercel AI SDK: `ai.*`.
    Vercel,
}

const ALL: [Convention; 6] = [
    Convention::GenAi,
    Convention::GenAiEvents,
    Convention::GenAiOlder,
    Convention::Traceloop,
    Convention::OpenInference,
    Convention::Vercel,
];

/// An OTLP attribute list from JSON values: strings, integers, and arrays of strings.
fn attributes(pairs: &[(&str, Value)]) -> Value {
    let any = |v: &Value| match v {
        Value::String(s) => json!({"stringValue": s}),
        Value::Array(items) => {
            let values: Vec<Value> = items.iter().map(|s| json!({"stringValue": s})).collect();
            json!({"arrayValue": {"values": values}})
        }
        other => json!({"intValue": other}),
    };
    Value::Array(
        pairs
            .iter()
            .map(|(k, v)| json!({"key": k, "value": any(v)}))
            .collect(),
    )
}

fn event(name: &str, pairs: &[(&str, Value)]) -> Value {
    json!({"name": name, "timeUnixNano": "5", "attributes": attributes(pairs)})
}

/// The GenAI "parts" messages of the flow.
fn parts_input(second_call: bool) -> Value {
    let mut messages =
        vec![json!({"role": "user", "parts": [{"type": "text", "content": QUESTION}]})];
    if second_call {
        messages.push(json!({"role": "assistant", "parts": [
            {"type": "tool_call", "id": "call_1", "name": "get_weather", "arguments": {"city": "Paris"}}]}));
        messages.push(json!({"role": "tool", "parts": [
            {"type": "tool_call_response", "id": "call_1", "response": {"forecast": "sunny", "celsius": 18}}]}));
    }
    Value::Array(messages)
}

fn parts_output(second_call: bool) -> Value {
    if second_call {
        json!([{"role": "assistant", "finish_reason": "length",
            "parts": [{"type": "text", "content": ANSWER}]}])
    } else {
        json!([{"role": "assistant", "finish_reason": "tool_calls", "parts": [
            {"type": "tool_call", "id": "call_1", "name": "get_weather", "arguments": {"city": "Paris"}}]}])
    }
}

/// OpenAI-shaped messages (the older `gen_ai.prompt` / `gen_ai.completion` JSON).
fn openai_input(second_call: bool) -> Value {
    let mut messages = vec![json!({"role": "user", "content": QUESTION})];
    if second_call {
        messages.push(json!({"role": "assistant", "content": null, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ARGS}}]}));
        messages.push(json!({"role": "tool", "tool_call_id": "call_1", "content": RESULT}));
    }
    Value::Array(messages)
}

fn openai_output(second_call: bool) -> Value {
    if second_call {
        json!([{"role": "assistant", "content": ANSWER}])
    } else {
        json!([{"role": "assistant", "content": null, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ARGS}}]}])
    }
}

/// One span's attributes and events in `convention`: `agent`, `llm1`, `tool`, `llm2`.
fn span_data(convention: Convention, which: &str) -> (Vec<(&'static str, Value)>, Vec<Value>) {
    use Convention::*;
    let second = which == "llm2";
    let finish = if second { "length" } else { "tool_calls" };
    let (input_tokens, output_tokens) = if second { (60, 16) } else { (20, 10) };
    let mut events = Vec::new();
    let a = match (convention, which) {
        (GenAi | GenAiEvents | GenAiOlder, "agent") => vec![
            ("gen_ai.operation.name", json!("invoke_agent")),
            ("gen_ai.agent.name", json!("weather-agent")),
            ("error.type", json!("TruncatedAnswer")),
        ],
        (GenAi | GenAiEvents | GenAiOlder, "tool") => vec![
            ("gen_ai.operation.name", json!("execute_tool")),
            ("gen_ai.tool.name", json!("get_weather")),
            ("gen_ai.tool.call.id", json!("call_1")),
            ("gen_ai.tool.call.arguments", json!(ARGS)),
            ("gen_ai.tool.call.result", json!(RESULT)),
        ],
        (GenAi | GenAiEvents, _) => {
            let mut a = vec![
                ("gen_ai.operation.name", json!("chat")),
                ("gen_ai.provider.name", json!("openai")),
                ("gen_ai.request.model", json!("gpt-4o")),
                ("gen_ai.response.model", json!("gpt-4o-mini")),
                ("gen_ai.usage.input_tokens", json!(input_tokens)),
                ("gen_ai.usage.output_tokens", json!(output_tokens)),
            ];
            let messages = [
                (
                    "gen_ai.input.messages",
                    json!(parts_input(second).to_string()),
                ),
                (
                    "gen_ai.output.messages",
                    json!(parts_output(second).to_string()),
                ),
            ];
            if convention == GenAi {
                a.push(("gen_ai.response.finish_reasons", json!([finish])));
                a.extend(messages);
            } else {
                // Finish reasons only in the output messages of the event.
                events.push(event(
                    "gen_ai.client.inference.operation.details",
                    &messages,
                ));
            }
            a
        }
        (GenAiOlder, _) => {
            events.push(event(
                "gen_ai.content.prompt",
                &[("gen_ai.prompt", json!(openai_input(second).to_string()))],
            ));
            events.push(event(
                "gen_ai.content.completion",
                &[(
                    "gen_ai.completion",
                    json!(openai_output(second).to_string()),
                )],
            ));
            vec![
                ("gen_ai.system", json!("openai")),
                ("gen_ai.request.model", json!("gpt-4o")),
                ("gen_ai.response.model", json!("gpt-4o-mini")),
                ("gen_ai.usage.prompt_tokens", json!(input_tokens)),
                ("gen_ai.usage.completion_tokens", json!(output_tokens)),
                ("gen_ai.response.finish_reasons", json!([finish])),
            ]
        }
        (Traceloop, "agent") => vec![
            ("traceloop.span.kind", json!("agent")),
            ("traceloop.entity.name", json!("weather-agent")),
            ("error.type", json!("TruncatedAnswer")),
        ],
        (Traceloop, "tool") => vec![
            ("traceloop.span.kind", json!("tool")),
            ("traceloop.entity.name", json!("get_weather")),
            ("traceloop.entity.input", json!(ARGS)),
            ("traceloop.entity.output", json!(RESULT)),
        ],
        (Traceloop, _) => {
            let mut a = vec![
                ("llm.request.type", json!("chat")),
                ("gen_ai.system", json!("openai")),
                ("gen_ai.request.model", json!("gpt-4o")),
                ("gen_ai.response.model", json!("gpt-4o-mini")),
                ("gen_ai.usage.prompt_tokens", json!(input_tokens)),
                ("gen_ai.usage.completion_tokens", json!(output_tokens)),
                (
                    "llm.usage.total_tokens",
                    json!(input_tokens + output_tokens),
                ),
                ("gen_ai.prompt.0.role", json!("user")),
                ("gen_ai.prompt.0.content", json!(QUESTION)),
                ("gen_ai.completion.0.role", json!("assistant")),
                ("gen_ai.completion.0.finish_reason", json!(finish)),
            ];
            if second {
                a.extend([
                    ("gen_ai.prompt.1.role", json!("assistant")),
                    ("gen_ai.prompt.1.tool_calls.0.id", json!("call_1")),
                    ("gen_ai.prompt.1.tool_calls.0.name", json!("get_weather")),
                    ("gen_ai.prompt.1.tool_calls.0.arguments", json!(ARGS)),
                    ("gen_ai.prompt.2.role", json!("tool")),
                    ("gen_ai.prompt.2.content", json!(RESULT)),
                    ("gen_ai.prompt.2.tool_call_id", json!("call_1")),
                    ("gen_ai.completion.0.content", json!(ANSWER)),
                ]);
            } else {
                a.extend([
                    ("gen_ai.completion.0.tool_calls.0.id", json!("call_1")),
                    (
                        "gen_ai.completion.0.tool_calls.0.name",
                        json!("get_weather"),
                    ),
                    ("gen_ai.completion.0.tool_calls.0.arguments", json!(ARGS)),
                ]);
            }
            a
        }
        (OpenInference, "agent") => vec![
            ("openinference.span.kind", json!("AGENT")),
            ("input.value", json!(QUESTION)),
            ("error.type", json!("TruncatedAnswer")),
        ],
        (OpenInference, "tool") => vec![
            ("openinference.span.kind", json!("TOOL")),
            ("tool.name", json!("get_weather")),
            ("tool_call.id", json!("call_1")),
            ("input.value", json!(ARGS)),
            ("output.value", json!(RESULT)),
        ],
        (OpenInference, _) => {
            let mut a = vec![
                ("openinference.span.kind", json!("LLM")),
                ("llm.system", json!("openai")),
                ("llm.model_name", json!("gpt-4o-mini")),
                ("llm.token_count.prompt", json!(input_tokens)),
                ("llm.token_count.completion", json!(output_tokens)),
                ("llm.token_count.total", json!(input_tokens + output_tokens)),
                ("llm.finish_reason", json!(finish)),
                ("llm.input_messages.0.message.role", json!("user")),
                ("llm.input_messages.0.message.content", json!(QUESTION)),
                ("llm.output_messages.0.message.role", json!("assistant")),
            ];
            let call = "message.tool_calls.0.tool_call";
            let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
            if second {
                a.extend([
                    ("llm.input_messages.1.message.role", json!("assistant")),
                    (
                        leak(format!("llm.input_messages.1.{call}.id")),
                        json!("call_1"),
                    ),
                    (
                        leak(format!("llm.input_messages.1.{call}.function.name")),
                        json!("get_weather"),
                    ),
                    (
                        leak(format!("llm.input_messages.1.{call}.function.arguments")),
                        json!(ARGS),
                    ),
                    ("llm.input_messages.2.message.role", json!("tool")),
                    ("llm.input_messages.2.message.content", json!(RESULT)),
                    ("llm.input_messages.2.message.tool_call_id", json!("call_1")),
                    ("llm.output_messages.0.message.content", json!(ANSWER)),
                ]);
            } else {
                a.extend([
                    (
                        leak(format!("llm.output_messages.0.{call}.id")),
                        json!("call_1"),
                    ),
                    (
                        leak(format!("llm.output_messages.0.{call}.function.name")),
                        json!("get_weather"),
                    ),
                    (
                        leak(format!("llm.output_messages.0.{call}.function.arguments")),
                        json!(ARGS),
                    ),
                ]);
            }
            a
        }
        (Vercel, "agent") => vec![
            ("operation.name", json!("ai.generateText weather-agent")),
            ("ai.operationId", json!("ai.generateText")),
            ("ai.model.id", json!("gpt-4o-mini")),
            ("ai.prompt", json!(json!({"prompt": QUESTION}).to_string())),
            ("ai.response.text", json!(ANSWER)),
            ("ai.response.finishReason", json!("length")),
            ("error.type", json!("TruncatedAnswer")),
        ],
        (Vercel, "tool") => vec![
            ("operation.name", json!("ai.toolCall weather-agent")),
            ("ai.operationId", json!("ai.toolCall")),
            ("ai.toolCall.name", json!("get_weather")),
            ("ai.toolCall.id", json!("call_1")),
            ("ai.toolCall.args", json!(ARGS)),
            ("ai.toolCall.result", json!(RESULT)),
        ],
        (Vercel, _) => {
            let mut messages =
                vec![json!({"role": "user", "content": [{"type": "text", "text": QUESTION}]})];
            let mut a = vec![
                (
                    "operation.name",
                    json!("ai.generateText.doGenerate weather-agent"),
                ),
                ("ai.operationId", json!("ai.generateText.doGenerate")),
                ("ai.model.provider", json!("openai.chat")),
                ("ai.model.id", json!("gpt-4o-mini")),
                ("ai.usage.promptTokens", json!(input_tokens)),
                ("ai.usage.completionTokens", json!(output_tokens)),
                (
                    "ai.response.finishReason",
                    json!(if second { "length" } else { "tool-calls" }),
                ),
            ];
            if second {
                messages.push(json!({"role": "assistant", "content": [{"type": "tool-call",
                    "toolCallId": "call_1", "toolName": "get_weather", "args": {"city": "Paris"}}]}));
                messages.push(json!({"role": "tool", "content": [{"type": "tool-result",
                    "toolCallId": "call_1", "toolName": "get_weather",
                    "result": {"forecast": "sunny", "celsius": 18}}]}));
                a.push(("ai.response.text", json!(ANSWER)));
            } else {
                let calls = json!([{"toolCallType": "function", "toolCallId": "call_1",
                    "toolName": "get_weather", "args": ARGS}]);
                a.push(("ai.response.toolCalls", json!(calls.to_string())));
            }
            a.push((
                "ai.prompt.messages",
                json!(Value::Array(messages).to_string()),
            ));
            a
        }
    };
    if which == "agent" {
        events.push(event(
            "exception",
            &[
                ("exception.type", json!("TruncatedAnswer")),
                ("exception.message", json!("the answer was cut off")),
            ],
        ));
    }
    (a, events)
}

/// The flow as one OTLP/JSON export.
fn export(convention: Convention) -> Vec<u8> {
    let spans: Vec<Value> = [
        ("agent", "00000000000000a1", None, "agent run"),
        (
            "llm1",
            "00000000000000b1",
            Some("00000000000000a1"),
            "chat gpt-4o",
        ),
        (
            "tool",
            "00000000000000c1",
            Some("00000000000000a1"),
            "execute_tool get_weather",
        ),
        (
            "llm2",
            "00000000000000d1",
            Some("00000000000000a1"),
            "chat gpt-4o",
        ),
    ]
    .iter()
    .enumerate()
    .map(|(i, (which, id, parent, name))| {
        let (attrs, events) = span_data(convention, which);
        let mut span = json!({
            "traceId": "5b8efff798038103d269b633813fc60c", "spanId": id, "name": name,
            "startTimeUnixNano": (100 + i).to_string(), "endTimeUnixNano": "200",
            "attributes": attributes(&attrs), "events": events,
        });
        if let Some(parent) = parent {
            span["parentSpanId"] = json!(parent);
        }
        if *which == "agent" {
            span["status"] = json!({"code": 2});
        }
        span
    })
    .collect();
    json!({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]})
        .to_string()
        .into_bytes()
}

fn one_trace(bytes: &[u8]) -> Trace {
    let mut traces = parse_traces(bytes).unwrap();
    assert_eq!(traces.len(), 1);
    traces.remove(0)
}

/// JSON text compared as JSON (key order and spacing differ between conventions).
fn json_eq(actual: Option<&str>, expected: &str, what: &str) {
    let actual: Value = serde_json::from_str(actual.unwrap_or_else(|| panic!("no {what}")))
        .unwrap_or_else(|e| panic!("{what} is not JSON: {e}"));
    assert_eq!(
        actual,
        serde_json::from_str::<Value>(expected).unwrap(),
        "{what}"
    );
}

fn assert_weather_call(call: &ToolCall, what: &str) {
    assert_eq!(call.id.as_deref(), Some("call_1"), "{what}");
    assert_eq!(call.name, "get_weather", "{what}");
    json_eq(call.arguments.as_deref(), ARGS, what);
}

fn assert_user_question(message: &Message, what: &str) {
    assert_eq!(message.role, "user", "{what}");
    assert_eq!(message.content.as_deref(), Some(QUESTION), "{what}");
    assert!(message.tool_calls.is_empty(), "{what}");
}

#[test]
fn every_convention_gives_the_same_facts_for_one_agent_flow() {
    for convention in ALL {
        let what = format!("{convention:?}");
        let trace = one_trace(&export(convention));
        let [agent, llm1, tool, llm2]: [&Span; 4] = [0, 1, 2, 3].map(|i| &trace.spans[i]);

        // kind
        let kinds: Vec<SpanKind> = trace.spans.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                SpanKind::AgentStep,
                SpanKind::LlmCall,
                SpanKind::ToolCall,
                SpanKind::LlmCall
            ],
            "{what}"
        );

        // model and usage
        for (llm, input, output) in [(llm1, 20, 10), (llm2, 60, 16)] {
            assert_eq!(llm.model.as_deref(), Some("gpt-4o-mini"), "{what}");
            assert_eq!(llm.usage.input, Some(input), "{what}");
            assert_eq!(llm.usage.output, Some(output), "{what}");
        }

        // finish reasons: as recorded (the Vercel AI SDK spells them with a hyphen)
        let tool_calls = if convention == Convention::Vercel {
            "tool-calls"
        } else {
            "tool_calls"
        };
        assert_eq!(llm1.finish_reasons(), [tool_calls], "{what}");
        assert_eq!(llm2.finish_reasons(), ["length"], "{what}");
        assert!(tool.finish_reasons().is_empty(), "{what}");

        // messages of the first call: the question in, a tool call out
        let input = llm1.input_messages();
        assert_eq!(input.len(), 1, "{what}: {input:?}");
        assert_user_question(&input[0], &what);
        let output = llm1.output_messages();
        assert_eq!(output.len(), 1, "{what}: {output:?}");
        assert_eq!(output[0].role, "assistant", "{what}");
        assert_eq!(output[0].content, None, "{what}");
        assert_eq!(output[0].tool_calls.len(), 1, "{what}");
        assert_weather_call(&output[0].tool_calls[0], &what);

        // messages of the second call: question, tool call, tool result in; the cut answer out
        let input = llm2.input_messages();
        assert_eq!(input.len(), 3, "{what}: {input:?}");
        assert_user_question(&input[0], &what);
        assert_eq!(input[1].role, "assistant", "{what}");
        assert_weather_call(&input[1].tool_calls[0], &what);
        assert_eq!(input[2].role, "tool", "{what}");
        assert_eq!(input[2].tool_call_id.as_deref(), Some("call_1"), "{what}");
        json_eq(input[2].content.as_deref(), RESULT, &what);
        let output = llm2.output_messages();
        assert_eq!(output.len(), 1, "{what}: {output:?}");
        assert_eq!(output[0].role, "assistant", "{what}");
        assert_eq!(output[0].content.as_deref(), Some(ANSWER), "{what}");
        assert_eq!(output[0].finish_reason.as_deref(), Some("length"), "{what}");
        assert!(output[0].tool_calls.is_empty(), "{what}");

        // the tool: name, id (Traceloop records none), arguments and result
        let call = tool
            .tool_call()
            .unwrap_or_else(|| panic!("{what}: no tool call"));
        assert_eq!(call.name, "get_weather", "{what}");
        let id = (convention != Convention::Traceloop).then_some("call_1");
        assert_eq!(call.id.as_deref(), id, "{what}");
        json_eq(call.arguments.as_deref(), ARGS, &what);
        json_eq(call.result.as_deref(), RESULT, &what);
        assert!(
            llm1.tool_call().is_none() && agent.tool_call().is_none(),
            "{what}"
        );

        // the error of the agent span; none elsewhere
        let error = agent.error().unwrap_or_else(|| panic!("{what}: no error"));
        assert_eq!(
            error.error_type.as_deref(),
            Some("TruncatedAnswer"),
            "{what}"
        );
        assert_eq!(
            error.message.as_deref(),
            Some("the answer was cut off"),
            "{what}"
        );
        assert!(
            trace.spans[1..].iter().all(|s| s.error().is_none()),
            "{what}"
        );

        // finish reasons reach plugins built before the facts, as the GenAI attribute
        let derived = llm2.attribute("gen_ai.response.finish_reasons");
        assert!(
            matches!(derived, Some(v) if format!("{v:?}").contains("length")),
            "{what}: {derived:?}"
        );
    }
}

#[test]
fn the_vercel_root_span_records_the_whole_generation() {
    let trace = one_trace(&export(Convention::Vercel));
    let root = &trace.spans[0];
    assert_eq!(root.model.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(root.finish_reasons(), ["length"]);
    let input = root.input_messages();
    assert_eq!(input.len(), 1);
    assert_user_question(&input[0], "vercel root");
    assert_eq!(root.output_messages()[0].content.as_deref(), Some(ANSWER));
}

#[test]
fn odd_values_give_no_facts_and_no_errors() {
    let odd = [
        ("gen_ai.input.messages", json!("not json")),
        ("gen_ai.output.messages", json!("{\"role\": 1}")),
        ("gen_ai.response.finish_reasons", json!(7)),
        ("llm.input_messages.x.message.role", json!("user")),
        (
            "llm.output_messages.99999999999999999999.message.role",
            json!("assistant"),
        ),
        ("ai.prompt.messages", json!("[1, null, \"x\"]")),
        ("otel.events", json!("[{\"name\": 3}]")),
    ];
    let span = json!({"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "00000000000000a1",
        "name": "odd", "attributes": attributes(&odd)});
    let bytes = json!({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}).to_string();
    let trace = one_trace(bytes.as_bytes());
    let span = &trace.spans[0];
    assert!(span.finish_reasons().is_empty());
    assert!(span.input_messages().is_empty());
    assert!(span.output_messages().is_empty());
    assert!(span.tool_call().is_none());
    assert!(span.error().is_none());
}

#[test]
fn message_counts_are_capped() {
    let many: Vec<Value> = (0..5_000)
        .map(|i| json!({"role": "user", "parts": [{"type": "text", "content": i.to_string()}]}))
        .collect();
    let pairs = [(
        "gen_ai.input.messages",
        json!(Value::Array(many).to_string()),
    )];
    let span = json!({"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "00000000000000a1",
        "name": "many", "attributes": attributes(&pairs)});
    let bytes = json!({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}).to_string();
    let messages = one_trace(bytes.as_bytes()).spans[0].input_messages();
    assert_eq!(messages.len(), 1_000);
    assert_eq!(messages[999].content.as_deref(), Some("999"));
}

fn real(name: &str) -> Trace {
    let path = format!(
        "{}/tests/fixtures/traces/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    one_trace(&std::fs::read(&path).unwrap_or_else(|e| panic!("failed to read `{path}`: {e}")))
}

/// The real exports: 4 chats (`stop`, `length`, a `get_weather` tool call, `stop`), one tool
/// span and an agent root. Facts where the instrumentation recorded them.
#[test]
fn real_exports_give_the_facts_they_carry() {
    for (name, has_messages) in [
        ("real-node-traceloop-otlpjson.json", true),
        ("real-python-traceloop0475-hex.json", true),
        ("real-python-openaiv2legacy-base64.json", false),
    ] {
        let trace = real(name);
        let chats: Vec<&Span> = trace
            .spans
            .iter()
            .filter(|s| s.kind == SpanKind::LlmCall)
            .collect();
        assert_eq!(chats.len(), 4, "{name}");
        let reasons: Vec<Vec<String>> = chats.iter().map(|s| s.finish_reasons()).collect();
        assert_eq!(reasons[0], ["stop"], "{name}");
        assert_eq!(reasons[1], ["length"], "{name}");
        assert_eq!(reasons[2].len(), 1, "{name}");
        assert!(
            reasons[2][0].starts_with("tool_call"),
            "{name}: {reasons:?}"
        );
        assert_eq!(reasons[3], ["stop"], "{name}");

        let tool = trace
            .spans
            .iter()
            .find(|s| s.kind == SpanKind::ToolCall)
            .unwrap();
        let call = tool.tool_call().unwrap();
        assert_eq!(call.name, "get_weather", "{name}");
        assert!(call.id.is_some(), "{name}");
        assert!(
            call.arguments
                .as_deref()
                .is_some_and(|a| a.contains("city")),
            "{name}: {call:?}"
        );
        assert!(call.result.is_some(), "{name}");

        let output = chats[2].output_messages();
        let input = chats[3].input_messages();
        if has_messages {
            assert_eq!(output.len(), 1, "{name}");
            assert_eq!(output[0].tool_calls[0].name, "get_weather", "{name}");
            assert_eq!(
                output[0].tool_calls[0].id, call.id,
                "{name}: one id, both ends"
            );
            assert_eq!(input.last().unwrap().role, "tool", "{name}: {input:?}");
            assert_eq!(input.last().unwrap().tool_call_id, call.id, "{name}");
            assert!(
                chats[0].input_messages().iter().any(|m| m.role == "user"),
                "{name}"
            );
            assert!(chats[0].output_messages()[0].content.is_some(), "{name}");
        } else {
            // content went to log records, not to the trace
            assert!(output.is_empty() && input.is_empty(), "{name}");
        }
        assert!(trace.spans.iter().all(|s| s.error().is_none()), "{name}");
    }
}
