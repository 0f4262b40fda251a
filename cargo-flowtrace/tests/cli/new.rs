//! `new` and `init`: every template writes a complete plugin whose manifest is valid, nothing
//! is ever overwritten, and bad ids are refused with the rule and a fix.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use flowtrace_plugins::manifest::Manifest;

use crate::support::{assert_golden, flowtrace, normalize, run, tmp};

/// Every plugin kind of the contract has a Rust template.
const RUST_TEMPLATES: [(&str, &str); 4] = [
    ("rust-evaluator", "evaluator"),
    ("rust-exporter", "exporter"),
    ("rust-embedder", "embedder"),
    ("rust-transformer", "transformer"),
];

/// The templates as the binary lists them: name and kind.
fn listed_templates(dir: &Path) -> Vec<(String, String)> {
    let out = run(
        flowtrace(dir),
        ["new", "--list-templates", "--message-format", "json"],
    )
    .expect_code(0);
    out.json_lines()
        .iter()
        .map(|t| {
            assert_eq!(t["reason"], "template");
            assert!(!t["description"].as_str().unwrap().is_empty(), "{t}");
            (
                t["name"].as_str().unwrap().to_string(),
                t["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The files a template writes, read from the repository's `templates/`: every file but
/// `template.toml`, with `.hbs` dropped, and those of `_shared/<language>/`; for a Rust plugin also the two files that point cargo
/// at the SDK `build` supplies.
fn expected_files(template: &str) -> BTreeSet<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<PathBuf>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            if path.is_dir() {
                if rel != Path::new("target") {
                    walk(root, &path, out);
                }
            } else if rel != Path::new("template.toml") {
                let rel = rel.to_string_lossy();
                out.insert(PathBuf::from(rel.strip_suffix(".hbs").unwrap_or(&rel)));
            }
        }
    }
    let root = templates_dir().join(template);
    let mut out = BTreeSet::new();
    walk(&root, &root, &mut out);
    // Its Flowtrace JSON traces name their JSON Schema, which `new` writes beside them.
    let names_schema = out.iter().any(|f| {
        f.starts_with("tests/traces")
            && fs::read_to_string(root.join(f))
                .unwrap()
                .contains("\"$schema\": \"./trace.schema.json\"")
    });
    if names_schema {
        out.insert(PathBuf::from("tests/traces/trace.schema.json"));
    }
    // And the files every template of its language shares (`_shared/<language>/`).
    let language = template.split('-').next().unwrap();
    let shared = templates_dir().join("_shared").join(language);
    if shared.is_dir() {
        walk(&shared, &shared, &mut out);
    }
    if out.contains(Path::new("Cargo.toml")) {
        out.insert(PathBuf::from(".cargo/config.toml"));
        out.insert(PathBuf::from(".cargo/flowtrace-sdk.toml"));
    }
    out
}

/// `0.1` for the SDK version in the repository's `sdk/rust/Cargo.toml`.
pub fn sdk_requirement() -> String {
    let text =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk/rust/Cargo.toml"))
            .unwrap();
    let cargo: toml::Table = toml::from_str(&text).unwrap();
    let version = semver::Version::parse(cargo["package"]["version"].as_str().unwrap()).unwrap();
    format!("{}.{}", version.major, version.minor)
}

fn templates_dir() -> PathBuf {
    std::env::var_os("FLOWTRACE_TEMPLATES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates"))
}

fn files_under(root: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    out
}

#[test]
fn every_plugin_kind_has_a_rust_template() {
    let dir = tmp();
    let listed = listed_templates(dir.path());
    for (name, kind) in RUST_TEMPLATES {
        assert!(
            listed.contains(&(name.to_string(), kind.to_string())),
            "template `{name}` ({kind}) missing from {listed:?}"
        );
    }
}

#[test]
fn new_writes_every_template_as_a_valid_plugin() {
    let dir = tmp();
    for (template, kind) in listed_templates(dir.path()) {
        // One plugin per template: two templates may scaffold the same kind.
        let id = format!("my-{template}");
        let out = run(
            flowtrace(dir.path()),
            ["new", id.as_str(), "--template", template.as_str()],
        )
        .expect_code(0);
        assert_eq!(
            out.stdout, "",
            "{template}: human output of `new` is on stderr"
        );
        let plugin = dir.path().join(&id);
        assert_eq!(
            files_under(&plugin),
            expected_files(&template),
            "{template}: the files written"
        );

        let manifest = Manifest::from_file(&plugin.join("flowtrace.toml"))
            .unwrap_or_else(|e| panic!("{template}: the generated manifest is invalid:\n{e}"));
        assert_eq!(manifest.plugin.id.as_str(), id, "{template}");
        assert_eq!(manifest.plugin.kind.as_str(), kind, "{template}");

        if plugin.join("Cargo.toml").exists() {
            let text = fs::read_to_string(plugin.join("Cargo.toml")).unwrap();
            let cargo: toml::Table = toml::from_str(&text)
                .unwrap_or_else(|e| panic!("{template}: Cargo.toml is not TOML: {e}\n{text}"));
            let sdk = &cargo["dependencies"]["flowtrace-plugin-sdk"];
            // By version, as on crates.io: `build` supplies the SDK this binary carries.
            assert_eq!(sdk.as_str(), Some(sdk_requirement().as_str()), "{template}");
        }
    }
}

#[test]
fn new_prints_what_it_made_and_the_next_commands() {
    let dir = tmp();
    let out = run(flowtrace(dir.path()), ["new", "sample-evaluator"]).expect_code(0);
    assert_golden("new/created.stderr", &normalize(&out.stderr, dir.path()));

    let out = run(
        flowtrace(dir.path()),
        ["new", "json-evaluator", "--message-format", "json"],
    )
    .expect_code(0);
    let lines = out.json_lines();
    assert_eq!(lines.len(), 1, "{}", out.stdout);
    let created = &lines[0];
    assert_eq!(created["reason"], "plugin-created");
    assert_eq!(created["id"], "json-evaluator");
    assert_eq!(created["name"], "Json Evaluator");
    assert_eq!(created["template"], "rust-evaluator");
    let files: Vec<&str> = created["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(files.contains(&"flowtrace.toml"), "{files:?}");
}

#[test]
fn new_refuses_to_overwrite_and_names_the_files() {
    let dir = tmp();
    run(flowtrace(dir.path()), ["new", "twice"]).expect_code(0);
    let manifest = dir.path().join("twice/flowtrace.toml");
    fs::write(&manifest, "# edited by hand\n").unwrap();

    let out = run(flowtrace(dir.path()), ["new", "twice"]).expect_code(1);
    // Every file of the template is named (the list follows the template, so it is built
    // here rather than kept in a golden file).
    let files = expected_files("rust-evaluator");
    let listed: Vec<String> = files.iter().map(|f| format!("`{}`", f.display())).collect();
    assert_eq!(
        out.stderr,
        format!(
            "error: refusing to overwrite {} files that exist in `twice`: {}\n\n\
             help: choose a path that does not exist yet, or move these files out of `twice`\n",
            files.len(),
            listed.join(", ")
        )
    );
    assert_eq!(fs::read_to_string(&manifest).unwrap(), "# edited by hand\n");
}

#[test]
fn init_fills_an_existing_directory_but_never_overwrites() {
    let dir = tmp();
    let plugin = dir.path().join("existing-plugin");
    fs::create_dir(&plugin).unwrap();
    fs::write(plugin.join("notes.txt"), "mine").unwrap();
    run(flowtrace(&plugin), ["init"]).expect_code(0);
    let manifest = Manifest::from_file(&plugin.join("flowtrace.toml")).unwrap();
    assert_eq!(manifest.plugin.id.as_str(), "existing-plugin");
    assert_eq!(
        fs::read_to_string(plugin.join("notes.txt")).unwrap(),
        "mine"
    );

    let other = dir.path().join("half-done");
    fs::create_dir(&other).unwrap();
    fs::write(other.join("flowtrace.toml"), "# mine").unwrap();
    fs::write(other.join("README.md"), "# mine").unwrap();
    let out = run(flowtrace(&other), ["init"]).expect_code(1);
    assert_golden("new/init-conflicts.stderr", &out.stderr);
    assert_eq!(files_under(&other).len(), 2, "nothing was written");
}

#[test]
fn invalid_ids_are_refused_with_the_rule_and_a_fix() {
    let dir = tmp();
    let out = run(flowtrace(dir.path()), ["new", "My_Plugin"]).expect_code(1);
    assert_golden("new/invalid-dir-name.stderr", &out.stderr);
    assert!(!dir.path().join("My_Plugin").exists());

    let out = run(flowtrace(dir.path()), ["new", "fine-dir", "--id=-bad"]).expect_code(1);
    assert_golden("new/invalid-id-flag.stderr", &out.stderr);

    let out = run(flowtrace(dir.path()), ["new", "con"]).expect_code(1);
    assert!(
        out.stderr.contains("reserved device name"),
        "{}",
        out.stderr
    );

    let out = run(flowtrace(dir.path()), ["new", "2fast"]).expect_code(1);
    assert!(
        out.stderr
            .contains("a Rust package name cannot start with a digit"),
        "{}",
        out.stderr
    );
    assert!(!dir.path().join("2fast").exists());
}

#[test]
fn an_unknown_template_lists_the_others() {
    let dir = tmp();
    let out = run(
        flowtrace(dir.path()),
        ["new", "x-plugin", "--template", "cobol-evaluator"],
    )
    .expect_code(1);
    assert!(out
        .stderr
        .starts_with("error: no template named `cobol-evaluator`"));
    assert!(
        out.stderr.contains("help: the templates are: "),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("rust-evaluator"), "{}", out.stderr);
}

#[test]
fn authors_come_from_git_config_escaped_for_toml() {
    let dir = tmp();
    fs::write(
        dir.path().join("gitconfig"),
        "[user]\n\tname = Jane \\\"JJ\\\" Doe\n\temail = jane@example.com\n",
    )
    .unwrap();
    run(flowtrace(dir.path()), ["new", "authored"]).expect_code(0);
    let manifest = Manifest::from_file(&dir.path().join("authored/flowtrace.toml")).unwrap();
    assert_eq!(
        manifest.plugin.authors,
        ["Jane \"JJ\" Doe <jane@example.com>"]
    );
    let cargo = fs::read_to_string(dir.path().join("authored/Cargo.toml")).unwrap();
    let cargo: toml::Table = toml::from_str(&cargo).unwrap();
    assert_eq!(
        cargo["package"]["authors"],
        toml::Value::Array(vec!["Jane \"JJ\" Doe <jane@example.com>".into()])
    );

    // Without a git identity: no authors.
    fs::write(dir.path().join("gitconfig"), "").unwrap();
    run(flowtrace(dir.path()), ["new", "anonymous"]).expect_code(0);
    let cargo = fs::read_to_string(dir.path().join("anonymous/Cargo.toml")).unwrap();
    let cargo: toml::Table = toml::from_str(&cargo).unwrap();
    assert_eq!(cargo["package"]["authors"], toml::Value::Array(vec![]));
}

#[test]
fn odd_display_names_are_refused() {
    let dir = tmp();
    let out = run(
        flowtrace(dir.path()),
        ["new", "quoted", "--name", "Say \"hi\""],
    )
    .expect_code(1);
    assert!(
        out.stderr.contains("a name cannot contain '\"'"),
        "{}",
        out.stderr
    );
    assert!(!dir.path().join("quoted").exists());
}

#[test]
fn lang_and_kind_pick_the_template() {
    let dir = tmp();
    let out = run(
        flowtrace(dir.path()),
        [
            "new",
            "py-eval",
            "--lang",
            "python",
            "--message-format",
            "json",
        ],
    )
    .expect_code(0);
    assert_eq!(out.json_lines()[0]["template"], "python-evaluator");
    assert!(dir.path().join("py-eval/app.py").is_file());

    let out = run(
        flowtrace(dir.path()),
        [
            "new",
            "rs-exp",
            "--kind",
            "exporter",
            "--message-format",
            "json",
        ],
    )
    .expect_code(0);
    assert_eq!(out.json_lines()[0]["template"], "rust-exporter");

    let out = run(
        flowtrace(dir.path()),
        [
            "new",
            "ts-emb",
            "--lang",
            "typescript",
            "--kind",
            "embedder",
            "--message-format",
            "json",
        ],
    )
    .expect_code(0);
    assert_eq!(out.json_lines()[0]["template"], "typescript-embedder");
    assert!(dir.path().join("ts-emb/src/index.ts").is_file());

    // `--template` names one already.
    let out = run(
        flowtrace(dir.path()),
        [
            "new",
            "both",
            "--template",
            "rust-evaluator",
            "--lang",
            "python",
        ],
    )
    .expect_code(2);
    assert!(out.stderr.contains("cannot be used with"), "{}", out.stderr);
}
