//! `cargo flowtrace info <id>`

use anyhow::{Context as _, Result};
use clap::Args;
use flowtrace_plugins::manifest::PluginKind;
use flowtrace_plugins::registry::{EmbedderChoice, PluginDetails, PluginSettings};

use crate::context::Context;
use crate::registry::{self, describe_capabilities, describe_items};
use crate::term::style;

/// Show everything the registry knows of an installed plugin.
///
/// Its description, kind and language; whether it is enabled; the capabilities granted,
/// those its manifest declares, and any awaiting `enable --grant`; its dependencies and the
/// enabled plugins depending on it; its settings (`cargo flowtrace config`); which embedder
/// serves its `embeddings` (or, for an embedder, which plugins it serves); and every installed
/// version with its sha256, source, install time and directory. `--message-format json`
/// writes one `plugin-info` message.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  cargo flowtrace info sample-evaluator
  cargo flowtrace info sample-evaluator --message-format json")]
pub struct InfoCommand {
    /// The plugin's id, as `cargo flowtrace list` shows it
    #[arg(value_name = "ID")]
    pub id: String,
}

impl InfoCommand {
    /// Run `info`.
    pub fn exec(self, cx: &Context) -> Result<()> {
        let id = registry::parse_id(&self.id)?;
        let registry = registry::open(cx)?;
        let details = registry
            .info(&id)
            .with_context(|| format!("failed to read plugin `{id}` from the registry"))?;
        // The settings need the active manifest, read and checked: an error there is shown
        // with the rest, not instead of it.
        let settings = registry
            .settings(&id)
            .map_err(|e| format!("{:#}", anyhow::Error::from(e)));
        #[derive(serde::Serialize)]
        #[serde(rename_all = "kebab-case")]
        struct Info<'a> {
            #[serde(flatten)]
            details: &'a PluginDetails,
            #[serde(skip_serializing_if = "Option::is_none")]
            settings: Option<&'a PluginSettings>,
            #[serde(skip_serializing_if = "Option::is_none")]
            settings_error: Option<&'a str>,
        }
        cx.term.emit_as(
            "plugin-info",
            &Info {
                details: &details,
                settings: settings.as_ref().ok(),
                settings_error: settings.as_ref().err().map(String::as_str),
            },
        )?;
        if cx.term.is_human() {
            print(&mut cx.term.stdout(), &details, &settings)?;
        }
        Ok(())
    }
}

fn print(
    out: &mut impl std::io::Write,
    details: &PluginDetails,
    settings: &Result<PluginSettings, String>,
) -> std::io::Result<()> {
    let s = &details.summary;
    let h = style::HEADER;
    writeln!(out, "{h}{} {}{h:#} ({})", s.id, s.version, s.name)?;
    if let Some(description) = &details.description {
        writeln!(out, "{description}")?;
    }
    writeln!(out)?;
    let enabled = if s.enabled {
        "yes".to_string()
    } else if s.pending_grants.is_empty() {
        "no".to_string()
    } else {
        format!("no: waits for `cargo flowtrace enable {} --grant`", s.id)
    };
    let field = |out: &mut dyn std::io::Write, name: &str, value: &dyn std::fmt::Display| {
        writeln!(out, "{name:>14}: {value}")
    };
    field(out, "kind", &s.kind)?;
    field(out, "language", &s.language)?;
    field(out, "enabled", &enabled)?;
    field(out, "granted", &describe_capabilities(&s.capabilities))?;
    field(
        out,
        "declared",
        &describe_capabilities(&details.declared_capabilities),
    )?;
    if !s.pending_grants.is_empty() {
        field(out, "pending", &describe_items(&s.pending_grants))?;
    }
    let dependencies: Vec<String> = details
        .dependencies
        .iter()
        .map(|(id, req)| format!("{id} {req}"))
        .collect();
    field(out, "dependencies", &joined_or_none(&dependencies))?;
    let dependents: Vec<String> = details.dependents.iter().map(ToString::to_string).collect();
    field(out, "dependents", &joined_or_none(&dependents))?;
    match &details.embedder {
        Some(EmbedderChoice::None) => field(
            out,
            "embeddings",
            &format_args!(
                "no embedder chosen: it does not load until one is \
                 (`cargo flowtrace enable {} --embedder <ID>`)",
                s.id
            ),
        )?,
        Some(choice) => field(out, "embeddings", &format_args!("served by {choice}"))?,
        None => {}
    }
    if s.kind == PluginKind::Embedder {
        let served: Vec<String> = details.embeds_for.iter().map(ToString::to_string).collect();
        field(out, "embeds for", &joined_or_none(&served))?;
    }
    field(out, "source", &s.source)?;
    writeln!(out)?;
    match settings {
        Ok(settings) => super::config::print(out, settings, &[])?,
        Err(error) => writeln!(out, "{h}settings{h:#}\n  unreadable: {error}")?,
    }
    writeln!(out)?;
    writeln!(out, "{h}installed versions{h:#}")?;
    for v in &details.installed {
        writeln!(
            out,
            "  {}{}",
            v.version,
            if v.active { " (active)" } else { "" }
        )?;
        writeln!(
            out,
            "      sha256: {}",
            v.sha256
                .as_deref()
                .unwrap_or("(none recorded: refused at load)")
        )?;
        writeln!(out, "      source: {}", v.source)?;
        writeln!(out, "   installed: {}", v.installed_at)?;
        writeln!(out, "        path: {}", v.path.display())?;
    }
    Ok(())
}

fn joined_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}
