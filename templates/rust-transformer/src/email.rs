//! Finding email addresses without a regex engine (which would triple the component).

/// `text` with every email address replaced by `with`, and how many there were; `None`
/// when there is none.
pub fn redact(text: &str, with: &str) -> Option<(String, usize)> {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let (mut copied, mut count, mut at) = (0, 0, 0);
    while let Some(offset) = text[at..].find('@') {
        let i = at + offset;
        match address_around(bytes, i) {
            Some((start, end)) if start >= copied => {
                out.push_str(&text[copied..start]);
                out.push_str(with);
                copied = end;
                count += 1;
                at = end;
            }
            _ => at = i + 1,
        }
    }
    if count == 0 {
        return None;
    }
    out.push_str(&text[copied..]);
    Some((out, count))
}

/// The byte range of the address whose `@` is at `at`, if it is one: a local part of
/// letters, digits and `._%+-`, a domain of labels joined by dots, ending in a top-level
/// domain of two letters or more. Only ASCII bytes match, so the range falls on `char`
/// boundaries.
fn address_around(bytes: &[u8], at: usize) -> Option<(usize, usize)> {
    let local = |b: u8| b.is_ascii_alphanumeric() || b"._%+-".contains(&b);
    let domain = |b: u8| b.is_ascii_alphanumeric() || b == b'.' || b == b'-';

    let mut start = at;
    while start > 0 && local(bytes[start - 1]) {
        start -= 1;
    }
    while start < at && bytes[start] == b'.' {
        start += 1;
    }
    let mut end = at + 1;
    while end < bytes.len() && domain(bytes[end]) {
        end += 1;
    }
    while end > at + 1 && matches!(bytes[end - 1], b'.' | b'-') {
        end -= 1;
    }
    let host = &bytes[at + 1..end];
    let tld = host.rsplit(|&b| b == b'.').next()?;
    let valid = start < at
        && host.contains(&b'.')
        && host[0] != b'.'
        && !host.windows(2).any(|w| w == b"..")
        && tld.len() >= 2
        && tld.iter().all(u8::is_ascii_alphabetic);
    valid.then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::redact;

    fn r(text: &str) -> String {
        redact(text, "[email]").map_or_else(|| text.to_string(), |(s, _)| s)
    }

    #[test]
    fn addresses_are_replaced() {
        assert_eq!(r("mail ada@example.com now"), "mail [email] now");
        assert_eq!(r("<grace.hopper+x@navy.mil.us>."), "<[email]>.");
        assert_eq!(
            r(r#"{"content":"a.b@c.io, d@e.fr"}"#),
            r#"{"content":"[email], [email]"}"#
        );
        assert_eq!(redact("x@y.com y@z.org", "?").map(|(_, n)| n), Some(2));
    }

    #[test]
    fn other_at_signs_stay() {
        for text in [
            "@home",
            "a@b",
            "a@b.c",
            "user@localhost",
            "é@ü.de",
            "a@.com",
            "x @ y.com",
            "a@b..com",
        ] {
            assert_eq!(redact(text, "[email]"), None, "{text}");
        }
    }

    #[test]
    fn non_ascii_around_is_kept() {
        assert_eq!(r("écrire à ada@example.com ✓"), "écrire à [email] ✓");
    }
}
