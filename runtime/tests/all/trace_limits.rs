//! Reading trace files that could exhaust the host: OTLP/JSON documents read as a stream of
//! `resourceSpans` entries, and the caps on a line and a document, counted decompressed.

use std::io::{BufReader, Write};

use flowtrace_plugins::trace::{
    from_otlp_json, parse_json_line, parse_traces, parse_traces_with, read_document, ReadOptions,
    Trace, TraceError, TraceReader,
};
use serde_json::{json, Value};

use crate::trace::{fixture, FIXTURES};

/// `parts` gzip-compressed each as its own member, one after the other.
fn gzip_members(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for part in parts {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(part).unwrap();
        out.extend(encoder.finish().unwrap());
    }
    out
}

fn span(trace: &str, id: &str, start: u64) -> Value {
    json!({
        "traceId": trace, "spanId": id, "name": format!("span-{id}"),
        "startTimeUnixNano": start.to_string(), "endTimeUnixNano": (start + 5).to_string(),
        "attributes": [{"key": "gen_ai.request.model", "value": {"stringValue": "m"}}]
    })
}

fn resource_spans(service: &str, spans: Vec<Value>) -> Value {
    json!({
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
        "scopeSpans": [{"scope": {"name": "s"}, "spans": spans}]
    })
}

const T1: &str = "0af7651916cd43dd8448eb211c80319c";
const T2: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// An export whose trace `T1` is split over the first and third `resourceSpans` entries.
fn split_export() -> Value {
    json!({"resourceSpans": [
        resource_spans("a", vec![span(T1, "00f067aa0ba902b7", 30)]),
        resource_spans("b", vec![span(T2, "00f067aa0ba902b8", 10)]),
        resource_spans("c", vec![span(T1, "00f067aa0ba902b9", 20)]),
    ]})
}

fn streamed(bytes: &[u8]) -> Result<Vec<Trace>, TraceError> {
    read_document(BufReader::new(bytes), &ReadOptions::default())
}

#[test]
fn a_streamed_document_gives_the_traces_of_the_whole_json_tree() {
    let export = split_export();
    let pretty = serde_json::to_vec_pretty(&export).unwrap();
    let traces = streamed(&pretty).unwrap();
    // Spans of one trace from several entries are merged, traces in order of first sight.
    let shape: Vec<(&str, Vec<&str>)> = traces
        .iter()
        .map(|t| {
            (
                t.id.as_str(),
                t.spans.iter().map(|s| s.name.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            (T1, vec!["span-00f067aa0ba902b9", "span-00f067aa0ba902b7"]),
            (T2, vec!["span-00f067aa0ba902b8"]),
        ]
    );
    // Exactly what the JSON tree gives (`from_otlp_json` still builds one), and what the
    // whole-input and the one-line parsers give.
    assert_eq!(traces, from_otlp_json(&pretty).unwrap());
    assert_eq!(traces, parse_traces(&pretty).unwrap());
    assert_eq!(
        traces,
        parse_json_line(export.to_string().as_bytes()).unwrap()
    );
    // An array of exports and traces, streamed element by element.
    let flowtrace = json!({"id": "plain", "spans": []});
    let array = serde_json::to_vec(&json!([export, flowtrace])).unwrap();
    let ids: Vec<String> = streamed(&array)
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(ids, [T1, T2, "plain"]);
    // The real exports.
    for (name, ..) in FIXTURES {
        let bytes = fixture(name);
        assert_eq!(
            streamed(&bytes).unwrap(),
            from_otlp_json(&bytes).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn a_streamed_document_names_the_place_of_every_error() {
    let mut export = split_export();
    export["resourceSpans"][2]["scopeSpans"][0]["spans"][0]["traceId"] = json!("xyz");
    let error = streamed(export.to_string().as_bytes()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid id \"xyz\" at `resourceSpans[2].scopeSpans[0].spans[0].traceId`: expected 32 \
         hex digits or 24 base64 characters (16 bytes), found neither"
    );
    let cases: [(&str, &str); 6] = [
        (
            r#"{"resourceSpans": 7}"#,
            "`resourceSpans` has the wrong type: expected an array, found 7",
        ),
        (
            r#"{"resourceSpans": null}"#,
            "missing required field `resourceSpans`",
        ),
        (
            r#"{"resourceSpans": [], "resource_spans": []}"#,
            "the input has `resource_spans` more than once",
        ),
        (
            r#"[{"resourceSpans": [5]}]"#,
            "`[0].resourceSpans[0]` has the wrong type: expected an object, found 5",
        ),
        ("  \n ", "input is empty: expected a Flowtrace trace object (with `id` and `spans`), a JSON array or JSON lines of them, or an OTLP/JSON export (an object with `resourceSpans`)"),
        (
            "{\"resourceSpans\": [{}, ",
            "input is not valid JSON",
        ),
    ];
    for (text, expected) in cases {
        let error = streamed(text.as_bytes()).unwrap_err();
        assert_eq!(error.to_string(), expected, "{text}");
        assert_eq!(
            parse_traces(text.as_bytes()).unwrap_err().to_string(),
            expected,
            "{text}"
        );
    }
}

#[test]
fn a_document_over_its_cap_is_refused_counted_decompressed() {
    let bytes = serde_json::to_vec(&split_export()).unwrap();
    let size = bytes.len() as u64;
    let exact = ReadOptions {
        max_document_bytes: size,
        ..ReadOptions::default()
    };
    let under = ReadOptions {
        max_document_bytes: size - 1,
        ..ReadOptions::default()
    };
    assert_eq!(read_document(&bytes[..], &exact).unwrap().len(), 2);
    assert_eq!(parse_traces_with(&bytes, &exact).unwrap().len(), 2);
    for error in [
        read_document(&bytes[..], &under).unwrap_err(),
        parse_traces_with(&bytes, &under).unwrap_err(),
        // A small file that inflates past the cap: stopped at the cap.
        parse_traces_with(&gzip_members(&[&bytes]), &under).unwrap_err(),
    ] {
        assert!(
            matches!(error, TraceError::DocumentTooLarge { limit } if limit == size - 1),
            "{error:?}"
        );
        assert!(
            error.to_string().contains("split it into JSON lines"),
            "{error}"
        );
    }
}

#[test]
fn a_line_over_its_cap_is_skipped_without_being_held_and_reading_goes_on() {
    // 64 KiB of gzip holding a 16 MiB line between two traces.
    let chunk = vec![b'a'; 1 << 20];
    let mut parts: Vec<&[u8]> = vec![b"{\"id\":\"first\",\"spans\":[]}\n{\"id\":\""];
    parts.extend(std::iter::repeat_n(&chunk[..], 16));
    parts.push(b"\",\"spans\":[]}\n{\"id\":\"third\",\"spans\":[]}\n");
    let gz = gzip_members(&parts);
    assert!(gz.len() < 64 << 10);
    let options = ReadOptions {
        max_line_bytes: 1 << 20,
        ..ReadOptions::default()
    };
    let results: Vec<Result<String, String>> = TraceReader::with_options(&gz[..], options)
        .map(|r| {
            r.map(|t| t.id)
                .map_err(|e| format!("{}: {}", e, e.source_text()))
        })
        .collect();
    assert_eq!(
        results,
        [
            Ok("first".to_string()),
            Err(
                "invalid trace on line 2: the line is longer than the 1048576-byte limit for a \
                 line (counted decompressed)"
                    .to_string()
            ),
            Ok("third".to_string()),
        ]
    );
    // Read whole, the same line fails the input, at its number.
    let error = parse_traces_with(&gz, &options).unwrap_err();
    assert_eq!(error.line(), Some(2), "{error}");
    // Under the default cap, the line is read (and is a trace with a long id).
    assert_eq!(TraceReader::new(&gz[..]).filter(Result::is_ok).count(), 3);
}

trait SourceText {
    fn source_text(&self) -> String;
}

impl SourceText for TraceError {
    fn source_text(&self) -> String {
        std::error::Error::source(self).map_or_else(String::new, ToString::to_string)
    }
}
