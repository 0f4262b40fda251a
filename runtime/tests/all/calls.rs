//! How a call runs: deadlines on the wall clock with every CPU busy, async calls that yield to
//! their executor, blocking calls that spawn no thread, cancellation, and per-call limits. The
//! assertions are on outcomes and counts, never on how long something took.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::Duration;

use flowtrace_plugins::manifest::{Limits, PluginKind};
use flowtrace_plugins::services::{LogLevel, MemoryLog, TraceProvider, TraceQuery};
use flowtrace_plugins::{
    testing, CallFailure, CallOptions, CancelHandle, LoadOptions, Plugin, PreparedTrace, Runtime,
    Services,
};

/// Serves `traces.query` (which the `counter` guest calls when it starts on a trace, with
/// `limit` = the trace's span count), remembering each start and the thread it ran on.
#[derive(Default)]
struct Probe(Mutex<Vec<(u32, ThreadId)>>);

impl Probe {
    /// How many times the guest started on a trace of `spans` spans.
    fn starts(&self, spans: u32) -> usize {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.0 == spans)
            .count()
    }

    fn threads(&self) -> Vec<ThreadId> {
        self.0.lock().unwrap().iter().map(|s| s.1).collect()
    }

    /// Wait (without a bound on time: the test harness has one) until the guest started on
    /// a trace of `spans` spans.
    fn wait_for_start(&self, spans: u32) {
        while self.starts(spans) == 0 {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

impl TraceProvider for Probe {
    fn get(&self, _id: &str) -> Option<PreparedTrace> {
        None
    }

    fn query(&self, query: &TraceQuery) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .push((query.limit, std::thread::current().id()));
        Vec::new()
    }
}

/// The `counter` guest of `tests/guests/` (see there: 1 span loops, 3 traps, 100-199 spin
/// 50 ms by the clock, others pass), with its probe and log.
fn counter(timeout: Duration) -> (Plugin, Arc<Probe>, Arc<MemoryLog>) {
    counter_from(&testing::guest_wat("counter"), timeout)
}

fn counter_from(wat: &str, timeout: Duration) -> (Plugin, Arc<Probe>, Arc<MemoryLog>) {
    let bytes = testing::componentize(wat, testing::COUNTER_WORLD).unwrap();
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&bytes)
        .unwrap();
    let mut manifest = testing::manifest("counter", PluginKind::Evaluator);
    // Stateless by its manifest: `evaluate_each` gives it batch calls.
    manifest.plugin.stateless = true;
    manifest.capabilities.storage = true;
    manifest.capabilities.traces = true;
    manifest.limits = Limits {
        timeout: Some(timeout),
        ..Limits::default()
    };
    let probe = Arc::new(Probe::default());
    let log = Arc::new(MemoryLog::default());
    let options = LoadOptions {
        services: Services {
            traces: Some(probe.clone()),
            log: log.clone(),
            ..Services::default()
        },
        ..LoadOptions::default()
    };
    let plugin = Runtime::new()
        .unwrap()
        .load(&bytes, &manifest, options)
        .unwrap();
    (plugin, probe, log)
}

use crate::batch::traces;
use crate::runtime::{behaviors, spans};

fn is_timeout(result: &Result<impl std::fmt::Debug, flowtrace_plugins::CallError>) -> bool {
    matches!(result, Err(e) if matches!(e.reason, CallFailure::Timeout { .. }))
}

fn is_cancelled(result: &Result<impl std::fmt::Debug, flowtrace_plugins::CallError>) -> bool {
    matches!(result, Err(e) if matches!(e.reason, CallFailure::Cancelled))
}

/// Spinning threads, one more than there are CPUs, until dropped.
struct BusyCpus {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl BusyCpus {
    fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        let threads = (0..cpus + 1)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut x = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        x = std::hint::black_box(
                            x.wrapping_mul(6364136223846793005).wrapping_add(1),
                        );
                    }
                })
            })
            .collect();
        Self { stop, threads }
    }
}

impl Drop for BusyCpus {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

#[test]
fn a_call_still_running_past_its_deadline_times_out_with_every_cpu_busy() {
    // Traces of 100-199 spans spin 50 ms by the guest's own clock; the deadline is 45 ms.
    // Counted in epoch ticks (the old way: 45 ms is 5 ticks, plus one), the deadline came
    // at the 6th tick, 60 ms or later: every one of these calls passed.
    let (plugin, probe, _) = counter(Duration::from_secs(5));
    let tight = plugin.with_options(CallOptions {
        timeout: Some(Duration::from_millis(45)),
        ..CallOptions::default()
    });
    let _busy = BusyCpus::start();
    for i in 0..12 {
        let result = tight.evaluate(&spans(150));
        assert!(is_timeout(&result), "call {i}: {result:?}");
    }
    // The same, one batch call over 6 slow traces: each trace has the deadline.
    let slow = traces(&[100, 101, 102, 103, 104, 105]);
    for (i, e) in tight.evaluate_each(&slow).iter().enumerate() {
        assert!(is_timeout(&e.result), "trace {i}: {:?}", e.result);
    }
    // No call is stopped early: quick calls under a deadline far from them pass, on the
    // same busy machine.
    let roomy = plugin.with_options(CallOptions {
        timeout: Some(Duration::from_secs(2)),
        ..CallOptions::default()
    });
    for i in 0..12 {
        let result = roomy.evaluate(&spans(10));
        assert!(result.is_ok(), "call {i}: {result:?}");
    }
    // Each slow call started once: nothing was run again.
    assert_eq!(probe.starts(150), 12);
}

#[test]
fn an_async_call_yields_to_its_executor_while_the_guest_runs() {
    // A looping guest under a 400 ms deadline, on a current-thread runtime with a 1 ms
    // ticker task beside it: the ticker can only tick when the call yields. Before, the
    // call never yielded and the ticker ticked once, after it.
    let plugin = behaviors(Limits {
        timeout: Some(Duration::from_millis(400)),
        ..Limits::default()
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ticks = Arc::new(AtomicUsize::new(0));
    let during = runtime.block_on(async {
        let stop = Arc::new(AtomicBool::new(false));
        let ticker = tokio::spawn({
            let (ticks, stop) = (ticks.clone(), stop.clone());
            async move {
                let mut interval = tokio::time::interval(Duration::from_millis(1));
                interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                while !stop.load(Ordering::Relaxed) {
                    interval.tick().await;
                    ticks.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        // Let the ticker start.
        tokio::task::yield_now().await;
        let before = ticks.load(Ordering::Relaxed);
        let result = plugin.evaluate_async(&spans(1)).await;
        let during = ticks.load(Ordering::Relaxed) - before;
        assert!(is_timeout(&result), "{result:?}");
        stop.store(true, Ordering::Relaxed);
        ticker.await.unwrap();
        during
    });
    // The call yields at each epoch tick (10 ms): about 40 times in 400 ms on a quiet
    // machine, and the ticker ticks at each. Before, it could not tick at all during the
    // call; the floor is low because other tests of this binary may keep every CPU busy
    // meanwhile, and the epoch ticker thread with them.
    assert!(
        during >= 2,
        "the ticker ticked {during} times during the call"
    );
}

/// A blocking call of `plugin` (the `counter` guest) from the current thread; the guest ran
/// on this thread.
fn assert_runs_here(plugin: &Plugin, probe: &Probe, context: &str) {
    let before = probe.threads().len();
    let result = plugin.evaluate(&spans(10));
    assert!(result.is_ok(), "{context}: {result:?}");
    let threads = probe.threads();
    assert_eq!(threads.len(), before + 1, "{context}");
    assert_eq!(
        threads[before],
        std::thread::current().id(),
        "{context}: the guest ran on another thread"
    );
}

#[test]
fn blocking_calls_run_on_the_calling_thread_wherever_it_is() {
    let (plugin, probe, _) = counter(Duration::from_secs(5));
    assert_runs_here(&plugin, &probe, "a plain thread");
    // Before, each of these spawned a thread for the call.
    let current = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    current.block_on(async { assert_runs_here(&plugin, &probe, "a current-thread runtime") });
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    multi.block_on(async {
        let (p, pr) = (plugin.clone(), probe.clone());
        tokio::spawn(async move { assert_runs_here(&p, &pr, "a multi-thread runtime's worker") })
            .await
            .unwrap();
        let (p, pr) = (plugin.clone(), probe.clone());
        tokio::task::spawn_blocking(move || assert_runs_here(&p, &pr, "a spawn_blocking thread"))
            .await
            .unwrap();
    });
    // An async caller's call runs on the thread polling it too.
    current.block_on(async {
        let before = probe.threads().len();
        plugin.evaluate_async(&spans(10)).await.unwrap();
        assert_eq!(probe.threads()[before], std::thread::current().id());
    });
}

#[test]
fn cancelling_interrupts_a_running_call_and_every_call_after() {
    let (plugin, probe, log) = counter(Duration::from_secs(5));
    let cancel = CancelHandle::new();
    let cancellable = plugin.with_options(CallOptions {
        cancel: Some(cancel.clone()),
        ..CallOptions::default()
    });
    let result = std::thread::scope(|s| {
        let call = s.spawn(|| cancellable.evaluate(&spans(1)));
        // The guest is in its endless loop (it started on the trace, and logged it).
        probe.wait_for_start(1);
        cancel.cancel();
        call.join().unwrap()
    });
    assert!(is_cancelled(&result), "{result:?}");
    assert_eq!(
        result.unwrap_err().to_string(),
        "plugin `counter` failed: cancelled by the host"
    );
    assert!(log
        .lines()
        .contains(&(LogLevel::Warn, "looping".to_string())));
    // A call with the cancelled handle does not run.
    assert!(is_cancelled(&cancellable.evaluate(&spans(10))));
    assert_eq!(probe.starts(10), 0);
    // The plugin itself, and its other handles, are unaffected.
    assert!(plugin.evaluate(&spans(10)).is_ok());
    assert_eq!(probe.starts(10), 1);
}

#[test]
fn cancelling_evaluate_each_stops_the_batch_call_and_runs_nothing_after() {
    // 20 traces: trace 2 loops in the first batch call (of 16), under a 5 s deadline.
    let (plugin, probe, _) = counter(Duration::from_secs(5));
    let cancel = CancelHandle::new();
    let cancellable = plugin.with_options(CallOptions {
        cancel: Some(cancel.clone()),
        ..CallOptions::default()
    });
    let spans: Vec<usize> = (0..20).map(|i| if i == 2 { 1 } else { 10 + i }).collect();
    let all = traces(&spans);
    let out = std::thread::scope(|s| {
        let call = s.spawn(|| cancellable.evaluate_each(&all));
        probe.wait_for_start(1);
        cancel.cancel();
        call.join().unwrap()
    });
    assert_eq!(out.len(), 20);
    for (i, e) in out.iter().enumerate() {
        assert!(is_cancelled(&e.result), "trace {i}: {:?}", e.result);
    }
    // Traces 0 and 1 ran in the cancelled batch call (their results went with it), the
    // looping trace once, and nothing was started after the cancellation.
    assert_eq!(probe.starts(1), 1);
    for (i, &n) in spans.iter().enumerate().filter(|(i, _)| *i != 2) {
        let expected = usize::from(i < 2);
        assert_eq!(probe.starts(n as u32), expected, "trace {i}");
    }
}

#[test]
fn call_options_tighten_the_deadline_and_memory_and_never_loosen_them() {
    let plugin = behaviors(Limits {
        timeout: Some(Duration::from_secs(5)),
        memory: Some(64 << 20),
        ..Limits::default()
    });
    // Tighter: in force.
    let tight = plugin.with_options(CallOptions {
        timeout: Some(Duration::from_millis(150)),
        memory: Some(4 << 20),
        cancel: None,
    });
    assert_eq!(tight.limits().timeout, Duration::from_millis(150));
    assert_eq!(tight.limits().memory, 4 << 20);
    match tight.evaluate(&spans(1)).unwrap_err().reason {
        CallFailure::Timeout { limit } => assert_eq!(limit, Duration::from_millis(150)),
        other => panic!("{other:?}"),
    }
    match tight.evaluate(&spans(2)).unwrap_err().reason {
        CallFailure::MemoryLimit { limit, desired } => {
            assert_eq!(limit, 4 << 20);
            assert!(desired > 4 << 20);
        }
        other => panic!("{other:?}"),
    }
    // Looser than the plugin's limits: no effect (the plugin's limits are within the
    // host's caps, so nothing a call asks for can pass them).
    let loose = plugin.with_options(CallOptions {
        timeout: Some(Duration::from_secs(3600)),
        memory: Some(u64::MAX),
        cancel: None,
    });
    assert_eq!(loose.limits(), plugin.limits());
    match loose.evaluate(&spans(2)).unwrap_err().reason {
        CallFailure::MemoryLimit { limit, .. } => assert_eq!(limit, 64 << 20),
        other => panic!("{other:?}"),
    }
    // The plugin's own handle keeps its limits.
    assert_eq!(plugin.limits().timeout, Duration::from_secs(5));
    assert_eq!(plugin.evaluate(&spans(0)).unwrap().score, 1.0);
}

#[test]
fn check_batch_order_finds_a_plugin_that_swaps_its_batch_results() {
    let load = |reverse: &str| {
        let wat = testing::guest_wat("order").replace("@REVERSE@", reverse);
        Runtime::new()
            .unwrap()
            .load(
                &testing::evaluator(&wat),
                &testing::manifest("order", PluginKind::Evaluator),
                LoadOptions::default(),
            )
            .unwrap()
    };
    let three = traces(&[1, 2, 3]);
    let honest = load("0");
    assert_eq!(honest.check_batch_order(&three).unwrap(), []);
    let hostile = load("1");
    // The batch call itself cannot tell: trace 0 gets trace 2's score.
    let batch = hostile.evaluate_batch(&three).unwrap();
    assert_eq!(batch[0].as_ref().unwrap().score, 0.25);
    let misplaced = hostile.check_batch_order(&three).unwrap();
    let found: Vec<(usize, &str, usize)> = misplaced
        .iter()
        .map(|m| (m.index, m.trace.as_str(), m.like))
        .collect();
    // The middle trace keeps its own result when reversed.
    assert_eq!(found, [(0, "t-0", 2), (2, "t-2", 0)]);
}

/// Serves `traces.query` by evaluating a trace with another plugin through the blocking API,
/// from inside the outer call's poll.
struct Nested {
    inner: Plugin,
    results: Mutex<Vec<Result<f64, String>>>,
}

impl TraceProvider for Nested {
    fn get(&self, _id: &str) -> Option<PreparedTrace> {
        None
    }

    fn query(&self, _query: &TraceQuery) -> Vec<String> {
        let result = self
            .inner
            .evaluate(&spans(0))
            .map(|r| r.score)
            .map_err(|e| e.to_string());
        self.results.lock().unwrap().push(result);
        Vec::new()
    }
}

#[test]
fn a_blocking_call_made_inside_another_call_still_runs() {
    let nested = Arc::new(Nested {
        inner: behaviors(Limits::default()),
        results: Mutex::new(Vec::new()),
    });
    let bytes =
        testing::componentize(&testing::guest_wat("counter"), testing::COUNTER_WORLD).unwrap();
    let mut manifest = testing::manifest("counter", PluginKind::Evaluator);
    manifest.capabilities.storage = true;
    manifest.capabilities.traces = true;
    let options = LoadOptions {
        services: Services {
            traces: Some(nested.clone()),
            ..Services::default()
        },
        ..LoadOptions::default()
    };
    let outer = Runtime::new()
        .unwrap()
        .load(&bytes, &manifest, options)
        .unwrap();
    outer.evaluate(&spans(10)).unwrap();
    assert_eq!(*nested.results.lock().unwrap(), [Ok(1.0)]);
}

/// An embeddings provider that never answers (a stalled service), counting the requests.
#[derive(Default)]
struct Stalled(AtomicUsize);

impl flowtrace_plugins::services::EmbeddingProvider for Stalled {
    fn dimension(
        &self,
    ) -> flowtrace_plugins::services::BoxFuture<
        '_,
        Result<u32, flowtrace_plugins::results::PluginError>,
    > {
        Box::pin(std::future::pending())
    }

    fn embed(
        &self,
        _texts: Vec<String>,
    ) -> flowtrace_plugins::services::BoxFuture<
        '_,
        Result<Vec<Vec<f32>>, flowtrace_plugins::results::PluginError>,
    > {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(std::future::pending())
    }
}

#[test]
fn a_guest_waiting_on_the_host_is_stopped_by_its_deadline_or_a_cancellation() {
    // The `embeddings-user` guest asks the host for an embedding, which never comes: no
    // guest code runs for the epoch to stop.
    let stalled = Arc::new(Stalled::default());
    let bytes = testing::componentize(
        &testing::guest_wat("embeddings-user"),
        "package test:guest; world w { import flowtrace:plugin/embeddings@0.1.0; export flowtrace:plugin/evaluator@0.1.0; }",
    )
    .unwrap();
    let mut manifest = testing::manifest("embeddings-user", PluginKind::Evaluator);
    manifest.capabilities.embeddings = true;
    manifest.limits = Limits {
        timeout: Some(Duration::from_secs(5)),
        ..Limits::default()
    };
    let options = LoadOptions {
        services: Services {
            embeddings: Some(stalled.clone()),
            ..Services::default()
        },
        ..LoadOptions::default()
    };
    let plugin = Runtime::new()
        .unwrap()
        .load(&bytes, &manifest, options)
        .unwrap();
    let tight = plugin.with_options(CallOptions {
        timeout: Some(Duration::from_millis(100)),
        ..CallOptions::default()
    });
    let result = tight.evaluate(&spans(0));
    assert!(is_timeout(&result), "{result:?}");
    let cancel = CancelHandle::new();
    let cancellable = plugin.with_options(CallOptions {
        cancel: Some(cancel.clone()),
        ..CallOptions::default()
    });
    let result = std::thread::scope(|s| {
        let call = s.spawn(|| cancellable.evaluate(&spans(0)));
        while stalled.0.load(Ordering::SeqCst) < 2 {
            std::thread::sleep(Duration::from_millis(2));
        }
        cancel.cancel();
        call.join().unwrap()
    });
    assert!(is_cancelled(&result), "{result:?}");
}

#[test]
fn a_long_blocking_call_inside_a_tokio_task_runs_to_its_end() {
    // A guest that spins 50 ms by its clock passes the epoch tick several times, each a
    // point where an async call yields; a blocking call has nowhere to yield to and must not
    // wait on the task's scheduler, which it blocks. Before, it waited there until the
    // call's own guard timer woke it past the deadline: a timeout after 5 s. Run on another
    // thread, to catch a hang.
    let (plugin, _, _) = counter(Duration::from_secs(5));
    let (done, outcomes) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let current = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let p = plugin.clone();
        let on_current = current.block_on(async move {
            tokio::spawn(async move { p.evaluate(&spans(150)).map(|r| r.score) })
                .await
                .unwrap()
        });
        let multi = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let on_multi = multi.block_on(async move {
            tokio::spawn(async move { plugin.evaluate(&spans(150)).map(|r| r.score) })
                .await
                .unwrap()
        });
        done.send((on_current, on_multi)).unwrap();
    });
    // Only catches a hang: the two calls take 0.1 s.
    let (on_current, on_multi) = outcomes
        .recv_timeout(Duration::from_secs(60))
        .expect("a blocking call in a tokio task hung");
    assert_eq!(on_current.unwrap(), 1.0);
    assert_eq!(on_multi.unwrap(), 1.0);
}
