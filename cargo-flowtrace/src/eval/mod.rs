//! Running a plugin over files of traces (or text), on every core: `eval`, `run`, `diff`.
//!
//! - [`source`]: the plugin, from the registry, a plugin directory (built first) or a `.wasm`
//!   with its manifest embedded.
//! - [`input`]: trace files (or text files) read as a stream of lines or documents.
//! - [`engine`]: a reader thread, `jobs` workers, results in input order through a bounded
//!   window; what the workers do is a [`engine::Work`]:
//!   - [`evaluate`]: each trace evaluated once (`eval`, `run` of an evaluator);
//!   - [`apply`]: each trace exported, transformed or embedded, or each line embedded (`run`);
//!   - [`diff`]: each trace evaluated by two evaluators, and what changed (`diff`, and the
//!     summary `install` prints on an upgrade);
//! - [`feedback`]: status lines, progress and the first errors, for a person.
//! - [`report`]: the per-trace records (`eval-result`, `run-result`) and the summaries.

pub mod apply;
pub mod diff;
pub mod engine;
pub mod evaluate;
pub mod feedback;
pub mod input;
pub mod report;
pub mod source;

pub use report::{EvalRecord, EvalSummary, Tally, Verdict};
pub use source::{LoadRequest, LoadedPlugin, PluginSource};
