//! The one terminal type every command writes through.
//!
//! | what | where | `-q` | `--message-format json` |
//! |---|---|---|---|
//! | status lines ([`Term::status`]): `   Compiling sample-evaluator` | stderr | hidden | shown (stderr) |
//! | [`Term::warn`] | stderr | shown | shown |
//! | [`Term::note`], [`Term::help`] | stderr | hidden | shown |
//! | [`Term::verbose_status`] | stderr, only with `-v` | hidden | shown with `-v` |
//! | tables and results ([`Term::stdout`]) | stdout | shown | the command emits JSON instead |
//! | JSON messages ([`Term::emit`]) | stdout | - | one line each |
//! | progress bars ([`Term::progress`]) | stderr, terminals only | hidden | hidden |
//! | errors ([`crate::error::report`]) | stderr (+ a JSON `error` message) | shown | shown |
//!
//! A command prints human output only when [`Term::is_human`], and calls [`Term::emit`]
//! (which writes nothing in human mode) for the machine one:
//!
//! ```
//! use std::io::Write as _;
//!
//! use cargo_flowtrace::term::{ColorChoice, Message, MessageFormat, Term, Verbosity};
//!
//! #[derive(serde::Serialize)]
//! #[serde(rename_all = "kebab-case")]
//! struct Checked {
//!     file: String,
//!     imports_ok: bool,
//! }
//!
//! impl Message for Checked {
//!     const REASON: &'static str = "checked";
//! }
//!
//! let term = Term::new(MessageFormat::Human, Verbosity::Normal, ColorChoice::Never);
//! term.status("Validating", "`plugin.wasm`"); // `  Validating `plugin.wasm`` on stderr
//! if term.is_human() {
//!     writeln!(term.stdout(), "plugin.wasm: imports ok")?;
//! }
//! // `{"reason":"checked","file":"plugin.wasm","imports-ok":true}` with `--message-format json`.
//! term.emit(&Checked { file: "plugin.wasm".into(), imports_ok: true })?;
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! `Term` is `Sync`: threads (parallel test cases) may share one `&Term`.

pub mod github;
pub mod progress;
mod sanitize;

use std::fmt::Display;
use std::io::{self, IsTerminal, Write};
use std::sync::{Arc, Mutex};

use anstream::AutoStream;
use serde::Serialize;

pub use progress::Progress;
pub use sanitize::sanitize;

/// `--color`: `auto` colours what goes to a terminal (unless `NO_COLOR` is set).
///
/// (The variants carry no doc comments: clap would list them as a long table in every
/// command's `--help`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// `--message-format`: `human` writes status to stderr and results to stdout; `json` writes
/// JSON lines to stdout, one object per message with a `reason` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum MessageFormat {
    #[default]
    Human,
    Json,
}

/// The styles used on the terminal, so every command colours alike.
pub mod style {
    use anstyle::{AnsiColor, Style};

    /// Status verbs (`Compiling`, `Finished`): bold green, like cargo.
    pub const STATUS: Style = AnsiColor::Green.on_default().bold();
    /// `error:`
    pub const ERROR: Style = AnsiColor::Red.on_default().bold();
    /// `warning:`
    pub const WARN: Style = AnsiColor::Yellow.on_default().bold();
    /// `note:`
    pub const NOTE: Style = AnsiColor::Cyan.on_default().bold();
    /// `help:`
    pub const HELP: Style = AnsiColor::Cyan.on_default().bold();
    /// Something that passed or is fine: `ok`.
    pub const GOOD: Style = AnsiColor::Green.on_default();
    /// Something that failed.
    pub const BAD: Style = AnsiColor::Red.on_default();
    /// Something to look at, but not an error.
    pub const CAUTION: Style = AnsiColor::Yellow.on_default();
    /// Less important text.
    pub const DIM: Style = Style::new().dimmed();
    /// Headings in human output.
    pub const HEADER: Style = Style::new().bold();
}

/// How much to say, from `-q` and `-v`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    /// `-q`: errors, warnings and results only.
    Quiet,
    /// The default.
    Normal,
    /// `-v` (1), `-vv` (2), ...
    Verbose(u8),
}

/// A machine-readable message for `--message-format json`.
///
/// `Self` must serialize as a struct or map with kebab-case fields
/// (`#[serde(rename_all = "kebab-case")]`); [`Term::emit`] puts `"reason": REASON` first.
pub trait Message: Serialize {
    /// The `reason` field: what kind of message this is, kebab-case (`inspection`,
    /// `test-case`, `build-finished`).
    const REASON: &'static str;
}

/// Where human and machine output goes, and how it looks.
///
/// A clone writes to the same streams with the same settings and shares the progress bar,
/// for callbacks that must own what they print with (the registry's lock-wait hook).
#[derive(Debug, Clone)]
pub struct Term {
    format: MessageFormat,
    verbosity: Verbosity,
    color: anstream::ColorChoice,
    progress_allowed: bool,
    /// The progress bar being drawn, if any: other stderr output is printed around it.
    active_bar: Arc<Mutex<Option<indicatif::ProgressBar>>>,
}

impl Term {
    /// A terminal for these flags. Progress bars are allowed only when stderr is a
    /// terminal, `CI` is unset, the format is human and `-q` was not given.
    pub fn new(format: MessageFormat, verbosity: Verbosity, color: ColorChoice) -> Self {
        let color = match color {
            ColorChoice::Auto => anstream::ColorChoice::Auto,
            ColorChoice::Always => anstream::ColorChoice::Always,
            ColorChoice::Never => anstream::ColorChoice::Never,
        };
        let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
        let progress_allowed = io::stderr().is_terminal()
            && !in_ci
            && format == MessageFormat::Human
            && verbosity != Verbosity::Quiet;
        Self {
            format,
            verbosity,
            color,
            progress_allowed,
            active_bar: Arc::new(Mutex::new(None)),
        }
    }

    /// Whether `--message-format human` (the default).
    pub fn is_human(&self) -> bool {
        self.format == MessageFormat::Human
    }

    /// Whether `--message-format json`.
    pub fn is_json(&self) -> bool {
        self.format == MessageFormat::Json
    }

    /// `-q`, normal or `-v`.
    pub fn verbosity(&self) -> Verbosity {
        self.verbosity
    }

    /// Whether `-q` was given.
    pub fn is_quiet(&self) -> bool {
        self.verbosity == Verbosity::Quiet
    }

    /// Whether `-v` (or more) was given.
    pub fn is_verbose(&self) -> bool {
        matches!(self.verbosity, Verbosity::Verbose(_))
    }

    /// Whether colours are written to stderr (to pass `--color` on to cargo and the
    /// log subscriber).
    pub fn stderr_has_color(&self) -> bool {
        let choice = match self.color {
            anstream::ColorChoice::Auto => AutoStream::choice(&io::stderr()),
            chosen => chosen,
        };
        choice != anstream::ColorChoice::Never
    }

    /// A cargo-style status line on stderr: the verb right-aligned in 12 columns, bold
    /// green, then the message: `   Compiling sample-evaluator v0.1.0`. Hidden by `-q`.
    ///
    /// Verbs in use: `Creating`, `Compiling`, `Validating`, `Embedding`, `Finished`,
    /// `Installing`, `Installed`, `Running`, `Checking`, `Fixing`, `Evaluating`.
    pub fn status(&self, verb: &str, message: impl Display) {
        self.status_with_style(verb, message, style::STATUS);
    }

    /// [`status`](Self::status) with another style for the verb, e.g. [`style::WARN`] for a
    /// `Skipped` line.
    pub fn status_with_style(&self, verb: &str, message: impl Display, verb_style: anstyle::Style) {
        if self.is_quiet() {
            return;
        }
        self.stderr_line(format_args!(
            "{verb_style}{verb:>12}{verb_style:#} {message}"
        ));
    }

    /// A status line shown only with `-v`, e.g. `     Running `cargo build ...``.
    pub fn verbose_status(&self, verb: &str, message: impl Display) {
        if self.is_verbose() {
            self.status(verb, message);
        }
    }

    /// `warning: <message>` on stderr; shown even with `-q`.
    pub fn warn(&self, message: impl Display) {
        self.labelled("warning", style::WARN, message);
    }

    /// `note: <message>` on stderr; hidden by `-q`.
    pub fn note(&self, message: impl Display) {
        if !self.is_quiet() {
            self.labelled("note", style::NOTE, message);
        }
    }

    /// `help: <message>` on stderr; hidden by `-q`.
    pub fn help(&self, message: impl Display) {
        if !self.is_quiet() {
            self.labelled("help", style::HELP, message);
        }
    }

    /// `error: <message>` on stderr, for an error that does not end the command (one of
    /// several problems being listed). A command's failure is returned as `Err` instead,
    /// and `main` prints it with [`crate::error::report`].
    pub fn error(&self, message: impl Display) {
        self.labelled("error", style::ERROR, message);
    }

    fn labelled(&self, label: &str, label_style: anstyle::Style, message: impl Display) {
        self.stderr_line(format_args!(
            "{label_style}{label}:{label_style:#} {message}"
        ));
    }

    /// One line of a plugin's log on stderr, `[plugin-id] level: text`, with control
    /// characters neutralised ([`sanitize`]): a plugin must not drive the terminal.
    pub fn plugin_log(&self, plugin: &str, level: &str, text: &str) {
        let dim = style::DIM;
        let text = sanitize(text);
        let mut lines = text.lines();
        let first = lines.next().unwrap_or_default();
        let mut out = format!("{dim}[{}] {level}:{dim:#} {first}", sanitize(plugin));
        for line in lines {
            out.push_str("\n    ");
            out.push_str(line);
        }
        self.stderr_line(format_args!("{out}"));
    }

    /// Write `text` and a newline to stderr as is, around any progress bar. For blocks of
    /// text that are not one of the labelled kinds (an error report, captured tool output).
    pub fn stderr_line(&self, text: impl Display) {
        let write = || {
            let mut err = AutoStream::new(io::stderr().lock(), self.color);
            // Nothing useful to do when stderr is gone.
            let _ = writeln!(err, "{text}");
        };
        match self.active_bar() {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }

    /// Stdout for human output (tables, reports): ANSI styles are removed when stdout is not
    /// a terminal or `--color never` was given. Use it only when [`is_human`](Self::is_human).
    pub fn stdout(&self) -> AutoStream<io::StdoutLock<'static>> {
        AutoStream::new(io::stdout().lock(), self.color)
    }

    /// Write one JSON message to stdout, `{"reason": M::REASON, ...fields}`, when
    /// `--message-format json`; nothing in human mode.
    pub fn emit<M: Message>(&self, message: &M) -> anyhow::Result<()> {
        if self.is_json() {
            self.emit_with_reason(M::REASON, message)?;
        }
        Ok(())
    }

    /// [`emit`](Self::emit) for a value that is not a [`Message`] (a type of the runtime
    /// crate): `{"reason": reason, ...value}` when `--message-format json`, else nothing.
    pub fn emit_as(&self, reason: &str, value: &impl Serialize) -> anyhow::Result<()> {
        if self.is_json() {
            self.emit_with_reason(reason, value)?;
        }
        Ok(())
    }

    /// Write one JSON line `{"reason": reason, ...value}` to stdout, whatever the format;
    /// `value` must serialize as a struct or a map. Prefer [`emit`](Self::emit).
    pub fn emit_with_reason(&self, reason: &str, value: &impl Serialize) -> anyhow::Result<()> {
        #[derive(Serialize)]
        struct Envelope<'a, T> {
            reason: &'a str,
            #[serde(flatten)]
            message: &'a T,
        }
        let line = serde_json::to_string(&Envelope {
            reason,
            message: value,
        })?;
        let mut out = io::stdout().lock();
        writeln!(out, "{line}")?;
        out.flush()?;
        Ok(())
    }

    /// A progress bar with `len` steps, or a spinner when `len` is `None`, after a status
    /// verb (`Installing`, `Testing`, cut to 12 columns), shown on stderr
    /// only after the work has run for a moment ([`progress::SHOW_AFTER`]), and never when
    /// stderr is not a terminal, `CI` is set, `-q` was given or the format is JSON.
    ///
    /// Status lines and warnings printed while it runs appear above it. It disappears when
    /// the returned [`Progress`] is dropped.
    pub fn progress(
        &self,
        verb: &'static str,
        len: Option<u64>,
        message: impl Into<String>,
    ) -> Progress<'_> {
        Progress::new(
            self,
            verb,
            len,
            progress::Unit::Steps,
            message.into(),
            self.progress_allowed,
        )
    }

    /// [`progress`](Self::progress) over `total` bytes of input, shown as `1.2 MiB/4.0 MiB`
    /// (a spinner when `total` is unknown): for work whose number of items is not known
    /// until the input is read.
    pub fn progress_bytes(
        &self,
        verb: &'static str,
        total: Option<u64>,
        message: impl Into<String>,
    ) -> Progress<'_> {
        Progress::new(
            self,
            verb,
            total,
            progress::Unit::Bytes,
            message.into(),
            self.progress_allowed,
        )
    }

    fn active_bar(&self) -> Option<indicatif::ProgressBar> {
        self.active_bar.lock().ok().and_then(|bar| bar.clone())
    }

    fn set_active_bar(&self, bar: Option<indicatif::ProgressBar>) {
        if let Ok(mut active) = self.active_bar.lock() {
            *active = bar;
        }
    }
}
