//! The contract suite's data: the edge-case traces every contract plugin runs over, the texts
//! the embedders embed, and the view of a trace that each SDK documents where its language
//! cannot show the trace exactly as the host holds it.
//!
//! The suite itself is `tests/contract/main.rs`; the plugins are under `plugins/`.

#![deny(missing_docs)]

use flowtrace_plugins::trace::{
    Attribute, AttributeValue, Span, SpanKind, SpanStatus, TokenUsage, Trace,
};

/// 2^53 + 1: the first integer a JavaScript `number` (an f64) cannot hold.
pub const ABOVE_F64_INTEGERS: u64 = (1 << 53) + 1;

/// Spans of the large trace.
pub const LARGE_TRACE_SPANS: usize = 10_000;

/// Every span kind, the root's first.
const KINDS: [SpanKind; 6] = [
    SpanKind::AgentStep,
    SpanKind::LlmCall,
    SpanKind::ToolCall,
    SpanKind::Retrieval,
    SpanKind::Embedding,
    SpanKind::Custom,
];

fn attr(key: &str, value: AttributeValue) -> Attribute {
    Attribute {
        key: key.to_string(),
        value,
    }
}

fn text(s: &str) -> AttributeValue {
    AttributeValue::Text(s.to_string())
}

fn json(s: &str) -> AttributeValue {
    AttributeValue::Json(s.to_string())
}

/// An attribute of every value type, extremes included.
fn every_attribute_type() -> Vec<Attribute> {
    vec![
        attr("text", text("plain")),
        attr("text.empty", text("")),
        attr("text.looks-like-json", text("[1,2]")),
        attr("integer", AttributeValue::Integer(42)),
        attr("integer.min", AttributeValue::Integer(i64::MIN)),
        attr("integer.max", AttributeValue::Integer(i64::MAX)),
        attr(
            "integer.unsafe",
            AttributeValue::Integer(-(ABOVE_F64_INTEGERS as i64)),
        ),
        attr("float", AttributeValue::Float(0.1)),
        attr("float.whole", AttributeValue::Float(2.0)),
        attr("float.nan", AttributeValue::Float(f64::NAN)),
        attr("float.inf", AttributeValue::Float(f64::INFINITY)),
        attr("float.-inf", AttributeValue::Float(f64::NEG_INFINITY)),
        attr("float.-0", AttributeValue::Float(-0.0)),
        attr("float.tiny", AttributeValue::Float(f64::from_bits(1))),
        attr("float.max", AttributeValue::Float(f64::MAX)),
        attr("boolean.true", AttributeValue::Boolean(true)),
        attr("boolean.false", AttributeValue::Boolean(false)),
        attr("json.array", json(r#"["stop","length"]"#)),
        attr("json.object", json(r#"{"a":1,"b":[true,null],"c":"ü"}"#)),
        attr("json.empty", json("[]")),
        attr("probe", text("found")),
    ]
}

fn span(id: &str, parent: Option<&str>, name: &str, kind: SpanKind, start: u64) -> Span {
    Span {
        id: id.to_string(),
        parent_id: parent.map(str::to_string),
        name: name.to_string(),
        kind,
        status: SpanStatus::Unset,
        status_message: None,
        input: None,
        output: None,
        model: None,
        start_time_ns: start,
        end_time_ns: None,
        usage: TokenUsage::default(),
        cost_usd: None,
        attributes: Vec::new(),
    }
}

fn trace(id: &str, spans: Vec<Span>) -> Trace {
    Trace {
        id: id.to_string(),
        input: None,
        output: None,
        attributes: Vec::new(),
        spans,
    }
}

/// A trace with no spans and nothing else.
fn empty() -> Trace {
    trace("empty", Vec::new())
}

/// Every field set, every kind and status, token counts past 2^53 and up to `u64::MAX`,
/// costs that are NaN, infinite, negative zero, subnormal, and attributes of every type.
fn full() -> Trace {
    let costs = [
        0.1,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        f64::from_bits(1),
    ];
    let usages = [
        (Some(1), Some(2), Some(3)),
        (Some(ABOVE_F64_INTEGERS), Some(1 << 63), Some(u64::MAX)),
        (Some(0), None, Some(u64::MAX - 1)),
        (None, Some(ABOVE_F64_INTEGERS * 3), None),
        (Some(u64::MAX), Some(u64::MAX), Some(u64::MAX)),
        (None, None, None),
    ];
    let statuses = [SpanStatus::Ok, SpanStatus::Error, SpanStatus::Unset];
    let spans = KINDS
        .iter()
        .zip(costs)
        .zip(usages)
        .enumerate()
        .map(|(i, ((&kind, cost), (input, output, total)))| {
            let parent = (i > 0).then_some("s0");
            let mut s = span(
                &format!("s{i}"),
                parent,
                &format!("{} #{i}", kind_name(kind)),
                kind,
                1_700_000_000_000_000_000 + i as u64 * 1_000,
            );
            s.status = statuses[i % 3];
            s.status_message = (s.status == SpanStatus::Error).then(|| "tool exploded".into());
            s.input = Some(format!(
                "[{{\"role\":\"user\",\"content\":\"question {i}\"}}]"
            ));
            s.output = Some(if i == 2 {
                String::new()
            } else {
                format!("answer {i}")
            });
            s.model = Some("gpt-4o-mini".into());
            // The last span ends before it starts: a negative duration.
            s.end_time_ns = Some(if i == 5 {
                s.start_time_ns - 1
            } else {
                s.start_time_ns + 250_000_000 * (i as u64 + 1)
            });
            s.usage = TokenUsage {
                input,
                output,
                total,
            };
            s.cost_usd = Some(cost);
            s.attributes = if i == 0 {
                every_attribute_type()
            } else {
                vec![
                    attr("gen_ai.system", text("openai")),
                    attr("index", AttributeValue::Integer(i as i64)),
                ]
            };
            s
        })
        .collect();
    Trace {
        id: "4bf92f3577b34da6a3ce929d0e0e4736".into(),
        input: Some("What is the weather in Paris?".into()),
        output: Some("Sunny, 21 °C.".into()),
        attributes: every_attribute_type(),
        spans,
    }
}

fn kind_name(kind: SpanKind) -> &'static str {
    match kind {
        SpanKind::LlmCall => "llm-call",
        SpanKind::ToolCall => "tool-call",
        SpanKind::Retrieval => "retrieval",
        SpanKind::AgentStep => "agent-step",
        SpanKind::Embedding => "embedding",
        SpanKind::Custom => "custom",
    }
}

/// Astral characters, combining marks, right-to-left scripts, a zero-width joiner sequence
/// and a NUL, in ids, names, texts, attribute keys and values.
fn unicode() -> Trace {
    let mut root = span(
        "😀-root",
        None,
        "e\u{301}tude \u{1d518}",
        SpanKind::AgentStep,
        5,
    );
    root.input = Some("שלום עולם — مرحبا بالعالم".into());
    root.output = Some("👨\u{200d}👩\u{200d}👧 family \u{0} nul".into());
    root.model = Some("模型-\u{202e}reversed".into());
    root.end_time_ns = Some(9);
    root.attributes = vec![
        attr("ключ", text("значение")),
        attr("🔑", text("\u{10ffff}")),
        attr("rtl", text("\u{5d0}\u{5d1}\u{5d2} abc \u{627}\u{644}")),
        attr("json.unicode", json(r#"["😀","e\u0301"]"#)),
    ];
    let mut child = span(
        "子",
        Some("😀-root"),
        "a\u{300}\u{316}\u{31b}",
        SpanKind::LlmCall,
        6,
    );
    child.status = SpanStatus::Error;
    child.status_message = Some("échec: 💥".into());
    Trace {
        id: "trace-ü-😀".into(),
        input: Some("𝔘𝔫𝔦𝔠𝔬𝔡𝔢".into()),
        output: Some("\u{5e9}\u{5dc}\u{5d5}\u{5dd}".into()),
        attributes: vec![attr("service.name", text("ünïcødé-😀"))],
        spans: vec![root, child],
    }
}

/// Every optional field absent: no parent, status message, input, output, model, end,
/// token counts, cost or attributes; and a span whose parent is not in the trace.
fn missing() -> Trace {
    let bare = span("bare", None, "", SpanKind::Custom, 0);
    let orphan = span("orphan", Some("not-here"), "orphan", SpanKind::ToolCall, 0);
    let mut partial = span("partial", Some("bare"), "partial", SpanKind::LlmCall, 1);
    partial.usage.input = Some(7);
    trace("missing", vec![bare, orphan, partial])
}

/// Attributes the Python SDK cannot show as the host holds them: a key twice (a `dict`
/// keeps one), and `json` values that are not compact arrays or objects (Python reads them
/// parsed).
fn python_lossy() -> Trace {
    let mut s = span("dup", None, "duplicates", SpanKind::Custom, 1);
    s.attributes = vec![
        attr("twice", text("first")),
        attr("other", AttributeValue::Integer(1)),
        attr("twice", AttributeValue::Integer(2)),
        attr("json.spaced", json(r#"{"a": [1, 2]}"#)),
        attr("json.scalar", json("5")),
        attr("json.string", json(r#""quoted""#)),
        attr("json.null", json("null")),
        attr("json.invalid", json("not json")),
    ];
    let mut t = trace("python-lossy", vec![s]);
    t.attributes = vec![
        attr("twice", AttributeValue::Boolean(true)),
        attr("twice", AttributeValue::Boolean(false)),
    ];
    t
}

/// [`LARGE_TRACE_SPANS`] spans: a tree ten levels deep with every kind, some errors.
fn large() -> Trace {
    let spans = (0..LARGE_TRACE_SPANS)
        .map(|i| {
            let parent = (i > 0).then(|| format!("{:x}", (i - 1) / 10));
            let mut s = span(
                &format!("{i:x}"),
                parent.as_deref(),
                &format!("step {i}"),
                KINDS[i % KINDS.len()],
                1_000 + i as u64,
            );
            s.end_time_ns = Some(2_000 + i as u64 * 3);
            if i % 97 == 0 {
                s.status = SpanStatus::Error;
                s.status_message = Some(format!("failure {i}"));
            }
            if s.kind == SpanKind::LlmCall {
                s.usage.input = Some(ABOVE_F64_INTEGERS + i as u64);
                s.usage.output = Some(i as u64);
                s.cost_usd = Some(i as f64 * 1e-6);
            }
            if i % 10 == 0 {
                s.attributes = vec![attr("i", AttributeValue::Integer(i as i64))];
            }
            s
        })
        .collect();
    trace("large", spans)
}

/// The traces every plugin runs over, by name: each edge the contract has.
pub fn traces() -> Vec<(&'static str, Trace)> {
    vec![
        ("empty", empty()),
        ("full", full()),
        ("unicode", unicode()),
        ("missing", missing()),
        ("python-lossy", python_lossy()),
        ("large", large()),
    ]
}

/// The texts the embedders embed: empty, ASCII, astral, combining, right-to-left, a NUL,
/// a long one; and `fail`, which the embedders refuse.
pub fn texts() -> Vec<String> {
    [
        "",
        "a",
        "héllo",
        "e\u{301}",
        "😀",
        "👨\u{200d}👩\u{200d}👧",
        "שלום",
        "مرحبا",
        "\u{0}",
        "\u{10ffff}",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(std::iter::once("ab".repeat(50_000)))
    .collect()
}

/// The trace as a Python plugin sees it: attributes are a `dict` (of keys seen twice, the
/// first position holds the last value), and `json` values arrive parsed and leave as
/// compact JSON (a JSON string, number or boolean becomes that type; text that does not
/// parse stays text).
pub fn python_view(trace: &Trace) -> Trace {
    let mut trace = trace.clone();
    python_attributes(&mut trace.attributes);
    for span in &mut trace.spans {
        python_attributes(&mut span.attributes);
    }
    trace
}

fn python_attributes(attributes: &mut Vec<Attribute>) {
    let mut seen: Vec<Attribute> = Vec::new();
    for a in attributes.drain(..) {
        let value = match a.value {
            AttributeValue::Json(s) => python_json(s),
            other => other,
        };
        match seen.iter_mut().find(|b| b.key == a.key) {
            Some(b) => b.value = value,
            None => seen.push(Attribute { key: a.key, value }),
        }
    }
    *attributes = seen;
}

fn python_json(text: String) -> AttributeValue {
    use serde_json::Value;
    match serde_json::from_str::<Value>(&text) {
        Err(_) => AttributeValue::Text(text),
        Ok(Value::String(s)) => AttributeValue::Text(s),
        Ok(Value::Bool(b)) => AttributeValue::Boolean(b),
        Ok(Value::Number(n)) => match n.as_i64() {
            Some(i) => AttributeValue::Integer(i),
            None => AttributeValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Ok(value) => AttributeValue::Json(value.to_string()),
    }
}
