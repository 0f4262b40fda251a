//! Running the tools a toolchain check or install needs.

use std::ffi::OsStr;
use std::process::{Command, Output, Stdio};

use anyhow::{anyhow, Context as _, Result};

use crate::term::Term;

/// `program args...` as a person would type it, for messages.
pub fn display(command: &Command) -> String {
    let mut words = vec![command.get_program().to_string_lossy().into_owned()];
    words.extend(command.get_args().map(quote));
    words.join(" ")
}

fn quote(arg: &OsStr) -> String {
    let arg = arg.to_string_lossy();
    if !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=@:+,^~".contains(c))
    {
        arg.into_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// The first line of what `program args` prints (stdout, else stderr), when it runs and
/// succeeds; `None` when it is not installed or fails.
pub fn first_line(program: impl AsRef<OsStr>, args: &[&str]) -> Option<String> {
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = if output.stdout.iter().any(|b| !b.is_ascii_whitespace()) {
        output.stdout
    } else {
        output.stderr
    };
    String::from_utf8_lossy(&text)
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
}

/// Run `command` to completion with its output captured, under a status line and a spinner
/// (`verb`, e.g. `Installing`, and `what`). Fails with the command and the end of its stderr.
pub fn run_logged(
    term: &Term,
    verb: &'static str,
    what: &str,
    mut command: Command,
) -> Result<Output> {
    let shown = display(&command);
    term.status(verb, what);
    term.verbose_status("Running", format_args!("`{shown}`"));
    let progress = term.progress(verb, None, what.to_string());
    let output = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("failed to run `{shown}`"));
    drop(progress);
    let output = output?;
    if !output.status.success() {
        return Err(anyhow!("{}", tail(&output)))
            .context(format!("`{shown}` failed ({})", output.status));
    }
    Ok(output)
}

/// The last lines a failed command printed, stderr first.
fn tail(output: &Output) -> String {
    const LINES: usize = 20;
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let text = if stderr.trim().is_empty() {
        stdout
    } else {
        stderr
    };
    let lines: Vec<&str> = text.trim_end().lines().collect();
    let start = lines.len().saturating_sub(LINES);
    let shown = crate::term::sanitize(&lines[start..].join("\n")).into_owned();
    if shown.is_empty() {
        "it printed nothing".to_string()
    } else {
        shown
    }
}

/// The leading `major.minor.patch` of `text`'s first word that starts with a digit
/// (`rustc 1.95.0 (59807616e 2026-04-14)`, `v20.20.2`, `Python 3.11.7`), missing parts as 0.
pub fn parse_version(text: &str) -> Option<semver::Version> {
    let word = text
        .split_whitespace()
        .map(|w| w.trim_start_matches('v'))
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))?;
    let mut parts = word
        .split(|c: char| !c.is_ascii_digit())
        .take(3)
        .map(|p| p.parse::<u64>().ok());
    let major = parts.next().flatten()?;
    let minor = parts.next().flatten().unwrap_or(0);
    let patch = parts.next().flatten().unwrap_or(0);
    Some(semver::Version::new(major, minor, patch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_tool_banners() {
        let v = |s| parse_version(s).map(|v| v.to_string());
        assert_eq!(
            v("rustc 1.95.0 (59807616e 2026-04-14)").as_deref(),
            Some("1.95.0")
        );
        assert_eq!(v("v20.20.2").as_deref(), Some("20.20.2"));
        assert_eq!(v("Python 3.12.0rc1").as_deref(), Some("3.12.0"));
        assert_eq!(v("componentize-py 0.25.1").as_deref(), Some("0.25.1"));
        assert_eq!(
            v("rustup 1.29.0 (28d1352db 2026-03-05)").as_deref(),
            Some("1.29.0")
        );
        assert_eq!(v("11.19").as_deref(), Some("11.19.0"));
        assert_eq!(v("no version here"), None);
    }

    #[test]
    fn commands_display_as_typed() {
        let mut c = Command::new("rustup");
        c.args(["target", "add", "wasm32-wasip2"]);
        assert_eq!(display(&c), "rustup target add wasm32-wasip2");
        let mut c = Command::new("pip");
        c.args(["install", "a b"]);
        assert_eq!(display(&c), "pip install 'a b'");
    }
}
