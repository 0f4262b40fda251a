//! [`Embedder`]: turns texts into vectors (`flowtrace:plugin/embedder`).

use crate::__private::Bridge;
use crate::bindings::exports::flowtrace::sdk::embedder;
use crate::bindings::wit;
use crate::PluginError;

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
        $crate::__export_kind! {
            $ty,
            Embedder,
            embedder,
            EMBEDDER,
            "component-type:flowtrace-plugin-sdk:embedder-plugin";

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
        }
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
