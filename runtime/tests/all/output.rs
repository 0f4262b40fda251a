//! The output limit is checked in guest memory, before the host copies anything: for every
//! call that returns variable-size data, a result over the limit is refused with the same
//! error, a length that claims more than guest memory holds is a clean error, and a result
//! that fits is copied before the guest's `post-return` may free it.
//!
//! The guests are written here, one per call: each returns a result whose one variable-size
//! part (a string, bytes or a vector) is `fill` bytes of `a` with the length field `len`,
//! which may claim more than memory holds.

use std::sync::Arc;

use flowtrace_plugins::manifest::PluginKind;
use flowtrace_plugins::results::PluginError;
use flowtrace_plugins::services::{LogLevel, MemoryLog};
use flowtrace_plugins::{
    testing, CallError, CallFailure, LoadOptions, Plugin, PreparedTrace, Runtime, Services,
};

const LIMIT: usize = 1 << 20;
/// Twice the default output limit.
const BIG: u32 = 2 << 20;
/// A length field claiming 4 GiB (minus 16 bytes) of a 1-page-aligned memory.
const CLAIMS_4_GIB: u32 = 0xFFFF_FFF0;

/// Which arm of the call's `result` carries the payload.
#[derive(Clone, Copy, PartialEq)]
enum Arm {
    Ok,
    /// `plugin-error.failed(payload)`.
    Err,
}

/// The core-module functions every guest here shares: `$payload` allocates `fill` bytes of
/// `a` and returns where; `$drop_all` drops a list of borrowed trace handles.
fn common(fill: u32) -> String {
    format!(
        r#"
  (import "flowtrace:plugin/types@0.1.0" "[resource-drop]trace" (func $drop_trace (param i32)))
  @PRELUDE@
  (func $payload (result i32)
    (local $p i32)
    (local.set $p (call $alloc (i32.const 4) (i32.const {fill})))
    (memory.fill (local.get $p) (i32.const 97) (i32.const {fill}))
    (local.get $p))
  (func $drop_all (param $handles i32) (param $n i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (call $drop_trace (i32.load (i32.add (local.get $handles) (i32.mul (local.get $i) (i32.const 4)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))
  ;; `result<X, plugin-error>` at 1024 with X a list (align 4): err(failed(payload)).
  (func $err4 (param $len i32) (result i32)
    (i32.store8 (i32.const 1024) (i32.const 1))
    (i32.store8 (i32.const 1028) (i32.const 3))
    (i32.store (i32.const 1032) (call $payload))
    (i32.store (i32.const 1036) (local.get $len))
    (i32.const 1024))
  ;; `ok(list)` at 1024 (align 4).
  (func $ok4 (param $ptr i32) (param $len i32) (result i32)
    (i32.store8 (i32.const 1024) (i32.const 0))
    (i32.store (i32.const 1028) (local.get $ptr))
    (i32.store (i32.const 1032) (local.get $len))
    (i32.const 1024))
"#
    )
}

fn load(kind: PluginKind, core: &str) -> Plugin {
    let export = match kind {
        PluginKind::Evaluator => "evaluator",
        PluginKind::Exporter => "exporter",
        PluginKind::Embedder => "embedder",
        PluginKind::Transformer => "transformer",
    };
    let world =
        format!("package test:guest; world w {{ export flowtrace:plugin/{export}@0.1.0; }}");
    let bytes = testing::componentize(&testing::expand(&format!("(module {core})")), &world)
        .unwrap_or_else(|e| panic!("building the {export} guest: {e}"));
    Runtime::new()
        .unwrap()
        .load(
            &bytes,
            &testing::manifest("outputs", kind),
            LoadOptions::default(),
        )
        .unwrap()
}

/// An evaluator whose `evaluate` returns the payload as its explanation (or its error), and
/// whose `evaluate-batch` returns `count` results, the first with the payload as its
/// explanation and the others with none. `post_return` is the body of its post-return
/// function for `evaluate`, if any.
fn evaluator(fill: u32, len: u32, arm: Arm, count: Option<u32>, post_return: &str) -> Plugin {
    let evaluate = match arm {
        Arm::Ok => format!(
            "(drop (call $ok (f64.const 1) (i32.const 1)))
             (i32.store8 (i32.const 1056) (i32.const 1))
             (i32.store (i32.const 1060) (call $payload))
             (i32.store (i32.const 1064) (i32.const {len}))
             (i32.const 1024)"
        ),
        Arm::Err => format!(
            "(memory.fill (i32.const 1024) (i32.const 0) (i32.const 64))
             (i32.store8 (i32.const 1024) (i32.const 1))
             (i32.store8 (i32.const 1032) (i32.const 3))
             (i32.store (i32.const 1036) (call $payload))
             (i32.store (i32.const 1040) (i32.const {len}))
             (i32.const 1024)"
        ),
    };
    let count = match count {
        Some(c) => format!("(i32.const {c})"),
        None => "(local.get $n)".into(),
    };
    let post = if post_return.is_empty() {
        String::new()
    } else {
        format!(
            r#"(func (export "cabi_post_flowtrace:plugin/evaluator@0.1.0#evaluate") (param $ret i32)
                 {post_return})"#
        )
    };
    load(
        PluginKind::Evaluator,
        &format!(
            r#"{common}
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate") (param $t i32) (result i32)
    (call $drop_trace (local.get $t))
    {evaluate})
  {post}
  ;; `list<result<eval-result, plugin-error>>`: 64 bytes an item, the eval-result at +8.
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate-batch") (param $ts i32) (param $n i32) (result i32)
    (local $items i32) (local $i i32) (local $e i32)
    (call $drop_all (local.get $ts) (local.get $n))
    (local.set $items (call $alloc (i32.const 8) (i32.mul (local.get $n) (i32.const 64))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $e (i32.add (local.get $items) (i32.mul (local.get $i) (i32.const 64))))
        (memory.fill (local.get $e) (i32.const 0) (i32.const 64))
        (f64.store offset=8 (local.get $e) (f64.const 1))
        (i32.store8 offset=16 (local.get $e) (i32.const 1))
        (if (i32.eqz (local.get $i))
          (then
            (i32.store8 offset=32 (local.get $e) (i32.const 1))
            (i32.store offset=36 (local.get $e) (call $payload))
            (i32.store offset=40 (local.get $e) (i32.const {len}))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.store (i32.const 1024) (local.get $items))
    (i32.store (i32.const 1028) {count})
    (i32.const 1024))"#,
            common = common(fill)
        ),
    )
}

/// An exporter whose one format's name is the payload, and whose export is the payload.
fn exporter(fill: u32, len: u32, arm: Arm) -> Plugin {
    let export = match arm {
        Arm::Ok => format!("(call $ok4 (call $payload) (i32.const {len}))"),
        Arm::Err => format!("(call $err4 (i32.const {len}))"),
    };
    load(
        PluginKind::Exporter,
        &format!(
            r#"{common}
  (func (export "flowtrace:plugin/exporter@0.1.0#formats") (result i32)
    ;; one export-format (name, media-type, file-extension: 24 bytes) at 3000
    (memory.fill (i32.const 3000) (i32.const 0) (i32.const 24))
    (i32.store (i32.const 3000) (call $payload))
    (i32.store (i32.const 3004) (i32.const {len}))
    (i32.store (i32.const 1024) (i32.const 3000))
    (i32.store (i32.const 1028) (i32.const 1))
    (i32.const 1024))
  (func (export "flowtrace:plugin/exporter@0.1.0#export-traces")
    (param i32 i32) (param $ts i32) (param $n i32) (result i32)
    (call $drop_all (local.get $ts) (local.get $n))
    {export})"#,
            common = common(fill)
        ),
    )
}

/// An embedder returning one vector: the payload as `len / 4` floats.
fn embedder(fill: u32, len: u32, arm: Arm) -> Plugin {
    let floats = len / 4;
    let embed = match arm {
        Arm::Ok => format!(
            "(i32.store (i32.const 3000) (call $payload))
             (i32.store (i32.const 3004) (i32.const {floats}))
             (call $ok4 (i32.const 3000) (i32.const 1))"
        ),
        Arm::Err => format!("(call $err4 (i32.const {len}))"),
    };
    load(
        PluginKind::Embedder,
        &format!(
            r#"{common}
  (func (export "flowtrace:plugin/embedder@0.1.0#dimension") (result i32) (i32.const 3))
  (func (export "flowtrace:plugin/embedder@0.1.0#embed") (param i32 i32) (result i32)
    {embed})"#,
            common = common(fill)
        ),
    )
}

/// A transformer returning one trace whose id is the payload.
fn transformer(fill: u32, len: u32, arm: Arm) -> Plugin {
    let transform = match arm {
        Arm::Ok => format!(
            ";; one trace-data (48 bytes) at 3000, every field empty but the id
             (memory.fill (i32.const 3000) (i32.const 0) (i32.const 48))
             (i32.store (i32.const 3000) (call $payload))
             (i32.store (i32.const 3004) (i32.const {len}))
             (call $ok4 (i32.const 3000) (i32.const 1))"
        ),
        Arm::Err => format!("(call $err4 (i32.const {len}))"),
    };
    load(
        PluginKind::Transformer,
        &format!(
            r#"{common}
  (func (export "flowtrace:plugin/transformer@0.1.0#transform") (param $ts i32) (param $n i32) (result i32)
    (call $drop_all (local.get $ts) (local.get $n))
    {transform})"#,
            common = common(fill)
        ),
    )
}

fn trace() -> PreparedTrace {
    PreparedTrace::new(testing::trace_with_spans(2))
}

fn texts() -> Vec<String> {
    vec!["hello".to_string()]
}

/// Every call that returns variable-size data, on guests built by `make(fill, len, arm)`.
fn each_call(fill: u32, len: u32, arm: Arm) -> Vec<(&'static str, Result<(), CallError>)> {
    let t = [trace()];
    let mut calls = vec![
        (
            "evaluate",
            evaluator(fill, len, arm, None, "")
                .evaluate(&t[0])
                .map(drop),
        ),
        (
            "export",
            exporter(fill, len, arm).export("any", &t).map(drop),
        ),
        ("embed", embedder(fill, len, arm).embed(&texts()).map(drop)),
        (
            "transform",
            transformer(fill, len, arm).transform(&t).map(drop),
        ),
    ];
    if arm == Arm::Ok {
        // `formats` and `evaluate-batch` return no `result`; the batch's first item is the
        // payload's, checked on its own.
        calls.push(("formats", exporter(fill, len, arm).formats().map(drop)));
        let batch = evaluator(fill, len, arm, None, "")
            .evaluate_batch(&[trace(), trace()])
            .and_then(|mut items| {
                assert!(items[1].is_ok(), "{:?}", items[1]);
                items.swap_remove(0).map(drop).map_err(|reason| CallError {
                    plugin: flowtrace_plugins::manifest::PluginId::parse("outputs").unwrap(),
                    reason,
                })
            });
        calls.push(("evaluate-batch", batch));
    }
    calls
}

#[test]
fn output_over_the_limit_is_refused_the_same_way_by_every_call() {
    // The fixed part the limit counts for each call's payload: a record around it.
    let fixed = |call: &str| match call {
        "evaluate" | "evaluate-batch" | "transform" => 32,
        "formats" => 16,
        _ => 0,
    };
    for (call, outcome) in each_call(BIG, BIG, Arm::Ok) {
        let err = outcome.expect_err(call);
        let size = BIG as usize + fixed(call);
        assert!(
            matches!(err.reason, CallFailure::OutputTooLarge { size: s, limit } if s == size && limit == LIMIT),
            "{call}: {err:?}"
        );
        assert_eq!(
            err.reason.to_string(),
            format!("output of {size} bytes is over the 1048576-byte limit"),
            "{call}"
        );
    }
    // Exactly at the limit is within it, and copied whole.
    let at = (LIMIT - 32) as u32;
    let result = evaluator(at, at, Arm::Ok, None, "")
        .evaluate(&trace())
        .unwrap();
    assert_eq!(result.explanation.map(|e| e.len()), Some(LIMIT - 32));
    let at = LIMIT as u32;
    let vectors = embedder(at, at, Arm::Ok).embed(&texts()).unwrap();
    assert_eq!(vectors[0].len(), LIMIT / 4);
    assert!(embedder(at + 4, at + 4, Arm::Ok).embed(&texts()).is_err());
}

#[test]
fn a_plugin_error_over_the_limit_is_refused_like_a_result() {
    for (call, outcome) in each_call(BIG, BIG, Arm::Err) {
        let err = outcome.expect_err(call);
        assert!(
            matches!(err.reason, CallFailure::OutputTooLarge { size, limit } if size == BIG as usize && limit == LIMIT),
            "{call}: {err:?}"
        );
    }
    // One within the limit is the plugin's error, copied whole.
    let err = evaluator(10, 10, Arm::Err, None, "")
        .evaluate(&trace())
        .unwrap_err();
    assert!(
        matches!(&err.reason, CallFailure::Plugin(PluginError::Failed(m)) if m == "aaaaaaaaaa"),
        "{err:?}"
    );
}

#[test]
fn a_length_past_the_end_of_guest_memory_is_a_clean_error() {
    for arm in [Arm::Ok, Arm::Err] {
        for (call, outcome) in each_call(16, CLAIMS_4_GIB, arm) {
            let err = outcome.expect_err(call);
            match &err.reason {
                CallFailure::Trap { message } => {
                    assert!(
                        message.contains("out of bounds of memory"),
                        "{call}: {message}"
                    )
                }
                other => panic!("{call}: expected a trap, got {other:?}"),
            }
        }
    }
    // A batch claiming 2^28 results (16 GiB of them) is refused before any is read.
    let err = evaluator(16, 16, Arm::Ok, Some(1 << 28), "")
        .evaluate_batch(&[trace(), trace()])
        .unwrap_err();
    assert!(
        matches!(&err.reason, CallFailure::Trap { message } if message.contains("out of bounds")),
        "{err:?}"
    );
    // One that fits in memory but is not one per trace: counted, none read.
    let err = evaluator(16, 16, Arm::Ok, Some(3), "")
        .evaluate_batch(&[trace(), trace()])
        .unwrap_err();
    assert_eq!(
        err.reason.to_string(),
        "returned an invalid result: 3 results for 2 traces"
    );
}

#[test]
fn a_result_is_copied_before_post_return_frees_it() {
    // The guest's post-return overwrites the explanation it returned, as an allocator
    // reusing freed memory may: the host has its copy by then.
    let scribble =
        "(memory.fill (i32.load offset=36 (local.get $ret)) (i32.const 88) (i32.const 100))";
    let plugin = evaluator(100, 100, Arm::Ok, None, scribble);
    let result = plugin.evaluate(&trace()).unwrap();
    assert_eq!(result.explanation.as_deref(), Some(&*"a".repeat(100)));
}

#[test]
fn a_result_repeating_its_own_memory_is_measured_no_further_than_memory() {
    // 60,000 findings whose messages are the same 1,000 bytes: 61 MB by the limit's count, in
    // about 1.3 MB of guest memory. Measuring stops once past both the limit and the memory
    // size, so the reported size is a lower bound, over the limit.
    let core = format!(
        r#"{common}
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate") (param $t i32) (result i32)
    (local $msg i32) (local $list i32) (local $i i32) (local $f i32)
    (call $drop_trace (local.get $t))
    (local.set $msg (call $payload))
    (local.set $list (call $alloc (i32.const 4) (i32.const 1200000)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.const 60000)))
        (local.set $f (i32.add (local.get $list) (i32.mul (local.get $i) (i32.const 20))))
        (i32.store8 (local.get $f) (i32.const 0))
        (i32.store offset=12 (local.get $f) (local.get $msg))
        (i32.store offset=16 (local.get $f) (i32.const 1000))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (drop (call $ok (f64.const 1) (i32.const 1)))
    (i32.store (i32.const 1076) (local.get $list))
    (i32.store (i32.const 1080) (i32.const 60000))
    (i32.const 1024))
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate-batch") (param i32 i32) (result i32)
    unreachable)"#,
        common = common(1000)
    );
    let err = load(PluginKind::Evaluator, &core)
        .evaluate(&trace())
        .unwrap_err();
    match err.reason {
        CallFailure::OutputTooLarge { size, limit } => {
            assert_eq!(limit, LIMIT);
            // Past the memory size (about 1.3 MB, under 2 MiB), by at most one finding.
            assert!(size > 1_200_000 && size < (2 << 20) + 1016, "{size}");
        }
        other => panic!("expected output too large, got {other:?}"),
    }
}

/// An evaluator that first runs `body` (with `$payload` and the imports of `imports`).
fn importer(
    imports: &str,
    world: &str,
    body: &str,
    memory: u64,
    fill: u32,
) -> (Plugin, Arc<MemoryLog>) {
    let core = format!(
        r#"{imports}
  {common}
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate") (param $t i32) (result i32)
    (call $drop_trace (local.get $t))
    {body}
    (call $ok (f64.const 1) (i32.const 1)))
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate-batch") (param i32 i32) (result i32)
    unreachable)"#,
        common = common(fill)
    );
    let bytes = testing::componentize(
        &testing::expand(&format!("(module {core})")),
        &format!(
            "package test:guest; world w {{ {world} export flowtrace:plugin/evaluator@0.1.0; }}"
        ),
    )
    .unwrap();
    let mut manifest = testing::manifest("importer", PluginKind::Evaluator);
    manifest.capabilities.embeddings = world.contains("embeddings");
    manifest.limits.memory = Some(memory);
    let log = Arc::new(MemoryLog::default());
    let options = LoadOptions {
        services: Services {
            log: log.clone(),
            ..Services::default()
        },
        ..LoadOptions::default()
    };
    let plugin = Runtime::new()
        .unwrap()
        .load(&bytes, &manifest, options)
        .unwrap();
    (plugin, log)
}

#[test]
fn a_host_call_copies_at_most_the_memory_limit_of_arguments() {
    // 1,000,000 texts to embed, each the same 100 bytes: 8 MB of list in a 16 MiB guest, 124
    // MB once copied. Refused before the copy (wasmtime's hostcall fuel, set to the memory
    // limit), as a trap; nothing reaches the embeddings service.
    let body = "(local.set $t (call $payload))
    (local.set $t (call $alloc (i32.const 4) (i32.const 8000000)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $t) (i32.add (i32.const 65536) (i32.const 8000100))))
        (i32.store (local.get $t) (i32.const 65536))
        (i32.store offset=4 (local.get $t) (i32.const 100))
        (local.set $t (i32.add (local.get $t) (i32.const 8)))
        (br $next)))
    (call $embed (i32.sub (local.get $t) (i32.const 8000000)) (i32.const 1000000) (i32.const 4096))";
    let (plugin, _) = importer(
        r#"(import "flowtrace:plugin/embeddings@0.1.0" "embed" (func $embed (param i32 i32 i32)))"#,
        "import flowtrace:plugin/embeddings@0.1.0;",
        body,
        16 << 20,
        100,
    );
    let err = plugin.evaluate(&trace()).unwrap_err();
    assert!(
        matches!(&err.reason, CallFailure::Trap { message } if message.contains("too much data is being copied")),
        "{err:?}"
    );
}

#[test]
fn a_log_line_past_the_budget_is_dropped_and_one_within_it_kept() {
    // 2 MiB of `a` in one line: past the 1 MiB a call may log, so dropped with one notice
    // (read in guest memory, never copied); then a short line, also past the budget.
    let body = "(call $log (i32.const 2) (call $payload) (i32.const 2097152))";
    let (plugin, log) = importer(
        r#"(import "flowtrace:plugin/log@0.1.0" "log" (func $log (param i32 i32 i32)))"#,
        "import flowtrace:plugin/log@0.1.0;",
        body,
        64 << 20,
        2 << 20,
    );
    plugin.evaluate(&trace()).unwrap();
    let lines = log.lines();
    assert_eq!(
        lines.len(),
        1,
        "{:?}",
        lines.iter().map(|l| l.1.len()).collect::<Vec<_>>()
    );
    assert_eq!(
        lines[0].1,
        "log output of this call passed 1 MiB; the rest is dropped"
    );
    // Within the budget, the line arrives whole.
    let body = "(call $log (i32.const 2) (call $payload) (i32.const 1000))";
    let (plugin, log) = importer(
        r#"(import "flowtrace:plugin/log@0.1.0" "log" (func $log (param i32 i32 i32)))"#,
        "import flowtrace:plugin/log@0.1.0;",
        body,
        64 << 20,
        1000,
    );
    plugin.evaluate(&trace()).unwrap();
    assert_eq!(log.lines(), vec![(LogLevel::Info, "a".repeat(1000))]);
}

#[test]
fn vectors_are_copied_only_when_there_is_one_per_text() {
    // 1,000,000 empty vectors for one text: nothing towards the output limit, but 24 MB of
    // host `Vec`s had they been copied. Refused by their count, none copied.
    let plugin = load(
        PluginKind::Embedder,
        &format!(
            r#"{common}
  (func (export "flowtrace:plugin/embedder@0.1.0#dimension") (result i32) (i32.const 3))
  (func (export "flowtrace:plugin/embedder@0.1.0#embed") (param i32 i32) (result i32)
    ;; fresh memory is zeroes: 1,000,000 vectors (pointer 0, length 0)
    (call $ok4 (call $alloc (i32.const 4) (i32.const 8000000)) (i32.const 1000000)))"#,
            common = common(0)
        ),
    );
    let err = plugin.embed(&texts()).unwrap_err();
    assert_eq!(
        err.reason.to_string(),
        "returned an invalid result: 1000000 vectors for 1 texts"
    );
}

/// An evaluator with UTF-16 strings whose explanation is `units` code units: `hi` and `é`,
/// then `a`s.
fn utf16_evaluator(units: u32) -> Plugin {
    let core = format!(
        r#"(module
  (import "flowtrace:plugin/types@0.1.0" "[resource-drop]trace" (func $drop_trace (param i32)))
  @PRELUDE@
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate") (param $t i32) (result i32)
    (local $p i32) (local $i i32)
    (call $drop_trace (local.get $t))
    (local.set $p (call $alloc (i32.const 4) (i32.mul (i32.const {units}) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.const {units})))
        (i32.store16 (i32.add (local.get $p) (i32.mul (local.get $i) (i32.const 2))) (i32.const 0x61))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.store16 (local.get $p) (i32.const 0x68))
    (i32.store16 offset=2 (local.get $p) (i32.const 0x69))
    (i32.store16 offset=4 (local.get $p) (i32.const 0xE9))
    (drop (call $ok (f64.const 1) (i32.const 1)))
    (i32.store8 (i32.const 1056) (i32.const 1))
    (i32.store (i32.const 1060) (local.get $p))
    (i32.store (i32.const 1064) (i32.const {units}))
    (i32.const 1024))
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate-batch") (param i32 i32) (result i32)
    unreachable))"#
    );
    let bytes = testing::componentize_utf16(
        &testing::expand(&core),
        "package test:guest; world w { export flowtrace:plugin/evaluator@0.1.0; }",
    )
    .unwrap();
    Runtime::new()
        .unwrap()
        .load(
            &bytes,
            &testing::manifest("utf16", PluginKind::Evaluator),
            LoadOptions::default(),
        )
        .unwrap()
}

#[test]
fn utf16_strings_are_measured_and_copied_as_utf8() {
    let result = utf16_evaluator(5).evaluate(&trace()).unwrap();
    assert_eq!(result.explanation.as_deref(), Some("hiéaa"));
    // 1,100,000 code units are 2.2 MB in guest memory and 1,100,001 bytes in UTF-8 (the `é`
    // takes two): measured as the host would hold them.
    let err = utf16_evaluator(1_100_000).evaluate(&trace()).unwrap_err();
    assert!(
        matches!(err.reason, CallFailure::OutputTooLarge { size, .. } if size == 32 + 1_100_001),
        "{err:?}"
    );
}
