//! Host interfaces (log, stdout, config, kv) and the capability policy at the linker.

use std::collections::BTreeMap;
use std::sync::Arc;

use flowtrace_plugins::manifest::{Capabilities, ConfigField, ConfigType, ConfigValue, PluginKind};
use flowtrace_plugins::services::{LogLevel, MemoryLog};
use flowtrace_plugins::{testing, LoadError, LoadOptions, PreparedTrace, Runtime, Services};

fn services_component() -> Vec<u8> {
    testing::componentize(
        &testing::guest_wat("services"),
        "package test:guest; world w {
            import flowtrace:plugin/log@0.1.0;
            import flowtrace:plugin/config@0.1.0;
            import flowtrace:plugin/kv@0.1.0;
            import wasi:cli/stdout@0.2.12;
            export flowtrace:plugin/evaluator@0.1.0;
        }",
    )
    .unwrap()
}

fn services_manifest(storage: bool) -> flowtrace_plugins::manifest::Manifest {
    let mut manifest = testing::manifest("counter", PluginKind::Evaluator);
    manifest.capabilities.storage = storage;
    manifest.config.insert(
        "threshold".into(),
        ConfigField {
            ty: ConfigType::Float,
            default: Some(ConfigValue::Float(0.5)),
            description: None,
        },
    );
    manifest
}

#[test]
fn log_stdout_config_and_kv_reach_the_guest() {
    let log = Arc::new(MemoryLog::default());
    let options = LoadOptions {
        // An integer override of a float field is accepted as that float.
        config: BTreeMap::from([("threshold".to_string(), ConfigValue::Integer(1))]),
        services: Services {
            log: log.clone(),
            ..Services::default()
        },
        ..LoadOptions::default()
    };
    let plugin = Runtime::new()
        .unwrap()
        .load(&services_component(), &services_manifest(true), options)
        .unwrap();
    let trace = PreparedTrace::new(testing::trace_with_spans(0));
    let first = plugin.evaluate(&trace).unwrap();
    assert_eq!(
        (first.score, first.passed),
        (0.0, false),
        "no visit recorded yet"
    );
    let second = plugin.evaluate(&trace).unwrap();
    assert_eq!(
        (second.score, second.passed),
        (1.0, true),
        "kv kept the visit; threshold override"
    );
    let lines = log.lines();
    assert_eq!(
        lines,
        vec![
            (LogLevel::Info, "hello from the guest".to_string()),
            (LogLevel::Info, "printed line".to_string()),
            (LogLevel::Info, "hello from the guest".to_string()),
            (LogLevel::Info, "printed line".to_string()),
        ]
    );
}

#[test]
fn config_defaults_apply_and_bad_overrides_are_refused() {
    let runtime = Runtime::new().unwrap();
    let plugin = runtime
        .load(
            &services_component(),
            &services_manifest(true),
            LoadOptions::default(),
        )
        .unwrap();
    let trace = PreparedTrace::new(testing::trace_with_spans(0));
    plugin.evaluate(&trace).unwrap();
    assert_eq!(plugin.evaluate(&trace).unwrap().score, 0.5, "the default");

    let options = LoadOptions {
        config: BTreeMap::from([
            ("threshold".to_string(), ConfigValue::String("high".into())),
            ("treshold".to_string(), ConfigValue::Float(0.1)),
        ]),
        ..LoadOptions::default()
    };
    let err = runtime
        .load(&services_component(), &services_manifest(true), options)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid config for plugin `counter`:\n  `threshold` is a float, not a string\n  `treshold` is not declared under `[config]` in the manifest (declared: threshold)"
    );
}

#[test]
fn undeclared_kv_is_refused_by_the_check() {
    let err = Runtime::new()
        .unwrap()
        .load(
            &services_component(),
            &services_manifest(false),
            LoadOptions::default(),
        )
        .unwrap_err();
    let LoadError::Policy { report, .. } = &err else {
        panic!("expected a policy error, got {err:?}");
    };
    assert!(!report.is_ok());
    let errors = report.errors();
    assert_eq!(errors.len(), 1, "{report}");
    let text = err.to_string();
    assert!(text.contains("flowtrace:plugin/kv@0.1.0"), "{text}");
    assert!(
        errors[0]
            .help()
            .unwrap_or_default()
            .contains("storage = true"),
        "{:?}",
        errors[0].help()
    );
}

#[test]
fn declared_but_not_granted_kv_is_refused_by_the_linker() {
    // The manifest declares storage, but the user granted nothing: the check passes (the
    // import matches the declaration), and the linker, which links only grants, refuses.
    let options = LoadOptions {
        grants: Some(Capabilities::default()),
        ..LoadOptions::default()
    };
    let err = Runtime::new()
        .unwrap()
        .load(&services_component(), &services_manifest(true), options)
        .unwrap_err();
    let LoadError::Link { plugin, source } = &err else {
        panic!("expected a link error, got {err:?}");
    };
    assert_eq!(plugin.as_str(), "counter");
    let chain = format!("{source}");
    assert!(chain.contains("flowtrace:plugin/kv@0.1.0"), "{chain}");
}
