//! The contract evaluator: reports every fact it can read of a trace as metrics, findings
//! and an explanation, in a fixed order. The Python and TypeScript ones do exactly the same;
//! the rules are in the README's "Contract suite" section.

use flowtrace_plugin_sdk::{
    config, export_evaluator, AttributeValue, EvalResult, Evaluator, MetricValue, PluginError,
    SpanStatus, Trace,
};

struct Plugin;

/// The traces this instance has evaluated: every trace has an instance of its own, so 1.
static EVALUATIONS: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// An attribute value as a metric value: `json` becomes text with a `json:` prefix.
fn typed(value: AttributeValue) -> MetricValue {
    match value {
        AttributeValue::Text(s) => MetricValue::Text(s),
        AttributeValue::Integer(i) => MetricValue::Integer(i),
        AttributeValue::Float(f) => MetricValue::Float(f),
        AttributeValue::Boolean(b) => MetricValue::Boolean(b),
        AttributeValue::Json(s) => MetricValue::Text(format!("json:{s}")),
    }
}

impl Evaluator for Plugin {
    fn evaluate(trace: &Trace<'_>) -> Result<EvalResult, PluginError> {
        let label: String = config::get("label")?;
        let scale: i64 = config::get("scale")?;
        let weight: f64 = config::get("weight")?;
        let strict: bool = config::get("strict")?;
        let tags: Vec<String> = config::get("tags")?;
        let detail: i64 = config::get("detail")?;
        let pad: i64 = config::get("pad")?;

        let mut m: Vec<(String, MetricValue)> = vec![
            ("config.label".into(), MetricValue::Text(label.clone())),
            ("config.scale".into(), MetricValue::Integer(scale)),
            ("config.weight".into(), MetricValue::Float(weight)),
            ("config.strict".into(), MetricValue::Boolean(strict)),
            ("config.tags".into(), MetricValue::Text(tags.join("|"))),
            (
                "config.tag-count".into(),
                MetricValue::Integer(tags.len() as i64),
            ),
        ];
        let evaluations = EVALUATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        m.push((
            "instance.evaluations".into(),
            MetricValue::Integer(evaluations),
        ));
        let id = trace.id();
        let count = trace.span_count();
        m.push(("trace.id".into(), MetricValue::Text(id.clone())));
        m.push((
            "trace.span-count".into(),
            MetricValue::Integer(count.into()),
        ));
        if let Some(input) = trace.input() {
            m.push(("trace.input".into(), MetricValue::Text(input)));
        }
        if let Some(output) = trace.output() {
            m.push(("trace.output".into(), MetricValue::Text(output)));
        }
        for a in trace.attributes() {
            m.push((format!("trace.attr.{}", a.key), typed(a.value)));
        }

        // Aggregates over every span, from the span facts alone.
        let infos = trace.infos();
        let kinds = [
            "llm-call",
            "tool-call",
            "retrieval",
            "agent-step",
            "embedding",
            "custom",
        ];
        for kind in kinds {
            let n = infos.iter().filter(|i| i.kind.as_str() == kind).count();
            m.push((format!("spans.{kind}"), MetricValue::Integer(n as i64)));
        }
        for status in ["unset", "ok", "error"] {
            let n = infos.iter().filter(|i| i.status.as_str() == status).count();
            m.push((format!("spans.{status}"), MetricValue::Integer(n as i64)));
        }
        let sum = |f: &dyn Fn(&flowtrace_plugin_sdk::SpanInfo) -> Option<u64>| -> String {
            infos
                .iter()
                .filter_map(f)
                .map(u128::from)
                .sum::<u128>()
                .to_string()
        };
        m.push((
            "tokens.input".into(),
            MetricValue::Text(sum(&|i| i.usage.input)),
        ));
        m.push((
            "tokens.output".into(),
            MetricValue::Text(sum(&|i| i.usage.output)),
        ));
        m.push((
            "tokens.total".into(),
            MetricValue::Text(sum(&|i| i.usage.total)),
        ));
        let durations = sum(&|i| i.end_time_ns.and_then(|e| e.checked_sub(i.start_time_ns)));
        m.push(("durations".into(), MetricValue::Text(durations)));
        let cost: f64 = infos
            .iter()
            .filter_map(|i| i.cost_usd)
            .fold(0.0, |a, c| a + c);
        m.push(("cost.sum".into(), MetricValue::Float(cost)));
        let lens = |f: &dyn Fn(&flowtrace_plugin_sdk::SpanInfo) -> u32| -> MetricValue {
            MetricValue::Integer(infos.iter().map(|i| i64::from(f(i))).sum())
        };
        m.push(("len.input".into(), lens(&|i| i.input_len)));
        m.push(("len.output".into(), lens(&|i| i.output_len)));
        m.push(("len.attributes".into(), lens(&|i| i.attribute_count)));
        let roots = infos.iter().filter(|i| i.parent.is_none()).count();
        m.push(("roots".into(), MetricValue::Integer(roots as i64)));

        // Every fact of the first `detail` spans, each string read on its own.
        let mut result = EvalResult::new(if count == 0 { 1.0 } else { 0.5 }, true);
        let shown = detail.clamp(0, i64::from(count)) as u32;
        for span in trace.spans().take(shown as usize) {
            let p = format!("span.{}.", span.index());
            let info = span.info();
            m.push((
                p.clone() + "kind",
                MetricValue::Text(info.kind.as_str().into()),
            ));
            m.push((
                p.clone() + "status",
                MetricValue::Text(info.status.as_str().into()),
            ));
            if let Some(parent) = info.parent {
                m.push((p.clone() + "parent", MetricValue::Integer(parent.into())));
            }
            m.push((
                p.clone() + "start",
                MetricValue::Text(info.start_time_ns.to_string()),
            ));
            if let Some(end) = info.end_time_ns {
                m.push((p.clone() + "end", MetricValue::Text(end.to_string())));
            }
            let usage = [
                ("input-tokens", info.usage.input),
                ("output-tokens", info.usage.output),
                ("total-tokens", info.usage.total),
            ];
            for (name, tokens) in usage {
                if let Some(t) = tokens {
                    m.push((p.clone() + name, MetricValue::Text(t.to_string())));
                }
            }
            if let Some(cost) = info.cost_usd {
                m.push((p.clone() + "cost", MetricValue::Float(cost)));
            }
            m.push((
                p.clone() + "input-len",
                MetricValue::Integer(info.input_len.into()),
            ));
            m.push((
                p.clone() + "output-len",
                MetricValue::Integer(info.output_len.into()),
            ));
            m.push((
                p.clone() + "attr-count",
                MetricValue::Integer(info.attribute_count.into()),
            ));
            let span_id = span.id();
            m.push((p.clone() + "id", MetricValue::Text(span_id.clone())));
            m.push((p.clone() + "name", MetricValue::Text(span.name())));
            let texts = [
                ("model", span.model()),
                ("input", span.input()),
                ("output", span.output()),
                ("status-message", span.status_message()),
            ];
            for (name, text) in texts {
                if let Some(t) = text {
                    m.push((p.clone() + name, MetricValue::Text(t)));
                }
            }
            for a in span.attributes() {
                m.push((format!("{p}attr.{}", a.key), typed(a.value)));
            }
            let probe = span.attribute("probe");
            m.push((
                p.clone() + "probe-found",
                MetricValue::Boolean(probe.is_some()),
            ));
            if let Some(value) = probe {
                m.push((p.clone() + "probe", typed(value)));
            }
            if info.status == SpanStatus::Error {
                let why = span.status_message().unwrap_or_else(|| "no message".into());
                result = result.span_finding(span_id, why);
                result.passed = false;
            }
        }
        result = result.finding(format!("{count} spans, {shown} shown"));
        result.label = Some(label);
        result.explanation = Some(format!("trace {id}{}", "~".repeat(pad.max(0) as usize)));
        for (name, value) in m {
            result = result.metric(name, value);
        }
        Ok(result)
    }
}

export_evaluator!(Plugin);
