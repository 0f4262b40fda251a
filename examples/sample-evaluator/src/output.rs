//! What an LLM span's output holds. The host gives LLM outputs as GenAI "parts" message
//! JSON (`[{"role":"assistant","parts":[{"type":"text","content":"..."}]}]`) whatever the
//! instrumentation; anything else is read as plain text.

use serde_json::Value;

/// The text content of an output and whether it holds anything at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Content {
    /// Characters of text content (of the whole output when it is not parts JSON).
    pub chars: usize,
    /// Whether there is any non-blank text or any non-text part (a tool call, an image).
    pub has_content: bool,
}

/// Read an output.
pub fn content(output: &str) -> Content {
    match serde_json::from_str::<Value>(output) {
        Ok(Value::Array(messages)) if messages.iter().all(|m| m.get("parts").is_some()) => {
            parts_content(&messages)
        }
        _ => Content {
            chars: output.chars().count(),
            has_content: !output.trim().is_empty(),
        },
    }
}

fn parts_content(messages: &[Value]) -> Content {
    let parts = messages
        .iter()
        .filter_map(|m| m.get("parts")?.as_array())
        .flatten();
    let mut content = Content {
        chars: 0,
        has_content: false,
    };
    for part in parts {
        match part.get("type").and_then(Value::as_str) {
            Some("text") | None => {
                let text = part.get("content").and_then(Value::as_str).unwrap_or("");
                content.chars += text.chars().count();
                content.has_content |= !text.trim().is_empty();
            }
            Some(_) => content.has_content = true,
        }
    }
    content
}

#[cfg(test)]
mod tests {
    use super::{content, Content};

    #[test]
    fn parts_text_is_counted() {
        let out = r#"[{"role":"assistant","finish_reason":"stop","parts":[{"type":"text","content":"Paris é"}]}]"#;
        assert_eq!(
            content(out),
            Content {
                chars: 7,
                has_content: true
            }
        );
    }

    #[test]
    fn empty_parts_have_no_content() {
        for out in [
            r#"[{"role":"assistant","parts":[{"type":"text","content":""}]}]"#,
            r#"[{"role":"assistant","parts":[{"type":"text","content":"  \n"}]}]"#,
            r#"[{"role":"assistant","parts":[]}]"#,
            "",
            "   ",
        ] {
            assert!(!content(out).has_content, "{out:?}");
        }
    }

    #[test]
    fn a_tool_call_is_content() {
        let out = r#"[{"role":"assistant","parts":[{"type":"tool_call","name":"get_weather","arguments":{}}]}]"#;
        assert_eq!(
            content(out),
            Content {
                chars: 0,
                has_content: true
            }
        );
    }

    #[test]
    fn plain_text_and_other_json_are_text() {
        assert_eq!(
            content("hello"),
            Content {
                chars: 5,
                has_content: true
            }
        );
        assert_eq!(content(r#"{"answer":1}"#).chars, 12);
        assert_eq!(content("[1, 2]").chars, 6);
    }
}
