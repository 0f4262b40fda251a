//! Rust plugins share one cargo target dir, `$FLOWTRACE_HOME/cargo-target`, unless the user
//! chose one (every other test sets `CARGO_TARGET_DIR`, so they cover that way):
//!
//! * a second new plugin's first `test` compiles the plugin alone, not the SDK and its
//!   dependencies (wit-bindgen, wit-parser, ...) that the first plugin's build compiled;
//! * each plugin's component still goes to its own `target/flowtrace/debug/`;
//! * two plugins of the same crate name, whom cargo sees as one unit, each get their own
//!   code.
//!
//! These run in a new Flowtrace home, so the first build compiles the SDK's dependencies
//! (about a minute here).

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::build::{edit, guest_target};
use crate::support::{flowtrace, run, tmp, validated, Run};

/// The binary in `dir`, with the home `<home>/flowtrace-home` and no target dir of the
/// user's.
fn shared(dir: &Path, home: &Path) -> Command {
    let mut command = flowtrace(home);
    command
        .current_dir(dir)
        .env_remove("CARGO_BUILD_TARGET_DIR");
    command
}

/// The crates cargo compiled, from its `Compiling <crate> v<version> (...)` lines (not ours,
/// `Compiling plugin ...`).
fn compiled(out: &Run) -> Vec<String> {
    out.stderr
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("Compiling "))
        .filter(|rest| !rest.starts_with("plugin `"))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(String::from)
        .collect()
}

/// The component `build` wrote for plugin `id` in `plugin`, validated.
fn component(plugin: &Path, id: &str) -> Vec<u8> {
    let path = plugin.join(format!("target/flowtrace/debug/{id}-0.1.0.wasm"));
    validated(fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

#[test]
fn a_second_plugin_reuses_the_sdk_and_dependencies_the_first_one_compiled() {
    let dir = tmp();
    let home = dir.path();
    let cargo_target = home.join("flowtrace-home/cargo-target");
    for id in ["first-shared", "second-shared"] {
        run(
            shared(home, home),
            ["new", id, "--template", "rust-evaluator"],
        )
        .expect_code(0);
    }
    let first = home.join("first-shared");
    let second = home.join("second-shared");

    let out = run(shared(&first, home), ["build", "-v"]).expect_code(0);
    assert!(
        out.stderr.contains(&format!(
            "Sharing cargo's target dir `{}` with every Rust plugin",
            cargo_target.display()
        )),
        "{}",
        out.stderr
    );
    let crates = compiled(&out);
    for expected in [
        "wit-bindgen",
        "wit-parser",
        "flowtrace-plugin-sdk",
        "first-shared",
    ] {
        assert!(
            crates.iter().any(|c| c == expected),
            "{expected}: {crates:?}"
        );
    }
    component(&first, "first-shared");
    // Cargo built in the shared dir, not in the plugin's `target/`.
    assert!(cargo_target.join("wasm32-wasip2/debug").is_dir());
    assert!(!first.join("target/wasm32-wasip2").exists());
    assert!(!first.join("target/debug").exists());

    // The second plugin's first `test`: only the plugin itself compiles.
    let out = run(shared(&second, home), ["test"]).expect_code(0);
    assert_eq!(compiled(&out), ["second-shared"], "{}", out.stderr);
    assert_eq!(
        out.stdout.lines().last(),
        Some("4 passed, 0 failed"),
        "{}",
        out.stdout
    );
    let path = second.join("target/flowtrace/debug/second-shared-0.1.0.wasm");
    assert!(
        out.stderr.contains(&format!("{}", path.display())),
        "{}",
        out.stderr
    );
    component(&second, "second-shared");
    assert!(!second.join("target/wasm32-wasip2").exists());
    // `inspect` of the plugin's directory finds the component there.
    let out = run(shared(&second, home), ["inspect", "."]).expect_code(0);
    assert!(
        out.stdout
            .contains("./target/flowtrace/debug/second-shared-0.1.0.wasm"),
        "{}",
        out.stdout
    );
    // Nothing of the plugin's outside `target/` names the shared dir (or the home).
    for (path, text) in crate::portable::plugin_files(&second) {
        assert!(
            !text.contains(&*home.to_string_lossy()),
            "`{}` names the home:\n{text}",
            path.display()
        );
    }

    // Two copies of one crate, `twin`, whose label differs: each build gets its own code,
    // whichever built last, and neither compiles a dependency again.
    let [a, b] = ["a", "b"].map(|sub| {
        let parent = home.join(sub);
        fs::create_dir_all(&parent).unwrap();
        run(
            shared(&parent, home),
            ["new", "twin", "--template", "rust-evaluator"],
        )
        .expect_code(0);
        parent.join("twin")
    });
    edit(&b.join("src/lib.rs"), "=> \"ok\"", "=> \"twin-b-ok\"");
    let marked = |plugin: &Path| {
        component(plugin, "twin")
            .windows(b"twin-b-ok".len())
            .any(|w| w == b"twin-b-ok")
    };
    for (plugin, is_b) in [(&a, false), (&b, true), (&a, false), (&b, true)] {
        let out = run(shared(plugin, home), ["build"]).expect_code(0);
        assert_eq!(compiled(&out), ["twin"], "{}", out.stderr);
        assert_eq!(marked(plugin), is_b, "{}", plugin.display());
    }
    // Built again with nothing changed: fresh.
    let out = run(shared(&b, home), ["build"]).expect_code(0);
    assert_eq!(compiled(&out), Vec::<String>::new(), "{}", out.stderr);
    assert!(marked(&b));
}

/// Where `bytes` hold `needle`.
fn occurrences(bytes: &[u8], needle: &str) -> Vec<usize> {
    bytes
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle.as_bytes())
        .map(|(i, _)| i)
        .collect()
}

/// A Rust component, dev or release, names no path of the machine that built it: not the
/// plugin's directory, the Flowtrace home and the target dir shared there, `$CARGO_HOME`
/// (dependencies' sources) or `$HOME`. Its panic locations stay useful: the SDK's files are
/// named after the SDK. In a target dir of the user's (which a plain `cargo build` shares,
/// see `remap`), the same but for the plugin's directory in a dev build's debug info. (In a
/// home kept between runs, under the target dir, so that the SDK's dependencies compile
/// once.)
#[test]
fn a_rust_component_names_no_path_of_the_machine_that_built_it() {
    let dir = tmp();
    let flowtrace_home = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rust-paths-home");
    let command = |plugin: &Path, target_dir: Option<&Path>| {
        let mut command = shared(plugin, dir.path());
        command.env("FLOWTRACE_HOME", &flowtrace_home);
        if let Some(target_dir) = target_dir {
            command.env("CARGO_TARGET_DIR", target_dir);
        }
        command
    };
    run(
        command(dir.path(), None),
        ["new", "no-paths", "--template", "rust-evaluator"],
    )
    .expect_code(0);
    let plugin = dir.path().join("no-paths");
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::home_dir().map(|home| home.join(".cargo")))
        .unwrap();
    let plugin_paths = [
        plugin.clone(),
        plugin.canonicalize().unwrap(),
        dir.path().to_path_buf(),
    ];
    let mut machine_paths = vec![
        flowtrace_home.clone(),
        flowtrace_home.join("cargo-target"),
        guest_target(),
        cargo_home,
        Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf(),
    ];
    machine_paths.extend(std::env::home_dir().filter(|h| h.as_os_str().len() > 1));
    let sdk = format!("flowtrace-plugin-sdk-{}.", crate::new::sdk_requirement());
    let guest_target = guest_target();
    for target_dir in [None, Some(guest_target.as_path())] {
        for profile in ["debug", "release"] {
            let mut args = vec!["build"];
            if profile == "release" {
                args.push("--release");
            }
            run(command(&plugin, target_dir), args).expect_code(0);
            let path = match target_dir {
                None => plugin.join(format!("target/flowtrace/{profile}/no-paths-0.1.0.wasm")),
                Some(dir) => dir.join(format!("flowtrace/{profile}/no-paths-0.1.0.wasm")),
            };
            let bytes = validated(fs::read(&path).unwrap());
            let own_dir_kept = target_dir.is_some() && profile == "debug";
            let unnamed = machine_paths
                .iter()
                .chain(plugin_paths.iter().filter(|_| !own_dir_kept));
            for machine in unnamed {
                let name = machine.display().to_string();
                let at = occurrences(&bytes, &name);
                assert!(
                    at.is_empty(),
                    "{profile} in {target_dir:?}: the component names `{name}` at {at:?}"
                );
            }
            // The SDK's panic locations, e.g. `flowtrace-plugin-sdk-0.1.0/src/trace.rs`.
            assert!(
                !occurrences(&bytes, &sdk).is_empty(),
                "{profile} in {target_dir:?}: no `{sdk}`"
            );
        }
    }
}
