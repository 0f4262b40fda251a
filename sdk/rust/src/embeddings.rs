//! Text embeddings served by the host, usually by an installed embedder plugin
//! (`flowtrace:plugin/embeddings`). Needs the capability `embeddings = true` in
//! flowtrace.toml, which turns on this module (cargo feature `embeddings`;
//! `cargo flowtrace build` sets it from the manifest).
//!
//! ```no_run
//! use flowtrace_plugin_sdk::{embeddings, PluginError};
//!
//! fn similarity(a: &str, b: &str) -> Result<f32, PluginError> {
//!     let v = embeddings::embed(&[a, b])?;
//!     Ok(v[0].iter().zip(&v[1]).map(|(x, y)| x * y).sum())
//! }
//! ```
//!
//! These functions call the host: their examples are `no_run`.

use crate::bindings::embeddings::flowtrace::plugin::embeddings as host;
use crate::PluginError;

/// Dimension of the vectors [`embed`] returns.
///
/// ```no_run
/// # fn f() -> Result<(), flowtrace_plugin_sdk::PluginError> {
/// let dim = flowtrace_plugin_sdk::embeddings::dimension()?;
/// # Ok(()) }
/// ```
pub fn dimension() -> Result<u32, PluginError> {
    host::dimension().map_err(PluginError::from_wit)
}

/// One vector per text, in order.
///
/// ```no_run
/// # fn f() -> Result<(), flowtrace_plugin_sdk::PluginError> {
/// let vectors = flowtrace_plugin_sdk::embeddings::embed(&["refund policy", "return window"])?;
/// assert_eq!(vectors.len(), 2);
/// # Ok(()) }
/// ```
pub fn embed<S: AsRef<str>>(texts: &[S]) -> Result<Vec<Vec<f32>>, PluginError> {
    let texts: Vec<String> = texts.iter().map(|t| t.as_ref().to_string()).collect();
    host::embed(&texts).map_err(PluginError::from_wit)
}

/// The vector of one text.
///
/// ```no_run
/// # fn f() -> Result<(), flowtrace_plugin_sdk::PluginError> {
/// let v = flowtrace_plugin_sdk::embeddings::embed_one("where is my order?")?;
/// # Ok(()) }
/// ```
pub fn embed_one(text: &str) -> Result<Vec<f32>, PluginError> {
    embed(&[text])?
        .pop()
        .ok_or_else(|| PluginError::failed("the embedding service returned no vector"))
}
