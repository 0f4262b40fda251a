//! `doctor`: the shape of its report. (`--fix` installs hundreds of megabytes from the
//! package registries: it is run by hand, not here.)

use crate::support::{flowtrace, run, tmp};

#[test]
fn json_lists_every_check_then_a_summary() {
    let dir = tmp();
    let out = run(
        flowtrace(dir.path()),
        ["doctor", "--message-format", "json"],
    );
    // Succeeds wherever Rust plugins can be built; CI installs the target first.
    assert!(out.code == 0 || out.code == 1, "{out:?}");
    let lines = out.json_lines();
    let (summary, checks) = lines.split_last().unwrap();
    assert_eq!(summary["reason"], "doctor-finished");
    assert_eq!(summary["required-ok"], out.code == 0);

    let names: Vec<&str> = checks.iter().map(|c| c["name"].as_str().unwrap()).collect();
    for expected in [
        "rustup",
        "rustc",
        "wasm32-wasip2",
        "componentize-py",
        "node",
        "npm",
        "componentize-js",
        "esbuild",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    for check in checks {
        assert_eq!(check["reason"], "toolchain-check");
        let status = check["status"].as_str().unwrap();
        assert!(
            ["ok", "missing", "wrong-version"].contains(&status),
            "{check}"
        );
        assert!(check["expected"].is_string());
        assert!(check["required"].is_boolean());
        assert_eq!(check["fix"].is_null(), status == "ok", "{check}");
    }

    // A fresh FLOWTRACE_HOME has no managed toolchains; they would go under it.
    let toolchains = dir.path().join("flowtrace-home/toolchains");
    for name in ["componentize-py", "componentize-js", "esbuild"] {
        let check = checks.iter().find(|c| c["name"] == name).unwrap();
        assert_eq!(check["status"], "missing");
        assert_eq!(check["required"], false);
        let location = check["location"].as_str().unwrap();
        assert!(
            location.starts_with(&toolchains.display().to_string()),
            "{location}"
        );
    }
}

#[test]
fn human_output_is_a_table_with_fixes() {
    let dir = tmp();
    let out = run(flowtrace(dir.path()), ["doctor"]);
    assert!(out.code == 0 || out.code == 1, "{out:?}");
    let mut lines = out.stdout.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["check", "found", "expected", "status", "for"]);
    assert!(out.stdout.contains("\nto fix\n"), "{}", out.stdout);
    assert!(
        out.stdout.contains("componentize-py: python3 -m venv"),
        "{}",
        out.stdout
    );
}
