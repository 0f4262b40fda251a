//! The contract exporter: `dump` writes every field of every span (each read whole) in a
//! fixed text form, `ids` one trace id a line. The Python and TypeScript ones write the same
//! bytes; the rules are in the README's "Contract suite" section.

use flowtrace_plugin_sdk::{
    export_exporter, Attribute, AttributeValue, ExportFormat, Exporter, PluginError, Trace,
};

struct Plugin;

/// An optional text: `=` and the text, or `!`.
fn opt(value: Option<String>) -> String {
    value.map_or_else(|| "!".into(), |v| format!("={v}"))
}

/// A float by its bits (16 hex digits), NaN as `NaN` (its payload is not kept).
fn float(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else {
        format!("{:016x}", f.to_bits())
    }
}

fn attributes(out: &mut String, attributes: Vec<Attribute>) {
    for a in attributes {
        let value = match a.value {
            AttributeValue::Text(s) => format!("text:{s}"),
            AttributeValue::Integer(i) => format!("integer:{i}"),
            AttributeValue::Float(f) => format!("float:{}", float(f)),
            AttributeValue::Boolean(b) => format!("boolean:{b}"),
            AttributeValue::Json(s) => format!("json:{s}"),
        };
        out.push_str(&format!("attr\t{}\t{value}\n", a.key));
    }
}

fn dump(out: &mut String, trace: &Trace<'_>) {
    let count = trace.span_count();
    out.push_str(&format!("trace\t{}\t{count}\n", trace.id()));
    out.push_str(&format!("input\t{}\n", opt(trace.input())));
    out.push_str(&format!("output\t{}\n", opt(trace.output())));
    attributes(out, trace.attributes());
    for index in 0..count {
        let Some(span) = trace.span(index) else {
            continue;
        };
        let s = span.to_span();
        let number = |n: Option<u64>| opt(n.map(|n| n.to_string()));
        let fields = [
            "span".to_string(),
            index.to_string(),
            s.id,
            opt(s.parent_id),
            s.name,
            s.kind.as_str().into(),
            s.status.as_str().into(),
            opt(s.status_message),
            opt(s.input),
            opt(s.output),
            opt(s.model),
            s.start_time_ns.to_string(),
            number(s.end_time_ns),
            number(s.usage.input),
            number(s.usage.output),
            number(s.usage.total),
            opt(s.cost_usd.map(float)),
        ];
        out.push_str(&fields.join("\t"));
        out.push('\n');
        attributes(out, s.attributes);
    }
}

impl Exporter for Plugin {
    fn formats() -> Vec<ExportFormat> {
        vec![
            ExportFormat::new("dump", "text/plain; charset=utf-8", "txt"),
            ExportFormat::new("ids", "text/plain", "ids"),
        ]
    }

    fn export_traces(format: &str, traces: &[Trace<'_>]) -> Result<Vec<u8>, PluginError> {
        let mut out = String::new();
        match format {
            "dump" => traces.iter().for_each(|t| dump(&mut out, t)),
            "ids" => traces.iter().for_each(|t| out.push_str(&(t.id() + "\n"))),
            _ => {
                return Err(PluginError::invalid_input(format_args!(
                    "unknown format `{format}`"
                )))
            }
        }
        Ok(out.into_bytes())
    }
}

export_exporter!(Plugin);
