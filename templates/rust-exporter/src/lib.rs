//! A Flowtrace exporter: writes traces as JSON lines, one line per span with its ids, name,
//! kind, status, timing, token usage and cost (`jsonl`). Prompts and completions are not
//! copied out of the host, only their lengths.
//!
//! The `include-model` setting adds each span's model.

use flowtrace_plugin_sdk::{
    config, export_exporter, ExportFormat, Exporter, PluginError, SpanRef, Trace,
};
use serde_json::{json, Value};

struct Plugin;

impl Exporter for Plugin {
    fn formats() -> Vec<ExportFormat> {
        vec![ExportFormat::new("jsonl", "application/x-ndjson", "jsonl")]
    }

    fn export_traces(format: &str, traces: &[Trace<'_>]) -> Result<Vec<u8>, PluginError> {
        if format != "jsonl" {
            return Err(PluginError::invalid_input(format_args!(
                "unknown format `{format}`: this exporter writes `jsonl`"
            )));
        }
        let include_model: bool = config::get("include-model")?;
        let mut out = Vec::new();
        for trace in traces {
            let trace_id = trace.id();
            // one copy of each span id, so parents are looked up by index
            let ids: Vec<String> = trace.spans().map(|s| s.id()).collect();
            for span in trace.spans() {
                let line = summary(&trace_id, &ids, &span, include_model);
                serde_json::to_writer(&mut out, &line).map_err(PluginError::failed)?;
                out.push(b'\n');
            }
        }
        Ok(out)
    }
}

export_exporter!(Plugin);

fn summary(trace_id: &str, ids: &[String], span: &SpanRef<'_>, include_model: bool) -> Value {
    let info = span.info();
    let parent_id = info.parent.map(|p| ids[p as usize].as_str());
    let mut line = json!({
        "trace_id": trace_id,
        "span_id": ids[span.index() as usize],
        "parent_id": parent_id,
        "name": span.name(),
        "kind": info.kind.as_str(),
        "status": info.status.as_str(),
        "start_time_ns": info.start_time_ns,
        "duration_ns": info.duration_ns(),
        "input_tokens": info.usage.input,
        "output_tokens": info.usage.output,
        "cost_usd": info.cost_usd,
        "input_len": info.input_len,
        "output_len": info.output_len,
    });
    if include_model {
        line["model"] = json!(span.model());
    }
    line
}
