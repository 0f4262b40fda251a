//! Just enough JSON to read an array of strings (attribute values arrive as JSON text).

/// The strings of a JSON array of strings; `None` for any other JSON or bad JSON.
pub(crate) fn parse_string_array(text: &str) -> Option<Vec<String>> {
    let mut chars = text.trim().chars().peekable();
    if chars.next()? != '[' {
        return None;
    }
    let mut out = Vec::new();
    skip_ws(&mut chars);
    if chars.peek() == Some(&']') {
        chars.next();
        return chars.next().is_none().then_some(out);
    }
    loop {
        skip_ws(&mut chars);
        if chars.next()? != '"' {
            return None;
        }
        out.push(parse_string_body(&mut chars)?);
        skip_ws(&mut chars);
        match chars.next()? {
            ',' => continue,
            ']' => break,
            _ => return None,
        }
    }
    skip_ws(&mut chars);
    chars.next().is_none().then_some(out)
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

fn skip_ws(chars: &mut Chars<'_>) {
    while chars
        .next_if(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
        .is_some()
    {}
}

/// The rest of a string after its opening quote, escapes decoded.
fn parse_string_body(chars: &mut Chars<'_>) -> Option<String> {
    let mut s = String::new();
    loop {
        match chars.next()? {
            '"' => return Some(s),
            '\\' => match chars.next()? {
                '"' => s.push('"'),
                '\\' => s.push('\\'),
                '/' => s.push('/'),
                'b' => s.push('\u{8}'),
                'f' => s.push('\u{c}'),
                'n' => s.push('\n'),
                'r' => s.push('\r'),
                't' => s.push('\t'),
                'u' => {
                    let high = hex4(chars)?;
                    let code = if (0xD800..0xDC00).contains(&high) {
                        if chars.next()? != '\\' || chars.next()? != 'u' {
                            return None;
                        }
                        let low = hex4(chars)?;
                        if !(0xDC00..0xE000).contains(&low) {
                            return None;
                        }
                        0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        high
                    };
                    s.push(char::from_u32(code)?);
                }
                _ => return None,
            },
            c if (c as u32) < 0x20 => return None,
            c => s.push(c),
        }
    }
}

fn hex4(chars: &mut Chars<'_>) -> Option<u32> {
    (0..4).try_fold(0, |acc, _| Some(acc * 16 + chars.next()?.to_digit(16)?))
}

#[cfg(test)]
mod tests {
    use super::parse_string_array;

    fn list(items: &[&str]) -> Option<Vec<String>> {
        Some(items.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn arrays_of_strings() {
        assert_eq!(parse_string_array(r#"["length"]"#), list(&["length"]));
        assert_eq!(parse_string_array(" [ \"a\" , \"b\" ] "), list(&["a", "b"]));
        assert_eq!(parse_string_array("[]"), list(&[]));
        assert_eq!(
            parse_string_array(r#"["\u00e9\ud83d\ude00\n"]"#),
            list(&["é😀\n"])
        );
    }

    #[test]
    fn anything_else_is_none() {
        for bad in [
            "",
            "[",
            "[1]",
            r#"["a",]"#,
            r#"["a"] x"#,
            r#"{"a":1}"#,
            r#""a""#,
            r#"["\x"]"#,
            r#"["\ud800"]"#,
        ] {
            assert_eq!(parse_string_array(bad), None, "{bad}");
        }
    }
}
