//! The pipeline: one reader thread, `jobs` workers, results written in input order.
//!
//! ```text
//! reader ──batches──▶ workers (parse each line, evaluate) ──results──▶ caller's thread
//!    ▲                                                            (reorders, writes, tallies)
//!    └───────────────────── window: batches in flight ◀─────────────────┘
//! ```
//!
//! Items (lines of JSON lines, protobuf records, traces of a document) travel in batches of up
//! to [`BATCH_ITEMS`] items or [`BATCH_BYTES`] bytes of lines and records, so a thread is
//! woken once per batch rather than once per trace (each wake-up is a futex call, and they
//! added up to a tenth of the time on two cores). Every batch in flight (queued, being evaluated, or
//! finished and waiting for an earlier one to be written) holds a permit of a window of
//! [`window`]`(jobs)` batches, so memory is flat in the number of traces: a slow trace (at
//! worst, the plugin's timeout) holds back the output, never memory.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use anyhow::Result;
use flowtrace_plugins::results::EvalResult;
use flowtrace_plugins::{Plugin, PreparedTrace};

use super::input::{self, Item, Payload, TraceFile};
use super::report::{ErrorKind, EvalRecord, RecordError, Verdict};

/// Items per batch at most.
pub const BATCH_ITEMS: usize = 16;

/// Bytes of lines per batch at most (a batch of long lines closes early).
pub const BATCH_BYTES: usize = 1 << 20;

/// Batches in flight at most with `jobs` workers: enough to keep every worker busy while
/// one result is late, small enough to stay a few megabytes.
pub fn window(jobs: usize) -> usize {
    (4 * jobs).max(8)
}

/// A batch's results: each record with the bytes of input read up to its item.
type Done = (u64, Vec<(EvalRecord, u64)>);

/// Evaluate every trace of `files` with `plugin` on `jobs` threads. `on_record` sees each
/// record in input order (file by file, line by line) on the caller's thread, with the bytes
/// of input read so far; its error stops the run and is returned.
pub fn run(
    plugin: &Plugin,
    files: Vec<TraceFile>,
    jobs: usize,
    on_record: &mut dyn FnMut(&EvalRecord, u64) -> Result<()>,
) -> Result<()> {
    let jobs = jobs.max(1);
    let names: Vec<String> = files.iter().map(|f| f.shown.clone()).collect();
    let window = Window::new(window(jobs));
    let cancelled = AtomicBool::new(false);
    let (batch_tx, batch_rx) = mpsc::channel::<(u64, Vec<Item>)>();
    let batch_rx = Mutex::new(batch_rx);
    let (done_tx, done_rx) = mpsc::channel::<Done>();

    std::thread::scope(|s| {
        let reader = {
            let (window, cancelled) = (&window, &cancelled);
            std::thread::Builder::new()
                .name("eval-reader".into())
                .spawn_scoped(s, move || {
                    let mut seq = 0u64;
                    let mut batch = Vec::with_capacity(BATCH_ITEMS);
                    let mut bytes = 0usize;
                    let mut ship = |batch: &mut Vec<Item>| {
                        if !window.acquire() || cancelled.load(Ordering::Relaxed) {
                            return false;
                        }
                        let items = std::mem::replace(batch, Vec::with_capacity(BATCH_ITEMS));
                        let sent = batch_tx.send((seq, items)).is_ok();
                        seq += 1;
                        sent
                    };
                    let mut offset = 0u64;
                    for (index, file) in files.into_iter().enumerate() {
                        let mut send = |item: Item| {
                            if let Payload::Line(raw) | Payload::Record { bytes: raw, .. } =
                                &item.payload
                            {
                                bytes += raw.len();
                            }
                            batch.push(item);
                            if batch.len() < BATCH_ITEMS && bytes < BATCH_BYTES {
                                return true;
                            }
                            bytes = 0;
                            ship(&mut batch)
                        };
                        offset += input::read(index, file, offset, &mut send);
                        if cancelled.load(Ordering::Relaxed) {
                            return;
                        }
                    }
                    if !batch.is_empty() {
                        ship(&mut batch);
                    }
                    // Dropping the sender ends the workers once the queue is empty.
                })
        };
        for i in 0..jobs {
            let done_tx = done_tx.clone();
            let (batch_rx, names) = (&batch_rx, &names);
            let spawned = std::thread::Builder::new()
                .name(format!("eval-{i}"))
                .spawn_scoped(s, move || loop {
                    // The lock is held only while waiting for the next batch.
                    let next = batch_rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    let Ok((seq, items)) = next else { break };
                    let records = evaluate(plugin, names, items);
                    if done_tx.send((seq, records)).is_err() {
                        break;
                    }
                });
            if let Err(e) = spawned {
                // Without any worker nothing would drain the queue.
                if i == 0 {
                    cancelled.store(true, Ordering::Relaxed);
                    window.close();
                    return Err(anyhow::Error::new(e).context("failed to start a worker thread"));
                }
                break;
            }
        }
        drop(done_tx);

        // Write in input order: hold back what finished early.
        let mut pending: BTreeMap<u64, Vec<(EvalRecord, u64)>> = BTreeMap::new();
        let mut next = 0u64;
        let mut failure = None;
        for (seq, records) in &done_rx {
            pending.insert(seq, records);
            while let Some(records) = pending.remove(&next) {
                next += 1;
                window.release();
                if failure.is_some() {
                    continue;
                }
                for (record, progress) in &records {
                    if let Err(e) = on_record(record, *progress) {
                        failure = Some(e);
                        // Stop the reader; the workers finish what they hold.
                        cancelled.store(true, Ordering::Relaxed);
                        window.close();
                        break;
                    }
                }
            }
        }
        if reader.is_err() {
            return Err(anyhow::anyhow!("failed to start the reader thread"));
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(()),
        }
    })
}

/// A trace read from an item, waiting for its result.
struct Pending {
    /// Index of its record in the batch's records.
    record: usize,
    trace: PreparedTrace,
}

/// The records of a batch of items, in order: one per trace an item holds, or one error
/// for an item that could not be read or a trace over the span cap; each with the bytes of
/// input read up to its item.
///
/// The traces go to [`Plugin::evaluate_each`], which evaluates each once: up to
/// [`TRACES_PER_CALL`](flowtrace_plugins::TRACES_PER_CALL) per `evaluate-batch` call in one
/// instance (for Python and JavaScript plugins, making an instance is most of the cost of a
/// trace), and when a call fails as a whole, each error still lands on its own trace, no
/// trace's effects happen twice, and a looping trace costs one deadline.
fn evaluate(plugin: &Plugin, names: &[String], items: Vec<Item>) -> Vec<(EvalRecord, u64)> {
    let mut records = Vec::new();
    let mut pending = Vec::new();
    for item in items {
        let started = Instant::now();
        let file = names[item.file].clone();
        let record = |trace_id, error| EvalRecord {
            file: file.clone(),
            line: item.line,
            trace_id,
            verdict: Verdict::Error,
            result: None,
            error,
            exec_time: started.elapsed(),
        };
        match input::traces_of(item.payload) {
            Ok(traces) => {
                for trace in traces {
                    let id = Some(trace.id.clone());
                    match plugin.runtime().prepare(trace) {
                        Ok(trace) => {
                            pending.push(Pending {
                                record: records.len(),
                                trace,
                            });
                            records.push((record(id, None), item.progress));
                        }
                        Err(e) => {
                            let error = RecordError::of_prepare(&e);
                            records.push((record(id, Some(error)), item.progress));
                        }
                    }
                }
            }
            Err(message) => {
                let error = RecordError {
                    kind: ErrorKind::Input,
                    message,
                };
                records.push((record(None, Some(error)), item.progress));
            }
        }
    }
    let traces: Vec<PreparedTrace> = pending.iter().map(|p| p.trace.clone()).collect();
    for (pending, evaluation) in pending.iter().zip(plugin.evaluate_each(&traces)) {
        let record = &mut records[pending.record].0;
        record.exec_time += evaluation.exec_time;
        settle(
            record,
            evaluation
                .result
                .map_err(|e| (ErrorKind::of(&e), e.reason.to_string())),
        );
    }
    records
}

/// Fill in `record` with the plugin's verdict.
fn settle(record: &mut EvalRecord, result: Result<EvalResult, (ErrorKind, String)>) {
    match result {
        Ok(result) => {
            record.verdict = if result.passed {
                Verdict::Passed
            } else {
                Verdict::Failed
            };
            record.result = Some(result);
        }
        Err((kind, reason)) => {
            let message = match kind {
                ErrorKind::Plugin => format!("plugin error: {reason}"),
                _ => reason,
            };
            record.verdict = Verdict::Error;
            record.error = Some(RecordError { kind, message });
        }
    }
}

/// A counting semaphore over the items in flight; closing it lets every waiter through
/// with `false`.
struct Window {
    free: Mutex<(usize, bool)>,
    changed: Condvar,
}

impl Window {
    fn new(size: usize) -> Self {
        Window {
            free: Mutex::new((size, false)),
            changed: Condvar::new(),
        }
    }

    /// Take a permit, waiting for one; `false` when closed.
    fn acquire(&self) -> bool {
        let mut state = self.free.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            match *state {
                (_, true) => return false,
                (0, false) => {
                    state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
                }
                (n, false) => {
                    state.0 = n - 1;
                    return true;
                }
            }
        }
    }

    fn release(&self) {
        let mut state = self.free.lock().unwrap_or_else(|e| e.into_inner());
        state.0 += 1;
        self.changed.notify_one();
    }

    fn close(&self) {
        let mut state = self.free.lock().unwrap_or_else(|e| e.into_inner());
        state.1 = true;
        self.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_blocks_at_its_size_and_opens_on_release_or_close() {
        let window = Window::new(2);
        assert!(window.acquire());
        assert!(window.acquire());
        std::thread::scope(|s| {
            let waiter = s.spawn(|| window.acquire());
            std::thread::sleep(std::time::Duration::from_millis(20));
            assert!(!waiter.is_finished(), "a third permit was given out");
            window.release();
            assert!(waiter.join().unwrap());
            let waiter = s.spawn(|| window.acquire());
            window.close();
            assert!(!waiter.join().unwrap());
        });
    }
}
