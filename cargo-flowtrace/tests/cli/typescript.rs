//! TypeScript plugins end to end: scaffolded from the template (or copied from the example),
//! bundled by real esbuild, built by real componentize-js, run in the host; the SDK's own
//! unit tests; and the build errors a TypeScript author meets.
//!
//! The tests share one `$FLOWTRACE_HOME` under the target directory for the toolchain:
//! esbuild and componentize-js (about 400 MB) are installed by the first build that needs
//! them, under the toolchains lock, once per target directory. A TypeScript build takes
//! about 8 s and loading its 12 MB component about 9 s, so the tests build as few plugins
//! as they can and check everything they can on each.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use cargo_flowtrace::cli::{ColorChoice, MessageFormat};
use cargo_flowtrace::lang::typescript::toolchain as node;
use cargo_flowtrace::term::{Term, Verbosity};

use crate::build::edit;
use crate::support::{
    assert_golden, copy_sources, flowtrace, normalize, openinference_fixture, run, tmp,
    toolchain_home, validated, Run,
};

/// The binary in `dir`, with the shared toolchain.
fn ts(dir: &Path) -> Command {
    let mut command = flowtrace(dir);
    command.env("FLOWTRACE_HOME", toolchain_home());
    command
}

/// `new <name> --template typescript-evaluator` in `dir`; the plugin's directory.
fn new_plugin(dir: &Path, name: &str) -> PathBuf {
    run(ts(dir), ["new", name, "--template", "typescript-evaluator"]).expect_code(0);
    dir.join(name)
}

/// Where `build` writes the plugin `id` of `plugin`.
fn artefact(plugin: &Path, id: &str) -> PathBuf {
    plugin
        .join("target/flowtrace/release")
        .join(format!("{id}-0.1.0.wasm"))
}

/// The imports of the component at `path`, after validating it.
fn imports(path: &Path) -> Vec<String> {
    let bytes = validated(fs::read(path).unwrap());
    let inspection = flowtrace_plugins::inspect::inspect(&bytes).unwrap();
    inspection.imports.iter().map(|i| i.name.clone()).collect()
}

#[track_caller]
fn assert_all_passed(out: &Run, count: usize) {
    let last = out.stdout.lines().last().unwrap_or_default();
    assert_eq!(last, format!("{count} passed, 0 failed"), "{}", out.stdout);
    assert!(out.stdout.contains("test result: ok."), "{}", out.stdout);
}

/// Flags LLM calls cut off by the token limit, and counts tool calls asked for, answered and
/// executed, from the normalized span facts only (see `openinference_fixture`).
const CUT_OFF: &str = r#"import { defineEvaluator, EvalResult, SpanKind } from "@flowtrace/plugin-sdk";

export const evaluator = defineEvaluator({
  evaluate(trace) {
    let result = EvalResult.pass(1, { label: "ok" });
    const asked = new Set<string | undefined>();
    let answered = 0;
    let tools = 0;
    for (const span of trace.spansOfKind(SpanKind.LlmCall)) {
      for (const m of span.outputMessages()) for (const c of m.toolCalls) asked.add(c.id);
      answered += span.inputMessages().filter((m) => asked.has(m.toolCallId)).length;
      if (span.finishReasons().includes("length")) {
        result = EvalResult.fail(0, { label: "truncated" });
        result.finding("cut off by the token limit", span.id());
      }
    }
    for (const span of trace.spansOfKind(SpanKind.ToolCall)) {
      if (span.toolCall()?.name === "get_weather") tools += 1;
    }
    return result.metric("asked", asked.size).metric("answered", answered).metric("tools", tools);
  },
});
"#;

/// A TypeScript plugin reads the finish reasons, messages and tool calls the host normalized
/// from an OpenInference export.
#[test]
fn a_typescript_plugin_reads_the_span_facts_of_an_openinference_export() {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "ts-cut-off");
    fs::write(plugin.join("src/index.ts"), CUT_OFF).unwrap();
    openinference_fixture(&plugin);
    let out = run(ts(&plugin), ["test"]).expect_code(0);
    assert_all_passed(&out, 1);
}

#[test]
fn the_template_builds_passes_its_tests_and_is_not_rebuilt_unchanged() {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "ts-evaluator");

    let out = run(ts(&plugin), ["build"]).expect_code(0);
    assert!(
        out.stderr.contains(&format!(
            "Compiling plugin `ts-evaluator` v0.1.0 (esbuild {}, componentize-js {})",
            node::ESBUILD_VERSION,
            node::COMPONENTIZE_JS_VERSION
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("Finished plugin `ts-evaluator` v0.1.0 in "),
        "{}",
        out.stderr
    );
    let path = artefact(&plugin, "ts-evaluator");
    let bytes = validated(fs::read(&path).unwrap());
    let inspection = flowtrace_plugins::inspect::inspect(&bytes).unwrap();
    let manifest = fs::read_to_string(plugin.join("flowtrace.toml")).unwrap();
    assert_eq!(
        inspection.embedded_manifest.as_deref(),
        Some(manifest.as_str())
    );
    let names = imports(&path);
    for granted in ["log", "config"] {
        let name = format!("flowtrace:plugin/{granted}@0.1.0");
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    // No `network`: componentize-js was told to leave out `fetch` (wasi:http); nor its
    // `stdio` feature (the SDK routes `console` to the plugin log), which would bring
    // stdin, stdout, terminals and the filesystem.
    for left_out in [
        "wasi:http/",
        "wasi:filesystem/",
        "wasi:cli/stdout",
        "wasi:cli/stdin",
    ] {
        assert!(
            !names.iter().any(|n| n.starts_with(left_out)),
            "{left_out} in {names:?}"
        );
    }
    // The SDK copy the template's tsconfig.json points editors at.
    assert!(plugin
        .join("target/flowtrace/typescript/sdk/src/index.ts")
        .is_file());

    // Unchanged: the stamp says so, componentize-js does not run.
    let out = run(ts(&plugin), ["build", "--message-format", "json"]).expect_code(0);
    let finished = &out.json_lines()[0];
    assert_eq!(finished["reason"], "build-finished");
    assert_eq!(finished["fresh"], true, "{}", out.stdout);
    assert_eq!(finished["sha256"], inspection.sha256);
    assert!(!out.stderr.contains("Compiling"), "{}", out.stderr);

    let out = run(ts(&plugin), ["test"]).expect_code(0);
    assert_all_passed(&out, 4);
}

/// `new` -> `test` and `test --release` for the other kinds' templates: each passes every
/// fixture it comes with (the same fixtures, traces and snapshots as the Rust and Python
/// templates of its kind) in the dev engine and as the component `build --release` makes,
/// with the same results; both export the kind's interface and import the same.
#[test]
fn the_exporter_embedder_and_transformer_templates_build_and_pass_their_fixtures() {
    let dir = tmp();
    for (kind, fixtures) in [("exporter", 3), ("embedder", 2), ("transformer", 3)] {
        let template = format!("typescript-{kind}");
        let name = format!("my-{template}");
        run(ts(dir.path()), ["new", &name, "--template", &template]).expect_code(0);
        let plugin = dir.path().join(&name);

        let dev = run(ts(&plugin), ["test", "--message-format", "json"]).expect_code(0);
        let release = run(
            ts(&plugin),
            ["test", "--release", "--message-format", "json"],
        )
        .expect_code(0);
        let results = case_results(&dev);
        assert_eq!(results.len(), fixtures, "{template}: {}", dev.stdout);
        assert!(
            results.iter().all(|(_, status, _)| status == "ok"),
            "{results:?}"
        );
        assert_eq!(results, case_results(&release), "{template}");
        let interface = format!("flowtrace:plugin/{kind}@0.1.0");
        for path in [artefact(&plugin, &name), dev_artefact(&plugin, &name)] {
            let bytes = validated(fs::read(&path).unwrap());
            let inspection = flowtrace_plugins::inspect::inspect(&bytes).unwrap();
            assert!(
                inspection.export(&interface).is_some(),
                "{}: {interface} not exported",
                path.display()
            );
        }
        assert_eq!(
            sorted(imports(&dev_artefact(&plugin, &name))),
            sorted(imports(&artefact(&plugin, &name))),
            "{template}"
        );
    }
}

/// Where `test` (without `--release`) writes the dev engine of plugin `id`, its manifest
/// embedded.
fn dev_artefact(plugin: &Path, id: &str) -> PathBuf {
    plugin
        .join("target/flowtrace/debug")
        .join(format!("{id}-0.1.0.wasm"))
}

fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names
}

/// Each case of a `test --message-format json` run: its name, status and result.
fn case_results(out: &Run) -> Vec<(String, String, serde_json::Value)> {
    let mut cases: Vec<_> = out
        .json_lines()
        .into_iter()
        .filter(|m| m["reason"] == "test-case")
        .map(|m| {
            (
                m["name"].as_str().unwrap().to_string(),
                m["status"].as_str().unwrap().to_string(),
                m["result"].clone(),
            )
        })
        .collect();
    cases.sort_by(|a, b| a.0.cmp(&b.0));
    cases
}

/// The dev engines in the shared toolchain home (not their compiled code), with their
/// modification times.
fn engines() -> Vec<(PathBuf, std::time::SystemTime)> {
    let dir = cargo_flowtrace::lang::typescript::engine::engines_dir(&toolchain_home());
    let Ok(entries) = fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut engines: Vec<_> = entries
        .map(|e| {
            let e = e.unwrap();
            (e.path(), e.metadata().unwrap().modified().unwrap())
        })
        .filter(|(path, _)| path.extension().is_some_and(|e| e == "wasm"))
        .collect();
    engines.sort();
    engines
}

/// `test` runs the template in the dev engine with the results `test --release` gets from
/// the snapshot componentize-js makes; then an edit of `src/index.ts` is picked up by the
/// next `test` without a componentize-js run: no engine is built, the dev component is
/// the same file, only the bundle handed to it changed.
#[test]
fn test_runs_the_dev_engine_as_the_release_build_and_picks_up_edits_without_componentize_js() {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "ts-dev");

    let dev = run(ts(&plugin), ["test", "--message-format", "json"]).expect_code(0);
    assert!(
        dev.stderr.contains(&format!(
            "Compiling plugin `ts-dev` v0.1.0 (esbuild {}, into the dev engine)",
            node::ESBUILD_VERSION
        )),
        "{}",
        dev.stderr
    );
    let finished = &dev.json_lines()[0];
    assert_eq!(finished["reason"], "build-finished");
    assert_eq!(finished["profile"], "dev");
    // The dev build leaves the release build alone: there is none yet.
    assert!(!artefact(&plugin, "ts-dev").exists());
    let release = run(
        ts(&plugin),
        ["test", "--release", "--message-format", "json"],
    )
    .expect_code(0);
    let results = case_results(&dev);
    assert_eq!(results.len(), 4, "{}", dev.stdout);
    assert!(
        results.iter().all(|(_, status, _)| status == "ok"),
        "{results:?}"
    );
    assert!(
        results.iter().all(|(_, _, result)| result.is_object()),
        "{results:?}"
    );
    assert_eq!(results, case_results(&release));

    // The engine asks the host for exactly what the snapshot does; it also exports the
    // loader the harness hands the bundle to, which the release build does not.
    let engine_path = dev_artefact(&plugin, "ts-dev");
    let release_path = artefact(&plugin, "ts-dev");
    assert_eq!(
        sorted(imports(&engine_path)),
        sorted(imports(&release_path))
    );
    let engine_bytes = validated(fs::read(&engine_path).unwrap());
    let inspection = flowtrace_plugins::inspect::inspect(&engine_bytes).unwrap();
    assert!(inspection
        .export(flowtrace_plugins::PRELOAD_INTERFACE)
        .is_some());
    assert!(inspection
        .export("flowtrace:plugin/evaluator@0.1.0")
        .is_some());
    let release_bytes = fs::read(&release_path).unwrap();
    let release_inspection = flowtrace_plugins::inspect::inspect(&release_bytes).unwrap();
    assert!(release_inspection
        .export(flowtrace_plugins::PRELOAD_INTERFACE)
        .is_none());

    // An edit: the `ok` case now gets the label `fine`.
    let engines_before = engines();
    assert!(!engines_before.is_empty());
    let release_modified = fs::metadata(&release_path).unwrap().modified().unwrap();
    edit(
        &plugin.join("src/index.ts"),
        ": slow > 0 ? \"slow\" : \"ok\";",
        ": slow > 0 ? \"slow\" : \"fine\";",
    );
    let edited = run(ts(&plugin), ["test", "--message-format", "json"]).expect_code(3);
    assert!(
        !edited.stderr.contains("componentize-js"),
        "{}",
        edited.stderr
    );
    assert!(!edited.stderr.contains("Building"), "{}", edited.stderr);
    assert_eq!(engines(), engines_before, "an engine was built");
    assert_eq!(fs::read(&engine_path).unwrap(), engine_bytes);
    assert_eq!(
        fs::metadata(&release_path).unwrap().modified().unwrap(),
        release_modified
    );
    let bundle =
        fs::read_to_string(plugin.join("target/flowtrace/typescript/plugin-dev.js")).unwrap();
    assert!(bundle.contains("\"fine\""), "the bundle has not the edit");
    // Every result is as before, `fine` where it was `ok`; only the `ok` case checks it.
    let expected: Vec<_> = results
        .iter()
        .map(|(name, status, result)| {
            let mut result = result.clone();
            if result["label"] == "ok" {
                result["label"] = "fine".into();
            }
            let status = if name == "ok" {
                "failed"
            } else {
                status.as_str()
            };
            (name.clone(), status.to_string(), result)
        })
        .collect();
    assert_ne!(expected, results);
    assert_eq!(case_results(&edited), expected);

    // And back: the next `test` passes again, still in the same engine.
    edit(
        &plugin.join("src/index.ts"),
        ": slow > 0 ? \"slow\" : \"fine\";",
        ": slow > 0 ? \"slow\" : \"ok\";",
    );
    let back = run(ts(&plugin), ["test", "--message-format", "json"]).expect_code(0);
    assert_eq!(case_results(&back), results);
    assert_eq!(engines(), engines_before);

    // A host function called at the top level of a module fails, as it fails the build of
    // the snapshot (there is no host while componentize-js initialises the engine).
    edit(
        &plugin.join("src/index.ts"),
        "export const evaluator = defineEvaluator({",
        "export const early = config.integer(\"max-span-ms\");\n\
         export const evaluator = defineEvaluator({",
    );
    let out = run(ts(&plugin), ["test", "ok"]).expect_code(3);
    assert!(
        out.stdout.contains(
            "the call failed: plugin `ts-dev` raised Error: `flowtrace:plugin/config@0.1.0` was \
             called at the top level of a module, where a built plugin has no host yet: call it \
             from the plugin's methods (at src/index.ts:16:29)"
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn an_sdk_module_without_its_capability_fails_the_build_at_the_import() {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "ts-kv");
    let index = plugin.join("src/index.ts");
    edit(
        &index,
        "} from \"@flowtrace/plugin-sdk\";\n",
        "} from \"@flowtrace/plugin-sdk\";\nimport * as kv from \"@flowtrace/plugin-sdk/kv\";\n",
    );
    edit(
        &index,
        "    const maxMs = config.integer(\"max-span-ms\");\n",
        "    const maxMs = config.integer(\"max-span-ms\");\n    \
         kv.set(\"runs\", String(Number(kv.getText(\"runs\") ?? \"0\") + 1));\n",
    );
    let out = run(ts(&plugin), ["build", "-q"]).expect_code(1);
    assert_golden(
        "typescript/undeclared-sdk-module.stderr",
        &normalize(&out.stderr, dir.path()),
    );
    assert!(!artefact(&plugin, "ts-kv").exists());

    // The host interface imported by its own name is caught the same way.
    edit(
        &index,
        "import * as kv from \"@flowtrace/plugin-sdk/kv\";",
        "import * as kv from \"flowtrace:plugin/kv@0.1.0\";",
    );
    let out = run(ts(&plugin), ["build", "-q"]).expect_code(1);
    assert!(
        out.stderr.contains(
            "`flowtrace:plugin/kv@0.1.0` needs the capability `storage`, which this plugin \
             does not declare"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("help: add `storage = true` under `[capabilities]` in flowtrace.toml"),
        "{}",
        out.stderr
    );

    // Declared, it builds, imports `kv`, and the store works in the host.
    edit(
        &index,
        "import * as kv from \"flowtrace:plugin/kv@0.1.0\";",
        "import * as kv from \"@flowtrace/plugin-sdk/kv\";",
    );
    fs::write(
        plugin.join("flowtrace.toml"),
        fs::read_to_string(plugin.join("flowtrace.toml")).unwrap()
            + "\n[capabilities]\nstorage = true\n",
    )
    .unwrap();
    // In the dev engine of its kind and capabilities, and as built.
    let out = run(ts(&plugin), ["test"]).expect_code(0);
    assert_all_passed(&out, 4);
    let out = run(ts(&plugin), ["test", "--release"]).expect_code(0);
    assert_all_passed(&out, 4);
    for path in [artefact(&plugin, "ts-kv"), dev_artefact(&plugin, "ts-kv")] {
        let names = imports(&path);
        assert!(
            names.iter().any(|n| n == "flowtrace:plugin/kv@0.1.0"),
            "{}: {names:?}",
            path.display()
        );
    }
}

/// `build` type-checks with the managed TypeScript: a type error fails it with tsc's
/// diagnostic and the way to skip the check; `--no-typecheck` builds anyway. `new` says
/// what `npm run typecheck` needs.
#[test]
fn type_errors_fail_the_build_unless_the_check_is_skipped() {
    let dir = tmp();
    let out = run(
        ts(dir.path()),
        ["new", "ts-types", "--template", "typescript-evaluator"],
    )
    .expect_code(0);
    assert!(
        out.stderr.contains("run `npm install` first"),
        "{}",
        out.stderr
    );
    let plugin = dir.path().join("ts-types");
    edit(
        &plugin.join("src/index.ts"),
        "export const evaluator = ",
        "const limit: number = \"ten\";\nexport const evaluator = ",
    );
    let out = run(ts(&plugin), ["build"]).expect_code(1);
    assert!(
        out.stderr
            .contains("error TS2322: Type 'string' is not assignable to type 'number'."),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("error: the plugin does not type-check: 1 type error"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("`--no-typecheck`"), "{}", out.stderr);
    assert!(!artefact(&plugin, "ts-types").exists());

    let out = run(ts(&plugin), ["build", "--no-typecheck"]).expect_code(0);
    assert!(!out.stderr.contains("Checking types"), "{}", out.stderr);
    assert!(artefact(&plugin, "ts-types").exists());
}

#[test]
fn bundling_errors_name_the_file_and_line() {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "ts-broken");
    let index = plugin.join("src/index.ts");
    let good = fs::read_to_string(&index).unwrap();

    edit(&index, "    let errors = 0;", "    let errors = 0 +;");
    let out = run(ts(&plugin), ["build", "-q"]).expect_code(1);
    assert_golden(
        "typescript/syntax-error.stderr",
        &normalize(&out.stderr, dir.path()),
    );

    fs::write(&index, &good).unwrap();
    edit(
        &index,
        "export const evaluator = ",
        "export const myEvaluator = ",
    );
    let out = run(ts(&plugin), ["build", "-q"]).expect_code(1);
    assert_golden(
        "typescript/missing-export.stderr",
        &normalize(&out.stderr, dir.path()),
    );

    fs::write(&index, &good).unwrap();
    edit(
        &index,
        "} from \"@flowtrace/plugin-sdk\";\n",
        "} from \"@flowtrace/plugin-sdk\";\nimport { readFileSync } from \"node:fs\";\n\
         import leftPad from \"left-pad\";\nconsole.log(readFileSync, leftPad);\n",
    );
    let out = run(ts(&plugin), ["build", "-q"]).expect_code(1);
    assert_golden(
        "typescript/unresolved-imports.stderr",
        &normalize(&out.stderr, dir.path()),
    );
    assert!(!artefact(&plugin, "ts-broken").exists());
}

#[test]
fn npm_dependencies_are_installed_and_bundled() {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "ts-deps");
    // A local package: `npm install` links it without the registry.
    let vendor = plugin.join("vendor/slow-rule");
    fs::create_dir_all(&vendor).unwrap();
    fs::write(
        vendor.join("package.json"),
        r#"{"name": "slow-rule", "version": "1.0.0", "type": "module", "main": "index.js", "types": "index.d.ts"}"#,
    )
    .unwrap();
    // Its declarations, which the build's type check reads as an editor would.
    fs::write(
        vendor.join("index.d.ts"),
        "export declare const limitMs: (configured: number) => number;\n",
    )
    .unwrap();
    fs::write(
        vendor.join("index.js"),
        "export const limitMs = (configured) => Math.max(configured, 1); // slow-rule marker
",
    )
    .unwrap();
    edit(
        &plugin.join("package.json"),
        "\"dependencies\": {}",
        "\"dependencies\": { \"slow-rule\": \"file:./vendor/slow-rule\" }",
    );
    let index = plugin.join("src/index.ts");
    edit(
        &index,
        "} from \"@flowtrace/plugin-sdk\";\n",
        "} from \"@flowtrace/plugin-sdk\";\nimport { limitMs } from \"slow-rule\";\n",
    );
    edit(
        &index,
        "config.integer(\"max-span-ms\")",
        "limitMs(config.integer(\"max-span-ms\"))",
    );

    let out = run(ts(&plugin), ["build"]).expect_code(0);
    assert!(
        out.stderr
            .contains("Installing 1 npm package(s) of the plugin (`npm install`)"),
        "{}",
        out.stderr
    );
    assert!(plugin.join("node_modules/slow-rule").exists());
    let bundle = fs::read_to_string(plugin.join("target/flowtrace/typescript/plugin.js")).unwrap();
    // esbuild heads each bundled module with its path (the link resolved).
    assert!(
        bundle.contains("// vendor/slow-rule/index.js"),
        "the package is bundled"
    );
    imports(&artefact(&plugin, "ts-deps"));

    // Installed once: the next build neither installs nor rebuilds.
    let out = run(ts(&plugin), ["build"]).expect_code(0);
    assert!(!out.stderr.contains("Installing"), "{}", out.stderr);
    assert!(!out.stderr.contains("Compiling"), "{}", out.stderr);
}

#[test]
fn the_typescript_example_passes_its_tests() {
    let dir = tmp();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/agent-budget");
    let plugin = dir.path().join("agent-budget");
    copy_sources(&example, &plugin);
    let out = run(ts(&plugin), ["test"]).expect_code(0);
    assert_all_passed(&out, 6);
}

#[test]
fn the_sdk_unit_tests_pass() {
    let term = Term::new(MessageFormat::Human, Verbosity::Quiet, ColorChoice::Never);
    let tools = node::ensure_node_tools(&term, &toolchain_home())
        .expect("esbuild and componentize-js install (Node.js and npm are needed)");
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk/typescript");
    let out_dir = tmp();
    let output = Command::new("node")
        .arg(sdk.join("tests/run.mjs"))
        .arg(&tools.esbuild)
        .arg(out_dir.path())
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the SDK's unit tests failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    let passed = stdout
        .lines()
        .find_map(|l| l.strip_prefix("# pass "))
        .and_then(|n| n.trim().parse::<u32>().ok())
        .unwrap_or(0);
    assert!(passed >= 20, "{passed} SDK tests passed\n{stdout}");
    assert!(stdout.lines().any(|l| l == "# fail 0"), "{stdout}");
}

/// The offsets in `bytes` where `needle` occurs.
fn occurrences(bytes: &[u8], needle: &[u8]) -> Vec<usize> {
    bytes
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect()
}

/// The same plugin built in two checkouts: neither component names its checkout, the
/// build directory componentize-js ran in or `$FLOWTRACE_HOME`. (The two are not the same
/// bytes: componentize-js's snapshot of the initialised engine differs from one run to the
/// next even in one checkout.)
#[test]
fn the_same_plugin_built_in_two_checkouts_names_neither() {
    let dir = tmp();
    let mut names = vec![
        dir.path().display().to_string(),
        toolchain_home().display().to_string(),
    ];
    let mut built = Vec::new();
    for checkout in ["one", "elsewhere/two"] {
        let parent = dir.path().join(checkout);
        fs::create_dir_all(&parent).unwrap();
        let plugin = new_plugin(&parent, "ts-twice");
        run(ts(&plugin), ["build"]).expect_code(0);
        built.push(fs::read(artefact(&plugin, "ts-twice")).unwrap());
        names.push(plugin.canonicalize().unwrap().display().to_string());
    }
    for bytes in &built {
        validated(bytes.clone());
        for name in &names {
            let at = occurrences(bytes, name.as_bytes());
            assert!(at.is_empty(), "the component names `{name}` at {at:?}");
        }
    }
}
