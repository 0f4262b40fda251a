//! Text from plugins and other untrusted sources, made safe to print on a terminal.

use std::borrow::Cow;

/// `text` with every control character other than newline and tab shown as an escape
/// (`\u{1b}`, `\r`), so a plugin's log line cannot move the cursor, clear the screen, change
/// the window title or hide text with escape sequences.
///
/// Bidirectional overrides and other invisible format characters (U+202A..U+202E,
/// U+2066..U+2069, U+200E, U+200F) are escaped too: they reorder what a person reads.
pub fn sanitize(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn escapes_terminal_control_sequences() {
        assert_eq!(sanitize("plain text"), "plain text");
        assert!(matches!(sanitize("plain"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(sanitize("a\tb\nc"), "a\tb\nc");
        assert_eq!(
            sanitize("\x1b[2J\x1b]0;pwned\x07"),
            "\\u{1b}[2J\\u{1b}]0;pwned\\u{7}"
        );
        assert_eq!(sanitize("ok\rFAILED"), "ok\\rFAILED");
        assert_eq!(sanitize("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(sanitize("abc\u{202e}def"), "abc\\u{202e}def");
    }
}
