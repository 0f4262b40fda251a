//! The contract embedder: eight numbers per text, computed the same way in every language
//! (lengths in UTF-8 bytes, code points and UTF-16 units, first and last code point, a
//! division rounded to f32); NaN and infinities for the empty text; `fail` refused. The rules
//! are in the README's "Contract suite" section.

use flowtrace_plugin_sdk::{export_embedder, Embedder, PluginError};

struct Plugin;

fn vector(text: &str) -> Vec<f32> {
    let (Some(first), Some(last)) = (text.chars().next(), text.chars().next_back()) else {
        return vec![
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            -0.0,
            0.0,
            0.0,
            0.0,
            0.0,
        ];
    };
    let bytes = text.len() as f64;
    let sum = text.chars().map(u64::from).sum::<u64>() % 65521;
    [
        bytes,
        text.chars().count() as f64,
        text.encode_utf16().count() as f64,
        f64::from(u32::from(first)),
        f64::from(u32::from(last)),
        bytes / 3.0,
        0.1,
        sum as f64,
    ]
    .into_iter()
    .map(|x| x as f32)
    .collect()
}

impl Embedder for Plugin {
    fn dimension() -> u32 {
        8
    }

    fn embed(texts: Vec<String>) -> Result<Vec<Vec<f32>>, PluginError> {
        if let Some(i) = texts.iter().position(|t| t == "fail") {
            return Err(PluginError::invalid_input(format_args!(
                "text {i} asks to fail"
            )));
        }
        Ok(texts.iter().map(|t| vector(t)).collect())
    }
}

export_embedder!(Plugin);
