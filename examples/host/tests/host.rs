//! The example host run against a real registry: the contract suite's four Rust plugins
//! (built with the CLI's own build) and an evaluator that asks for `embeddings`, installed
//! into a fresh `FLOWTRACE_HOME`.

use std::path::{Path, PathBuf};
use std::process::Command;

use cargo_flowtrace::build::{build, BuildRequest};
use cargo_flowtrace::term::{ColorChoice, MessageFormat, Term, Verbosity};
use flowtrace_plugins::manifest::PluginId;
use flowtrace_plugins::registry::{InstallRequest, Registry, Source};
use flowtrace_plugins::testing;
use flowtrace_plugins::{inspect, HostCaps};

/// The example host's caps (`src/main.rs`), which the plugins are built and installed for.
fn caps() -> HostCaps {
    HostCaps {
        output: 16 << 20,
        ..HostCaps::default()
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Build the contract suite's Rust plugin of `kind` and install it.
fn install_contract_plugin(registry: &Registry, kind: &str) {
    let dir = repo().join("tests/plugins/rust").join(kind);
    let term = Term::new(MessageFormat::Human, Verbosity::Quiet, ColorChoice::Never);
    let built = build(
        &term,
        &BuildRequest {
            manifest_path: dir.join("flowtrace.toml"),
            release: false,
            typecheck: true,
            dev_engine: false,
            caps: caps(),
        },
    )
    .unwrap_or_else(|e| panic!("building the rust {kind}: {e:?}"));
    registry
        .install(InstallRequest::new(
            built.bytes,
            Source::Path { path: built.root },
        ))
        .unwrap_or_else(|e| panic!("installing the rust {kind}: {e}"));
}

/// An evaluator that embeds "hello" through `embeddings` (the runtime's test guest).
fn install_similarity_check(registry: &Registry) {
    let component = testing::componentize(
        &testing::guest_wat("embeddings-user"),
        "package test:guest; world w { import flowtrace:plugin/embeddings@0.1.0; \
         export flowtrace:plugin/evaluator@0.1.0; }",
    )
    .unwrap();
    let manifest = "[plugin]\nid = \"similarity-check\"\nname = \"Similarity check\"\n\
                    version = \"0.1.0\"\nkind = \"evaluator\"\n\n[build]\nlanguage = \"rust\"\n\n\
                    [capabilities]\nembeddings = true\n";
    let bytes = inspect::embed_manifest(&component, manifest).unwrap();
    registry
        .install(InstallRequest::new(
            bytes,
            Source::File {
                path: "similarity-check.wasm".into(),
            },
        ))
        .unwrap();
}

struct Run {
    stdout: String,
    stderr: String,
}

fn run_host(home: &Path) -> Run {
    let traces = repo().join("runtime/tests/fixtures/traces");
    let out = Command::new(env!("CARGO_BIN_EXE_flowtrace-example-host"))
        .arg(home)
        .arg(traces.join("real-node-traceloop-otlpjson.json"))
        .arg(traces.join("real-python-traceloop0475-hex.json"))
        .arg(traces.join("real-python-openaiv2legacy-base64.json"))
        .output()
        .unwrap();
    let run = Run {
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    };
    assert!(
        out.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
    // What the README's "Embedding the runtime" shows.
    eprintln!("--- stdout\n{}--- stderr\n{}", run.stdout, run.stderr);
    run
}

/// The `call` lines' plugin, function and outcome.
fn calls(stdout: &str) -> Vec<(String, String, String)> {
    stdout
        .lines()
        .filter(|l| l.starts_with("call "))
        .map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            let outcome = words
                .iter()
                .find_map(|w| w.strip_prefix("outcome="))
                .unwrap();
            (
                words[2].to_string(),
                words[3].to_string(),
                outcome.to_string(),
            )
        })
        .collect()
}

#[test]
fn the_example_host_runs_every_kind_from_a_registry() {
    // Where the contract suite builds the same plugins, so each is compiled once.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap();
    std::env::set_var("CARGO_TARGET_DIR", target.join("contract-guests"));
    std::env::set_var("FLOWTRACE_HOME", target.join("flowtrace-test-home"));

    let home = tempfile::tempdir().unwrap();
    let registry = Registry::open(home.path()).unwrap().with_caps(caps());
    for kind in ["evaluator", "exporter", "embedder", "transformer"] {
        install_contract_plugin(&registry, kind);
    }
    install_similarity_check(&registry);

    // No embedder chosen: the plugin that needs one is reported with the fix, the others run.
    let run = run_host(home.path());
    assert!(
        run.stdout.contains(
            "not loaded: evaluator `similarity-check`: plugin `similarity-check` is granted \
             `embeddings` but no embedder is chosen to serve it (installed embedders: \
             `contract-rust-embedder`)\n  help: choose the embedder that serves \
             `similarity-check` (`contract-rust-embedder`), for it or as the registry's default"
        ),
        "{}",
        run.stdout
    );
    for line in [
        "loaded: evaluator `contract-rust-evaluator`",
        "loaded: exporter `contract-rust-exporter`",
        "loaded: embedder `contract-rust-embedder`",
        "loaded: transformer `contract-rust-transformer`",
        "wiring: `similarity-check` gets its embeddings from none chosen",
    ] {
        assert!(run.stdout.contains(line), "{line}:\n{}", run.stdout);
    }
    let seen = calls(&run.stdout);
    for (plugin, function) in [
        ("contract-rust-transformer", "transform"),
        ("contract-rust-evaluator", "evaluate"),
        ("contract-rust-embedder", "dimension"),
        ("contract-rust-embedder", "embed"),
        ("contract-rust-exporter", "formats"),
        ("contract-rust-exporter", "export"),
    ] {
        assert!(
            seen.iter()
                .any(|(p, f, o)| p == plugin && f == function && o == "ok"),
            "{plugin} {function}: {seen:?}"
        );
    }
    // Both threads evaluated.
    for worker in [
        "thread 0 `contract-rust-evaluator`",
        "thread 1 `contract-rust-evaluator`",
    ] {
        assert!(run.stdout.contains(worker), "{worker}:\n{}", run.stdout);
    }
    // Each call is a span, printed when it closes with the fields the runtime recorded.
    let spans = run
        .stderr
        .lines()
        .filter(|l| l.contains("flowtrace.plugin.call{") && l.contains(": close"))
        .count();
    assert_eq!(spans, seen.len(), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("flowtrace.plugin.id=contract-rust-exporter flowtrace.plugin.version=0.1.0"),
        "{}",
        run.stderr
    );

    // Chosen as the registry's default, the embedder serves it.
    let embedder = PluginId::parse("contract-rust-embedder").unwrap();
    registry.set_embedder(None, Some(&embedder)).unwrap();
    let run = run_host(home.path());
    for line in [
        "loaded: evaluator `similarity-check`",
        "wiring: `similarity-check` gets its embeddings from `contract-rust-embedder` (the \
         registry's default)",
        "`similarity-check` trace",
    ] {
        assert!(run.stdout.contains(line), "{line}:\n{}", run.stdout);
    }
    let seen = calls(&run.stdout);
    assert!(seen.iter().all(|(.., outcome)| outcome == "ok"), "{seen:?}");
    let embeds = seen
        .iter()
        .filter(|(p, f, _)| p == "contract-rust-embedder" && f == "embed")
        .count();
    assert!(
        embeds > 1,
        "the host's embed, and the similarity check's: {seen:?}"
    );
}
