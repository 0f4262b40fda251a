//! Expectations and how a result is held against them.
//!
//! A check returns every mismatch it finds, not just the first, each as one readable line
//! (`expected score in 0.5..=0.9, got 0.95`), with a `help:` where there is a likely fix.

use std::path::PathBuf;
use std::sync::Arc;

use super::kinds::Expectations;

/// `[expect]`, validated.
#[derive(Debug, Clone)]
pub struct Expect {
    /// A result, or an error.
    pub outcome: Outcome,
    /// The call the plugin's kind makes, with the expectations on its result (none when
    /// `outcome` is an error).
    pub(crate) checks: Arc<dyn Expectations>,
    /// `snapshot`: the file the whole result is compared with (`--bless` writes it).
    pub snapshot: Option<PathBuf>,
}

/// Whether the call succeeds.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// It returns a result meeting the expectations of `checks`.
    Success,
    /// `error`: it fails, with an error whose text contains this.
    Error(String),
}

/// One way a result differs from what was expected.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Mismatch {
    /// What differs, on one line.
    pub message: String,
    /// The likely fix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// A unified diff (snapshots), shown under the message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// The plugin's backtrace, when it panicked or raised (shown with `-v`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backtrace: Option<String>,
}

impl Mismatch {
    /// A mismatch with only a message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            help: None,
            diff: None,
            backtrace: None,
        }
    }

    /// With a `help:` line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// With a prefix naming which trace of several it is about.
    pub fn about(mut self, prefix: &str) -> Self {
        if !prefix.is_empty() {
            self.message = format!("{prefix}: {}", self.message);
        }
        self
    }
}

/// Hold a failed call against `error`.
pub fn check_error(error: &str, expected: &str) -> Vec<Mismatch> {
    if error.contains(expected) {
        Vec::new()
    } else {
        vec![Mismatch::new(format!(
            "expected an error containing {expected:?}, got: {error}"
        ))]
    }
}
