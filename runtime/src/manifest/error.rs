//! What can go wrong reading a manifest, and how it reads to a person.

use std::path::PathBuf;

/// Why a manifest could not be read.
///
/// `Invalid` carries every problem found, not just the first, each with its line and column;
/// its `Display` renders them all, one per line, followed by their `help:` lines.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("failed to read manifest `{}`", path.display())]
    Io {
        /// The manifest file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_MANIFEST_BYTES`](super::MAX_MANIFEST_BYTES).
    #[error(
        "manifest `{}` is too large: {size} bytes, the limit is {limit} bytes",
        path.display()
    )]
    TooLarge {
        /// The manifest file.
        path: PathBuf,
        /// Its size in bytes; a lower bound when the file is not a regular file (it is only
        /// read up to one byte past the limit).
        size: u64,
        /// The limit it broke.
        limit: u64,
    },
    /// The file was read but breaks the manifest rules (syntax, unknown keys, bad values).
    #[error("{}", render_invalid(path, diagnostics))]
    Invalid {
        /// The manifest file, as it should appear in messages.
        path: PathBuf,
        /// Every problem found, sorted by position; never empty.
        diagnostics: Vec<Diagnostic>,
    },
}

impl ManifestError {
    /// The manifest file the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            ManifestError::Io { path, .. }
            | ManifestError::TooLarge { path, .. }
            | ManifestError::Invalid { path, .. } => path,
        }
    }

    /// The problems found in the manifest's content; empty unless the error is `Invalid`.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            ManifestError::Invalid { diagnostics, .. } => diagnostics,
            _ => &[],
        }
    }
}

/// One problem in a manifest, at a position in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// What is wrong: lowercase, no trailing period, names in backticks.
    pub message: String,
    /// The fix, where one is known, in plain words.
    pub help: Option<String>,
    /// The fix as data, when it is an action a front end words its own way (a command, a
    /// button); `help` is then its [`Display`](std::fmt::Display).
    pub fix: Option<crate::fix::Fix>,
}

fn render_invalid(path: &std::path::Path, diagnostics: &[Diagnostic]) -> String {
    let path = path.display();
    let count = match diagnostics.len() {
        1 => "1 problem".to_string(),
        n => format!("{n} problems"),
    };
    let mut out = format!("invalid manifest `{path}`: {count}");
    for d in diagnostics {
        out.push_str(&format!(
            "\n  {path}:{}:{}: {}",
            d.line, d.column, d.message
        ));
        if let Some(help) = &d.help {
            out.push_str(&format!("\n    help: {help}"));
        }
    }
    out
}
