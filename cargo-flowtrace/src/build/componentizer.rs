//! Running a componentizer (componentize-py, componentize-js): the tool that makes the
//! component of a driver that keeps its own build directory, into a temp file there.

use anyhow::{anyhow, Context as _, Result};

use crate::error;
use crate::term::Term;
use crate::toolchain::process::display;

/// A temp file in `work` for a componentizer to write the component to.
pub(crate) fn component_file(work: &std::path::Path) -> Result<tempfile::NamedTempFile> {
    tempfile::Builder::new()
        .prefix(".componentize-")
        .suffix(".wasm")
        .tempfile_in(work)
        .with_context(|| format!("failed to create a temp file in `{}`", work.display()))
}

/// Run `command`, the componentizer `tool` making plugin `id`'s component (see
/// [`run_componentizer`]); when it fails, show what `explain` makes of its output and fail
/// with the helps it found.
pub(crate) fn componentize(
    term: &Term,
    command: std::process::Command,
    id: &str,
    tool: &str,
    explain: impl FnOnce(&ToolRun) -> Explained,
) -> Result<()> {
    let run = run_componentizer(term, command, id)?;
    if run.status.success() {
        return Ok(());
    }
    let Explained { shown, helps } = explain(&run);
    for line in shown.lines() {
        term.stderr_line(line);
    }
    let mut err = anyhow!(
        "failed to compile plugin `{id}`: {tool} failed ({})",
        run.status
    );
    for help in helps {
        err = error::with_help(err, help);
    }
    Err(err)
}

/// What a driver makes of a failed componentizer run.
pub(crate) struct Explained {
    /// What of its output to show.
    pub shown: String,
    /// The helps for the error.
    pub helps: Vec<String>,
}

/// How a componentizer run ended, its output decoded.
pub(crate) struct ToolRun {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Run `command` (componentize-py or componentize-js making plugin `id`'s component) under
/// a spinner, its output captured: shown whole in verbose mode; on failure the caller shows
/// what of it matters. Its own Rust backtraces are turned off (they say nothing about the
/// plugin).
pub(crate) fn run_componentizer(
    term: &Term,
    mut command: std::process::Command,
    id: &str,
) -> Result<ToolRun> {
    let shown = display(&command);
    term.verbose_status("Running", format_args!("`{shown}`"));
    let spinner = term.progress("Compiling", None, format!("plugin `{id}`"));
    command
        .env("RUST_BACKTRACE", "0")
        .env("RUST_LIB_BACKTRACE", "0")
        .stdin(std::process::Stdio::null());
    let output = command
        .output()
        .with_context(|| format!("failed to run `{shown}`"));
    drop(spinner);
    let output = output?;
    let run = ToolRun {
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    if term.is_verbose() {
        for line in run.stdout.lines() {
            term.stderr_line(line);
        }
        if run.status.success() {
            for line in run.stderr.lines() {
                term.stderr_line(line);
            }
        }
    }
    Ok(run)
}
