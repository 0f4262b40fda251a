//! Many traces, each evaluated once (`Plugin::evaluate_each`): batch calls whose failure
//! costs no trace a second round of effects, and a deadline per trace, with the `counter`
//! guest of `tests/guests/` (it counts its evaluations in `kv` and through `traces.query`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use flowtrace_plugins::manifest::{HostPattern, Limits, PluginKind};
use flowtrace_plugins::results::{EvalResult, MetricValue};
use flowtrace_plugins::services::{
    KvStore, LogLevel, MemoryKv, MemoryLog, TraceProvider, TraceQuery,
};
use flowtrace_plugins::{
    testing, CallFailure, Evaluation, LoadOptions, Plugin, PreparedTrace, Runtime, Services,
};

/// Serves `traces.query` by remembering each query's `limit` (the guest's span count):
/// how many times the guest started on each trace.
#[derive(Default)]
struct Starts(Mutex<Vec<u32>>);

impl Starts {
    /// Starts by span count.
    fn by_spans(&self) -> BTreeMap<u32, usize> {
        let mut out = BTreeMap::new();
        for n in self.0.lock().unwrap().iter() {
            *out.entry(*n).or_insert(0) += 1;
        }
        out
    }
}

impl TraceProvider for Starts {
    fn get(&self, _id: &str) -> Option<PreparedTrace> {
        None
    }

    fn query(&self, query: &TraceQuery) -> Vec<String> {
        self.0.lock().unwrap().push(query.limit);
        Vec::new()
    }
}

struct Counter {
    plugin: Plugin,
    kv: Arc<MemoryKv>,
    log: Arc<MemoryLog>,
    starts: Arc<Starts>,
}

impl Counter {
    fn new(timeout: Duration, network: bool) -> Self {
        Self::with_kv(timeout, network, MemoryKv::default())
    }

    fn with_kv(timeout: Duration, network: bool, kv: MemoryKv) -> Self {
        Self::build(&testing::guest_wat("counter"), timeout, network, kv)
    }

    fn build(wat: &str, timeout: Duration, network: bool, kv: MemoryKv) -> Self {
        let bytes = testing::componentize(wat, testing::COUNTER_WORLD).unwrap();
        let mut manifest = testing::manifest("counter", PluginKind::Evaluator);
        // Its traces share instances only because it says it is stateless.
        manifest.plugin.stateless = true;
        manifest.capabilities.storage = true;
        manifest.capabilities.traces = true;
        if network {
            manifest.capabilities.network = Some(vec![HostPattern {
                host: "example.com".into(),
                wildcard: false,
                port: None,
            }]);
        }
        manifest.limits = Limits {
            timeout: Some(timeout),
            ..Limits::default()
        };
        let (kv, log, starts) = (
            Arc::new(kv),
            Arc::new(MemoryLog::default()),
            Arc::new(Starts::default()),
        );
        let options = LoadOptions {
            services: Services {
                kv: kv.clone(),
                log: log.clone(),
                traces: Some(starts.clone()),
                ..Services::default()
            },
            ..LoadOptions::default()
        };
        let plugin = Runtime::new()
            .unwrap()
            .load(&bytes, &manifest, options)
            .unwrap();
        Counter {
            plugin,
            kv,
            log,
            starts,
        }
    }

    /// The counter in `kv`.
    fn calls(&self) -> Option<u8> {
        let value = self.kv.get(self.plugin.id(), "calls")?;
        Some(value[0])
    }

    /// How many times the guest logged `message`.
    fn logged(&self, message: &str) -> usize {
        self.log
            .lines()
            .iter()
            .filter(|(level, m)| *level == LogLevel::Warn && m == message)
            .count()
    }
}

/// One trace per span count.
pub(crate) fn traces(spans: &[usize]) -> Vec<PreparedTrace> {
    spans
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let mut trace = testing::trace_with_spans(n);
            trace.id = format!("t-{i}");
            PreparedTrace::new(trace)
        })
        .collect()
}

fn metric(result: &EvalResult, name: &str) -> i64 {
    match result.metrics.iter().find(|m| m.name == name) {
        Some(m) => match m.value {
            MetricValue::Integer(i) => i,
            ref other => panic!("`{name}` is {other:?}"),
        },
        None => panic!("no `{name}` in {result:?}"),
    }
}

/// `calls` of each evaluation, `None` for an error.
fn counts(evaluations: &[Evaluation]) -> Vec<Option<i64>> {
    evaluations
        .iter()
        .map(|e| e.result.as_ref().ok().map(|r| metric(r, "calls")))
        .collect()
}

#[test]
fn a_trap_in_a_batch_leaves_every_other_trace_evaluated_once() {
    let counter = Counter::new(Duration::from_secs(5), false);
    // 20 traces (a batch call of 16, then 4); trace 5 writes its count, then traps.
    let spans: Vec<usize> = (0..20).map(|i| if i == 5 { 3 } else { 10 + i }).collect();
    let out = counter.plugin.evaluate_each(&traces(&spans));
    assert_eq!(out.len(), 20);
    match &out[5].result {
        Err(e) => assert!(matches!(e.reason, CallFailure::Trap { .. }), "{e:?}"),
        Ok(r) => panic!("trace 5 passed: {r:?}"),
    }
    // Each trace sees the writes of the traces before it, once: as if each were evaluated
    // alone, in order (trace 5's write before its trap included, as a single call keeps it).
    let expected: Vec<Option<i64>> = (0..20).map(|i| (i != 5).then_some(i)).collect();
    assert_eq!(counts(&out), expected);
    assert_eq!(counter.calls(), Some(20));
    assert_eq!(counter.logged("trapping"), 1, "{:?}", counter.log.lines());
    // Batch calls stayed in use: the traces before 5 again in one, 6..=15 in a new one.
    for (i, e) in out.iter().enumerate().filter(|(i, _)| *i != 5) {
        assert_eq!(
            metric(e.result.as_ref().unwrap(), "batched"),
            1,
            "trace {i}"
        );
    }
    // The contract returns a batch's results only at its end, so the guest started again
    // on the five traces before the trap (reads only: their effects were held back) and on
    // trace 5 alone; every other trace once.
    let starts = counter.starts.by_spans();
    for (i, &n) in spans.iter().enumerate() {
        let expected = if i <= 5 { 2 } else { 1 };
        assert_eq!(starts[&(n as u32)], expected, "trace {i} ({n} spans)");
    }
}

#[test]
fn a_looping_trace_costs_one_deadline_and_is_not_started_again() {
    let limit = Duration::from_millis(300);
    let counter = Counter::new(limit, false);
    // Trace 5 writes its count, logs `looping` and loops.
    let spans: Vec<usize> = (0..16).map(|i| if i == 5 { 1 } else { 10 + i }).collect();
    let started = Instant::now();
    let out = counter.plugin.evaluate_each(&traces(&spans));
    let elapsed = started.elapsed();
    match &out[5].result {
        Err(e) => assert!(
            matches!(e.reason, CallFailure::Timeout { limit: l } if l == limit),
            "{e:?}"
        ),
        Ok(r) => panic!("trace 5 passed: {r:?}"),
    }
    // Started once: the batch call's deadline was its own, and it was not run again.
    let starts = counter.starts.by_spans();
    assert_eq!(starts[&1], 1, "{starts:?}");
    assert_eq!(counter.logged("looping"), 1, "{:?}", counter.log.lines());
    // What it did before the deadline stays, as a single call's would.
    let expected: Vec<Option<i64>> = (0..16).map(|i| (i != 5).then_some(i)).collect();
    assert_eq!(counts(&out), expected);
    assert_eq!(counter.calls(), Some(16));
    // Its time is its deadline; the times add up to the whole.
    assert!(out[5].exec_time >= limit, "{:?}", out[5].exec_time);
    let total: Duration = out.iter().map(|e| e.exec_time).sum();
    assert!(total <= elapsed, "{total:?} > {elapsed:?}");
    // Only catches a hang (one deadline is the cost; 2.4 was before).
    assert!(elapsed < limit * 10, "took {elapsed:?}");
}

#[test]
fn slow_traces_each_get_a_whole_deadline_in_a_batch_call() {
    // 16 traces of 50 ms each under a 300 ms deadline: 800 ms for the batch call, far past
    // one deadline, yet no trace is near its own.
    let limit = Duration::from_millis(300);
    let counter = Counter::new(limit, false);
    let spans: Vec<usize> = (0..16).map(|i| 100 + i).collect();
    let started = Instant::now();
    let out = counter.plugin.evaluate_each(&traces(&spans));
    let elapsed = started.elapsed();
    for (i, e) in out.iter().enumerate() {
        let r = e
            .result
            .as_ref()
            .unwrap_or_else(|e| panic!("trace {i}: {e}"));
        assert_eq!(metric(r, "batched"), 1, "trace {i}");
        assert_eq!(metric(r, "calls"), i as i64);
        assert!(
            e.exec_time >= Duration::from_millis(50),
            "{:?}",
            e.exec_time
        );
    }
    // One batch call, each trace started once.
    assert!(counter.starts.by_spans().values().all(|&n| n == 1));
    let total: Duration = out.iter().map(|e| e.exec_time).sum();
    assert!(total <= elapsed, "{total:?} > {elapsed:?}");
}

#[test]
fn a_failed_batch_call_commits_no_writes_and_a_successful_one_commits_all() {
    let counter = Counter::new(Duration::from_secs(5), false);
    let err = counter
        .plugin
        .evaluate_batch(&traces(&[10, 11, 3]))
        .unwrap_err();
    assert!(matches!(err.reason, CallFailure::Trap { .. }), "{err:?}");
    assert_eq!(
        counter.calls(),
        None,
        "the failed call's writes were dropped"
    );
    // Its log line was passed on all the same (a caller that does not retry needs it).
    assert_eq!(counter.logged("trapping"), 1);
    let results = counter.plugin.evaluate_batch(&traces(&[10, 11])).unwrap();
    let counts: Vec<i64> = results
        .iter()
        .map(|r| metric(r.as_ref().unwrap(), "calls"))
        .collect();
    assert_eq!(counts, [0, 1], "the guest reads its own held-back writes");
    assert_eq!(counter.calls(), Some(2));
}

#[test]
fn a_plugin_granted_network_gets_one_trace_per_call() {
    // A request sent cannot be taken back, so no call of such a plugin is ever made again.
    let counter = Counter::new(Duration::from_secs(5), true);
    let out = counter.plugin.evaluate_each(&traces(&[10, 11, 12]));
    for e in &out {
        assert_eq!(metric(e.result.as_ref().unwrap(), "batched"), 0);
    }
    assert_eq!(counts(&out), [Some(0), Some(1), Some(2)]);
}

#[test]
fn writes_the_store_refuses_at_commit_are_refused_to_each_trace_alone() {
    // A quota of 5 bytes: `calls` plus its one-byte value does not fit. The batch call's
    // staged writes are refused at commit, so its traces are evaluated one per call, where
    // the guest sees `set` fail (and traps on it).
    let counter = Counter::with_kv(Duration::from_secs(5), false, MemoryKv::new(5));
    let out = counter.plugin.evaluate_each(&traces(&[10, 11, 12]));
    for e in &out {
        match &e.result {
            Err(e) => assert!(matches!(e.reason, CallFailure::Trap { .. }), "{e:?}"),
            Ok(r) => panic!("passed although its write was refused: {r:?}"),
        }
    }
    assert_eq!(counter.calls(), None);
    // Each was started twice: in the batch call, then alone.
    assert!(counter.starts.by_spans().values().all(|&n| n == 2));
}

/// What the `counter` guest's `evaluate-batch` does first in
/// `a_looping_trace_costs_at_most_two_deadlines_whatever_the_guests_order`: read every trace's span count, then, if one has 1 span, report a start on it (a query
/// with limit 1) and loop, without reading another handle: the host charges the time to the
/// last trace read, not to the looping one.
const READ_AHEAD: &str = r#"
    (block $read
      (loop $ahead
        (br_if $read (i32.ge_u (local.get $j) (local.get $len)))
        (if (i32.eq
              (call $span_count (i32.load (i32.add (local.get $ptr) (i32.mul (local.get $j) (i32.const 4)))))
              (i32.const 1))
          (then (local.set $loops (i32.const 1))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $ahead)))
    (if (local.get $loops)
      (then
        (call $query (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i64.const 0)
                     (i32.const 0) (i64.const 0) (i32.const 1) (i32.const 4224))
        (loop $spin (br $spin))))
"#;

#[test]
fn a_looping_trace_costs_at_most_two_deadlines_whatever_the_guests_order() {
    // The guest reads every handle, then loops on trace 5's account while the host counts
    // the time to trace 15 (the last read). Before, each way back ran the traces before the
    // one blamed in a new batch call, which looped again, blamed the trace before, and so
    // on: trace 5 looped 11 times, 11 deadlines.
    let limit = Duration::from_millis(200);
    let wat = testing::guest_wat("counter").replace(";; @READ-AHEAD@", READ_AHEAD);
    let counter = Counter::build(&wat, limit, false, MemoryKv::default());
    let spans: Vec<usize> = (0..16).map(|i| if i == 5 { 1 } else { 10 + i }).collect();
    let out = counter.plugin.evaluate_each(&traces(&spans));
    match &out[5].result {
        Err(e) => assert!(matches!(e.reason, CallFailure::Timeout { .. }), "{e:?}"),
        Ok(r) => panic!("trace 5 passed: {r:?}"),
    }
    // Trace 15, blamed by the host, was not the looping one: run alone, it passes.
    for (i, e) in out.iter().enumerate().filter(|(i, _)| *i != 5) {
        assert!(e.result.is_ok(), "trace {i}: {:?}", e.result);
    }
    // The looping trace started twice: in the batch call, and alone.
    assert_eq!(
        counter.starts.by_spans()[&1],
        2,
        "{:?}",
        counter.starts.by_spans()
    );
    // Every other trace's effects happened once, in order.
    let expected: Vec<Option<i64>> = (0..16).map(|i| (i != 5).then_some(i)).collect();
    assert_eq!(counts(&out), expected);
}

/// What `evaluate_each` gives 20 traces with the `instance-count` guest: the number of
/// traces each trace's instance had evaluated (the guest scores 1 / that number).
fn instance_counts(stateless: bool) -> Vec<u32> {
    let mut manifest = testing::manifest("instance-count", PluginKind::Evaluator);
    manifest.plugin.stateless = stateless;
    let plugin = Runtime::new()
        .unwrap()
        .load(
            &testing::evaluator(&testing::guest_wat("instance-count")),
            &manifest,
            LoadOptions::default(),
        )
        .unwrap();
    plugin
        .evaluate_each(&traces(&[1; 20]))
        .into_iter()
        .map(|e| (1.0 / e.result.expect("evaluated").score).round() as u32)
        .collect()
}

#[test]
fn no_trace_sees_state_another_trace_left() {
    // Isolation is the semantics: each trace in a fresh instance, so a count kept in a
    // global is 1 on every trace.
    assert_eq!(instance_counts(false), vec![1; 20]);
}

#[test]
fn a_stateless_plugin_has_its_traces_share_instances_per_batch_call() {
    // Its author said it keeps nothing between traces: 16 traces per instance (one
    // `evaluate-batch` call), then the last 4 in another.
    let expected: Vec<u32> = (1..=16).chain(1..=4).collect();
    assert_eq!(instance_counts(true), expected);
}
