//! Guest failures read in the plugin's own terms, end to end with real plugins: a Rust panic
//! (`panicked at src/lib.rs:L:C: message`), a Python or JavaScript exception (its type,
//! message and place, and the plugin's own frames under `-v`), and a stack overflow in each
//! language (deep recursion), through `test` and `eval`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::build::guest_target;
use crate::support::{flowtrace, run, tmp, toolchain_home, Run};

/// The binary, with the shared toolchains and guest target directory.
fn bin(dir: &Path) -> Command {
    let mut command = flowtrace(dir);
    command
        .env("FLOWTRACE_HOME", toolchain_home())
        .env("CARGO_TARGET_DIR", guest_target());
    command
}

/// A plugin from `template` named `name` in `dir` whose `evaluate` does what the config
/// `mode` says (`panic`, the default, or `overflow`), with one fixture per mode expecting a
/// pass; `source` replaces the template's entry file `entry`.
fn failing_plugin(dir: &Path, name: &str, template: &str, entry: &str, source: &str) -> PathBuf {
    run(bin(dir), ["new", name, "--template", template]).expect_code(0);
    let plugin = dir.join(name);
    let manifest = plugin.join("flowtrace.toml");
    let text = fs::read_to_string(&manifest).unwrap();
    let start = text.find("[config]").expect("the template has a [config]");
    let end = text[start..].find("\n\n").map_or(text.len(), |e| start + e);
    let text = format!(
        "{}[config]\nmode = {{ type = \"string\", default = \"panic\" }}{}",
        &text[..start],
        &text[end..]
    );
    fs::write(&manifest, text).unwrap();
    for entry in fs::read_dir(plugin.join("tests")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml" || e == "json") {
            fs::remove_file(path).unwrap();
        }
    }
    let _ = fs::remove_dir_all(plugin.join("tests/snapshots"));
    for mode in ["panic", "overflow"] {
        fs::write(
            plugin.join(format!("tests/{mode}.toml")),
            format!(
                "description = \"{mode}\"\ntrace = \"traces/agent.json\"\n\
                 config = {{ mode = \"{mode}\" }}\n[expect]\npassed = true\n"
            ),
        )
        .unwrap();
    }
    fs::write(plugin.join(entry), source).unwrap();
    plugin
}

/// `test` in `plugin` with `args`: every case fails.
fn test(plugin: &Path, args: &[&str]) -> Run {
    let mut all = vec!["test"];
    all.extend_from_slice(args);
    run(bin(plugin), all).expect_code(3)
}

/// The line of `out` that starts with `prefix`.
#[track_caller]
fn line<'a>(out: &'a str, prefix: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in:\n{out}"))
}

const RUST: &str = r#"use flowtrace_plugin_sdk::{config, export_evaluator, EvalResult, Evaluator, PluginError, Trace};

struct Plugin;

fn deep(n: u64) -> u64 {
    let buf = std::hint::black_box([n; 64]);
    if n == 0 { 0 } else { deep(n - 1) + buf[3] }
}

impl Evaluator for Plugin {
    fn evaluate(trace: &Trace<'_>) -> Result<EvalResult, PluginError> {
        let mode: String = config::get("mode")?;
        match mode.as_str() {
            "panic" => {
                let spans: Vec<u32> = Vec::new();
                let _ = spans[trace.span_count() as usize + 2];
            }
            "overflow" => {
                let _ = deep(std::hint::black_box(u64::MAX));
            }
            _ => {}
        }
        Ok(EvalResult::pass(1.0))
    }
}

export_evaluator!(Plugin);
"#;

#[test]
fn a_rust_panic_says_where_and_why_and_a_deep_recursion_says_it_overflowed() {
    let dir = tmp();
    let plugin = failing_plugin(dir.path(), "fail-rs", "rust-evaluator", "src/lib.rs", RUST);
    let out = test(&plugin, &[]);
    assert_eq!(
        line(&out.stdout, "the call failed: plugin `fail-rs` panicked"),
        "the call failed: plugin `fail-rs` panicked at src/lib.rs:16:30: \
         index out of bounds: the len is 0 but the index is 5"
    );
    assert_eq!(
        line(&out.stdout, "the call failed: plugin `fail-rs` overflowed"),
        "the call failed: plugin `fail-rs` overflowed its stack in fail_rs::deep; is there a \
         recursion without an end, or one as deep as the input? bound its depth or make it a loop"
    );
    // No wasm backtrace in the headline; it is behind `-v`.
    assert!(!out.stdout.contains("wasm backtrace"), "{}", out.stdout);
    assert!(!out.stdout.contains("plugin backtrace:"), "{}", out.stdout);
    line(
        &out.stdout,
        "note: run with `-v` for the plugin's backtrace",
    );

    let verbose = test(&plugin, &["-v", "panic"]);
    let backtrace = &verbose.stdout[verbose.stdout.find("plugin backtrace:").unwrap()..];
    // The panic machinery is left out, names are demangled without their hashes.
    let frames: Vec<&str> = backtrace.lines().skip(1).take(3).collect();
    assert_eq!(
        frames,
        [
            "   0: <usize as core::slice::index::SliceIndex<[T]>>::index",
            "   1: <alloc::vec::Vec<T,A> as core::ops::index::Index<I>>::index",
            "   2: <fail_rs::Plugin as flowtrace_plugin_sdk::kinds::evaluator::Evaluator>::evaluate",
        ],
        "{}",
        verbose.stdout
    );

    // JUnit XML, read once in CI, carries the backtrace whole.
    let junit = plugin.join("junit.xml");
    run(bin(&plugin), ["test", "--junit", junit.to_str().unwrap()]).expect_code(3);
    let xml = fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("plugin backtrace:"), "{xml}");
    assert!(
        xml.contains("fail_rs::Plugin as flowtrace_plugin_sdk::kinds::evaluator::Evaluator"),
        "{xml}"
    );

    // `eval` says the same on the trace's line, and calls it a trap.
    let out = run(
        bin(&plugin),
        [
            "eval",
            ".",
            "tests/traces/agent.json",
            "--message-format",
            "json",
        ],
    );
    let record = out
        .json_lines()
        .into_iter()
        .find(|m| m["reason"] == "eval-result")
        .unwrap_or_else(|| panic!("no record: {}", out.stdout));
    let error = &record["error"];
    assert_eq!(error["kind"], "trap", "{record}");
    assert_eq!(
        error["message"],
        "panicked at src/lib.rs:16:30: index out of bounds: the len is 0 but the index is 5"
    );
}

const PYTHON: &str = r#"from flowtrace_plugin import EvalResult, Evaluator, Trace, config, export


def deep(n):
    return deep(n + 1) + 1


def check(trace):
    raise ValueError(f"bad trace with {trace.span_count} spans")


@export
class Plugin(Evaluator):
    def evaluate(self, trace: Trace) -> EvalResult:
        mode = config.require("mode", str)
        if mode == "panic":
            check(trace)
        if mode == "overflow":
            deep(0)
        return EvalResult.ok()
"#;

#[test]
fn a_python_exception_shows_its_place_and_the_plugin_s_own_traceback() {
    let dir = tmp();
    let plugin = failing_plugin(dir.path(), "fail-py", "python-evaluator", "app.py", PYTHON);
    let out = test(&plugin, &["-v"]);
    assert_eq!(
        line(&out.stdout, "the call failed: plugin `fail-py` raised"),
        "the call failed: plugin `fail-py` raised ValueError: bad trace with 3 spans (at app.py:9 in check)"
    );
    // The case `overflow` comes first: this backtrace follows the `raised` line.
    let raised = out.stdout.find("plugin `fail-py` raised").unwrap();
    let frames: Vec<&str> = out.stdout[raised..].lines().skip(1).take(4).collect();
    assert_eq!(
        frames,
        [
            "plugin backtrace:",
            "   0: app.py:9 in check",
            "   1: app.py:17 in evaluate",
            ""
        ],
        "{}",
        out.stdout
    );
    assert_eq!(
        line(&out.stdout, "the call failed: plugin `fail-py` overflowed"),
        "the call failed: plugin `fail-py` overflowed its stack (RecursionError: maximum \
         recursion depth exceeded (at app.py:5 in deep)); is there a recursion without an end, \
         or one as deep as the input? bound its depth or make it a loop"
    );
    assert!(line(&out.stdout, "   1: ... the frame above ").ends_with(" more times"));
    // Neither componentize-py's mount points nor the SDK's frames.
    assert!(!out.stdout.contains("\"/1/"), "{}", out.stdout);
    assert!(!out.stdout.contains("_bridge.py"), "{}", out.stdout);
}

const TYPESCRIPT: &str = r#"import { config, defineEvaluator, EvalResult } from "@flowtrace/plugin-sdk";

function deep(n: number): number {
  return deep(n + 1) + 1;
}

function check(spans: number): never {
  throw new TypeError(`bad trace with ${spans} spans`);
}

export const evaluator = defineEvaluator({
  evaluate(trace) {
    const mode = config.string("mode");
    if (mode === "panic") {
      check(trace.spanCount);
    }
    if (mode === "overflow") {
      deep(0);
    }
    return EvalResult.pass();
  },
});
"#;

#[test]
fn a_javascript_exception_shows_its_message_and_place_in_the_typescript_source() {
    let dir = tmp();
    let plugin = failing_plugin(
        dir.path(),
        "fail-ts",
        "typescript-evaluator",
        "src/index.ts",
        TYPESCRIPT,
    );
    // The dev engine of `test` (the bundle's source map given to the runtime with the
    // bundle) and the component of `build --release` (the source map embedded) tell it
    // the same.
    assert_failures_mapped(&test(&plugin, &["-v"]));
    assert_failures_mapped(&test(&plugin, &["-v", "--release"]));
    // The component names no path of the machine that built it in its source map.
    let component = fs::read(plugin.join("target/flowtrace/release/fail-ts-0.1.0.wasm")).unwrap();
    let map_at = component
        .windows(b"flowtrace-source-map".len())
        .position(|w| w == b"flowtrace-source-map")
        .expect("the component carries the source map");
    let map = String::from_utf8_lossy(&component[map_at..]);
    assert!(map.contains("\"src/index.ts\""), "{map}");
    assert!(map.contains("\"@flowtrace/plugin-sdk/bridge.ts\""), "{map}");
    assert!(
        !map.contains(&*dir.path().to_string_lossy()),
        "the source map names the build directory"
    );
}

/// What `test -v` of the failing TypeScript plugin says, in either mode.
#[track_caller]
fn assert_failures_mapped(out: &Run) {
    // Positions in the bundle, mapped back through the bundle's source map.
    assert_eq!(
        line(&out.stdout, "the call failed: plugin `fail-ts` raised"),
        "the call failed: plugin `fail-ts` raised TypeError: bad trace with 3 spans \
         (at src/index.ts:8:9 in check)"
    );
    let raised = out.stdout.find("plugin `fail-ts` raised").unwrap();
    let frames: Vec<&str> = out.stdout[raised..].lines().skip(1).take(4).collect();
    // The SDK's own frames (its export bridge) are left out.
    assert_eq!(
        frames,
        [
            "plugin backtrace:",
            "   0: src/index.ts:8:9 in check",
            "   1: src/index.ts:15:7 in evaluate",
            ""
        ],
        "{}",
        out.stdout
    );
    assert_eq!(
        line(&out.stdout, "the call failed: plugin `fail-ts` overflowed"),
        "the call failed: plugin `fail-ts` overflowed its stack (InternalError: too much \
         recursion (at src/index.ts:4:10 in deep)); is there a recursion without an end, or \
         one as deep as the input? bound its depth or make it a loop"
    );
    // componentize-js's own frames (a path of the machine that built it) are left out.
    assert!(!out.stdout.contains("initializer.js"), "{}", out.stdout);
}
