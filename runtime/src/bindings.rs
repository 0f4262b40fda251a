//! Host bindings for the `flowtrace:plugin` contract, generated from `runtime/wit/`, the copy
//! of the repository's `wit/` that `cargo xtask wit` keeps in sync (a published crate cannot
//! reach outside its directory).
//!
//! One `bindgen!` over the `host` world (every host interface, every plugin interface). The
//! linker adds the host interfaces one by one, only those a plugin was granted; the plugin
//! interfaces are looked up one by one, only the one its kind exports.

wasmtime::component::bindgen!({
    path: "wit",
    world: "host",
    imports: {
        "flowtrace:plugin/embeddings.dimension": async | trappable,
        "flowtrace:plugin/embeddings.embed": async | trappable,
        default: trappable,
    },
    exports: { default: async },
    with: {
        "flowtrace:plugin/types.trace": crate::host::trace::TraceHandle,
    },
});

pub use exports::flowtrace::plugin::*;
pub use flowtrace::plugin::{config, embeddings, kv, log, traces, types};
