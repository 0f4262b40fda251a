//! Progress bars that stay out of the way: drawn only on a terminal, only after a moment.

use std::borrow::Cow;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Term;

/// How long work runs before its bar appears: quick steps never flash a bar.
pub const SHOW_AFTER: Duration = Duration::from_millis(400);

/// How often a visible bar or spinner is redrawn.
const TICK: Duration = Duration::from_millis(100);

/// What a bar's position counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Steps, shown as `3/10`.
    Steps,
    /// Bytes, shown as `1.2 MiB/4.0 MiB` (input read, when the number of items is unknown).
    Bytes,
}

/// A progress bar or spinner from [`Term::progress`]. Cleared when dropped.
#[derive(Debug)]
pub struct Progress<'t> {
    term: &'t Term,
    bar: ProgressBar,
    /// Dropping the sender tells the thread waiting to show the bar that the work is done.
    reveal: Option<(mpsc::Sender<()>, thread::JoinHandle<()>)>,
}

impl<'t> Progress<'t> {
    pub(super) fn new(
        term: &'t Term,
        verb: &'static str,
        len: Option<u64>,
        unit: Unit,
        message: String,
        allowed: bool,
    ) -> Self {
        if !allowed {
            return Self {
                term,
                bar: ProgressBar::hidden(),
                reveal: None,
            };
        }
        let bar = match len {
            Some(len) => ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden())
                .with_style(bar_style(unit)),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden())
                .with_style(spinner_style()),
        }
        .with_prefix(verb)
        .with_message(message);
        term.set_active_bar(Some(bar.clone()));
        let (tx, rx) = mpsc::channel::<()>();
        let shown = bar.clone();
        let reveal = thread::Builder::new()
            .name("progress".into())
            .spawn(move || {
                if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(SHOW_AFTER) {
                    shown.set_draw_target(ProgressDrawTarget::stderr());
                    shown.enable_steady_tick(TICK);
                }
            })
            .ok()
            .map(|handle| (tx, handle));
        Self { term, bar, reveal }
    }

    /// Advance by `n` steps.
    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
    }

    /// Set the position.
    pub fn set_position(&self, position: u64) {
        self.bar.set_position(position);
    }

    /// Set the number of steps.
    pub fn set_length(&self, len: u64) {
        self.bar.set_length(len);
    }

    /// Replace the text next to the bar.
    pub fn set_message(&self, message: impl Into<Cow<'static, str>>) {
        self.bar.set_message(message);
    }

    /// Whether the bar is hidden for good (not a terminal, CI, JSON, `-q`).
    pub fn is_hidden(&self) -> bool {
        self.reveal.is_none()
    }
}

impl Drop for Progress<'_> {
    fn drop(&mut self) {
        if let Some((tx, handle)) = self.reveal.take() {
            drop(tx);
            let _ = handle.join();
        }
        self.bar.finish_and_clear();
        self.term.set_active_bar(None);
    }
}

fn bar_style(unit: Unit) -> ProgressStyle {
    let template = match unit {
        Unit::Steps => "{prefix:>12.cyan.bold} [{bar:25}] {pos}/{len}: {wide_msg}",
        Unit::Bytes => "{prefix:>12.cyan.bold} [{bar:25}] {bytes}/{total_bytes}: {wide_msg}",
    };
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix:>12.cyan.bold} {spinner} {wide_msg} ({elapsed})")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}
