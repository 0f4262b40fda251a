//! The validation context: where problems go, and the reading of raw fields that reports
//! missing keys and values of the wrong type on the way.

use std::ops::Range;

use serde_spanned::Spanned;

use super::diag::{show, Diagnostics};
use super::load::Reported;
use super::raw::{Field, StringList, Typed};

/// What validation needs besides the value at hand.
pub(crate) struct Cx<'d, 'a> {
    diags: &'d mut Diagnostics<'a>,
    reported: Reported,
}

impl<'d, 'a> Cx<'d, 'a> {
    pub(crate) fn new(diags: &'d mut Diagnostics<'a>, reported: Reported) -> Self {
        Self { diags, reported }
    }

    pub(crate) fn error(&mut self, span: Range<usize>, message: String, help: Option<String>) {
        self.diags.error(span, message, help);
    }

    pub(crate) fn has_errors(&self) -> bool {
        !self.diags.is_empty()
    }

    /// Report `path` as missing (at `span`, its table's) unless the loader already reported
    /// what was there.
    pub(crate) fn missing(&mut self, span: Range<usize>, path: &[&str], help: String) {
        if self.reported.contains(path) {
            return;
        }
        let message = match path {
            [table] => format!("missing table `[{table}]`"),
            [table @ .., key] => format!("missing key `{key}` in `[{}]`", dotted(table)),
            [] => return,
        };
        self.error(span, message, Some(help));
    }

    /// The value of an optional key at `path`; one of the wrong type is reported and dropped.
    pub(crate) fn optional<T>(&mut self, field: Field<T>, path: &[&str]) -> Option<Spanned<T>> {
        let field = field?;
        let span = field.span();
        match field.into_inner() {
            Typed::Ok(value) => Some(Spanned::new(span, value)),
            Typed::Wrong(message) => {
                self.wrong_type(span, path, &message);
                None
            }
        }
    }

    /// The strings of a list at `path`; an entry of the wrong type is reported, as
    /// `path[index]`, and dropped.
    pub(crate) fn list(
        &mut self,
        list: Spanned<StringList>,
        path: &[&str],
    ) -> Vec<Spanned<String>> {
        let (last, parent) = path.split_last().unwrap_or((&"", &[]));
        let mut out = Vec::new();
        for (index, entry) in list.into_inner().into_iter().enumerate() {
            let key = format!("{last}[{index}]");
            let entry_path: Vec<&str> = parent.iter().copied().chain([key.as_str()]).collect();
            out.extend(self.optional(Some(entry), &entry_path));
        }
        out
    }

    /// The value of a required key at `path`, in a table at `table`: reported when missing
    /// (with `help`, the line to add) or of the wrong type.
    pub(crate) fn required<T>(
        &mut self,
        field: Field<T>,
        path: &[&str],
        table: Range<usize>,
        help: impl FnOnce() -> String,
    ) -> Option<Spanned<T>> {
        if field.is_none() {
            self.missing(table, path, help());
            return None;
        }
        self.optional(field, path)
    }

    /// Reword serde's `invalid type: integer `1`, expected a string` for the key at `path`.
    pub(crate) fn wrong_type(&mut self, span: Range<usize>, path: &[&str], message: &str) {
        let Some((found, expected)) = message
            .strip_prefix("invalid type: ")
            .and_then(|rest| rest.rsplit_once(", expected "))
        else {
            let message = format!("invalid value for `{}`: {message}", dotted(path));
            self.error(span, message, None);
            return;
        };
        let expected = match expected {
            "i64" => "an integer",
            "a sequence" => "an array",
            "a map" => "a table",
            other => other,
        };
        let source = self.diags.snippet(span.clone()).unwrap_or_default();
        let found = match found {
            // Datetimes reach serde as maps; of the values starting with a digit, only they do.
            "map" if source.starts_with(|c: char| c.is_ascii_digit()) => "a datetime".into(),
            "map" => "a table".into(),
            "sequence" => "an array".into(),
            // Long strings: just the kind, `string`.
            long if long.chars().count() > 80 => {
                format!("a {}", long.split(' ').next().unwrap_or("value"))
            }
            // `string "x"` -> `string `"x"``, like serde's `integer `1``.
            other => match other.strip_prefix("string ") {
                Some(quoted) => format!("string `{quoted}`"),
                None => other.to_string(),
            },
        };
        let help = (expected == "an array" && found.starts_with("string")).then(|| {
            let key = path.last().map(|k| show(k)).unwrap_or_default();
            match source.len() <= 60 && !source.contains('\n') {
                true => format!("write a list: `{key} = [{source}]`"),
                false => format!("write a list: `{key} = [\"...\"]`"),
            }
        });
        let message = format!(
            "wrong type for `{}`: expected {expected}, found {found}",
            dotted(path)
        );
        self.error(span, message, help);
    }
}

/// `["config", "x"]` -> `config.x`, each part made safe to show.
fn dotted(path: &[&str]) -> String {
    path.iter().map(|k| show(k)).collect::<Vec<_>>().join(".")
}
