//! From text to the [`raw`](super::raw) structs, reporting every problem on the way.
//!
//! Serde stops at the first error, so the loader clears the way first: it finds and removes
//! every unknown key (naming the valid keys of its table) and every non-table where a table
//! belongs. What is left deserializes in one pass, with each value of the wrong type kept as
//! a [`Typed::Wrong`](super::raw::Typed) for `validate` to report.

use std::collections::HashSet;

use toml_edit::{Document, DocumentMut, Item, Table, TableLike};

use super::compat;
use super::diag::{show, suggest, Diagnostics};
use super::raw::{
    fields_of, RawBuild, RawCapabilities, RawConfigField, RawLimits, RawManifest, RawNetwork,
    RawPlugin,
};

/// The file as written, in the current schema, with what the loader already reported.
pub(crate) struct Loaded {
    /// The schema version the file was written in.
    pub version: u32,
    pub raw: RawManifest,
    /// Tables removed because they were not tables; validation does not report them again
    /// as missing.
    pub reported: Reported,
}

/// Key paths (`["capabilities", "network"]`) whose value the loader reported and removed.
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
    let raw = deserialize(root, diags)?;
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
        // Not `Item::get_mut`, which would insert a missing key.
        if let Some(network) = caps.as_table_like_mut().and_then(|t| t.get_mut("network")) {
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

/// Deserialize what is left. Values of the wrong type do not stop it (see
/// [`Typed`](super::raw::Typed)); anything else that does is reported as serde says it.
fn deserialize(root: Table, diags: &mut Diagnostics<'_>) -> Option<RawManifest> {
    match toml_edit::de::from_document(DocumentMut::from(root)) {
        Ok(raw) => Some(raw),
        Err(e) => {
            diags.error(e.span().unwrap_or(0..0), e.message().to_string(), None);
            None
        }
    }
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
