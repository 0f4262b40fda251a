//! The contract transformer: drops traces without spans and returns the others whole, with
//! one trace attribute of each type appended. The Python and TypeScript ones do the same;
//! the rules are in the README's "Contract suite" section.

use flowtrace_plugin_sdk::{
    export_transformer, Attribute, AttributeValue, PluginError, Trace, TraceData, Transformer,
};

struct Plugin;

impl Transformer for Plugin {
    fn transform(traces: &[Trace<'_>]) -> Result<Vec<TraceData>, PluginError> {
        Ok(traces
            .iter()
            .filter(|t| t.span_count() > 0)
            .map(|t| {
                let mut data = t.to_data();
                let added = [
                    (
                        "contract.spans",
                        AttributeValue::Integer(data.spans.len() as i64),
                    ),
                    ("contract.text", AttributeValue::Text("✓ 😀".into())),
                    ("contract.float", AttributeValue::Float(0.25)),
                    ("contract.flag", AttributeValue::Boolean(true)),
                    ("contract.json", AttributeValue::Json(r#"["a",1]"#.into())),
                ];
                for (key, value) in added {
                    data.attributes.push(Attribute::new(key, value));
                }
                data
            })
            .collect())
    }
}

export_transformer!(Plugin);
