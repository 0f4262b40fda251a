//! Settings of installed plugins: `config`, `enable --config`, `info`, and their use by
//! `eval` and by `Registry::load` (what Flowtrace calls), on a real template plugin.

use std::fs;
use std::path::Path;

use flowtrace_plugins::manifest::PluginId;
use flowtrace_plugins::registry::Registry;
use flowtrace_plugins::trace::parse_traces;
use flowtrace_plugins::{PreparedTrace, Runtime, Services};
use serde_json::Value;

use crate::build::{in_plugin, new_plugin};
use crate::registry::built;
use crate::support::{flowtrace, run, tmp, Run};

/// `eval <id> tests/traces/agent.json` in `plugin`: the one result.
fn eval_agent(plugin: &Path, id: &str) -> Value {
    let out = in_plugin(
        plugin,
        [
            "eval",
            id,
            "tests/traces/agent.json",
            "--message-format",
            "json",
        ],
    )
    .expect_code(0);
    let lines = out.json_lines();
    lines
        .into_iter()
        .find(|m| m["reason"] == "eval-result")
        .unwrap_or_else(|| panic!("no eval-result: {}", out.stdout))
}

/// What `Registry::load` gives Flowtrace: the plugin evaluating the agent trace.
fn load_and_evaluate(plugin: &Path, id: &str) -> flowtrace_plugins::results::EvalResult {
    let registry = Registry::open(&plugin.join("flowtrace-home")).unwrap();
    let runtime = Runtime::new().unwrap();
    let loaded = registry
        .load(
            &runtime,
            &PluginId::parse(id).unwrap(),
            &Services::default(),
        )
        .unwrap();
    let bytes = fs::read(plugin.join("tests/traces/agent.json")).unwrap();
    let trace = parse_traces(&bytes).unwrap().remove(0);
    loaded.evaluate(&PreparedTrace::new(trace)).unwrap()
}

fn cli(plugin: &Path, args: &[&str]) -> Run {
    in_plugin(plugin, args)
}

#[test]
fn settings_are_validated_kept_and_used_by_eval_and_registry_load() {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "settings-eval", "rust-evaluator");
    cli(&plugin, &["install", "."]).expect_code(0);

    // The default (30 s): the agent's spans are in time.
    assert_eq!(eval_agent(&plugin, "settings-eval")["passed"], true);
    assert!(load_and_evaluate(&plugin, "settings-eval").passed);
    let out = cli(&plugin, &["config", "settings-eval"]).expect_code(0);
    assert!(
        out.stdout
            .contains("max-span-ms = 30000 (integer, default)"),
        "{}",
        out.stdout
    );

    // Wrong types and unknown keys are refused, all at once, and nothing changes.
    let out = cli(
        &plugin,
        &["config", "settings-eval", "max-span-ms=fast", "nope=1"],
    )
    .expect_code(1);
    assert!(
        out.stderr.contains(
            "`max-span-ms=fast`: `max-span-ms` is declared as `integer`\n  `nope=1`: `nope` is \
             not declared under `[config]` by version 0.1.0 (declared: `max-span-ms`)"
        ),
        "{}",
        out.stderr
    );
    let index = fs::read_to_string(plugin.join("flowtrace-home/index.json")).unwrap();
    assert!(!index.contains("\"config\""), "{index}");

    // Set: kept in the index, as its type.
    let out = cli(&plugin, &["config", "settings-eval", "max-span-ms=500"]).expect_code(0);
    assert!(
        out.stderr.contains("Set settings-eval max-span-ms = 500"),
        "{}",
        out.stderr
    );
    let index: Value = serde_json::from_str(
        &fs::read_to_string(plugin.join("flowtrace-home/index.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        index["plugins"]["settings-eval"]["config"],
        serde_json::json!({ "max-span-ms": 500 })
    );
    let out = cli(&plugin, &["config", "settings-eval", "max-span-ms"]).expect_code(0);
    assert_eq!(
        out.stdout.trim(),
        "max-span-ms = 500 (integer, set; default 30000)\n      a span that runs longer than \
         this many milliseconds is flagged"
    );
    // Used by `eval` and by `Registry::load`: the 2 s agent span and the 0.8 s call are slow.
    let result = eval_agent(&plugin, "settings-eval");
    assert_eq!(result["passed"], false, "{result}");
    assert_eq!(result["label"], "slow", "{result}");
    let loaded = load_and_evaluate(&plugin, "settings-eval");
    assert!(!loaded.passed);
    assert_eq!(loaded.label.as_deref(), Some("slow"));
    // `--config` of `eval` still overrides the setting, for one run.
    let out = in_plugin(
        &plugin,
        [
            "eval",
            "settings-eval",
            "tests/traces/agent.json",
            "--config",
            "max-span-ms=60000",
            "--message-format",
            "json",
        ],
    )
    .expect_code(0);
    assert!(out.stdout.contains("\"passed\":true"), "{}", out.stdout);
    // Shown by `info`, as text and JSON.
    let out = cli(&plugin, &["info", "settings-eval"]).expect_code(0);
    assert!(
        out.stdout
            .contains("max-span-ms = 500 (integer, set; default 30000)"),
        "{}",
        out.stdout
    );
    let info = cli(
        &plugin,
        &["info", "settings-eval", "--message-format", "json"],
    )
    .expect_code(0)
    .json_lines();
    assert_eq!(info[0]["settings"]["settings"][0]["value"], 500);
    assert_eq!(info[0]["settings"]["settings"][0]["default"], 30000);

    // `--unset`: the default again.
    cli(
        &plugin,
        &["config", "settings-eval", "--unset", "max-span-ms"],
    )
    .expect_code(0);
    assert_eq!(eval_agent(&plugin, "settings-eval")["passed"], true);

    // `enable --config`: refused as a whole when a value is wrong, else set with the enable.
    cli(&plugin, &["disable", "settings-eval"]).expect_code(0);
    let out = cli(
        &plugin,
        &["enable", "settings-eval", "--config", "max-span-ms=0.5"],
    )
    .expect_code(1);
    assert!(
        out.stderr
            .contains("`max-span-ms` is declared as `integer`"),
        "{}",
        out.stderr
    );
    let listed = cli(&plugin, &["list", "--message-format", "json"])
        .expect_code(0)
        .json_lines();
    assert_eq!(listed[0]["plugins"][0]["enabled"], false);
    let out = cli(
        &plugin,
        &["enable", "settings-eval", "--config", "max-span-ms=500"],
    )
    .expect_code(0);
    assert!(
        out.stderr.contains("Set settings-eval max-span-ms = 500"),
        "{}",
        out.stderr
    );
    assert_eq!(eval_agent(&plugin, "settings-eval")["passed"], false);
    assert!(!load_and_evaluate(&plugin, "settings-eval").passed);
}

#[test]
fn a_setting_an_upgrade_no_longer_takes_is_reported_and_stops_the_load() {
    let dir = tmp();
    let v1 = built(
        dir.path(),
        "upgraded",
        "0.1.0",
        "[config]\nlimit = { type = \"integer\", default = 1 }\n",
    );
    let v2 = built(
        dir.path(),
        "upgraded",
        "0.2.0",
        "[config]\nlimit = { type = \"string\", default = \"one\" }\n",
    );
    let cli = |args: &[&str]| run(flowtrace(dir.path()), args);
    cli(&["install", v1.to_str().unwrap()]).expect_code(0);
    cli(&["config", "upgraded", "limit=3"]).expect_code(0);
    let out = cli(&["install", v2.to_str().unwrap()]).expect_code(0);
    assert!(
        out.stderr.contains(
            "warning: settings of `upgraded` that version 0.2.0 does not take: `limit` is set \
             to `3`, but version 0.2.0 declares it as `string`"
        ),
        "{}",
        out.stderr
    );
    // Loading it fails, naming the setting and the fix; `config` shows it as not taken.
    let registry = Registry::open(&dir.path().join("flowtrace-home")).unwrap();
    let runtime = Runtime::new().unwrap();
    let error = registry
        .load(
            &runtime,
            &PluginId::parse("upgraded").unwrap(),
            &Services::default(),
        )
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid settings for plugin `upgraded` 0.2.0:\n  `limit` is set to `3`, but version \
         0.2.0 declares it as `string`"
    );
    let out = cli(&["config", "upgraded"]).expect_code(0);
    assert!(
        out.stdout.contains(
            "limit = 3 (not taken: `limit` is set to `3`, but version 0.2.0 declares it as \
             `string`)"
        ),
        "{}",
        out.stdout
    );
    // Setting it anew as its new type mends it.
    cli(&["config", "upgraded", "limit=three"]).expect_code(0);
    registry
        .load(
            &runtime,
            &PluginId::parse("upgraded").unwrap(),
            &Services::default(),
        )
        .unwrap();
}
