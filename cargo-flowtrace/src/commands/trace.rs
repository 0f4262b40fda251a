//! `cargo flowtrace trace show FILE...`

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use flowtrace_plugins::trace::{self, Span, TokenUsage, Trace};
use serde::Serialize;

use crate::context::Context;
use crate::error::ResultExt as _;
use crate::term::{sanitize, style};

/// Show traces as the runtime reads them
///
/// `trace show FILE...` reads each file the way fixtures and `eval` read traces (Flowtrace
/// JSON, OTLP/JSON, OTLP/protobuf, gzip-compressed or not: told from the content) and prints
/// every trace as a tree of its spans, with what the runtime made of each: its kind, status,
/// model, token usage, cost, finish reasons, tool call and error, as plugins see them. Use it
/// to check how an export was imported, or a hand-written fixture. `--message-format json`
/// writes one `trace` message per trace, its spans in tree order with their depth.
///
/// The Flowtrace JSON format: `cargo flowtrace schema trace` prints its JSON Schema.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  cargo flowtrace trace show tests/traces/agent.json
  cargo flowtrace trace show export.otlp.json.gz --message-format json")]
pub struct TraceCommand {
    #[command(subcommand)]
    action: TraceAction,
}

#[derive(Debug, Subcommand)]
enum TraceAction {
    /// Print the traces of files as the runtime normalizes them
    Show {
        /// Files of traces
        #[arg(value_name = "FILE", required = true)]
        files: Vec<PathBuf>,
    },
}

/// `{"reason": "trace", ...}`: one trace, its spans in tree order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
struct TraceMessage<'a> {
    file: &'a Path,
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    input: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<&'a str>,
    spans: Vec<SpanFacts<'a>>,
}

/// A span as plugins see it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
struct SpanFacts<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_id: Option<&'a str>,
    /// 0 for a root (a span without a parent, or whose parent is not in the trace).
    depth: usize,
    name: &'a str,
    kind: trace::SpanKind,
    status: trace::SpanStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<&'a str>,
    start_time_ns: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_time_ns: Option<u64>,
    usage: TokenUsage,
    #[serde(skip_serializing_if = "Option::is_none")]
    cost_usd: Option<f64>,
    finish_reasons: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    input_len: usize,
    output_len: usize,
}

impl TraceCommand {
    /// Run `trace`.
    pub fn exec(self, cx: &Context) -> Result<()> {
        let TraceAction::Show { files } = self.action;
        let mut out = cx.term.stdout();
        let mut first = true;
        for file in &files {
            let bytes = std::fs::read(file)
                .with_context(|| format!("failed to read `{}`", file.display()))?;
            let traces = trace::parse_traces(&bytes)
                .with_context(|| format!("`{}` is not a file of traces", file.display()))
                .help(
                    "a file of traces is Flowtrace JSON (`cargo flowtrace schema trace` prints \
                     its JSON Schema), OTLP/JSON or OTLP/protobuf, gzip-compressed or not",
                )?;
            for trace in &traces {
                let spans = tree(trace);
                if cx.term.is_human() {
                    if !first {
                        writeln!(out)?;
                    }
                    first = false;
                    print(&mut out, file, trace, &spans)?;
                }
                cx.term.emit_as(
                    "trace",
                    &TraceMessage {
                        file,
                        id: &trace.id,
                        input: trace.input.as_deref(),
                        output: trace.output.as_deref(),
                        spans,
                    },
                )?;
            }
            if traces.is_empty() {
                cx.term
                    .note(format_args!("`{}` holds no trace", file.display()));
            }
        }
        Ok(())
    }
}

/// The spans in tree order (each parent before its children, siblings in file order), with
/// their depth. A span whose parent chain loops is shown at the root, once.
fn tree(trace: &Trace) -> Vec<SpanFacts<'_>> {
    let ids: HashSet<&str> = trace.spans.iter().map(|s| s.id.as_str()).collect();
    let mut children: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut roots = Vec::new();
    for (i, span) in trace.spans.iter().enumerate() {
        match span.parent_id.as_deref() {
            Some(parent) if ids.contains(parent) && parent != span.id => {
                children.entry(parent).or_default().push(i)
            }
            _ => roots.push(i),
        }
    }
    let mut out = Vec::with_capacity(trace.spans.len());
    let mut seen = vec![false; trace.spans.len()];
    let unreached: Vec<usize> = (0..trace.spans.len()).collect();
    for start in roots.into_iter().chain(unreached) {
        let mut stack = vec![(start, 0usize)];
        while let Some((i, depth)) = stack.pop() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            let span = &trace.spans[i];
            out.push(facts(span, depth));
            if let Some(kids) = children.get(span.id.as_str()) {
                stack.extend(kids.iter().rev().map(|&k| (k, depth + 1)));
            }
        }
    }
    out
}

fn facts(span: &Span, depth: usize) -> SpanFacts<'_> {
    SpanFacts {
        id: &span.id,
        parent_id: span.parent_id.as_deref(),
        depth,
        name: &span.name,
        kind: span.kind,
        status: span.status,
        model: span.model.as_deref(),
        start_time_ns: span.start_time_ns,
        end_time_ns: span.end_time_ns,
        usage: span.usage,
        cost_usd: span.cost_usd,
        finish_reasons: span.finish_reasons(),
        tool: span.tool_call().map(|t| t.name).filter(|n| !n.is_empty()),
        error: span.error().map(|e| match (e.error_type, e.message) {
            (Some(ty), Some(message)) => format!("{ty}: {message}"),
            (Some(ty), None) => ty,
            (None, Some(message)) => message,
            (None, None) => String::new(),
        }),
        input_len: span.input.as_deref().map_or(0, str::len),
        output_len: span.output.as_deref().map_or(0, str::len),
    }
}

fn kebab<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// `trace <id> (<n> spans) from <file>`, then one line per span, indented by depth:
/// `agent-step  invoke_agent  ok  2.00 s`, then its facts.
fn print(
    out: &mut impl std::io::Write,
    file: &Path,
    trace: &Trace,
    spans: &[SpanFacts<'_>],
) -> std::io::Result<()> {
    let h = style::HEADER;
    writeln!(
        out,
        "{h}trace {}{h:#} ({} span{}) from {}",
        sanitize(&trace.id),
        spans.len(),
        if spans.len() == 1 { "" } else { "s" },
        file.display()
    )?;
    for span in spans {
        let indent = "  ".repeat(span.depth + 1);
        let duration = match span.end_time_ns {
            Some(end) if end >= span.start_time_ns => {
                format!("  {:.3} s", (end - span.start_time_ns) as f64 / 1e9)
            }
            Some(_) => "  (ends before it starts)".to_string(),
            None => "  (no end time)".to_string(),
        };
        writeln!(
            out,
            "{indent}{}  {}  {}{duration}",
            kebab(&span.kind),
            sanitize(span.name),
            kebab(&span.status),
        )?;
        let mut facts = Vec::new();
        if let Some(model) = span.model {
            facts.push(format!("model {}", sanitize(model)));
        }
        let usage = &span.usage;
        if usage.input.is_some() || usage.output.is_some() || usage.total.is_some() {
            let n = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
            facts.push(format!(
                "tokens {} in, {} out, {} total",
                n(usage.input),
                n(usage.output),
                n(usage.total)
            ));
        }
        if let Some(cost) = span.cost_usd {
            facts.push(format!("cost ${cost}"));
        }
        if !span.finish_reasons.is_empty() {
            let reasons: Vec<String> = span
                .finish_reasons
                .iter()
                .map(|r| sanitize(r).into_owned())
                .collect();
            facts.push(format!("finish {}", reasons.join(", ")));
        }
        if let Some(tool) = &span.tool {
            facts.push(format!("tool {}", sanitize(tool)));
        }
        if let Some(error) = &span.error {
            facts.push(format!("error {}", sanitize(error)));
        }
        facts.push(format!(
            "input {} B, output {} B",
            span.input_len, span.output_len
        ));
        writeln!(out, "{indent}  {}", facts.join("; "))?;
    }
    Ok(())
}
