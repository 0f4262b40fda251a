//! Plugins that leave the author's machine.
//!
//! * A CLI built from a copy of this repository's sources, which is then deleted, scaffolds,
//!   builds and tests a plugin in every language, and no file it writes (outside `target/`
//!   and `node_modules/`) names a path of this machine.
//! * A plugin committed to git and cloned elsewhere builds and passes its tests, and the
//!   build changes none of its files (`Cargo.lock` included).
//! * A plain `cargo build` stops with a message naming `cargo flowtrace build` until that
//!   has supplied the SDK, without touching `Cargo.lock`; then it works, on the same SDK
//!   (nothing is recompiled), and `cargo metadata` (what rust-analyzer reads) sees it.
//! * An SDK requirement the CLI does not carry fails with both versions and the fix.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::build::{edit, guest, guest_target, in_plugin, new_plugin, stable};
use crate::support::{assert_golden, run, tmp, toolchain_home, Run};

/// The repository this test binary was built from.
fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// `git` with an identity and no system or user configuration.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=Plugin Author",
            "-c",
            "user.email=author@example.com",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Commit everything in `dir` to a new repository there, then clone it to `to`.
pub fn commit_and_clone(dir: &Path, to: &Path) {
    git(dir, &["init", "--quiet"]);
    git(dir, &["add", "--all"]);
    git(dir, &["commit", "--quiet", "-m", "plugin"]);
    let parent = to.parent().unwrap();
    git(
        parent,
        &[
            "clone",
            "--quiet",
            dir.to_str().unwrap(),
            to.to_str().unwrap(),
        ],
    );
}

/// The CLI built from a copy of this repository's sources, which is then deleted; the
/// binary is copied to `dest/bin/cargo-flowtrace` first.
///
/// The copy holds what a clone of the working tree would: every file git tracks or would
/// track (`git ls-files --cached --others --exclude-standard`), symlinks as symlinks, no
/// `target/`; a `git clone` would only see what is committed. It is built as `cargo install
/// --locked --path` would, but in the dev profile, into its own target dir under the
/// workspace's target dir, kept between runs: the first run compiles every dependency
/// (wasmtime, ...: about 8 minutes on 2 cores), later runs only `flowtrace-plugins` and
/// `cargo-flowtrace` (about a minute). Sharing the workspace's build dir instead would be
/// faster but unsafe: cargo hashes workspace members by their path inside the workspace, so
/// the copy's units would overwrite the workspace's own.
#[cfg(unix)]
fn cli_from_a_deleted_source_tree(dest: &Path) -> PathBuf {
    let repo = repository();
    let tmpdir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let source = tmpdir.join("portable-source");
    let target_dir = tmpdir.join("portable-cli-target");
    if source.exists() {
        fs::remove_dir_all(&source).unwrap();
    }
    let listed = git(
        &repo,
        &[
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ],
    );
    for relative in listed.split('\0').filter(|p| !p.is_empty()) {
        let from = repo.join(relative);
        let Ok(meta) = fs::symlink_metadata(&from) else {
            continue; // deleted in the working tree
        };
        let to = source.join(relative);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        if meta.file_type().is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&from).unwrap(), &to).unwrap();
        } else {
            fs::copy(&from, &to).unwrap();
        }
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "--locked", "--quiet", "-p", "cargo-flowtrace"])
        .current_dir(&source)
        .env("CARGO_TARGET_DIR", &target_dir)
        .env_remove("CARGO_BUILD_BUILD_DIR")
        .env_remove("FLOWTRACE_TEMPLATES_DIR")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "building the copy failed\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bin = dest.join("bin");
    fs::create_dir_all(&bin).unwrap();
    let cli = bin.join("cargo-flowtrace");
    let built = target_dir.join("debug/cargo-flowtrace");
    fs::copy(&built, &cli).unwrap();
    fs::remove_file(&built).unwrap();
    fs::remove_dir_all(&source).unwrap();
    cli
}

/// `cli` in `dir`, with the environment of the other tests: the shared toolchains, the shared
/// guest target dir, no colours, no git configuration.
fn command(cli: &Path, dir: &Path) -> Command {
    let mut command = Command::new(cli);
    command
        .env("FLOWTRACE_HOME", toolchain_home())
        .env("CARGO_TARGET_DIR", guest_target())
        .env("NO_COLOR", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env_remove("FLOWTRACE_LOG")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("FLOWTRACE_TEMPLATES_DIR")
        .current_dir(dir);
    command
}

#[track_caller]
fn assert_tests_passed(out: &Run) {
    let last = out.stdout.lines().last().unwrap_or_default();
    assert!(
        last.ends_with(" passed, 0 failed") && !last.starts_with("0 "),
        "last line `{last}`\n{}\n{}",
        out.stdout,
        out.stderr
    );
}

/// Every file under `root` but `target/`, `node_modules/` and `__pycache__/` (build output,
/// installed packages, caches: all ignored by the templates' `.gitignore`), with its text.
pub fn plugin_files(root: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap();
            if path.is_dir() {
                if !["target", "node_modules", "__pycache__"]
                    .iter()
                    .any(|n| name == *n)
                {
                    stack.push(path);
                }
            } else {
                let text = String::from_utf8_lossy(&fs::read(&path).unwrap()).into_owned();
                out.push((path, text));
            }
        }
    }
    out
}

#[cfg(unix)]
#[test]
fn a_cli_built_from_a_deleted_source_tree_makes_portable_plugins_in_every_language() {
    let dir = tmp();
    let cli = cli_from_a_deleted_source_tree(dir.path());
    let work = dir.path().join("plugins");
    fs::create_dir_all(&work).unwrap();
    let home = std::env::var("HOME").unwrap_or_default();
    let machine_paths: Vec<String> = [
        repository(),
        dir.path().to_path_buf(),
        dir.path().canonicalize().unwrap(),
        toolchain_home(),
        guest_target(),
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")),
    ]
    .iter()
    .map(|p| p.display().to_string())
    .chain([home].into_iter().filter(|h| h.len() > 1))
    .chain(["/tmp/", "/home/", "/root/", "/Users/"].map(String::from))
    .collect();

    for (lang, id) in [
        ("rust", "portable-rust"),
        ("python", "portable-python"),
        ("typescript", "portable-typescript"),
    ] {
        run(command(&cli, &work), ["new", id, "--lang", lang]).expect_code(0);
        let plugin = work.join(id);
        let built = run(command(&cli, &plugin), ["build"]).expect_code(0);
        assert!(
            built
                .stderr
                .contains(&format!("Finished plugin `{id}` v0.1.0 in ")),
            "{lang}: {}",
            built.stderr
        );
        if lang == "rust" {
            // The SDK is the copy the CLI carries, written under the target dir.
            let sdk = guest_target().join("flowtrace/sdk/rust");
            assert!(sdk.join("Cargo.toml").is_file(), "{}", built.stderr);
            let manifest: toml::Table =
                toml::from_str(&fs::read_to_string(plugin.join("Cargo.toml")).unwrap()).unwrap();
            let requirement = manifest["dependencies"]["flowtrace-plugin-sdk"]
                .as_str()
                .unwrap_or_else(|| panic!("the SDK by version: {manifest}"));
            assert_eq!(requirement, crate::new::sdk_requirement());
        }
        assert_tests_passed(&run(command(&cli, &plugin), ["test"]).expect_code(0));

        for (path, text) in plugin_files(&plugin) {
            for machine in &machine_paths {
                assert!(
                    !text.contains(machine.as_str()),
                    "{lang}: `{}` names `{machine}`:\n{text}",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn a_plugin_cloned_from_git_builds_and_passes_its_tests_unchanged() {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "cloned-plugin", "rust-evaluator");
    // As its author would commit it: built once, with the `Cargo.lock` that made.
    in_plugin(&plugin, ["build"]).expect_code(0);
    assert!(plugin.join("Cargo.lock").is_file());
    let clone = dir.path().join("elsewhere/cloned-plugin");
    fs::create_dir_all(clone.parent().unwrap()).unwrap();
    commit_and_clone(&plugin, &clone);
    assert!(!clone.join("target").exists());
    fs::remove_dir_all(&plugin).unwrap();

    // `$FLOWTRACE_HOME` (the compiled cache) outside the plugin, as it is by default.
    let mut test = guest(&clone);
    test.env("FLOWTRACE_HOME", dir.path().join("home"));
    assert_tests_passed(&run(test, ["test"]).expect_code(0));
    assert_eq!(
        git(&clone, &["status", "--porcelain", "--ignored=no"]),
        "",
        "the build changed the plugin's files"
    );
}

/// `cargo <args>` in `plugin`, building into the shared guest target dir.
fn plain_cargo<I, S>(plugin: &Path, args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(plugin)
        .env("CARGO_TARGET_DIR", guest_target())
        .env("CARGO_TERM_COLOR", "never");
    run(command, args)
}

#[test]
fn a_plain_cargo_build_names_cargo_flowtrace_build_until_it_has_run_then_uses_the_same_sdk() {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "plain-cargo-sdk", "rust-evaluator");
    let build = ["build", "--target", "wasm32-wasip2"];

    let out = plain_cargo(&plugin, build);
    assert_ne!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("run `cargo flowtrace build` once, then `cargo build` works too"),
        "{}",
        out.stderr
    );
    assert!(
        !plugin.join("Cargo.lock").exists(),
        "cargo stops before it resolves anything"
    );

    in_plugin(&plugin, ["build"]).expect_code(0);
    let out = plain_cargo(&plugin, build).expect_code(0);
    // The same SDK, dependencies and flags as `cargo flowtrace build`: nothing to redo.
    assert!(!out.stderr.contains("Compiling"), "{}", out.stderr);

    // What rust-analyzer reads.
    let out = plain_cargo(&plugin, ["metadata", "--format-version", "1"]).expect_code(0);
    let metadata: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let sdk = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "flowtrace-plugin-sdk")
        .expect("the SDK is a dependency");
    assert_eq!(
        Path::new(sdk["manifest_path"].as_str().unwrap()),
        guest_target().join("flowtrace/sdk/rust/Cargo.toml")
    );
    assert_eq!(
        sdk["source"],
        serde_json::Value::Null,
        "a path, not crates.io"
    );
}

#[test]
fn an_sdk_version_the_cli_does_not_carry_is_named_with_both_versions_and_the_fix() {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "future-sdk", "rust-evaluator");
    let carried = crate::new::sdk_requirement();
    let (major, minor) = carried.split_once('.').unwrap();
    let next = format!("{major}.{}", minor.parse::<u64>().unwrap() + 1);
    edit(
        &plugin.join("Cargo.toml"),
        &format!("flowtrace-plugin-sdk = \"{carried}\""),
        &format!("flowtrace-plugin-sdk = \"{next}\""),
    );
    let out = in_plugin(&plugin, ["build"]).expect_code(1);
    assert!(!plugin.join("Cargo.lock").exists(), "cargo did not run");
    assert_golden(
        "build/sdk-version-not-carried.stderr",
        &stable(&out.stderr, dir.path()),
    );
    // The same from `test`, which builds first.
    let out = in_plugin(&plugin, ["test"]).expect_code(1);
    assert!(
        out.stderr.contains("upgrade cargo-flowtrace"),
        "{}",
        out.stderr
    );
}
