//! The pipeline every command that runs a plugin over files shares (`eval`, `run`, `diff`):
//! one reader thread, `jobs` workers, results written in input order.
//!
//! ```text
//! reader ──batches──▶ workers (parse each line, call the plugin) ──records──▶ caller's thread
//!    ▲                                                            (reorders, writes, tallies)
//!    └───────────────────── window: batches in flight ◀─────────────────┘
//! ```
//!
//! What a worker does with a batch is a [`Work`]: evaluate its traces
//! ([`super::evaluate::Evaluate`]), export, transform or embed them ([`super::apply`]), or
//! evaluate them with two plugins ([`super::diff`]). Reading, batching, ordering, the window
//! and cancellation are here, once.
//!
//! Items (lines of JSON lines, protobuf records, traces of a document, lines of text) travel
//! in batches of up to [`BATCH_ITEMS`] items or [`BATCH_BYTES`] bytes of lines and records, so
//! a thread is woken once per batch rather than once per trace (each wake-up is a futex call,
//! and they added up to a tenth of the time on two cores). Every batch in flight (queued,
//! being worked on, or finished and waiting for an earlier one to be written) holds a permit
//! of a window of [`window`]`(jobs)` batches, so memory is flat in the number of traces: a
//! slow trace (at worst, the plugin's timeout) holds back the output, never memory.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use anyhow::Result;
use flowtrace_plugins::{PreparedTrace, Runtime};

use super::input::{self, Item, Payload, Reading, TraceFile};
use super::report::{ErrorKind, RecordError};

/// Items per batch at most.
pub const BATCH_ITEMS: usize = 16;

/// Bytes of lines per batch at most (a batch of long lines closes early).
pub const BATCH_BYTES: usize = 1 << 20;

/// Batches in flight at most with `jobs` workers: enough to keep every worker busy while
/// one result is late, small enough to stay a few megabytes.
pub fn window(jobs: usize) -> usize {
    (4 * jobs).max(8)
}

/// What the workers do with each batch of items.
pub trait Work: Sync {
    /// What comes out for each unit of input (a trace, or a line that could not be read).
    type Record: Send;

    /// The records of `items`, in order, each with the bytes of input read up to its item.
    /// `names` are the files as shown, by index.
    fn records(&self, names: &[String], items: Vec<Item>) -> Vec<(Self::Record, u64)>;
}

/// A batch's records: each with the bytes of input read up to its item.
type Done<R> = (u64, Vec<(R, u64)>);

/// Run `work` over every item of `files` (read as `reading` says) on `jobs` threads.
/// `on_record` sees each record in input order (file by file, line by line) on the caller's
/// thread, with the bytes of input read so far; its error stops the run and is returned.
pub fn run<W: Work>(
    work: &W,
    files: Vec<TraceFile>,
    reading: Reading,
    jobs: usize,
    on_record: &mut dyn FnMut(&W::Record, u64) -> Result<()>,
) -> Result<()> {
    let jobs = jobs.max(1);
    let names: Vec<String> = files.iter().map(|f| f.shown.clone()).collect();
    let window = Window::new(window(jobs));
    let cancelled = AtomicBool::new(false);
    let (batch_tx, batch_rx) = mpsc::channel::<(u64, Vec<Item>)>();
    let batch_rx = Mutex::new(batch_rx);
    let (done_tx, done_rx) = mpsc::channel::<Done<W::Record>>();

    std::thread::scope(|s| {
        let reader = {
            let (window, cancelled) = (&window, &cancelled);
            std::thread::Builder::new()
                .name("flowtrace-reader".into())
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
                            if let Payload::Line(raw)
                            | Payload::Record { bytes: raw, .. }
                            | Payload::Text(raw) = &item.payload
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
                        offset += input::read(index, file, reading, offset, &mut send);
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
                .name(format!("flowtrace-{i}"))
                .spawn_scoped(s, move || loop {
                    // The lock is held only while waiting for the next batch.
                    let next = batch_rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    let Ok((seq, items)) = next else { break };
                    let records = work.records(names, items);
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
        let mut pending: BTreeMap<u64, Vec<(W::Record, u64)>> = BTreeMap::new();
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

/// Where a unit of input came from.
#[derive(Debug, Clone)]
pub struct Origin {
    /// The file, as shown.
    pub file: String,
    /// The line (from 1) of JSON lines or text, or of a syntax error.
    pub line: Option<usize>,
    /// The trace id, when a trace could be read.
    pub trace_id: Option<String>,
    /// Bytes of input read up to its item.
    pub progress: u64,
    /// When its item was taken up (parsing is part of a trace's time).
    pub started: Instant,
}

/// The traces of a batch of items, in order: one entry per trace an item holds, prepared
/// for the plugin, or the error of an item that could not be read or a trace over the span
/// cap (`--max-spans`).
pub fn traces_of(
    runtime: &Runtime,
    names: &[String],
    items: Vec<Item>,
) -> Vec<(Origin, Result<PreparedTrace, RecordError>)> {
    let mut out = Vec::new();
    for item in items {
        let origin = Origin {
            file: names[item.file].clone(),
            line: item.line,
            trace_id: None,
            progress: item.progress,
            started: Instant::now(),
        };
        match input::traces_of(item.payload) {
            Ok(traces) => {
                for trace in traces {
                    let origin = Origin {
                        trace_id: Some(trace.id.clone()),
                        ..origin.clone()
                    };
                    let prepared = runtime
                        .prepare(trace)
                        .map_err(|e| RecordError::of_prepare(&e));
                    out.push((origin, prepared));
                }
            }
            Err(message) => out.push((
                origin,
                Err(RecordError {
                    kind: ErrorKind::Input,
                    message,
                }),
            )),
        }
    }
    out
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
