//! Words and places for messages about files people write: line and column of a byte offset,
//! "did you mean", `a`/`an`, an error chain on one line.
//!
//! The manifest parser uses these for `flowtrace.toml`; `cargo flowtrace` uses the same ones
//! for its test fixtures, so a typo gets the same suggestion, and a problem the same position,
//! in every file.
//!
//! ```
//! use flowtrace_plugins::diag::{self, LineIndex};
//!
//! let text = "[limits]\nmemroy = \"64MiB\"\n";
//! let offset = text.find("memroy").unwrap();
//! assert_eq!(LineIndex::new(text).position(offset), (2, 1));
//! assert_eq!(diag::closest("memroy", &["memory", "timeout"]), Some("memory"));
//! assert_eq!(
//!     diag::did_you_mean("memroy", &["memory", "timeout"]).as_deref(),
//!     Some("did you mean `memory`?")
//! );
//! assert_eq!(diag::article("evaluator"), "an");
//! ```

use std::error::Error;

/// Line starts of a text, to turn byte offsets into 1-based line and column.
#[derive(Debug, Clone)]
pub struct LineIndex<'a> {
    text: &'a str,
    /// Byte offset where each line starts.
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Index `text` (one pass; every [`position`](Self::position) after it is a binary search).
    pub fn new(text: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self { text, line_starts }
    }

    /// The text indexed.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// 1-based line and column, in characters, of byte `offset`, as an editor shows them: a
    /// leading byte-order mark is not counted, an offset inside a character is that
    /// character's, and one past the end is the end. Never panics.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let text = self.text;
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_starts[line - 1];
        let mut column = text[start..offset].chars().count() + 1;
        // A byte-order mark is invisible in an editor: do not count it.
        if line == 1 && offset > 0 && text.starts_with('\u{feff}') {
            column -= 1;
        }
        (line, column)
    }
}

/// 1-based line and column of byte `offset` in `text` (see [`LineIndex::position`]); for
/// many offsets into one text, build a [`LineIndex`] once.
pub fn position(text: &str, offset: usize) -> (usize, usize) {
    LineIndex::new(text).position(offset)
}

/// The closest of `candidates` to `word`, if one is close enough to be a likely typo: the same
/// word in another case or with `_` for `-`, an abbreviation of three characters or more
/// (`str` for `string`), else the nearest by edit distance within about one edit per three
/// characters (`memroy` for `memory`, but not `x` for `env`).
pub fn closest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
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
    let max = (word.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|c| (levenshtein(&word_lower, c), *c))
        .filter(|(d, _)| *d <= max)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// ``did you mean `x`?`` for the [`closest`] candidate, if there is one.
pub fn did_you_mean(word: &str, candidates: &[&str]) -> Option<String> {
    closest(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// Edit distance in characters (`strsim`, as clap uses), on at most 64 characters of each
/// side so absurdly long input costs nothing.
fn levenshtein(a: &str, b: &str) -> usize {
    const MAX_LEN: usize = 64;
    let cut = |s: &str| s.chars().take(MAX_LEN).collect::<String>();
    strsim::levenshtein(&cut(a), &cut(b))
}

/// `an` before a word that starts with a vowel letter (`an evaluator`), else `a` (`a
/// transformer`): enough for the words these messages use.
pub fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// An error and its sources on one line, `a: b: c`, leaving out a message that an earlier one
/// already holds (wrappers that repeat their source).
pub fn error_chain(error: &(dyn Error + 'static)) -> String {
    error_chain_with(error, |e| e.to_string())
}

/// [`error_chain`], with each link's message from `describe` (to reword or place a link).
pub fn error_chain_with(
    error: &(dyn Error + 'static),
    mut describe: impl FnMut(&(dyn Error + 'static)) -> String,
) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(error);
    while let Some(e) = current {
        let text = describe(e);
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let d = LineIndex::new("ab\né = 1\n");
        assert_eq!(d.position(0), (1, 1));
        assert_eq!(d.position(2), (1, 3));
        assert_eq!(d.position(3), (2, 1));
        // `=` sits after a two-byte character: column 3, not 4.
        assert_eq!(d.position(6), (2, 3));
        // Mid-character and past-the-end offsets do not panic.
        assert_eq!(d.position(4), (2, 1));
        assert_eq!(d.position(999), (3, 1));
        let bom = LineIndex::new("\u{feff}[plugin]");
        assert_eq!(bom.position(3), (1, 1));
        assert_eq!(bom.position(4), (1, 2));

        let text = "a = 1\nbé = x\n";
        assert_eq!(position(text, 0), (1, 1));
        assert_eq!(position(text, 6), (2, 1));
        assert_eq!(position(text, text.find('=').unwrap()), (1, 3));
        assert_eq!(position(text, text.rfind('=').unwrap()), (2, 4));
        assert_eq!(position(text, 10_000), (3, 1));
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
        // What fixtures and expectations ask.
        assert_eq!(closest("max-span", &["max-span-ms"]), Some("max-span-ms"));
        assert_eq!(closest("pased", &["passed", "score"]), Some("passed"));
        assert_eq!(closest("span", &["spans", "errors"]), Some("spans"));
        assert_eq!(closest("erors", &["spans", "errors"]), Some("errors"));
    }

    #[test]
    fn articles() {
        assert_eq!(article("evaluator"), "an");
        assert_eq!(article("integer"), "an");
        assert_eq!(article("transformer"), "a");
        assert_eq!(article("string-list"), "a");
    }

    #[test]
    fn chains_read_on_one_line_without_repeats() {
        #[derive(Debug)]
        struct Wrap(&'static str, Option<Box<Wrap>>);
        impl std::fmt::Display for Wrap {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.0)
            }
        }
        impl Error for Wrap {
            fn source(&self) -> Option<&(dyn Error + 'static)> {
                self.1.as_deref().map(|e| e as _)
            }
        }
        let error = Wrap(
            "failed to load: bad input",
            Some(Box::new(Wrap(
                "bad input",
                Some(Box::new(Wrap("expected value", None))),
            ))),
        );
        assert_eq!(
            error_chain(&error),
            "failed to load: bad input: expected value"
        );
        assert_eq!(
            error_chain_with(&error, |e| e.to_string().to_uppercase()),
            "FAILED TO LOAD: BAD INPUT: EXPECTED VALUE"
        );
    }
}
