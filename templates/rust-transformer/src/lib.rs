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
    let mut count = 0;
    let mut text = |s: &mut String| {
        if let Some((redacted, n)) = email::redact(s, with) {
            *s = redacted;
            count += n;
        }
    };
    trace.input.iter_mut().for_each(&mut text);
    trace.output.iter_mut().for_each(&mut text);
    attributes(&mut trace.attributes, &mut text);
    for span in &mut trace.spans {
        span.input.iter_mut().for_each(&mut text);
        span.output.iter_mut().for_each(&mut text);
        span.status_message.iter_mut().for_each(&mut text);
        attributes(&mut span.attributes, &mut text);
    }
    if count > 0 {
        trace.set_attribute("flowtrace.redacted.emails", count as i64);
    }
    trace
}

fn attributes(attributes: &mut [Attribute], text: &mut impl FnMut(&mut String)) {
    for attribute in attributes {
        match &mut attribute.value {
            AttributeValue::Text(s) | AttributeValue::Json(s) => text(s),
            _ => {}
        }
    }
}
