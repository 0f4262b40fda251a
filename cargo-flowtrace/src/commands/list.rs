//! `cargo flowtrace list`

use anyhow::{Context as _, Result};
use clap::Args;
use comfy_table::{CellAlignment, ColumnConstraint, Table};
use flowtrace_plugins::manifest::PluginKind;
use flowtrace_plugins::registry::{BrokenPlugin, PluginSummary};
use serde::Serialize;

use crate::context::Context;
use crate::registry::{self, describe_capabilities};
use crate::term::Message;

/// List the installed plugins.
///
/// The registry is `$FLOWTRACE_HOME` (default `~/.flowtrace`). One row per plugin: its id, active version, kind, language, whether it is enabled (or
/// waits for capabilities to be granted), the capabilities granted, and where the active
/// version came from. A plugin whose record in the registry index is broken is left out of
/// the table with a warning (the others are listed as usual). `--message-format json` writes
/// one `plugin-list` message with every field `cargo flowtrace info` knows of each plugin's
/// summary, and the broken records under `broken`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  cargo flowtrace list                         every installed plugin
  cargo flowtrace list --kind evaluator        only evaluators
  cargo flowtrace list --enabled               what Flowtrace runs
  cargo flowtrace list --message-format json | jq '.plugins[].id'")]
pub struct ListCommand {
    /// Only plugins of this kind
    #[arg(long, value_name = "KIND", value_parser = parse_kind)]
    pub kind: Option<PluginKind>,

    /// Only enabled plugins
    #[arg(long)]
    pub enabled: bool,
}

fn parse_kind(text: &str) -> Result<PluginKind, String> {
    PluginKind::parse(text).ok_or_else(|| {
        let kinds: Vec<String> = PluginKind::ALL.iter().map(|k| format!("`{k}`")).collect();
        format!("expected one of {}", kinds.join(", "))
    })
}

/// `{"reason": "plugin-list", "plugins": [...]}`
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
struct PluginList<'a> {
    home: String,
    plugins: &'a [PluginSummary],
    broken: &'a [BrokenPlugin],
}

impl Message for PluginList<'_> {
    const REASON: &'static str = "plugin-list";
}

impl ListCommand {
    /// Run `list`.
    pub fn exec(self, cx: &Context) -> Result<()> {
        let registry = registry::open(cx)?;
        let mut plugins = registry
            .list()
            .context("failed to list the installed plugins")?;
        plugins.retain(|p| (!self.enabled || p.enabled) && self.kind.is_none_or(|k| p.kind == k));
        // Their kind and state are unknown: shown whatever the filters.
        let broken = registry
            .broken()
            .context("failed to list the installed plugins")?;
        cx.term.emit(&PluginList {
            home: registry.store().home().display().to_string(),
            plugins: &plugins,
            broken: &broken,
        })?;
        if !cx.term.is_human() {
            return Ok(());
        }
        for plugin in &broken {
            cx.term.warn(format_args!(
                "plugin `{}` is left out: its record in the registry index is broken: {}",
                plugin.id, plugin.problem
            ));
            cx.term.help(format_args!(
                "reinstall it with `cargo flowtrace install --force <source>`, or remove it \
                 with `cargo flowtrace uninstall {}`",
                plugin.id
            ));
        }
        if plugins.is_empty() {
            let filtered = self.enabled || self.kind.is_some();
            cx.term.note(format_args!(
                "no {}plugins installed in `{}`",
                if filtered { "matching " } else { "" },
                registry.store().home().display()
            ));
            if !filtered {
                cx.term.help("install one with `cargo flowtrace install <plugin dir | .wasm | .tar.gz | git URL>`");
            }
            return Ok(());
        }
        use std::io::Write as _;
        writeln!(cx.term.stdout(), "{}", table(&plugins))?;
        Ok(())
    }
}

/// The table `list` prints: plain columns, no borders, like `cargo tree` or `docker ps`.
pub fn table(plugins: &[PluginSummary]) -> String {
    let mut table = Table::new();
    table
        .load_preset(comfy_table::presets::NOTHING)
        .set_header([
            "ID",
            "VERSION",
            "KIND",
            "LANGUAGE",
            "ENABLED",
            "CAPABILITIES",
            "SOURCE",
        ]);
    for plugin in plugins {
        table.add_row([
            plugin.id.to_string(),
            plugin.version.to_string(),
            plugin.kind.to_string(),
            plugin.language.to_string(),
            registry::enabled_label(plugin).to_string(),
            describe_capabilities(&plugin.capabilities),
            plugin.source.to_string(),
        ]);
    }
    for column in table.column_iter_mut() {
        column.set_padding((0, 2));
        column.set_cell_alignment(CellAlignment::Left);
        column.set_constraint(ColumnConstraint::ContentWidth);
    }
    table
        .lines()
        .map(|line| line.trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}
