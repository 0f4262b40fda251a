//! The one integration test binary of `flowtrace-plugins` (one link, one wasmtime).

mod http;
mod inspect;
mod manifest;
mod runtime;
mod trace;
