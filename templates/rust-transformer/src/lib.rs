//! A Flowtrace transformer: redacts email addresses from every text of a trace (inputs,
//! outputs, status messages and text attributes, where instrumentations keep copies of
//! prompts) and records how many it replaced in the trace attribute
//! `flowtrace.redacted.emails`.
//!
//! The `replacement` setting is what each address becomes (default `[email]`).

mod email;

use flowtrace_plugin_sdk::{
    config, export_transformer, Attribute, AttributeValue, PluginError, Trace, TraceData,
    Transformer,
};

struct Plugin;

impl Transformer for Plugin {
    fn transform(traces: &[Trace<'_>]) -> Result<Vec<TraceData>, PluginError> {
        let replacement: String = config::get("replacement")?;
        Ok(traces
            .iter()
            .map(|trace| redact_trace(trace.to_data(), &replacement))
            .collect())
    }
}

export_transformer!(Plugin);

fn redact_trace(mut trace: TraceData, with: &str) -> TraceData {
    // Inside a JSON attribute the replacement is written as JSON string content, so that a
    // replacement with quotes or backslashes keeps the JSON valid.
    let in_json = json_string_content(with);
    let mut count = 0;
    let mut redact = |s: &mut String, with: &str| {
        if let Some((redacted, n)) = email::redact(s, with) {
            *s = redacted;
            count += n;
        }
    };
    let mut text = |s: &mut String, json: bool| redact(s, if json { &in_json } else { with });
    trace.input.iter_mut().for_each(|s| text(s, false));
    trace.output.iter_mut().for_each(|s| text(s, false));
    attributes(&mut trace.attributes, &mut text);
    for span in &mut trace.spans {
        span.input.iter_mut().for_each(|s| text(s, false));
        span.output.iter_mut().for_each(|s| text(s, false));
        span.status_message.iter_mut().for_each(|s| text(s, false));
        attributes(&mut span.attributes, &mut text);
    }
    if count > 0 {
        trace.set_attribute("flowtrace.redacted.emails", count as i64);
    }
    trace
}

/// `text(value, is_json)` for each text and JSON attribute.
fn attributes(attributes: &mut [Attribute], text: &mut impl FnMut(&mut String, bool)) {
    for attribute in attributes {
        match &mut attribute.value {
            AttributeValue::Text(s) => text(s, false),
            AttributeValue::Json(s) => text(s, true),
            _ => {}
        }
    }
}

/// `s` escaped to go between the quotes of a JSON string.
fn json_string_content(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}
