//! The mirrors of the WIT types plugins return: the same fields, in the same order, with
//! strings and lists left in guest memory. The fixed part each adds to the size is the one
//! the output limit has always counted.

use wasmtime::component::__internal::LiftContext;
use wasmtime::component::{ComponentType, Lift};

use super::memory::{GuestList, GuestStr};
use super::{InGuest, Meter};
use crate::bindings::exporter::ExportFormat;
use crate::bindings::types as wit;

/// `types.plugin-error`: its message.
#[derive(ComponentType, Lift)]
#[component(variant)]
pub(super) enum PluginErrorM {
    #[component(name = "invalid-input")]
    InvalidInput(GuestStr),
    #[component(name = "invalid-config")]
    InvalidConfig(GuestStr),
    #[component(name = "unavailable")]
    Unavailable(GuestStr),
    #[component(name = "failed")]
    Failed(GuestStr),
}

impl PluginErrorM {
    fn message(&self) -> &GuestStr {
        match self {
            Self::InvalidInput(m)
            | Self::InvalidConfig(m)
            | Self::Unavailable(m)
            | Self::Failed(m) => m,
        }
    }
}

impl InGuest for PluginErrorM {
    type Owned = wit::PluginError;

    fn measure(&self, cx: &mut LiftContext<'_>, meter: &mut Meter) -> wasmtime::Result<()> {
        self.message().measure(cx, meter)
    }

    fn copy(&self, cx: &mut LiftContext<'_>) -> wasmtime::Result<wit::PluginError> {
        let m = self.message().copy(cx)?;
        Ok(match self {
            Self::InvalidInput(_) => wit::PluginError::InvalidInput(m),
            Self::InvalidConfig(_) => wit::PluginError::InvalidConfig(m),
            Self::Unavailable(_) => wit::PluginError::Unavailable(m),
            Self::Failed(_) => wit::PluginError::Failed(m),
        })
    }
}

/// `types.metric-value`.
#[derive(ComponentType, Lift)]
#[component(variant)]
pub(super) enum MetricValueM {
    #[component(name = "float")]
    Float(f64),
    #[component(name = "integer")]
    Integer(i64),
    #[component(name = "boolean")]
    Boolean(bool),
    #[component(name = "text")]
    Text(GuestStr),
}

/// `types.metric`: 16 bytes, its name, and its text or 8 bytes for a number.
#[derive(ComponentType, Lift)]
#[component(record)]
pub(super) struct MetricM {
    name: GuestStr,
    value: MetricValueM,
}

impl InGuest for MetricM {
    type Owned = wit::Metric;

    fn measure(&self, cx: &mut LiftContext<'_>, meter: &mut Meter) -> wasmtime::Result<()> {
        meter.add(16);
        self.name.measure(cx, meter)?;
        match &self.value {
            MetricValueM::Text(s) => s.measure(cx, meter),
            _ => {
                meter.add(8);
                Ok(())
            }
        }
    }

    fn copy(&self, cx: &mut LiftContext<'_>) -> wasmtime::Result<wit::Metric> {
        Ok(wit::Metric {
            name: self.name.copy(cx)?,
            value: match &self.value {
                MetricValueM::Float(f) => wit::MetricValue::Float(*f),
                MetricValueM::Integer(i) => wit::MetricValue::Integer(*i),
                MetricValueM::Boolean(b) => wit::MetricValue::Boolean(*b),
                MetricValueM::Text(s) => wit::MetricValue::Text(s.copy(cx)?),
            },
        })
    }
}

/// `types.finding`: 16 bytes and its strings.
#[derive(ComponentType, Lift)]
#[component(record)]
pub(super) struct FindingM {
    #[component(name = "span-id")]
    span_id: Option<GuestStr>,
    message: GuestStr,
}

impl InGuest for FindingM {
    type Owned = wit::Finding;

    fn measure(&self, cx: &mut LiftContext<'_>, meter: &mut Meter) -> wasmtime::Result<()> {
        meter.add(16);
        self.span_id.measure(cx, meter)?;
        self.message.measure(cx, meter)
    }

    fn copy(&self, cx: &mut LiftContext<'_>) -> wasmtime::Result<wit::Finding> {
        Ok(wit::Finding {
            span_id: self.span_id.copy(cx)?,
            message: self.message.copy(cx)?,
        })
    }
}

/// `types.eval-result`: 32 bytes, its strings, metrics and findings.
#[derive(ComponentType, Lift)]
#[component(record)]
pub(super) struct EvalResultM {
    score: f64,
    passed: bool,
    label: Option<GuestStr>,
    explanation: Option<GuestStr>,
    metrics: GuestList<MetricM>,
    findings: GuestList<FindingM>,
}

impl InGuest for EvalResultM {
    type Owned = wit::EvalResult;

    fn measure(&self, cx: &mut LiftContext<'_>, meter: &mut Meter) -> wasmtime::Result<()> {
        meter.add(32);
        self.label.measure(cx, meter)?;
        self.explanation.measure(cx, meter)?;
        self.metrics.measure(cx, meter)?;
        self.findings.measure(cx, meter)
    }

    fn copy(&self, cx: &mut LiftContext<'_>) -> wasmtime::Result<wit::EvalResult> {
        Ok(wit::EvalResult {
            score: self.score,
            passed: self.passed,
            label: self.label.copy(cx)?,
            explanation: self.explanation.copy(cx)?,
            metrics: self.metrics.copy(cx)?,
            findings: self.findings.copy(cx)?,
        })
    }
}

/// `exporter.export-format`: 16 bytes and its strings.
#[derive(ComponentType, Lift)]
#[component(record)]
pub(super) struct ExportFormatM {
    name: GuestStr,
    #[component(name = "media-type")]
    media_type: GuestStr,
    #[component(name = "file-extension")]
    file_extension: GuestStr,
}

impl InGuest for ExportFormatM {
    type Owned = ExportFormat;

    fn measure(&self, cx: &mut LiftContext<'_>, meter: &mut Meter) -> wasmtime::Result<()> {
        meter.add(16);
        self.name.measure(cx, meter)?;
        self.media_type.measure(cx, meter)?;
        self.file_extension.measure(cx, meter)
    }

    fn copy(&self, cx: &mut LiftContext<'_>) -> wasmtime::Result<ExportFormat> {
        Ok(ExportFormat {
            name: self.name.copy(cx)?,
            media_type: self.media_type.copy(cx)?,
            file_extension: self.file_extension.copy(cx)?,
        })
    }
}

/// `types.attribute-value`.
#[derive(ComponentType, Lift)]
#[component(variant)]
pub(super) enum AttributeValueM {
    #[component(name = "text")]
    Text(GuestStr),
    #[component(name = "integer")]
    Integer(i64),
    #[component(name = "float")]
    Float(f64),
    #[component(name = "boolean")]
    Boolean(bool),
    #[component(name = "json")]
    Json(GuestStr),
}

/// `types.attribute`: 16 bytes, its key, and its text or 8 bytes for a number.
#[derive(ComponentType, Lift)]
#[component(record)]
pub(super) struct AttributeM {
    key: GuestStr,
    value: AttributeValueM,
}

impl InGuest for AttributeM {
    type Owned = wit::Attribute;

    fn measure(&self, cx: &mut LiftContext<'_>, meter: &mut Meter) -> wasmtime::Result<()> {
        meter.add(16);
        self.key.measure(cx, meter)?;
        match &self.value {
            AttributeValueM::Text(s) | AttributeValueM::Json(s) => s.measure(cx, meter),
            _ => {
                meter.add(8);
                Ok(())
            }
        }
    }

    fn copy(&self, cx: &mut LiftContext<'_>) -> wasmtime::Result<wit::Attribute> {
        Ok(wit::Attribute {
            key: self.key.copy(cx)?,
            value: match &self.value {
                AttributeValueM::Text(s) => wit::AttributeValue::Text(s.copy(cx)?),
                AttributeValueM::Integer(i) => wit::AttributeValue::Integer(*i),
                AttributeValueM::Float(f) => wit::AttributeValue::Float(*f),
                AttributeValueM::Boolean(b) => wit::AttributeValue::Boolean(*b),
                AttributeValueM::Json(s) => wit::AttributeValue::Json(s.copy(cx)?),
            },
        })
    }
}

/// `types.span`: 96 bytes, its strings and attributes.
#[derive(ComponentType, Lift)]
#[component(record)]
pub(super) struct SpanM {
    id: GuestStr,
    #[component(name = "parent-id")]
    parent_id: Option<GuestStr>,
    name: GuestStr,
    kind: wit::SpanKind,
    status: wit::SpanStatus,
    #[component(name = "status-message")]
    status_message: Option<GuestStr>,
    input: Option<GuestStr>,
    output: Option<GuestStr>,
    model: Option<GuestStr>,
    #[component(name = "start-time-ns")]
    start_time_ns: u64,
    #[component(name = "end-time-ns")]
    end_time_ns: Option<u64>,
    usage: wit::TokenUsage,
    #[component(name = "cost-usd")]
    cost_usd: Option<f64>,
    attributes: GuestList<AttributeM>,
}

impl InGuest for SpanM {
    type Owned = wit::Span;

    fn measure(&self, cx: &mut LiftContext<'_>, meter: &mut Meter) -> wasmtime::Result<()> {
        meter.add(96);
        self.id.measure(cx, meter)?;
        self.parent_id.measure(cx, meter)?;
        self.name.measure(cx, meter)?;
        self.status_message.measure(cx, meter)?;
        self.input.measure(cx, meter)?;
        self.output.measure(cx, meter)?;
        self.model.measure(cx, meter)?;
        self.attributes.measure(cx, meter)
    }

    fn copy(&self, cx: &mut LiftContext<'_>) -> wasmtime::Result<wit::Span> {
        Ok(wit::Span {
            id: self.id.copy(cx)?,
            parent_id: self.parent_id.copy(cx)?,
            name: self.name.copy(cx)?,
            kind: self.kind,
            status: self.status,
            status_message: self.status_message.copy(cx)?,
            input: self.input.copy(cx)?,
            output: self.output.copy(cx)?,
            model: self.model.copy(cx)?,
            start_time_ns: self.start_time_ns,
            end_time_ns: self.end_time_ns,
            usage: self.usage,
            cost_usd: self.cost_usd,
            attributes: self.attributes.copy(cx)?,
        })
    }
}

/// `types.trace-data`: 32 bytes, its strings, attributes and spans.
#[derive(ComponentType, Lift)]
#[component(record)]
pub(super) struct TraceDataM {
    id: GuestStr,
    input: Option<GuestStr>,
    output: Option<GuestStr>,
    attributes: GuestList<AttributeM>,
    spans: GuestList<SpanM>,
}

impl InGuest for TraceDataM {
    type Owned = wit::TraceData;

    fn measure(&self, cx: &mut LiftContext<'_>, meter: &mut Meter) -> wasmtime::Result<()> {
        meter.add(32);
        self.id.measure(cx, meter)?;
        self.input.measure(cx, meter)?;
        self.output.measure(cx, meter)?;
        self.attributes.measure(cx, meter)?;
        self.spans.measure(cx, meter)
    }

    fn copy(&self, cx: &mut LiftContext<'_>) -> wasmtime::Result<wit::TraceData> {
        Ok(wit::TraceData {
            id: self.id.copy(cx)?,
            input: self.input.copy(cx)?,
            output: self.output.copy(cx)?,
            attributes: self.attributes.copy(cx)?,
            spans: self.spans.copy(cx)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::bindings::types as wit;
    use crate::{results, trace};

    /// How many times what the limit counts of a result the host's copy of it may take: the
    /// bindings' structures and the host's, both alive while one is converted into the other,
    /// are larger than the fixed part counted for each record (strings and bytes are copied
    /// once, as counted; vectors add 24 bytes each, one per text the host passed).
    const COPY_FACTOR: usize = 10;

    #[test]
    fn a_copy_takes_at_most_copy_factor_times_what_the_limit_counts() {
        // (record, fixed part counted, bytes of its structures on the host while copied)
        let records = [
            (
                "eval-result",
                32,
                size_of::<wit::EvalResult>() + size_of::<results::EvalResult>(),
            ),
            (
                "metric",
                16,
                size_of::<wit::Metric>() + size_of::<results::Metric>(),
            ),
            (
                "finding",
                16,
                size_of::<wit::Finding>() + size_of::<results::Finding>(),
            ),
            (
                "export-format",
                16,
                size_of::<crate::bindings::exporter::ExportFormat>()
                    + size_of::<results::ExportFormat>(),
            ),
            (
                "attribute",
                16,
                size_of::<wit::Attribute>() + size_of::<trace::Attribute>(),
            ),
            (
                "span",
                96,
                size_of::<wit::Span>() + size_of::<trace::Span>(),
            ),
            (
                "trace-data",
                32,
                size_of::<wit::TraceData>() + size_of::<trace::Trace>(),
            ),
        ];
        for (record, counted, host) in records {
            assert!(
                host <= COPY_FACTOR * counted,
                "{record}: {host} bytes on the host for {counted} counted"
            );
        }
    }
}
