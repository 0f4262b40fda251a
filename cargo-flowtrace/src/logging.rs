//! Diagnostic logs through `tracing`, filtered by `FLOWTRACE_LOG` (e.g.
//! `FLOWTRACE_LOG=cargo_flowtrace=debug,flowtrace_plugins=trace`), written to stderr.
//!
//! Without `FLOWTRACE_LOG`: warnings only, `-vv` adds debug logs of this tool and the
//! runtime, `-vvv` trace logs. (`-v` alone is for status lines: the commands run, the files
//! read.)

use tracing_subscriber::EnvFilter;

use crate::term::{Term, Verbosity};

/// Environment variable with a `tracing` filter directive.
pub const LOG_ENV: &str = "FLOWTRACE_LOG";

/// Install the global subscriber. Call once, before any command runs.
pub fn init(term: &Term) {
    let default = match term.verbosity() {
        Verbosity::Quiet => "error",
        Verbosity::Normal | Verbosity::Verbose(1) => "warn",
        Verbosity::Verbose(2) => "warn,cargo_flowtrace=debug,flowtrace_plugins=debug",
        Verbosity::Verbose(_) => "debug,cargo_flowtrace=trace,flowtrace_plugins=trace",
    };
    let filter = match std::env::var(LOG_ENV) {
        Ok(directives) if !directives.trim().is_empty() => EnvFilter::try_new(&directives)
            .unwrap_or_else(|e| {
                term.warn(format_args!(
                    "ignoring `{LOG_ENV}={directives}`: {e}; using `{default}`"
                ));
                EnvFilter::new(default)
            }),
        _ => EnvFilter::new(default),
    };
    // Fails only when a subscriber is already installed (a second call): keep that one.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(term.stderr_has_color())
        .with_target(true)
        .without_time()
        .try_init();
}
