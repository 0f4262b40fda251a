//! `cargo flowtrace disable <id>`

use anyhow::{Context as _, Result};
use clap::Args;

use crate::context::Context;
use crate::registry;

/// Disable an installed plugin: it stays installed, and Flowtrace no longer runs it.
///
/// Refused while enabled plugins depend on it, which are listed; `--force` disables it
/// anyway and warns that they will not run correctly.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  cargo flowtrace disable sample-evaluator
  cargo flowtrace disable shared-embedder --force     even though enabled plugins use it")]
pub struct DisableCommand {
    /// The plugin's id, as `cargo flowtrace list` shows it
    #[arg(value_name = "ID")]
    pub id: String,

    /// Disable it even though enabled plugins depend on it
    #[arg(long)]
    pub force: bool,
}

impl DisableCommand {
    /// Run `disable`.
    pub fn exec(self, cx: &Context) -> Result<()> {
        let term = &cx.term;
        let id = registry::parse_id(&self.id)?;
        let registry = registry::open(cx)?;
        let outcome = registry
            .disable(&id, self.force)
            .with_context(|| format!("failed to disable plugin `{id}`"))?;
        if outcome.unchanged {
            term.note(format_args!(
                "plugin `{}` v{} is disabled already",
                outcome.id, outcome.version
            ));
        } else {
            term.status(
                "Disabled",
                format_args!("{} v{}", outcome.id, outcome.version),
            );
        }
        for warning in &outcome.warnings {
            term.warn(warning);
        }
        term.emit_as("plugin-disabled", &outcome)?;
        Ok(())
    }
}
