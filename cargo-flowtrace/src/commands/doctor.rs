//! `cargo flowtrace doctor [--fix]`

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{anyhow, Context as _, Result};
use clap::Args;
use serde::Serialize;

use crate::build::carried::{self, Carried, Requirement};
use crate::context::{self, Context};
use crate::error::ResultExt;
use crate::lang;
use crate::term::{style, Message};
use crate::toolchain::{self, Check};

/// Check the toolchains plugins are built with, and install what is missing.
///
/// Rust plugins need rustc and the `wasm32-wasip2` target (installed with rustup). Python
/// plugins need componentize-py, which `--fix` installs in a venv under
/// `$FLOWTRACE_HOME/toolchains/python`; TypeScript plugins need esbuild, componentize-js and
/// TypeScript (to type-check), which `--fix` installs with npm under
/// `$FLOWTRACE_HOME/toolchains/node`
/// (`$FLOWTRACE_HOME` defaults to `~/.flowtrace`).
///
/// Also shows the contract and the SDK versions this cargo-flowtrace carries and, in a plugin
/// directory (or with `--manifest-path`), whether the plugin's `flowtrace = "..."` and, for a
/// Rust plugin, its `flowtrace-plugin-sdk` requirement accept them; and the cargo target dir
/// Rust plugins are built in (`$FLOWTRACE_HOME/cargo-target`, shared by every plugin, unless
/// cargo is told of another one).
///
/// `--repair` does only one thing: it rebuilds the plugin registry's index
/// (`$FLOWTRACE_HOME/index.json`) when it cannot be read, from the installed plugin
/// directories. Each installed version is checked against the hashes recorded when it was
/// installed (its own `install.json`, or the previous index, `index.json.bak`); one that
/// cannot be checked is reported and left out. Enabled state and grants come back from
/// `index.json.bak`; a plugin it does not know comes back disabled. The unreadable index is
/// kept as `index.json.corrupt`.
///
/// Fails (exit code 1) when the Rust toolchain cannot build plugins, or when the plugin
/// requires a contract or SDK this cargo-flowtrace does not carry; the other toolchains are
/// reported, and only needed for plugins in those languages.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  cargo flowtrace doctor
  cargo flowtrace doctor --fix
  cargo flowtrace doctor --repair                  rebuild a corrupt registry index
  cargo flowtrace doctor --message-format json")]
pub struct DoctorCommand {
    /// Install what is missing: the wasm32-wasip2 target, componentize-py, componentize-js,
    /// esbuild, typescript
    #[arg(long)]
    pub fix: bool,

    /// Rebuild the plugin registry's index from the installed plugins when it cannot be read
    /// (and do nothing else)
    #[arg(long, conflicts_with = "fix")]
    pub repair: bool,
}

/// The JSON message after the checks.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
struct DoctorFinished {
    /// Whether Rust plugins can be built.
    required_ok: bool,
    /// Whether every toolchain works.
    all_ok: bool,
    /// Whether this cargo-flowtrace carries what the plugin in the current directory requires
    /// (absent outside a plugin).
    #[serde(skip_serializing_if = "Option::is_none")]
    plugin_ok: Option<bool>,
    /// The cargo target dir Rust plugins (the plugin in the current directory, if any) are
    /// built in.
    rust_target_dir: PathBuf,
    /// Whether it is the one shared by every Rust plugin, `$FLOWTRACE_HOME/cargo-target`.
    rust_target_dir_shared: bool,
}

impl Message for DoctorFinished {
    const REASON: &'static str = "doctor-finished";
}

impl DoctorCommand {
    /// Run `doctor`.
    pub fn exec(self, cx: &Context) -> Result<()> {
        if self.repair {
            return repair(cx);
        }
        let home = cx.flowtrace_home()?;
        let mut checks = toolchain::check_all(&home);
        if self.fix {
            let mut failures = Vec::new();
            for installer in checks.iter().filter_map(Check::installer) {
                if let Err(e) = toolchain::install(&cx.term, &home, installer) {
                    failures.push(e);
                }
            }
            checks = toolchain::check_all(&home);
            // Every install was tried; report the first failure after the table.
            if let Some(first) = failures.into_iter().next() {
                print(cx, &checks)?;
                return Err(first.context("`doctor --fix` could not install everything"));
            }
        }
        print(cx, &checks)?;
        let manifest = plugin_manifest(cx)?;
        let requirements = match &manifest {
            Some(path) => carried::requirements(path)?,
            None => Vec::new(),
        };
        print_carried(cx, &carried::carried(), &requirements)?;
        let plugin_dir = manifest.as_deref().and_then(std::path::Path::parent);
        let (rust_target_dir, rust_target_dir_shared) =
            lang::rust::target::reported(plugin_dir, &home);
        print_target_dir(cx, &rust_target_dir, rust_target_dir_shared)?;

        let required_failed: Vec<&Check> =
            checks.iter().filter(|c| c.required && !c.is_ok()).collect();
        let all_ok = checks.iter().all(Check::is_ok);
        let not_carried: Vec<&Requirement> = requirements
            .iter()
            .filter(|r| r.ok == Some(false))
            .collect();
        cx.term.emit(&DoctorFinished {
            required_ok: required_failed.is_empty(),
            all_ok,
            plugin_ok: (!requirements.is_empty()).then_some(not_carried.is_empty()),
            rust_target_dir,
            rust_target_dir_shared,
        })?;
        if !required_failed.is_empty() {
            let names: Vec<String> = required_failed
                .iter()
                .map(|c| format!("`{}`", c.name))
                .collect();
            let help = if self.fix || required_failed.iter().all(|c| !c.fixable) {
                required_failed
                    .iter()
                    .filter_map(|c| c.fix.as_deref())
                    .collect::<Vec<_>>()
                    .join("; ")
            } else {
                "run `cargo flowtrace doctor --fix`".to_string()
            };
            return Err(anyhow!(
                "Rust plugins cannot be built here: {} not working",
                names.join(", ")
            ))
            .help(help);
        }
        if let Some(first) = not_carried.first() {
            let what: Vec<String> = not_carried.iter().map(|r| r.written.clone()).collect();
            let helps: Vec<&str> = not_carried
                .iter()
                .filter_map(|r| r.help.as_deref())
                .collect();
            return Err(anyhow!(
                "plugin `{}` requires what this cargo-flowtrace (v{}) does not carry: {}",
                first.plugin,
                env!("CARGO_PKG_VERSION"),
                what.join(", ")
            ))
            .help(helps.join("\n      "));
        }
        if !all_ok && !self.fix && checks.iter().any(|c| c.fixable) {
            cx.term.note(
                "the toolchains marked missing are only needed for plugins in those languages; \
                 `cargo flowtrace doctor --fix` installs them",
            );
        }
        Ok(())
    }
}

/// `--repair`: rebuild the registry index, and say what came back and what did not.
fn repair(cx: &Context) -> Result<()> {
    let registry = crate::registry::open(cx)?;
    let outcome = registry
        .repair_index()
        .context("failed to repair the registry index")?;
    let term = &cx.term;
    if !outcome.repaired {
        term.status(
            "Checked",
            format_args!(
                "the registry index `{}` reads well: nothing to repair",
                registry.store().index_path().display()
            ),
        );
    }
    for plugin in &outcome.plugins {
        let state = match (plugin.from_backup, plugin.enabled) {
            (true, true) => "enabled, as before".to_string(),
            (true, false) => "disabled, as before".to_string(),
            (false, _) => format!(
                "disabled: the index backup does not have it; `cargo flowtrace enable {} \
                 --grant` enables it with what it asks for",
                plugin.id
            ),
        };
        term.status(
            "Recovered",
            format_args!("{} v{} ({state})", plugin.id, plugin.active),
        );
    }
    for left in &outcome.unverified {
        term.warn(format_args!(
            "left out `{}`: {}; reinstall it with `cargo flowtrace install --force <source>`",
            left.path.display(),
            left.reason
        ));
    }
    if let Some(kept) = &outcome.corrupt {
        term.note(format_args!(
            "the unreadable index was kept as `{}`",
            kept.display()
        ));
    }
    if outcome.repaired {
        term.status(
            "Repaired",
            format_args!(
                "the registry index: {} plugins recovered, {} left out",
                outcome.plugins.len(),
                outcome.unverified.len()
            ),
        );
    }
    term.emit_as("registry-repaired", &outcome)?;
    Ok(())
}

/// The table on stdout (human), or one message per check (JSON).
fn print(cx: &Context, checks: &[Check]) -> Result<()> {
    for check in checks {
        cx.term.emit(check)?;
    }
    if !cx.term.is_human() {
        return Ok(());
    }
    let mut out = cx.term.stdout();
    let h = style::HEADER;
    let name_w = checks
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0)
        .max(5);
    let found_w = checks
        .iter()
        .map(|c| c.found.as_deref().unwrap_or("-").len())
        .max()
        .unwrap_or(0)
        .max(5);
    let expected_w = checks.iter().map(|c| c.expected.len()).max().unwrap_or(0);
    writeln!(
        out,
        "{h}{:<name_w$}  {:<found_w$}  {:<expected_w$}  {:<13}  for{h:#}",
        "check", "found", "expected", "status"
    )?;
    for check in checks {
        let status_style = match (check.is_ok(), check.required) {
            (true, _) => style::GOOD,
            (false, true) => style::BAD,
            (false, false) => style::CAUTION,
        };
        writeln!(
            out,
            "{:<name_w$}  {:<found_w$}  {:<expected_w$}  {status_style}{:<13}{status_style:#}  {}",
            check.name,
            check.found.as_deref().unwrap_or("-"),
            check.expected,
            check.status.label(),
            check.needed_for,
        )?;
    }
    let broken: Vec<&Check> = checks.iter().filter(|c| !c.is_ok()).collect();
    if !broken.is_empty() {
        writeln!(out, "\n{h}to fix{h:#}")?;
        for check in broken {
            let how = check.fix.as_deref().unwrap_or("-");
            let auto = if check.fixable {
                " (or `cargo flowtrace doctor --fix`)"
            } else {
                ""
            };
            writeln!(out, "  {}: {how}{auto}", check.name)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// The plugin `doctor` looks at: `--manifest-path`, else the nearest `flowtrace.toml`, else
/// none.
fn plugin_manifest(cx: &Context) -> Result<Option<PathBuf>> {
    match cx.global.manifest_path {
        Some(_) => cx.manifest_path().map(Some),
        None => {
            let cwd = std::env::current_dir()?;
            Ok(context::find_manifest(&cwd).ok())
        }
    }
}

/// What this binary carries, then the plugin's requirements against it: tables on stdout
/// (human), or one message each (JSON).
fn print_carried(cx: &Context, carried: &Carried, requirements: &[Requirement]) -> Result<()> {
    cx.term.emit(carried)?;
    for requirement in requirements {
        cx.term.emit(requirement)?;
    }
    if !cx.term.is_human() {
        return Ok(());
    }
    let mut out = cx.term.stdout();
    let h = style::HEADER;
    writeln!(
        out,
        "\n{h}cargo-flowtrace {} carries{h:#}",
        carried.cargo_flowtrace
    )?;
    let sdks = carried.sdks.0.iter().map(|(language, sdk)| {
        (
            language.as_str(),
            format!("{} {}", sdk.package, sdk.version),
        )
    });
    let rows = std::iter::once(("contract", carried.contract.clone())).chain(sdks);
    for (what, version) in rows {
        writeln!(out, "  {what:<10}  {version}")?;
    }
    if let Some(first) = requirements.first() {
        writeln!(out, "\n{h}plugin `{}` requires{h:#}", first.plugin)?;
        let cwd = std::env::current_dir().unwrap_or_default();
        for r in requirements {
            let (label, status) = match r.ok {
                Some(true) => ("ok", style::GOOD),
                Some(false) => ("not carried", style::BAD),
                None => ("not supplied", style::CAUTION),
            };
            let written = r.written.replace(&format!("{}/", cwd.display()), "");
            let note = match r.ok {
                Some(false) => format!(" (carried: {})", r.carried),
                None => " (the build uses what it names)".to_string(),
                Some(true) => String::new(),
            };
            writeln!(out, "  {status}{label:<12}{status:#}  {written}{note}")?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Where cargo builds Rust plugins, and how to clean it or build elsewhere.
fn print_target_dir(cx: &Context, dir: &std::path::Path, shared: bool) -> Result<()> {
    if !cx.term.is_human() {
        return Ok(());
    }
    let mut out = cx.term.stdout();
    let h = style::HEADER;
    writeln!(out, "\n{h}Rust plugins are built in{h:#}")?;
    writeln!(out, "  {}", dir.display())?;
    if shared {
        writeln!(
            out,
            "  shared by every Rust plugin, so the SDK and its dependencies compile once;\n  \
             remove it to reclaim the space, or set `CARGO_TARGET_DIR` to build elsewhere"
        )?;
    } else {
        writeln!(out, "  the target dir cargo is configured with")?;
    }
    out.flush()?;
    Ok(())
}
