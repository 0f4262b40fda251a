//! Collecting problems while validating: byte spans in, sorted line:column diagnostics out.

use std::ops::Range;

use super::error::Diagnostic;

/// The most problems listed for one file; a file with more is mostly noise after these.
pub(crate) const MAX_DIAGNOSTICS: usize = 100;

/// Longest user value echoed back in a message, in characters.
const SHOW_MAX_CHARS: usize = 60;

/// A broken rule, and the fix where one is known: what the checks of single values return.
pub(crate) type Problem = (String, Option<String>);

/// Every problem found so far in one manifest text.
pub(crate) struct Diagnostics<'a> {
    src: &'a str,
    /// Byte offset where each line starts.
    line_starts: Vec<usize>,
    list: Vec<Diagnostic>,
}

impl<'a> Diagnostics<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(src.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            src,
            line_starts,
            list: Vec::new(),
        }
    }

    /// Record a problem at `span` (byte offsets into the text).
    pub(crate) fn error(&mut self, span: Range<usize>, message: String, help: Option<String>) {
        let (line, column) = self.position(span.start);
        self.list.push(Diagnostic {
            line,
            column,
            message,
            help,
        });
    }

    /// The text at `span`, when it is one.
    pub(crate) fn snippet(&self, span: Range<usize>) -> Option<&'a str> {
        self.src.get(span)
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
        }
        self.list
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub(crate) fn position(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.src.len());
        while !self.src.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_starts[line - 1];
        let mut column = self.src[start..offset].chars().count() + 1;
        // A byte-order mark is invisible in an editor: do not count it.
        if line == 1 && offset > 0 && self.src.starts_with('\u{feff}') {
            column -= 1;
        }
        (line, column)
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

/// The closest of `candidates` to `word`, if one is close enough to be a likely typo.
pub(crate) fn closest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    if word.is_empty() {
        return None;
    }
    let word_lower = word.to_lowercase();
    if let Some(c) = candidates
        .iter()
        .find(|c| c.to_lowercase() == word_lower || c.replace('-', "_") == word_lower)
    {
        return Some(c);
    }
    // An abbreviation: `str` -> `string`, `bool` -> `boolean`.
    if word_lower.len() >= 3 {
        if let Some(c) = candidates
            .iter()
            .filter(|c| c.starts_with(&word_lower))
            .min_by_key(|c| c.len())
        {
            return Some(c);
        }
    }
    // Allow roughly one edit per three characters: `memroy` -> `memory`, not `x` -> `env`.
    let max = (word.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|c| (levenshtein(&word_lower, c), *c))
        .filter(|(d, _)| *d <= max)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `did you mean `x`? valid <what>: a, b, c`, or only the list when nothing is close.
pub(crate) fn suggest(word: &str, candidates: &[&str], what: &str) -> String {
    let list = candidates.join(", ");
    match closest(word, candidates) {
        Some(c) => format!("did you mean `{c}`? valid {what}: {list}"),
        None => format!("valid {what}: {list}"),
    }
}

/// Edit distance in characters (`strsim`, as clap uses), on at most 64 characters of each
/// side so absurdly long input costs nothing.
fn levenshtein(a: &str, b: &str) -> usize {
    const MAX_LEN: usize = 64;
    let cut = |s: &str| s.chars().take(MAX_LEN).collect::<String>();
    strsim::levenshtein(&cut(a), &cut(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let d = Diagnostics::new("ab\né = 1\n");
        assert_eq!(d.position(0), (1, 1));
        assert_eq!(d.position(2), (1, 3));
        assert_eq!(d.position(3), (2, 1));
        // `=` sits after a two-byte character: column 3, not 4.
        assert_eq!(d.position(6), (2, 3));
        // Mid-character and past-the-end offsets do not panic.
        assert_eq!(d.position(4), (2, 1));
        assert_eq!(d.position(999), (3, 1));
        let bom = Diagnostics::new("\u{feff}[plugin]");
        assert_eq!(bom.position(3), (1, 1));
        assert_eq!(bom.position(4), (1, 2));
    }

    #[test]
    fn suggestions_find_typos_only() {
        let keys = ["memory", "timeout", "output"];
        assert_eq!(closest("memroy", &keys), Some("memory"));
        assert_eq!(closest("Memory", &keys), Some("memory"));
        assert_eq!(closest("timout", &keys), Some("timeout"));
        assert_eq!(closest("x", &keys), None);
        assert_eq!(closest("fs_read", &["fs-read", "env"]), Some("fs-read"));
        assert_eq!(closest("int", &["string", "integer"]), Some("integer"));
        assert_eq!(closest("str", &["string-list", "string"]), Some("string"));
        assert_eq!(closest("", &keys), None);
    }

    #[test]
    fn shown_values_are_escaped_and_cut() {
        assert_eq!(show("a\nb"), "a\\nb");
        assert_eq!(show(""), "\"\"");
        assert_eq!(show(&"x".repeat(100)).chars().count(), SHOW_MAX_CHARS + 1);
    }
}
