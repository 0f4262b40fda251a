//! [`Transformer`]: rewrites traces (`flowtrace:plugin/transformer`).

use crate::__private::Bridge;
use crate::bindings::exports::flowtrace::sdk::transformer;
use crate::bindings::wit;
use crate::{PluginError, Trace, TraceData};

use super::with_traces;

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

impl<T: Transformer> transformer::Guest for Bridge<T> {
    fn transform(traces: Vec<u32>) -> Result<Vec<wit::TraceData>, wit::PluginError> {
        with_traces(traces, |traces| {
            T::transform(traces)
                .map(|out| out.into_iter().map(TraceData::into_wit).collect())
                .map_err(PluginError::into_wit)
        })
    }
}

/// Export a type implementing [`Transformer`](crate::Transformer) as the plugin: the
/// component then exports `flowtrace:plugin/transformer`. Use it once per plugin, with
/// `kind = "transformer"` in flowtrace.toml.
///
/// ```
/// use flowtrace_plugin_sdk::{export_transformer, PluginError, Trace, TraceData, Transformer};
///
/// struct Identity;
///
/// impl Transformer for Identity {
///     fn transform(traces: &[Trace<'_>]) -> Result<Vec<TraceData>, PluginError> {
///         Ok(traces.iter().map(|t| t.to_data()).collect())
///     }
/// }
///
/// export_transformer!(Identity);
/// ```
#[macro_export]
macro_rules! export_transformer {
    ($ty:ty) => {
        $crate::__export_kind! {
            $ty,
            Transformer,
            transformer,
            TRANSFORMER,
            "component-type:flowtrace-plugin-sdk:transformer-plugin";

            #[unsafe(export_name = "flowtrace:plugin/transformer@0.1.0#transform")]
            unsafe extern "C" fn transform(a0: *mut u8, a1: usize) -> *mut u8 {
                unsafe { e::_export_transform_cabi::<Bridge>(a0, a1) }
            }
            #[unsafe(export_name = "cabi_post_flowtrace:plugin/transformer@0.1.0#transform")]
            unsafe extern "C" fn post_transform(a0: *mut u8) {
                unsafe { e::__post_return_transform::<Bridge>(a0) }
            }
        }
    };
}
