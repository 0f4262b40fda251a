//! `cargo flowtrace uninstall <id> [--version V]`

use anyhow::{Context as _, Result};
use clap::Args;
use semver::Version;

use crate::context::Context;
use crate::registry;

/// Remove a plugin from the local registry, or one inactive version of it.
///
/// Removing the plugin is refused while enabled plugins depend on it, which are listed;
/// `--force` removes it anyway and warns that they will not run correctly. `--version`
/// removes one installed version that is not the active one.
#[derive(Debug, Args)]
#[command(
    disable_version_flag = true,
    after_help = "\
Examples:
  cargo flowtrace uninstall sample-evaluator                  every version
  cargo flowtrace uninstall sample-evaluator --version 0.1.0  one old version
  cargo flowtrace uninstall shared-embedder --force           even though plugins use it"
)]
pub struct UninstallCommand {
    /// The plugin's id, as `cargo flowtrace list` shows it
    #[arg(value_name = "ID")]
    pub id: String,

    /// Remove only this version (not the active one)
    #[arg(long, value_name = "VERSION")]
    pub version: Option<Version>,

    /// Remove it even though enabled plugins depend on it
    #[arg(long)]
    pub force: bool,
}

impl UninstallCommand {
    /// Run `uninstall`.
    pub fn exec(self, cx: &Context) -> Result<()> {
        let term = &cx.term;
        let id = registry::parse_id(&self.id)?;
        let registry = registry::open(cx)?;
        let outcome = registry
            .uninstall(&id, self.version.as_ref(), self.force)
            .with_context(|| format!("failed to uninstall plugin `{id}`"))?;
        let removed: Vec<String> = outcome.removed.iter().map(|v| format!("v{v}")).collect();
        term.status(
            "Removed",
            format_args!("{} {}", outcome.id, removed.join(", ")),
        );
        if !outcome.remaining.is_empty() {
            let remaining: Vec<String> =
                outcome.remaining.iter().map(|v| format!("v{v}")).collect();
            term.note(format_args!(
                "still installed: {} {}",
                outcome.id,
                remaining.join(", ")
            ));
        }
        for warning in &outcome.warnings {
            term.warn(warning);
        }
        term.emit_as("plugin-uninstalled", &outcome)?;
        Ok(())
    }
}
