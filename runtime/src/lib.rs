//! `flowtrace-plugins`: load, check and run Flowtrace plugins.
//!
//! Flowtrace plugins are WebAssembly components that implement the `flowtrace:plugin`
//! contract (the `wit/` directory of this repository). This crate is the library that both
//! `cargo flowtrace` and the Flowtrace app embed: it parses plugin manifests, inspects
//! components and checks their imports against the capabilities they declare, and runs them
//! in wasmtime under the same policy everywhere.
//!
//! # Example
//!
//! Load a plugin once, then evaluate traces with it (here an evaluator written in the
//! WebAssembly text format; in Flowtrace the bytes come from the plugin registry):
//!
//! ```
//! use std::path::Path;
//! use flowtrace_plugins::manifest::Manifest;
//! use flowtrace_plugins::{trace, LoadOptions, PreparedTrace, Runtime};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let manifest = Manifest::from_str(
//!     r#"
//!     [plugin]
//!     id = "empty-output-check"
//!     name = "Empty output check"
//!     version = "0.1.0"
//!     kind = "evaluator"
//!
//!     [build]
//!     language = "rust"
//!
//!     [limits]
//!     timeout = "500ms"
//!     "#,
//!     Path::new("flowtrace.toml"),
//! )?;
//! # let component = flowtrace_plugins::testing::evaluator(
//! #     &flowtrace_plugins::testing::guest_wat("scan-infos"));
//! let runtime = Runtime::new()?; // one per process, shared by every plugin
//! let plugin = runtime.load(&component, &manifest, LoadOptions::default())?;
//!
//! let export = include_bytes!("../tests/fixtures/traces/real-node-traceloop-otlpjson.json");
//! for trace in trace::parse_traces(export)? {
//!     let result = plugin.evaluate(&PreparedTrace::new(trace))?;
//!     assert!(result.passed);
//! }
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]

mod bindings;
pub mod cache;
pub mod capability;
pub mod diag;
mod engine;
pub mod error;
pub mod failure;
mod fix;
pub mod fs;
pub mod host;
mod identity;
pub mod inspect;
pub mod manifest;
mod plugin;
pub mod registry;
pub mod results;
pub mod trace;

pub use engine::{HostCaps, Runtime, RuntimeConfig, RuntimeError, EPOCH_TICK};
pub use error::KindMismatch;
pub use error::{CallError, CallFailure, LoadError, PrepareError};
pub use failure::{GuestFailure, GuestFailureKind};
pub use fix::Fix;
pub use host::services;
pub use host::trace::PreparedTrace;
pub use host::Services;
pub use host::DEV_SOURCES;
pub use plugin::{
    CallId, CallObserver, CallOptions, CallOutcome, CallRecord, CancelHandle, EffectiveLimits,
    Embedder, Evaluation, Evaluator, Exporter, KindHandle, LoadOptions, Logged, MisplacedResult,
    Plugin, Preload, Transformer, CALL_SPAN, CONTRACT_VERSION, PRELOAD_FUNC, PRELOAD_INTERFACE,
    TRACES_PER_CALL,
};
#[cfg(feature = "test-support")]
#[doc(hidden)]
pub mod testing;
