//! The work of `eval` (and of `run` with an evaluator): each trace of a batch evaluated once.

use flowtrace_plugins::{Evaluation, Plugin, PreparedTrace};

use super::engine::{self, Origin, Work};
use super::input::Item;
use super::report::{self, EvalRecord, RecordError, Verdict};

/// Evaluate every trace with one plugin.
pub struct Evaluate<'p> {
    /// The evaluator.
    pub plugin: &'p Plugin,
}

impl Work for Evaluate<'_> {
    type Record = EvalRecord;

    /// The traces go to [`Plugin::evaluate_each`], which evaluates each once, in a fresh
    /// instance of its own; a plugin declared `stateless` gets up to
    /// [`TRACES_PER_CALL`](flowtrace_plugins::TRACES_PER_CALL) per `evaluate-batch` call in
    /// one instance (for Python and JavaScript plugins, making an instance is most of the cost
    /// of a trace), and when such a call fails as a whole, each error still lands on its own
    /// trace, no trace's effects happen twice, and a looping trace costs one deadline.
    fn records(&self, names: &[String], items: Vec<Item>) -> Vec<(EvalRecord, u64)> {
        let units = engine::traces_of(self.plugin.runtime(), names, items);
        let (mut records, traces) = pending(units);
        let evaluations = self
            .plugin
            .evaluate_each(&traces.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>());
        for ((at, _), evaluation) in traces.iter().zip(evaluations) {
            settle(&mut records[*at].0, evaluation);
        }
        records
    }
}

/// Records, each with the bytes of input read up to its item.
pub type Records = Vec<(EvalRecord, u64)>;

/// The records of `units`, errors settled and the others waiting for their evaluation; and
/// the traces to evaluate, each with the index of its record.
pub fn pending(
    units: Vec<(Origin, Result<PreparedTrace, RecordError>)>,
) -> (Records, Vec<(usize, PreparedTrace)>) {
    let mut records = Vec::with_capacity(units.len());
    let mut traces = Vec::new();
    for (origin, prepared) in units {
        let (error, trace) = match prepared {
            Ok(trace) => (None, Some(trace)),
            Err(error) => (Some(error), None),
        };
        if let Some(trace) = trace {
            traces.push((records.len(), trace));
        }
        records.push((
            EvalRecord {
                exec_time: origin.started.elapsed(),
                file: origin.file,
                line: origin.line,
                trace_id: origin.trace_id,
                verdict: Verdict::Error,
                result: None,
                error,
                log: Vec::new(),
                log_dropped: 0,
            },
            origin.progress,
        ));
    }
    (records, traces)
}

/// Fill in `record` with the plugin's verdict.
pub fn settle(record: &mut EvalRecord, evaluation: Evaluation) {
    record.exec_time += evaluation.exec_time;
    (record.log, record.log_dropped) = report::log_of(evaluation.log);
    match evaluation.result {
        Ok(result) => {
            record.verdict = if result.passed {
                Verdict::Passed
            } else {
                Verdict::Failed
            };
            record.result = Some(result);
        }
        Err(error) => {
            record.verdict = Verdict::Error;
            record.error = Some(RecordError::of_call(&error));
        }
    }
}
