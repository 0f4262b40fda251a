//! From text to the [`raw`](super::raw) structs, reporting every problem on the way.
//!
//! Serde stops at the first error, so the loader takes the document apart around it: first it
//! finds and removes every unknown key (naming the valid ones); then it deserializes, and on a
//! type error it reports it, removes the offending key and tries again, so each bad value is
//! reported once and the rest of the file is still checked.

use std::collections::HashSet;
use std::ops::Range;

use toml_edit::{Document, DocumentMut, Item, Table, TableLike};

use super::compat;
use super::diag::{show, suggest, Diagnostics};
use super::raw::{
    fields_of, RawBuild, RawCapabilities, RawConfigField, RawLimits, RawManifest, RawNetwork,
    RawPlugin,
};

/// Type errors reported before giving up on a file: each costs a pass over the document.
const MAX_TYPE_ERRORS: usize = 64;

/// The file as written, in the current schema, with what the loader already reported.
pub(crate) struct Loaded {
    /// The schema version the file was written in.
    pub version: u32,
    pub raw: RawManifest,
    /// Keys removed because their value had the wrong type; validation does not report them
    /// again as missing.
    pub reported: Reported,
}

/// Dotted key paths (`["plugin", "version"]`) already reported.
#[derive(Default)]
pub(crate) struct Reported(HashSet<Vec<String>>);

impl Reported {
    pub(crate) fn contains(&self, path: &[&str]) -> bool {
        let path: Vec<String> = path.iter().map(|k| k.to_string()).collect();
        self.0.contains(&path)
    }
}

/// Parse `text` into raw structs. `None` when nothing useful can be validated.
pub(crate) fn load(text: &str, diags: &mut Diagnostics<'_>) -> Option<Loaded> {
    let doc = match Document::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            diags.error(span, syntax_message(e.message()), None);
            return None;
        }
    };
    let mut root = doc.as_table().clone();
    let version = compat::probe(&root, diags)?;
    compat::upgrade(version, &mut root);
    let mut reported = Reported::default();
    check_tables(&mut root, diags, &mut reported);
    let raw = deserialize(root, diags, &mut reported)?;
    Some(Loaded {
        version,
        raw,
        reported,
    })
}

/// A parser message on one line, lowercase, without the parser's own position.
fn syntax_message(message: &str) -> String {
    let flat = message.split_whitespace().collect::<Vec<_>>().join(" ");
    let flat = flat.trim_end_matches('.');
    format!("invalid TOML: {flat}")
}

/// The top-level keys that hold tables.
const TABLES: [&str; 6] = [
    "plugin",
    "build",
    "capabilities",
    "config",
    "dependencies",
    "limits",
];

/// Check the shape of the document before serde sees it: report and remove every unknown key
/// (naming the valid keys of its table), and every non-table where a table belongs (serde
/// would otherwise read an array positionally into a struct).
fn check_tables(root: &mut Table, diags: &mut Diagnostics<'_>, reported: &mut Reported) {
    let fields = fields_of::<RawManifest>();
    report_unknown(root, fields, None, diags);
    report_non_tables(root, &[], |k| TABLES.contains(&k), diags, reported);
    root.retain(|k, v| fields.contains(&k) && (v.is_table_like() || !TABLES.contains(&k)));

    let tables: [(&str, &[&str]); 3] = [
        ("plugin", fields_of::<RawPlugin>()),
        ("build", fields_of::<RawBuild>()),
        ("limits", fields_of::<RawLimits>()),
    ];
    for (key, fields) in tables {
        if let Some(table) = root.get_mut(key) {
            strip(table, fields, &[key], &[], diags, reported);
        }
    }
    if let Some(caps) = root.get_mut("capabilities") {
        let fields = fields_of::<RawCapabilities>();
        strip(
            caps,
            fields,
            &["capabilities"],
            &["network"],
            diags,
            reported,
        );
        if let Some(network) = caps.get_mut("network") {
            let fields = fields_of::<RawNetwork>();
            strip(
                network,
                fields,
                &["capabilities", "network"],
                &[],
                diags,
                reported,
            );
        }
    }
    if let Some(config) = root.get_mut("config") {
        if let Some(table) = config.as_table_like() {
            report_non_tables(table, &["config"], |_| true, diags, reported);
        }
        retain(config, |_, is_table| is_table);
        if let Some(table) = config.as_table_like_mut() {
            for (name, entry) in table.iter_mut() {
                let path = ["config", name.get()];
                strip(
                    entry,
                    fields_of::<RawConfigField>(),
                    &path,
                    &[],
                    diags,
                    reported,
                );
            }
        }
    }
}

/// Report and remove the unknown keys of the table in `item`, and the entries named in
/// `tables` that are not tables.
fn strip(
    item: &mut Item,
    fields: &[&str],
    path: &[&str],
    tables: &[&str],
    diags: &mut Diagnostics<'_>,
    reported: &mut Reported,
) {
    let Some(table) = item.as_table_like() else {
        return;
    };
    report_unknown(table, fields, Some(path), diags);
    report_non_tables(table, path, |k| tables.contains(&k), diags, reported);
    retain(item, |k, is_table| {
        fields.contains(&k) && (is_table || !tables.contains(&k))
    });
}

/// Keep the entries `keep(key, is_table)` accepts, in one pass: removing keys one at a time
/// from a huge table would take quadratic time.
fn retain(item: &mut Item, mut keep: impl FnMut(&str, bool) -> bool) {
    match item {
        Item::Table(t) => t.retain(|k, v| keep(k, v.is_table_like())),
        Item::Value(toml_edit::Value::InlineTable(t)) => {
            t.retain(|k, v| keep(k, v.is_inline_table()));
        }
        _ => {}
    }
}

/// Report each entry whose key `must_be_table` names and which is not a table.
fn report_non_tables(
    table: &dyn TableLike,
    parent: &[&str],
    must_be_table: impl Fn(&str) -> bool,
    diags: &mut Diagnostics<'_>,
    reported: &mut Reported,
) {
    for (key, item) in table.iter() {
        if !must_be_table(key) || item.is_table_like() {
            continue;
        }
        let path: Vec<String> = parent
            .iter()
            .copied()
            .chain([key])
            .map(String::from)
            .collect();
        let dotted = path.iter().map(|k| show(k)).collect::<Vec<_>>().join(".");
        let span = match item {
            Item::ArrayOfTables(tables) => tables.iter().find_map(Table::span),
            _ => item.span(),
        };
        let help = match item {
            Item::ArrayOfTables(_) => Some(format!("write `[{dotted}]`, not `[[{dotted}]]`")),
            _ => None,
        };
        diags.error(
            span.unwrap_or(0..0),
            format!(
                "wrong type for `{dotted}`: expected a table, found {}",
                describe(item)
            ),
            help,
        );
        reported.0.insert(path);
    }
}

/// Report every key of `table` not in `fields`; `path` names the table, `None` for the top.
fn report_unknown(
    table: &dyn TableLike,
    fields: &[&str],
    path: Option<&[&str]>,
    diags: &mut Diagnostics<'_>,
) {
    for (key, item) in table.iter() {
        if fields.contains(&key) {
            continue;
        }
        // A table is shown from its header, `[plugn]`; anything else from its key.
        let key_span = table.get_key_value(key).and_then(|(k, _)| k.span());
        let span = match item.is_table() {
            true => item.span().or(key_span),
            false => key_span.or_else(|| item.span()),
        };
        let message = match (path, item.is_table()) {
            (None, true) => format!("unknown table `[{}]`", show(key)),
            (None, false) => format!("unknown top-level key `{}`", show(key)),
            (Some(path), _) => {
                let table_name = path.iter().map(|k| show(k)).collect::<Vec<_>>().join(".");
                format!("unknown key `{}` in `[{table_name}]`", show(key))
            }
        };
        let help = if path.is_none() && fields_of::<RawPlugin>().contains(&key) {
            format!("`{key}` belongs in `[plugin]`: move it below the `[plugin]` header")
        } else {
            suggest(key, fields, "keys")
        };
        diags.error(span.unwrap_or(0..0), message, Some(help));
    }
}

/// Deserialize, reporting and removing each value of the wrong type until the rest fits.
fn deserialize(
    mut root: Table,
    diags: &mut Diagnostics<'_>,
    reported: &mut Reported,
) -> Option<RawManifest> {
    for _ in 0..MAX_TYPE_ERRORS {
        let error = match toml_edit::de::from_document(DocumentMut::from(root.clone())) {
            Ok(raw) => return Some(raw),
            Err(e) => e,
        };
        let Some(span) = error.span() else {
            diags.error(0..0, error.message().to_string(), None);
            return None;
        };
        let mut path = Vec::new();
        let Some(removed) = remove_at(&mut root, &span, &mut path) else {
            diags.error(span, error.message().to_string(), None);
            return None;
        };
        let (message, help) = type_error(error.message(), &path, &span, &removed);
        diags.error(span, message, help);
        reported.0.insert(path);
    }
    diags.error(
        0..0,
        format!("too many problems: stopped after {MAX_TYPE_ERRORS} values of the wrong type"),
        None,
    );
    None
}

/// Remove the innermost key whose value holds `span`; `path` ends up as that key's path.
fn remove_at(
    table: &mut dyn TableLike,
    span: &Range<usize>,
    path: &mut Vec<String>,
) -> Option<Item> {
    let keys: Vec<String> = table.iter().map(|(k, _)| k.to_string()).collect();
    for key in keys {
        let Some(item) = table.get_mut(&key) else {
            continue;
        };
        path.push(key.clone());
        if let Some(inner) = item.as_table_like_mut() {
            if let Some(removed) = remove_at(inner, span, path) {
                return Some(removed);
            }
        }
        if item_holds(item, span) {
            return table.remove(&key);
        }
        path.pop();
    }
    None
}

fn item_holds(item: &Item, span: &Range<usize>) -> bool {
    let holds = |s: Range<usize>| s.start <= span.start && span.end <= s.end;
    match item {
        // Its own span is not kept; its tables' headers are.
        Item::ArrayOfTables(tables) => tables.iter().any(|t| t.span().is_some_and(holds)),
        _ => item.span().is_some_and(holds),
    }
}

/// Reword serde's `invalid type: integer `1`, expected a string` for a key path.
fn type_error(
    message: &str,
    path: &[String],
    span: &Range<usize>,
    removed: &Item,
) -> (String, Option<String>) {
    let dotted = path.iter().map(|k| show(k)).collect::<Vec<_>>().join(".");
    let Some((found, expected)) = message
        .strip_prefix("invalid type: ")
        .and_then(|rest| rest.rsplit_once(", expected "))
    else {
        return (format!("invalid value for `{dotted}`: {message}"), None);
    };
    let expected = match expected {
        "i64" | "u32" => "an integer",
        "a sequence" => "an array",
        "a map" => "a table",
        other => other,
    };
    // Serde sees tables, arrays and datetimes all as maps or sequences: when the error is
    // about the removed item itself, say what it really is.
    let is_whole_item = removed.span().as_ref() == Some(span) || removed.is_array_of_tables();
    let found = match found {
        _ if is_whole_item && (found == "map" || found == "sequence" || found.len() > 80) => {
            describe(removed).to_string()
        }
        "map" => "a table".to_string(),
        "sequence" => "an array".to_string(),
        // `string "x"` -> `string `"x"``, like serde's `integer `1``.
        other => match other.strip_prefix("string ") {
            Some(quoted) => format!("string `{quoted}`"),
            None => other.to_string(),
        },
    };
    let key = path.last().map(|k| show(k)).unwrap_or_default();
    let help = match removed {
        Item::Value(value @ toml_edit::Value::String(_)) if expected == "an array" => Some(
            format!("write a list: `{key} = [{}]`", value.to_string().trim()),
        ),
        _ => None,
    };
    (
        format!("wrong type for `{dotted}`: expected {expected}, found {found}"),
        help,
    )
}

/// What a TOML item is, for a message.
fn describe(item: &Item) -> &'static str {
    match item {
        Item::None => "nothing",
        Item::Value(toml_edit::Value::String(_)) => "a string",
        Item::Value(toml_edit::Value::Integer(_)) => "an integer",
        Item::Value(toml_edit::Value::Float(_)) => "a float",
        Item::Value(toml_edit::Value::Boolean(_)) => "a boolean",
        Item::Value(toml_edit::Value::Datetime(_)) => "a datetime",
        Item::Value(toml_edit::Value::Array(_)) => "an array",
        Item::Value(toml_edit::Value::InlineTable(_)) | Item::Table(_) => "a table",
        Item::ArrayOfTables(_) => "an array of tables",
    }
}
