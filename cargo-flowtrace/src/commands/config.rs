//! `cargo flowtrace config <id> [KEY[=VALUE]]... [--unset KEY]...`

use anyhow::{anyhow, Context as _, Result};
use clap::Args;
use flowtrace_plugins::manifest::ConfigValue;
use flowtrace_plugins::registry::{PluginSettings, Setting, SettingEdit};

use crate::context::Context;
use crate::error::ResultExt as _;
use crate::registry;
use crate::term::style;

/// Show or change the settings of an installed plugin.
///
/// Settings are values for the keys its manifest declares under `[config]`: each checked
/// against the declared type, kept in the registry, and used wherever the plugin runs
/// (`cargo flowtrace eval`, Flowtrace itself). An upgrade keeps them; a setting the new
/// version does not take is reported, and the plugin does not load until it is changed.
///
/// With no KEY, shows every setting: its type, value (set, or the default), and description.
/// `KEY` shows one; `KEY=VALUE` sets it (integers `42`, floats `0.5`, booleans `true` or
/// `false`, string lists `a,b,c`); `--unset KEY` returns it to its default. `--message-format
/// json` writes one `plugin-config` message.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  cargo flowtrace config sample-evaluator                       every setting
  cargo flowtrace config sample-evaluator max-output-chars      one setting
  cargo flowtrace config sample-evaluator max-output-chars=2000 tags=prod,eu
  cargo flowtrace config sample-evaluator --unset tags")]
pub struct ConfigCommand {
    /// The plugin's id, as `cargo flowtrace list` shows it
    #[arg(value_name = "ID")]
    pub id: String,

    /// A setting to show (`KEY`) or to set (`KEY=VALUE`)
    #[arg(value_name = "KEY[=VALUE]")]
    pub settings: Vec<String>,

    /// Remove the value set for KEY: its default applies again (repeatable)
    #[arg(long, value_name = "KEY")]
    pub unset: Vec<String>,
}

impl ConfigCommand {
    /// Run `config`.
    pub fn exec(self, cx: &Context) -> Result<()> {
        let term = &cx.term;
        let id = registry::parse_id(&self.id)?;
        let registry = registry::open(cx)?;
        let current = registry
            .settings(&id)
            .with_context(|| format!("failed to read the settings of plugin `{id}`"))?;
        let (mut shown, sets): (Vec<&str>, Vec<(&str, &str)>) =
            self.settings
                .iter()
                .fold((Vec::new(), Vec::new()), |(mut shown, mut sets), arg| {
                    match arg.split_once('=') {
                        Some((key, value)) => sets.push((key.trim(), value)),
                        None => shown.push(arg.trim()),
                    }
                    (shown, sets)
                });
        let mut edits = parse_edits(&current, &sets)?;
        edits.extend(
            self.unset
                .iter()
                .map(|k| SettingEdit::Unset(k.trim().to_string())),
        );
        unknown_keys(&current, &shown)?;

        let settings = if edits.is_empty() {
            current
        } else {
            let outcome = registry
                .configure(&id, &edits)
                .with_context(|| format!("failed to change the settings of plugin `{id}`"))?;
            if outcome.unchanged {
                term.note(format_args!("the settings of `{id}` are unchanged"));
            }
            for edit in &edits {
                match edit {
                    SettingEdit::Set(key, _) => {
                        let value = outcome
                            .settings
                            .settings
                            .iter()
                            .find(|s| s.key == *key)
                            .and_then(|s| s.value.as_ref());
                        term.status("Set", format_args!("{id} {key} = {}", show(value)));
                    }
                    SettingEdit::Unset(key) => {
                        term.status("Unset", format_args!("{id} {key}"));
                    }
                }
            }
            // After a change, show what was named to be shown.
            if shown.is_empty() {
                term.emit_as("plugin-config", &outcome.settings)?;
                return Ok(());
            }
            shown.sort_unstable();
            outcome.settings
        };
        term.emit_as("plugin-config", &settings)?;
        if term.is_human() {
            print(&mut term.stdout(), &settings, &shown)?;
        }
        Ok(())
    }
}

/// `KEY=VALUE` pairs as values of the declared types; every problem at once.
pub(crate) fn parse_edits(
    current: &PluginSettings,
    sets: &[(&str, &str)],
) -> Result<Vec<SettingEdit>> {
    let mut edits = Vec::new();
    let mut problems = Vec::new();
    for (key, text) in sets {
        let Some(setting) = current.settings.iter().find(|s| s.key == *key) else {
            problems.push(format!("`{key}={text}`: {}", undeclared(current, key)));
            continue;
        };
        match setting.ty.parse(text) {
            Some(value) => edits.push(SettingEdit::Set(key.to_string(), value)),
            None => problems.push(format!(
                "`{key}={text}`: `{key}` is declared as `{}`",
                setting.ty.as_str()
            )),
        }
    }
    if problems.is_empty() {
        return Ok(edits);
    }
    Err(anyhow!(
        "invalid settings for plugin `{}` {}:\n  {}",
        current.id,
        current.version,
        problems.join("\n  ")
    ))
    .help(
        "set only the keys the plugin declares under `[config]` (`cargo flowtrace config <id>` \
         lists them); give integers as `42`, floats as `0.5`, booleans as `true` or `false`, \
         and string lists as `a,b,c`",
    )
}

fn unknown_keys(current: &PluginSettings, shown: &[&str]) -> Result<()> {
    let problems: Vec<String> = shown
        .iter()
        .filter(|key| !current.settings.iter().any(|s| s.key == **key))
        .map(|key| undeclared(current, key))
        .collect();
    if problems.is_empty() {
        return Ok(());
    }
    Err(anyhow!(
        "no such setting of plugin `{}` {}:\n  {}",
        current.id,
        current.version,
        problems.join("\n  ")
    ))
    .help(format!(
        "`cargo flowtrace config {}` lists its settings",
        current.id
    ))
}

fn undeclared(current: &PluginSettings, key: &str) -> String {
    let declared: Vec<String> = current
        .settings
        .iter()
        .map(|s| format!("`{}`", s.key))
        .collect();
    format!(
        "`{key}` is not declared under `[config]` by version {} (declared: {})",
        current.version,
        if declared.is_empty() {
            "none".to_string()
        } else {
            declared.join(", ")
        }
    )
}

/// A value as JSON text (`0.8`, `"text"`, `["a","b"]`): typed, and unambiguous.
pub fn show(value: Option<&ConfigValue>) -> String {
    match value.map(|v| v.to_json()) {
        Some(Some(json)) => json.to_string(),
        Some(None) => format!("{value:?}"),
        None => "(not set)".to_string(),
    }
}

/// One line per setting: `key = value (type, set | default | required)`, then its description.
pub fn print(
    out: &mut impl std::io::Write,
    settings: &PluginSettings,
    only: &[&str],
) -> std::io::Result<()> {
    let h = style::HEADER;
    if only.is_empty() {
        writeln!(out, "{h}{} {} settings{h:#}", settings.id, settings.version)?;
        if settings.settings.is_empty() {
            writeln!(out, "  none: its manifest declares no `[config]`")?;
        }
    }
    for setting in &settings.settings {
        if !only.is_empty() && !only.contains(&setting.key.as_str()) {
            continue;
        }
        writeln!(out, "  {}", line(setting))?;
        if let Some(description) = &setting.description {
            writeln!(out, "      {description}")?;
        }
    }
    for invalid in &settings.invalid {
        writeln!(
            out,
            "  {} = {} (not taken: {})",
            invalid.key, invalid.value, invalid.problem
        )?;
    }
    Ok(())
}

/// `threshold = 0.8 (float, set; default 0.5)`
pub fn line(setting: &Setting) -> String {
    let ty = setting.ty.as_str();
    match (&setting.value, &setting.default) {
        (Some(value), Some(default)) => format!(
            "{} = {} ({ty}, set; default {})",
            setting.key,
            show(Some(value)),
            show(Some(default))
        ),
        (Some(value), None) => format!("{} = {} ({ty}, set)", setting.key, show(Some(value))),
        (None, Some(default)) => {
            format!("{} = {} ({ty}, default)", setting.key, show(Some(default)))
        }
        (None, None) => format!(
            "{} is not set ({ty}, required: the plugin does not load without it)",
            setting.key
        ),
    }
}
