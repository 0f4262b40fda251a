//! `cargo flowtrace enable <id> [--grant] [--embedder <id>] [--default-embedder]`

use anyhow::{Context as _, Result};
use clap::Args;
use flowtrace_plugins::registry::{RegistryError, SettingEdit};

use crate::context::Context;
use crate::registry::{self, describe_items};

/// Enable an installed plugin, so Flowtrace runs it.
///
/// Its dependencies must be installed and enabled at versions that satisfy it. A plugin
/// whose installed version asks for capabilities beyond those granted (an upgrade that wants
/// a new capability, host or environment variable) is enabled only once they are granted:
/// `--grant` grants them; on a terminal you are shown them and asked.
///
/// `--config KEY=VALUE` sets one of its settings (the keys its manifest declares under
/// `[config]`, checked against their types) in the same step: when either is refused,
/// neither happens. `cargo flowtrace config` shows and changes them afterwards.
///
/// A plugin granted `embeddings` is served by an embedder plugin that you choose, never one
/// picked for you: `--embedder <ID>` chooses it for this plugin, and `--default-embedder`
/// makes the embedder being enabled the one that serves every plugin without a choice of
/// its own. `cargo flowtrace info` shows which embedder serves which plugin.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  cargo flowtrace enable sample-evaluator
  cargo flowtrace enable sample-evaluator --grant     approve what its upgrade asks for
  cargo flowtrace enable sample-evaluator --config max-output-chars=2000
  cargo flowtrace enable embedder-minilm --default-embedder
  cargo flowtrace enable similarity-check --embedder embedder-minilm")]
pub struct EnableCommand {
    /// The plugin's id, as `cargo flowtrace list` shows it
    #[arg(value_name = "ID")]
    pub id: String,

    /// Grant the capabilities the installed version asks for beyond those granted
    #[arg(long)]
    pub grant: bool,

    /// Set a setting of the plugin (repeatable); lists are `a,b,c`
    #[arg(long, value_name = "KEY=VALUE", value_parser = crate::eval::source::parse_config_arg)]
    pub config: Vec<(String, String)>,
    /// The installed embedder that serves this plugin's `embeddings` capability
    #[arg(long, value_name = "ID")]
    pub embedder: Option<String>,

    /// Make this embedder the registry's default: it serves the `embeddings` capability of
    /// every plugin without an embedder of its own
    #[arg(long, conflicts_with = "embedder")]
    pub default_embedder: bool,
}

impl EnableCommand {
    /// Run `enable`.
    pub fn exec(self, cx: &Context) -> Result<()> {
        let term = &cx.term;
        let id = registry::parse_id(&self.id)?;
        let embedder = self
            .embedder
            .as_deref()
            .map(registry::parse_id)
            .transpose()?;
        let registry = registry::open(cx)?;
        let settings = if self.config.is_empty() {
            Vec::new()
        } else {
            let current = registry
                .settings(&id)
                .with_context(|| format!("failed to read the settings of plugin `{id}`"))?;
            let given: Vec<(&str, &str)> = self
                .config
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            super::config::parse_edits(&current, &given)?
        };
        let outcome = match registry.enable_with(&id, self.grant, &settings) {
            Err(RegistryError::GrantsPending { id, version, added })
                if registry::can_prompt(term) =>
            {
                registry::show_pending(term, &id, &version, &added);
                let question = format!("Grant these capabilities and enable `{id}`?");
                if !registry::confirm(&question)? {
                    term.note(format_args!("`{id}` stays disabled"));
                    return Ok(());
                }
                registry.enable_with(&id, true, &settings)
            }
            other => other,
        }
        .with_context(|| format!("failed to enable plugin `{id}`"))?;
        if outcome.unchanged {
            term.note(format_args!(
                "plugin `{}` v{} is enabled already",
                outcome.id, outcome.version
            ));
        } else {
            term.status(
                "Enabled",
                format_args!("{} v{}", outcome.id, outcome.version),
            );
        }
        for edit in &settings {
            if let SettingEdit::Set(key, value) = edit {
                let value = super::config::show(Some(value));
                term.status("Set", format_args!("{id} {key} = {value}"));
            }
        }
        if !outcome.granted.is_empty() {
            term.status("Granted", describe_items(&outcome.granted));
        }
        term.emit_as("plugin-enabled", &outcome)?;
        if let Some(embedder) = &embedder {
            registry
                .set_embedder(Some(&id), Some(embedder))
                .with_context(|| format!("failed to choose the embedder of plugin `{id}`"))?;
            term.status(
                "Wired",
                format_args!("`{id}`'s embeddings are served by `{embedder}`"),
            );
        }
        if self.default_embedder {
            registry
                .set_embedder(None, Some(&id))
                .with_context(|| format!("failed to make `{id}` the default embedder"))?;
            term.status(
                "Wired",
                format_args!("`{id}` serves the embeddings of plugins without an embedder"),
            );
        }
        Ok(())
    }
}
