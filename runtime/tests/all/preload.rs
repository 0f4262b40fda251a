//! Preloading: the code a test harness hands to every new instance of a dev engine through
//! its `dev-loader` export (`LoadOptions::preload`), and nothing of it without one.

use flowtrace_plugins::manifest::PluginKind;
use flowtrace_plugins::results::PluginError;
use flowtrace_plugins::{
    testing, CallFailure, LoadError, LoadOptions, Preload, PreparedTrace, Runtime,
    PRELOAD_INTERFACE,
};

/// An evaluator that also exports the loader: `load` remembers the length of the code (an
/// empty one is `err("empty")`); `evaluate` scores that length / 100, and traps when nothing
/// was loaded into its instance.
const LOADER_GUEST: &str = r#"(module
  (import "flowtrace:plugin/types@0.1.0" "[resource-drop]trace" (func $drop_trace (param i32)))
  @PRELUDE@
  (global $loaded (mut i32) (i32.const 0))
  (data (i32.const 2048) "empty")
  (func (export "flowtrace:plugin/dev-loader@0.1.0#load") (param $ptr i32) (param $len i32) (result i32)
    (memory.fill (i32.const 1024) (i32.const 0) (i32.const 16))
    (if (i32.eqz (local.get $len))
      (then
        (i32.store8 (i32.const 1024) (i32.const 1))
        (i32.store (i32.const 1028) (i32.const 2048))
        (i32.store (i32.const 1032) (i32.const 5))
        (return (i32.const 1024))))
    (global.set $loaded (local.get $len))
    (i32.const 1024))
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate") (param $t i32) (result i32)
    (call $drop_trace (local.get $t))
    (if (i32.eqz (global.get $loaded)) (then unreachable))
    (call $ok (f64.div (f64.convert_i32_u (global.get $loaded)) (f64.const 100)) (i32.const 1)))
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate-batch") (param i32 i32) (result i32)
    unreachable))"#;

fn loader_component() -> Vec<u8> {
    testing::componentize_with_contract_extra(
        &testing::expand(LOADER_GUEST),
        "package test:guest; world w {
            import flowtrace:plugin/log@0.1.0;
            export flowtrace:plugin/evaluator@0.1.0;
            export flowtrace:plugin/dev-loader@0.1.0;
        }",
        "interface dev-loader { load: func(source: string) -> result<_, string>; }",
    )
    .unwrap()
}

fn preload(source: &str) -> LoadOptions {
    LoadOptions {
        preload: Some(Preload {
            source: source.into(),
            source_map: None,
        }),
        ..LoadOptions::default()
    }
}

#[test]
fn every_instance_is_given_the_code_before_its_call() {
    let bytes = loader_component();
    let inspection = flowtrace_plugins::inspect::inspect(&bytes).unwrap();
    assert!(inspection.export(PRELOAD_INTERFACE).is_some());
    let manifest = testing::manifest("loader", PluginKind::Evaluator);
    let plugin = Runtime::new()
        .unwrap()
        .load(&bytes, &manifest, preload("1234567"))
        .unwrap();
    // The loader is an export: the capability check has nothing to say of it.
    assert!(plugin.capability_report().is_ok());
    let trace = PreparedTrace::new(testing::trace_with_spans(2));
    // Each call is a fresh instance: each was given the code.
    for _ in 0..3 {
        let result = plugin.evaluate(&trace).unwrap();
        assert!((result.score - 0.07).abs() < 1e-9, "{result:?}");
    }
}

#[test]
fn without_a_preload_the_loader_is_never_called() {
    let bytes = loader_component();
    let manifest = testing::manifest("loader", PluginKind::Evaluator);
    let plugin = Runtime::new()
        .unwrap()
        .load(&bytes, &manifest, LoadOptions::default())
        .unwrap();
    let err = plugin
        .evaluate(&PreparedTrace::new(testing::trace_with_spans(1)))
        .unwrap_err();
    assert!(matches!(err.reason, CallFailure::Trap { .. }), "{err:?}");
}

#[test]
fn code_the_engine_refuses_fails_the_call_with_its_error() {
    let bytes = loader_component();
    let manifest = testing::manifest("loader", PluginKind::Evaluator);
    let plugin = Runtime::new()
        .unwrap()
        .load(&bytes, &manifest, preload(""))
        .unwrap();
    let err = plugin
        .evaluate(&PreparedTrace::new(testing::trace_with_spans(1)))
        .unwrap_err();
    assert!(
        matches!(&err.reason, CallFailure::Plugin(PluginError::Failed(m)) if m == "empty"),
        "{err:?}"
    );
}

#[test]
fn a_preload_needs_the_loader_export() {
    let bytes = testing::evaluator(&testing::guest_wat("behaviors"));
    let manifest = testing::manifest("behaviors", PluginKind::Evaluator);
    let err = Runtime::new()
        .unwrap()
        .load(&bytes, &manifest, preload("code"))
        .unwrap_err();
    assert!(matches!(err, LoadError::Link { .. }), "{err:?}");
    let chain = flowtrace_plugins::diag::error_chain(&err);
    assert!(chain.contains(PRELOAD_INTERFACE), "{chain}");
    // Loaded as it is, the same component is fine.
    assert!(Runtime::new()
        .unwrap()
        .load(&bytes, &manifest, LoadOptions::default())
        .is_ok());
}
