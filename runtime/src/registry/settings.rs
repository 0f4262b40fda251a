//! The user's settings of installed plugins: values for the `[config]` keys their manifests
//! declare, kept in the index per plugin (an upgrade keeps them), checked against the
//! active version's declared types when they are set and again when the plugin is loaded.

use std::collections::BTreeMap;

use semver::Version;
use serde::Serialize;
use serde_json::Value;

use crate::manifest::{ConfigField, ConfigType, ConfigValue, Manifest, PluginId};

use super::error::RegistryError;
use super::index::Index;
use super::lifecycle::{plugin, plugin_mut};
use super::Registry;

/// One change to a plugin's settings.
#[derive(Debug, Clone, PartialEq)]
pub enum SettingEdit {
    /// Set `key` to a value of its declared type (an integer is a fine `float`).
    Set(String, ConfigValue),
    /// Forget the value of `key`: its default applies again.
    Unset(String),
}

/// One declared setting of an installed plugin, as [`Registry::settings`] shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Setting {
    /// The `[config]` key.
    pub key: String,
    /// Its declared type.
    #[serde(rename = "type", serialize_with = "type_name")]
    pub ty: ConfigType,
    /// Its description, if the manifest gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The manifest's default; `None` makes the setting required.
    #[serde(serialize_with = "value_json")]
    pub default: Option<ConfigValue>,
    /// The value the user set, if any: it replaces the default.
    #[serde(serialize_with = "value_json")]
    pub value: Option<ConfigValue>,
}

impl Setting {
    /// What the plugin runs with: the value set, else the default; `None` when the setting
    /// is required and not set (the plugin then fails to load).
    pub fn effective(&self) -> Option<&ConfigValue> {
        self.value.as_ref().or(self.default.as_ref())
    }
}

/// The settings of an installed plugin's active version.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct PluginSettings {
    /// The plugin.
    pub id: PluginId,
    /// Its active version, whose manifest declares the settings.
    pub version: Version,
    /// Every key its manifest declares under `[config]`, in key order.
    pub settings: Vec<Setting>,
    /// Values recorded for keys the active version does not declare, or of another type
    /// (left by an upgrade), with what is wrong with each: loading the plugin fails until
    /// they are unset.
    pub invalid: Vec<InvalidSetting>,
}

/// A recorded value the active version does not take.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct InvalidSetting {
    /// The key.
    pub key: String,
    /// The value recorded.
    pub value: Value,
    /// Why the active version does not take it.
    pub problem: String,
}

/// What [`Registry::configure`] did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ConfigureOutcome {
    /// The settings after the change.
    #[serde(flatten)]
    pub settings: PluginSettings,
    /// Whether nothing changed (every value was set already, every unset key was not set).
    pub unchanged: bool,
}

fn type_name<S: serde::Serializer>(ty: &ConfigType, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(ty.as_str())
}

fn value_json<S: serde::Serializer>(value: &Option<ConfigValue>, s: S) -> Result<S::Ok, S::Error> {
    value.as_ref().and_then(ConfigValue::to_json).serialize(s)
}

impl Registry {
    /// The settings of the active version of an installed plugin: every key its manifest
    /// declares, with its type, default and the value the user set, and any recorded value
    /// the version does not take.
    pub fn settings(&self, id: &PluginId) -> Result<PluginSettings, RegistryError> {
        let index = Index::load(&self.store)?;
        let record = plugin(&self.store, &index, id)?;
        let manifest = self.active_manifest(id, &record.active, &index)?;
        Ok(describe(id, &record.active, &manifest, &record.config))
    }

    /// Change the settings of an installed plugin, each checked against the `[config]` its
    /// active version declares: an undeclared key, a value of another type or a float JSON
    /// cannot hold (NaN, an infinity) is [`RegistryError::Settings`], listing every problem
    /// at once, and nothing is changed. The index is written atomically, once.
    pub fn configure(
        &self,
        id: &PluginId,
        edits: &[SettingEdit],
    ) -> Result<ConfigureOutcome, RegistryError> {
        let _lock = self.lock()?;
        let mut index = Index::load(&self.store)?;
        let record = plugin(&self.store, &index, id)?;
        let version = record.active.clone();
        let manifest = self.active_manifest(id, &version, &index)?;
        let mut config = record.config.clone();
        let problems = apply(&manifest, &mut config, edits);
        if !problems.is_empty() {
            return Err(RegistryError::Settings {
                id: id.clone(),
                version,
                problems,
            });
        }
        let record = plugin_mut(&self.store, &mut index, id)?;
        let unchanged = record.config == config;
        if !unchanged {
            record.config = config;
            index.save(&self.store)?;
        }
        let record = plugin(&self.store, &index, id)?;
        Ok(ConfigureOutcome {
            settings: describe(id, &version, &manifest, &record.config),
            unchanged,
        })
    }

    /// The manifest of the active version, checked against its recorded sha256.
    fn active_manifest(
        &self,
        id: &PluginId,
        version: &Version,
        index: &Index,
    ) -> Result<Manifest, RegistryError> {
        let record = plugin(&self.store, index, id)?;
        super::lifecycle::read_manifest(&self.store, id, version, record.active_record())
    }
}

/// Apply `edits` to the recorded settings `config`, each checked against `manifest`; what
/// is wrong with each edit that does not apply.
pub(crate) fn apply(
    manifest: &Manifest,
    config: &mut BTreeMap<String, Value>,
    edits: &[SettingEdit],
) -> Vec<String> {
    let mut problems = Vec::new();
    for edit in edits {
        match edit {
            SettingEdit::Set(key, value) => match manifest.config.get(key) {
                None => problems.push(undeclared(key, manifest)),
                Some(field) => match typed(key, field, value) {
                    Ok(json) => {
                        config.insert(key.clone(), json);
                    }
                    Err(problem) => problems.push(problem),
                },
            },
            SettingEdit::Unset(key) => {
                if config.remove(key).is_none() && !manifest.config.contains_key(key) {
                    problems.push(undeclared(key, manifest));
                }
            }
        }
    }
    problems
}

/// The recorded settings as the values `manifest` takes; every value it does not take is a
/// problem.
pub(crate) fn resolve(
    manifest: &Manifest,
    recorded: &BTreeMap<String, Value>,
) -> Result<BTreeMap<String, ConfigValue>, Vec<String>> {
    let mut values = BTreeMap::new();
    let mut problems = Vec::new();
    for (key, json) in recorded {
        match check(manifest, key, json) {
            Ok(value) => {
                values.insert(key.clone(), value);
            }
            Err(problem) => problems.push(problem),
        }
    }
    if problems.is_empty() {
        Ok(values)
    } else {
        Err(problems)
    }
}

/// The problems the recorded settings would have with `manifest` (an upgrade's warning).
pub(crate) fn problems(manifest: &Manifest, recorded: &BTreeMap<String, Value>) -> Vec<String> {
    resolve(manifest, recorded).err().unwrap_or_default()
}

fn check(manifest: &Manifest, key: &str, json: &Value) -> Result<ConfigValue, String> {
    let field = manifest
        .config
        .get(key)
        .ok_or_else(|| undeclared(key, manifest))?;
    field.ty.coerce(json).ok_or_else(|| {
        format!(
            "`{key}` is set to `{json}`, but version {} declares it as `{}`",
            manifest.plugin.version,
            field.ty.as_str()
        )
    })
}

fn describe(
    id: &PluginId,
    version: &Version,
    manifest: &Manifest,
    recorded: &BTreeMap<String, Value>,
) -> PluginSettings {
    let settings = manifest
        .config
        .iter()
        .map(|(key, field)| Setting {
            key: key.clone(),
            ty: field.ty,
            description: field.description.clone(),
            default: field.default.clone(),
            value: recorded.get(key).and_then(|json| field.ty.coerce(json)),
        })
        .collect();
    let invalid = recorded
        .iter()
        .filter_map(|(key, json)| {
            check(manifest, key, json)
                .err()
                .map(|problem| InvalidSetting {
                    key: key.clone(),
                    value: json.clone(),
                    problem,
                })
        })
        .collect();
    PluginSettings {
        id: id.clone(),
        version: version.clone(),
        settings,
        invalid,
    }
}

/// `value` as the JSON the index keeps, if it has the field's type.
fn typed(key: &str, field: &ConfigField, value: &ConfigValue) -> Result<Value, String> {
    let value = match (field.ty, value) {
        (ConfigType::Float, ConfigValue::Integer(i)) => ConfigValue::Float(*i as f64),
        _ => value.clone(),
    };
    if value.ty() != field.ty {
        return Err(format!(
            "`{key}` is declared as `{}`, not `{}`",
            field.ty.as_str(),
            value.ty().as_str()
        ));
    }
    value.to_json().ok_or_else(|| {
        format!("`{key}`: NaN and infinities cannot be kept as settings (JSON has no such number)")
    })
}

fn undeclared(key: &str, manifest: &Manifest) -> String {
    let declared: Vec<String> = manifest.config.keys().map(|k| format!("`{k}`")).collect();
    format!(
        "`{key}` is not declared under `[config]` by version {} (declared: {})",
        manifest.plugin.version,
        if declared.is_empty() {
            "none".to_string()
        } else {
            declared.join(", ")
        }
    )
}
