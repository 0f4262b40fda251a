//! `--help` of the top level and of each command, as golden files: the help is the manual,
//! and a change to it should be seen in review.

use crate::support::{assert_golden, flowtrace, run, tmp};

fn golden_help(name: &str, args: &[&str]) {
    let dir = tmp();
    let out = run(flowtrace(dir.path()), args).expect_code(0);
    assert_eq!(out.stderr, "", "help goes to stdout");
    assert_golden(&format!("help/{name}.txt"), &out.stdout);
}

#[test]
fn top_level_help() {
    golden_help("top-level", &["--help"]);
}

#[test]
fn top_level_short_help() {
    golden_help("top-level-short", &["-h"]);
}

#[test]
fn new_help() {
    golden_help("new", &["new", "--help"]);
}

#[test]
fn init_help() {
    golden_help("init", &["init", "--help"]);
}

#[test]
fn inspect_help() {
    golden_help("inspect", &["inspect", "--help"]);
}

#[test]
fn install_help() {
    golden_help("install", &["install", "--help"]);
}

#[test]
fn list_help() {
    golden_help("list", &["list", "--help"]);
}

#[test]
fn doctor_help() {
    golden_help("doctor", &["doctor", "--help"]);
}

#[test]
fn every_command_documents_the_exit_codes() {
    let dir = tmp();
    let top = run(flowtrace(dir.path()), ["--help"]).expect_code(0);
    let commands: Vec<String> = top
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|c| c != "help")
        .collect();
    assert!(commands.len() >= 4, "{commands:?}");
    for command in commands {
        let help = run(flowtrace(dir.path()), [command.as_str(), "--help"]).expect_code(0);
        for line in [
            "Exit codes:",
            "  3  tests failed",
            "  4  capability policy violated",
        ] {
            assert!(
                help.stdout.contains(line),
                "`{command} --help` lacks `{line}`:\n{}",
                help.stdout
            );
        }
    }
}

#[test]
fn package_help() {
    golden_help("package", &["package", "--help"]);
}

#[test]
fn publish_help() {
    golden_help("publish", &["publish", "--help"]);
}

#[test]
fn key_help() {
    golden_help("key", &["key", "--help"]);
}

#[test]
fn trust_help() {
    golden_help("trust", &["trust", "--help"]);
}

#[test]
fn config_help() {
    golden_help("config", &["config", "--help"]);
}

#[test]
fn trace_help() {
    golden_help("trace", &["trace", "--help"]);
}

#[test]
fn schema_help() {
    golden_help("schema", &["schema", "--help"]);
}
