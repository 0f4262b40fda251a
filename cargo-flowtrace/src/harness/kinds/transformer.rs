//! Transformers: the fixture's traces rewritten; `traces` and `spans` held against what
//! comes out.

use flowtrace_plugins::trace::Trace;
use flowtrace_plugins::{Plugin, PreparedTrace};

use super::{Expectations, InputShape, KindHarness};
use crate::harness::expect::Mismatch;
use crate::harness::fixture::raw::RawExpect;
use crate::harness::fixture::validate::Validator;
use crate::harness::fixture::Input;
use crate::harness::run::{Called, CaseFailure};

pub(super) struct Transformer;

impl KindHarness for Transformer {
    fn expect_keys(&self) -> &'static [&'static str] {
        &["traces", "spans"]
    }

    fn input(&self) -> InputShape {
        InputShape::Traces { format: false }
    }

    fn expectations(&self, _v: &mut Validator<'_>, raw: &RawExpect) -> Box<dyn Expectations> {
        Box::new(TransformExpect {
            traces: raw.traces.as_ref().map(|t| *t.get_ref() as usize),
            spans: raw.spans.as_ref().map(|s| *s.get_ref() as usize),
        })
    }
}

/// What a transformer's fixture expects.
#[derive(Debug, Clone, PartialEq)]
struct TransformExpect {
    /// `traces`: how many traces come out.
    traces: Option<usize>,
    /// `spans`: how many spans in all come out.
    spans: Option<usize>,
}

impl Expectations for TransformExpect {
    fn call(
        &self,
        plugin: &Plugin,
        _input: &Input,
        traces: &[PreparedTrace],
    ) -> Result<Called, CaseFailure> {
        let output = plugin.transform(traces)?;
        let mismatches = check_transform(&output, self.traces, self.spans);
        let summary = format!("{} traces", output.len());
        Called::json(&output, mismatches, summary)
    }
}

/// Hold a transformer's output against `traces` and `spans`.
fn check_transform(output: &[Trace], traces: Option<usize>, spans: Option<usize>) -> Vec<Mismatch> {
    let mut out = Vec::new();
    if let Some(expected) = traces {
        if output.len() != expected {
            out.push(Mismatch::new(format!(
                "expected {expected} traces, got {}",
                output.len()
            )));
        }
    }
    if let Some(expected) = spans {
        let got: usize = output.iter().map(|t| t.spans.len()).sum();
        if got != expected {
            out.push(Mismatch::new(format!(
                "expected {expected} spans in all, got {got}"
            )));
        }
    }
    out
}
