//! The command line: the shared flags and the two ways to call the binary.
//!
//! Cargo runs `cargo flowtrace new x` as `cargo-flowtrace flowtrace new x`: the hidden
//! [`Invocation::Flowtrace`] variant absorbs that first `flowtrace`, the way cargo-component does,
//! so both `cargo flowtrace <cmd>` and `cargo-flowtrace <cmd>` work, with the same help.

use std::ffi::OsString;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::commands::Command;
pub use crate::context::GlobalArgs;
use crate::exit_codes;
#[cfg(test)]
use crate::term::Verbosity;
pub use crate::term::{ColorChoice, MessageFormat};

/// Shared by every command's help: what the tool is.
const ABOUT: &str =
    "Scaffold, build, check, test and run Flowtrace plugins (WebAssembly components)";

/// Examples for the top-level help ([`Cli::command_factory`] appends the exit codes).
const AFTER_HELP: &str = "\
Examples:
  cargo flowtrace new my-evaluator      scaffold a Rust evaluator plugin
  cargo flowtrace build                 build the plugin in this directory into a component
  cargo flowtrace test                  run its fixtures in the embedded runtime
  cargo flowtrace inspect plugin.wasm   show a component's imports and their verdicts
  cargo flowtrace install .             install it into the local registry
  cargo flowtrace list                  the installed plugins
  cargo flowtrace eval . traces.jsonl   run the evaluator over a file of traces
  cargo flowtrace run redactor t.json   run a plugin of any kind: export, transform, embed
  cargo flowtrace doctor --fix          check and install the toolchains";

/// The command line, as the binary was called.
#[derive(Debug, Parser)]
#[command(
    name = "cargo-flowtrace",
    about = ABOUT,
    version,
    propagate_version = true,
    arg_required_else_help = true,
    after_help = AFTER_HELP,
    max_term_width = 100
)]
pub struct Cli {
    /// Flags every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub invocation: Invocation,
}

/// The two ways to call the binary.
#[derive(Debug, Subcommand)]
pub enum Invocation {
    /// As a cargo subcommand: `cargo flowtrace <cmd>` runs `cargo-flowtrace flowtrace <cmd>`.
    #[command(
        subcommand,
        hide = true,
        display_name = "cargo-flowtrace",
        about = ABOUT,
        arg_required_else_help = true,
        after_help = AFTER_HELP
    )]
    Flowtrace(Command),
    /// Directly: `cargo-flowtrace <cmd>`.
    #[command(flatten)]
    Direct(Command),
}

impl Cli {
    /// The command, however the binary was called.
    pub fn command(&self) -> &Command {
        match &self.invocation {
            Invocation::Flowtrace(command) | Invocation::Direct(command) => command,
        }
    }

    /// Split into the shared flags and the command.
    pub fn into_parts(self) -> (GlobalArgs, Command) {
        match self.invocation {
            Invocation::Flowtrace(command) | Invocation::Direct(command) => (self.global, command),
        }
    }

    /// Parse `args` (the first one is the program name). Usage and help read
    /// `cargo flowtrace ...` when cargo ran the binary, `cargo-flowtrace ...` otherwise.
    pub fn try_parse_args<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let via_cargo = args.get(1).is_some_and(|a| a == "flowtrace");
        let mut command = Self::command_factory();
        if via_cargo {
            command = command.bin_name("cargo");
        }
        let mut matches = command
            .try_get_matches_from_mut(args)
            .map_err(without_hidden_suggestion)?;
        Self::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut command))
    }

    /// The clap command, e.g. for `debug_assert` or to render help: the derived one, with
    /// the exit codes ([`exit_codes::HELP`]) appended to every command's `after_help`.
    pub fn command_factory() -> clap::Command {
        with_exit_codes(<Self as CommandFactory>::command())
    }
}

/// `error` without `flowtrace` among its "a similar subcommand exists" tips: that hidden
/// word is for cargo, not a command to suggest.
fn without_hidden_suggestion(mut error: clap::Error) -> clap::Error {
    use clap::error::{ContextKind, ContextValue};
    let kept: Vec<String> = match error.get(ContextKind::SuggestedSubcommand) {
        Some(ContextValue::String(s)) => vec![s.clone()],
        Some(ContextValue::Strings(list)) => list.clone(),
        _ => return error,
    };
    let kept: Vec<String> = kept.into_iter().filter(|s| s != "flowtrace").collect();
    if kept.is_empty() {
        error.remove(ContextKind::SuggestedSubcommand);
        // An empty tip list after no suggestion would print as a stray blank line.
        if matches!(error.get(ContextKind::Suggested), Some(ContextValue::StyledStrs(t)) if t.is_empty())
        {
            error.remove(ContextKind::Suggested);
        }
    } else {
        error.insert(
            ContextKind::SuggestedSubcommand,
            ContextValue::Strings(kept),
        );
    }
    error
}

/// Append the exit-code table to the `after_help` of `command` and all its subcommands, so
/// every `--help` documents them (a command's own `after_help` holds its examples).
fn with_exit_codes(mut command: clap::Command) -> clap::Command {
    let after_help = match command.get_after_help() {
        Some(own) => format!("{own}\n\n{}", exit_codes::HELP),
        None => exit_codes::HELP.to_string(),
    };
    command = command.after_help(after_help);
    let names: Vec<String> = command
        .get_subcommands()
        .map(|sub| sub.get_name().to_string())
        .collect();
    for name in names {
        command = command.mut_subcommand(name, with_exit_codes);
    }
    command
}

/// The usage error's exit code, or success for `--help` and `--version`.
pub fn clap_exit_code(error: &clap::Error) -> i32 {
    if error.use_stderr() {
        exit_codes::USAGE
    } else {
        exit_codes::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_cli() {
        Cli::command_factory().debug_assert();
    }

    #[test]
    fn both_forms_parse_to_the_same_command() {
        let direct = Cli::try_parse_args(["cargo-flowtrace", "-q", "doctor", "--fix"]).unwrap();
        let cargo =
            Cli::try_parse_args(["cargo-flowtrace", "flowtrace", "doctor", "--fix", "-q"]).unwrap();
        assert!(matches!(direct.invocation, Invocation::Direct(_)));
        assert!(matches!(cargo.invocation, Invocation::Flowtrace(_)));
        assert_eq!(
            format!("{:?}", direct.command()),
            format!("{:?}", cargo.command())
        );
        assert_eq!(direct.global.verbosity(), Verbosity::Quiet);
        assert_eq!(cargo.global.verbosity(), Verbosity::Quiet);
    }
}
