//! Python plugins end to end: componentize-py (installed by the build itself on first use,
//! into the toolchains the whole test run shares, [`toolchain_home`]), the SDK embedded in the binary,
//! the world narrowed to the manifest's capabilities, the harness on the result.
//!
//! A Python build takes about 10 s and loading its 18 MB component about as long, so each
//! test builds as few plugins as it can.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::build::edit;
use crate::support::{
    copy_sources, flowtrace, openinference_fixture, run, tmp, toolchain_home, validated, Run,
};

/// The binary, with the shared toolchains.
fn python(dir: &Path) -> Command {
    let mut command = flowtrace(dir);
    command.env("FLOWTRACE_HOME", toolchain_home());
    command
}

fn in_plugin<const N: usize>(plugin: &Path, args: [&str; N]) -> Run {
    run(python(plugin), args)
}

const MANIFEST: &str = r#"[plugin]
id = "py-check"
name = "Py Check"
version = "0.1.0"
kind = "evaluator"
flowtrace = "^0.1"

[build]
language = "python"

[config]
max-spans = { type = "integer", default = 10 }
"#;

/// Counts spans and errors; fails traces with more spans than `max-spans`.
const APP: &str = r#"from flowtrace_plugin import EvalResult, Evaluator, SpanStatus, Trace, config, export


@export
class SpanCount(Evaluator):
    def evaluate(self, trace: Trace) -> EvalResult:
        limit = config.require("max-spans", int)
        spans = trace.spans()
        errors = [s for s in spans if s.status == SpanStatus.ERROR]
        result = EvalResult.ok(label="ok") if len(spans) <= limit else EvalResult.fail(0.0, label="too-many")
        for span in errors:
            result.finding(f"`{span.name}` failed", span_id=span.id)
        return result.metric("spans", len(spans)).metric("errors", len(errors))
"#;

/// A plugin directory with `MANIFEST`, `app.py` and two fixtures over a real OTLP export.
fn plugin(dir: &Path) -> PathBuf {
    let root = dir.join("py-check");
    fs::create_dir_all(root.join("tests")).unwrap();
    fs::write(root.join("flowtrace.toml"), MANIFEST).unwrap();
    fs::write(root.join("app.py"), APP).unwrap();
    fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../templates/rust-evaluator/tests/traces/otlp-agent.json"),
        root.join("tests/otlp-agent.json"),
    )
    .unwrap();
    fs::write(
        root.join("tests/otlp.toml"),
        "trace = \"otlp-agent.json\"\n\n[expect]\npassed = true\nlabel = \"ok\"\n\
         metrics = { spans = 6, errors = 0 }\n",
    )
    .unwrap();
    fs::write(
        root.join("tests/limit.toml"),
        "trace = \"otlp-agent.json\"\nconfig = { max-spans = 2 }\n\n[expect]\npassed = false\n\
         label = \"too-many\"\nscore = 0.0\n",
    )
    .unwrap();
    root
}

fn build_json(plugin: &Path) -> serde_json::Value {
    let out = in_plugin(plugin, ["build", "--message-format", "json"]).expect_code(0);
    out.json_lines()
        .into_iter()
        .find(|l| l["reason"] == "build-finished")
        .unwrap_or_else(|| panic!("no build-finished message:\n{}", out.stdout))
}

#[test]
fn a_python_plugin_builds_passes_its_fixtures_and_rebuilds_only_when_its_sources_change() {
    let dir = tmp();
    let root = plugin(dir.path());

    // `--release`: the release build (plain `test` runs in dev mode, see `python_dev`).
    let out = in_plugin(&root, ["test", "--release"]).expect_code(0);
    assert!(
        out.stderr
            .contains("Compiling plugin `py-check` v0.1.0 (componentize-py 0.25.1)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout.ends_with("2 passed, 0 failed\n"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );

    // The component: valid, the manifest embedded, exports the evaluator, imports no host
    // interface the manifest does not grant.
    let artefact = root.join("target/flowtrace/release/py-check-0.1.0.wasm");
    let bytes = validated(fs::read(&artefact).unwrap());
    let inspection = flowtrace_plugins::inspect::inspect(&bytes).unwrap();
    assert_eq!(inspection.embedded_manifest.as_deref(), Some(MANIFEST));
    let imports: Vec<&str> = inspection.imports.iter().map(|i| i.name.as_str()).collect();
    assert!(
        imports.contains(&"flowtrace:plugin/config@0.1.0"),
        "{imports:?}"
    );
    assert!(!imports.iter().any(|i| i.contains("/kv@")), "{imports:?}");
    // The bindings for editors are there.
    assert!(root
        .join("target/flowtrace/python/bindings/wit_world/imports/config.py")
        .is_file());

    // Nothing changed: fresh, the same component.
    let finished = build_json(&root);
    assert_eq!(finished["fresh"], true, "{finished}");
    assert_eq!(finished["sha256"], inspection.sha256.as_str());
    // A stamp written by a CLI that embeds another Python SDK (same version, same
    // componentize-py) is stale: the stamp records the embedded SDK's hash.
    let stamp_path = root.join("target/flowtrace/python/stamp.json");
    let mut stamp: serde_json::Value =
        serde_json::from_slice(&fs::read(&stamp_path).unwrap()).unwrap();
    let sdk = stamp["toolchain"]["sdk"].as_str().map(str::to_owned);
    let sdk = sdk.unwrap_or_else(|| panic!("the stamp records no SDK hash: {stamp}"));
    assert_eq!(sdk.len(), 64, "{stamp}");
    stamp["toolchain"]["sdk"] = "0".repeat(64).into();
    fs::write(&stamp_path, serde_json::to_vec(&stamp).unwrap()).unwrap();
    let finished = build_json(&root);
    assert_eq!(finished["fresh"], false, "{finished}");
    let stamp: serde_json::Value = serde_json::from_slice(&fs::read(&stamp_path).unwrap()).unwrap();
    assert_eq!(stamp["toolchain"]["sdk"], sdk.as_str());
    assert_eq!(build_json(&root)["fresh"], true);
    // A fixture is not a source.
    fs::write(root.join("tests/README.md"), "fixtures\n").unwrap();
    assert_eq!(build_json(&root)["fresh"], true);
    // A module beside the entry is.
    fs::write(root.join("helpers.py"), "LIMIT = 3\n").unwrap();
    let finished = build_json(&root);
    assert_eq!(finished["fresh"], false, "{finished}");

    // A changed plugin fails its fixture with the difference.
    edit(&root.join("app.py"), "label=\"ok\"", "label=\"fine\"");
    let out = in_plugin(&root, ["test", "--release", "otlp"]).expect_code(3);
    assert!(
        out.stdout.contains("test otlp ... FAILED"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("fine"), "{}", out.stdout);

    // A pure-Python package from PyPI listed in pyproject.toml is bundled into the component.
    fs::write(
        root.join("pyproject.toml"),
        "[project]\nname = \"py-check\"\nversion = \"0.1.0\"\ndependencies = [\"six==1.16.0\"]\n",
    )
    .unwrap();
    edit(
        &root.join("app.py"),
        "label=\"fine\"",
        "label=six.ensure_str(b\"ok\")",
    );
    edit(
        &root.join("app.py"),
        "from flowtrace_plugin",
        "import six\nfrom flowtrace_plugin",
    );
    let out = in_plugin(&root, ["test", "--release"]).expect_code(0);
    assert!(
        out.stderr
            .contains("Installing 1 Python package(s) for the plugin"),
        "{}",
        out.stderr
    );
    assert!(root.join("target/flowtrace/python/deps/six.py").is_file());
    // Dev mode loads the bundled package from there too.
    let out = in_plugin(&root, ["test"]).expect_code(0);
    assert!(
        out.stderr.contains("(dev: sources loaded at run time)"),
        "{}",
        out.stderr
    );
}

#[test]
fn python_build_errors_name_the_plugin_s_file_and_the_fix() {
    let dir = tmp();
    let root = plugin(dir.path());

    // A module whose capability is not declared: the SDK stops the build at import time.
    edit(
        &root.join("app.py"),
        "from flowtrace_plugin import",
        "from flowtrace_plugin import kv\nfrom flowtrace_plugin import",
    );
    let out = in_plugin(&root, ["build"]).expect_code(1);
    assert!(
        out.stderr.contains("File \"app.py\", line 1, in <module>"),
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
    // componentize-py's own wrapping and Rust backtrace are not the plugin's business.
    assert!(!out.stderr.contains("Stack backtrace"), "{}", out.stderr);
    assert!(!root
        .join("target/flowtrace/release/py-check-0.1.0.wasm")
        .exists());

    // Declared: it builds, and the component imports the interface.
    fs::write(
        root.join("flowtrace.toml"),
        format!("{MANIFEST}\n[capabilities]\nstorage = true\n"),
    )
    .unwrap();
    let finished = build_json(&root);
    let imports = finished["imports"].as_array().unwrap();
    assert!(
        imports
            .iter()
            .any(|i| i["import"] == "flowtrace:plugin/kv@0.1.0" && i["verdict"] == "ok"),
        "{imports:?}"
    );

    // `http` without `network`: the line to add names the hosts list.
    edit(
        &root.join("app.py"),
        "from flowtrace_plugin import kv\n",
        "from flowtrace_plugin import http\n",
    );
    let out = in_plugin(&root, ["build"]).expect_code(1);
    assert!(
        out.stderr.contains(
            "help: `flowtrace_plugin.http` needs capability `network`: add `network = { hosts \
             = [\"api.example.com\"] }` under `[capabilities]` in flowtrace.toml"
        ),
        "{}",
        out.stderr
    );

    // A syntax error: the traceback points at the plugin's own line.
    edit(
        &root.join("app.py"),
        "def evaluate(self, trace: Trace)",
        "def evaluate(self, trace: Trace",
    );
    let out = in_plugin(&root, ["build"]).expect_code(1);
    assert!(
        out.stderr.contains("File \"app.py\", line 7"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("SyntaxError"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("error: failed to compile plugin `py-check`: componentize-py failed"),
        "{}",
        out.stderr
    );
}

/// Asks a scoring service about each trace: `network` makes `flowtrace_plugin.http` usable.
const JUDGE_MANIFEST: &str = r#"[plugin]
id = "py-judge"
name = "Py Judge"
version = "0.1.0"
kind = "evaluator"
flowtrace = "^0.1"

[build]
language = "python"

[capabilities]
network = { hosts = ["api.example.com"] }

[config]
url = { type = "string", default = "https://api.example.com/v1/score" }
"#;

const JUDGE_APP: &str = r#"from flowtrace_plugin import EvalResult, Evaluator, Trace, config, export, http


@export
class Judge(Evaluator):
    def evaluate(self, trace: Trace) -> EvalResult:
        url = config.require("url", str)
        response = http.post(url, json={"trace": trace.id}, headers={"x-plugin": "judge"}, timeout=5)
        score = float(response.raise_for_status().json()["score"])
        return EvalResult.ok(score) if score >= 0.5 else EvalResult.fail(score)
"#;

/// `from flowtrace_plugin import kv` inside a method runs when the plugin is called, not when
/// it is built: without `storage = true` it fails with the build's capability help (not a
/// bare `ImportError`), and with it the module is there (its file is not, in a component).
#[test]
fn a_capability_module_imported_inside_a_method_gets_the_build_s_help() {
    let dir = tmp();
    let root = plugin(dir.path());
    edit(
        &root.join("app.py"),
        "        limit = config.require(\"max-spans\", int)\n",
        "        from flowtrace_plugin import kv\n\n        kv.set(\"seen\", \"1\")\n        \
         limit = config.require(\"max-spans\", int)\n",
    );
    let out = in_plugin(&root, ["test", "otlp"]).expect_code(3);
    assert!(
        out.stdout.contains(
            "`flowtrace_plugin.kv` needs capability `storage`: add `storage = true` under \
             `[capabilities]` in flowtrace.toml"
        ),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("ImportError"), "{}", out.stdout);

    fs::write(
        root.join("flowtrace.toml"),
        format!("{MANIFEST}\n[capabilities]\nstorage = true\n"),
    )
    .unwrap();
    in_plugin(&root, ["test", "otlp"]).expect_code(0);
}

#[test]
fn a_python_plugin_with_network_calls_its_hosts_and_only_them() {
    let dir = tmp();
    let root = dir.path().join("py-judge");
    fs::create_dir_all(root.join("tests")).unwrap();
    fs::write(root.join("flowtrace.toml"), JUDGE_MANIFEST).unwrap();
    fs::write(root.join("app.py"), JUDGE_APP).unwrap();
    let trace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../templates/rust-evaluator/tests/traces/agent.json");
    fs::copy(trace, root.join("tests/agent.json")).unwrap();
    let fixtures = [
        (
            "stubbed",
            "[[http]]\nurl = \"https://api.example.com/v1/score\"\nmethod = \"POST\"\n\
             body-json = { score = 0.25 }\n\n[expect]\npassed = false\nscore = 0.25\n",
        ),
        (
            "server-error",
            "[[http]]\nurl = \"https://api.example.com/*\"\nstatus = 503\nbody = \"busy\"\n\n\
             [expect]\nerror = \"answered 503\"\n",
        ),
        (
            "denied",
            "config = { url = \"https://elsewhere.example.org/score\" }\n\n[expect]\n\
             error = \"capability denied: POST https://elsewhere.example.org/score\"\n",
        ),
        ("unstubbed", "[expect]\npassed = true\n"),
    ];
    for (name, body) in fixtures {
        fs::write(
            root.join(format!("tests/{name}.toml")),
            format!("trace = \"agent.json\"\n{body}"),
        )
        .unwrap();
    }
    let out = in_plugin(&root, ["test"]).expect_code(3);
    for passing in ["stubbed", "server-error", "denied"] {
        assert!(
            out.stdout.contains(&format!("test {passing} ... ok")),
            "{passing}\n{}\n{}",
            out.stdout,
            out.stderr
        );
    }
    assert!(
        out.stdout.contains("test unstubbed ... FAILED"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "the plugin requested `POST https://api.example.com/v1/score`, which no `[[http]]` \
             entry stubs"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.ends_with("3 passed, 1 failed\n"),
        "{}",
        out.stdout
    );

    // The component imports wasi:http's outgoing handler, granted by `network`.
    let finished = build_json(&root);
    let imports = finished["imports"].as_array().unwrap();
    assert!(
        imports.iter().any(|i| i["import"]
            .as_str()
            .is_some_and(|name| name.starts_with("wasi:http/outgoing-handler@"))
            && i["verdict"] == "ok"),
        "{imports:?}"
    );
}

#[test]
fn a_python_plugin_without_its_entry_module_says_what_to_create() {
    let dir = tmp();
    let root = plugin(dir.path());
    fs::remove_file(root.join("app.py")).unwrap();
    let out = in_plugin(&root, ["build"]).expect_code(1);
    assert!(
        out.stderr
            .contains("error: the plugin's entry module `app.py` does not exist in"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("help: create `app.py` with the plugin class"),
        "{}",
        out.stderr
    );

    // `entry` names another file; a name Python cannot import is refused before building.
    fs::write(
        root.join("flowtrace.toml"),
        MANIFEST.replace(
            "language = \"python\"",
            "language = \"python\"\nentry = \"src/my-plugin.py\"",
        ),
    )
    .unwrap();
    fs::create_dir_all(root.join("src")).unwrap();
    fs::write(root.join("src/my-plugin.py"), APP).unwrap();
    let out = in_plugin(&root, ["build"]).expect_code(1);
    assert!(
        out.stderr
            .contains("`my-plugin` is not a Python module name"),
        "{}",
        out.stderr
    );
}

/// The SDK's own unit tests (`sdk/python/tests`: the SDK against fake hosts, and against
/// the bindings componentize-py generates for several worlds), with the shared toolchain.
#[test]
fn the_python_sdk_unit_tests_pass() {
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk/python");
    // The bindings tests need componentize-py: install it (once per run) through a build
    // of nothing, `doctor --fix`, so the tests run instead of skipping.
    let dir = tmp();
    run(python(dir.path()), ["doctor", "--fix"]);
    let output = Command::new("python3")
        .args(["-m", "unittest", "discover", "-s", "tests", "-v"])
        .current_dir(&sdk)
        .env("FLOWTRACE_TOOLCHAINS", toolchain_home().join("toolchains"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python3 runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the Python SDK's unit tests failed\n{stderr}"
    );
    assert!(!stderr.contains("skipped"), "tests were skipped:\n{stderr}");
    let ran = stderr
        .lines()
        .find_map(|l| {
            l.strip_prefix("Ran ")?
                .split(' ')
                .next()?
                .parse::<u32>()
                .ok()
        })
        .unwrap_or(0);
    assert!(ran > 100, "only {ran} tests ran:\n{stderr}");
}

/// `new` -> `test` for each Python template: every kind has a starting point that passes.
#[test]
fn every_python_template_builds_and_passes_its_fixtures() {
    let dir = tmp();
    for template in [
        "python-evaluator",
        "python-exporter",
        "python-embedder",
        "python-transformer",
    ] {
        let name = format!("my-{template}");
        run(
            python(dir.path()),
            ["new", name.as_str(), "--template", template],
        )
        .expect_code(0);
        let plugin = dir.path().join(&name);
        let out = in_plugin(&plugin, ["test"]);
        let last = out.stdout.lines().last().unwrap_or_default().to_string();
        let out = out.expect_code(0);
        assert!(
            last.ends_with(" passed, 0 failed") && !last.starts_with("0 "),
            "{template}: last line `{last}`\n{}",
            out.stdout
        );
    }
}

/// Flags LLM calls cut off by the token limit, and counts tool calls asked for, answered and
/// executed, from the normalized span facts only (see `openinference_fixture`).
const CUT_OFF_APP: &str = r#"from flowtrace_plugin import EvalResult, Evaluator, SpanKind, Trace, export


@export
class CutOff(Evaluator):
    def evaluate(self, trace: Trace) -> EvalResult:
        result = EvalResult.ok(label="ok")
        asked, answered, tools = set(), 0, 0
        for span in trace.spans_of_kind(SpanKind.LLM_CALL):
            asked |= {c.id for m in span.output_messages for c in m.tool_calls}
            answered += sum(1 for m in span.input_messages if m.tool_call_id in asked)
            if "length" in span.finish_reasons:
                result = EvalResult.fail(0.0, label="truncated")
                result.finding("cut off by the token limit", span_id=span.id)
        for span in trace.spans_of_kind(SpanKind.TOOL_CALL):
            tools += span.tool_call is not None and span.tool_call.name == "get_weather"
        return result.metric("asked", len(asked)).metric("answered", answered).metric("tools", tools)
"#;

/// A Python plugin reads the finish reasons, messages and tool calls the host normalized from
/// an OpenInference export.
#[test]
fn a_python_plugin_reads_the_span_facts_of_an_openinference_export() {
    let dir = tmp();
    let root = dir.path().join("py-cut-off");
    fs::create_dir_all(&root).unwrap();
    fs::write(
        root.join("flowtrace.toml"),
        MANIFEST.replace("py-check", "py-cut-off"),
    )
    .unwrap();
    fs::write(root.join("app.py"), CUT_OFF_APP).unwrap();
    openinference_fixture(&root);
    let out = in_plugin(&root, ["test"]).expect_code(0);
    assert!(
        out.stdout.ends_with("1 passed, 0 failed\n"),
        "{}",
        out.stdout
    );
}

/// The Python example passes its fixtures.
#[test]
fn the_sentiment_example_passes_its_fixtures() {
    let dir = tmp();
    let example = dir.path().join("sentiment-evaluator");
    copy_sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/sentiment-evaluator"),
        &example,
    );
    let out = in_plugin(&example, ["test"]).expect_code(0);
    assert!(
        out.stdout.ends_with(" passed, 0 failed\n"),
        "{}",
        out.stdout
    );
}

/// Two builds of one plugin at once take turns on its build directory: one compiles, the
/// other then finds the component fresh (it never reads a half-written build directory).
#[test]
fn two_builds_of_one_python_plugin_at_once_compile_it_once() {
    let dir = tmp();
    let root = plugin(dir.path());
    let spawn = || {
        python(&root)
            .arg("build")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the binary runs")
    };
    let (first, second) = (spawn(), spawn());
    let mut compiled = 0;
    for child in [first, second] {
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        assert!(stderr.contains("Finished plugin `py-check`"), "{stderr}");
        compiled += stderr.matches("Compiling plugin `py-check`").count();
    }
    assert_eq!(compiled, 1, "the plugin was compiled {compiled} times");
    validated(fs::read(root.join("target/flowtrace/release/py-check-0.1.0.wasm")).unwrap());
}

/// The same plugin built in two checkouts: neither component names its checkout (the
/// module path componentize-py is given is shown as `/0/`, `/1/`, ...) or
/// `$FLOWTRACE_HOME`.
#[test]
fn the_same_plugin_built_in_two_checkouts_names_neither() {
    let dir = tmp();
    let mut names = vec![
        dir.path().display().to_string(),
        toolchain_home().display().to_string(),
    ];
    let mut built = Vec::new();
    for checkout in ["one", "elsewhere/two"] {
        let root = plugin(&dir.path().join(checkout));
        in_plugin(&root, ["build"]).expect_code(0);
        built.push(fs::read(root.join("target/flowtrace/release/py-check-0.1.0.wasm")).unwrap());
        names.push(root.canonicalize().unwrap().display().to_string());
    }
    for bytes in &built {
        for name in &names {
            let at = bytes.windows(name.len()).position(|w| w == name.as_bytes());
            assert!(at.is_none(), "the component names `{name}` at {at:?}");
        }
    }
}
