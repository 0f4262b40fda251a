//! Embedders: the fixture's `texts` embedded; `dimension` held against `dimension()` and
//! every vector.

use flowtrace_plugins::{Plugin, PreparedTrace};
use serde::Serialize;

use super::{Expectations, InputShape, KindHarness};
use crate::harness::expect::Mismatch;
use crate::harness::fixture::raw::RawExpect;
use crate::harness::fixture::validate::Validator;
use crate::harness::fixture::Input;
use crate::harness::run::{Called, CaseFailure};

pub(super) struct Embedder;

impl KindHarness for Embedder {
    fn expect_keys(&self) -> &'static [&'static str] {
        &["dimension"]
    }

    fn input(&self) -> InputShape {
        InputShape::Texts
    }

    fn expectations(&self, _v: &mut Validator<'_>, raw: &RawExpect) -> Box<dyn Expectations> {
        Box::new(EmbedExpect {
            dimension: raw.dimension.as_ref().map(|d| *d.get_ref()),
        })
    }
}

/// What an embedder's fixture expects.
#[derive(Debug, Clone, PartialEq)]
struct EmbedExpect {
    /// `dimension`: of `dimension()` and of every vector.
    dimension: Option<u32>,
}

impl Expectations for EmbedExpect {
    fn call(
        &self,
        plugin: &Plugin,
        input: &Input,
        _traces: &[PreparedTrace],
    ) -> Result<Called, CaseFailure> {
        let Input::Texts(texts) = input else {
            return Err(CaseFailure::Input("an embedder needs `texts`"));
        };
        let dimension = plugin.dimension()?;
        let vectors = plugin.embed(texts)?;
        let mismatches = check_embed(dimension, &vectors, texts.len(), self.dimension);
        let summary = format!("{} vectors of dimension {dimension}", vectors.len());
        #[derive(Serialize)]
        struct Embedded<'a> {
            dimension: u32,
            vectors: &'a [Vec<f32>],
        }
        let embedded = Embedded {
            dimension,
            vectors: &vectors,
        };
        Called::json(&embedded, mismatches, summary)
    }
}

/// Hold an embedder's answers against `dimension`.
fn check_embed(
    declared: u32,
    vectors: &[Vec<f32>],
    texts: usize,
    dimension: Option<u32>,
) -> Vec<Mismatch> {
    let mut out = Vec::new();
    if vectors.len() != texts {
        out.push(Mismatch::new(format!(
            "expected {texts} vectors (one per text), got {}",
            vectors.len()
        )));
    }
    if let Some(bad) = vectors.iter().position(|v| v.len() != declared as usize) {
        out.push(Mismatch::new(format!(
            "`dimension()` says {declared}, but vector {bad} has {} values",
            vectors[bad].len()
        )));
    }
    if let Some(expected) = dimension {
        if declared != expected {
            out.push(Mismatch::new(format!(
                "expected dimension {expected}, got {declared}"
            )));
        }
    }
    out
}
