//! Preparing traces for plugins: linear whatever the parent links, and capped in spans.

use std::time::{Duration, Instant};

use flowtrace_plugins::trace::Trace;
use flowtrace_plugins::{testing, HostCaps, PrepareError, PreparedTrace, Runtime, RuntimeConfig};

/// A parent chain of `n` spans (span `i`'s parent is span `i - 1`), all starting at the same
/// time, listed deepest first: ordering them needs every depth.
fn chain(n: usize) -> Trace {
    let mut trace = testing::trace_with_spans(n);
    for (i, span) in trace.spans.iter_mut().enumerate() {
        span.parent_id = (i > 0).then(|| format!("{i:016x}"));
        span.start_time_ns = 1_700_000_000_000_000_000;
    }
    trace.spans.reverse();
    trace
}

#[test]
fn a_300_000_span_parent_chain_prepares_in_linear_time() {
    let n = 300_000;
    let trace = chain(n);
    let started = Instant::now();
    let prepared = PreparedTrace::new(trace);
    let took = started.elapsed();
    // Quadratic preparation took minutes here; linear takes well under a second in release.
    // The bound only catches a return of the quadratic walk on a slow, shared machine.
    assert!(took < Duration::from_secs(30), "took {took:?}");
    let spans = &prepared.trace().spans;
    assert_eq!(spans.len(), n);
    // Equal start times: parents first, by depth, so the chain comes out in order.
    for (i, span) in spans.iter().enumerate().step_by(997) {
        assert_eq!(span.id, format!("{:016x}", i + 1));
    }
    assert_eq!(prepared.parent(0), None);
    assert_eq!(prepared.parent(1), Some(0));
    assert_eq!(prepared.parent(n - 1), Some(n as u32 - 2));
}

#[test]
fn cycles_and_self_parents_prepare_and_keep_their_links() {
    // Span 1 is its own parent; spans 2 and 3 are each other's; span 4 hangs from 3.
    let mut trace = testing::trace_with_spans(5);
    let id = |i: usize| format!("{:016x}", i + 1);
    trace.spans[1].parent_id = Some(id(1));
    trace.spans[2].parent_id = Some(id(3));
    trace.spans[3].parent_id = Some(id(2));
    trace.spans[4].parent_id = Some(id(3));
    for span in &mut trace.spans {
        span.start_time_ns = 7;
    }
    trace.spans.reverse();
    let prepared = PreparedTrace::new(trace);
    let order: Vec<&str> = prepared
        .trace()
        .spans
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    // Depth 0 (the root, the self-parent, the cycle) by id, then span 4 at depth 1.
    assert_eq!(order, [id(0), id(1), id(2), id(3), id(4)]);
    assert_eq!(prepared.parent(1), Some(1));
    assert_eq!(prepared.parent(2), Some(3));
    assert_eq!(prepared.parent(3), Some(2));
    assert_eq!(prepared.parent(4), Some(3));
}

#[test]
fn the_runtime_refuses_a_trace_over_its_span_cap() {
    assert_eq!(HostCaps::default().spans, 100_000);
    let runtime = Runtime::with_config(RuntimeConfig {
        caps: HostCaps {
            spans: 10,
            ..HostCaps::default()
        },
        ..RuntimeConfig::default()
    })
    .unwrap();
    assert_eq!(runtime.prepare(chain(10)).unwrap().trace().spans.len(), 10);
    let err = runtime.prepare(chain(11)).unwrap_err();
    assert_eq!(
        err,
        PrepareError::TooManySpans {
            trace: "trace-11".into(),
            spans: 11,
            cap: 10,
        }
    );
    assert_eq!(
        err.to_string(),
        "trace `trace-11` has 11 spans, more than the cap of 10"
    );
}
