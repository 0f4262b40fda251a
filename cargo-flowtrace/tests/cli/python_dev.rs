//! Dev mode for Python plugins: `test` runs the plugin's sources in an engine component
//! built once (per componentize-py, SDK, kind and world) instead of building the plugin;
//! `test --release` runs the release build. Real componentize-py, shared toolchains
//! ([`toolchain_home`]).

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::build::edit;
use crate::support::{flowtrace, run, tmp, toolchain_home, validated, Run};

fn python(dir: &Path) -> Command {
    let mut command = flowtrace(dir);
    command.env("FLOWTRACE_HOME", toolchain_home());
    command
}

fn in_plugin<const N: usize>(plugin: &Path, args: [&str; N]) -> Run {
    run(python(plugin), args)
}

/// Each case of a `--message-format json` run: its name, status and result.
fn cases(out: &Run) -> Vec<(String, String, serde_json::Value)> {
    let mut cases: Vec<_> = out
        .json_lines()
        .into_iter()
        .filter(|l| l["reason"] == "test-case")
        .map(|l| {
            (
                l["name"].as_str().unwrap_or_default().to_string(),
                l["status"].as_str().unwrap_or_default().to_string(),
                l["result"].clone(),
            )
        })
        .collect();
    cases.sort_by(|a, b| a.0.cmp(&b.0));
    cases
}

#[test]
fn the_python_template_passes_in_dev_mode_and_as_a_release_build_alike_and_edits_need_no_build() {
    let dir = tmp();
    run(python(dir.path()), ["new", "py-dev", "--lang", "python"]).expect_code(0);
    let root = dir.path().join("py-dev");
    let release_artefact = root.join("target/flowtrace/release/py-dev-0.1.0.wasm");

    // Dev mode: the engine (built by the first test that needs it, then shared), the
    // plugin's sources loaded at run time; the plugin itself is never componentized.
    let dev = in_plugin(&root, ["test", "--message-format", "json"]).expect_code(0);
    assert!(
        dev.stderr
            .contains("Finished plugin `py-dev` v0.1.0 (dev: sources loaded at run time)"),
        "{}",
        dev.stderr
    );
    assert!(
        !dev.stderr.contains("Compiling plugin `py-dev`"),
        "{}",
        dev.stderr
    );
    assert!(!release_artefact.exists());
    assert!(!root.join("target/flowtrace/python/stamp.json").exists());
    let started = dev
        .json_lines()
        .into_iter()
        .find(|l| l["reason"] == "test-run-started")
        .expect("a test-run-started message");
    let engine = Path::new(started["component"].as_str().unwrap()).to_path_buf();
    assert!(
        engine.starts_with(toolchain_home().join("cache/python-dev")),
        "{}",
        engine.display()
    );
    // The engine imports what a build of the plugin imports: nothing the manifest does
    // not grant.
    let bytes = validated(fs::read(&engine).unwrap());
    let inspection = flowtrace_plugins::inspect::inspect(&bytes).unwrap();
    let imports: Vec<&str> = inspection.imports.iter().map(|i| i.name.as_str()).collect();
    assert!(
        imports.contains(&"flowtrace:plugin/config@0.1.0"),
        "{imports:?}"
    );
    for gated in ["/kv@", "/traces@", "/embeddings@", "wasi:http/"] {
        assert!(!imports.iter().any(|i| i.contains(gated)), "{imports:?}");
    }

    let dev_cases = cases(&dev);
    assert_eq!(dev_cases.len(), 4, "{}", dev.stdout);
    assert!(
        dev_cases.iter().all(|(_, status, _)| status == "ok"),
        "{dev_cases:?}"
    );

    // The release build: componentize-py over the plugin, the same results.
    let release =
        in_plugin(&root, ["test", "--release", "--message-format", "json"]).expect_code(0);
    assert!(
        release
            .stderr
            .contains("Compiling plugin `py-dev` v0.1.0 (componentize-py 0.25.1)"),
        "{}",
        release.stderr
    );
    validated(fs::read(&release_artefact).unwrap());
    assert_eq!(cases(&release), dev_cases);

    // An edit is picked up by the next `test` without a build: the release artefact and
    // its stamp are left as they were.
    let artefact_before = fs::read(&release_artefact).unwrap();
    let stamp = root.join("target/flowtrace/python/stamp.json");
    let stamp_before = fs::read(&stamp).unwrap();
    edit(
        &root.join("app.py"),
        "result.label = \"error\" if errors",
        "result.label = \"broken\" if errors",
    );
    let edited = in_plugin(&root, ["test", "--message-format", "json"]).expect_code(3);
    assert!(!edited.stderr.contains("Compiling"), "{}", edited.stderr);
    let failed: Vec<_> = cases(&edited)
        .into_iter()
        .filter(|(_, status, _)| status != "ok")
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].0, "failed-tool");
    assert_eq!(failed[0].2["label"], "broken", "{failed:?}");
    assert_eq!(fs::read(&release_artefact).unwrap(), artefact_before);
    assert_eq!(fs::read(&stamp).unwrap(), stamp_before);

    // A native extension among the sources: the engine cannot load it, so `test` tests the
    // release build instead, and says why.
    edit(
        &root.join("app.py"),
        "result.label = \"broken\" if errors",
        "result.label = \"error\" if errors",
    );
    fs::create_dir_all(root.join("native")).unwrap();
    fs::write(root.join("native/_speedups.so"), "not a library").unwrap();
    let out = in_plugin(&root, ["test"]).expect_code(0);
    assert!(
        out.stderr.contains(
            "note: testing the release build: `native/_speedups.so` is a native extension, \
             which only a release build can load"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("Compiling plugin `py-dev` v0.1.0 (componentize-py 0.25.1)"),
        "{}",
        out.stderr
    );
    assert_ne!(fs::read(&release_artefact).unwrap(), artefact_before);
}

#[test]
fn python_source_errors_in_dev_mode_read_like_build_errors() {
    let dir = tmp();
    run(
        python(dir.path()),
        ["new", "py-dev-errors", "--lang", "python"],
    )
    .expect_code(0);
    let root = dir.path().join("py-dev-errors");
    let app = root.join("app.py");
    let good = fs::read_to_string(&app).unwrap();

    // A syntax error: the file, line and caret, no frame of the SDK or of importlib.
    fs::write(
        &app,
        good.replace(
            "def evaluate(self, trace: Trace) -> EvalResult:",
            "def evaluate(self, trace: Trace -> EvalResult:",
        ),
    )
    .unwrap();
    let out = in_plugin(&root, ["test"]).expect_code(1);
    let line = good
        .lines()
        .position(|l| l.contains("def evaluate"))
        .unwrap()
        + 1;
    let expected = format!(
        "  File \"app.py\", line {line}\n    def evaluate(self, trace: Trace -> EvalResult:\n"
    );
    assert!(out.stderr.contains(&expected), "{}", out.stderr);
    assert!(
        out.stderr.contains("\nSyntaxError: invalid syntax\n"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("error: failed to load plugin `py-dev-errors` from its sources (dev mode)"),
        "{}",
        out.stderr
    );
    for internal in ["_dev.py", "_entry.py", "importlib", "flowtrace-dev"] {
        assert!(!out.stderr.contains(internal), "{}", out.stderr);
    }
    // Shown once, not as each case's failure.
    assert!(!out.stdout.contains("FAILED"), "{}", out.stdout);

    // An undeclared capability: the build's help.
    fs::write(&app, format!("from flowtrace_plugin import kv\n{good}")).unwrap();
    let out = in_plugin(&root, ["test"]).expect_code(1);
    assert!(
        out.stderr
            .contains("  File \"app.py\", line 1, in <module>\n"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "help: `flowtrace_plugin.kv` needs capability `storage`: add `storage = true` \
             under `[capabilities]` in flowtrace.toml"
        ),
        "{}",
        out.stderr
    );

    // A module that is not there: the build's help.
    fs::write(&app, format!("import requests\n{good}")).unwrap();
    let out = in_plugin(&root, ["test"]).expect_code(1);
    assert!(
        out.stderr
            .contains("ModuleNotFoundError: No module named 'requests'"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("list it under `[project] dependencies`"),
        "{}",
        out.stderr
    );

    // Fixed: it passes, still without a build. The plugin's directory is shown to it
    // read-only, and nothing outside it.
    let probe = [
        "import os",
        "for _path in ('/flowtrace-dev/written.txt', '/flowtrace-dev/tests/written.txt'):",
        "    try:",
        "        with open(_path, 'w') as _file:",
        "            _file.write('x')",
        "    except OSError:",
        "        pass",
        "try:",
        "    open('/flowtrace-dev/../../../etc/hostname').close()",
        "    raise RuntimeError('read outside the plugin directory')",
        "except OSError:",
        "    pass",
        "",
    ]
    .join("\n");
    fs::write(&app, format!("{probe}{good}")).unwrap();
    let out = in_plugin(&root, ["test"]).expect_code(0);
    assert!(!out.stderr.contains("Compiling"), "{}", out.stderr);
    assert!(!root.join("written.txt").exists());
    assert!(!root.join("tests/written.txt").exists());

    // A memory limit the release build runs within (its first call asks for 12.4 MiB) holds
    // in dev mode too, though the engine, its standard library loaded, starts larger.
    edit(
        &root.join("flowtrace.toml"),
        "memory = \"64MiB\"",
        "memory = \"16MiB\"",
    );
    in_plugin(&root, ["test"]).expect_code(0);
}
