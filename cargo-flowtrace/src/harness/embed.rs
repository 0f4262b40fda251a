//! The embedder a case's plugin talks to through `flowtrace:plugin/embeddings` (capability
//! `embeddings`): the fixture's `[embeddings]` section, served through the runtime's
//! [`EmbeddingProvider`] trait, the way an installed embedder plugin serves it in Flowtrace.
//!
//! Without the section every call fails, and the case fails saying the fixture must declare
//! one: a test never gets vectors nobody chose.

use std::collections::BTreeMap;
use std::sync::Mutex;

use flowtrace_plugins::results::PluginError;
use flowtrace_plugins::services::{BoxFuture, EmbeddingProvider};

/// `[embeddings]`, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddingsStub {
    /// `dimension`: what `dimension()` answers, and the length of every vector.
    pub dimension: u32,
    /// `vectors`: the vector of each text, exactly. When given, a text it does not list fails
    /// the case; when not, every text gets [`hash_vector`].
    pub vectors: Option<BTreeMap<String, Vec<f32>>>,
}

/// Why a case's embedding calls did not go as the fixture says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmbedProblem {
    /// The plugin called `embeddings` (`dimension` or `embed`) and the fixture has no
    /// `[embeddings]`.
    Undeclared {
        /// `dimension` or `embed`.
        call: &'static str,
    },
    /// `vectors` does not list this text.
    Unlisted {
        /// The text, as the plugin sent it.
        text: String,
    },
}

/// Serves one case's `[embeddings]` and remembers what went wrong.
#[derive(Debug, Default)]
pub struct FixtureEmbeddings {
    stub: Option<EmbeddingsStub>,
    problems: Mutex<Vec<EmbedProblem>>,
}

impl FixtureEmbeddings {
    /// Serve `stub`; `None` when the fixture has no `[embeddings]`.
    pub fn new(stub: Option<EmbeddingsStub>) -> Self {
        Self {
            stub,
            problems: Mutex::new(Vec::new()),
        }
    }

    /// What went wrong, each problem once, in the order met.
    pub fn problems(&self) -> Vec<EmbedProblem> {
        self.problems
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn record(&self, problem: EmbedProblem) {
        let mut problems = self.problems.lock().unwrap_or_else(|e| e.into_inner());
        if !problems.contains(&problem) {
            problems.push(problem);
        }
    }

    fn stub(&self, call: &'static str) -> Result<&EmbeddingsStub, PluginError> {
        self.stub.as_ref().ok_or_else(|| {
            self.record(EmbedProblem::Undeclared { call });
            PluginError::Unavailable(
                "the test fixture declares no `[embeddings]` to answer embedding calls".into(),
            )
        })
    }

    fn vectors(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, PluginError> {
        let stub = self.stub("embed")?;
        let Some(listed) = &stub.vectors else {
            return Ok(texts
                .iter()
                .map(|t| hash_vector(t, stub.dimension))
                .collect());
        };
        let mut out = Vec::with_capacity(texts.len());
        for text in texts {
            match listed.get(text) {
                Some(v) => out.push(v.clone()),
                None => {
                    self.record(EmbedProblem::Unlisted { text: text.clone() });
                    return Err(PluginError::Unavailable(format!(
                        "the test fixture's `[embeddings]` has no vector for {text:?}"
                    )));
                }
            }
        }
        Ok(out)
    }
}

impl EmbeddingProvider for FixtureEmbeddings {
    fn dimension(&self) -> BoxFuture<'_, Result<u32, PluginError>> {
        let answer = self.stub("dimension").map(|s| s.dimension);
        Box::pin(async move { answer })
    }

    fn embed(&self, texts: Vec<String>) -> BoxFuture<'_, Result<Vec<Vec<f32>>, PluginError>> {
        let answer = self.vectors(&texts);
        Box::pin(async move { answer })
    }
}

/// The test embedder's vector for `text`: `dimension` values of unit length, from a 64-bit
/// FNV-1a hash of the text stretched with SplitMix64. The same text gives the same vector on
/// every machine and in every version (snapshots depend on it); different texts give
/// unrelated vectors.
pub fn hash_vector(text: &str, dimension: u32) -> Vec<f32> {
    let mut seed: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.as_bytes() {
        seed ^= u64::from(*byte);
        seed = seed.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut state = seed;
    let mut values: Vec<f64> = (0..dimension)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            // 53 random bits to [-1, 1).
            (z >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        })
        .collect();
    let norm = values.iter().map(|v| v * v).sum::<f64>().sqrt();
    if norm > 0.0 {
        for v in &mut values {
            *v /= norm;
        }
    }
    values.into_iter().map(|v| v as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_vectors_are_stable_unit_vectors() {
        let v = hash_vector("hello", 4);
        assert_eq!(v, hash_vector("hello", 4));
        assert_ne!(v, hash_vector("hello!", 4));
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-6, "{v:?}");
        assert!(v.iter().all(|x| (-1.0..=1.0).contains(x)));
        // Pinned: snapshots of plugins tested with the hash embedder depend on these values.
        assert_eq!(v, [0.7465276, 0.1959498, -0.5421744, -0.33218542]);
        assert_eq!(hash_vector("", 0), Vec::<f32>::new());
    }

    #[test]
    fn listed_vectors_are_exact_and_unlisted_texts_are_problems() {
        let stub = EmbeddingsStub {
            dimension: 2,
            vectors: Some(BTreeMap::from([("a".to_string(), vec![1.0, 0.0])])),
        };
        let served = FixtureEmbeddings::new(Some(stub));
        assert_eq!(served.vectors(&["a".into()]).unwrap(), [[1.0, 0.0]]);
        assert!(served.vectors(&["a".into(), "b".into()]).is_err());
        assert!(served.vectors(&["b".into()]).is_err());
        assert_eq!(
            served.problems(),
            [EmbedProblem::Unlisted { text: "b".into() }]
        );

        let none = FixtureEmbeddings::new(None);
        assert!(none.vectors(&["a".into()]).is_err());
        assert!(none.stub("dimension").is_err());
        assert_eq!(
            none.problems(),
            [
                EmbedProblem::Undeclared { call: "embed" },
                EmbedProblem::Undeclared { call: "dimension" }
            ]
        );
    }
}
