//! `[config]`: the plugin's settings, each with a type and maybe a default of that type.

use std::collections::BTreeMap;

use serde_spanned::Spanned;

use super::cx::Cx;
use super::diag::{show, suggest};
use super::raw::{RawConfigField, RawConfigValue, RawEntries};
use super::validate::text;
use super::{ConfigField, ConfigType, ConfigValue};

/// Every config type, in the order the help lists them.
const CONFIG_TYPES: [ConfigType; 5] = [
    ConfigType::String,
    ConfigType::Integer,
    ConfigType::Float,
    ConfigType::Boolean,
    ConfigType::StringList,
];

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
    let types = CONFIG_TYPES.map(ConfigType::as_str);
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
    let Some(parsed) = CONFIG_TYPES
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
    let converted = match (ty, &value) {
        (ConfigType::String, RawConfigValue::String(s)) => Some(ConfigValue::String(s.clone())),
        (ConfigType::Integer, RawConfigValue::Integer(i)) => Some(ConfigValue::Integer(*i)),
        (ConfigType::Float, RawConfigValue::Float(f)) => Some(ConfigValue::Float(*f)),
        // As TOML readers do: `1` is a fine `1.0`.
        (ConfigType::Float, RawConfigValue::Integer(i)) => Some(ConfigValue::Float(*i as f64)),
        (ConfigType::Boolean, RawConfigValue::Boolean(b)) => Some(ConfigValue::Boolean(*b)),
        (ConfigType::StringList, RawConfigValue::Array(items)) => {
            let mut strings = Vec::with_capacity(items.len());
            for item in items {
                match item.get_ref() {
                    RawConfigValue::String(s) => strings.push(s.clone()),
                    other => {
                        cx.error(
                            item.span(),
                            format!(
                                "default for config key `{}` must be a list of strings, but \
                                 holds {}",
                                show(name),
                                other.describe()
                            ),
                            None,
                        );
                        return None;
                    }
                }
            }
            Some(ConfigValue::StringList(strings))
        }
        _ => None,
    };
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
