//! Running the binary and comparing with golden files.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The binary under test, with an environment that does not leak the developer's settings
/// into golden output: no colours, no log filter, no CI-specific behaviour, a private
/// `$FLOWTRACE_HOME` and an empty git configuration.
pub fn flowtrace(home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-flowtrace"));
    command
        .env("FLOWTRACE_HOME", home.join("flowtrace-home"))
        .env("NO_COLOR", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", home.join("gitconfig"))
        .env_remove("FLOWTRACE_LOG")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("COLUMNS")
        // Annotations are printed only where a test asks for them.
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_WORKSPACE")
        .env_remove("CARGO_TARGET_DIR")
        .current_dir(home);
    command
}

/// What a run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Panic with everything printed unless the exit code is `code`.
    #[track_caller]
    pub fn expect_code(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "exit code {} (expected {code})\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    /// Every stdout line parsed as JSON.
    #[track_caller]
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line}"))
            })
            .collect()
    }
}

/// Run `command` with `args` to completion.
pub fn run<I, S>(mut command: Command, args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let output = command.args(args).output().expect("the binary runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// A temporary directory to run in.
pub fn tmp() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("flowtrace-cli-")
        .tempdir()
        .expect("a temporary directory")
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn blessing() -> bool {
    std::env::var_os("BLESS").is_some_and(|v| v == "1")
}

/// `text` with `dir` (and its canonical form) written as `[TMP]`, for golden files.
pub fn normalize(text: &str, dir: &Path) -> String {
    let mut out = text.to_string();
    if let Ok(canonical) = dir.canonicalize() {
        out = out.replace(&canonical.display().to_string(), "[TMP]");
    }
    out.replace(&dir.display().to_string(), "[TMP]")
}

/// Compare `actual` with `tests/golden/<name>`, or rewrite the file when `BLESS=1`.
#[track_caller]
pub fn assert_golden(name: &str, actual: &str) {
    let path = golden_dir().join(name);
    if blessing() {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, actual).unwrap();
        return;
    }
    let expected = fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no golden file `{}`; run with BLESS=1 to create it. actual:\n{actual}",
            path.display()
        )
    });
    if expected != actual {
        panic!(
            "`{}` differs (BLESS=1 rewrites it)\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        );
    }
}

/// Validate a component the way the host does; panics with the validator's error.
pub fn validated(bytes: Vec<u8>) -> Vec<u8> {
    wasmparser::Validator::new_with_features(flowtrace_plugins::inspect::FEATURES)
        .validate_all(&bytes)
        .expect("a test component must be valid");
    bytes
}

/// A real evaluator component, built from the runtime's WAT test guest.
pub fn evaluator() -> Vec<u8> {
    use flowtrace_plugins::testing;
    validated(testing::evaluator(&testing::guest_wat("scan-infos")))
}

/// A component that imports each name as an (empty) instance and exports
/// `flowtrace:plugin/evaluator@0.1.0` with one function.
pub fn evaluator_importing(imports: &[&str]) -> Vec<u8> {
    let imports: String = imports
        .iter()
        .map(|name| format!("  (import \"{name}\" (instance))\n"))
        .collect();
    let wat = format!(
        r#"(component
{imports}
  (core module $m (func (export "evaluate") (result i32) i32.const 1))
  (core instance $mi (instantiate $m))
  (func $evaluate (result bool) (canon lift (core func $mi "evaluate")))
  (instance $plugin (export "evaluate" (func $evaluate)))
  (export "flowtrace:plugin/evaluator@0.1.0" (instance $plugin))
)"#
    );
    validated(wat::parse_str(wat).expect("test WAT parses"))
}

/// The target dir shared by every test that compiles a guest plugin with cargo: the SDK and
/// wit-bindgen compile once per machine, not once per test.
pub fn guest_target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("guest-target")
}

/// The `$FLOWTRACE_HOME` the Python and TypeScript tests share for their toolchains
/// (componentize-py, esbuild, componentize-js): installed by the first test that needs
/// them, under the toolchains lock, once per target directory.
pub fn toolchain_home() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target tmp dir is in the target dir")
        .join("flowtrace-test-home")
}

/// Copy the plugin sources in `from` to `to`, without build output, installed packages or
/// caches.
pub fn copy_sources(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" || name == "node_modules" || name == "__pycache__" {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            copy_sources(&path, &to.join(&name));
        } else {
            fs::copy(&path, to.join(&name)).unwrap();
        }
    }
}

/// Replaces `plugin`'s fixtures with one over an OpenInference export (`llm.finish_reason`,
/// `llm.*_messages`, `tool.*`) whose last LLM call was cut off by the token limit. A plugin
/// that reads the normalized span facts flags it: label `truncated`, one finding, metrics
/// `asked` (tool calls in output messages), `answered` (tool results in input messages that
/// name a call asked for) and `tools` (tool spans whose tool call is named `get_weather`), 1
/// each.
pub fn openinference_fixture(plugin: &Path) {
    let tests = plugin.join("tests");
    if tests.exists() {
        std::fs::remove_dir_all(&tests).unwrap();
    }
    std::fs::create_dir_all(&tests).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples/sample-evaluator/tests/traces/otlp-openinference.json"),
        tests.join("otlp-openinference.json"),
    )
    .unwrap();
    std::fs::write(
        tests.join("openinference.toml"),
        "trace = \"otlp-openinference.json\"\n\n[expect]\npassed = false\nlabel = \"truncated\"\n\
         findings = 1\nmetrics = { asked = 1, answered = 1, tools = 1 }\n",
    )
    .unwrap();
}
