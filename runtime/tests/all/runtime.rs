//! The runtime contains misbehaving plugins: deadline, memory, traps, output size, and
//! concurrency, with the test guests of `tests/guests/`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use flowtrace_plugins::manifest::{Limits, PluginKind};
use flowtrace_plugins::testing;
use flowtrace_plugins::{
    CallFailure, GuestFailureKind, LoadOptions, Plugin, PreparedTrace, Runtime,
};

fn behaviors(limits: Limits) -> Plugin {
    let bytes = testing::evaluator(&testing::guest_wat("behaviors"));
    let mut manifest = testing::manifest("behaviors", PluginKind::Evaluator);
    manifest.limits = limits;
    Runtime::new()
        .unwrap()
        .load(&bytes, &manifest, LoadOptions::default())
        .unwrap()
}

fn spans(n: usize) -> PreparedTrace {
    PreparedTrace::new(testing::trace_with_spans(n))
}

fn assert_healthy(plugin: &Plugin) {
    let ok = plugin.evaluate(&spans(0)).expect("the next call succeeds");
    assert_eq!(ok.score, 1.0);
    assert!(ok.passed);
}

#[test]
fn evaluates_and_returns_the_guest_result() {
    let plugin = behaviors(Limits::default());
    assert_healthy(&plugin);
    let r = plugin.evaluate(&spans(7)).unwrap();
    assert_eq!((r.score, r.passed, r.label), (0.5, true, None));
}

#[test]
fn infinite_loop_stops_at_the_deadline_and_the_next_call_works() {
    let plugin = behaviors(Limits {
        timeout: Some(Duration::from_millis(200)),
        ..Limits::default()
    });
    let start = Instant::now();
    let err = plugin.evaluate(&spans(1)).unwrap_err();
    let elapsed = start.elapsed();
    assert!(
        matches!(err.reason, CallFailure::Timeout { limit } if limit == Duration::from_millis(200)),
        "{err:?}"
    );
    assert_eq!(err.plugin.as_str(), "behaviors");
    assert_eq!(
        err.to_string(),
        "plugin `behaviors` failed: timed out after 200ms"
    );
    // Stopped by the 200 ms deadline, not by the 5 s host cap (a loose bound: shared CI).
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    assert_healthy(&plugin);
}

#[test]
fn memory_bomb_stops_at_the_cap() {
    let plugin = behaviors(Limits {
        memory: Some(16 << 20),
        ..Limits::default()
    });
    let err = plugin.evaluate(&spans(2)).unwrap_err();
    match err.reason {
        CallFailure::MemoryLimit { limit, desired } => {
            assert_eq!(limit, 16 << 20);
            assert!(desired > limit);
        }
        other => panic!("expected a memory limit, got {other:?}"),
    }
    assert_healthy(&plugin);
}

#[test]
fn trap_is_reported_with_its_message_and_does_not_poison() {
    let plugin = behaviors(Limits::default());
    let err = plugin.evaluate(&spans(3)).unwrap_err();
    match &err.reason {
        CallFailure::Trap { message } => {
            assert!(message.contains("unreachable"), "{message}")
        }
        other => panic!("expected a trap, got {other:?}"),
    }
    assert_healthy(&plugin);
}

#[test]
fn a_stack_overflow_says_so_and_an_ordinary_fault_stays_a_trap() {
    let bytes = testing::evaluator(&testing::guest_wat("overflow"));
    let manifest = testing::manifest("overflow", PluginKind::Evaluator);
    let plugin = Runtime::new()
        .unwrap()
        .load(&bytes, &manifest, LoadOptions::default())
        .unwrap();
    // wasmtime's stack overflow, and a Rust-style stack pointer gone below address 0.
    for n in [0, 1] {
        let err = plugin.evaluate(&spans(n)).unwrap_err();
        let CallFailure::Guest(guest) = &err.reason else {
            panic!("{n}: expected a stack overflow, got {err:?}");
        };
        assert_eq!(guest.kind, GuestFailureKind::StackOverflow, "{n}");
        assert!(
            err.to_string()
                .starts_with("plugin `overflow` overflowed its stack"),
            "{n}: {err}"
        );
        assert!(!err.to_string().contains("wasm backtrace"), "{n}: {err}");
        assert!(!guest.backtrace.is_empty(), "{n}");
    }
    let err = plugin.evaluate(&spans(0)).unwrap_err();
    let CallFailure::Guest(guest) = &err.reason else {
        unreachable!()
    };
    // The recursion's thousands of frames are one line and a count.
    assert!(guest.backtrace.len() <= 65, "{:?}", guest.backtrace);
    assert!(
        guest
            .backtrace
            .iter()
            .any(|f| f.starts_with("... the frame above ")),
        "{:?}",
        guest.backtrace
    );
    // An access far past the end of memory is no stack overflow.
    let err = plugin.evaluate(&spans(2)).unwrap_err();
    assert!(matches!(err.reason, CallFailure::Trap { .. }), "{err:?}");
}

#[test]
fn output_over_the_cap_is_refused() {
    let plugin = behaviors(Limits::default());
    let err = plugin.evaluate(&spans(4)).unwrap_err();
    match err.reason {
        CallFailure::OutputTooLarge { size, limit } => {
            assert_eq!(limit, 1 << 20);
            assert!(size > 2 << 20, "{size}");
        }
        other => panic!("expected output too large, got {other:?}"),
    }
    // A plugin may ask for more than the default as long as the host cap allows it: here the
    // cap is the default, so 4 MiB is refused at load.
    let bytes = testing::evaluator(&testing::guest_wat("behaviors"));
    let mut manifest = testing::manifest("behaviors", PluginKind::Evaluator);
    manifest.limits.output = Some(4 << 20);
    let err = Runtime::new()
        .unwrap()
        .load(&bytes, &manifest, LoadOptions::default())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "plugin `behaviors` asks for output of 4194304 bytes but this host allows at most 1048576 bytes"
    );
}

#[test]
fn plugin_errors_and_invalid_scores_are_typed() {
    let plugin = behaviors(Limits::default());
    let err = plugin.evaluate(&spans(5)).unwrap_err();
    assert!(
        matches!(&err.reason, CallFailure::Plugin(flowtrace_plugins::results::PluginError::Failed(m)) if m == "boom"),
        "{err:?}"
    );
    let err = plugin.evaluate(&spans(6)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "plugin `behaviors` failed: returned an invalid result: score 2 is outside 0.0..=1.0"
    );
}

#[test]
fn thirty_two_concurrent_calls_with_two_hostile() {
    let plugin = behaviors(Limits {
        timeout: Some(Duration::from_millis(300)),
        memory: Some(32 << 20),
        ..Limits::default()
    });
    let plugin = Arc::new(plugin);
    let handles: Vec<_> = (0..32)
        .map(|i| {
            let plugin = plugin.clone();
            std::thread::spawn(move || {
                let n = match i {
                    5 => 1,  // infinite loop
                    17 => 2, // memory bomb
                    _ => 7,
                };
                (i, plugin.evaluate(&spans(n)))
            })
        })
        .collect();
    let mut ok = 0;
    for h in handles {
        let (i, result) = h.join().unwrap();
        match i {
            5 => assert!(matches!(
                result.unwrap_err().reason,
                CallFailure::Timeout { .. }
            )),
            17 => assert!(matches!(
                result.unwrap_err().reason,
                CallFailure::MemoryLimit { .. }
            )),
            _ => {
                assert_eq!(result.unwrap().score, 0.5);
                ok += 1;
            }
        }
    }
    assert_eq!(ok, 30);
}

#[test]
fn async_api_works_inside_a_tokio_runtime_and_sync_api_does_not_panic_there() {
    let plugin = behaviors(Limits::default());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let r = plugin.evaluate_async(&spans(7)).await.unwrap();
        assert_eq!(r.score, 0.5);
        // The blocking API called from async code runs on another thread instead of panicking.
        assert_eq!(plugin.evaluate(&spans(0)).unwrap().score, 1.0);
    });
}

#[test]
fn scan_guests_agree_with_the_native_logic() {
    let trace = PreparedTrace::new(testing::agent_trace());
    let expected = testing::scan_native(trace.trace());
    assert!(expected < 1.0, "the agent trace has flagged spans");
    let runtime = Runtime::new().unwrap();
    for variant in ["scan-accessors", "scan-infos", "scan-by-value"] {
        let bytes = testing::evaluator(&testing::guest_wat(variant));
        let plugin = runtime
            .load(
                &bytes,
                &testing::manifest(variant, PluginKind::Evaluator),
                LoadOptions::default(),
            )
            .unwrap();
        let r = plugin.evaluate(&trace).unwrap();
        assert_eq!(r.score, expected, "{variant}");
        assert!(!r.passed, "{variant}");
    }
}

#[test]
fn wrong_kind_call_is_an_error() {
    let plugin = behaviors(Limits::default());
    let err = plugin.embed(&["x".to_string()]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "plugin `behaviors` failed: is an `evaluator` plugin, not an embedder"
    );
}

/// What the host may add around a call on a loaded machine: after the deadline is checked,
/// the result is converted and the store dropped, and the thread can be descheduled for a
/// scheduler slice or two in between (with load averages of 7-11 here, passes came back
/// 14-36 ms after a deadline they had met). Before deadlines were wall-clock time, calls of
/// 125 and 139 ms came back passed under a 100 ms deadline on a quiet machine, and far later
/// on a loaded one: this still catches that.
const SLACK_MS: u64 = 40;

/// An evaluator that spins `span count x 100,000` iterations, then passes.
const SPIN: &str = r#"(module
  (import "flowtrace:plugin/types@0.1.0" "[method]trace.span-count" (func $span_count (param i32) (result i32)))
  (import "flowtrace:plugin/types@0.1.0" "[resource-drop]trace" (func $drop_trace (param i32)))
  @PRELUDE@
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate") (param $t i32) (result i32)
    (local $i i64) (local $n i64)
    (local.set $n (i64.mul (i64.extend_i32_u (call $span_count (local.get $t))) (i64.const 100000)))
    (call $drop_trace (local.get $t))
    (block $done
      (loop $spin
        (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $spin)))
    (call $ok (f64.const 1) (i32.const 1)))
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate-batch") (param i32 i32) (result i32)
    unreachable))"#;

fn spinner(timeout: Duration) -> Plugin {
    let bytes = testing::evaluator(&testing::expand(SPIN));
    let mut manifest = testing::manifest("spinner", PluginKind::Evaluator);
    manifest.limits = Limits {
        timeout: Some(timeout),
        ..Limits::default()
    };
    Runtime::new()
        .unwrap()
        .load(&bytes, &manifest, LoadOptions::default())
        .unwrap()
}

#[test]
fn deadlines_are_wall_clock_time_even_with_every_cpu_busy() {
    // Calibrate: how many spans (x 100,000 iterations) take the deadline, on a quiet run.
    let limit = Duration::from_millis(100);
    let calibration = spinner(Duration::from_secs(5));
    let started = Instant::now();
    calibration.evaluate(&spans(200)).unwrap();
    let per_span = started.elapsed() / 200;
    let at_limit = (limit.as_nanos() / per_span.as_nanos().max(1)) as usize;

    // Busy every CPU (and then some), as a shared CI machine is.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    let hogs: Vec<_> = (0..cpus + 1)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut x = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                }
            })
        })
        .collect();

    // Calls from half the deadline to twice it: whatever the machine makes of them, none
    // comes back passed after its deadline, and none is stopped before it.
    let plugin = spinner(limit);
    let mut late_passes = Vec::new();
    let mut early_timeouts = Vec::new();
    let mut timeouts = 0;
    for step in 0..30 {
        let n = (at_limit * (50 + step * 5) / 100).max(1);
        let started = Instant::now();
        let outcome = plugin.evaluate(&spans(n));
        let elapsed = started.elapsed();
        match outcome {
            Ok(result) => {
                assert!(result.passed);
                // The call itself was within the deadline; allow for the host's own work
                // around it on a loaded machine.
                if elapsed > limit + Duration::from_millis(SLACK_MS) {
                    late_passes.push((n, elapsed));
                }
            }
            Err(e) => {
                assert!(matches!(e.reason, CallFailure::Timeout { .. }), "{e:?}");
                timeouts += 1;
                if elapsed < limit {
                    early_timeouts.push((n, elapsed));
                }
            }
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for hog in hogs {
        hog.join().unwrap();
    }
    assert!(
        late_passes.is_empty(),
        "passed after the {limit:?} deadline: {late_passes:?}"
    );
    assert!(
        early_timeouts.is_empty(),
        "stopped before the deadline: {early_timeouts:?}"
    );
    assert!(timeouts > 0, "the longer calls time out");
}
