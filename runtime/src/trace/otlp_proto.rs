//! OTLP/protobuf messages (`opentelemetry-proto`'s prost types) in the OTLP/JSON spec form
//! that [`super::otlp`] reads, so both encodings share one conversion into the model: ids
//! as lowercase hex, 64-bit integers and enums as JSON numbers, bytes as base64, NaN and the
//! infinities as protobuf's JSON mapping spells them.
//!
//! Only what the conversion reads is rendered: links, trace state, flags, dropped counts,
//! schema URLs and scope attributes are left out, as the JSON path ignores them.

use base64::Engine as _;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::{span, Span};
use serde_json::{json, Map, Number, Value};

use super::error::{Path, TraceError};
use super::otlp_value::non_finite;

/// An export as the OTLP/JSON object `{"resourceSpans": [...]}`. Fails only on an id of the
/// wrong length, which hex would hide (11 bytes of hex read as 16 bytes of base64).
pub(crate) fn export_value(request: &ExportTraceServiceRequest) -> Result<Value, TraceError> {
    let list_path = Path::Root.key("resourceSpans");
    let mut resource_spans = Vec::with_capacity(request.resource_spans.len());
    for (i, rs) in request.resource_spans.iter().enumerate() {
        let path = list_path.index(i);
        let scopes_path = path.key("scopeSpans");
        let mut scope_spans = Vec::with_capacity(rs.scope_spans.len());
        for (j, ss) in rs.scope_spans.iter().enumerate() {
            let path = scopes_path.index(j);
            let spans_path = path.key("spans");
            let mut spans = Vec::with_capacity(ss.spans.len());
            for (k, span) in ss.spans.iter().enumerate() {
                spans.push(span_value(span, spans_path.index(k))?);
            }
            let mut scope_spans_obj = Map::new();
            if let Some(scope) = &ss.scope {
                scope_spans_obj.insert(
                    "scope".into(),
                    json!({"name": scope.name, "version": scope.version}),
                );
            }
            scope_spans_obj.insert("spans".into(), Value::Array(spans));
            scope_spans.push(Value::Object(scope_spans_obj));
        }
        let mut rs_obj = Map::new();
        if let Some(resource) = &rs.resource {
            rs_obj.insert(
                "resource".into(),
                json!({"attributes": attributes(&resource.attributes)}),
            );
        }
        rs_obj.insert("scopeSpans".into(), Value::Array(scope_spans));
        resource_spans.push(Value::Object(rs_obj));
    }
    Ok(json!({ "resourceSpans": resource_spans }))
}

fn span_value(span: &Span, path: Path<'_>) -> Result<Value, TraceError> {
    let mut obj = Map::new();
    let ids = [
        ("traceId", &span.trace_id, 16),
        ("spanId", &span.span_id, 8),
        ("parentSpanId", &span.parent_span_id, 8),
    ];
    // An empty id is left out, as the JSON path reads an absent one.
    for (key, id, bytes) in ids.into_iter().filter(|(_, id, _)| !id.is_empty()) {
        let hex = hex::encode(id);
        if id.len() != bytes {
            return Err(TraceError::InvalidId {
                path: path.key(key).to_string(),
                value: format!("\"{hex}\""),
                reason: format!("expected {bytes} bytes, found {}", id.len()),
            });
        }
        obj.insert(key.into(), Value::String(hex));
    }
    obj.insert("name".into(), Value::String(span.name.clone()));
    obj.insert("kind".into(), Value::from(span.kind));
    obj.insert(
        "startTimeUnixNano".into(),
        Value::from(span.start_time_unix_nano),
    );
    obj.insert(
        "endTimeUnixNano".into(),
        Value::from(span.end_time_unix_nano),
    );
    obj.insert("attributes".into(), attributes(&span.attributes));
    let events: Vec<Value> = span.events.iter().map(event_value).collect();
    obj.insert("events".into(), Value::Array(events));
    if let Some(status) = &span.status {
        obj.insert(
            "status".into(),
            json!({"code": status.code, "message": status.message}),
        );
    }
    Ok(Value::Object(obj))
}

fn event_value(event: &span::Event) -> Value {
    json!({
        "name": event.name,
        "timeUnixNano": event.time_unix_nano,
        "attributes": attributes(&event.attributes),
    })
}

/// `[{"key": ..., "value": ...}]`; a missing value is left out, as in OTLP/JSON.
fn attributes(list: &[KeyValue]) -> Value {
    list.iter()
        .map(|kv| {
            let mut obj = Map::new();
            obj.insert("key".into(), Value::String(kv.key.clone()));
            if let Some(value) = &kv.value {
                obj.insert("value".into(), any_value(value));
            }
            Value::Object(obj)
        })
        .collect()
}

fn any_value(value: &AnyValue) -> Value {
    use any_value::Value as V;
    let Some(value) = &value.value else {
        return json!({});
    };
    match value {
        V::StringValue(text) => json!({ "stringValue": text }),
        V::BoolValue(b) => json!({ "boolValue": b }),
        V::IntValue(n) => json!({ "intValue": n }),
        V::DoubleValue(x) => match Number::from_f64(*x) {
            Some(n) => json!({ "doubleValue": n }),
            None => json!({ "doubleValue": non_finite(*x) }),
        },
        V::ArrayValue(array) => {
            let values: Vec<Value> = array.values.iter().map(any_value).collect();
            json!({ "arrayValue": { "values": values } })
        }
        V::KvlistValue(list) => json!({ "kvlistValue": { "values": attributes(&list.values) } }),
        V::BytesValue(bytes) => json!({
            "bytesValue": base64::engine::general_purpose::STANDARD.encode(bytes)
        }),
        // A string-table index means something only in profiles: read as an empty value,
        // as the proto's comment asks of other signals.
        V::StringValueStrindex(_) => json!({}),
    }
}
