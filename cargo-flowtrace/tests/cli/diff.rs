//! `diff` between two versions of an installed evaluator (the Rust template, built by real
//! cargo), with flips both ways and the exit codes of `--fail-on changed` and
//! `--max-score-delta`; and the summary `install` prints when it upgrades an evaluator.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::build::{edit, guest, new_plugin};
use crate::support::{assert_golden, run, tmp, Run};

/// A trace `id` of one span of `ms` milliseconds, with status `status`.
fn trace(id: &str, ms: u64, status: &str) -> String {
    let start = 1_700_000_000_000_000_000u64;
    serde_json::json!({
        "id": id,
        "spans": [{
            "id": format!("{id}-root"),
            "name": "step",
            "kind": "agent-step",
            "status": status,
            "start-time-ns": start,
            "end-time-ns": start + ms * 1_000_000,
        }]
    })
    .to_string()
}

fn flow(dir: &Path, args: &[&str]) -> Run {
    run(guest(dir), args)
}

fn summary(out: &Run) -> Value {
    out.json_lines()
        .into_iter()
        .find(|m| m["reason"] == "diff-summary")
        .unwrap_or_else(|| panic!("no diff-summary:\n{}", out.stdout))
}

#[test]
fn diff_of_two_versions_counts_flips_and_fails_ci_on_changes() {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "diff-eval", "rust-evaluator");
    let plugin_dir = plugin.to_str().unwrap();
    // Every command runs in `dir`, whose `flowtrace-home` is the registry.
    flow(dir.path(), &["install", "--debug", plugin_dir]).expect_code(0);
    // 0.2.0: spans over 100 ms are slow (30 s before), and only slow spans fail a trace.
    edit(
        &plugin.join("flowtrace.toml"),
        "version = \"0.1.0\"",
        "version = \"0.2.0\"",
    );
    edit(
        &plugin.join("flowtrace.toml"),
        "default = 30000",
        "default = 100",
    );
    edit(
        &plugin.join("src/lib.rs"),
        "result.passed = flagged == 0;",
        "result.passed = slow == 0;",
    );

    // The upgrade compares the two versions over the template's own fixtures.
    let out = flow(dir.path(), &["install", "--debug", plugin_dir]).expect_code(0);
    assert!(
        out.stderr
            .contains("Comparing v0.1.0 -> v0.2.0 over 4 fixture traces"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "  ok: trace `4bf92f3577b34da6a3ce929d0e0e4736`: passed -> failed, score 1.000 -> \
             0.000 (-1.000), label ok -> slow, slow 0 -> 3"
        ),
        "{}",
        out.stderr
    );
    assert_golden("diff/install-summary.stdout", &out.stdout);

    // Three traces: one that fails and then passes (a failed span, fast), one that passes
    // and then fails (an ok span of 200 ms), one that does not change.
    let traces = [
        trace("fail-to-pass", 5, "error"),
        trace("pass-to-fail", 200, "ok"),
        trace("same", 5, "ok"),
    ];
    fs::write(dir.path().join("traces.jsonl"), traces.join("\n") + "\n").unwrap();
    let args = ["diff", "diff-eval@0.1.0", "diff-eval@0.2.0", "traces.jsonl"];
    let out = flow(dir.path(), &args).expect_code(0);
    assert_golden("diff/versions.stdout", &out.stdout);

    let mut json = args.to_vec();
    json.extend(["--message-format", "json"]);
    let out = flow(dir.path(), &json).expect_code(0);
    let results: Vec<Value> = out
        .json_lines()
        .into_iter()
        .filter(|m| m["reason"] == "diff-result")
        .collect();
    let changed: Vec<(&str, Vec<&str>)> = results
        .iter()
        .map(|r| {
            (
                r["trace-id"].as_str().unwrap(),
                r["changed"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        changed,
        [
            ("fail-to-pass", vec!["verdict"]),
            (
                "pass-to-fail",
                vec!["verdict", "score", "label", "metric:slow"]
            ),
            ("same", vec![]),
        ]
    );
    assert_eq!(results[1]["a"]["verdict"], "passed");
    assert_eq!(results[1]["b"]["verdict"], "failed");
    assert_eq!(results[1]["score-delta"], -1.0);
    let s = summary(&out);
    assert_eq!(
        (
            &s["traces"],
            &s["changed"],
            &s["pass-to-fail"],
            &s["fail-to-pass"]
        ),
        (
            &Value::from(3),
            &Value::from(2),
            &Value::from(1),
            &Value::from(1)
        )
    );
    assert_eq!(s["mean-score-delta"].as_f64().unwrap(), -1.0 / 3.0);
    let slow = s["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "slow")
        .unwrap();
    assert_eq!(
        (slow["mean-a"].as_f64(), slow["mean-b"].as_f64()),
        (Some(0.0), Some(1.0 / 3.0))
    );

    // CI: any change, or a score moving by more than X.
    let mut fail_on = args.to_vec();
    fail_on.extend(["--fail-on", "changed"]);
    let out = flow(dir.path(), &fail_on).expect_code(3);
    assert!(
        out.stderr.contains("error: 2 of 3 traces changed"),
        "{}",
        out.stderr
    );
    let mut delta = args.to_vec();
    delta.extend(["--max-score-delta", "0.9"]);
    let out = flow(dir.path(), &delta).expect_code(3);
    assert!(
        out.stderr
            .contains("error: 1 of 3 traces moved by more than 0.9"),
        "{}",
        out.stderr
    );
    delta[5] = "1";
    flow(dir.path(), &delta).expect_code(0);
    // The same trace file, the same version on both sides: nothing changes.
    let out = flow(
        dir.path(),
        &[
            "diff",
            "diff-eval",
            "diff-eval@0.2.0",
            "traces.jsonl",
            "--fail-on",
            "changed",
        ],
    )
    .expect_code(0);
    assert!(out.stdout.starts_with("traces "), "{}", out.stdout);

    // A version that is not installed, and a directory against an installed version.
    let out = flow(
        dir.path(),
        &["diff", "diff-eval@9.9.9", "diff-eval", "traces.jsonl"],
    )
    .expect_code(1);
    assert!(
        out.stderr
            .contains("plugin `diff-eval` has no installed version 9.9.9"),
        "{}",
        out.stderr
    );
    let out = flow(
        dir.path(),
        &[
            "diff",
            "diff-eval@0.2.0",
            plugin_dir,
            "traces.jsonl",
            "--fail-on",
            "changed",
        ],
    )
    .expect_code(0);
    assert!(
        out.stdout.contains("changed               0"),
        "{}",
        out.stdout
    );
}

#[test]
fn diff_help() {
    let dir = tmp();
    let out = run(crate::support::flowtrace(dir.path()), ["diff", "--help"]).expect_code(0);
    assert_golden("help/diff.txt", &out.stdout);
}
