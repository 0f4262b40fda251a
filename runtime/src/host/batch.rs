//! The host side of a batch call (`evaluate-batch`): which trace the guest is on, the deadline
//! of that trace, and the effects held back until the call's outcome is known (log lines, and
//! `kv` writes), so that a batch that fails as a whole can be run again without any trace's
//! effects happening twice.
//!
//! The host cannot see inside the guest's call; it sees which trace handle the guest reads.
//! The trace whose handle the guest read last is the one it is on: its time counts against that
//! trace's deadline, and its log lines belong to that trace.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::host::services::{KvStore, LogLevel};
use crate::manifest::PluginId;
use crate::plugin::observe::{CallCx, CallId};

/// Most bytes of `kv` writes a batch call holds back; past them the call fails (it is then
/// made again one trace per call, writing through).
pub(crate) const MAX_STAGED_KV_BYTES: usize = 4 << 20;

/// The batch state every part of one batch call shares (the store, the log pipes, the
/// caller's deadline guard).
pub(crate) struct BatchScope {
    /// Each trace's deadline.
    limit: Duration,
    progress: Mutex<Progress>,
    lines: Mutex<Vec<HeldLine>>,
}

/// A log line held back, with the trace the guest was on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HeldLine {
    pub(crate) trace: usize,
    /// The call it was logged in.
    pub(crate) call: Option<CallId>,
    /// The id of trace `trace`.
    pub(crate) trace_id: Option<String>,
    pub(crate) level: LogLevel,
    pub(crate) message: String,
}

struct Progress {
    current: usize,
    since: Instant,
    spent: Vec<Duration>,
    touched: Vec<bool>,
}

/// What a finished (or failed) batch call tells about its traces.
#[derive(Debug, Clone)]
pub(crate) struct BatchReport {
    /// The trace the guest was on at the end.
    pub(crate) current: usize,
    /// Whether the guest read that trace's handle (if not, the time was only counted to it).
    pub(crate) current_touched: bool,
    /// Time counted to each trace.
    pub(crate) spent: Vec<Duration>,
    /// The log lines, in order, each with the trace the guest was on.
    pub(crate) lines: Vec<HeldLine>,
}

impl BatchScope {
    /// A batch of `traces` traces, each with `limit` of the guest's time; the clock starts
    /// now, counting to the first trace.
    pub(crate) fn new(traces: usize, limit: Duration) -> Self {
        Self {
            limit,
            progress: Mutex::new(Progress {
                current: 0,
                since: Instant::now(),
                spent: vec![Duration::ZERO; traces.max(1)],
                touched: vec![false; traces.max(1)],
            }),
            lines: Mutex::new(Vec::new()),
        }
    }

    fn progress(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The guest read trace `index`'s handle.
    pub(crate) fn touch(&self, index: usize) {
        let mut guard = self.progress();
        let p = &mut *guard;
        if index >= p.spent.len() {
            return;
        }
        let now = Instant::now();
        if index != p.current {
            let current = p.current;
            p.spent[current] += now - p.since;
            p.current = index;
            p.since = now;
        }
        p.touched[index] = true;
    }

    /// The trace the guest is on.
    pub(crate) fn current(&self) -> usize {
        self.progress().current
    }

    /// Time left before the deadline of the trace the guest is on; zero when it has passed.
    pub(crate) fn remaining(&self) -> Duration {
        let p = self.progress();
        let used = p.spent[p.current] + p.since.elapsed();
        self.limit.saturating_sub(used)
    }

    /// Hold back a log line of the trace the guest is on, logged in `call`.
    pub(crate) fn hold(&self, call: Option<&CallCx>, level: LogLevel, message: &str) {
        let trace = self.current();
        self.lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(HeldLine {
                trace,
                call: call.map(|c| c.id),
                trace_id: call.and_then(|c| c.trace(trace)).map(str::to_string),
                level,
                message: message.to_string(),
            });
    }

    /// Stop the clock and say what happened.
    pub(crate) fn report(&self) -> BatchReport {
        let mut guard = self.progress();
        let p = &mut *guard;
        let now = Instant::now();
        let current = p.current;
        p.spent[current] += now - p.since;
        p.since = now;
        BatchReport {
            current,
            current_touched: p.touched[current],
            spent: p.spent.clone(),
            lines: std::mem::take(&mut *self.lines.lock().unwrap_or_else(|e| e.into_inner())),
        }
    }
}

/// The `kv` writes of a batch call, held back until it succeeds. The guest reads its own
/// writes; other calls do not see them until they are committed.
#[derive(Debug, Default)]
pub(crate) struct KvStage {
    /// Each key written: its last value, or `None` when deleted.
    writes: BTreeMap<String, Option<Vec<u8>>>,
    /// The same writes by the trace the guest was on when it made them.
    by_trace: BTreeMap<usize, BTreeMap<String, Option<Vec<u8>>>>,
    /// Bytes of keys and values in `by_trace`.
    bytes: usize,
}

/// A batch's `kv` writes no longer fit in [`MAX_STAGED_KV_BYTES`].
#[derive(Debug, thiserror::Error)]
#[error("a batch call held back more than {MAX_STAGED_KV_BYTES} bytes of `kv` writes")]
pub(crate) struct StageFull;

fn entry_size(key: &str, value: Option<&Vec<u8>>) -> usize {
    key.len() + value.map_or(0, Vec::len)
}

impl KvStage {
    pub(crate) fn get(&self, store: &dyn KvStore, plugin: &PluginId, key: &str) -> Option<Vec<u8>> {
        match self.writes.get(key) {
            Some(staged) => staged.clone(),
            None => store.get(plugin, key),
        }
    }

    /// Write `value` (`None`: delete) to `key`, on trace `trace`.
    pub(crate) fn write(
        &mut self,
        trace: usize,
        key: &str,
        value: Option<Vec<u8>>,
    ) -> Result<(), StageFull> {
        let segment = self.by_trace.entry(trace).or_default();
        let old = segment.get(key).map_or(0, |v| entry_size(key, v.as_ref()));
        let bytes = self.bytes - old + entry_size(key, value.as_ref());
        if bytes > MAX_STAGED_KV_BYTES {
            return Err(StageFull);
        }
        self.bytes = bytes;
        segment.insert(key.to_string(), value.clone());
        self.writes.insert(key.to_string(), value);
        Ok(())
    }

    pub(crate) fn keys(&self, store: &dyn KvStore, plugin: &PluginId, prefix: &str) -> Vec<String> {
        let mut keys: std::collections::BTreeSet<String> =
            store.keys(plugin, prefix).into_iter().collect();
        for (key, value) in self.writes.range(prefix.to_string()..) {
            if !key.starts_with(prefix) {
                break;
            }
            if value.is_some() {
                keys.insert(key.clone());
            } else {
                keys.remove(key);
            }
        }
        keys.into_iter().collect()
    }

    /// Every write, to commit (each key once, its last value).
    pub(crate) fn into_writes(self) -> Vec<(String, Option<Vec<u8>>)> {
        self.writes.into_iter().collect()
    }

    /// The writes made on trace `trace` (each key once, its last value there).
    pub(crate) fn into_writes_of(mut self, trace: usize) -> Vec<(String, Option<Vec<u8>>)> {
        self.by_trace
            .remove(&trace)
            .unwrap_or_default()
            .into_iter()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::services::MemoryKv;

    #[test]
    fn staged_writes_are_read_back_and_hidden_from_the_store() {
        let store = MemoryKv::default();
        let plugin = PluginId::parse("p").unwrap();
        store.set(&plugin, "a", b"1".to_vec()).unwrap();
        store.set(&plugin, "b", b"2".to_vec()).unwrap();
        let mut stage = KvStage::default();
        stage.write(0, "c", Some(b"3".to_vec())).unwrap();
        stage.write(1, "a", None).unwrap();
        stage.write(1, "b", Some(b"22".to_vec())).unwrap();
        assert_eq!(stage.get(&store, &plugin, "a"), None);
        assert_eq!(stage.get(&store, &plugin, "b"), Some(b"22".to_vec()));
        assert_eq!(stage.keys(&store, &plugin, ""), ["b", "c"]);
        assert_eq!(store.keys(&plugin, ""), ["a", "b"]);
        assert_eq!(store.get(&plugin, "b"), Some(b"2".to_vec()));
        store.commit(&plugin, stage.into_writes()).unwrap();
        assert_eq!(store.keys(&plugin, ""), ["b", "c"]);
        assert_eq!(store.get(&plugin, "b"), Some(b"22".to_vec()));
    }

    #[test]
    fn one_traces_writes_can_be_taken_alone() {
        let mut stage = KvStage::default();
        stage.write(0, "a", Some(b"0".to_vec())).unwrap();
        stage.write(1, "a", Some(b"1".to_vec())).unwrap();
        stage.write(1, "b", None).unwrap();
        stage.write(2, "a", Some(b"2".to_vec())).unwrap();
        assert_eq!(
            stage.into_writes_of(1),
            [
                ("a".to_string(), Some(b"1".to_vec())),
                ("b".to_string(), None)
            ]
        );
    }

    #[test]
    fn the_stage_is_bounded() {
        let mut stage = KvStage::default();
        stage
            .write(0, "k", Some(vec![0; MAX_STAGED_KV_BYTES - 1]))
            .unwrap();
        // Rewriting a key on the same trace replaces its bytes rather than adding to them.
        stage
            .write(0, "k", Some(vec![0; MAX_STAGED_KV_BYTES - 1]))
            .unwrap();
        assert!(stage.write(0, "l", Some(vec![0; 8])).is_err());
        assert!(stage.write(1, "k", Some(vec![0; 8])).is_err());
    }

    #[test]
    fn time_counts_to_the_trace_last_read() {
        let batch = BatchScope::new(3, Duration::from_secs(60));
        assert_eq!(batch.current(), 0);
        batch.touch(2);
        std::thread::sleep(Duration::from_millis(20));
        batch.hold(None, LogLevel::Info, "on two");
        batch.touch(1);
        let report = batch.report();
        assert_eq!(report.current, 1);
        assert!(report.current_touched);
        assert!(report.spent[2] >= Duration::from_millis(20));
        assert_eq!(
            report.lines,
            [HeldLine {
                trace: 2,
                call: None,
                trace_id: None,
                level: LogLevel::Info,
                message: "on two".into()
            }]
        );
    }
}
