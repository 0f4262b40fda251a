//! The plugin log (`flowtrace:plugin/log`, always granted). The host shows each line with
//! the plugin's id; guest stdout and stderr end up there too.
//!
//! Use the macros [`trace!`](crate::trace!), [`debug!`](crate::debug!),
//! [`info!`](crate::info!), [`warn!`](crate::warn!) and [`error!`](crate::error!), which
//! take `format!` arguments:
//!
//! ```no_run
//! use flowtrace_plugin_sdk::{info, warn};
//!
//! let (flagged, checked) = (1, 4);
//! info!("checked {checked} spans");
//! if flagged > 0 {
//!     warn!("{flagged} of {checked} spans flagged");
//! }
//! ```
//!
//! Logging calls the host, so on a native target (doc tests) it panics: examples here are
//! `no_run`.

use crate::bindings::flowtrace::plugin::log as host;

/// How important a log line is.
///
/// ```
/// use flowtrace_plugin_sdk::log::Level;
///
/// assert!(Level::Warn > Level::Info);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Very detailed tracing.
    Trace,
    /// Debugging detail.
    Debug,
    /// Normal progress.
    Info,
    /// Something looks wrong, work goes on.
    Warn,
    /// Something failed.
    Error,
}

/// Write one line to the plugin log; the macros call this.
///
/// ```no_run
/// use flowtrace_plugin_sdk::log::{log, Level};
///
/// log(Level::Info, "starting");
/// ```
pub fn log(level: Level, message: &str) {
    let level = match level {
        Level::Trace => host::Level::Trace,
        Level::Debug => host::Level::Debug,
        Level::Info => host::Level::Info,
        Level::Warn => host::Level::Warn,
        Level::Error => host::Level::Error,
    };
    host::log(level, message);
}

/// Log at [`Level::Trace`], with `format!` arguments.
///
/// ```no_run
/// flowtrace_plugin_sdk::trace!("span {} read", 3);
/// ```
#[macro_export]
macro_rules! trace {
    ($($arg:tt)+) => {
        $crate::log::log($crate::log::Level::Trace, &::std::format!($($arg)+))
    };
}

/// Log at [`Level::Debug`], with `format!` arguments.
///
/// ```no_run
/// flowtrace_plugin_sdk::debug!("config: threshold = {}", 0.7);
/// ```
#[macro_export]
macro_rules! debug {
    ($($arg:tt)+) => {
        $crate::log::log($crate::log::Level::Debug, &::std::format!($($arg)+))
    };
}

/// Log at [`Level::Info`], with `format!` arguments.
///
/// ```no_run
/// flowtrace_plugin_sdk::info!("evaluated {} spans", 12);
/// ```
#[macro_export]
macro_rules! info {
    ($($arg:tt)+) => {
        $crate::log::log($crate::log::Level::Info, &::std::format!($($arg)+))
    };
}

/// Log at [`Level::Warn`], with `format!` arguments.
///
/// ```no_run
/// flowtrace_plugin_sdk::warn!("span {} has no end time", "00f067aa0ba902b7");
/// ```
#[macro_export]
macro_rules! warn {
    ($($arg:tt)+) => {
        $crate::log::log($crate::log::Level::Warn, &::std::format!($($arg)+))
    };
}

/// Log at [`Level::Error`], with `format!` arguments.
///
/// ```no_run
/// flowtrace_plugin_sdk::error!("cannot parse output of span {}", 4);
/// ```
#[macro_export]
macro_rules! error {
    ($($arg:tt)+) => {
        $crate::log::log($crate::log::Level::Error, &::std::format!($($arg)+))
    };
}
