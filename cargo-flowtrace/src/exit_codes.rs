//! The exit codes of `cargo flowtrace`, documented in every `--help` ([`HELP`]).
//!
//! They are part of the interface CI pipelines script against: never renumber one.
//!
//! A command picks a code other than [`ERROR`] by failing with one of the typed errors in
//! [`crate::error`]: [`TestsFailed`](crate::error::TestsFailed) gives [`TESTS_FAILED`],
//! [`PolicyViolation`](crate::error::PolicyViolation) (or a runtime capability error anywhere
//! in the chain) gives [`POLICY_VIOLATION`], and
//! [`ResultExt::exit_code`](crate::error::ResultExt::exit_code) gives any other.
//! `main` finds them with [`crate::error::exit_code`].

/// The command did what was asked.
pub const SUCCESS: i32 = 0;

/// The command failed: a missing file, a build error, a broken manifest, a toolchain that
/// could not be installed, ...
pub const ERROR: i32 = 1;

/// The command line could not be parsed (clap's own code for usage errors).
pub const USAGE: i32 = 2;

/// `cargo flowtrace test` ran, and at least one fixture failed; or `cargo flowtrace eval
/// --fail-on` ran, and a trace failed or could not be evaluated.
pub const TESTS_FAILED: i32 = 3;

/// The component breaks the capability policy: an undeclared capability, an unknown or
/// incompatible import, or the wrong exports for its kind.
pub const POLICY_VIOLATION: i32 = 4;

/// The exit-code table printed at the end of every `--help`.
pub const HELP: &str = "\
Exit codes:
  0  success
  1  error
  2  usage error (invalid command line)
  3  tests failed
  4  capability policy violated";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_lists_every_code() {
        for code in [SUCCESS, ERROR, USAGE, TESTS_FAILED, POLICY_VIOLATION] {
            assert!(
                HELP.lines()
                    .any(|l| l.trim_start().starts_with(&format!("{code} "))),
                "exit code {code} missing from the help text"
            );
        }
    }
}
