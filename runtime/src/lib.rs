//! `flowtrace-plugins`: load, check and run Flowtrace plugins.
//!
//! Flowtrace plugins are WebAssembly components that implement the `flowtrace:plugin`
//! contract (the `wit/` directory of this repository). This crate is the library that both
//! `cargo flowtrace` and the Flowtrace app embed: it parses plugin manifests, inspects
//! components and checks their imports against the capabilities they declare, and runs them
//! in wasmtime under the same policy everywhere.

#![deny(missing_docs)]

mod bindings;
pub mod cache;
pub mod capability;
mod engine;
pub mod error;
pub mod host;
pub mod inspect;
pub mod manifest;
mod plugin;
pub mod results;
pub mod trace;

pub use engine::{HostCaps, Runtime, RuntimeConfig, RuntimeError, EPOCH_TICK};
pub use error::{CallError, CallFailure, LoadError};
pub use host::services;
pub use host::trace::PreparedTrace;
pub use host::Services;
pub use plugin::{EffectiveLimits, LoadOptions, Plugin, CONTRACT_VERSION};
#[cfg(feature = "test-support")]
#[doc(hidden)]
pub mod testing;
