//! Write [Flowtrace](https://github.com/flowtrace/cargo-flowtrace) plugins in Rust.
//!
//! A Flowtrace plugin is a WebAssembly component that runs over the traces of LLM agents:
//! an **evaluator** scores a trace, an **exporter** writes traces in another format, an
//! **embedder** turns texts into vectors, a **transformer** rewrites traces. With this
//! crate a plugin is a type, one impl of its kind's trait ([`Evaluator`], [`Exporter`],
//! [`Embedder`], [`Transformer`]) and one export macro; no generated bindings to touch.
//!
//! ```
//! use flowtrace_plugin_sdk::{export_evaluator, EvalResult, Evaluator, PluginError, SpanKind, Trace};
//!
//! /// Fails traces whose LLM calls produced no output.
//! struct EmptyOutput;
//!
//! impl Evaluator for EmptyOutput {
//!     fn evaluate(trace: &Trace<'_>) -> Result<EvalResult, PluginError> {
//!         let mut result = EvalResult::pass(1.0).label("ok");
//!         let mut checked = 0;
//!         for span in trace.spans_of_kind(SpanKind::LlmCall) {
//!             checked += 1;
//!             if span.output_len() == 0 {
//!                 result = result.span_finding(span.id(), "empty output");
//!             }
//!         }
//!         if !result.findings.is_empty() {
//!             let score = 1.0 - result.findings.len() as f64 / checked as f64;
//!             result = EvalResult { score, passed: false, ..result }.label("empty-output");
//!         }
//!         Ok(result.metric("llm-spans", checked))
//!     }
//! }
//!
//! export_evaluator!(EmptyOutput);
//! ```
//!
//! Build it with `cargo flowtrace build` (or `cargo build --target wasm32-wasip2`: the
//! crate is a `cdylib`) and run its fixtures with `cargo flowtrace test`.
//!
//! # Reading traces
//!
//! The trace stays in the host. [`Trace`] fetches what you ask for: [`SpanRef`] reads
//! kinds, statuses, times, token counts and text lengths from one cached call per trace,
//! and copies a string (name, output, attribute) only when you ask for that string. A
//! plugin that looks at span kinds and token counts never pays for copying prompts.
//!
//! # Capabilities
//!
//! `log` ([`info!`] and friends) and [`config`] are always available. The other host
//! interfaces exist only when the plugin declares their capability in `flowtrace.toml`,
//! as cargo features of this crate that `cargo flowtrace build` turns on from the
//! manifest:
//!
//! | `[capabilities]` | feature | module |
//! |---|---|---|
//! | `storage = true` | `storage` | `kv` |
//! | `traces = true` | `traces` | `traces` |
//! | `embeddings = true` | `embeddings` | `embeddings` |
//!
//! Without its feature a module is a stand-in whose every call fails to compile with the
//! capability to declare:
//!
//! ```text
//! error[E0277]: `kv` needs the capability `storage`, which this plugin does not declare
//!  --> src/lib.rs:7:28
//!   |
//! 7 |         let runs = kv::get("runs");
//!   |                    ------- ^^^^^^ needs `storage = true` under `[capabilities]` in flowtrace.toml
//!   |
//!   = note: add `storage = true` under `[capabilities]` in flowtrace.toml; `cargo flowtrace build` then turns on the SDK feature `storage`
//! ```
//!
//! A component imports only what its code calls: turning a feature on without using its
//! module adds no import. The capabilities `network` (the ecosystem's own `wasi:http`),
//! `env` and `fs-read` (std's environment and file APIs) need nothing from this crate;
//! their features exist, and enable nothing, so every capability maps to a feature.
//!
//! # Doc examples
//!
//! Everything that calls the host (trace accessors, config, log, kv, traces, embeddings)
//! only works inside a component run by Flowtrace; on a native target it panics. Examples
//! that would call the host are marked `no_run` (they are compiled, not run).

#![deny(missing_docs)]

extern crate self as flowtrace_plugin_sdk;

mod attribute;
mod bindings;
pub mod config;
mod data;
mod error;
mod facts;
mod json;
mod kinds;
pub mod log;
mod query;
mod result;
mod span;
mod trace;

#[cfg(feature = "embeddings")]
pub mod embeddings;
#[cfg(feature = "storage")]
pub mod kv;
#[cfg(feature = "traces")]
pub mod traces;

mod undeclared;
#[cfg(not(feature = "embeddings"))]
#[doc(hidden)]
pub use undeclared::embeddings;
#[cfg(not(feature = "storage"))]
#[doc(hidden)]
pub use undeclared::kv;
#[cfg(not(feature = "traces"))]
#[doc(hidden)]
pub use undeclared::traces;

pub use attribute::{Attribute, AttributeValue};
pub use data::{Span, TraceData};
pub use error::PluginError;
pub use facts::{Message, SpanError, ToolCall};
pub use kinds::*;
pub use result::{EvalResult, Finding, Metric, MetricValue};
pub use span::{SpanInfo, SpanKind, SpanStatus, TokenUsage};
pub use trace::{SpanRef, Spans, Trace};

/// Used by the export macros. Not public API.
#[doc(hidden)]
pub mod __private {
    use std::marker::PhantomData;

    /// The generated module of each plugin interface (`evaluator`, `exporter`, ...).
    pub use crate::bindings::exports::flowtrace::sdk::*;
    pub use wit_bindgen;

    // The component type of each kind's world (`EVALUATOR`, ...), from build.rs.
    include!(concat!(env!("OUT_DIR"), "/component_types.rs"));

    /// Implements the generated `Guest` trait of each kind (in `kinds/`) for any
    /// implementor of the kind's trait.
    pub struct Bridge<T>(PhantomData<T>);
}
