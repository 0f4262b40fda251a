//! `cargo flowtrace eval`: an evaluator over files of traces, on every core.
//!
//! - [`source`]: the plugin, from the registry, a plugin directory (built first) or a `.wasm`
//!   with its manifest embedded.
//! - [`input`]: trace files read as a stream of lines (JSON lines) or documents.
//! - [`run`]: a reader thread, `jobs` workers, results in input order through a bounded window.
//! - [`report`]: the per-trace record (`--output`, `eval-result`) and the summary.

pub mod input;
pub mod report;
pub mod run;
pub mod source;

pub use report::{EvalRecord, EvalSummary, Tally, Verdict};
pub use source::{LoadRequest, LoadedEvaluator, PluginSource};
