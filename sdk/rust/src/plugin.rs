//! One trait per plugin kind. A plugin is a type (usually a unit struct), one impl of its
//! kind's trait, and the matching export macro.
//!
//! Each call from the host runs in a fresh instance of the plugin, so there is no state
//! between calls: the trait methods take no `self`.

use crate::{EvalResult, PluginError, Trace, TraceData};

/// Scores traces. Export with [`export_evaluator!`](crate::export_evaluator!).
///
/// ```
/// use flowtrace_plugin_sdk::{export_evaluator, EvalResult, Evaluator, PluginError, SpanStatus, Trace};
///
/// struct NoErrors;
///
/// impl Evaluator for NoErrors {
///     fn evaluate(trace: &Trace<'_>) -> Result<EvalResult, PluginError> {
///         let errors = trace.spans().filter(|s| s.status() == SpanStatus::Error).count();
///         let result = if errors == 0 { EvalResult::pass(1.0) } else { EvalResult::fail(0.0) };
///         Ok(result.metric("errors", errors))
///     }
/// }
///
/// export_evaluator!(NoErrors);
/// ```
pub trait Evaluator {
    /// Score one trace.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::{EvalResult, Evaluator, PluginError, Trace};
    /// struct AlwaysPass;
    /// impl Evaluator for AlwaysPass {
    ///     fn evaluate(_trace: &Trace<'_>) -> Result<EvalResult, PluginError> {
    ///         Ok(EvalResult::pass(1.0).label("ok"))
    ///     }
    /// }
    /// ```
    fn evaluate(trace: &Trace<'_>) -> Result<EvalResult, PluginError>;

    /// Score several traces, one result per trace, in order. The default calls
    /// [`evaluate`](Self::evaluate) for each; override it to share work across traces.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::{EvalResult, Evaluator, PluginError, Trace};
    /// struct Batched;
    /// impl Evaluator for Batched {
    ///     fn evaluate(trace: &Trace<'_>) -> Result<EvalResult, PluginError> {
    ///         Ok(EvalResult::pass(1.0))
    ///     }
    ///     fn evaluate_batch(traces: &[Trace<'_>]) -> Vec<Result<EvalResult, PluginError>> {
    ///         traces.iter().map(Self::evaluate).collect()
    ///     }
    /// }
    /// ```
    fn evaluate_batch(traces: &[Trace<'_>]) -> Vec<Result<EvalResult, PluginError>> {
        traces.iter().map(Self::evaluate).collect()
    }
}

/// A format an exporter writes.
///
/// ```
/// use flowtrace_plugin_sdk::ExportFormat;
///
/// let jsonl = ExportFormat::new("jsonl", "application/x-ndjson", "jsonl");
/// assert_eq!(jsonl.name, "jsonl");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportFormat {
    /// Short name passed back to [`Exporter::export_traces`], e.g. `jsonl`.
    pub name: String,
    /// The media type of the output, e.g. `application/x-ndjson`.
    pub media_type: String,
    /// The file extension, without the dot, e.g. `jsonl`.
    pub file_extension: String,
}

impl ExportFormat {
    /// A format from its name, media type and file extension.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::ExportFormat;
    /// let csv = ExportFormat::new("csv", "text/csv", "csv");
    /// ```
    pub fn new(
        name: impl Into<String>,
        media_type: impl Into<String>,
        file_extension: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            media_type: media_type.into(),
            file_extension: file_extension.into(),
        }
    }
}

/// Writes traces in another format. Export with
/// [`export_exporter!`](crate::export_exporter!).
///
/// ```
/// use flowtrace_plugin_sdk::{export_exporter, ExportFormat, Exporter, PluginError, Trace};
///
/// struct SpanCount;
///
/// impl Exporter for SpanCount {
///     fn formats() -> Vec<ExportFormat> {
///         vec![ExportFormat::new("count", "text/plain", "txt")]
///     }
///
///     fn export_traces(format: &str, traces: &[Trace<'_>]) -> Result<Vec<u8>, PluginError> {
///         if format != "count" {
///             return Err(PluginError::invalid_input(format_args!("unknown format `{format}`")));
///         }
///         let lines: String = traces.iter().map(|t| format!("{} {}\n", t.id(), t.span_count())).collect();
///         Ok(lines.into_bytes())
///     }
/// }
///
/// export_exporter!(SpanCount);
/// ```
pub trait Exporter {
    /// The formats this exporter writes.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::{ExportFormat, Exporter, PluginError, Trace};
    /// # struct Csv;
    /// impl Exporter for Csv {
    ///     fn formats() -> Vec<ExportFormat> {
    ///         vec![ExportFormat::new("csv", "text/csv", "csv")]
    ///     }
    /// #   fn export_traces(_: &str, _: &[Trace<'_>]) -> Result<Vec<u8>, PluginError> { Ok(vec![]) }
    /// }
    /// ```
    fn formats() -> Vec<ExportFormat>;

    /// Write `traces` in `format` (one of the names from [`formats`](Self::formats)).
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::{ExportFormat, Exporter, PluginError, Trace};
    /// # struct Ids;
    /// impl Exporter for Ids {
    /// #   fn formats() -> Vec<ExportFormat> { vec![] }
    ///     fn export_traces(_format: &str, traces: &[Trace<'_>]) -> Result<Vec<u8>, PluginError> {
    ///         Ok(traces.iter().map(|t| t.id() + "\n").collect::<String>().into_bytes())
    ///     }
    /// }
    /// ```
    fn export_traces(format: &str, traces: &[Trace<'_>]) -> Result<Vec<u8>, PluginError>;
}

/// Turns texts into vectors. Export with [`export_embedder!`](crate::export_embedder!).
///
/// The SDK checks what [`embed`](Self::embed) returns: one vector per text, each of
/// [`dimension`](Self::dimension) numbers; anything else becomes a
/// [`PluginError::Failed`] saying what was wrong.
///
/// ```
/// use flowtrace_plugin_sdk::{export_embedder, Embedder, PluginError};
///
/// struct Lengths;
///
/// impl Embedder for Lengths {
///     fn dimension() -> u32 {
///         1
///     }
///
///     fn embed(texts: Vec<String>) -> Result<Vec<Vec<f32>>, PluginError> {
///         Ok(texts.iter().map(|t| vec![t.len() as f32]).collect())
///     }
/// }
///
/// export_embedder!(Lengths);
/// ```
pub trait Embedder {
    /// Dimension of the vectors [`embed`](Self::embed) returns.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::{Embedder, PluginError};
    /// # struct MiniLm;
    /// impl Embedder for MiniLm {
    ///     fn dimension() -> u32 {
    ///         384
    ///     }
    /// #   fn embed(t: Vec<String>) -> Result<Vec<Vec<f32>>, PluginError> { Ok(vec![]) }
    /// }
    /// ```
    fn dimension() -> u32;

    /// One vector per text, in order.
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::{Embedder, PluginError};
    /// # struct Zeros;
    /// impl Embedder for Zeros {
    /// #   fn dimension() -> u32 { 4 }
    ///     fn embed(texts: Vec<String>) -> Result<Vec<Vec<f32>>, PluginError> {
    ///         Ok(texts.iter().map(|_| vec![0.0; 4]).collect())
    ///     }
    /// }
    /// ```
    fn embed(texts: Vec<String>) -> Result<Vec<Vec<f32>>, PluginError>;
}

/// Rewrites traces (redaction, enrichment, sampling). Export with
/// [`export_transformer!`](crate::export_transformer!).
///
/// ```
/// use flowtrace_plugin_sdk::{export_transformer, PluginError, Trace, TraceData, Transformer};
///
/// /// Drops every input and output.
/// struct StripContent;
///
/// impl Transformer for StripContent {
///     fn transform(traces: &[Trace<'_>]) -> Result<Vec<TraceData>, PluginError> {
///         Ok(traces
///             .iter()
///             .map(|trace| {
///                 let mut data = trace.to_data();
///                 for span in &mut data.spans {
///                     span.input = None;
///                     span.output = None;
///                 }
///                 data
///             })
///             .collect())
///     }
/// }
///
/// export_transformer!(StripContent);
/// ```
pub trait Transformer {
    /// The rewritten traces; a trace left out is dropped (sampling).
    ///
    /// ```
    /// # use flowtrace_plugin_sdk::{PluginError, SpanStatus, Trace, TraceData, Transformer};
    /// # struct KeepErrors;
    /// impl Transformer for KeepErrors {
    ///     fn transform(traces: &[Trace<'_>]) -> Result<Vec<TraceData>, PluginError> {
    ///         Ok(traces
    ///             .iter()
    ///             .filter(|t| t.spans().any(|s| s.status() == SpanStatus::Error))
    ///             .map(|t| t.to_data())
    ///             .collect())
    ///     }
    /// }
    /// ```
    fn transform(traces: &[Trace<'_>]) -> Result<Vec<TraceData>, PluginError>;
}
