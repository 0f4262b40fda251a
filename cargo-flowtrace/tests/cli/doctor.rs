//! `doctor`: the shape of its report. (`--fix` installs hundreds of megabytes from the
//! package registries: it is run by hand, not here.)

use crate::build::{edit, new_plugin};
use crate::support::{assert_golden, flowtrace, normalize, run, tmp};

#[test]
fn json_lists_every_check_then_a_summary() {
    let dir = tmp();
    let mut doctor = flowtrace(dir.path());
    doctor.env_remove("CARGO_BUILD_TARGET_DIR");
    let out = run(doctor, ["doctor", "--message-format", "json"]);
    // Succeeds wherever Rust plugins can be built; CI installs the target first.
    assert!(out.code == 0 || out.code == 1, "{out:?}");
    let lines = out.json_lines();
    let (summary, rest) = lines.split_last().unwrap();
    assert_eq!(summary["reason"], "doctor-finished");
    assert_eq!(summary["required-ok"], out.code == 0);
    // Rust plugins build in the target dir they share, under the home.
    let shared = dir.path().join("flowtrace-home/cargo-target");
    assert_eq!(summary["rust-target-dir"], shared.display().to_string());
    assert_eq!(summary["rust-target-dir-shared"], true);
    // Outside a plugin: the checks, then what this binary carries.
    let (carried, checks) = rest.split_last().unwrap();
    assert_eq!(carried["reason"], "carried", "{carried}");
    assert!(summary.get("plugin-ok").is_none(), "{summary}");

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
        "typescript",
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
    for name in [
        "componentize-py",
        "componentize-js",
        "esbuild",
        "typescript",
    ] {
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
        out.stdout.contains("\nRust plugins are built in\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("componentize-py: python3 -m venv"),
        "{}",
        out.stdout
    );
}

#[test]
fn in_a_plugin_it_checks_the_contract_and_sdk_required_against_those_carried() {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "doctor-plugin", "rust-evaluator");
    let sdk = crate::new::sdk_requirement();
    let doctor = || run(flowtrace(&plugin), ["doctor", "--message-format", "json"]);

    let out = doctor();
    assert!(out.code == 0 || out.code == 1, "{out:?}");
    let lines = out.json_lines();
    let carried = lines.iter().find(|l| l["reason"] == "carried").unwrap();
    assert_eq!(carried["cargo-flowtrace"], env!("CARGO_PKG_VERSION"));
    assert_eq!(carried["contract"], "flowtrace:plugin@0.1.0");
    let carried_sdk = carried["rust-sdk"].as_str().unwrap();
    assert!(carried_sdk.starts_with(&format!("{sdk}.")), "{carried}");
    for name in ["python-sdk", "typescript-sdk"] {
        assert!(
            semver::Version::parse(carried[name].as_str().unwrap()).is_ok(),
            "{carried}"
        );
    }
    let requirements: Vec<_> = lines
        .iter()
        .filter(|l| l["reason"] == "plugin-requirement")
        .collect();
    let what: Vec<&str> = requirements
        .iter()
        .map(|r| r["what"].as_str().unwrap())
        .collect();
    assert_eq!(what, ["contract", "rust-sdk"]);
    assert!(
        requirements.iter().all(|r| r["ok"] == true),
        "{requirements:?}"
    );
    assert_eq!(lines.last().unwrap()["plugin-ok"], true);

    // Both requirements moved past what this binary carries.
    edit(
        &plugin.join("flowtrace.toml"),
        "flowtrace = \"^0.1\"",
        "flowtrace = \"^0.2\"",
    );
    let (major, minor) = sdk.split_once('.').unwrap();
    let next = format!("{major}.{}", minor.parse::<u64>().unwrap() + 1);
    edit(
        &plugin.join("Cargo.toml"),
        &format!("flowtrace-plugin-sdk = \"{sdk}\""),
        &format!("flowtrace-plugin-sdk = \"{next}\""),
    );
    let out = doctor().expect_code(1);
    let lines = out.json_lines();
    let failed: Vec<&str> = lines
        .iter()
        .filter(|l| l["reason"] == "plugin-requirement" && l["ok"] == false)
        .map(|l| l["what"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["contract", "rust-sdk"]);
    assert_eq!(
        lines
            .iter()
            .find(|l| l["reason"] == "doctor-finished")
            .unwrap()["plugin-ok"],
        false
    );
    let out = run(flowtrace(&plugin), ["doctor"]).expect_code(1);
    assert_golden(
        "doctor/not-carried.stderr",
        &normalize(&out.stderr, dir.path()),
    );
    assert!(
        out.stdout.contains("plugin `doctor-plugin` requires"),
        "{}",
        out.stdout
    );
}
