//! The CI workflow `new` writes (`.github/workflows/flowtrace.yml`) runs: it is parsed as
//! YAML and every `run:` step of its job is executed in order, in a fresh clone of the
//! scaffolded plugin, as GitHub's runner would (`bash --noprofile --norc -eo pipefail`, the
//! workflow's and the step's `env:`).
//!
//! Not executed, on purpose:
//! * `uses:` steps (checkout, toolchain setup, caches): they are GitHub actions; the clone
//!   is the checkout, and this machine has the toolchains.
//! * the step that runs `cargo install ... cargo-flowtrace`: it would compile the published
//!   release; the CLI under test is put first on `PATH` instead, behind a wrapper that
//!   records it ran (cargo looks for `cargo-flowtrace` on `PATH`).
//!
//! The toolchains the first Python or TypeScript build installs come from the home the
//! tests share (as the workflow's cache restores them), Rust guests build into the shared
//! target dir (as `Swatinem/rust-cache` would restore it).

#![cfg(unix)]

use std::fs;
use std::path::Path;
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

use crate::build::guest_target;
use crate::portable::commit_and_clone;
use crate::support::{flowtrace, run, tmp, toolchain_home};

/// What happened to each step.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// A `uses:` action, not run.
    Action(String),
    /// The `cargo install` of the CLI, not run.
    Install,
    /// A `run:` executed, with its command.
    Ran(String),
}

/// `new --template <template>`, commit, clone, then run the workflow in the clone. Returns
/// the steps and the output of the last one run.
fn run_workflow(template: &str, id: &str) -> (Vec<Step>, String) {
    let dir = tmp();
    let mut new = flowtrace(dir.path());
    new.env("CARGO_TARGET_DIR", guest_target());
    run(new, ["new", id, "--template", template]).expect_code(0);
    let checkout = dir.path().join("checkout").join(id);
    fs::create_dir_all(checkout.parent().unwrap()).unwrap();
    commit_and_clone(&dir.path().join(id), &checkout);

    let text = fs::read_to_string(checkout.join(".github/workflows/flowtrace.yml")).unwrap();
    let docs = YamlLoader::load_from_str(&text).expect("the workflow is YAML");
    let workflow = &docs[0];
    let jobs = workflow["jobs"].as_hash().expect("`jobs:`");
    assert_eq!(jobs.len(), 1, "{template}: one job");
    let job = jobs.values().next().unwrap();
    assert_eq!(job["runs-on"].as_str(), Some("ubuntu-latest"), "{template}");

    // The CLI under test, first on PATH, behind a wrapper that leaves a mark.
    let bin = dir.path().join("bin");
    fs::create_dir_all(&bin).unwrap();
    let mark = dir.path().join("cli-ran");
    let wrapper = bin.join("cargo-flowtrace");
    fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\n: > '{}'\nexec '{}' \"$@\"\n",
            mark.display(),
            env!("CARGO_BIN_EXE_cargo-flowtrace")
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&wrapper, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = std::env::join_paths(std::iter::once(bin.clone()).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();

    let mut steps = Vec::new();
    let mut last_output = String::new();
    let mut uploads = Vec::new();
    for step in job["steps"].as_vec().expect("`steps:`") {
        if let Some(action) = step["uses"].as_str() {
            if action.starts_with("actions/upload-artifact@") {
                let path = step["with"]["path"].as_str().expect("an upload's `path`");
                uploads.push(path.to_string());
            }
            steps.push(Step::Action(action.to_string()));
            continue;
        }
        let script = step["run"].as_str().unwrap_or_else(|| {
            panic!("{template}: a step with neither `uses` nor `run`: {step:?}")
        });
        if script.contains("cargo install") {
            assert!(
                script.contains("cargo-flowtrace"),
                "{template}: installs something else: {script}"
            );
            steps.push(Step::Install);
            continue;
        }
        assert!(
            step["if"].is_badvalue(),
            "{template}: a conditional step would need its condition evaluated: {step:?}"
        );
        let mut command = Command::new("bash");
        command
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
            .current_dir(&checkout)
            .env("PATH", &path)
            .env("CI", "true")
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_PATH", dir.path().join("github-path"))
            .env("FLOWTRACE_HOME", toolchain_home())
            .env("CARGO_TARGET_DIR", guest_target())
            .env_remove("FLOWTRACE_LOG")
            .env_remove("FLOWTRACE_TEMPLATES_DIR");
        for level in [&workflow["env"], &job["env"], &step["env"]] {
            for (key, value) in level.as_hash().into_iter().flatten() {
                command.env(key.as_str().unwrap(), scalar(value));
            }
        }
        let out = command.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{template}: step `{script}` failed ({})\n--- stdout\n{stdout}\n--- stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        steps.push(Step::Ran(script.trim().to_string()));
        last_output = stdout;
    }
    assert!(mark.exists(), "{template}: the CLI under test never ran");
    // What the workflow uploads is there after the steps that run.
    for path in uploads {
        assert!(
            checkout.join(&path).is_file(),
            "{template}: uploads `{path}`, which no step wrote"
        );
    }
    (steps, last_output)
}

/// A YAML scalar as the runner passes it in the environment.
fn scalar(value: &Yaml) -> String {
    match value {
        Yaml::String(s) | Yaml::Real(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        other => panic!("not a scalar: {other:?}"),
    }
}

#[track_caller]
fn assert_ran_the_tests(template: &str, steps: &[Step], output: &str) {
    assert_eq!(
        steps.iter().filter(|s| **s == Step::Install).count(),
        1,
        "{template}: one install step: {steps:?}"
    );
    assert!(
        steps.contains(&Step::Action("actions/checkout@v4".to_string())),
        "{template}: {steps:?}"
    );
    assert_eq!(
        steps.iter().rev().find(|s| matches!(s, Step::Ran(_))),
        Some(&Step::Ran(
            "cargo flowtrace test --release --junit target/flowtrace/junit.xml".to_string()
        )),
        "{template}: the tests run last: {steps:?}"
    );
    assert_eq!(
        steps.last(),
        Some(&Step::Action("actions/upload-artifact@v4".to_string())),
        "{template}: the JUnit report is uploaded: {steps:?}"
    );
    let last = output.lines().last().unwrap_or_default();
    assert!(
        last.ends_with(" passed, 0 failed") && !last.starts_with("0 "),
        "{template}: {output}"
    );
}

#[test]
fn the_rust_workflow_runs_in_a_fresh_clone() {
    let (steps, output) = run_workflow("rust-evaluator", "workflow-rust");
    assert_ran_the_tests("rust-evaluator", &steps, &output);
    assert!(
        steps
            .iter()
            .any(|s| matches!(s, Step::Action(a) if a.starts_with("dtolnay/rust-toolchain"))),
        "{steps:?}"
    );
}

#[test]
fn the_python_workflow_runs_in_a_fresh_clone() {
    let (steps, output) = run_workflow("python-evaluator", "workflow-python");
    assert_ran_the_tests("python-evaluator", &steps, &output);
    assert!(
        steps.contains(&Step::Action("actions/setup-python@v5".to_string())),
        "{steps:?}"
    );
}

#[test]
fn the_typescript_workflow_runs_in_a_fresh_clone() {
    let (steps, output) = run_workflow("typescript-evaluator", "workflow-ts");
    assert_ran_the_tests("typescript-evaluator", &steps, &output);
    assert!(
        steps.contains(&Step::Action("actions/setup-node@v4".to_string())),
        "{steps:?}"
    );
}

#[test]
fn every_template_has_its_language_s_workflow() {
    // The four templates of a language share one workflow, kept once in
    // `templates/_shared/<language>/`; the tests above run one each. `new` writes it into
    // every plugin of the language.
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates/_shared");
    for lang in ["rust", "python", "typescript"] {
        let expected =
            fs::read_to_string(shared.join(format!("{lang}/.github/workflows/flowtrace.yml")))
                .unwrap();
        for kind in ["evaluator", "exporter", "embedder", "transformer"] {
            let dir = tmp();
            let plugin = dir.path().join("p");
            let template = format!("{lang}-{kind}");
            run(
                flowtrace(dir.path()),
                ["new", "p", "--template", template.as_str()],
            )
            .expect_code(0);
            assert_eq!(
                fs::read_to_string(plugin.join(".github/workflows/flowtrace.yml")).unwrap(),
                expected,
                "{lang}-{kind}"
            );
        }
    }
}
