//! `build` end to end: real plugins scaffolded from the templates, built by real cargo for
//! `wasm32-wasip2`, checked by the runtime; and every way a build goes wrong.
//!
//! Guest builds share one target directory (`target/tmp/guest-tests`), so the SDK and its
//! wit-bindgen dependencies compile once for the whole test run. Each test gives its plugin
//! its own crate name: cargo copies a cdylib to `<target>/wasm32-wasip2/debug/<name>.wasm`,
//! and two tests building the same name at once would read each other's file.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use flowtrace_plugins::inspect::BuildProfile;

use crate::support::{assert_golden, flowtrace, normalize, run, tmp, validated, Run};

/// The target directory every guest build of the test run shares.
pub fn guest_target() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("guest-tests")
}

/// The binary, building guests into [`guest_target`].
///
/// The compiled cache is under that shared target dir, sealed with the key of the home
/// (`<dir>/flowtrace-home/cache.key`): each test's home gets the shared test home's key, so
/// that an entry one test compiled verifies in the next test and run, as it does for one
/// user. (With a key of its own per test, every entry failed its seal check in the next test
/// and was compiled again.)
pub fn guest(dir: &Path) -> Command {
    let home = dir.join("flowtrace-home").join("cache.key");
    if !home.exists() {
        let shared = crate::support::toolchain_home().join("cache.key");
        flowtrace_plugins::cache::CacheKey::load_or_create(&shared).unwrap();
        fs::create_dir_all(home.parent().unwrap()).unwrap();
        // The copy keeps the key's mode (readable by this user only).
        fs::copy(&shared, &home).unwrap();
    }
    let mut command = flowtrace(dir);
    command.env("CARGO_TARGET_DIR", guest_target());
    command
}

/// `cargo flowtrace new <name> --template <template>` in `dir`; the plugin's directory.
pub fn new_plugin(dir: &Path, name: &str, template: &str) -> PathBuf {
    run(guest(dir), ["new", name, "--template", template]).expect_code(0);
    dir.join(name)
}

/// Run the binary in `plugin` with `args`.
pub fn in_plugin<I, S>(plugin: &Path, args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run(guest(plugin), args)
}

/// `text` with the temp dir, the guest target dir and timings made stable, for goldens.
pub fn stable(text: &str, dir: &Path) -> String {
    let text = normalize(text, &guest_target());
    let text = text.replace("[TMP]", "[TARGET]");
    let text = normalize(&text, dir);
    mask_after(&mask_after(&text, "finished in ", 's'), " in ", 's')
}

/// Replace the number after each `marker` (digits and dots, then `unit`) with `[TIME]`.
fn mask_after(text: &str, marker: &str, unit: char) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(marker) {
        let (before, after) = rest.split_at(at + marker.len());
        out.push_str(before);
        let digits = after
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(after.len());
        if digits > 0 && after[digits..].starts_with(unit) {
            out.push_str("[TIME]");
            rest = &after[digits..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Replace `from` with `to` in the file at `path`; panics when `from` is not there.
pub fn edit(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "`{from}` not in {}", path.display());
    fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// Where `build` (the dev profile) writes the plugin `id`.
fn artefact(id: &str) -> PathBuf {
    guest_target()
        .join("flowtrace/debug")
        .join(format!("{id}-0.1.0.wasm"))
}

/// `new`, `build` and `test` for one template; the build's JSON message is checked too.
fn template_builds_and_passes(template: &str, name: &str) {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), name, template);

    let out = in_plugin(&plugin, ["build"]).expect_code(0);
    assert!(
        out.stderr
            .contains(&format!("Finished plugin `{name}` v0.1.0 in ")),
        "{}",
        out.stderr
    );
    let bytes = validated(fs::read(artefact(name)).unwrap());
    let inspection = flowtrace_plugins::inspect::inspect(&bytes).unwrap();
    let manifest = fs::read_to_string(plugin.join("flowtrace.toml")).unwrap();
    assert_eq!(
        inspection.embedded_manifest.as_deref(),
        Some(manifest.as_str())
    );
    assert_eq!(inspection.build_profile, Some(BuildProfile::Dev));

    let out = in_plugin(&plugin, ["test"]).expect_code(0);
    let last = out.stdout.lines().last().unwrap_or_default();
    assert!(
        last.ends_with(" passed, 0 failed") && !last.starts_with("0 "),
        "last line `{last}`\n{}",
        out.stdout
    );
    assert!(out.stdout.contains("test result: ok."), "{}", out.stdout);
}

#[test]
fn dev_and_release_builds_are_kept_apart_and_say_their_profile() {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "profiles", "rust-evaluator");
    let dev = artefact("profiles");
    let release = guest_target().join("flowtrace/release/profiles-0.1.0.wasm");
    let profile_of = |path: &Path| {
        let bytes = validated(fs::read(path).unwrap());
        flowtrace_plugins::inspect::inspect(&bytes)
            .unwrap()
            .build_profile
    };

    in_plugin(&plugin, ["build"]).expect_code(0);
    let dev_bytes = fs::read(&dev).unwrap();
    assert_eq!(profile_of(&dev), Some(BuildProfile::Dev));
    let out = in_plugin(&plugin, ["build", "--release"]).expect_code(0);
    assert!(
        out.stderr
            .contains("/flowtrace/release/profiles-0.1.0.wasm"),
        "{}",
        out.stderr
    );
    assert_eq!(profile_of(&release), Some(BuildProfile::Release));
    // The release build left the dev build alone, and a `test` (dev) leaves the release one.
    assert_eq!(fs::read(&dev).unwrap(), dev_bytes);
    let release_bytes = fs::read(&release).unwrap();
    assert_ne!(release_bytes, dev_bytes);
    in_plugin(&plugin, ["test"]).expect_code(0);
    assert_eq!(fs::read(&release).unwrap(), release_bytes);

    // `inspect` says the profile.
    let out = in_plugin(&plugin, ["inspect", dev.to_str().unwrap()]).expect_code(0);
    assert!(
        out.stdout.contains(
            "profile    dev (unoptimized, with debug info: `build --release` for one to install \
             or ship)"
        ),
        "{}",
        out.stdout
    );
    let out = in_plugin(&plugin, ["inspect", release.to_str().unwrap()]).expect_code(0);
    assert!(
        out.stdout.contains("profile    release\n"),
        "{}",
        out.stdout
    );
    let out = in_plugin(
        &plugin,
        [
            "inspect",
            release.to_str().unwrap(),
            "--message-format",
            "json",
        ],
    )
    .expect_code(0);
    assert_eq!(out.json_lines()[0]["build-profile"], "release");

    // `install` says it too, and warns about a dev build.
    let out = in_plugin(&plugin, ["install", dev.to_str().unwrap()]).expect_code(0);
    assert!(
        out.stderr
            .contains("Installed profiles v0.1.0 (evaluator, dev build)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("warning: `profiles` v0.1.0 is a dev build (unoptimized, with debug info)"),
        "{}",
        out.stderr
    );
    let out = in_plugin(&plugin, ["install", release.to_str().unwrap(), "--force"]).expect_code(0);
    assert!(
        out.stderr
            .contains("Reinstalled profiles v0.1.0 (evaluator, release build)"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("dev build"), "{}", out.stderr);
    let out = in_plugin(
        &plugin,
        ["install", ".", "--force", "--message-format", "json"],
    )
    .expect_code(0);
    let installed = out
        .json_lines()
        .into_iter()
        .find(|m| m["reason"] == "plugin-installed")
        .unwrap();
    assert_eq!(installed["profile"], "release", "{installed}");
}

#[test]
fn the_evaluator_template_builds_and_passes_its_tests() {
    template_builds_and_passes("rust-evaluator", "e2e-evaluator");
}

#[test]
fn the_exporter_template_builds_and_passes_its_tests() {
    template_builds_and_passes("rust-exporter", "e2e-exporter");
}

#[test]
fn the_embedder_template_builds_and_passes_its_tests() {
    template_builds_and_passes("rust-embedder", "e2e-embedder");
}

#[test]
fn the_transformer_template_builds_and_passes_its_tests() {
    template_builds_and_passes("rust-transformer", "e2e-transformer");
}

#[test]
fn json_mode_reports_the_artefact_with_its_hash_and_verdicts() {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "json-build", "rust-evaluator");
    let out = in_plugin(&plugin, ["build", "--message-format", "json"]).expect_code(0);
    let lines = out.json_lines();
    assert_eq!(lines.len(), 1, "{}", out.stdout);
    let msg = &lines[0];
    assert_eq!(msg["reason"], "build-finished");
    assert_eq!(msg["success"], true);
    assert_eq!(msg["plugin"], "json-build");
    assert_eq!(msg["profile"], "dev");
    let path = PathBuf::from(msg["artefact"].as_str().unwrap());
    assert_eq!(path, artefact("json-build"));
    let bytes = fs::read(&path).unwrap();
    assert_eq!(msg["size"], bytes.len());
    let sha = msg["sha256"].as_str().unwrap();
    assert_eq!(
        sha,
        flowtrace_plugins::inspect::inspect(&bytes).unwrap().sha256
    );
    let imports = msg["imports"].as_array().unwrap();
    let types = imports
        .iter()
        .find(|i| i["import"] == "flowtrace:plugin/types@0.1.0")
        .expect("an evaluator imports the types interface");
    assert_eq!(types["verdict"], "ok");
    assert!(imports.iter().all(|i| i["verdict"] != "undeclared"));
}

#[test]
fn an_sdk_capability_module_without_the_capability_does_not_compile() {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "kv-undeclared", "rust-evaluator");
    let lib = plugin.join("src/lib.rs");
    edit(
        &lib,
        "let max_ms: u64 = config::get(\"max-span-ms\")?;",
        "let max_ms: u64 = config::get(\"max-span-ms\")?;\n        \
         flowtrace_plugin_sdk::kv::set(\"runs\", b\"1\")?;",
    );
    let out = in_plugin(&plugin, ["build", "-q"]).expect_code(1);
    assert!(
        out.stderr.contains("`kv` needs the capability `storage`"),
        "the SDK's own diagnostic is shown: {}",
        out.stderr
    );
    let ours = out.stderr.rsplit("error[E0277]").next().unwrap();
    let tail = ours
        .split_once("\nerror: failed to compile plugin")
        .map(|(_, t)| t)
        .expect("our error follows cargo's");
    assert_golden(
        "build/undeclared-sdk-module.stderr",
        &format!(
            "error: failed to compile plugin{}",
            stable(tail, dir.path())
        ),
    );

    // Declared, it builds and its tests pass.
    fs::write(
        plugin.join("flowtrace.toml"),
        fs::read_to_string(plugin.join("flowtrace.toml")).unwrap()
            + "\n[capabilities]\nstorage = true\n",
    )
    .unwrap();
    in_plugin(&plugin, ["test", "-q"]).expect_code(0);
}

#[test]
fn a_capability_enabled_behind_the_manifests_back_is_a_policy_violation() {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "kv-sneaky", "rust-evaluator");
    edit(
        &plugin.join("src/lib.rs"),
        "let max_ms: u64 = config::get(\"max-span-ms\")?;",
        "let max_ms: u64 = config::get(\"max-span-ms\")?;\n        \
         flowtrace_plugin_sdk::kv::set(\"runs\", b\"1\")?;",
    );
    // The SDK feature turned on by hand: the code compiles and imports `kv`.
    let cargo_toml = plugin.join("Cargo.toml");
    let text = fs::read_to_string(&cargo_toml).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("flowtrace-plugin-sdk = \""))
        .unwrap();
    let version = line.split('"').nth(1).unwrap();
    let sneaky =
        format!("flowtrace-plugin-sdk = {{ version = \"{version}\", features = [\"storage\"] }}");
    fs::write(&cargo_toml, text.replace(line, &sneaky)).unwrap();

    let out = in_plugin(&plugin, ["build", "-q"]).expect_code(4);
    assert_golden(
        "build/policy-violation.stderr",
        &stable(&out.stderr, dir.path()),
    );
    assert!(
        !artefact("kv-sneaky").exists(),
        "a plugin that breaks the policy is not written"
    );

    let out = in_plugin(&plugin, ["build", "--message-format", "json"]).expect_code(4);
    let lines = out.json_lines();
    let finished = lines
        .iter()
        .find(|l| l["reason"] == "build-finished")
        .unwrap();
    assert_eq!(finished["success"], false);
    assert!(finished.get("artefact").is_none());
    let kv = finished["imports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["import"] == "flowtrace:plugin/kv@0.1.0")
        .unwrap();
    assert_eq!(kv["verdict"], "undeclared");
    assert_eq!(kv["manifest-line"], "storage = true");
    assert_eq!(lines.last().unwrap()["reason"], "error");
    assert_eq!(lines.last().unwrap()["exit-code"], 4);

    // On GitHub Actions the violation is also an annotation on `[capabilities]`.
    let mut command = guest(&plugin);
    command.env("GITHUB_ACTIONS", "true");
    let out = crate::support::run(command, ["build", "-q"]).expect_code(4);
    // The template declares no `[capabilities]`: the annotation is then on the file.
    let line = fs::read_to_string(plugin.join("flowtrace.toml"))
        .unwrap()
        .lines()
        .position(|l| l.trim() == "[capabilities]")
        .map_or(String::new(), |i| format!("line={},", i + 1));
    let annotations: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(annotations.len(), 1, "{}", out.stdout);
    assert!(
        annotations[0].starts_with(&format!(
            "::error file=flowtrace.toml,{line}title=plugin `kv-sneaky` breaks the capability \
             policy::"
        )),
        "{}",
        annotations[0]
    );
    assert!(
        annotations[0].contains("storage") && annotations[0].contains("%0Ahelp: "),
        "{}",
        annotations[0]
    );
}

#[test]
fn compile_errors_are_shown_as_cargo_renders_them() {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "broken-code", "rust-evaluator");
    edit(
        &plugin.join("src/lib.rs"),
        "let max_ms: u64 = config::get(\"max-span-ms\")?;",
        "let max_ms: u64 = config::get(\"max-span-ms\")?;\n        let oops: u32 = \"text\";",
    );
    let out = in_plugin(&plugin, ["build"]).expect_code(1);
    let plain = Command::new(env!("CARGO"))
        .args([
            "build",
            "--lib",
            "--target",
            "wasm32-wasip2",
            "--color",
            "never",
        ])
        .env("CARGO_TARGET_DIR", guest_target())
        .current_dir(&plugin)
        .output()
        .unwrap();
    assert!(!plain.status.success());
    let plain = String::from_utf8(plain.stderr).unwrap();
    let diagnostics = |text: &str| -> String {
        let start = text.find("error[E0308]").expect("a type error");
        let end = text
            .find("error: could not compile")
            .expect("cargo's summary");
        text[start..end].to_string()
    };
    assert_eq!(diagnostics(&out.stderr), diagnostics(&plain));
    assert!(
        out.stderr.ends_with(
            "error: failed to compile plugin `broken-code`: `cargo build` failed (exit status: 101)\n"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn a_package_that_is_not_a_cdylib_is_refused_with_the_lines_to_add() {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "not-cdylib", "rust-evaluator");
    edit(
        &plugin.join("Cargo.toml"),
        "[lib]\ncrate-type = [\"cdylib\"]\n",
        "",
    );
    let out = in_plugin(&plugin, ["build"]).expect_code(1);
    assert_golden("build/not-cdylib.stderr", &stable(&out.stderr, dir.path()));
}

#[test]
fn without_a_manifest_the_error_says_how_to_get_one() {
    let dir = tmp();
    let out = in_plugin(dir.path(), ["build"]).expect_code(1);
    assert_golden("build/no-manifest.stderr", &stable(&out.stderr, dir.path()));
}

#[test]
fn limits_above_the_host_caps_are_refused_before_anything_is_built() {
    let dir = tmp();
    fs::write(
        dir.path().join("flowtrace.toml"),
        "[plugin]\nid = \"greedy\"\nname = \"x\"\nversion = \"0.1.0\"\nkind = \"evaluator\"\n\n\
         [build]\nlanguage = \"rust\"\n\n[limits]\nmemory = \"4GiB\"\ntimeout = \"10m\"\n\
         output = \"512KiB\"\n",
    )
    .unwrap();
    let out = in_plugin(dir.path(), ["build"]).expect_code(1);
    assert_golden(
        "build/limits-above-caps.stderr",
        &stable(&out.stderr, dir.path()),
    );
    assert!(!dir.path().join("target").exists());
}

#[test]
fn a_broken_manifest_is_reported_with_every_problem() {
    let dir = tmp();
    fs::write(
        dir.path().join("flowtrace.toml"),
        "[plugin]\nid = \"Bad_Id\"\nname = \"x\"\nversion = \"1\"\nkind = \"evaluator\"\n\n\
         [build]\nlanguage = \"rust\"\n\n[limits]\ntimout = \"2s\"\n",
    )
    .unwrap();
    let out = in_plugin(dir.path(), ["build"]).expect_code(1);
    assert_golden(
        "build/broken-manifest.stderr",
        &stable(&out.stderr, dir.path()),
    );
    assert!(!out.stdout.contains("::error"), "{}", out.stdout);

    // On GitHub Actions each problem is also an annotation on its line.
    let mut command = guest(dir.path());
    command.env("GITHUB_ACTIONS", "true");
    let out = crate::support::run(command, ["build"]).expect_code(1);
    let lines: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error file=flowtrace.toml,line="))
        .collect();
    assert!(lines.len() >= 2, "{}", out.stdout);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("::error file=flowtrace.toml,line=2,")),
        "the bad id, on line 2: {}",
        out.stdout
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("::error file=flowtrace.toml,line=11,")),
        "the misspelt limit, on line 11: {}",
        out.stdout
    );
}

#[test]
fn a_manifest_without_a_cargo_package_says_what_to_do() {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "no-cargo", "rust-evaluator");
    fs::remove_file(plugin.join("Cargo.toml")).unwrap();
    let out = in_plugin(&plugin, ["build"]).expect_code(1);
    assert_golden(
        "build/no-cargo-toml.stderr",
        &stable(&out.stderr, dir.path()),
    );
}

#[test]
fn inspect_reads_a_component_built_by_plain_cargo() {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "plain-cargo", "rust-evaluator");
    // A plain `cargo build` uses the SDK once `cargo flowtrace build` has supplied it.
    in_plugin(&plugin, ["build", "-q"]).expect_code(0);
    let status = Command::new(env!("CARGO"))
        .args(["build", "--target", "wasm32-wasip2", "-q"])
        .env("CARGO_TARGET_DIR", guest_target())
        .current_dir(&plugin)
        .status()
        .unwrap();
    assert!(status.success());
    let wasm = guest_target().join("wasm32-wasip2/debug/plain_cargo.wasm");
    validated(fs::read(&wasm).unwrap());

    let out = run(guest(dir.path()), [OsStr::new("inspect"), wasm.as_os_str()]).expect_code(0);
    assert!(
        out.stdout
            .contains("no manifest: showing the capability each import needs"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("flowtrace:plugin/evaluator@0.1.0"));

    // With the plugin's manifest, every import gets its verdict.
    let manifest = plugin.join("flowtrace.toml");
    let out = run(
        guest(dir.path()),
        [
            OsStr::new("inspect"),
            wasm.as_os_str(),
            OsStr::new("--manifest-path"),
            manifest.as_os_str(),
            OsStr::new("--message-format"),
            OsStr::new("json"),
        ],
    )
    .expect_code(0);
    let msg = &out.json_lines()[0];
    assert_eq!(msg["reason"], "inspection");
    assert_eq!(msg["policy-ok"], true);
}

#[test]
fn build_help() {
    let dir = tmp();
    let out = run(flowtrace(dir.path()), ["build", "--help"]).expect_code(0);
    assert_golden("help/build.txt", &out.stdout);
}

#[test]
fn test_help() {
    let dir = tmp();
    let out = run(flowtrace(dir.path()), ["test", "--help"]).expect_code(0);
    assert_golden("help/test.txt", &out.stdout);
}

#[test]
fn timings_are_masked() {
    assert_eq!(
        mask_after("in 1.25s: x; finished in 0.10s", " in ", 's'),
        "in 1.25s: x; finished in [TIME]s"
    );
    assert_eq!(
        mask_after("Finished plugin `x` v0.1.0 in 3.02s: y", " in ", 's'),
        "Finished plugin `x` v0.1.0 in [TIME]s: y"
    );
}

#[test]
fn the_sample_evaluator_passes_its_fixtures() {
    let dir = tmp();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/sample-evaluator");
    let out = run(
        guest(dir.path()),
        [
            OsStr::new("test"),
            OsStr::new("--manifest-path"),
            example.as_os_str(),
        ],
    )
    .expect_code(0);
    assert_eq!(
        out.stdout.lines().last(),
        Some("9 passed, 0 failed"),
        "{}",
        out.stdout
    );
}

/// A `bin/` directory in `dir` holding only a `rustc` whose sysroot lacks the wasm target and
/// a `cargo` whose builds fail the way cargo does when the target is missing (it leaves
/// `cargo-ran` behind); no `rustup`.
#[cfg(unix)]
fn toolchain_without_target(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("bin");
    let sysroot = dir.join("sysroot");
    fs::create_dir_all(sysroot.join("lib/rustlib/x86_64-unknown-linux-gnu/lib")).unwrap();
    fs::create_dir_all(&bin).unwrap();
    let scripts = [
        (
            "rustc",
            format!(
                "#!/bin/sh\ncase \"$1 $2\" in\n  \"--print sysroot\") echo '{}' ;;\n  \
                 \"--version \") echo 'rustc 1.95.0 (fake)' ;;\n  *) exit 1 ;;\nesac\n",
                sysroot.display()
            ),
        ),
        (
            "cargo",
            // Builtins only: nothing else is on this PATH.
            format!(
                "#!/bin/sh\n: > '{}'\n{}exit 101\n",
                dir.join("cargo-ran").display(),
                [
                    "   Compiling no-target v0.1.0",
                    "error[E0463]: can't find crate for `core`",
                    "  |",
                    "  = note: the `wasm32-wasip2` target may not be installed",
                    "  = help: consider downloading the target with `rustup target add wasm32-wasip2`",
                    "",
                    "error: could not compile `no-target` (lib) due to 1 previous error",
                ]
                .iter()
                .map(|line| format!("echo '{}' >&2\n", line.replace('\'', "'\\''")))
                .collect::<String>()
            ),
        ),
    ];
    for (name, text) in scripts {
        let path = bin.join(name);
        fs::write(&path, text).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin
}

#[cfg(unix)]
#[test]
fn a_missing_wasm_target_without_rustup_names_the_target_and_how_to_get_it() {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "no-target", "rust-evaluator");
    let bin = toolchain_without_target(dir.path());
    let build = |target_dir: &Path| {
        let mut command = flowtrace(&plugin);
        command
            .env("PATH", &bin)
            .env("CARGO_TARGET_DIR", target_dir)
            .env_remove("CARGO")
            .env_remove("RUSTC")
            .env_remove("RUSTUP_TOOLCHAIN");
        run(command, ["build"])
    };

    // No earlier build for the target: the toolchain is asked before cargo runs.
    let fresh = dir.path().join("fresh-target");
    let out = build(&fresh).expect_code(1);
    assert!(!dir.path().join("cargo-ran").exists(), "{}", out.stderr);
    assert_golden(
        "build/missing-target-no-rustup.stderr",
        &stable(&out.stderr, dir.path()),
    );

    // A target dir that has built for the target before: cargo runs, fails for want of
    // `core`, and the same error follows cargo's.
    let used = dir.path().join("used-target");
    fs::create_dir_all(used.join("wasm32-wasip2")).unwrap();
    let out = build(&used).expect_code(1);
    assert!(dir.path().join("cargo-ran").exists(), "{}", out.stderr);
    let (cargo_part, ours) = out
        .stderr
        .split_once("error: could not compile `no-target` (lib) due to 1 previous error\n")
        .unwrap_or_else(|| panic!("cargo's own error is shown first: {}", out.stderr));
    assert!(
        cargo_part.contains("the `wasm32-wasip2` target may not be installed"),
        "{cargo_part}"
    );
    assert_golden(
        "build/missing-target-no-rustup.stderr",
        &stable(ours, dir.path()),
    );
}

/// The modification times of the compiled-cache files of the component `sha256`: its
/// compiled code and its description (not the `.seen` record a load that checked the code in
/// full writes beside them).
fn cache_entries(sha256: &str) -> Vec<(PathBuf, std::time::SystemTime)> {
    let mut out = Vec::new();
    for engine in fs::read_dir(guest_target().join("flowtrace/cache")).unwrap() {
        for entry in fs::read_dir(engine.unwrap().path()).unwrap() {
            let path = entry.unwrap().path();
            let entry_file = path
                .extension()
                .is_some_and(|e| e == "cwasm" || e == "meta");
            if path.file_stem() == Some(OsStr::new(sha256)) && entry_file {
                let modified = fs::metadata(&path).unwrap().modified().unwrap();
                out.push((path, modified));
            }
        }
    }
    out.sort();
    out
}

/// Two tests' homes, one shared target dir: what the first compiled, the second loads from
/// the compiled cache (its seal verifies: the homes share the test home's key), not
/// compiling and replacing it.
#[test]
fn tests_share_the_compiled_cache_of_the_shared_target_dir() {
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "shared-cache", "rust-evaluator");
    let out = in_plugin(&plugin, ["build", "--message-format", "json"]).expect_code(0);
    let built = out
        .json_lines()
        .into_iter()
        .find(|m| m["reason"] == "build-finished")
        .unwrap_or_else(|| panic!("{}", out.stdout));
    let sha256 = built["sha256"].as_str().unwrap().to_string();
    in_plugin(&plugin, ["test"]).expect_code(0);
    let cached = cache_entries(&sha256);
    assert_eq!(cached.len(), 2, "{cached:?}");

    let other = tmp();
    let mut command = guest(other.path());
    command.current_dir(&plugin);
    run(command, ["test"]).expect_code(0);
    assert_eq!(cache_entries(&sha256), cached);
}
