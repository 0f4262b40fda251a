//! The plugin kinds in the harness, one module each: the input a fixture gives the kind, the
//! `[expect]` keys it reads, and how a case calls a plugin of the kind and holds the result
//! against them.
//!
//! Adding a kind: a module here implementing [`KindHarness`], a line in [`of`], and its keys
//! in `fixture/raw.rs` (the file's serde shape, which refuses unknown keys).

use std::fmt;

use flowtrace_plugins::manifest::PluginKind;
use flowtrace_plugins::{Plugin, PreparedTrace};

use super::fixture::raw::RawExpect;
use super::fixture::validate::Validator;
use super::fixture::Input;
use super::run::{Called, CaseFailure};

mod embedder;
mod evaluator;
mod exporter;
mod transformer;

/// What the harness knows of one plugin kind.
pub(crate) trait KindHarness: Sync {
    /// The `[expect]` keys about a result of this kind, in the order problems are reported.
    fn expect_keys(&self) -> &'static [&'static str];

    /// What a fixture gives a plugin of this kind.
    fn input(&self) -> InputShape;

    /// The extension of a snapshot's file (`snapshot = true`).
    fn snapshot_extension(&self) -> &'static str {
        "json"
    }

    /// This kind's `[expect]` keys, validated (problems go to `v`).
    fn expectations(&self, v: &mut Validator<'_>, raw: &RawExpect) -> Box<dyn Expectations>;
}

/// A fixture's input, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InputShape {
    /// `trace`: one or more traces; `format` too when `format` is true.
    Traces {
        /// Whether `format` (the export format) applies.
        format: bool,
    },
    /// `texts`.
    Texts,
}

/// A case's expectations on a result, and the call that produces it.
pub(crate) trait Expectations: fmt::Debug + Send + Sync {
    /// Call `plugin` with the fixture's `input` (`traces` are its traces, prepared) and hold
    /// what it returns against these expectations.
    fn call(
        &self,
        plugin: &Plugin,
        input: &Input,
        traces: &[PreparedTrace],
    ) -> Result<Called, CaseFailure>;
}

/// The harness of `kind`.
pub(crate) fn of(kind: PluginKind) -> &'static dyn KindHarness {
    match kind {
        PluginKind::Evaluator => &evaluator::Evaluator,
        PluginKind::Exporter => &exporter::Exporter,
        PluginKind::Embedder => &embedder::Embedder,
        PluginKind::Transformer => &transformer::Transformer,
    }
}

/// The kind whose `[expect]` keys include `key`.
pub(crate) fn owner_of(key: &str) -> Option<PluginKind> {
    PluginKind::ALL
        .into_iter()
        .find(|k| of(*k).expect_keys().contains(&key))
}

/// The kinds whose input `wanted` accepts, as `exporter` or `evaluator or transformer`.
pub(crate) fn kinds_taking(wanted: impl Fn(InputShape) -> bool) -> String {
    let names: Vec<&str> = PluginKind::ALL
        .into_iter()
        .filter(|k| wanted(of(*k).input()))
        .map(PluginKind::as_str)
        .collect();
    names.join(" or ")
}
