//! Collecting problems while validating: byte spans in, sorted line:column diagnostics out.

use std::ops::Range;

use super::error::Diagnostic;
use crate::diag::{closest, LineIndex};
use crate::fix::Fix;

/// The most problems listed for one file; a file with more is mostly noise after these.
pub(crate) const MAX_DIAGNOSTICS: usize = 100;

/// Longest user value echoed back in a message, in characters.
const SHOW_MAX_CHARS: usize = 60;

/// A broken rule, and the fix where one is known: what the checks of single values return.
pub(crate) type Problem = (String, Option<String>);

/// Every problem found so far in one manifest text.
pub(crate) struct Diagnostics<'a> {
    lines: LineIndex<'a>,
    list: Vec<Diagnostic>,
}

impl<'a> Diagnostics<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Self {
            lines: LineIndex::new(src),
            list: Vec::new(),
        }
    }

    /// Record a problem at `span` (byte offsets into the text).
    pub(crate) fn error(&mut self, span: Range<usize>, message: String, help: Option<String>) {
        let (line, column) = self.lines.position(span.start);
        self.list.push(Diagnostic {
            line,
            column,
            message,
            help,
            fix: None,
        });
    }

    /// Record a problem at `span` whose fix is an action for the embedder to word
    /// ([`Fix`]); the help is its plain words.
    pub(crate) fn error_with_fix(&mut self, span: Range<usize>, message: String, fix: Fix) {
        self.error(span, message, Some(fix.to_string()));
        if let Some(last) = self.list.last_mut() {
            last.fix = Some(fix);
        }
    }

    /// The text at `span`, when it is one.
    pub(crate) fn snippet(&self, span: Range<usize>) -> Option<&'a str> {
        self.lines.text().get(span)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The problems, by position; problems at one position keep the order they were found in.
    /// Past [`MAX_DIAGNOSTICS`], the last entry only counts the rest.
    pub(crate) fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.list.sort_by_key(|d| (d.line, d.column));
        if self.list.len() > MAX_DIAGNOSTICS {
            let rest = self.list.len() - MAX_DIAGNOSTICS;
            self.list.truncate(MAX_DIAGNOSTICS + 1);
            let first_hidden = &mut self.list[MAX_DIAGNOSTICS];
            first_hidden.message = format!("and {rest} more problems, not shown");
            first_hidden.help = Some("fix these and run again".into());
            first_hidden.fix = None;
        }
        self.list
    }
}

/// A user-written value made safe to echo inside backticks: control characters escaped (a
/// newline shows as `\n`), long values cut short.
pub(crate) fn show(value: &str) -> String {
    if value.is_empty() {
        return "\"\"".into();
    }
    let mut out = String::new();
    for (i, c) in value.chars().enumerate() {
        if i == SHOW_MAX_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// `did you mean `x`? valid <what>: a, b, c`, or only the list when nothing is close.
pub(crate) fn suggest(word: &str, candidates: &[&str], what: &str) -> String {
    let list = candidates.join(", ");
    match closest(word, candidates) {
        Some(c) => format!("did you mean `{c}`? valid {what}: {list}"),
        None => format!("valid {what}: {list}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_values_are_escaped_and_cut() {
        assert_eq!(show("a\nb"), "a\\nb");
        assert_eq!(show(""), "\"\"");
        assert_eq!(show(&"x".repeat(100)).chars().count(), SHOW_MAX_CHARS + 1);
    }
}
