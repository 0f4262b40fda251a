//! The two ways to call the binary, the shared flags, and usage errors.

use std::path::Path;
use std::process::Command;

use crate::support::{assert_golden, flowtrace, run, tmp};

/// `cargo flowtrace ...` through the real cargo, with the binary found on `PATH` the way an
/// installed one is.
fn cargo_flowtrace(home: &Path) -> Command {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_cargo-flowtrace"))
        .parent()
        .unwrap()
        .to_path_buf();
    let mut paths = vec![bin_dir];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command
        .arg("flowtrace")
        // Cargo looks in `$CARGO_HOME/bin` before `PATH`: an installed, older
        // cargo-flowtrace there must not stand in for the one under test.
        .env("CARGO_HOME", home.join("cargo-home"))
        .env("PATH", std::env::join_paths(paths).unwrap())
        .env("FLOWTRACE_HOME", home.join("flowtrace-home"))
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .current_dir(home);
    command
}

#[test]
fn runs_as_a_cargo_subcommand() {
    let dir = tmp();
    let direct = run(flowtrace(dir.path()), ["--version"]).expect_code(0);
    let via_cargo = run(cargo_flowtrace(dir.path()), ["--version"]).expect_code(0);
    assert_eq!(direct.stdout, via_cargo.stdout);
    assert_eq!(
        direct.stdout,
        format!("cargo-flowtrace {}\n", env!("CARGO_PKG_VERSION"))
    );

    // The help names the command the way it was typed.
    let help = run(cargo_flowtrace(dir.path()), ["--help"]).expect_code(0);
    assert!(
        help.stdout
            .contains("Usage: cargo flowtrace [OPTIONS] <COMMAND>"),
        "{}",
        help.stdout
    );
    let help = run(cargo_flowtrace(dir.path()), ["inspect", "--help"]).expect_code(0);
    assert!(
        help.stdout
            .contains("Usage: cargo flowtrace inspect [OPTIONS] [PATH]"),
        "{}",
        help.stdout
    );

    // A command with global flags before and after it, through cargo.
    let out = run(
        cargo_flowtrace(dir.path()),
        ["-q", "new", "--list-templates", "--message-format", "json"],
    )
    .expect_code(0);
    for line in out.json_lines() {
        assert_eq!(line["reason"], "template");
    }
}

#[test]
fn the_hidden_flowtrace_word_is_absorbed_when_called_directly_too() {
    let dir = tmp();
    let direct = run(flowtrace(dir.path()), ["flowtrace", "doctor", "--help"]).expect_code(0);
    assert!(direct
        .stdout
        .contains("Usage: cargo flowtrace doctor [OPTIONS]"));
    // It is not listed among the commands.
    let help = run(flowtrace(dir.path()), ["--help"]).expect_code(0);
    assert!(
        !help.stdout.lines().any(|l| l.starts_with("  flowtrace ")),
        "{}",
        help.stdout
    );
}

#[test]
fn usage_errors_exit_with_2() {
    let dir = tmp();
    let out = run(flowtrace(dir.path()), ["frobnicate"]).expect_code(2);
    assert_golden("errors/unknown-command.stderr", &out.stderr);
    let out = run(flowtrace(dir.path()), ["doctor", "--color", "sometimes"]).expect_code(2);
    assert_golden("errors/bad-color.stderr", &out.stderr);
    // No command at all prints the help, and is misuse too.
    let out = run(flowtrace(dir.path()), Vec::<&str>::new()).expect_code(2);
    assert!(
        out.stderr.contains("Usage: cargo-flowtrace"),
        "{}",
        out.stderr
    );
}

#[test]
fn json_errors_are_a_message_too() {
    let dir = tmp();
    let missing = dir.path().join("nothing-here.wasm");
    let out = run(
        flowtrace(dir.path()),
        [
            "inspect".as_ref(),
            missing.as_os_str(),
            "--message-format".as_ref(),
            "json".as_ref(),
        ],
    )
    .expect_code(1);
    let lines = out.json_lines();
    let error = lines.last().unwrap();
    assert_eq!(error["reason"], "error");
    assert_eq!(error["exit-code"], 1);
    assert!(error["message"]
        .as_str()
        .unwrap()
        .contains("does not exist"));
    assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
}

/// `--message-format json`: a manifest error's fixes are in `help`, one per problem with its
/// place, and not folded into `message` or `causes`, like every other error's.
#[test]
fn json_errors_carry_their_help_lines_in_help() {
    let dir = tmp();
    std::fs::write(
        dir.path().join("flowtrace.toml"),
        "[plugin]\nid = \"con\"\nname = \"x\"\nversion = \"0.1.0\"\nkind = \"evaluator\"\n\
         [build]\nlanguage = \"rust\"\n[capabilities]\nnetwork = { hosts = [\"https://x.com\"] }\n",
    )
    .unwrap();
    let out = run(flowtrace(dir.path()), ["build", "--message-format", "json"]).expect_code(1);
    let lines = out.json_lines();
    let error = lines
        .iter()
        .find(|l| l["reason"] == "error")
        .unwrap_or_else(|| panic!("no error message: {}", out.stdout));
    let text = format!("{} {}", error["message"], error["causes"]);
    assert!(!text.contains("help:"), "{text}");
    let help: Vec<&str> = error["help"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    assert_eq!(
        help,
        [
            "flowtrace.toml:2:6: use something like `my-plugin`",
            "flowtrace.toml:9:22: write `x.com`"
        ]
    );
    // A person reads each fix under its problem, as before.
    assert!(
        out.stderr
            .contains("flowtrace.toml:2:6: invalid plugin id `con`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("\n    help: write `x.com`"),
        "{}",
        out.stderr
    );
}
