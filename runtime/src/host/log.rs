//! `flowtrace:plugin/log`, always granted.
//!
//! Defined by hand rather than through `bindgen!`'s `Host` trait, so that the message is
//! read where it lies in guest memory ([`WasmStr`]): a line past the call's log budget
//! (`MAX_LOG_BYTES_PER_CALL`) is dropped without the host copying it.

use wasmtime::component::{Linker, WasmStr};
use wasmtime::StoreContextMut;

use crate::bindings::log::Level;
use crate::host::services::LogLevel;
use crate::host::HostState;

/// Link `log` into `linker`.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let mut log = linker.instance("flowtrace:plugin/log@0.1.0")?;
    log.func_wrap(
        "log",
        |store: StoreContextMut<'_, HostState>, (level, message): (Level, WasmStr)| {
            let level = match level {
                Level::Trace => LogLevel::Trace,
                Level::Debug => LogLevel::Debug,
                Level::Info => LogLevel::Info,
                Level::Warn => LogLevel::Warn,
                Level::Error => LogLevel::Error,
            };
            // Borrowed from guest memory (copied only when it is UTF-16 or Latin-1).
            let message = message.to_str(&store)?;
            let scope = &store.data().scope;
            // An SDK's report of an exception goes with the call's error, not the log.
            let sources = scope.ctx.source_map.as_deref();
            if !scope.failures().log_line(&message, sources) {
                scope.log_line(level, &message);
            }
            Ok(())
        },
    )
}
