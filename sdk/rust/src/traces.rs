//! Read other recorded traces (`flowtrace:plugin/traces`). Needs the capability
//! `traces = true` in flowtrace.toml, which turns on this module (cargo feature `traces`;
//! `cargo flowtrace build` sets it from the manifest).
//!
//! ```no_run
//! use flowtrace_plugin_sdk::traces::{self, Query};
//!
//! // compare against the five latest runs of the same agent
//! for id in traces::query(&Query::new().name_contains("agent run").limit(5)) {
//!     if let Some(previous) = traces::get(&id) {
//!         flowtrace_plugin_sdk::info!("{id}: {} spans", previous.span_count());
//!     }
//! }
//! ```
//!
//! These functions call the host: their examples are `no_run`.

use crate::bindings::traces::flowtrace::plugin::traces as host;
pub use crate::query::Query;
use crate::Trace;

/// The trace with `id`, if the host has it. The trace stays in the host and is read like
/// the one being evaluated.
///
/// ```no_run
/// if let Some(trace) = flowtrace_plugin_sdk::traces::get("4bf92f3577b34da6a3ce929d0e0e4736") {
///     let spans = trace.span_count();
/// }
/// ```
pub fn get(id: &str) -> Option<Trace<'static>> {
    host::get(id).map(Trace::owned)
}

/// Ids of the traces matching `query`, newest first.
///
/// ```no_run
/// use flowtrace_plugin_sdk::traces::{query, Query};
///
/// let recent = query(&Query::new().limit(10));
/// ```
pub fn query(query: &Query) -> Vec<String> {
    host::query(&host::TraceQuery {
        name_contains: query.name_contains.clone(),
        since_ns: query.since_ns,
        until_ns: query.until_ns,
        limit: query.limit,
    })
}
