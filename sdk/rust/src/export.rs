//! The export macros, and the bridge from the SDK's traits to the generated bindings.
//!
//! Each macro defines the component's exported functions (the names of the contract's
//! plugin interface) and embeds the type of the kind's world from `wit/`, so only the
//! exports of the kind the plugin chose are required of it.

use std::marker::PhantomData;

use crate::bindings::exports::flowtrace::sdk::{embedder, evaluator, exporter, transformer};
use crate::bindings::wit;
use crate::{
    Embedder, EvalResult, Evaluator, Exporter, PluginError, Trace, TraceData, Transformer,
};

/// Implements the generated `Guest` traits for any implementor of the SDK's traits.
#[doc(hidden)]
pub struct Bridge<T>(PhantomData<T>);

/// Take the borrowed trace handles of a `list<borrow<trace>>` argument (declared
/// `list<u32>` in the shim). Dropping each one ends its borrow, as the canonical ABI
/// requires before the call returns: exactly what wit-bindgen does for one `borrow<trace>`.
fn adopt(handles: Vec<u32>) -> Vec<wit::Trace> {
    handles
        .into_iter()
        // SAFETY: each handle is a borrow of a `trace` the host lent for this call, and
        // is used and dropped once, within the call.
        .map(|h| unsafe { wit::Trace::from_handle(h) })
        .collect()
}

fn eval(result: Result<EvalResult, PluginError>) -> Result<wit::EvalResult, wit::PluginError> {
    result
        .map(EvalResult::into_wit)
        .map_err(PluginError::into_wit)
}

impl<T: Evaluator> evaluator::Guest for Bridge<T> {
    fn evaluate(trace: &wit::Trace) -> Result<wit::EvalResult, wit::PluginError> {
        eval(T::evaluate(&Trace::borrowed(trace)))
    }

    fn evaluate_batch(traces: Vec<u32>) -> Vec<Result<wit::EvalResult, wit::PluginError>> {
        let raw = adopt(traces);
        let traces: Vec<Trace<'_>> = raw.iter().map(Trace::borrowed).collect();
        T::evaluate_batch(&traces).into_iter().map(eval).collect()
    }
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
        let raw = adopt(traces);
        let traces: Vec<Trace<'_>> = raw.iter().map(Trace::borrowed).collect();
        T::export_traces(&format, &traces).map_err(PluginError::into_wit)
    }
}

impl<T: Embedder> embedder::Guest for Bridge<T> {
    fn dimension() -> u32 {
        T::dimension()
    }

    fn embed(texts: Vec<String>) -> Result<Vec<Vec<f32>>, wit::PluginError> {
        let count = texts.len();
        let vectors = T::embed(texts).map_err(PluginError::into_wit)?;
        check_vectors(&vectors, count, T::dimension()).map_err(PluginError::into_wit)?;
        Ok(vectors)
    }
}

fn check_vectors(vectors: &[Vec<f32>], count: usize, dimension: u32) -> Result<(), PluginError> {
    if vectors.len() != count {
        return Err(PluginError::failed(format_args!(
            "`embed` returned {} vectors for {count} texts",
            vectors.len()
        )));
    }
    match vectors.iter().position(|v| v.len() != dimension as usize) {
        Some(i) => Err(PluginError::failed(format_args!(
            "`embed` returned a vector of {} numbers at {i}, `dimension` is {dimension}",
            vectors[i].len()
        ))),
        None => Ok(()),
    }
}

impl<T: Transformer> transformer::Guest for Bridge<T> {
    fn transform(traces: Vec<u32>) -> Result<Vec<wit::TraceData>, wit::PluginError> {
        let raw = adopt(traces);
        let traces: Vec<Trace<'_>> = raw.iter().map(Trace::borrowed).collect();
        T::transform(&traces)
            .map(|out| out.into_iter().map(TraceData::into_wit).collect())
            .map_err(PluginError::into_wit)
    }
}

/// Export a type implementing [`Evaluator`](crate::Evaluator) as the plugin: the
/// component then exports `flowtrace:plugin/evaluator`. Use it once per plugin, at the top
/// level of the crate, with `kind = "evaluator"` in flowtrace.toml.
///
/// ```
/// use flowtrace_plugin_sdk::{export_evaluator, EvalResult, Evaluator, PluginError, Trace};
///
/// struct HasSpans;
///
/// impl Evaluator for HasSpans {
///     fn evaluate(trace: &Trace<'_>) -> Result<EvalResult, PluginError> {
///         Ok(EvalResult::new(1.0, trace.span_count() > 0))
///     }
/// }
///
/// export_evaluator!(HasSpans);
/// ```
#[macro_export]
macro_rules! export_evaluator {
    ($ty:ty) => {
        const _: () = {
            type Bridge = $crate::__private::Bridge<$ty>;
            use $crate::__private::evaluator as e;

            const _: fn() = || $crate::__private::assert_evaluator::<$ty>();

            #[unsafe(export_name = "flowtrace:plugin/evaluator@0.1.0#evaluate")]
            unsafe extern "C" fn evaluate(a0: i32) -> *mut u8 {
                unsafe { e::_export_evaluate_cabi::<Bridge>(a0) }
            }
            #[unsafe(export_name = "cabi_post_flowtrace:plugin/evaluator@0.1.0#evaluate")]
            unsafe extern "C" fn post_evaluate(a0: *mut u8) {
                unsafe { e::__post_return_evaluate::<Bridge>(a0) }
            }
            #[unsafe(export_name = "flowtrace:plugin/evaluator@0.1.0#evaluate-batch")]
            unsafe extern "C" fn evaluate_batch(a0: *mut u8, a1: usize) -> *mut u8 {
                unsafe { e::_export_evaluate_batch_cabi::<Bridge>(a0, a1) }
            }
            #[unsafe(export_name = "cabi_post_flowtrace:plugin/evaluator@0.1.0#evaluate-batch")]
            unsafe extern "C" fn post_evaluate_batch(a0: *mut u8) {
                unsafe { e::__post_return_evaluate_batch::<Bridge>(a0) }
            }

            #[cfg(target_arch = "wasm32")]
            #[unsafe(link_section = "component-type:flowtrace-plugin-sdk:evaluator-plugin")]
            #[used]
            static COMPONENT_TYPE: [u8; $crate::__private::EVALUATOR.len()] =
                $crate::__private::EVALUATOR;
        };
    };
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
        const _: () = {
            type Bridge = $crate::__private::Bridge<$ty>;
            use $crate::__private::exporter as e;

            const _: fn() = || $crate::__private::assert_exporter::<$ty>();

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

            #[cfg(target_arch = "wasm32")]
            #[unsafe(link_section = "component-type:flowtrace-plugin-sdk:exporter-plugin")]
            #[used]
            static COMPONENT_TYPE: [u8; $crate::__private::EXPORTER.len()] =
                $crate::__private::EXPORTER;
        };
    };
}

/// Export a type implementing [`Embedder`](crate::Embedder) as the plugin: the component
/// then exports `flowtrace:plugin/embedder`. Use it once per plugin, with
/// `kind = "embedder"` in flowtrace.toml.
///
/// ```
/// use flowtrace_plugin_sdk::{export_embedder, Embedder, PluginError};
///
/// struct Constant;
///
/// impl Embedder for Constant {
///     fn dimension() -> u32 {
///         2
///     }
///     fn embed(texts: Vec<String>) -> Result<Vec<Vec<f32>>, PluginError> {
///         Ok(texts.iter().map(|_| vec![1.0, 0.0]).collect())
///     }
/// }
///
/// export_embedder!(Constant);
/// ```
#[macro_export]
macro_rules! export_embedder {
    ($ty:ty) => {
        const _: () = {
            type Bridge = $crate::__private::Bridge<$ty>;
            use $crate::__private::embedder as e;

            const _: fn() = || $crate::__private::assert_embedder::<$ty>();

            #[unsafe(export_name = "flowtrace:plugin/embedder@0.1.0#dimension")]
            unsafe extern "C" fn dimension() -> i32 {
                unsafe { e::_export_dimension_cabi::<Bridge>() }
            }
            #[unsafe(export_name = "flowtrace:plugin/embedder@0.1.0#embed")]
            unsafe extern "C" fn embed(a0: *mut u8, a1: usize) -> *mut u8 {
                unsafe { e::_export_embed_cabi::<Bridge>(a0, a1) }
            }
            #[unsafe(export_name = "cabi_post_flowtrace:plugin/embedder@0.1.0#embed")]
            unsafe extern "C" fn post_embed(a0: *mut u8) {
                unsafe { e::__post_return_embed::<Bridge>(a0) }
            }

            #[cfg(target_arch = "wasm32")]
            #[unsafe(link_section = "component-type:flowtrace-plugin-sdk:embedder-plugin")]
            #[used]
            static COMPONENT_TYPE: [u8; $crate::__private::EMBEDDER.len()] =
                $crate::__private::EMBEDDER;
        };
    };
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
        const _: () = {
            type Bridge = $crate::__private::Bridge<$ty>;
            use $crate::__private::transformer as e;

            const _: fn() = || $crate::__private::assert_transformer::<$ty>();

            #[unsafe(export_name = "flowtrace:plugin/transformer@0.1.0#transform")]
            unsafe extern "C" fn transform(a0: *mut u8, a1: usize) -> *mut u8 {
                unsafe { e::_export_transform_cabi::<Bridge>(a0, a1) }
            }
            #[unsafe(export_name = "cabi_post_flowtrace:plugin/transformer@0.1.0#transform")]
            unsafe extern "C" fn post_transform(a0: *mut u8) {
                unsafe { e::__post_return_transform::<Bridge>(a0) }
            }

            #[cfg(target_arch = "wasm32")]
            #[unsafe(link_section = "component-type:flowtrace-plugin-sdk:transformer-plugin")]
            #[used]
            static COMPONENT_TYPE: [u8; $crate::__private::TRANSFORMER.len()] =
                $crate::__private::TRANSFORMER;
        };
    };
}

#[cfg(test)]
mod tests {
    use super::check_vectors;

    #[test]
    fn embed_output_is_checked() {
        assert!(check_vectors(&[vec![0.0; 3], vec![1.0; 3]], 2, 3).is_ok());
        let count = check_vectors(&[vec![0.0; 3]], 2, 3).unwrap_err();
        assert_eq!(count.to_string(), "`embed` returned 1 vectors for 2 texts");
        let dim = check_vectors(&[vec![0.0; 3], vec![0.0; 2]], 2, 3).unwrap_err();
        assert_eq!(
            dim.to_string(),
            "`embed` returned a vector of 2 numbers at 1, `dimension` is 3"
        );
    }
}
