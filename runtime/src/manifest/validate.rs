//! From the raw structs to a [`Manifest`]: every rule checked, every problem reported.

use std::collections::BTreeMap;
use std::ops::Range;

use semver::{Comparator, Op, Prerelease, Version, VersionReq};
use serde_spanned::Spanned;

use super::diag::{show, suggest, Diagnostics};
use super::load::{Loaded, Reported};
use super::raw::{RawBuild, RawConfigField, RawConfigValue, RawEntries, RawPlugin};
use super::{
    capabilities, limits, BuildInfo, ConfigField, ConfigType, ConfigValue, Language, Manifest,
    PluginId, PluginInfo, PluginKind,
};

/// Every config type, in the order the help lists them.
const CONFIG_TYPES: [ConfigType; 5] = [
    ConfigType::String,
    ConfigType::Integer,
    ConfigType::Float,
    ConfigType::Boolean,
    ConfigType::StringList,
];

/// What validation needs besides the value at hand.
pub(crate) struct Cx<'d, 'a> {
    pub diags: &'d mut Diagnostics<'a>,
    reported: Reported,
}

impl Cx<'_, '_> {
    pub(crate) fn error(&mut self, span: Range<usize>, message: String, help: Option<String>) {
        self.diags.error(span, message, help);
    }

    /// Report `path` as missing unless the loader already reported its value.
    pub(crate) fn missing(&mut self, span: Range<usize>, path: &[&str], help: String) {
        if self.reported.contains(path) {
            return;
        }
        let message = match path {
            [table] => format!("missing table `[{table}]`"),
            [table @ .., key] => format!("missing key `{key}` in `[{}]`", table.join(".")),
            [] => return,
        };
        self.error(span, message, Some(help));
    }
}

/// Check everything; `None` when anything is wrong (and then `diags` says what).
pub(crate) fn validate(loaded: Loaded, diags: &mut Diagnostics<'_>) -> Option<Manifest> {
    let Loaded {
        version,
        raw,
        reported,
    } = loaded;
    let mut cx = Cx { diags, reported };

    let plugin = match raw.plugin {
        Some(p) => plugin_info(&mut cx, p),
        None => {
            cx.missing(
                0..0,
                &["plugin"],
                "add a `[plugin]` table with `id`, `name`, `version` and `kind`".into(),
            );
            None
        }
    };
    let build = match raw.build {
        Some(b) => build_info(&mut cx, b),
        None => {
            cx.missing(
                0..0,
                &["build"],
                "add a `[build]` table with `language = \"rust\"` (or `python`, `typescript`)"
                    .into(),
            );
            None
        }
    };
    let capabilities = raw
        .capabilities
        .map(|c| capabilities::validate(&mut cx, c.into_inner()))
        .unwrap_or_default();
    let config = raw
        .config
        .map(|c| config(&mut cx, c.into_inner()))
        .unwrap_or_default();
    let dependencies = raw
        .dependencies
        .map(|d| dependencies(&mut cx, d.into_inner(), plugin.as_ref().map(|p| &p.id)))
        .unwrap_or_default();
    let limits = raw
        .limits
        .map(|l| limits::validate(&mut cx, l.into_inner()))
        .unwrap_or_default();

    let (Some(plugin), Some(build)) = (plugin, build) else {
        return None;
    };
    if !cx.diags.is_empty() {
        return None;
    }
    Some(Manifest {
        manifest_version: version,
        plugin,
        build,
        capabilities,
        config,
        dependencies,
        limits,
    })
}

fn plugin_info(cx: &mut Cx<'_, '_>, raw: Spanned<RawPlugin>) -> Option<PluginInfo> {
    let table = raw.span();
    let raw = raw.into_inner();

    let id = match raw.id {
        Some(id) => plugin_id(cx, &id, "plugin id"),
        None => {
            cx.missing(
                table.clone(),
                &["plugin", "id"],
                "add `id = \"my-plugin\"`".into(),
            );
            None
        }
    };
    let name = match raw.name {
        Some(name) => text(cx, &name, "`name` in `[plugin]`", false),
        None => {
            let help = "add a human-readable name, like `name = \"My Plugin\"`".into();
            cx.missing(table.clone(), &["plugin", "name"], help);
            None
        }
    };
    let version = match raw.version {
        Some(v) => version(cx, &v),
        None => {
            cx.missing(
                table.clone(),
                &["plugin", "version"],
                "add `version = \"0.1.0\"`".into(),
            );
            None
        }
    };
    let kind = match raw.kind {
        Some(kind) => {
            let parsed = PluginKind::parse(kind.get_ref());
            if parsed.is_none() {
                let kinds = PluginKind::ALL.map(PluginKind::as_str);
                cx.error(
                    kind.span(),
                    format!("unknown plugin kind `{}`", show(kind.get_ref())),
                    Some(suggest(kind.get_ref(), &kinds, "kinds")),
                );
            }
            parsed
        }
        None => {
            let kinds = PluginKind::ALL.map(PluginKind::as_str).join(", ");
            let help = format!("add `kind = \"evaluator\"`; valid kinds: {kinds}");
            cx.missing(table, &["plugin", "kind"], help);
            None
        }
    };
    let flowtrace = match raw.flowtrace {
        Some(req) => version_req(cx, &req, "`flowtrace`"),
        None => Some(default_contract_req()),
    };
    let description = raw
        .description
        .and_then(|d| text(cx, &d, "`description` in `[plugin]`", true));
    let license = raw
        .license
        .and_then(|l| text(cx, &l, "`license` in `[plugin]`", false));
    let authors: Vec<String> = raw
        .authors
        .unwrap_or_default()
        .iter()
        .filter_map(|a| text(cx, a, "an entry of `authors` in `[plugin]`", false))
        .collect();

    Some(PluginInfo {
        id: id?,
        name: name?,
        version: version?,
        kind: kind?,
        description,
        flowtrace: flowtrace?,
        authors,
        license,
    })
}

/// `^0.1`: the contract a manifest runs on when it does not say.
fn default_contract_req() -> VersionReq {
    VersionReq {
        comparators: vec![Comparator {
            op: Op::Caret,
            major: 0,
            minor: Some(1),
            patch: None,
            pre: Prerelease::EMPTY,
        }],
    }
}

/// A plugin id (`what` is "plugin id" or "dependency id").
fn plugin_id(cx: &mut Cx<'_, '_>, id: &Spanned<String>, what: &str) -> Option<PluginId> {
    match PluginId::parse(id.get_ref()) {
        Ok(parsed) => Some(parsed),
        Err(reason) => {
            let help = match id_suggestion(id.get_ref()) {
                Some(better) => format!("try `{better}`"),
                None => "use something like `my-plugin`".into(),
            };
            cx.error(
                id.span(),
                format!("invalid {what} `{}`: {reason}", show(id.get_ref())),
                Some(help),
            );
            None
        }
    }
}

/// A valid id close to `s` when `s` only has the wrong case or separators (`My_Plugin` ->
/// `my-plugin`); nothing for ids that look like paths or need more than a cosmetic fix.
fn id_suggestion(s: &str) -> Option<String> {
    if s.contains(['.', '/', '\\']) {
        return None;
    }
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if matches!(c, '-' | '_' | ' ') && !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        } else if !matches!(c, '-' | '_' | ' ') {
            return None;
        }
    }
    let out = out.trim_end_matches('-').to_string();
    (out != s && PluginId::parse(&out).is_ok()).then_some(out)
}

/// Free text: not empty, no control characters (newlines and tabs only where `multiline`).
/// `what` names it in messages, with backticks: "`name` in `[plugin]`".
pub(crate) fn text(
    cx: &mut Cx<'_, '_>,
    s: &Spanned<String>,
    what: &str,
    multiline: bool,
) -> Option<String> {
    let value = s.get_ref();
    if value.trim().is_empty() {
        cx.error(s.span(), format!("{what} cannot be empty"), None);
        return None;
    }
    let allowed = |c: char| multiline && matches!(c, '\n' | '\t');
    if let Some(c) = value.chars().find(|&c| c.is_control() && !allowed(c)) {
        cx.error(
            s.span(),
            format!("{what} cannot contain control characters, found {c:?}"),
            None,
        );
        return None;
    }
    Some(value.clone())
}

fn version(cx: &mut Cx<'_, '_>, v: &Spanned<String>) -> Option<Version> {
    let text = v.get_ref();
    match Version::parse(text) {
        Ok(version) => Some(version),
        Err(e) => {
            let without_v = text.strip_prefix(['v', 'V']).unwrap_or_default();
            let help = if Version::parse(without_v).is_ok() {
                format!("write `{without_v}` without the `v`")
            } else {
                "write a semver version with three numbers, like `0.1.0`".into()
            };
            cx.error(
                v.span(),
                format!("invalid version `{}`: {e}", show(text)),
                Some(help),
            );
            None
        }
    }
}

/// A semver requirement (`what` names it in the message, with its backticks).
fn version_req(cx: &mut Cx<'_, '_>, req: &Spanned<String>, what: &str) -> Option<VersionReq> {
    match VersionReq::parse(req.get_ref()) {
        Ok(parsed) => Some(parsed),
        Err(e) => {
            cx.error(
                req.span(),
                format!(
                    "invalid version requirement `{}` for {what}: {e}",
                    show(req.get_ref())
                ),
                Some("write a semver requirement like `^1.2` or `>=1.0, <2`".into()),
            );
            None
        }
    }
}

fn build_info(cx: &mut Cx<'_, '_>, raw: Spanned<RawBuild>) -> Option<BuildInfo> {
    let table = raw.span();
    let languages = ["rust", "python", "typescript"];
    let Some(language) = raw.into_inner().language else {
        let help = format!(
            "add `language = \"rust\"`; valid languages: {}",
            languages.join(", ")
        );
        cx.missing(table, &["build", "language"], help);
        return None;
    };
    let parsed = Language::parse(language.get_ref());
    if parsed.is_none() {
        cx.error(
            language.span(),
            format!("unknown language `{}`", show(language.get_ref())),
            Some(suggest(language.get_ref(), &languages, "languages")),
        );
    }
    Some(BuildInfo { language: parsed? })
}

fn config(
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
    let description = raw.description.and_then(|d| {
        let what = format!("`description` in `[config.{}]`", show(name));
        text(cx, &d, &what, true)
    });
    let Some(ty) = raw.ty else {
        let help = format!("add `type = \"string\"`; valid types: {}", types.join(", "));
        cx.missing(table, &["config", name, "type"], help);
        return None;
    };
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
    let default = match raw.default {
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

fn dependencies(
    cx: &mut Cx<'_, '_>,
    entries: RawEntries<Spanned<String>>,
    own_id: Option<&PluginId>,
) -> BTreeMap<PluginId, VersionReq> {
    let mut out = BTreeMap::new();
    for (key, req) in entries.0 {
        let id = plugin_id(cx, &key, "dependency id");
        if let (Some(id), Some(own)) = (&id, own_id) {
            if id == own {
                cx.error(
                    key.span(),
                    format!("plugin `{id}` cannot depend on itself"),
                    Some("remove this dependency".into()),
                );
                continue;
            }
        }
        let what = format!("dependency `{}`", show(key.get_ref()));
        let req = version_req(cx, &req, &what);
        if let (Some(id), Some(req)) = (id, req) {
            out.insert(id, req);
        }
    }
    out
}
