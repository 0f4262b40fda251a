//! `inspect` on components built here from WAT: a real evaluator, components with undeclared
//! and unknown imports, an embedded manifest, a plugin directory, and files that are not
//! components.

use std::ffi::OsStr;
use std::fs;
use std::path::Path;

use flowtrace_plugins::testing::with_custom_section;

use crate::support::{
    assert_golden, evaluator, evaluator_importing, flowtrace, normalize, run, tmp, Run,
};

const MANIFEST: &str = r#"[plugin]
id = "sample-evaluator"
name = "Sample Evaluator"
version = "0.1.0"
kind = "evaluator"

[build]
language = "rust"
"#;

fn inspect(dir: &Path, args: &[&OsStr]) -> Run {
    let mut all = vec![OsStr::new("inspect")];
    all.extend_from_slice(args);
    run(flowtrace(dir), all)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn without_a_manifest_each_import_shows_what_it_needs() {
    let dir = tmp();
    let bytes = evaluator_importing(&[
        "flowtrace:plugin/log@0.1.0",
        "flowtrace:plugin/kv@0.1.0",
        "wasi:http/outgoing-handler@0.2.6",
        "wasi:io/streams@0.2.6",
        "wasi:sockets/tcp@0.2.6",
    ]);
    write(dir.path(), "plugin.wasm", &bytes);
    let out = inspect(dir.path(), &[OsStr::new("plugin.wasm")]).expect_code(0);
    assert_eq!(out.stderr, "");
    assert_golden("inspect/no-manifest.stdout", &out.stdout);
}

#[test]
fn a_real_evaluator_in_human_mode() {
    let dir = tmp();
    let bytes = evaluator();
    write(dir.path(), "plugin.wasm", &bytes);
    let out = inspect(dir.path(), &[OsStr::new("plugin.wasm")]).expect_code(0);
    assert_eq!(out.stderr, "");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "component  plugin.wasm");
    assert!(lines[1].starts_with(&format!("size       {} bytes", bytes.len())));
    assert_eq!(lines[2].len(), "sha256     ".len() + 64, "{}", lines[2]);
    for expected in [
        "plugin     no manifest: showing the capability each import needs",
        "  always  flowtrace:plugin/types@0.1.0  always granted",
        "  instance  flowtrace:plugin/evaluator@0.1.0",
        "  (a plugin of kind evaluator)",
        "    export flowtrace:plugin/evaluator@0.1.0;",
        "verdict    not checked: no manifest",
    ] {
        assert!(
            lines.contains(&expected),
            "`{expected}` missing:\n{}",
            out.stdout
        );
    }
}

#[test]
fn json_mode_describes_the_component() {
    let dir = tmp();
    let bytes = evaluator();
    write(dir.path(), "plugin.wasm", &bytes);
    let out = inspect(
        dir.path(),
        &["plugin.wasm", "--message-format", "json"].map(OsStr::new),
    )
    .expect_code(0);
    let lines = out.json_lines();
    assert_eq!(lines.len(), 1, "{}", out.stdout);
    let msg = &lines[0];
    assert_eq!(msg["reason"], "inspection");
    assert_eq!(msg["size"], bytes.len());
    assert_eq!(msg["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(msg["manifest"], serde_json::Value::Null);
    assert_eq!(msg["policy-ok"], serde_json::Value::Null);
    assert_eq!(msg["exported-kinds"], serde_json::json!(["evaluator"]));
    let imports = msg["imports"].as_array().unwrap();
    assert_eq!(imports.len(), 1, "{imports:?}");
    assert_eq!(imports[0]["import"], "flowtrace:plugin/types@0.1.0");
    assert_eq!(imports[0]["access"], "always");
    assert_eq!(imports[0]["kind"], "instance");
    assert_eq!(imports[0]["needs"], serde_json::Value::Null);
    assert!(
        imports[0].get("verdict").is_none(),
        "no verdict without a manifest"
    );
    assert!(msg["world-wit"]
        .as_str()
        .unwrap()
        .contains("export flowtrace:plugin/evaluator@0.1.0;"));
    assert_eq!(
        msg["exports"][0]["name"],
        "flowtrace:plugin/evaluator@0.1.0"
    );
}

#[test]
fn the_embedded_manifest_decides_the_verdicts() {
    let dir = tmp();
    let bytes = with_custom_section(
        evaluator_importing(&[
            "flowtrace:plugin/log@0.1.0",
            "flowtrace:plugin/kv@0.1.0",
            "wasi:io/streams@0.2.6",
            "wasi:sockets/tcp@0.2.6",
        ]),
        "flowtrace-manifest",
        MANIFEST.as_bytes(),
        None,
    );
    write(dir.path(), "kv.wasm", &bytes);
    let out = inspect(dir.path(), &[OsStr::new("kv.wasm")]).expect_code(4);
    assert_golden(
        "inspect/undeclared-kv.stdout",
        &normalize(&out.stdout, dir.path()),
    );
    assert_golden(
        "inspect/undeclared-kv.stderr",
        &normalize(&out.stderr, dir.path()),
    );

    let out = inspect(
        dir.path(),
        &["kv.wasm", "--message-format", "json"].map(OsStr::new),
    )
    .expect_code(4);
    let lines = out.json_lines();
    let msg = &lines[0];
    assert_eq!(msg["manifest"]["source"], "embedded");
    assert_eq!(msg["manifest"]["id"], "sample-evaluator");
    assert_eq!(msg["policy-ok"], false);
    let kv = &msg["imports"][1];
    assert_eq!(kv["verdict"], "undeclared");
    assert_eq!(kv["needs"], "storage");
    assert_eq!(kv["manifest-line"], "storage = true");
    assert_eq!(msg["imports"][3]["verdict"], "sandboxed");
    assert_eq!(lines.last().unwrap()["reason"], "error");
    assert_eq!(lines.last().unwrap()["exit-code"], 4);
}

#[test]
fn a_manifest_path_overrides_the_embedded_manifest() {
    let dir = tmp();
    let bytes = with_custom_section(
        evaluator_importing(&["flowtrace:plugin/kv@0.1.0"]),
        "flowtrace-manifest",
        MANIFEST.as_bytes(),
        None,
    );
    write(dir.path(), "kv.wasm", &bytes);
    let with_storage = format!("{MANIFEST}\n[capabilities]\nstorage = true\n");
    write(dir.path(), "flowtrace.toml", with_storage.as_bytes());
    let out = inspect(
        dir.path(),
        &[
            "kv.wasm",
            "--manifest-path",
            "flowtrace.toml",
            "--message-format",
            "json",
        ]
        .map(OsStr::new),
    )
    .expect_code(0);
    let msg = &out.json_lines()[0];
    assert_eq!(msg["manifest"]["source"], "file");
    assert_eq!(
        msg["manifest"]["capabilities"],
        serde_json::json!(["storage"])
    );
    assert_eq!(msg["imports"][0]["verdict"], "ok");
    assert_eq!(msg["policy-ok"], true);
    assert!(
        out.stderr
            .contains("warning: the manifest embedded in the component differs"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_unknown_import_is_a_violation_even_without_a_manifest() {
    let dir = tmp();
    write(
        dir.path(),
        "odd.wasm",
        &evaluator_importing(&["acme:secret/backdoor@1.0.0"]),
    );
    let out = inspect(dir.path(), &[OsStr::new("odd.wasm")]).expect_code(4);
    assert_golden("inspect/unknown-import.stderr", &out.stderr);
}

#[test]
fn a_plugin_directory_is_inspected_through_its_built_component() {
    let dir = tmp();
    let plugin = dir.path().join("sample-evaluator");
    fs::create_dir_all(plugin.join("target/flowtrace")).unwrap();
    fs::write(plugin.join("flowtrace.toml"), MANIFEST).unwrap();

    // Not built yet: say so, and how.
    fs::remove_dir_all(plugin.join("target")).unwrap();
    let out = inspect(dir.path(), &[OsStr::new("sample-evaluator")]).expect_code(1);
    assert_golden(
        "inspect/not-built.stderr",
        &normalize(&out.stderr, dir.path()),
    );

    fs::create_dir_all(plugin.join("target/flowtrace/release")).unwrap();
    fs::write(
        plugin.join("target/flowtrace/release/sample-evaluator-0.1.0.wasm"),
        evaluator(),
    )
    .unwrap();
    // From inside the plugin, with no argument, too.
    let out = run(flowtrace(&plugin), ["inspect", "--message-format", "json"]).expect_code(0);
    let msg = &out.json_lines()[0];
    assert_eq!(msg["manifest"]["source"], "file");
    assert_eq!(msg["policy-ok"], true);
    assert!(msg["path"]
        .as_str()
        .unwrap()
        .ends_with("target/flowtrace/release/sample-evaluator-0.1.0.wasm"));
}

#[test]
fn garbage_and_core_modules_are_refused_with_the_fix() {
    let dir = tmp();
    write(dir.path(), "garbage.wasm", b"this is not wasm at all");
    let out = inspect(dir.path(), &[OsStr::new("garbage.wasm")]).expect_code(1);
    assert_eq!(out.stdout, "");
    assert_golden("inspect/garbage.stderr", &out.stderr);

    let module = wat::parse_str("(module (func (export \"run\")))").unwrap();
    write(dir.path(), "core.wasm", &module);
    let out = inspect(dir.path(), &[OsStr::new("core.wasm")]).expect_code(1);
    assert_golden("inspect/core-module.stderr", &out.stderr);

    write(dir.path(), "empty.wasm", b"");
    let out = inspect(dir.path(), &[OsStr::new("empty.wasm")]).expect_code(1);
    assert!(out.stderr.contains("the file is empty"), "{}", out.stderr);
}

#[test]
fn wit_prints_the_world_alone() {
    let dir = tmp();
    write(dir.path(), "plugin.wasm", &evaluator());
    let out = inspect(dir.path(), &["plugin.wasm", "--wit"].map(OsStr::new)).expect_code(0);
    assert!(out.stdout.starts_with("package "), "{}", out.stdout);
    assert!(out
        .stdout
        .contains("export flowtrace:plugin/evaluator@0.1.0;"));
    assert!(out.stdout.contains("package flowtrace:plugin@0.1.0"));
}

#[test]
fn a_component_built_by_plain_cargo_is_inspected() {
    let dir = tmp();
    run(flowtrace(dir.path()), ["new", "plain-cargo"]).expect_code(0);
    let plugin = dir.path().join("plain-cargo");
    let target_dir = crate::support::guest_target_dir();
    // A plain `cargo build` uses the SDK once `cargo flowtrace build` has supplied it.
    let mut build = flowtrace(&plugin);
    build.env("CARGO_TARGET_DIR", &target_dir);
    run(build, ["build", "-q"]).expect_code(0);
    let status = std::process::Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--target", "wasm32-wasip2"])
        .env("CARGO_TARGET_DIR", &target_dir)
        .current_dir(&plugin)
        .status()
        .expect("cargo runs");
    assert!(
        status.success(),
        "cargo build --target wasm32-wasip2 failed"
    );
    let wasm = target_dir.join("wasm32-wasip2/debug/plain_cargo.wasm");
    crate::support::validated(fs::read(&wasm).unwrap());

    // No embedded manifest: each import with what it needs; nothing is refused.
    let out = inspect(
        dir.path(),
        &[
            wasm.as_os_str(),
            OsStr::new("--message-format"),
            OsStr::new("json"),
        ],
    )
    .expect_code(0);
    let msg = &out.json_lines()[0];
    assert_eq!(msg["manifest"], serde_json::Value::Null);
    assert_eq!(msg["exported-kinds"], serde_json::json!(["evaluator"]));
    let environment = msg["imports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| {
            i["import"]
                .as_str()
                .unwrap()
                .starts_with("wasi:cli/environment@")
        })
        .expect("Rust std imports wasi:cli/environment");
    assert_eq!(environment["access"], "capability");
    assert_eq!(environment["needs"], "env");

    // With the plugin's manifest: Rust std's imports are attributed to it, and it passes.
    let out = inspect(
        dir.path(),
        &[
            wasm.as_os_str(),
            OsStr::new("--manifest-path"),
            plugin.as_os_str(),
        ],
    )
    .expect_code(0);
    assert!(
        out.stdout
            .contains("injected by Rust std on `wasm32-wasip2`"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("passes the capability check"),
        "{}",
        out.stdout
    );
}
