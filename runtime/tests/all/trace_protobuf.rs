//! Reading OTLP/protobuf: the real exports re-encoded with the OpenTelemetry project's prost
//! types give the traces their OTLP/JSON gives, bare, length-prefixed, gzip-compressed; bad
//! records are reported with their offset.

use std::io::Write as _;

use base64::Engine as _;
use flowtrace_plugins::trace::{
    parse_protobuf_record, parse_traces, Encoding, Framing, ProtobufRecords, Trace, TraceError,
    TraceReader, MAX_RECORD_BYTES,
};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    any_value, AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, ResourceSpans, ScopeSpans, Span, Status};
use prost::Message as _;
use serde_json::{json, Value};

use crate::trace::{chain, fixture, fixture_json, one_trace, FIXTURES, NODE, PYTHON};

// ---- OTLP/JSON to prost, in all the encodings the fixtures use -----------------------------

fn items<'v>(value: &'v Value, key: &str) -> &'v [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn string(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// A 64-bit integer as a JSON number or a decimal string.
fn int(value: &Value) -> i64 {
    match value {
        Value::String(text) => text.parse().unwrap(),
        other => other.as_i64().unwrap(),
    }
}

fn time(value: &Value, key: &str) -> u64 {
    value.get(key).map_or(0, |v| int(v) as u64)
}

/// Hex (16 or 32 digits) or standard base64.
fn id(value: &Value, key: &str) -> Vec<u8> {
    let text = string(value, key);
    if matches!(text.len(), 16 | 32) && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return hex::decode(text).unwrap();
    }
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

/// An enum as its number or its `PREFIX_NAME`.
fn enumeration(value: Option<&Value>, names: &[&str]) -> i32 {
    match value {
        None => 0,
        Some(Value::String(name)) => names.iter().position(|n| n == name).unwrap() as i32,
        Some(number) => number.as_i64().unwrap() as i32,
    }
}

fn any(value: &Value) -> AnyValue {
    use any_value::Value as V;
    let (key, inner) = value.as_object().unwrap().iter().next().unwrap();
    let value = match key.as_str() {
        "stringValue" => V::StringValue(inner.as_str().unwrap().to_owned()),
        "boolValue" => V::BoolValue(inner.as_bool().unwrap()),
        "intValue" => V::IntValue(int(inner)),
        "doubleValue" => V::DoubleValue(inner.as_f64().unwrap()),
        "bytesValue" => V::BytesValue(
            base64::engine::general_purpose::STANDARD
                .decode(inner.as_str().unwrap())
                .unwrap(),
        ),
        "arrayValue" => V::ArrayValue(ArrayValue {
            values: items(inner, "values").iter().map(any).collect(),
        }),
        "kvlistValue" => V::KvlistValue(KeyValueList {
            values: attributes(inner),
        }),
        other => panic!("unknown AnyValue field `{other}`"),
    };
    AnyValue { value: Some(value) }
}

fn attributes(value: &Value) -> Vec<KeyValue> {
    let key_value = |kv: &Value| KeyValue {
        key: string(kv, "key"),
        value: kv.get("value").map(any),
        ..Default::default()
    };
    ["attributes", "values"]
        .iter()
        .flat_map(|key| items(value, key))
        .map(key_value)
        .collect()
}

fn span_of(value: &Value) -> Span {
    const KINDS: [&str; 6] = [
        "SPAN_KIND_UNSPECIFIED",
        "SPAN_KIND_INTERNAL",
        "SPAN_KIND_SERVER",
        "SPAN_KIND_CLIENT",
        "SPAN_KIND_PRODUCER",
        "SPAN_KIND_CONSUMER",
    ];
    const CODES: [&str; 3] = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];
    Span {
        trace_id: id(value, "traceId"),
        span_id: id(value, "spanId"),
        parent_span_id: id(value, "parentSpanId"),
        name: string(value, "name"),
        kind: enumeration(value.get("kind"), &KINDS),
        start_time_unix_nano: time(value, "startTimeUnixNano"),
        end_time_unix_nano: time(value, "endTimeUnixNano"),
        attributes: attributes(value),
        events: items(value, "events")
            .iter()
            .map(|event| span::Event {
                time_unix_nano: time(event, "timeUnixNano"),
                name: string(event, "name"),
                attributes: attributes(event),
                dropped_attributes_count: 0,
            })
            .collect(),
        status: value.get("status").map(|status| Status {
            message: string(status, "message"),
            code: enumeration(status.get("code"), &CODES),
        }),
        flags: value.get("flags").map_or(0, |f| f.as_u64().unwrap() as u32),
        ..Default::default()
    }
}

/// The prost message an OTLP/JSON export encodes (camelCase names; hex or base64 ids; enums
/// as numbers or names; 64-bit integers as numbers or strings).
pub(crate) fn to_protobuf(export: &Value) -> ExportTraceServiceRequest {
    let scope_spans = |ss: &Value| ScopeSpans {
        scope: ss.get("scope").map(|scope| InstrumentationScope {
            name: string(scope, "name"),
            version: string(scope, "version"),
            ..Default::default()
        }),
        spans: items(ss, "spans").iter().map(span_of).collect(),
        schema_url: string(ss, "schemaUrl"),
    };
    let resource_spans = |rs: &Value| ResourceSpans {
        resource: rs.get("resource").map(|resource| Resource {
            attributes: attributes(resource),
            ..Default::default()
        }),
        scope_spans: items(rs, "scopeSpans").iter().map(scope_spans).collect(),
        schema_url: string(rs, "schemaUrl"),
    };
    ExportTraceServiceRequest {
        resource_spans: items(export, "resourceSpans")
            .iter()
            .map(resource_spans)
            .collect(),
    }
}

// ---- framing -------------------------------------------------------------------------------

/// Each message after its length as 4 bytes big-endian, as the collector's file exporter
/// writes them.
fn length_prefixed(messages: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for message in messages {
        out.extend((message.len() as u32).to_be_bytes());
        out.extend(message);
    }
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn encoded(name: &str) -> Vec<u8> {
    to_protobuf(&fixture_json(name)).encode_to_vec()
}

fn streamed(bytes: &[u8]) -> Vec<Result<Trace, TraceError>> {
    TraceReader::new(bytes).collect()
}

/// The node fixture's spans, one export per scope (two records).
fn split_node() -> Vec<Vec<u8>> {
    let request = to_protobuf(&fixture_json(NODE));
    let rs = &request.resource_spans[0];
    assert!(rs.scope_spans.len() >= 2);
    rs.scope_spans
        .iter()
        .map(|ss| {
            let mut one = rs.clone();
            one.scope_spans = vec![ss.clone()];
            ExportTraceServiceRequest {
                resource_spans: vec![one],
            }
            .encode_to_vec()
        })
        .collect()
}

#[test]
fn real_exports_as_protobuf_give_the_traces_of_their_json() {
    for (name, trace_id, _) in FIXTURES {
        let expected = parse_traces(&fixture(name)).unwrap();
        assert_eq!(expected[0].id, trace_id);
        let bare = encoded(name);
        assert_eq!(Encoding::detect(&bare), Encoding::Protobuf(Framing::Bare));
        assert_eq!(parse_traces(&bare).unwrap(), expected, "{name}, bare");
        assert_eq!(parse_protobuf_record(&bare).unwrap(), expected, "{name}");
        let stream = length_prefixed(&[bare]);
        assert_eq!(
            Encoding::detect(&stream),
            Encoding::Protobuf(Framing::LengthPrefixed)
        );
        for input in [stream.clone(), gzip(&stream)] {
            assert_eq!(parse_traces(&input).unwrap(), expected, "{name}");
            let traces: Vec<Trace> = streamed(&input).into_iter().map(Result::unwrap).collect();
            assert_eq!(traces, expected, "{name}, streamed");
        }
    }
}

#[test]
fn attribute_values_of_every_kind_match_their_json() {
    let export = json!({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331",
        "name": "s", "kind": 3, "startTimeUnixNano": "5", "endTimeUnixNano": "9",
        "attributes": [
            {"key": "i", "value": {"intValue": "-7"}},
            {"key": "b", "value": {"boolValue": false}},
            {"key": "bytes", "value": {"bytesValue": "AAEC"}},
            {"key": "nested", "value": {"kvlistValue": {"values": [
                {"key": "a", "value": {"arrayValue": {"values": [{"doubleValue": 0.5}]}}}]}}},
            {"key": "none"},
        ],
        "events": [{"name": "exception", "timeUnixNano": "7",
            "attributes": [{"key": "exception.message", "value": {"stringValue": "boom"}}]}],
        "status": {"code": 2},
    }]}]}]});
    let json = parse_traces(export.to_string().as_bytes()).unwrap();
    let mut request = to_protobuf(&export);
    assert_eq!(parse_traces(&request.encode_to_vec()).unwrap(), json);
    assert_eq!(json[0].spans[0].status_message.as_deref(), Some("boom"));
    // NaN, which JSON has no number for, reads as its JSON mapping's spelling.
    let span = &mut request.resource_spans[0].scope_spans[0].spans[0];
    span.attributes[0].value = Some(AnyValue {
        value: Some(any_value::Value::DoubleValue(f64::NAN)),
    });
    let trace = &parse_traces(&request.encode_to_vec()).unwrap()[0];
    assert_eq!(
        trace.spans[0].attribute("i").and_then(|v| v.as_text()),
        Some("NaN")
    );
}

#[test]
fn a_trace_split_over_records_is_merged_whole_and_streamed_per_record() {
    let records = split_node();
    let stream = length_prefixed(&records);
    assert_eq!(one_trace(&stream), one_trace(&fixture(NODE)));
    let sizes: Vec<usize> = streamed(&stream)
        .into_iter()
        .map(|t| t.unwrap().spans.len())
        .collect();
    assert_eq!(sizes, [4, 2]);
    // Bare messages one after the other are one merged message.
    assert_eq!(one_trace(&records.concat()), one_trace(&fixture(NODE)));
}

#[test]
fn a_bad_record_is_reported_with_its_offset_and_the_reader_goes_on() {
    let good = encoded(PYTHON);
    let garbage = b"\x0a\x05\x12\x09oops".to_vec();
    let stream = length_prefixed(&[good.clone(), garbage, good.clone()]);
    let offset = 4 + good.len() as u64;
    let expected = one_trace(&fixture(PYTHON));

    let error = parse_traces(&stream).unwrap_err();
    assert_eq!(error.offset(), Some(offset));
    assert_eq!(
        chain(&error),
        format!(
            "invalid OTLP/protobuf record at byte {offset}: the bytes are not an OTLP trace \
             export (`ExportTraceServiceRequest`): failed to decode Protobuf message: \
             ResourceSpans.scope_spans: ExportTraceServiceRequest.resource_spans: buffer underflow"
        )
    );
    let results = streamed(&stream);
    assert_eq!(results.len(), 3);
    assert_eq!(results[0].as_ref().unwrap(), &expected);
    assert_eq!(results[1].as_ref().unwrap_err().offset(), Some(offset));
    assert_eq!(results[2].as_ref().unwrap(), &expected);

    // A wrong-sized id, which hex would hide: named with its record and path.
    let mut request = to_protobuf(&fixture_json(PYTHON));
    request.resource_spans[0].scope_spans[0].spans[1].trace_id = vec![7; 11];
    let stream = length_prefixed(&[good, request.encode_to_vec()]);
    assert_eq!(
        chain(&parse_traces(&stream).unwrap_err()),
        format!(
            "invalid OTLP/protobuf record at byte {offset}: invalid id \
             \"0707070707070707070707\" at `resourceSpans[0].scopeSpans[0].spans[1].traceId`: \
             expected 16 bytes, found 11"
        )
    );
}

#[test]
fn cut_and_oversized_records_stop_the_stream_with_the_offset() {
    let good = encoded(NODE);
    let stream = length_prefixed(&[good.clone(), good.clone()]);
    let second = 4 + good.len();
    // Cut inside the second record's prefix, then inside its message.
    let cut = chain(&parse_traces(&stream[..second + 2]).unwrap_err());
    assert_eq!(
        cut,
        format!(
            "invalid OTLP/protobuf record at byte {second}: the input is cut short: its 4-byte \
             length prefix needs 4 bytes, but only 2 remain"
        )
    );
    let cut = &stream[..stream.len() - 10];
    assert_eq!(
        chain(&parse_traces(cut).unwrap_err()),
        format!(
            "invalid OTLP/protobuf record at byte {second}: the input is cut short: the record \
             needs {} bytes, but only {} remain",
            good.len(),
            good.len() - 10
        )
    );
    let results = streamed(cut);
    assert!(results.len() == 2 && results[0].is_ok() && results[1].is_err());

    // A prefix claiming 4 GiB is refused before anything is read; one within the limit but
    // past the end of the input reads only what is there.
    for (prefix, message) in [
        (u32::MAX, format!("the length prefix gives 4294967295 bytes, more than the {MAX_RECORD_BYTES}-byte limit for a record")),
        (100 << 20, "the input is cut short: the record needs 104857600 bytes, but only 3 remain".to_owned()),
    ] {
        let input = [&stream[..second], &prefix.to_be_bytes(), b"abc"].concat();
        let error = parse_traces(&input).unwrap_err();
        assert_eq!(chain(&error), format!("invalid OTLP/protobuf record at byte {second}: {message}"));
        let mut records = ProtobufRecords::new(&input[..], Framing::LengthPrefixed);
        assert!(records.next().unwrap().is_ok());
        assert_eq!(records.next().unwrap().unwrap_err().offset(), Some(second as u64));
        assert!(records.next().is_none());
    }

    // Every cut of a bare message: an error or the whole trace, never a panic.
    let bare = encoded(NODE);
    let whole = one_trace(&bare);
    for len in (1..bare.len()).step_by(3) {
        match parse_traces(&bare[..len]) {
            Ok(traces) => assert!(traces.is_empty() || traces == [whole.clone()]),
            Err(error) => assert!(!chain(&error).is_empty(), "{len}"),
        }
    }
}

#[test]
fn detection_never_takes_json_for_protobuf_or_protobuf_for_json() {
    // JSON, JSON lines, a blank first line, a byte-order mark: JSON.
    for text in [
        &b"{\"id\":\"a\",\"spans\":[]}"[..],
        b"\n\n{\"id\":\"a\",\"spans\":[]}\n",
        b"\r\n[{\"id\":\"a\",\"spans\":[]}]",
        b"\t{\"resourceSpans\": []}",
        b"\xEF\xBB\xBF{\"id\":\"a\"}",
        b"\n{\"id\":\"caf\xC3\xA9\", \"spans\": []}",
        b"not json",
        b"",
    ] {
        assert_eq!(Encoding::detect(text), Encoding::Json, "{text:?}");
    }
    assert_eq!(
        parse_traces(b"\n\n{\"id\":\"a\",\"spans\":[]}\n").unwrap()[0].id,
        "a"
    );
    // A bare message whose first resource is 123 bytes starts `\n{`: still protobuf.
    let span = Span {
        trace_id: vec![1; 16],
        span_id: vec![2; 8],
        name: "chat".into(),
        ..Default::default()
    };
    let mut rs = ResourceSpans {
        scope_spans: vec![ScopeSpans {
            spans: vec![span],
            ..Default::default()
        }],
        ..Default::default()
    };
    while rs.encoded_len() < 123 {
        rs.schema_url.push('x');
    }
    let request = ExportTraceServiceRequest {
        resource_spans: vec![rs],
    };
    let bytes = request.encode_to_vec();
    assert_eq!(&bytes[..2], b"\n{");
    assert_eq!(Encoding::detect(&bytes), Encoding::Protobuf(Framing::Bare));
    assert_eq!(parse_traces(&bytes).unwrap()[0].spans.len(), 1);
    // Compressed input.
    assert_eq!(Encoding::detect(&gzip(b"{}")), Encoding::Gzip);
    assert_eq!(
        chain(&parse_traces(b"\x28\xb5\x2f\xfd\x00").unwrap_err()),
        "failed to decompress the input: the input is zstd-compressed, which is not read: \
         decompress it first (`zstd -d`)"
    );
    assert_eq!(
        chain(&parse_traces(&gzip(&gzip(b"{}"))).unwrap_err()),
        "failed to decompress the input: the decompressed input is compressed again"
    );
    // gzip of JSON lines is JSON lines.
    let lines = b"{\"id\":\"a\",\"spans\":[]}\n{\"id\":\"b\",\"spans\":[]}\n";
    let ids: Vec<String> = streamed(&gzip(lines))
        .into_iter()
        .map(|t| t.unwrap().id)
        .collect();
    assert_eq!(ids, ["a", "b"]);
    assert_eq!(parse_traces(&gzip(lines)).unwrap().len(), 2);
}
