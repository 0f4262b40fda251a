//! From the raw structs to a [`Manifest`]: every rule checked, every problem reported.

use std::collections::BTreeMap;

use semver::{Comparator, Op, Prerelease, Version, VersionReq};
use serde_spanned::Spanned;

use super::cx::Cx;
use super::diag::{show, suggest, Diagnostics};
use super::load::Loaded;
use super::raw::{RawBuild, RawEntries, RawPlugin, Typed};
use super::{
    capabilities, config, limits, BuildInfo, Language, Manifest, PluginId, PluginInfo, PluginKind,
};

/// Check everything; `None` when anything is wrong (and then `diags` says what).
pub(crate) fn validate(loaded: Loaded, diags: &mut Diagnostics<'_>) -> Option<Manifest> {
    let Loaded {
        version,
        raw,
        reported,
    } = loaded;
    let mut cx = Cx::new(diags, reported);

    // Its value was read by the version probe; what is left is to report a wrong type.
    cx.optional(raw.manifest_version, &["manifest-version"]);
    let plugin = match raw.plugin {
        Some(p) => plugin_info(&mut cx, p),
        None => {
            let help = "add a `[plugin]` table with `id`, `name`, `version` and `kind`";
            cx.missing(0..0, &["plugin"], help.into());
            None
        }
    };
    let build = match raw.build {
        Some(b) => build_info(&mut cx, b),
        None => {
            let help =
                "add a `[build]` table with `language = \"rust\"` (or `python`, `typescript`)";
            cx.missing(0..0, &["build"], help.into());
            None
        }
    };
    let capabilities = raw
        .capabilities
        .map(|c| capabilities::validate(&mut cx, c.into_inner()))
        .unwrap_or_default();
    let config = raw
        .config
        .map(|c| config::validate(&mut cx, c.into_inner()))
        .unwrap_or_default();
    let own_id = plugin.as_ref().map(|p| &p.id);
    let dependencies = raw
        .dependencies
        .map(|d| dependencies(&mut cx, d.into_inner(), own_id))
        .unwrap_or_default();
    let limits = raw
        .limits
        .map(|l| limits::validate(&mut cx, l.into_inner()))
        .unwrap_or_default();

    let (Some(plugin), Some(build)) = (plugin, build) else {
        return None;
    };
    if cx.has_errors() {
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
    let kinds = PluginKind::ALL.map(PluginKind::as_str);

    let id = cx
        .required(raw.id, &["plugin", "id"], table.clone(), || {
            "add `id = \"my-plugin\"`".into()
        })
        .and_then(|id| plugin_id(cx, &id, "plugin id"));
    let name = cx
        .required(raw.name, &["plugin", "name"], table.clone(), || {
            "add a human-readable name, like `name = \"My Plugin\"`".into()
        })
        .and_then(|name| text(cx, &name, "`name` in `[plugin]`", false));
    let version = cx
        .required(raw.version, &["plugin", "version"], table.clone(), || {
            "add `version = \"0.1.0\"`".into()
        })
        .and_then(|v| version(cx, &v));
    let kind = cx
        .required(raw.kind, &["plugin", "kind"], table, || {
            format!(
                "add `kind = \"evaluator\"`; valid kinds: {}",
                kinds.join(", ")
            )
        })
        .and_then(|kind| {
            let parsed = PluginKind::parse(kind.get_ref());
            if parsed.is_none() {
                cx.error(
                    kind.span(),
                    format!("unknown plugin kind `{}`", show(kind.get_ref())),
                    Some(suggest(kind.get_ref(), &kinds, "kinds")),
                );
            }
            parsed
        });
    // A default only when the key is absent: a bad value is an error, not the default.
    let flowtrace = match raw.flowtrace {
        None => Some(default_contract_req()),
        field => cx
            .optional(field, &["plugin", "flowtrace"])
            .and_then(|req| version_req(cx, &req, "`flowtrace`")),
    };
    let description = cx
        .optional(raw.description, &["plugin", "description"])
        .and_then(|d| text(cx, &d, "`description` in `[plugin]`", true));
    let license = cx
        .optional(raw.license, &["plugin", "license"])
        .and_then(|l| text(cx, &l, "`license` in `[plugin]`", false));
    let path = ["plugin", "authors"];
    let authors = cx.optional(raw.authors, &path).map(|l| cx.list(l, &path));
    let authors: Vec<String> = authors
        .unwrap_or_default()
        .iter()
        .filter_map(|a| text(cx, a, "an entry of `authors` in `[plugin]`", false))
        .collect();

    let stateless = cx
        .optional(raw.stateless, &["plugin", "stateless"])
        .is_some_and(|s| *s.get_ref());

    Some(PluginInfo {
        id: id?,
        name: name?,
        version: version?,
        kind: kind?,
        description,
        flowtrace: flowtrace?,
        authors,
        license,
        stateless,
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
    let raw = raw.into_inner();
    let languages = ["rust", "python", "typescript"];
    let language = cx.required(raw.language, &["build", "language"], table, || {
        format!(
            "add `language = \"rust\"`; valid languages: {}",
            languages.join(", ")
        )
    })?;
    let parsed = Language::parse(language.get_ref());
    if parsed.is_none() {
        cx.error(
            language.span(),
            format!("unknown language `{}`", show(language.get_ref())),
            Some(suggest(language.get_ref(), &languages, "languages")),
        );
    }
    let entry = cx.optional(raw.entry, &["build", "entry"]);
    let entry = match (entry, parsed) {
        (Some(entry), Some(language)) => Some(entry_file(cx, &entry, language)?),
        _ => None,
    };
    Some(BuildInfo {
        language: parsed?,
        entry,
    })
}

/// `[build] entry`: a file under the plugin's directory with an extension of `language`.
fn entry_file(cx: &mut Cx<'_, '_>, entry: &Spanned<String>, language: Language) -> Option<String> {
    let shown = show(entry.get_ref());
    let Some(defaults) = language.default_entry() else {
        cx.error(
            entry.span(),
            format!("`entry` is for Python and TypeScript plugins, this one is `{language}`"),
            Some("remove `entry`: cargo builds the package whose `Cargo.toml` is beside flowtrace.toml".into()),
        );
        return None;
    };
    let normal = match super::capabilities::normalise_relative(entry.get_ref()) {
        Ok(normal) if normal != "." => normal,
        Ok(_) => {
            cx.error(
                entry.span(),
                format!("invalid `entry` `{shown}`: it names a directory"),
                Some(format!(
                    "name the main source file, e.g. `entry = \"{defaults}\"`"
                )),
            );
            return None;
        }
        Err((reason, _)) => {
            let reason = reason.replace(
                "the plugin's data directory",
                "the directory of flowtrace.toml",
            );
            cx.error(
                entry.span(),
                format!("invalid `entry` `{shown}`: {reason}"),
                Some(format!("e.g. `entry = \"{defaults}\"`")),
            );
            return None;
        }
    };
    let extensions = language.entry_extensions();
    let extension = normal.rsplit_once('.').map(|(_, ext)| ext);
    if !extension.is_some_and(|ext| extensions.contains(&ext)) {
        let list: Vec<String> = extensions.iter().map(|e| format!("`.{e}`")).collect();
        cx.error(
            entry.span(),
            format!(
                "invalid `entry` `{shown}`: a {language} entry file ends in {}",
                list.join(" or ")
            ),
            Some(format!("e.g. `entry = \"{defaults}\"`")),
        );
        return None;
    }
    Some(normal)
}

fn dependencies(
    cx: &mut Cx<'_, '_>,
    entries: RawEntries<Spanned<Typed<String>>>,
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
        let path = ["dependencies", key.get_ref().as_str()];
        let Some(req) = cx.optional(Some(req), &path) else {
            continue;
        };
        let what = format!("dependency `{}`", show(key.get_ref()));
        if let (Some(id), Some(req)) = (id, version_req(cx, &req, &what)) {
            out.insert(id, req);
        }
    }
    out
}
