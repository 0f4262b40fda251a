//! `install`, `list`, `info`, `enable`, `disable`, `uninstall` on a private
//! `$FLOWTRACE_HOME`: every source kind, upgrades that ask for more, dependencies, hostile
//! archives and git URLs, and two processes at once.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use flowtrace_plugins::{inspect, testing};
use serde_json::Value;

use crate::support::{flowtrace, guest_target_dir, run, tmp, validated, Run};

fn base_component() -> &'static [u8] {
    static BASE: OnceLock<Vec<u8>> = OnceLock::new();
    BASE.get_or_init(|| testing::evaluator(&testing::guest_wat("behaviors")))
}

fn manifest(id: &str, version: &str, extra: &str) -> String {
    format!(
        "[plugin]\nid = \"{id}\"\nname = \"{id}\"\nversion = \"{version}\"\nkind = \"evaluator\"\n\n\
         [build]\nlanguage = \"rust\"\n\n{extra}\n"
    )
}

/// A built plugin, the way `cargo flowtrace build` writes it, in `dir`.
pub fn built(dir: &Path, id: &str, version: &str, extra: &str) -> PathBuf {
    let bytes = inspect::embed_manifest(base_component(), &manifest(id, version, extra)).unwrap();
    let path = dir.join(format!("{id}-{version}.wasm"));
    fs::write(&path, validated(bytes)).unwrap();
    path
}

fn cli(dir: &Path, args: &[&str]) -> Run {
    run(flowtrace(dir), args)
}

fn json(dir: &Path, args: &[&str]) -> Vec<Value> {
    let mut all = args.to_vec();
    all.extend(["--message-format", "json"]);
    cli(dir, &all).expect_code(0).json_lines()
}

fn listed(dir: &Path) -> Vec<Value> {
    let lines = json(dir, &["list"]);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["reason"], "plugin-list");
    lines[0]["plugins"].as_array().unwrap().clone()
}

fn home(dir: &Path) -> PathBuf {
    dir.join("flowtrace-home")
}

fn index(dir: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(home(dir).join("index.json")).unwrap())
        .expect("the index parses")
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn a_component_whose_limits_are_above_the_host_caps_is_not_installed() {
    let dir = tmp();
    let extra = "[limits]\ntimeout = \"10m\"\nmemory = \"4GiB\"\n";
    let wasm = built(dir.path(), "greedy", "0.1.0", extra);
    let out = cli(dir.path(), &["install", s(&wasm)]).expect_code(1);
    let stderr = out.stderr.replace(s(dir.path()), "[DIR]");
    let manifest = "[DIR]/greedy-0.1.0.wasm#flowtrace-manifest";
    for line in [
        "  0: plugin `greedy` 0.1.0 asks for more than this host allows".to_string(),
        format!("  1: invalid manifest `{manifest}`: 2 problems"),
        format!("       {manifest}:11:11: `timeout = \"10m\"` is above the host's cap of `5s`"),
        "         help: ask for at most `timeout = \"5s\"`, or leave `timeout` out to get the \
         host's cap"
            .to_string(),
        format!("       {manifest}:12:10: `memory = \"4GiB\"` is above the host's cap of `128MiB`"),
    ] {
        assert!(stderr.lines().any(|l| l == line), "{line}\n---\n{stderr}");
    }
    assert!(listed(dir.path()).is_empty());
}

#[test]
fn a_built_component_round_trips_through_every_command() {
    let dir = tmp();
    let wasm = built(dir.path(), "round-trip", "0.1.0", "");

    let out = cli(dir.path(), &["install", s(&wasm)]).expect_code(0);
    assert!(
        out.stderr
            .contains("Installed round-trip v0.1.0 (evaluator)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("Granted no capabilities"),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout.is_empty(),
        "human mode writes no JSON: {}",
        out.stdout
    );
    assert!(home(dir.path())
        .join("plugins/round-trip/0.1.0/precompiled")
        .read_dir()
        .unwrap()
        .next()
        .is_some());

    let out = cli(dir.path(), &["list"]).expect_code(0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stdout);
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        header,
        [
            "ID",
            "VERSION",
            "KIND",
            "LANGUAGE",
            "ENABLED",
            "CAPABILITIES",
            "SOURCE"
        ]
    );
    let row: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(
        row[..6],
        ["round-trip", "0.1.0", "evaluator", "rust", "yes", "none"]
    );
    assert!(row[6].ends_with("round-trip-0.1.0.wasm"), "{row:?}");

    let plugins = listed(dir.path());
    assert_eq!(plugins[0]["id"], "round-trip");
    assert_eq!(plugins[0]["enabled"], true);
    assert_eq!(plugins[0]["source"]["type"], "file");

    let info = cli(dir.path(), &["info", "round-trip"]).expect_code(0);
    let sha = index(dir.path())["plugins"]["round-trip"]["versions"]["0.1.0"]["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        info.stdout.contains(&format!("sha256: {sha}")),
        "{}",
        info.stdout
    );
    assert!(info.stdout.contains("0.1.0 (active)"), "{}", info.stdout);

    let out = cli(dir.path(), &["disable", "round-trip"]).expect_code(0);
    assert!(
        out.stderr.contains("Disabled round-trip v0.1.0"),
        "{}",
        out.stderr
    );
    assert_eq!(listed(dir.path())[0]["enabled"], false);
    let out = cli(dir.path(), &["disable", "round-trip"]).expect_code(0);
    assert!(out.stderr.contains("disabled already"), "{}", out.stderr);
    let out = cli(dir.path(), &["enable", "round-trip"]).expect_code(0);
    assert!(
        out.stderr.contains("Enabled round-trip v0.1.0"),
        "{}",
        out.stderr
    );
    assert_eq!(listed(dir.path())[0]["enabled"], true);

    let out = cli(dir.path(), &["uninstall", "round-trip"]).expect_code(0);
    assert!(
        out.stderr.contains("Removed round-trip v0.1.0"),
        "{}",
        out.stderr
    );
    assert!(listed(dir.path()).is_empty());
    assert!(!home(dir.path()).join("plugins/round-trip").exists());
    let out = cli(dir.path(), &["list"]).expect_code(0);
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr.contains("no plugins installed"),
        "{}",
        out.stderr
    );
}

/// A plugin directory whose manifest names the installed version (or a lower one) is refused
/// before it is built: the directory here cannot even be built (no `Cargo.toml`), so
/// reaching the build would fail otherwise.
#[test]
fn installing_an_installed_version_is_refused_before_building() {
    let dir = tmp();
    let wasm = built(dir.path(), "early", "0.2.0", "");
    cli(dir.path(), &["install", s(&wasm)]).expect_code(0);
    let source = dir.path().join("early");
    fs::create_dir(&source).unwrap();
    fs::write(
        source.join("flowtrace.toml"),
        manifest("early", "0.2.0", ""),
    )
    .unwrap();

    let out = cli(dir.path(), &["install", "./early"]).expect_code(1);
    assert!(
        out.stderr
            .starts_with("error: plugin `early` 0.2.0 is already installed\n"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("help: pass `--force` to reinstall it"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("Compiling"), "{}", out.stderr);

    fs::write(
        source.join("flowtrace.toml"),
        manifest("early", "0.1.0", ""),
    )
    .unwrap();
    let out = cli(dir.path(), &["install", "./early"]).expect_code(1);
    assert!(
        out.stderr.starts_with(
            "error: plugin `early` 0.2.0 is installed: installing 0.1.0 would downgrade it\n"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("help: pass `--allow-downgrade` to install it"),
        "{}",
        out.stderr
    );

    // With the flag, the build goes ahead (and here fails: there is nothing to build).
    let out = cli(dir.path(), &["install", "./early", "--allow-downgrade"]).expect_code(1);
    assert!(!out.stderr.contains("would downgrade"), "{}", out.stderr);
    assert!(out.stderr.contains("Cargo.toml"), "{}", out.stderr);
}

#[test]
fn reinstalls_and_downgrades_need_their_flag() {
    let dir = tmp();
    let v1 = built(dir.path(), "versions", "0.1.0", "");
    let v2 = built(dir.path(), "versions", "0.2.0", "");
    cli(dir.path(), &["install", s(&v2)]).expect_code(0);

    let out = cli(dir.path(), &["install", s(&v2)]).expect_code(1);
    assert!(
        out.stderr
            .contains("plugin `versions` 0.2.0 is already installed"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("help: pass `--force` to reinstall it"),
        "{}",
        out.stderr
    );
    let out = cli(dir.path(), &["install", s(&v2), "--force"]).expect_code(0);
    assert!(
        out.stderr.contains("Reinstalled versions v0.2.0"),
        "{}",
        out.stderr
    );

    let out = cli(dir.path(), &["install", s(&v1)]).expect_code(1);
    assert!(out.stderr.contains("--allow-downgrade"), "{}", out.stderr);
    let out = cli(dir.path(), &["install", s(&v1), "--allow-downgrade"]).expect_code(0);
    assert!(
        out.stderr.contains("Downgraded versions v0.2.0 -> v0.1.0"),
        "{}",
        out.stderr
    );
    let plugins = listed(dir.path());
    assert_eq!(plugins[0]["version"], "0.1.0");
    assert_eq!(
        plugins[0]["versions"],
        serde_json::json!(["0.1.0", "0.2.0"])
    );

    // One old version goes; the active one cannot go alone.
    let out = cli(dir.path(), &["uninstall", "versions", "--version", "0.1.0"]).expect_code(1);
    assert!(out.stderr.contains("active version"), "{}", out.stderr);
    let out = cli(dir.path(), &["uninstall", "versions", "--version", "0.2.0"]).expect_code(0);
    assert!(
        out.stderr.contains("still installed: versions v0.1.0"),
        "{}",
        out.stderr
    );
    assert_eq!(
        listed(dir.path())[0]["versions"],
        serde_json::json!(["0.1.0"])
    );
}

#[test]
fn an_upgrade_asking_for_more_waits_for_a_grant() {
    let dir = tmp();
    let v1 = built(
        dir.path(),
        "escalates",
        "0.1.0",
        "[capabilities]\nstorage = true\n",
    );
    let v2 = built(
        dir.path(),
        "escalates",
        "0.2.0",
        "[capabilities]\nstorage = true\nenv = [\"API_KEY\"]\nnetwork = { hosts = [\"api.example.com\"] }\n",
    );
    let out = cli(dir.path(), &["install", s(&v1)]).expect_code(0);
    assert!(out.stderr.contains("Granted storage"), "{}", out.stderr);

    let out = cli(dir.path(), &["install", s(&v2)]).expect_code(0);
    assert!(
        out.stderr.contains("Upgraded escalates v0.1.0 -> v0.2.0"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("stays disabled until you grant them"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("+ network host api.example.com"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("+ env API_KEY"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("cargo flowtrace enable escalates --grant"),
        "{}",
        out.stderr
    );
    let plugins = listed(dir.path());
    assert_eq!(plugins[0]["enabled"], false);
    assert_eq!(plugins[0]["capabilities"]["storage"], true);
    assert_eq!(plugins[0]["capabilities"]["env"], serde_json::json!([]));
    let table = cli(dir.path(), &["list"]).expect_code(0).stdout;
    assert!(table.contains("no (needs grants)"), "{table}");

    // Not a terminal: no prompt, a refusal with the fix.
    let out = cli(dir.path(), &["enable", "escalates"]).expect_code(1);
    assert!(
        out.stderr
            .contains("cargo flowtrace enable escalates --grant"),
        "{}",
        out.stderr
    );
    assert_eq!(listed(dir.path())[0]["enabled"], false);

    let lines = json(dir.path(), &["enable", "escalates", "--grant"]);
    assert_eq!(lines[0]["reason"], "plugin-enabled");
    assert_eq!(lines[0]["granted"].as_array().unwrap().len(), 2);
    let plugins = listed(dir.path());
    assert_eq!(plugins[0]["enabled"], true);
    assert_eq!(
        plugins[0]["capabilities"]["env"],
        serde_json::json!(["API_KEY"])
    );
}

#[test]
fn a_component_breaking_its_manifest_is_refused_with_the_policy_code() {
    let dir = tmp();
    let component = crate::support::evaluator_importing(&["flowtrace:plugin/kv@0.1.0"]);
    let bytes = inspect::embed_manifest(&component, &manifest("sneaky", "0.1.0", "")).unwrap();
    let wasm = dir.path().join("sneaky.wasm");
    fs::write(&wasm, bytes).unwrap();
    let out = cli(dir.path(), &["install", s(&wasm)]).expect_code(4);
    assert!(
        out.stderr.contains("fails the capability check"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("help:"), "{}", out.stderr);
    assert!(listed(dir.path()).is_empty());

    // No embedded manifest: the fix is `cargo flowtrace build`.
    let plain = dir.path().join("plain.wasm");
    fs::write(&plain, base_component()).unwrap();
    let out = cli(dir.path(), &["install", s(&plain)]).expect_code(1);
    assert!(
        out.stderr.contains("cargo flowtrace build"),
        "{}",
        out.stderr
    );
}

#[test]
fn dependencies_are_resolved_and_protected() {
    let dir = tmp();
    let base = built(dir.path(), "base", "1.2.0", "");
    let user = built(
        dir.path(),
        "user",
        "0.1.0",
        "[dependencies]\nbase = \"^1.1\"\n",
    );
    let old_user = built(
        dir.path(),
        "old-user",
        "0.1.0",
        "[dependencies]\nbase = \"^2\"\n",
    );

    let out = cli(dir.path(), &["install", s(&user)]).expect_code(1);
    assert!(out.stderr.contains("`base`"), "{}", out.stderr);
    assert!(
        out.stderr.contains("help: install a version of `base`"),
        "{}",
        out.stderr
    );
    assert!(
        listed(dir.path()).is_empty(),
        "a failed install leaves nothing"
    );

    cli(dir.path(), &["install", s(&base)]).expect_code(0);
    cli(dir.path(), &["install", s(&user)]).expect_code(0);
    let out = cli(dir.path(), &["install", s(&old_user)]).expect_code(1);
    assert!(out.stderr.contains("^2"), "{}", out.stderr);

    let out = cli(dir.path(), &["disable", "base"]).expect_code(1);
    assert!(out.stderr.contains("`user`"), "{}", out.stderr);
    assert!(out.stderr.contains("--force"), "{}", out.stderr);
    let out = cli(dir.path(), &["uninstall", "base"]).expect_code(1);
    assert!(out.stderr.contains("`user`"), "{}", out.stderr);
    assert_eq!(listed(dir.path()).len(), 2);

    let info = json(dir.path(), &["info", "base"]);
    assert_eq!(info[0]["dependents"], serde_json::json!(["user"]));

    let out = cli(dir.path(), &["uninstall", "base", "--force"]).expect_code(0);
    assert!(
        out.stderr
            .contains("warning: enabled plugin `user` depends on `base`, which is now uninstalled"),
        "{}",
        out.stderr
    );
}

#[test]
fn unsafe_sources_are_refused_before_anything_runs() {
    let dir = tmp();
    for (source, expected) in [
        ("ext::sh -c touch% pwned", "refusing git source"),
        ("ssh://host/repo.git", "refusing git source"),
        ("https://example.com/r.git#-x", "invalid git revision"),
        (
            "does/not/exist",
            "is not a file, a directory, a git URL or a registry reference",
        ),
    ] {
        let out = cli(dir.path(), &["install", source]).expect_code(1);
        assert!(out.stderr.contains(expected), "{source}: {}", out.stderr);
        assert!(out.stderr.contains("help:"), "{source}: {}", out.stderr);
    }
    // After `--`, a source starting with `-` is not an option, and still not cloned.
    let out = cli(dir.path(), &["install", "--", "-uhello"]).expect_code(1);
    assert!(out.stderr.contains("starts with `-`"), "{}", out.stderr);
    assert!(!dir.path().join("pwned").exists());
    assert!(listed(dir.path()).is_empty());
}

/// A `.tar.gz` with these entries (each `(path, kind, data)`), written byte by byte so the
/// test controls what the archive claims.
fn tarball(path: &Path, entries: &[(&str, tar::EntryType, &[u8])]) {
    let file = fs::File::create(path).unwrap();
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    let mut builder = tar::Builder::new(gz);
    for (name, kind, data) in entries {
        let mut header = tar::Header::new_gnu();
        // `set_path` refuses `..`; the raw name field does not.
        let raw = &mut header.as_old_mut().name;
        raw[..name.len()].copy_from_slice(name.as_bytes());
        header.set_entry_type(*kind);
        header.set_mode(0o644);
        if kind.is_symlink() || kind.is_hard_link() {
            header.set_link_name("/etc/passwd").unwrap();
            header.set_size(0);
        } else {
            header.set_size(data.len() as u64);
        }
        header.set_cksum();
        builder.append(&header, *data).unwrap();
    }
    builder
        .into_inner()
        .unwrap()
        .finish()
        .unwrap()
        .flush()
        .unwrap();
}

#[test]
fn archives_install_and_hostile_archives_write_nothing() {
    let dir = tmp();
    let wasm = built(dir.path(), "from-archive", "0.3.0", "");
    let bytes = fs::read(&wasm).unwrap();
    let good = dir.path().join("good.tar.gz");
    tarball(
        &good,
        &[
            ("from-archive/", tar::EntryType::Directory, b""),
            (
                "from-archive/from-archive-0.3.0.wasm",
                tar::EntryType::Regular,
                &bytes,
            ),
            ("from-archive/README.md", tar::EntryType::Regular, b"hello"),
        ],
    );
    let out = cli(dir.path(), &["install", s(&good)]).expect_code(0);
    assert!(
        out.stderr.contains("Installed from-archive v0.3.0"),
        "{}",
        out.stderr
    );
    assert_eq!(listed(dir.path())[0]["source"]["type"], "archive");

    let outside = dir.path().join("escaped");
    for (name, entries, expected) in [
        (
            "dotdot",
            vec![("../escaped", tar::EntryType::Regular, &b"x"[..])],
            "unsafe path in archive",
        ),
        (
            "absolute",
            vec![(s(&outside), tar::EntryType::Regular, &b"x"[..])],
            "unsafe path in archive",
        ),
        (
            "symlink",
            vec![("link", tar::EntryType::Symlink, &b""[..])],
            "link",
        ),
        (
            "hardlink",
            vec![("link", tar::EntryType::Link, &b""[..])],
            "link",
        ),
        (
            "device",
            vec![("dev", tar::EntryType::Char, &b""[..])],
            "device",
        ),
    ] {
        let archive = dir.path().join(format!("{name}.tar.gz"));
        tarball(&archive, &entries);
        let out = cli(dir.path(), &["install", s(&archive)]).expect_code(1);
        assert!(out.stderr.contains(expected), "{name}: {}", out.stderr);
        assert!(!outside.exists(), "{name} wrote outside");
        assert_eq!(listed(dir.path()).len(), 1, "{name}");
        let tmp_left: Vec<_> = fs::read_dir(home(dir.path()).join("tmp"))
            .unwrap()
            .collect();
        assert!(tmp_left.is_empty(), "{name} left {tmp_left:?}");
    }

    // A bomb: 64 MiB of zeros squeezes into ~64 KiB.
    let zeros = vec![0u8; 64 << 20];
    let bomb = dir.path().join("bomb.tar.gz");
    tarball(&bomb, &[("zeros", tar::EntryType::Regular, &zeros)]);
    let out = cli(dir.path(), &["install", s(&bomb)]).expect_code(1);
    assert!(out.stderr.contains("expands"), "{}", out.stderr);
}

/// A fresh plugin from the template, built into the tests' shared guest target dir.
fn scaffold(dir: &Path, name: &str) -> PathBuf {
    cli(dir, &["new", name]).expect_code(0);
    dir.join(name)
}

fn with_guest_target(mut command: Command) -> Command {
    command.env("CARGO_TARGET_DIR", guest_target_dir());
    command
}

/// `git args` in `repo`, with the test's empty git configuration under `dir`.
pub fn git_in(repo: &Path, dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(repo)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", dir.join("gitconfig"))
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

#[test]
fn plugin_directories_and_git_repositories_are_built_then_installed() {
    let dir = tmp();
    let plugin = scaffold(dir.path(), "from-source");
    let out = run(
        with_guest_target(flowtrace(dir.path())),
        ["install", "--debug", s(&plugin)],
    )
    .expect_code(0);
    assert!(
        out.stderr.contains("Compiling plugin `from-source`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("Installed from-source v0.1.0"),
        "{}",
        out.stderr
    );
    assert_eq!(listed(dir.path())[0]["source"]["type"], "path");

    // Renamed in its manifest: installing from the same directory would add a second
    // plugin beside the first; it is refused with the way out.
    let manifest = plugin.join("flowtrace.toml");
    let original = fs::read_to_string(&manifest).unwrap();
    fs::write(
        &manifest,
        original.replace("id = \"from-source\"", "id = \"renamed\""),
    )
    .unwrap();
    let out = run(
        with_guest_target(flowtrace(dir.path())),
        ["install", "--debug", "--force", s(&plugin)],
    )
    .expect_code(1);
    assert!(
        out.stderr
            .contains("expected plugin `from-source`, but the component's manifest says `renamed`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("cargo flowtrace uninstall from-source"),
        "{}",
        out.stderr
    );
    fs::write(&manifest, original).unwrap();
    assert_eq!(listed(dir.path()).len(), 1);

    // The same plugin as a git repository, at a tag, after a commit that bumps the version.
    let git = |args: &[&str]| git_in(&plugin, dir.path(), args);
    git(&["init", "--quiet", "-b", "main"]);
    git(&["add", "."]);
    git(&["commit", "--quiet", "-m", "v0.1.0"]);
    let manifest = plugin.join("flowtrace.toml");
    let text = fs::read_to_string(&manifest).unwrap();
    fs::write(
        &manifest,
        text.replace("version = \"0.1.0\"", "version = \"0.2.0\""),
    )
    .unwrap();
    git(&["commit", "--quiet", "-am", "v0.2.0"]);
    git(&["tag", "v0.2.0"]);
    // Later work that must not be installed.
    let text = fs::read_to_string(&manifest).unwrap();
    fs::write(
        &manifest,
        text.replace("version = \"0.2.0\"", "version = \"0.3.0\""),
    )
    .unwrap();
    git(&["commit", "--quiet", "-am", "v0.3.0"]);

    let url = format!("file://{}#v0.2.0", plugin.display());
    let out = run(
        with_guest_target(flowtrace(dir.path())),
        ["install", "--debug", &url],
    )
    .expect_code(0);
    assert!(out.stderr.contains("Cloning"), "{}", out.stderr);
    assert!(
        out.stderr.contains("Upgraded from-source v0.1.0 -> v0.2.0"),
        "{}",
        out.stderr
    );
    let info = json(dir.path(), &["info", "from-source"]);
    let source = &info[0]["source"];
    assert_eq!(source["type"], "git");
    assert_eq!(source["rev"], "v0.2.0");
    assert_eq!(source["commit"].as_str().unwrap().len(), 40);
    let tmp_left: Vec<_> = fs::read_dir(home(dir.path()).join("tmp"))
        .unwrap()
        .collect();
    assert!(tmp_left.is_empty(), "the clone is removed: {tmp_left:?}");

    // The working tree (now 0.3.0) as a source archive, the way `tar` makes one.
    let archive = dir.path().join("from-source-src.tar.gz");
    let status = Command::new("tar")
        .arg("czf")
        .arg(&archive)
        .args(["--exclude", "./target", "--exclude", "./.git", "-C"])
        .arg(&plugin)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success());
    let out = run(
        with_guest_target(flowtrace(dir.path())),
        ["install", "--debug", s(&archive)],
    )
    .expect_code(0);
    assert!(out.stderr.contains("Unpacking"), "{}", out.stderr);
    assert!(
        out.stderr.contains("Compiling plugin `from-source`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("Upgraded from-source v0.2.0 -> v0.3.0"),
        "{}",
        out.stderr
    );
    assert_eq!(listed(dir.path())[0]["source"]["type"], "archive");
    let tmp_left: Vec<_> = fs::read_dir(home(dir.path()).join("tmp"))
        .unwrap()
        .collect();
    assert!(
        tmp_left.is_empty(),
        "the extracted archive is removed: {tmp_left:?}"
    );
}

#[test]
fn two_installs_at_once_leave_one_winner_and_a_parsable_index() {
    let dir = tmp();
    let wasm = built(dir.path(), "raced", "0.1.0", "");
    let spawn = || {
        flowtrace(dir.path())
            .args(["install", s(&wasm)])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let children = [spawn(), spawn()];
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let codes: Vec<i32> = outputs.iter().map(|o| o.status.code().unwrap()).collect();
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [0, 1],
        "one wins, the other is told it is installed: {outputs:?}"
    );
    let loser = &outputs[codes.iter().position(|c| *c == 1).unwrap()];
    assert!(String::from_utf8_lossy(&loser.stderr).contains("already installed"));
    assert_eq!(index(dir.path())["plugins"]["raced"]["active"], "0.1.0");
    assert_eq!(listed(dir.path()).len(), 1);
}

#[test]
fn a_held_lock_makes_a_writer_wait_then_give_up_naming_the_holder() {
    let dir = tmp();
    let wasm = built(dir.path(), "waits", "0.1.0", "");
    // Create the registry, then hold its lock the way another process would.
    cli(dir.path(), &["list"]).expect_code(0);
    let lock = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(home(dir.path()).join("registry.lock"))
        .unwrap();
    lock.lock().unwrap();
    fs::write(
        home(dir.path()).join("registry.lock.holder"),
        r#"{"pid": 4242, "command": "cargo flowtrace install other"}"#,
    )
    .unwrap();
    let out = run(
        {
            let mut c = flowtrace(dir.path());
            c.env("FLOWTRACE_LOCK_TIMEOUT", "0.5");
            c
        },
        ["install", s(&wasm)],
    )
    .expect_code(1);
    assert!(
        out.stderr.contains("Blocking waiting for file lock on"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("4242"), "{}", out.stderr);
    lock.unlock().unwrap();
    cli(dir.path(), &["install", s(&wasm)]).expect_code(0);

    let out = run(
        {
            let mut c = flowtrace(dir.path());
            c.env("FLOWTRACE_LOCK_TIMEOUT", "soon");
            c
        },
        ["list"],
    )
    .expect_code(1);
    assert!(
        out.stderr
            .contains("invalid `FLOWTRACE_LOCK_TIMEOUT` value `soon`"),
        "{}",
        out.stderr
    );
}

#[test]
fn unknown_plugins_and_bad_ids_say_what_to_do() {
    let dir = tmp();
    let out = cli(dir.path(), &["enable", "nobody"]).expect_code(1);
    assert!(
        out.stderr.contains("plugin `nobody` is not installed"),
        "{}",
        out.stderr
    );
    let out = cli(dir.path(), &["info", "Not/An/Id"]).expect_code(1);
    assert!(
        out.stderr.contains("invalid plugin id `Not/An/Id`"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("help:"), "{}", out.stderr);
}

/// Run the binary on a pseudo-terminal (util-linux `script`), typing `answer`.
fn on_a_terminal(dir: &Path, args: &[&str], answer: &str) -> Run {
    let binary = env!("CARGO_BIN_EXE_cargo-flowtrace");
    let command_line: Vec<String> = std::iter::once(binary)
        .chain(args.iter().copied())
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect();
    let mut script = Command::new("script");
    script
        .args(["--quiet", "--return", "--command"])
        .arg(command_line.join(" "))
        .arg("/dev/null");
    // The environment `flowtrace` sets, on `script` instead of the binary.
    let template = flowtrace(dir);
    for (key, value) in template.get_envs() {
        match value {
            Some(v) => script.env(key, v),
            None => script.env_remove(key),
        };
    }
    script
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut child = script.spawn().expect("util-linux `script` runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(answer.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::new(),
    }
}

#[test]
fn on_a_terminal_an_upgrade_asks_before_granting() {
    let dir = tmp();
    let v1 = built(dir.path(), "asks", "0.1.0", "");
    let v2 = built(
        dir.path(),
        "asks",
        "0.2.0",
        "[capabilities]\ntraces = true\n",
    );
    let v3 = built(
        dir.path(),
        "asks",
        "0.3.0",
        "[capabilities]\ntraces = true\nstorage = true\n",
    );
    cli(dir.path(), &["install", s(&v1)]).expect_code(0);

    // The terminal shows everything on one stream: stdout of `script`.
    let out = on_a_terminal(dir.path(), &["install", s(&v2)], "n\n").expect_code(0);
    assert!(out.stdout.contains("+ traces"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("Grant these capabilities and enable `asks`? [y/N]"),
        "{}",
        out.stdout
    );
    assert_eq!(listed(dir.path())[0]["enabled"], false);

    let out = on_a_terminal(dir.path(), &["enable", "asks"], "y\n").expect_code(0);
    assert!(out.stdout.contains("Enabled asks v0.2.0"), "{}", out.stdout);
    assert!(out.stdout.contains("Granted traces"), "{}", out.stdout);
    assert_eq!(listed(dir.path())[0]["enabled"], true);

    let out = on_a_terminal(dir.path(), &["install", s(&v3)], "yes\n").expect_code(0);
    assert!(out.stdout.contains("+ storage"), "{}", out.stdout);
    assert!(out.stdout.contains("Enabled asks v0.3.0"), "{}", out.stdout);
    let plugin = &listed(dir.path())[0];
    assert_eq!(plugin["enabled"], true);
    assert_eq!(plugin["capabilities"]["storage"], true);
}

#[test]
fn hostile_embedded_manifests_are_refused_and_write_nothing() {
    let dir = tmp();
    let long = "x".repeat(2 << 20);
    let cases: Vec<(String, &str)> = vec![
        (manifest("../../escape", "0.1.0", ""), "invalid plugin id"),
        (manifest("con", "0.1.0", ""), "reserved"),
        (manifest("ok-id", "not-semver", ""), "version"),
        (
            manifest("ok-id", "0.1.0", "").replace("kind = \"evaluator\"", "kind = \"rootkit\""),
            "kind",
        ),
        (
            manifest("ok-id", "0.1.0", "[plugin.extra]\nx = 1\n"),
            "manifest",
        ),
        (
            format!("{}\n# {long}\n", manifest("ok-id", "0.1.0", "")),
            "manifest",
        ),
        (
            manifest("ok-id", "0.1.0", "").replace("[plugin]", "[plugin]\nflowtrace = \"^9\""),
            "contract",
        ),
    ];
    for (i, (text, expected)) in cases.iter().enumerate() {
        // Written raw, as a hostile producer would: not through `embed_manifest`'s checks.
        let bytes = testing::with_custom_section(
            base_component().to_vec(),
            inspect::MANIFEST_SECTION,
            text.as_bytes(),
            None,
        );
        let wasm = dir.path().join(format!("hostile-{i}.wasm"));
        fs::write(&wasm, bytes).unwrap();
        let out = cli(dir.path(), &["install", s(&wasm)]);
        assert_eq!(out.code, 1, "case {i}: {}", out.stderr);
        assert!(
            out.stderr.to_lowercase().contains(expected),
            "case {i} ({expected}): {}",
            out.stderr
        );
        assert!(!out.stderr.contains("panicked"), "case {i}: {}", out.stderr);
    }
    assert!(listed(dir.path()).is_empty());
    let plugins: Vec<_> = fs::read_dir(home(dir.path()).join("plugins"))
        .unwrap()
        .collect();
    assert!(plugins.is_empty(), "{plugins:?}");
    assert!(!dir.path().join("escape").exists());
}

#[test]
fn a_plugin_in_a_directory_of_a_monorepo_installs_from_git() {
    let dir = tmp();
    let repo = dir.path().join("monorepo");
    fs::create_dir_all(repo.join("plugins")).unwrap();
    cli(&repo.join("plugins"), &["new", "mono-eval"]).expect_code(0);
    fs::write(repo.join("README.md"), "several plugins\n").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("/tmp", repo.join("escape")).unwrap();
    let git = |args: &[&str]| git_in(&repo, dir.path(), args);
    git(&["init", "--quiet", "-b", "main"]);
    git(&["add", "."]);
    git(&["commit", "--quiet", "-m", "plugins"]);
    git(&["tag", "v1"]);

    let url = format!("file://{}", repo.display());
    let install = |args: &[&str]| {
        let mut all = vec!["install", "--debug"];
        all.extend_from_slice(args);
        run(with_guest_target(flowtrace(dir.path())), all)
    };
    let out = install(&[&format!("{url}#v1:plugins/mono-eval")]).expect_code(0);
    assert!(
        out.stderr.contains("Installed mono-eval v0.1.0"),
        "{}",
        out.stderr
    );
    let source = &listed(dir.path())[0]["source"];
    assert_eq!(source["type"], "git");
    assert_eq!(source["rev"], "v1");
    assert_eq!(source["path"], "plugins/mono-eval");
    // The same with `--path`, at the default branch.
    let out = install(&["--force", "--path", "plugins/mono-eval/", &url]).expect_code(0);
    assert!(
        out.stderr.contains("Reinstalled mono-eval v0.1.0"),
        "{}",
        out.stderr
    );

    // The repository's root is no plugin; paths out of it are refused before any clone.
    let before = fs::read(home(dir.path()).join("index.json")).unwrap();
    for (args, expected) in [
        (vec![url.clone()], "has no `flowtrace.toml` at its root"),
        (
            vec![format!("{url}#:plugins/none")],
            "has no directory `plugins/none`",
        ),
        (vec![format!("{url}#:escape")], "has no directory `escape`"),
        (
            vec![format!("{url}#v1:../outside")],
            "may not hold empty, `.` or `..` parts",
        ),
        (vec![format!("{url}#:/etc")], "must be relative"),
        (
            vec![
                "--path".into(),
                "x".into(),
                repo.join("plugins/mono-eval").display().to_string(),
            ],
            "applies to git repositories only",
        ),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = install(&args).expect_code(1);
        assert!(out.stderr.contains(expected), "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains("help:"), "{args:?}: {}", out.stderr);
    }
    assert_eq!(
        fs::read(home(dir.path()).join("index.json")).unwrap(),
        before
    );
}

#[test]
fn a_broken_index_record_costs_only_its_own_plugin() {
    let dir = tmp();
    for id in ["fine", "damaged"] {
        let wasm = built(dir.path(), id, "0.1.0", "");
        cli(dir.path(), &["install", s(&wasm)]).expect_code(0);
    }
    let mut record = index(dir.path());
    record["plugins"]["damaged"]["active"] = "9.9.9".into();
    fs::write(
        home(dir.path()).join("index.json"),
        serde_json::to_vec_pretty(&record).unwrap(),
    )
    .unwrap();

    let out = cli(dir.path(), &["list"]).expect_code(0);
    assert!(out.stdout.contains("fine"), "{}", out.stdout);
    assert!(!out.stdout.contains("damaged"), "{}", out.stdout);
    assert!(
        out.stderr.contains(
            "warning: plugin `damaged` is left out: its record in the registry index is broken: \
             active version 9.9.9 has no record in the index"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("cargo flowtrace uninstall damaged"),
        "{}",
        out.stderr
    );
    let lines = json(dir.path(), &["list"]);
    assert_eq!(lines[0]["plugins"].as_array().unwrap().len(), 1);
    assert_eq!(lines[0]["broken"][0]["id"], "damaged");
    assert_eq!(lines[0]["broken"][0]["active"], "9.9.9");

    let trace = serde_json::to_string(&testing::trace_with_spans(2)).unwrap();
    fs::write(dir.path().join("trace.json"), trace).unwrap();
    cli(dir.path(), &["eval", "fine", "trace.json"]).expect_code(0);
    let out = cli(dir.path(), &["eval", "damaged", "trace.json"]).expect_code(1);
    assert!(
        out.stderr
            .contains("plugin `damaged` has active version 9.9.9 but no record of it"),
        "{}",
        out.stderr
    );

    cli(dir.path(), &["uninstall", "damaged"]).expect_code(0);
    let out = cli(dir.path(), &["list"]).expect_code(0);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
}

#[test]
fn eval_of_a_plugin_waiting_for_grants_says_how_to_grant_them() {
    let dir = tmp();
    let v1 = built(dir.path(), "awaiting", "0.1.0", "");
    cli(dir.path(), &["install", s(&v1)]).expect_code(0);
    // 0.2.0 imports `kv` and `traces`: installed disabled, waiting for the grant.
    let counter = testing::componentize(&testing::guest_wat("counter"), testing::COUNTER_WORLD)
        .expect("the counter guest builds");
    let v2 = dir.path().join("awaiting-0.2.0.wasm");
    let text = manifest(
        "awaiting",
        "0.2.0",
        "[capabilities]\nstorage = true\ntraces = true\n",
    );
    fs::write(
        &v2,
        validated(inspect::embed_manifest(&counter, &text).unwrap()),
    )
    .unwrap();
    cli(dir.path(), &["install", s(&v2)]).expect_code(0);
    let trace = serde_json::to_string(&testing::trace_with_spans(2)).unwrap();
    fs::write(dir.path().join("trace.json"), trace).unwrap();

    let out = cli(dir.path(), &["eval", "awaiting", "trace.json"]).expect_code(1);
    assert!(
        out.stderr.contains(
            "plugin `awaiting` 0.2.0 asks for capabilities not granted yet: storage, traces"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("help: grant them with `cargo flowtrace enable awaiting --grant`"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("import"),
        "no linker error: {}",
        out.stderr
    );
}

/// A component of `guest` (the runtime's test guests) for `world`, with its manifest.
fn built_guest(dir: &Path, id: &str, guest: &str, world: &str, kind: &str, extra: &str) -> PathBuf {
    let component = testing::componentize(
        &testing::guest_wat(guest),
        &format!("package test:guest; world w {{ {world} }}"),
    )
    .unwrap();
    let manifest =
        manifest(id, "1.0.0", extra).replace("kind = \"evaluator\"", &format!("kind = \"{kind}\""));
    let bytes = inspect::embed_manifest(&component, &manifest).unwrap();
    let path = dir.join(format!("{id}.wasm"));
    fs::write(&path, validated(bytes)).unwrap();
    path
}

#[test]
fn the_embedder_of_a_plugin_is_chosen_with_enable_and_shown_by_info() {
    let dir = tmp();
    let emb = built_guest(
        dir.path(),
        "emb",
        "embedder",
        "export flowtrace:plugin/embedder@0.1.0;",
        "embedder",
        "",
    );
    let user = built_guest(
        dir.path(),
        "user",
        "embeddings-user",
        "import flowtrace:plugin/embeddings@0.1.0; export flowtrace:plugin/evaluator@0.1.0;",
        "evaluator",
        "[capabilities]\nembeddings = true",
    );
    let plain = built(dir.path(), "plain", "1.0.0", "");
    for path in [&emb, &user, &plain] {
        cli(dir.path(), &["install", s(path)]).expect_code(0);
    }

    let out = cli(dir.path(), &["info", "user"]).expect_code(0);
    assert!(
        out.stdout.contains(
            "    embeddings: no embedder chosen: it does not load until one is (`cargo \
             flowtrace enable user --embedder <ID>`)"
        ),
        "{}",
        out.stdout
    );
    let out = cli(dir.path(), &["info", "plain"]).expect_code(0);
    assert!(!out.stdout.contains("embeddings:"), "{}", out.stdout);

    let out = cli(dir.path(), &["enable", "user", "--embedder", "emb"]).expect_code(0);
    assert!(
        out.stderr
            .contains("Wired `user`'s embeddings are served by `emb`"),
        "{}",
        out.stderr
    );
    let out = cli(dir.path(), &["info", "user"]).expect_code(0);
    assert!(
        out.stdout
            .contains("    embeddings: served by `emb` (chosen for it)"),
        "{}",
        out.stdout
    );
    let out = cli(dir.path(), &["info", "emb"]).expect_code(0);
    assert!(
        out.stdout.contains("    embeds for: user"),
        "{}",
        out.stdout
    );
    let info = json(dir.path(), &["info", "user"]);
    assert_eq!(
        info[0]["embedder"],
        serde_json::json!({"chosen": "for-plugin", "embedder": "emb"})
    );

    cli(dir.path(), &["enable", "emb", "--default-embedder"]).expect_code(0);
    assert_eq!(index(dir.path())["embedder"], "emb");

    let out = cli(dir.path(), &["enable", "user", "--embedder", "plain"]).expect_code(1);
    assert!(
        out.stderr
            .contains("plugin `plain` is an evaluator, not an embedder"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_corrupt_index_names_doctor_repair_which_rebuilds_it() {
    let dir = tmp();
    let first = built(dir.path(), "first", "0.1.0", "");
    let second = built(dir.path(), "second", "0.1.0", "");
    cli(dir.path(), &["install", s(&first)]).expect_code(0);
    cli(dir.path(), &["install", s(&second)]).expect_code(0);
    cli(dir.path(), &["disable", "second"]).expect_code(0);
    let index_path = home(dir.path()).join("index.json");
    fs::write(&index_path, "{\"format-version\": 1, \"plugins\": {").unwrap();

    let out = cli(dir.path(), &["list"]).expect_code(1);
    let stderr = out.stderr.replace(s(dir.path()), "[DIR]");
    assert!(
        stderr.contains("the registry index `[DIR]/flowtrace-home/index.json` is corrupt"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "help: run `cargo flowtrace doctor --repair`: it rebuilds the index from the \
             installed plugins, each checked against the hashes recorded at install"
        ),
        "{stderr}"
    );

    let out = cli(dir.path(), &["doctor", "--repair"]).expect_code(0);
    assert!(
        out.stderr
            .contains("Recovered first v0.1.0 (enabled, as before)"),
        "{}",
        out.stderr
    );
    // Disabled by the last write, which the backup holds.
    assert!(
        out.stderr
            .contains("Recovered second v0.1.0 (disabled, as before)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("Repaired the registry index: 2 plugins recovered, 0 left out"),
        "{}",
        out.stderr
    );
    let plugins = listed(dir.path());
    let state: Vec<(String, bool)> = plugins
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_owned(),
                p["enabled"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(state, [("first".into(), true), ("second".into(), false)]);
    let lines = json(dir.path(), &["doctor", "--repair"]);
    assert_eq!(lines[0]["reason"], "registry-repaired");
    assert_eq!(lines[0]["repaired"], false);
}
