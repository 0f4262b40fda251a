//! A Flowtrace embedder: a deterministic hashing embedder. Each word (lowercased, split on
//! anything not alphanumeric) is hashed into one of 64 dimensions with a sign, and the
//! vector is L2-normalised, so texts sharing words have a high cosine similarity. No model,
//! no network: a baseline, and a starting point for a real embedder.

use flowtrace_plugin_sdk::{export_embedder, Embedder, PluginError};

const DIMENSION: usize = 64;

struct Plugin;

impl Embedder for Plugin {
    fn dimension() -> u32 {
        DIMENSION as u32
    }

    fn embed(texts: Vec<String>) -> Result<Vec<Vec<f32>>, PluginError> {
        Ok(texts.iter().map(|t| embed_text(t)).collect())
    }
}

export_embedder!(Plugin);

/// The unit vector of `text` (all zeros for a text without words).
fn embed_text(text: &str) -> Vec<f32> {
    let mut vector = vec![0.0_f32; DIMENSION];
    let words = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty());
    for word in words {
        let hash = fnv1a(word.to_lowercase().as_bytes());
        let sign = if hash >> 63 == 0 { 1.0 } else { -1.0 };
        vector[(hash % DIMENSION as u64) as usize] += sign;
    }
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|x| *x /= norm);
    }
    vector
}

/// 64-bit FNV-1a: stable across platforms and releases, unlike `std`'s hasher.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::{embed_text, DIMENSION};

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn unit_length_and_deterministic() {
        let v = embed_text("The refund was approved");
        assert_eq!(v.len(), DIMENSION);
        assert!((cosine(&v, &v) - 1.0).abs() < 1e-5);
        assert_eq!(v, embed_text("The refund was approved"));
    }

    #[test]
    fn shared_words_are_similar() {
        let a = embed_text("The refund was approved.");
        let b = embed_text("the REFUND was approved");
        let c = embed_text("Weather in Paris is sunny");
        assert!(cosine(&a, &b) > 0.99);
        assert!(cosine(&a, &c) < 0.5);
    }

    #[test]
    fn no_words_is_the_zero_vector() {
        assert!(embed_text(" ... ").iter().all(|x| *x == 0.0));
    }
}
