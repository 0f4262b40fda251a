//! `cargo flowtrace`: scaffold, build, check and test Flowtrace plugins.
//!
//! The binary (`src/main.rs`) only parses the command line ([`cli::Cli`]), runs the command
//! ([`commands::Command::exec`]) and reports the error ([`error::report`]). Everything else
//! lives here, one module per concern:
//!
//! | module | what |
//! |---|---|
//! | [`build`] | a plugin built by its language driver, the manifest embedded, the capability check |
//! | [`cli`] | the command line: shared flags, the `cargo flowtrace` / `cargo-flowtrace` forms |
//! | [`commands`] | one file per command |
//! | [`context`] | what every command gets: the terminal, the flags, manifest discovery, `$FLOWTRACE_HOME` |
//! | [`term`] | the one terminal type: status lines, JSON messages, progress bars |
//! | [`error`] | `error:` / `Caused by:` / `help:` rendering, typed failures with exit codes |
//! | [`eval`] | an evaluator over files of traces, in parallel (`cargo flowtrace eval`) |
//! | [`harness`] | test fixtures, run in the embedded runtime (`cargo flowtrace test`) |
//! | [`exit_codes`] | the documented exit codes |
//! | [`inspection`] | what `inspect` shows of a component, for people and as JSON |
//! | [`junit`] | JUnit XML of `test` and `eval` runs, for CI systems |
//! | [`lang`] | one driver per language (Rust, Python, TypeScript): its build, toolchain and SDK |
//! | [`scaffold`] | writing a plugin from a template (`new`, `init`) |
//! | [`templates`] | the plugin templates embedded in the binary |
//! | [`toolchain`] | what the language toolchains share: `doctor`'s checks, the install lock |
//! | [`logging`] | `tracing` with `FLOWTRACE_LOG` |

pub mod build;
pub mod cli;
pub mod commands;
pub mod context;
pub mod error;
pub mod eval;
pub mod exit_codes;
pub mod harness;
pub mod inspection;
pub mod junit;
pub mod lang;
pub mod logging;
pub mod plugin_path;
pub mod registry;
pub mod scaffold;
pub mod templates;
pub mod term;
pub mod toolchain;

pub use context::Context;
