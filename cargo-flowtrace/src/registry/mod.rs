//! The plugin registry as the commands use it: opened at `$FLOWTRACE_HOME` with a
//! `Blocking` status line while another process holds its lock, and the words `install`,
//! `enable`, `list` and `info` print about capabilities.
//!
//! The registry itself (layout, index, lock, staged installs, dependency solving) lives in
//! the runtime crate, [`flowtrace_plugins::registry`], so Flowtrace uses the same code.

pub mod oci;
pub mod source;
pub mod trust;

use std::io::{self, BufRead, IsTerminal, Write};
use std::time::Duration;

use anyhow::{anyhow, Context as _, Result};
use flowtrace_plugins::manifest::{Capabilities, PluginId};
use flowtrace_plugins::registry::{capability_items, CapabilityItem, PluginSummary, Registry};

use crate::context::{self, Context};
use crate::error::ResultExt;
use crate::term::{style, Term};

/// Environment variable: how many seconds a command waits for another process's lock on
/// the registry before giving up (default 300).
pub const LOCK_TIMEOUT_ENV: &str = "FLOWTRACE_LOCK_TIMEOUT";

/// Open the registry at `$FLOWTRACE_HOME` (default `~/.flowtrace`), saying what it
/// cleaned up after an interrupted operation, and printing
/// `Blocking waiting for file lock on ...` when another process holds the lock.
pub fn open(cx: &Context) -> Result<Registry> {
    let home = context::flowtrace_home()?;
    let registry = Registry::open(&home)
        .with_context(|| format!("failed to open the plugin registry at `{}`", home.display()))?;
    for recovered in registry.recovered() {
        cx.term.note(format_args!(
            "cleaned up after an interrupted operation: {recovered}"
        ));
    }
    let term = cx.term.clone();
    Ok(registry
        .with_lock_timeout(lock_timeout()?)
        .on_lock_wait(move |wait| term.status_with_style("Blocking", wait, style::CAUTION)))
}

/// `$FLOWTRACE_LOCK_TIMEOUT` in seconds, default 300.
fn lock_timeout() -> Result<Duration> {
    let Some(value) = std::env::var_os(LOCK_TIMEOUT_ENV).filter(|v| !v.is_empty()) else {
        return Ok(flowtrace_plugins::registry::DEFAULT_LOCK_TIMEOUT);
    };
    let text = value.to_string_lossy();
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| anyhow!("invalid `{LOCK_TIMEOUT_ENV}` value `{text}`"))
        .with_help(|| format!("set `{LOCK_TIMEOUT_ENV}` to a number of seconds, e.g. `60`"))
}

/// A plugin id from the command line, with the rule when it is not one.
pub fn parse_id(text: &str) -> Result<PluginId> {
    PluginId::parse(text)
        .map_err(|reason| anyhow!("invalid plugin id `{text}`: {reason}"))
        .help("a plugin id is what its flowtrace.toml says under `[plugin] id`; `cargo flowtrace list` shows the installed ones")
}

/// `yes`, `no`, or `no (needs grants)` when the installed version waits for capabilities.
pub fn enabled_label(plugin: &PluginSummary) -> &'static str {
    match (plugin.enabled, plugin.pending_grants.is_empty()) {
        (true, _) => "yes",
        (false, true) => "no",
        (false, false) => "no (needs grants)",
    }
}

/// `storage, network host api.openai.com`, or `none`.
pub fn describe_capabilities(caps: &Capabilities) -> String {
    describe_items(&capability_items(caps))
}

/// The items joined with `, `, or `none`.
pub fn describe_items(items: &[CapabilityItem]) -> String {
    if items.is_empty() {
        return "none".into();
    }
    let words: Vec<String> = items.iter().map(ToString::to_string).collect();
    words.join(", ")
}

/// Print the capabilities `id` asks for beyond its grants, one per line, after a warning.
pub fn show_pending(
    term: &Term,
    id: &PluginId,
    version: &semver::Version,
    items: &[CapabilityItem],
) {
    let mut text = format!(
        "plugin `{id}` {version} asks for capabilities it was not granted; it stays disabled \
         until you grant them:"
    );
    for item in items {
        text.push_str(&format!("\n    + {item}"));
    }
    term.warn(text);
}

/// Warn that `plugin` is disabled, for a command that runs it anyway (`eval` of an installed
/// plugin): Flowtrace would not run it, and this run uses what was granted to it.
pub fn warn_disabled(term: &Term, plugin: &PluginSummary) {
    let id = &plugin.id;
    if plugin.pending_grants.is_empty() {
        term.warn(format_args!(
            "plugin `{id}` is disabled: Flowtrace does not run it; running it anyway \
             (`cargo flowtrace enable {id}` enables it)"
        ));
    } else {
        term.warn(format_args!(
            "plugin `{id}` is disabled until its capabilities are granted ({}): running it \
             anyway, with what was granted (`cargo flowtrace enable {id} --grant` grants them)",
            describe_items(&plugin.pending_grants)
        ));
    }
}

/// Whether the user can be asked a question: stdin and stderr are terminals, the output is
/// for humans and `-q` was not given.
pub fn can_prompt(term: &Term) -> bool {
    term.is_human() && !term.is_quiet() && io::stdin().is_terminal() && io::stderr().is_terminal()
}

/// Ask `question [y/N]` on stderr and read the answer from stdin: only `y` or `yes` is yes.
pub fn confirm(question: &str) -> Result<bool> {
    let mut err = io::stderr().lock();
    write!(err, "{question} [y/N] ").context("failed to write to stderr")?;
    err.flush().context("failed to write to stderr")?;
    drop(err);
    let mut answer = String::new();
    io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("failed to read the answer from stdin")?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
