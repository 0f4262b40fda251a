//! `flowtrace:plugin/log`, always granted.

use crate::bindings::log::{Host, Level};
use crate::host::services::LogLevel;
use crate::host::HostState;

impl Host for HostState {
    fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        let level = match level {
            Level::Trace => LogLevel::Trace,
            Level::Debug => LogLevel::Debug,
            Level::Info => LogLevel::Info,
            Level::Warn => LogLevel::Warn,
            Level::Error => LogLevel::Error,
        };
        self.scope.log_line(level, &message);
        Ok(())
    }
}
