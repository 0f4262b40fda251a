//! A per-plugin key-value store (`flowtrace:plugin/kv`). Needs the capability
//! `storage = true` in flowtrace.toml, which turns on this module (cargo feature
//! `storage`; `cargo flowtrace build` sets it from the manifest).
//!
//! Values are bytes; the host keeps a quota per plugin.
//!
//! ```no_run
//! use flowtrace_plugin_sdk::{kv, PluginError};
//!
//! fn count_run() -> Result<u64, PluginError> {
//!     let runs = kv::get("runs")
//!         .and_then(|b| <[u8; 8]>::try_from(b).ok())
//!         .map_or(0, u64::from_le_bytes);
//!     kv::set("runs", (runs + 1).to_le_bytes())?;
//!     Ok(runs + 1)
//! }
//! ```
//!
//! These functions call the host: their examples are `no_run`.

use crate::bindings::storage::flowtrace::plugin::kv as host;
use crate::PluginError;

/// The value under `key`, if any.
///
/// ```no_run
/// let baseline = flowtrace_plugin_sdk::kv::get("baseline").map(String::from_utf8);
/// ```
pub fn get(key: &str) -> Option<Vec<u8>> {
    host::get(key)
}

/// Store `value` under `key`, replacing what was there. Fails with
/// [`PluginError::Unavailable`] when the store's quota would be exceeded.
///
/// ```no_run
/// # fn f() -> Result<(), flowtrace_plugin_sdk::PluginError> {
/// flowtrace_plugin_sdk::kv::set("baseline", "0.82")?;
/// # Ok(()) }
/// ```
pub fn set(key: &str, value: impl AsRef<[u8]>) -> Result<(), PluginError> {
    host::set(key, value.as_ref())
        .map_err(|e| PluginError::Unavailable(format!("cannot store `{key}`: {e}")))
}

/// Remove `key`; removing a missing key is not an error.
///
/// ```no_run
/// flowtrace_plugin_sdk::kv::delete("baseline");
/// ```
pub fn delete(key: &str) {
    host::delete(key)
}

/// The keys starting with `prefix`, sorted.
///
/// ```no_run
/// for key in flowtrace_plugin_sdk::kv::keys("seen/") {
///     flowtrace_plugin_sdk::kv::delete(&key);
/// }
/// ```
pub fn keys(prefix: &str) -> Vec<String> {
    host::keys(prefix)
}
