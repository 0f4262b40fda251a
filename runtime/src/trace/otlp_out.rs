//! [`Trace`]s written as OpenTelemetry OTLP/JSON exports, one export per trace, which
//! [`super::from_otlp_json`] (and every OTLP/JSON reader) reads back.
//!
//! Ids, times, status and attributes are written as they are: span attributes and trace
//! attributes (the resource's when imported) are already the instrumentation's. The facts
//! a reader derives from attributes (kind, model, input, output, token usage, cost) are
//! written as OpenTelemetry GenAI attributes where the span's own value differs from what its
//! attributes give (a span made by hand, or changed by a transformer), so reading the export
//! back gives the span's facts. What OTLP cannot say is refused with [`ToOtlpError`]: ids
//! that are not hex of the right length, token counts past `i64::MAX`. A span of kind
//! `custom` whose attributes name another kind, and a trace's own `input`/`output` (read back
//! from its root span), are not carried.

use serde_json::{json, Map, Value};

use super::genai;
use super::model::{Attribute, AttributeValue, Span, SpanKind, SpanStatus, Trace};

/// Why a trace cannot be written as OTLP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToOtlpError {
    /// An id that is not lowercase or uppercase hex of the length OTLP requires.
    #[error("{what} `{id}` is not {digits} hex digits, as OTLP requires")]
    Id {
        /// `trace id` or `span id`.
        what: &'static str,
        /// The id.
        id: String,
        /// The digits required.
        digits: usize,
    },
    /// A token count an OTLP integer attribute cannot hold.
    #[error("span `{span}`: {what} token count {count} is past the largest OTLP integer")]
    Tokens {
        /// The span's id.
        span: String,
        /// `input`, `output` or `total`.
        what: &'static str,
        /// The count.
        count: u64,
    },
}

/// `trace` as one OTLP/JSON export (`{"resourceSpans": [...]}`).
pub fn to_otlp_json(trace: &Trace) -> Result<Value, ToOtlpError> {
    let trace_id = hex_id("trace id", &trace.id, 32)?;
    let spans = trace
        .spans
        .iter()
        .map(|span| span_json(&trace_id, span))
        .collect::<Result<Vec<Value>, ToOtlpError>>()?;
    Ok(json!({
        "resourceSpans": [{
            "resource": { "attributes": attributes_json(&trace.attributes) },
            "scopeSpans": [{ "scope": { "name": "flowtrace" }, "spans": spans }],
        }]
    }))
}

fn hex_id(what: &'static str, id: &str, digits: usize) -> Result<String, ToOtlpError> {
    if id.len() == digits && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(id.to_ascii_lowercase())
    } else {
        Err(ToOtlpError::Id {
            what,
            id: id.to_owned(),
            digits,
        })
    }
}

fn span_json(trace_id: &str, span: &Span) -> Result<Value, ToOtlpError> {
    let mut out = Map::new();
    out.insert("traceId".into(), trace_id.into());
    out.insert("spanId".into(), hex_id("span id", &span.id, 16)?.into());
    if let Some(parent) = &span.parent_id {
        out.insert("parentSpanId".into(), hex_id("span id", parent, 16)?.into());
    }
    out.insert("name".into(), span.name.clone().into());
    let kind = span
        .attribute("span.kind")
        .and_then(AttributeValue::as_text)
        .and_then(otel_kind);
    if let Some(kind) = kind {
        out.insert("kind".into(), kind.into());
    }
    out.insert(
        "startTimeUnixNano".into(),
        span.start_time_ns.to_string().into(),
    );
    if let Some(end) = span.end_time_ns {
        out.insert("endTimeUnixNano".into(), end.to_string().into());
    }
    let code = match span.status {
        SpanStatus::Unset => 0,
        SpanStatus::Ok => 1,
        SpanStatus::Error => 2,
    };
    let mut status = json!({ "code": code });
    if let Some(message) = &span.status_message {
        status["message"] = message.clone().into();
    }
    out.insert("status".into(), status);
    let attributes = with_facts(span)?;
    out.insert("attributes".into(), attributes_json(&attributes));
    Ok(Value::Object(out))
}

/// OTLP's span kind number for the `span.kind` an import recorded.
fn otel_kind(kind: &str) -> Option<u8> {
    Some(match kind.to_ascii_lowercase().as_str() {
        "internal" | "span_kind_internal" => 1,
        "server" | "span_kind_server" => 2,
        "client" | "span_kind_client" => 3,
        "producer" | "span_kind_producer" => 4,
        "consumer" | "span_kind_consumer" => 5,
        _ => return None,
    })
}

/// The span's attributes, and a GenAI attribute for each fact they do not give as the span
/// has it.
fn with_facts(span: &Span) -> Result<Vec<Attribute>, ToOtlpError> {
    let mut attributes = span.attributes.clone();
    let read = genai::map(&attributes);
    let mut set = |key: &str, value: AttributeValue| {
        attributes.retain(|a| a.key != key);
        attributes.push(Attribute {
            key: key.to_owned(),
            value,
        });
    };
    if read.kind != span.kind {
        let operation = match span.kind {
            SpanKind::LlmCall => Some("chat"),
            SpanKind::ToolCall => Some("execute_tool"),
            SpanKind::Embedding => Some("embeddings"),
            SpanKind::AgentStep => Some("invoke_agent"),
            SpanKind::Retrieval | SpanKind::Custom => None,
        };
        match operation {
            Some(op) => set("gen_ai.operation.name", AttributeValue::Text(op.into())),
            None if span.kind == SpanKind::Retrieval => set(
                "openinference.span.kind",
                AttributeValue::Text("RETRIEVER".into()),
            ),
            None => {}
        }
    }
    let tool = span.kind == SpanKind::ToolCall;
    if read.input != span.input {
        if let Some(input) = &span.input {
            let key = if tool {
                "gen_ai.tool.call.arguments"
            } else {
                "gen_ai.input.messages"
            };
            set(key, AttributeValue::Text(input.clone()));
        }
    }
    if read.output != span.output {
        if let Some(output) = &span.output {
            let key = if tool {
                "gen_ai.tool.call.result"
            } else {
                "gen_ai.output.messages"
            };
            set(key, AttributeValue::Text(output.clone()));
        }
    }
    if read.model != span.model {
        if let Some(model) = &span.model {
            set("gen_ai.response.model", AttributeValue::Text(model.clone()));
        }
    }
    let counts = [
        (
            "input",
            "gen_ai.usage.input_tokens",
            read.usage.input,
            span.usage.input,
        ),
        (
            "output",
            "gen_ai.usage.output_tokens",
            read.usage.output,
            span.usage.output,
        ),
        (
            "total",
            "gen_ai.usage.total_tokens",
            read.usage.total,
            span.usage.total,
        ),
    ];
    for (what, key, read, count) in counts {
        if let (true, Some(count)) = (read != count, count) {
            let value = i64::try_from(count).map_err(|_| ToOtlpError::Tokens {
                span: span.id.clone(),
                what,
                count,
            })?;
            set(key, AttributeValue::Integer(value));
        }
    }
    if read.cost_usd != span.cost_usd {
        if let Some(cost) = span.cost_usd {
            set("gen_ai.usage.cost", AttributeValue::Float(cost));
        }
    }
    Ok(attributes)
}

fn attributes_json(attributes: &[Attribute]) -> Value {
    Value::Array(
        attributes
            .iter()
            .map(|a| json!({ "key": a.key, "value": any_value(&a.value) }))
            .collect(),
    )
}

/// An attribute value as an OTLP `AnyValue`; JSON text back as the array or map it was.
fn any_value(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::Text(text) => json!({ "stringValue": text }),
        AttributeValue::Integer(i) => json!({ "intValue": i.to_string() }),
        AttributeValue::Float(x) if x.is_finite() => json!({ "doubleValue": x }),
        AttributeValue::Float(x) => json!({ "doubleValue": super::otlp_value::non_finite(*x) }),
        AttributeValue::Boolean(b) => json!({ "boolValue": b }),
        AttributeValue::Json(text) => match serde_json::from_str::<Value>(text) {
            Ok(value) => json_any(&value),
            Err(_) => json!({ "stringValue": text }),
        },
    }
}

fn json_any(value: &Value) -> Value {
    match value {
        Value::Null => json!({}),
        Value::Bool(b) => json!({ "boolValue": b }),
        Value::Number(n) => match n.as_i64() {
            Some(i) => json!({ "intValue": i.to_string() }),
            None => json!({ "doubleValue": n }),
        },
        Value::String(s) => json!({ "stringValue": s }),
        Value::Array(items) => {
            json!({ "arrayValue": { "values": items.iter().map(json_any).collect::<Vec<_>>() } })
        }
        Value::Object(map) => json!({
            "kvlistValue": {
                "values": map
                    .iter()
                    .map(|(k, v)| json!({ "key": k, "value": json_any(v) }))
                    .collect::<Vec<_>>()
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{from_otlp_value, parse_traces};

    /// The facts a reader takes from a span.
    fn facts(span: &Span) -> impl PartialEq + std::fmt::Debug + '_ {
        (
            (
                &span.id,
                &span.parent_id,
                &span.name,
                span.kind,
                span.status,
            ),
            (&span.status_message, &span.input, &span.output, &span.model),
            (
                span.start_time_ns,
                span.end_time_ns,
                &span.usage,
                span.cost_usd,
            ),
        )
    }

    fn round_trip(trace: &Trace) -> Trace {
        let export = to_otlp_json(trace).unwrap();
        let mut back = from_otlp_value(&export).unwrap();
        assert_eq!(back.len(), 1);
        back.remove(0)
    }

    #[test]
    fn an_imported_export_reads_back_with_the_same_facts() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/traces");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            let Ok(traces) = parse_traces(&bytes) else {
                continue;
            };
            for trace in traces.iter().filter(|t| t.id.len() == 32) {
                let back = round_trip(trace);
                assert_eq!(back.id, trace.id);
                assert_eq!(back.spans.len(), trace.spans.len());
                for (a, b) in trace.spans.iter().zip(&back.spans) {
                    assert_eq!(facts(a), facts(b));
                }
                seen += 1;
            }
        }
        assert!(seen > 0, "no OTLP trace among the fixtures");
    }

    #[test]
    fn facts_set_by_hand_are_written_as_genai_attributes() {
        let mut trace: Trace = serde_json::from_value(json!({
            "id": "4bf92f3577b34da6a3ce929d0e0e4736",
            "spans": [
                {"id": "0000000000000001", "name": "agent", "kind": "agent-step", "status": "ok",
                 "input": "What is the weather?", "start-time-ns": 1, "end-time-ns": 90},
                {"id": "0000000000000002", "parent-id": "0000000000000001", "name": "chat",
                 "kind": "llm-call", "status": "error", "status-message": "cut short",
                 "input": "[{\"role\":\"user\",\"content\":\"hi\"}]", "output": "Sunny",
                 "model": "gpt-4o-mini", "start-time-ns": 2, "end-time-ns": 40,
                 "usage": {"input": 12, "output": 3, "total": 15}, "cost-usd": 0.5},
                {"id": "0000000000000003", "parent-id": "0000000000000001", "name": "tool",
                 "kind": "tool-call", "input": "{\"city\":\"Paris\"}", "output": "18C",
                 "start-time-ns": 41, "end-time-ns": 50},
                {"id": "0000000000000004", "parent-id": "0000000000000001", "name": "search",
                 "kind": "retrieval", "start-time-ns": 51, "attributes": [
                     {"key": "tags", "value": {"json": "[\"a\",1,{\"b\":true}]"}},
                     {"key": "n", "value": {"float": 0.5}}]}
            ]
        }))
        .unwrap();
        let back = round_trip(&trace);
        for (a, b) in trace.spans.iter().zip(&back.spans) {
            assert_eq!(facts(a), facts(b));
        }
        assert_eq!(
            back.spans[3].attribute("tags"),
            Some(&AttributeValue::Json("[\"a\",1,{\"b\":true}]".into()))
        );
        assert_eq!(
            back.spans[3].attribute("n"),
            Some(&AttributeValue::Float(0.5))
        );

        trace.spans[0].id = "root".into();
        assert_eq!(
            to_otlp_json(&trace).unwrap_err().to_string(),
            "span id `root` is not 16 hex digits, as OTLP requires"
        );
        trace.spans[0].id = format!("{:016x}", 1);
        trace.spans[1].usage.output = Some(u64::MAX);
        assert!(matches!(
            to_otlp_json(&trace),
            Err(ToOtlpError::Tokens { what: "output", .. })
        ));
    }
}
