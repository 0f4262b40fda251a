//! OpenTelemetry OTLP/JSON trace exports (`{"resourceSpans": [...]}`) to [`Trace`]s.
//!
//! Accepts both encodings seen in the wild: the OTLP/JSON spec form (hex ids) and protobuf's
//! canonical JSON mapping (base64 ids, enum names, snake_case field names, 64-bit integers as
//! strings, default fields omitted). What the GenAI attributes mean is [`super::genai`]'s job.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::error::{describe, Path, TraceError};
use super::genai;
use super::model::{Attribute, AttributeValue, Span, SpanStatus, Trace};
use super::otlp_value::{
    alias, any_to_json, array, attributes, get, object, opt_str, optional_id, required_id, time,
    Object,
};

/// Spans of one or more OTLP exports, grouped by trace id in order of first appearance.
#[derive(Default)]
pub(crate) struct OtlpTraces {
    traces: Vec<Partial>,
    by_id: HashMap<String, usize>,
}

struct Partial {
    id: String,
    attributes: Vec<Attribute>,
    spans: Vec<Span>,
}

#[derive(Default)]
struct Scope<'v> {
    name: Option<&'v str>,
    version: Option<&'v str>,
}

impl OtlpTraces {
    /// How many distinct traces have been seen so far.
    pub(crate) fn len(&self) -> usize {
        self.traces.len()
    }

    /// Adds every span of one export (an object with `resourceSpans`).
    pub(crate) fn add_export(&mut self, export: &Value, path: Path<'_>) -> Result<(), TraceError> {
        let export = object(export, path)?;
        let list = get(export, "resourceSpans").ok_or_else(|| TraceError::MissingField {
            path: path.key("resourceSpans").to_string(),
        })?;
        let list_path = path.key("resourceSpans");
        for (i, resource_spans) in array(list, list_path)?.iter().enumerate() {
            let path = list_path.index(i);
            self.add_resource_spans(object(resource_spans, path)?, path)?;
        }
        Ok(())
    }

    /// Adds every span of one entry of an export's `resourceSpans`.
    pub(crate) fn add_resource_spans(
        &mut self,
        rs: &Object,
        path: Path<'_>,
    ) -> Result<(), TraceError> {
        let resource = match get(rs, "resource") {
            Some(resource) => {
                let path = path.key("resource");
                attributes(object(resource, path)?, path)?
            }
            None => Vec::new(),
        };
        let Some((key, list)) = alias(rs, "scopeSpans", "instrumentationLibrarySpans") else {
            return Ok(());
        };
        let list_path = path.key(key);
        for (j, scope_spans) in array(list, list_path)?.iter().enumerate() {
            let path = list_path.index(j);
            let scope_spans = object(scope_spans, path)?;
            let scope = match alias(scope_spans, "scope", "instrumentationLibrary") {
                Some((key, scope)) => {
                    let path = path.key(key);
                    let scope = object(scope, path)?;
                    Scope {
                        name: opt_str(scope, "name", path)?,
                        version: opt_str(scope, "version", path)?,
                    }
                }
                None => Scope::default(),
            };
            let Some(spans) = get(scope_spans, "spans") else {
                continue;
            };
            let spans_path = path.key("spans");
            for (k, span) in array(spans, spans_path)?.iter().enumerate() {
                let path = spans_path.index(k);
                let (trace_id, span) = convert_span(object(span, path)?, path, &scope)?;
                self.insert(trace_id, span, &resource);
            }
        }
        Ok(())
    }

    /// Files a span under its trace. Resource attributes become trace attributes, each key
    /// once (first value wins); a span whose resource disagrees keeps that value itself.
    fn insert(&mut self, trace_id: String, mut span: Span, resource: &[Attribute]) {
        let index = *self.by_id.entry(trace_id).or_insert_with_key(|id| {
            self.traces.push(Partial {
                id: id.clone(),
                attributes: Vec::new(),
                spans: Vec::new(),
            });
            self.traces.len() - 1
        });
        let trace = &mut self.traces[index];
        for attribute in resource {
            match trace.attributes.iter().find(|a| a.key == attribute.key) {
                None => trace.attributes.push(attribute.clone()),
                Some(known) if known.value == attribute.value => {}
                Some(_) => push_missing(&mut span.attributes, &attribute.key, || {
                    attribute.value.clone()
                }),
            }
        }
        trace.spans.push(span);
    }

    /// The traces: spans ordered by start time then id, input and output from the root span.
    pub(crate) fn finish(self) -> Vec<Trace> {
        self.traces
            .into_iter()
            .map(|partial| {
                let mut spans = partial.spans;
                spans.sort_by(|a, b| {
                    (a.start_time_ns.cmp(&b.start_time_ns)).then_with(|| a.id.cmp(&b.id))
                });
                let mut trace = Trace {
                    id: partial.id,
                    input: None,
                    output: None,
                    attributes: partial.attributes,
                    spans,
                };
                if let Some(root) = trace.root() {
                    let (input, output) = (root.input.clone(), root.output.clone());
                    trace.input = input;
                    trace.output = output;
                }
                trace
            })
            .collect()
    }
}

/// Facts a span's events add: their JSON rendering and what GenAI reads from them.
#[derive(Default)]
struct Events {
    json: Vec<Value>,
    exception: Option<String>,
    prompt: Option<String>,
    completion: Option<String>,
}

fn convert_span(
    obj: &Object,
    path: Path<'_>,
    scope: &Scope<'_>,
) -> Result<(String, Span), TraceError> {
    let trace_id = required_id(obj, "traceId", 16, path)?;
    let id = required_id(obj, "spanId", 8, path)?;
    let parent_id = optional_id(obj, "parentSpanId", 8, path)?;
    let name = opt_str(obj, "name", path)?.unwrap_or_default().to_owned();
    let otel_kind = span_kind(obj, path)?;
    let start_time_ns = time(obj, "startTimeUnixNano", path)?.unwrap_or(0);
    let end_time_ns = time(obj, "endTimeUnixNano", path)?.filter(|&end| end != 0);
    let (status, status_message) = status(obj, path)?;
    let events = events(obj, path)?;
    let mut attributes = attributes(obj, path)?;

    let genai = genai::map(&attributes);
    let extra = [
        ("otel.scope.name", scope.name),
        ("otel.scope.version", scope.version),
        ("span.kind", otel_kind),
    ];
    for (key, value) in extra {
        if let Some(value) = value.filter(|value| !value.is_empty()) {
            push_missing(&mut attributes, key, || {
                AttributeValue::Text(value.to_owned())
            });
        }
    }
    if !events.json.is_empty() {
        let json = Value::Array(events.json).to_string();
        push_missing(&mut attributes, "otel.events", || {
            AttributeValue::Json(json)
        });
    }
    let derived = genai::derived(&attributes);
    attributes.extend(derived);

    let status_message = match status {
        SpanStatus::Error => status_message.or(events.exception),
        _ => status_message,
    };
    let span = Span {
        id,
        parent_id,
        name,
        kind: genai.kind,
        status,
        status_message,
        input: genai.input.or(events.prompt),
        output: genai.output.or(events.completion),
        model: genai.model,
        start_time_ns,
        end_time_ns,
        usage: genai.usage,
        cost_usd: genai.cost_usd,
        attributes,
    };
    Ok((trace_id, span))
}

fn span_kind(obj: &Object, path: Path<'_>) -> Result<Option<&'static str>, TraceError> {
    const NAMES: [&str; 6] = [
        "unspecified",
        "internal",
        "server",
        "client",
        "producer",
        "consumer",
    ];
    let index = enumeration(
        obj,
        "kind",
        path,
        "an integer 0 to 5 or a name like `SPAN_KIND_CLIENT`",
        "SPAN_KIND_",
        &NAMES,
    )?;
    Ok(index.filter(|&i| i > 0).map(|i| NAMES[i]))
}

fn status(obj: &Object, path: Path<'_>) -> Result<(SpanStatus, Option<String>), TraceError> {
    let Some(status) = get(obj, "status") else {
        return Ok((SpanStatus::Unset, None));
    };
    let path = path.key("status");
    let status = object(status, path)?;
    let code = enumeration(
        status,
        "code",
        path,
        "0, 1, 2 or `STATUS_CODE_UNSET`, `STATUS_CODE_OK`, `STATUS_CODE_ERROR`",
        "STATUS_CODE_",
        &["unset", "ok", "error"],
    )?;
    let message = opt_str(status, "message", path)?.filter(|message| !message.is_empty());
    let code = [SpanStatus::Unset, SpanStatus::Ok, SpanStatus::Error][code.unwrap_or(0)];
    Ok((code, message.map(str::to_owned)))
}

/// An enum given as its number (an index into `names`) or as `PREFIX_NAME` (upper case).
fn enumeration(
    obj: &Object,
    key: &str,
    path: Path<'_>,
    expected: &'static str,
    prefix: &str,
    names: &[&str],
) -> Result<Option<usize>, TraceError> {
    let Some(value) = get(obj, key) else {
        return Ok(None);
    };
    let index = match value {
        Value::Number(n) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
        Value::String(text) => text.strip_prefix(prefix).and_then(|name| {
            names
                .iter()
                .position(|known| known.eq_ignore_ascii_case(name))
        }),
        _ => None,
    };
    match index {
        Some(index) if index < names.len() => Ok(Some(index)),
        _ => Err(TraceError::UnknownEnum {
            path: path.key(key).to_string(),
            expected,
            found: describe(value),
        }),
    }
}

fn events(obj: &Object, path: Path<'_>) -> Result<Events, TraceError> {
    let mut events = Events::default();
    let Some(list) = get(obj, "events") else {
        return Ok(events);
    };
    let list_path = path.key("events");
    for (i, event) in array(list, list_path)?.iter().enumerate() {
        let path = list_path.index(i);
        let event = object(event, path)?;
        let name = opt_str(event, "name", path)?.unwrap_or_default();
        let time = time(event, "timeUnixNano", path)?.unwrap_or(0);
        let attributes = attributes(event, path)?;
        let text = |key: &str| {
            attributes
                .iter()
                .find(|a| a.key == key)
                .and_then(|a| a.value.as_text())
                .map(str::to_owned)
        };
        match name {
            "exception" if events.exception.is_none() => {
                events.exception = text("exception.message")
            }
            "gen_ai.content.prompt" if events.prompt.is_none() => {
                events.prompt = text("gen_ai.prompt")
            }
            "gen_ai.content.completion" if events.completion.is_none() => {
                events.completion = text("gen_ai.completion");
            }
            _ => {}
        }
        let mut fields = Map::new();
        if let Some(list) = get(event, "attributes").and_then(Value::as_array) {
            for kv in list.iter().filter_map(Value::as_object) {
                let key = kv.get("key").and_then(Value::as_str).unwrap_or_default();
                let value = get(kv, "value").map_or(Value::Null, any_to_json);
                fields.insert(key.to_owned(), value);
            }
        }
        events.json.push(serde_json::json!({
            "name": name,
            "time_unix_nano": time,
            "attributes": fields,
        }));
    }
    Ok(events)
}

fn push_missing(
    attributes: &mut Vec<Attribute>,
    key: &str,
    value: impl FnOnce() -> AttributeValue,
) {
    if !attributes.iter().any(|a| a.key == key) {
        attributes.push(Attribute {
            key: key.to_owned(),
            value: value(),
        });
    }
}
