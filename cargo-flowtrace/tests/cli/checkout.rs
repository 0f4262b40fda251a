//! `install <dir>` of a plugin directory in a git checkout: a clean checkout is recorded as
//! its commit (a git source, the plugin's place in the repository with it); a checkout with
//! changes, or without a commit, is taken as a directory, and the user is told why.

use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::build::{guest, new_plugin};
use crate::registry::git_in;
use crate::support::{run, tmp, Run};

fn install(dir: &Path, plugin: &Path) -> Run {
    run(guest(dir), ["install", "--force", plugin.to_str().unwrap()]).expect_code(0)
}

fn source(dir: &Path) -> Value {
    let out = run(guest(dir), ["info", "checkout", "--message-format", "json"]).expect_code(0);
    out.json_lines()[0]["source"].clone()
}

fn head(repo: &Path) -> String {
    let out = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(repo)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn a_plugin_directory_in_a_git_checkout_records_its_commit_when_clean() {
    let dir = tmp();
    let repo = dir.path().join("repo");
    fs::create_dir(&repo).unwrap();
    let plugin = new_plugin(&repo, "checkout", "rust-evaluator");
    let git = |args: &[&str]| git_in(&repo, dir.path(), args);
    git(&["init", "--quiet", "-b", "main"]);

    // Before the first commit: a directory.
    let out = install(dir.path(), &plugin);
    assert!(
        out.stderr.contains(&format!(
            "warning: `{}` is in a git checkout that has no commit yet: installed as a \
             directory, with no commit recorded",
            plugin.display()
        )),
        "{}",
        out.stderr
    );
    assert_eq!(source(dir.path())["type"], "path");

    // Clean: the commit, and the plugin's directory in the repository.
    git(&["add", "."]);
    git(&["commit", "--quiet", "-m", "plugin"]);
    let out = install(dir.path(), &plugin);
    let commit = head(&repo);
    assert!(
        out.stderr.contains(&format!(
            "Commit {commit} (`{}` is a clean git checkout)",
            plugin.display()
        )),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
    let recorded = source(dir.path());
    assert_eq!(recorded["type"], "git", "{recorded}");
    assert_eq!(recorded["commit"], commit.as_str());
    assert_eq!(
        recorded["url"],
        repo.canonicalize().unwrap().to_str().unwrap()
    );
    assert_eq!(recorded["path"], "checkout");
    let out = run(guest(dir.path()), ["list"]).expect_code(0);
    assert!(
        out.stdout.contains(&format!("@{}:checkout", &commit[..12])),
        "{}",
        out.stdout
    );

    // A changed file and an untracked one anywhere in the checkout: a directory, and why.
    fs::write(
        plugin.join("src/lib.rs"),
        fs::read_to_string(plugin.join("src/lib.rs")).unwrap() + "\n// edited\n",
    )
    .unwrap();
    fs::write(repo.join("notes.txt"), "todo").unwrap();
    let out = install(dir.path(), &plugin);
    assert!(
        out.stderr.contains(&format!(
            "warning: `{}` is in a git checkout that has changes not committed \
             (`checkout/src/lib.rs`, `notes.txt`): installed as a directory, with no commit \
             recorded",
            plugin.display()
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "help: commit the changes to record the commit, or pass `--git` to install the \
             last commit"
        ),
        "{}",
        out.stderr
    );
    let recorded = source(dir.path());
    assert_eq!(recorded["type"], "path", "{recorded}");

    // An ignored directory of a checkout is not part of it: no git state is claimed.
    fs::write(repo.join(".gitignore"), "vendored/\nnotes.txt\n").unwrap();
    git(&["add", "."]);
    git(&["commit", "--quiet", "-m", "ignore"]);
    let vendored = repo.join("vendored");
    fs::create_dir(&vendored).unwrap();
    fs::rename(&plugin, vendored.join("checkout")).unwrap();
    let out = install(dir.path(), &vendored.join("checkout"));
    assert!(!out.stderr.contains("git checkout"), "{}", out.stderr);
    assert_eq!(source(dir.path())["type"], "path");
}
