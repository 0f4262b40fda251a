//! [`Exporter`]: writes traces in another format (`flowtrace:plugin/exporter`).

use crate::__private::Bridge;
use crate::bindings::exports::flowtrace::sdk::exporter;
use crate::bindings::wit;
use crate::{PluginError, Trace};

use super::with_traces;

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

impl<T: Exporter> exporter::Guest for Bridge<T> {
    fn formats() -> Vec<exporter::ExportFormat> {
        T::formats()
            .into_iter()
            .map(|f| exporter::ExportFormat {
                name: f.name,
                media_type: f.media_type,
                file_extension: f.file_extension,
            })
            .collect()
    }

    fn export_traces(format: String, traces: Vec<u32>) -> Result<Vec<u8>, wit::PluginError> {
        with_traces(traces, |traces| {
            T::export_traces(&format, traces).map_err(PluginError::into_wit)
        })
    }
}

/// Export a type implementing [`Exporter`](crate::Exporter) as the plugin: the component
/// then exports `flowtrace:plugin/exporter`. Use it once per plugin, with
/// `kind = "exporter"` in flowtrace.toml.
///
/// ```
/// use flowtrace_plugin_sdk::{export_exporter, ExportFormat, Exporter, PluginError, Trace};
///
/// struct Ids;
///
/// impl Exporter for Ids {
///     fn formats() -> Vec<ExportFormat> {
///         vec![ExportFormat::new("ids", "text/plain", "txt")]
///     }
///     fn export_traces(_format: &str, traces: &[Trace<'_>]) -> Result<Vec<u8>, PluginError> {
///         Ok(traces.iter().map(|t| t.id() + "\n").collect::<String>().into_bytes())
///     }
/// }
///
/// export_exporter!(Ids);
/// ```
#[macro_export]
macro_rules! export_exporter {
    ($ty:ty) => {
        $crate::__export_kind! {
            $ty,
            Exporter,
            exporter,
            EXPORTER,
            "component-type:flowtrace-plugin-sdk:exporter-plugin";

            #[unsafe(export_name = "flowtrace:plugin/exporter@0.1.0#formats")]
            unsafe extern "C" fn formats() -> *mut u8 {
                unsafe { e::_export_formats_cabi::<Bridge>() }
            }
            #[unsafe(export_name = "cabi_post_flowtrace:plugin/exporter@0.1.0#formats")]
            unsafe extern "C" fn post_formats(a0: *mut u8) {
                unsafe { e::__post_return_formats::<Bridge>(a0) }
            }
            #[unsafe(export_name = "flowtrace:plugin/exporter@0.1.0#export-traces")]
            unsafe extern "C" fn export_traces(
                a0: *mut u8,
                a1: usize,
                a2: *mut u8,
                a3: usize,
            ) -> *mut u8 {
                unsafe { e::_export_export_traces_cabi::<Bridge>(a0, a1, a2, a3) }
            }
            #[unsafe(export_name = "cabi_post_flowtrace:plugin/exporter@0.1.0#export-traces")]
            unsafe extern "C" fn post_export_traces(a0: *mut u8) {
                unsafe { e::__post_return_export_traces::<Bridge>(a0) }
            }
        }
    };
}
