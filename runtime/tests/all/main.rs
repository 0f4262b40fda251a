//! The one integration test binary of `flowtrace-plugins` (one link, one wasmtime).

mod batch;
mod cache;
mod calls;
mod embed;
mod embedding;
mod fuzz;
mod genai;
mod host;
mod http;
mod inspect;
mod kinds;
mod manifest;
mod output;
mod preload;
mod prepare;
mod registry;
mod runtime;
#[cfg(unix)]
mod share;
mod trace;
mod trace_limits;
mod trace_protobuf;
mod trace_schema;
mod wiring;
