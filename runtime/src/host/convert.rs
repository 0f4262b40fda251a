//! Conversions between the host's model and the generated WIT types.

use crate::bindings::types as wit;
use crate::results::{EvalResult, Finding, Metric, MetricValue, PluginError};
use crate::trace::{
    Attribute, AttributeValue, Message, MessageDirection, Span, SpanKind, SpanStatus, TokenUsage,
    ToolCall, Trace,
};

pub(crate) fn span_kind(k: SpanKind) -> wit::SpanKind {
    match k {
        SpanKind::LlmCall => wit::SpanKind::LlmCall,
        SpanKind::ToolCall => wit::SpanKind::ToolCall,
        SpanKind::Retrieval => wit::SpanKind::Retrieval,
        SpanKind::AgentStep => wit::SpanKind::AgentStep,
        SpanKind::Embedding => wit::SpanKind::Embedding,
        SpanKind::Custom => wit::SpanKind::Custom,
    }
}

pub(crate) fn span_kind_from_wit(k: wit::SpanKind) -> SpanKind {
    match k {
        wit::SpanKind::LlmCall => SpanKind::LlmCall,
        wit::SpanKind::ToolCall => SpanKind::ToolCall,
        wit::SpanKind::Retrieval => SpanKind::Retrieval,
        wit::SpanKind::AgentStep => SpanKind::AgentStep,
        wit::SpanKind::Embedding => SpanKind::Embedding,
        wit::SpanKind::Custom => SpanKind::Custom,
    }
}

fn status(s: SpanStatus) -> wit::SpanStatus {
    match s {
        SpanStatus::Unset => wit::SpanStatus::Unset,
        SpanStatus::Ok => wit::SpanStatus::Ok,
        SpanStatus::Error => wit::SpanStatus::Error,
    }
}

fn status_from_wit(s: wit::SpanStatus) -> SpanStatus {
    match s {
        wit::SpanStatus::Unset => SpanStatus::Unset,
        wit::SpanStatus::Ok => SpanStatus::Ok,
        wit::SpanStatus::Error => SpanStatus::Error,
    }
}

pub(crate) fn attribute_value(v: &AttributeValue) -> wit::AttributeValue {
    match v {
        AttributeValue::Text(s) => wit::AttributeValue::Text(s.clone()),
        AttributeValue::Integer(i) => wit::AttributeValue::Integer(*i),
        AttributeValue::Float(f) => wit::AttributeValue::Float(*f),
        AttributeValue::Boolean(b) => wit::AttributeValue::Boolean(*b),
        AttributeValue::Json(s) => wit::AttributeValue::Json(s.clone()),
    }
}

fn attribute_value_from_wit(v: wit::AttributeValue) -> AttributeValue {
    match v {
        wit::AttributeValue::Text(s) => AttributeValue::Text(s),
        wit::AttributeValue::Integer(i) => AttributeValue::Integer(i),
        wit::AttributeValue::Float(f) => AttributeValue::Float(f),
        wit::AttributeValue::Boolean(b) => AttributeValue::Boolean(b),
        wit::AttributeValue::Json(s) => AttributeValue::Json(s),
    }
}

pub(crate) fn attributes(attrs: &[Attribute]) -> Vec<wit::Attribute> {
    attrs
        .iter()
        .map(|a| wit::Attribute {
            key: a.key.clone(),
            value: attribute_value(&a.value),
        })
        .collect()
}

fn attributes_from_wit(attrs: Vec<wit::Attribute>) -> Vec<Attribute> {
    attrs
        .into_iter()
        .map(|a| Attribute {
            key: a.key,
            value: attribute_value_from_wit(a.value),
        })
        .collect()
}

fn usage(u: &TokenUsage) -> wit::TokenUsage {
    wit::TokenUsage {
        input: u.input,
        output: u.output,
        total: u.total,
    }
}

fn len32(s: &Option<String>) -> u32 {
    s.as_ref()
        .map_or(0, |s| u32::try_from(s.len()).unwrap_or(u32::MAX))
}

pub(crate) fn span_info(s: &Span, parent: Option<u32>) -> wit::SpanInfo {
    wit::SpanInfo {
        kind: span_kind(s.kind),
        status: status(s.status),
        parent,
        start_time_ns: s.start_time_ns,
        end_time_ns: s.end_time_ns,
        usage: usage(&s.usage),
        cost_usd: s.cost_usd,
        input_len: len32(&s.input),
        output_len: len32(&s.output),
        attribute_count: u32::try_from(s.attributes.len()).unwrap_or(u32::MAX),
    }
}

pub(crate) fn message_direction(d: wit::MessageDirection) -> MessageDirection {
    match d {
        wit::MessageDirection::Input => MessageDirection::Input,
        wit::MessageDirection::Output => MessageDirection::Output,
    }
}

pub(crate) fn tool_call(c: ToolCall) -> wit::ToolCall {
    wit::ToolCall {
        id: c.id,
        name: c.name,
        arguments: c.arguments,
        result: c.result,
    }
}

pub(crate) fn message(m: Message) -> wit::Message {
    wit::Message {
        role: m.role,
        content: m.content,
        tool_calls: m.tool_calls.into_iter().map(tool_call).collect(),
        tool_call_id: m.tool_call_id,
        finish_reason: m.finish_reason,
    }
}

pub(crate) fn span(s: &Span) -> wit::Span {
    wit::Span {
        id: s.id.clone(),
        parent_id: s.parent_id.clone(),
        name: s.name.clone(),
        kind: span_kind(s.kind),
        status: status(s.status),
        status_message: s.status_message.clone(),
        input: s.input.clone(),
        output: s.output.clone(),
        model: s.model.clone(),
        start_time_ns: s.start_time_ns,
        end_time_ns: s.end_time_ns,
        usage: usage(&s.usage),
        cost_usd: s.cost_usd,
        attributes: attributes(&s.attributes),
    }
}

pub(crate) fn trace_data(t: &Trace) -> wit::TraceData {
    wit::TraceData {
        id: t.id.clone(),
        input: t.input.clone(),
        output: t.output.clone(),
        attributes: attributes(&t.attributes),
        spans: t.spans.iter().map(span).collect(),
    }
}

pub(crate) fn trace_from_wit(t: wit::TraceData) -> Trace {
    Trace {
        id: t.id,
        input: t.input,
        output: t.output,
        attributes: attributes_from_wit(t.attributes),
        spans: t
            .spans
            .into_iter()
            .map(|s| Span {
                id: s.id,
                parent_id: s.parent_id,
                name: s.name,
                kind: span_kind_from_wit(s.kind),
                status: status_from_wit(s.status),
                status_message: s.status_message,
                input: s.input,
                output: s.output,
                model: s.model,
                start_time_ns: s.start_time_ns,
                end_time_ns: s.end_time_ns,
                usage: TokenUsage {
                    input: s.usage.input,
                    output: s.usage.output,
                    total: s.usage.total,
                },
                cost_usd: s.cost_usd,
                attributes: attributes_from_wit(s.attributes),
            })
            .collect(),
    }
}

pub(crate) fn eval_result(r: wit::EvalResult) -> EvalResult {
    EvalResult {
        score: r.score,
        passed: r.passed,
        label: r.label,
        explanation: r.explanation,
        metrics: r
            .metrics
            .into_iter()
            .map(|m| Metric {
                name: m.name,
                value: match m.value {
                    wit::MetricValue::Float(f) => MetricValue::Float(f),
                    wit::MetricValue::Integer(i) => MetricValue::Integer(i),
                    wit::MetricValue::Boolean(b) => MetricValue::Boolean(b),
                    wit::MetricValue::Text(s) => MetricValue::Text(s),
                },
            })
            .collect(),
        findings: r
            .findings
            .into_iter()
            .map(|f| Finding {
                span_id: f.span_id,
                message: f.message,
            })
            .collect(),
    }
}

pub(crate) fn plugin_error(e: wit::PluginError) -> PluginError {
    match e {
        wit::PluginError::InvalidInput(m) => PluginError::InvalidInput(m),
        wit::PluginError::InvalidConfig(m) => PluginError::InvalidConfig(m),
        wit::PluginError::Unavailable(m) => PluginError::Unavailable(m),
        wit::PluginError::Failed(m) => PluginError::Failed(m),
    }
}

pub(crate) fn plugin_error_to_wit(e: PluginError) -> wit::PluginError {
    match e {
        PluginError::InvalidInput(m) => wit::PluginError::InvalidInput(m),
        PluginError::InvalidConfig(m) => wit::PluginError::InvalidConfig(m),
        PluginError::Unavailable(m) => wit::PluginError::Unavailable(m),
        PluginError::Failed(m) => wit::PluginError::Failed(m),
    }
}
