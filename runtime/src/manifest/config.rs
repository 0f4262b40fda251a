//! `[config]`: the plugin's settings, each with a type and maybe a default of that type.

use std::collections::BTreeMap;

use serde::de::{Deserializer, IgnoredAny};
use serde::Deserialize;
use serde_spanned::Spanned;

use super::cx::Cx;
use super::diag::{show, suggest};
use super::raw::{RawConfigField, RawConfigValue, RawEntries};
use super::validate::text;
use super::{ConfigField, ConfigType, ConfigValue};

impl ConfigType {
    /// Every config type, in the order messages list them.
    pub const ALL: [ConfigType; 5] = [
        ConfigType::String,
        ConfigType::Integer,
        ConfigType::Float,
        ConfigType::Boolean,
        ConfigType::StringList,
    ];

    /// `value`, in any self-describing serde format (a `toml::Value`, a `serde_json::Value`),
    /// as a value of this type, if it is one. An integer is a fine float, as TOML readers
    /// have it; a string list is an array of strings only. The manifest's defaults and
    /// `cargo flowtrace`'s fixture overrides are read with this.
    ///
    /// ```
    /// # use flowtrace_plugins::manifest::{ConfigType, ConfigValue};
    /// let value = serde_json::json!(2);
    /// assert_eq!(ConfigType::Float.coerce(&value), Some(ConfigValue::Float(2.0)));
    /// assert_eq!(ConfigType::String.coerce(&value), None);
    /// assert_eq!(ConfigType::Integer.coerce(&serde_json::json!(2.5)), None);
    /// assert_eq!(ConfigType::String.coerce(&serde_json::json!({"a": "b"})), None);
    /// assert_eq!(ConfigType::StringList.coerce(&serde_json::json!(["a", 1])), None);
    /// let list = serde_json::json!(["a", "b"]);
    /// assert_eq!(
    ///     ConfigType::StringList.coerce(&list),
    ///     Some(ConfigValue::StringList(vec!["a".into(), "b".into()])),
    /// );
    /// ```
    pub fn coerce<'de, D: Deserializer<'de>>(self, value: D) -> Option<ConfigValue> {
        self.coerce_loose(&Loose::deserialize(value).ok()?)
    }

    /// Text as typed on a command line (`--config key=value`) as a value of this type: a
    /// string as it is; an integer, a float or a boolean (`true`, `false`) trimmed; a string
    /// list as comma-separated items, trimmed, empty ones left out.
    ///
    /// ```
    /// # use flowtrace_plugins::manifest::{ConfigType, ConfigValue};
    /// assert_eq!(ConfigType::Integer.parse(" 42"), Some(ConfigValue::Integer(42)));
    /// assert_eq!(ConfigType::Boolean.parse("yes"), None);
    /// assert_eq!(
    ///     ConfigType::StringList.parse("a, b,"),
    ///     Some(ConfigValue::StringList(vec!["a".into(), "b".into()])),
    /// );
    /// ```
    pub fn parse(self, text: &str) -> Option<ConfigValue> {
        match self {
            ConfigType::String => Some(ConfigValue::String(text.to_string())),
            ConfigType::Integer => text.trim().parse().ok().map(ConfigValue::Integer),
            ConfigType::Float => text.trim().parse().ok().map(ConfigValue::Float),
            ConfigType::Boolean => text.trim().parse().ok().map(ConfigValue::Boolean),
            ConfigType::StringList => Some(ConfigValue::StringList(
                text.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
            )),
        }
    }

    fn coerce_loose(self, value: &Loose) -> Option<ConfigValue> {
        Some(match (self, value) {
            (ConfigType::String, Loose::String(s)) => ConfigValue::String(s.clone()),
            (ConfigType::Integer, Loose::Integer(i)) => ConfigValue::Integer(*i),
            (ConfigType::Float, Loose::Float(f)) => ConfigValue::Float(*f),
            // As TOML readers do: `1` is a fine `1.0`.
            (ConfigType::Float, Loose::Integer(i)) => ConfigValue::Float(*i as f64),
            (ConfigType::Boolean, Loose::Boolean(b)) => ConfigValue::Boolean(*b),
            (ConfigType::StringList, Loose::Array(items)) => ConfigValue::StringList(
                items
                    .iter()
                    .map(|item| match item {
                        Loose::String(s) => Some(s.clone()),
                        _ => None,
                    })
                    .collect::<Option<Vec<_>>>()?,
            ),
            _ => return None,
        })
    }
}

impl ConfigValue {
    /// This value as JSON (a string, a number, a boolean, an array of strings), as the
    /// registry keeps a plugin's settings; `None` for a float JSON cannot hold (NaN, an
    /// infinity). [`ConfigType::coerce`] reads it back.
    ///
    /// ```
    /// # use flowtrace_plugins::manifest::{ConfigType, ConfigValue};
    /// let value = ConfigValue::StringList(vec!["a".into()]);
    /// let json = value.to_json().unwrap();
    /// assert_eq!(json, serde_json::json!(["a"]));
    /// assert_eq!(ConfigType::StringList.coerce(&json), Some(value));
    /// assert_eq!(ConfigValue::Float(f64::NAN).to_json(), None);
    /// ```
    pub fn to_json(&self) -> Option<serde_json::Value> {
        use serde_json::Value;
        Some(match self {
            ConfigValue::String(s) => Value::String(s.clone()),
            ConfigValue::Integer(i) => Value::from(*i),
            ConfigValue::Float(f) => Value::Number(serde_json::Number::from_f64(*f)?),
            ConfigValue::Boolean(b) => Value::Bool(*b),
            ConfigValue::StringList(items) => {
                Value::Array(items.iter().cloned().map(Value::String).collect())
            }
        })
    }
}

/// A value of any shape, before its type is known.
#[derive(Deserialize)]
#[serde(untagged)]
enum Loose {
    Boolean(bool),
    Integer(i64),
    Float(f64),
    String(String),
    Array(Vec<Loose>),
    /// A table, a date, a null: never a config value.
    Other(IgnoredAny),
}

impl From<&RawConfigValue> for Loose {
    fn from(value: &RawConfigValue) -> Self {
        match value {
            RawConfigValue::String(s) => Loose::String(s.clone()),
            RawConfigValue::Integer(i) => Loose::Integer(*i),
            RawConfigValue::Float(f) => Loose::Float(*f),
            RawConfigValue::Boolean(b) => Loose::Boolean(*b),
            RawConfigValue::Array(items) => {
                Loose::Array(items.iter().map(|i| Loose::from(i.get_ref())).collect())
            }
        }
    }
}

pub(crate) fn validate(
    cx: &mut Cx<'_, '_>,
    entries: RawEntries<Spanned<RawConfigField>>,
) -> BTreeMap<String, ConfigField> {
    let mut out = BTreeMap::new();
    for (key, field) in entries.0 {
        let name = key.get_ref();
        let valid_key = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !valid_key {
            cx.error(
                key.span(),
                format!(
                    "invalid config key `{}`: a key starts with a lowercase ASCII letter and \
                     holds only lowercase letters, digits, `_` and `-`",
                    show(name)
                ),
                None,
            );
        }
        if let Some(field) = config_field(cx, name, field) {
            out.insert(name.clone(), field);
        }
    }
    out
}

fn config_field(
    cx: &mut Cx<'_, '_>,
    name: &str,
    raw: Spanned<RawConfigField>,
) -> Option<ConfigField> {
    let table = raw.span();
    let raw = raw.into_inner();
    let types = ConfigType::ALL.map(ConfigType::as_str);
    let description = cx
        .optional(raw.description, &["config", name, "description"])
        .and_then(|d| {
            let what = format!("`description` in `[config.{}]`", show(name));
            text(cx, &d, &what, true)
        });
    let default = cx.optional(raw.default, &["config", name, "default"]);
    let ty = cx.required(raw.ty, &["config", name, "type"], table, || {
        format!("add `type = \"string\"`; valid types: {}", types.join(", "))
    })?;
    let Some(parsed) = ConfigType::ALL
        .into_iter()
        .find(|t| t.as_str() == ty.get_ref())
    else {
        cx.error(
            ty.span(),
            format!("unknown config type `{}`", show(ty.get_ref())),
            Some(suggest(ty.get_ref(), &types, "types")),
        );
        return None;
    };
    let default = match default {
        Some(value) => Some(config_default(cx, name, parsed, value)?),
        None => None,
    };
    Some(ConfigField {
        ty: parsed,
        default,
        description,
    })
}

/// A default must have the field's type; an integer is a fine float.
fn config_default(
    cx: &mut Cx<'_, '_>,
    name: &str,
    ty: ConfigType,
    value: Spanned<RawConfigValue>,
) -> Option<ConfigValue> {
    let span = value.span();
    let value = value.into_inner();
    // A list with an item of another type is worth pointing at that item.
    if let (ConfigType::StringList, RawConfigValue::Array(items)) = (ty, &value) {
        if let Some(item) = items
            .iter()
            .find(|i| !matches!(i.get_ref(), RawConfigValue::String(_)))
        {
            cx.error(
                item.span(),
                format!(
                    "default for config key `{}` must be a list of strings, but holds {}",
                    show(name),
                    item.get_ref().describe()
                ),
                None,
            );
            return None;
        }
    }
    let converted = ty.coerce_loose(&Loose::from(&value));
    if converted.is_none() {
        let help = match (&value, ty) {
            (RawConfigValue::String(s), ConfigType::Integer) if s.trim().parse::<i64>().is_ok() => {
                Some(format!("write `{}` without quotes", s.trim()))
            }
            (RawConfigValue::String(s), ConfigType::Float) if s.trim().parse::<f64>().is_ok() => {
                Some(format!("write `{}` without quotes", s.trim()))
            }
            (RawConfigValue::String(s), ConfigType::Boolean)
                if matches!(s.trim(), "true" | "false") =>
            {
                Some(format!("write `{}` without quotes", s.trim()))
            }
            (_, ConfigType::StringList) => Some("write a list, like `[\"a\", \"b\"]`".into()),
            _ => None,
        };
        cx.error(
            span,
            format!(
                "default for config key `{}` is {}, but its type is `{}`",
                show(name),
                value.describe(),
                ty.as_str()
            ),
            help,
        );
    }
    converted
}
