//! The runtime contains misbehaving plugins: deadline, memory, traps, output size, and
//! concurrency, with the test guests of `tests/guests/`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use flowtrace_plugins::manifest::{Limits, PluginKind};
use flowtrace_plugins::testing;
use flowtrace_plugins::{
    CallFailure, GuestFailureKind, LoadOptions, Plugin, PreparedTrace, Runtime,
};

/// The `behaviors` guest (0 spans: score 1; 1: loops; 2: memory bomb; 3: traps).
pub(crate) fn behaviors(limits: Limits) -> Plugin {
    let bytes = testing::evaluator(&testing::guest_wat("behaviors"));
    let mut manifest = testing::manifest("behaviors", PluginKind::Evaluator);
    manifest.limits = limits;
    Runtime::new()
        .unwrap()
        .load(&bytes, &manifest, LoadOptions::default())
        .unwrap()
}

pub(crate) fn spans(n: usize) -> PreparedTrace {
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
        // The blocking API called from async code blocks the worker instead of panicking.
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
