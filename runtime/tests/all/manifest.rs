//! `flowtrace.toml`: golden renderings of every error, the values of valid manifests, and
//! hostile input (huge, binary, not UTF-8, deeply nested) that must fail cleanly.
//!
//! Each `tests/golden/manifest/<case>.toml` is parsed as `flowtrace.toml` and its rendering
//! compared with `<case>.stderr` (empty when the manifest is valid). `BLESS=1` rewrites the
//! expected files. Inputs made by the tests themselves have a `generated-*.stderr` only.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use flowtrace_plugins::manifest::{
    self, ConfigType, ConfigValue, HostPattern, Language, Manifest, ManifestError, PluginId,
    PluginKind, MANIFEST_FILE_NAME, MAX_MANIFEST_BYTES,
};

/// Golden files with no `.toml`: their input is made by a test below.
const GENERATED: &[&str] = &[
    "generated-too-large",
    "generated-invalid-utf8",
    "generated-deeply-nested",
];

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/manifest")
}

fn blessing() -> bool {
    std::env::var_os("BLESS").is_some_and(|v| v == "1")
}

/// What a person would see: nothing for a valid manifest, else the error and its causes.
fn render(result: &Result<Manifest, ManifestError>) -> String {
    let Err(error) = result else {
        return String::new();
    };
    let mut out = format!("error: {error}\n");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        out.push_str(&format!("caused by: {cause}\n"));
        source = cause.source();
    }
    out
}

/// Compare with `<case>.stderr`, or rewrite it when blessing. `Err` describes a mismatch.
fn check_golden(case: &str, actual: &str) -> Result<(), String> {
    let path = golden_dir().join(format!("{case}.stderr"));
    if blessing() {
        fs::write(&path, actual).unwrap();
        return Ok(());
    }
    let expected = fs::read_to_string(&path).unwrap_or_default();
    if expected == actual {
        Ok(())
    } else {
        Err(format!(
            "--- {case}.stderr (expected)\n{expected}\n--- actual\n{actual}"
        ))
    }
}

fn parse_golden(case: &str) -> Result<Manifest, ManifestError> {
    let text = fs::read_to_string(golden_dir().join(format!("{case}.toml"))).unwrap();
    manifest::parse(&text, Path::new(MANIFEST_FILE_NAME))
}

#[test]
fn golden_cases() {
    let mut cases: Vec<String> = fs::read_dir(golden_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    cases.sort();
    assert!(cases.len() > 20, "golden cases went missing: {cases:?}");

    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| check_golden(case, &render(&parse_golden(case))).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} golden mismatches (BLESS=1 rewrites them):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn golden_files_have_inputs() {
    for entry in fs::read_dir(golden_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "stderr") {
            let case = path.file_stem().unwrap().to_string_lossy().into_owned();
            assert!(
                path.with_extension("toml").exists() || GENERATED.contains(&case.as_str()),
                "stale golden file {}",
                path.display()
            );
        }
    }
}

#[test]
fn full_manifest_values() {
    let m = parse_golden("full").unwrap();
    assert_eq!(m.manifest_version, 1);

    let p = &m.plugin;
    assert_eq!(p.id.as_str(), "sample-evaluator");
    assert_eq!(p.name, "Sample Evaluator");
    assert_eq!(
        p.version,
        semver::Version::parse("0.1.0-beta.1+build.5").unwrap()
    );
    assert_eq!(p.kind, PluginKind::Evaluator);
    assert_eq!(
        p.description.as_deref(),
        Some("Scores a trace.\nSecond line.")
    );
    assert_eq!(
        p.flowtrace,
        semver::VersionReq::parse(">=0.1, <0.3").unwrap()
    );
    assert_eq!(p.authors, ["Ada <ada@example.com>", "Grace"]);
    assert_eq!(p.license.as_deref(), Some("Apache-2.0"));
    assert_eq!(m.build.language, Language::TypeScript);

    let caps = &m.capabilities;
    let hosts: Vec<String> = caps
        .network
        .as_ref()
        .unwrap()
        .iter()
        .map(HostPattern::to_string)
        .collect();
    assert_eq!(
        hosts,
        [
            "api.openai.com",
            "*.example.com",
            "localhost:8080",
            "[::1]:9000",
            "10.0.0.1"
        ]
    );
    assert!(caps.allows_host("api.openai.com"));
    assert!(caps.allows_host("eu.example.com"));
    assert!(!caps.allows_host("example.com"));
    assert!(!caps.allows_host("openai.com"));
    assert_eq!(caps.env, ["OPENAI_API_KEY", "_X1"]);
    assert_eq!(caps.fs_read, ["data", "models"]);
    assert!(caps.storage && caps.traces && !caps.embeddings);

    let config = &m.config;
    assert_eq!(config.len(), 7);
    let threshold = &config["threshold"];
    assert_eq!(threshold.ty, ConfigType::Float);
    assert_eq!(threshold.default, Some(ConfigValue::Float(1.0)));
    assert_eq!(threshold.description.as_deref(), Some("minimum score"));
    assert_eq!(
        config["model"].default,
        Some(ConfigValue::String("gpt-4o-mini".into()))
    );
    assert_eq!(config["retries"].default, Some(ConfigValue::Integer(3)));
    assert_eq!(config["strict"].default, Some(ConfigValue::Boolean(false)));
    assert_eq!(
        config["labels"].default,
        Some(ConfigValue::StringList(vec!["good".into(), "bad".into()]))
    );
    assert_eq!(config["api-base"].ty, ConfigType::String);
    assert_eq!(config["api-base"].default, None);
    assert_eq!(config["long_form"].default, Some(ConfigValue::Float(0.5)));

    let deps: Vec<(String, String)> = m
        .dependencies
        .iter()
        .map(|(id, req)| (id.to_string(), req.to_string()))
        .collect();
    assert_eq!(
        deps,
        [
            ("embedder-minilm".to_string(), "^1.2".to_string()),
            ("other".to_string(), ">=2, <3".to_string())
        ]
    );

    assert_eq!(m.limits.memory, Some(64 << 20));
    assert_eq!(m.limits.timeout, Some(Duration::from_millis(1500)));
    assert_eq!(m.limits.output, Some(1 << 20));
}

#[test]
fn minimal_manifest_defaults() {
    let m = parse_golden("minimal").unwrap();
    assert_eq!(m.manifest_version, manifest::CURRENT_MANIFEST_VERSION);
    assert_eq!(m.plugin.id, PluginId::parse("tiny").unwrap());
    assert_eq!(m.plugin.kind, PluginKind::Exporter);
    assert_eq!(
        m.plugin.flowtrace,
        semver::VersionReq::parse("^0.1").unwrap()
    );
    assert_eq!(m.plugin.description, None);
    assert!(m.plugin.authors.is_empty());
    assert_eq!(m.build.language, Language::Rust);
    assert_eq!(m.capabilities, manifest::Capabilities::default());
    assert!(!m.capabilities.has_network());
    assert!(m.config.is_empty());
    assert!(m.dependencies.is_empty());
    assert_eq!(m.limits, manifest::Limits::default());
}

#[test]
fn dotted_keys_and_inline_tables_mean_the_same() {
    let m = parse_golden("dotted-and-inline").unwrap();
    assert_eq!(m.plugin.kind, PluginKind::Embedder);
    assert!(m.capabilities.allows_host("api.example.com"));
    assert_eq!(m.limits.timeout, Some(Duration::from_millis(500)));
}

#[test]
fn every_problem_is_reported_in_order() {
    let err = parse_golden("many-problems").unwrap_err();
    let ManifestError::Invalid { path, diagnostics } = &err else {
        panic!("expected Invalid, got {err:?}");
    };
    assert_eq!(path, Path::new(MANIFEST_FILE_NAME));
    assert_eq!(diagnostics.len(), 6, "{err}");
    let positions: Vec<(usize, usize)> = diagnostics.iter().map(|d| (d.line, d.column)).collect();
    let mut sorted = positions.clone();
    sorted.sort();
    assert_eq!(positions, sorted);
    assert_eq!(err.diagnostics(), diagnostics.as_slice());
}

#[test]
fn empty_network_list_means_no_network() {
    let text = "[plugin]\nid = \"x\"\nname = \"X\"\nversion = \"1.0.0\"\nkind = \"evaluator\"\n\
                [build]\nlanguage = \"rust\"\n[capabilities]\nnetwork = { hosts = [] }\n";
    let m = manifest::parse(text, Path::new(MANIFEST_FILE_NAME)).unwrap();
    assert_eq!(m.capabilities.network, Some(vec![]));
    assert!(!m.capabilities.has_network());
    assert!(!m.capabilities.allows_host("example.com"));
}

#[test]
fn entry_is_normalised_and_defaults_per_language() {
    let with = |language: &str, entry: Option<&str>| {
        let entry = entry.map_or(String::new(), |e| format!("entry = \"{e}\"\n"));
        let text = format!(
            "[plugin]\nid = \"x\"\nname = \"X\"\nversion = \"1.0.0\"\nkind = \"evaluator\"\n\
             [build]\nlanguage = \"{language}\"\n{entry}"
        );
        manifest::parse(&text, Path::new(MANIFEST_FILE_NAME)).unwrap()
    };
    let m = with("python", Some("./src//plugin.py"));
    assert_eq!(m.build.entry.as_deref(), Some("src/plugin.py"));
    assert_eq!(m.build.entry_or_default(), Some("src/plugin.py"));
    assert_eq!(
        with("python", None).build.entry_or_default(),
        Some("app.py")
    );
    let ts = with("typescript", None);
    assert_eq!(ts.build.language, Language::TypeScript);
    assert_eq!(ts.build.entry_or_default(), Some("src/index.ts"));
    assert_eq!(
        with("typescript", Some("main.mjs"))
            .build
            .entry_or_default(),
        Some("main.mjs")
    );
    assert_eq!(with("rust", None).build.entry_or_default(), None);
}

/// A temp dir holding `flowtrace.toml` with `bytes`, and a way to hide the dir in output.
fn temp_manifest(bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(MANIFEST_FILE_NAME);
    fs::write(&path, bytes).unwrap();
    (dir, path)
}

fn render_file_result(path: &Path, result: &Result<Manifest, ManifestError>) -> String {
    render(result).replace(&path.display().to_string(), MANIFEST_FILE_NAME)
}

#[test]
fn too_large_file_is_refused_before_reading() {
    let mut text = fs::read_to_string(golden_dir().join("full.toml")).unwrap();
    text.push('#');
    text.push_str(&"x".repeat(10 << 20));
    let (_dir, path) = temp_manifest(text.as_bytes());
    let result = Manifest::from_file(&path);
    match &result {
        Err(ManifestError::TooLarge {
            size,
            limit,
            path: p,
        }) => {
            assert_eq!(*size, text.len() as u64);
            assert_eq!(*limit, MAX_MANIFEST_BYTES);
            assert_eq!(p, &path);
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    check_golden("generated-too-large", &render_file_result(&path, &result)).unwrap();
    // The same limit holds for text handed over directly.
    assert!(matches!(
        manifest::parse(&text, Path::new(MANIFEST_FILE_NAME)),
        Err(ManifestError::TooLarge { .. })
    ));
}

/// A file that never ends is read only up to the limit.
#[cfg(unix)]
#[test]
fn endless_file_is_read_only_up_to_the_limit() {
    match Manifest::from_file(Path::new("/dev/zero")) {
        Err(ManifestError::TooLarge { size, .. }) => assert_eq!(size, MAX_MANIFEST_BYTES + 1),
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

#[test]
fn a_file_at_the_limit_is_read() {
    let valid = fs::read_to_string(golden_dir().join("minimal.toml")).unwrap();
    let mut text = valid.clone();
    text.push('#');
    text.push_str(&"x".repeat(MAX_MANIFEST_BYTES as usize - valid.len() - 1));
    assert_eq!(text.len() as u64, MAX_MANIFEST_BYTES);
    let (_dir, path) = temp_manifest(text.as_bytes());
    Manifest::from_file(&path).unwrap();
}

#[test]
fn invalid_utf8_names_the_position() {
    let (_dir, path) = temp_manifest(b"[plugin]\nid = \"ab\xff\xfe\"\n");
    let result = Manifest::from_file(&path);
    let diagnostics = result.as_ref().unwrap_err().diagnostics();
    assert_eq!((diagnostics[0].line, diagnostics[0].column), (2, 9));
    check_golden(
        "generated-invalid-utf8",
        &render_file_result(&path, &result),
    )
    .unwrap();
}

#[test]
fn missing_file_is_an_io_error_with_its_cause() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(MANIFEST_FILE_NAME);
    let err = Manifest::from_file(&path).unwrap_err();
    let ManifestError::Io { source, .. } = &err else {
        panic!("expected Io, got {err:?}");
    };
    assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
    assert_eq!(err.path(), path);
    assert_eq!(
        render_file_result(&path, &Err(err)).lines().next().unwrap(),
        "error: failed to read manifest `flowtrace.toml`"
    );
    // A directory is not a manifest either.
    assert!(matches!(
        Manifest::from_file(dir.path()),
        Err(ManifestError::Io { .. })
    ));
}

#[test]
fn deeply_nested_arrays_fail_cleanly() {
    let depth = 100_000;
    let text = format!(
        "[plugin]\nid = {}1{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let result = manifest::parse(&text, Path::new(MANIFEST_FILE_NAME));
    check_golden("generated-deeply-nested", &render(&result)).unwrap();

    // Nesting the parser accepts reaches the validation, which must cope with it too.
    for depth in [1, 10, 50] {
        let nested = format!("{}\"a\"{}", "[".repeat(depth), "]".repeat(depth));
        for key in ["id", "authors"] {
            let text = format!("[plugin]\n{key} = {nested}\n[config]\nx = {{ type = \"string-list\", default = {nested} }}\n");
            let err = manifest::parse(&text, Path::new(MANIFEST_FILE_NAME));
            assert!(matches!(err, Err(ManifestError::Invalid { .. })), "{depth}");
        }
        let text = format!("{}= 1\n", "a.".repeat(depth));
        assert!(manifest::parse(&text, Path::new(MANIFEST_FILE_NAME)).is_err());
        let text = format!(
            "[plugin]\nid = {}1{}\n",
            "{a=".repeat(depth),
            "}".repeat(depth)
        );
        assert!(manifest::parse(&text, Path::new(MANIFEST_FILE_NAME)).is_err());
    }
}

/// Deterministic bytes, so a failure reproduces.
fn garbage(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 56) as u8
        })
        .collect()
}

#[test]
fn binary_garbage_fails_cleanly() {
    for seed in 0..200 {
        let bytes = garbage(seed, (seed as usize * 37) % 2000);
        let (_dir, path) = temp_manifest(&bytes);
        let result = Manifest::from_file(&path);
        if !bytes.is_empty() {
            assert!(result.is_err(), "seed {seed}");
        }
        let text = String::from_utf8_lossy(&bytes);
        let _ = manifest::parse(&text, Path::new(MANIFEST_FILE_NAME));
        // Printable garbage gets further into the parser.
        let printable: String = bytes.iter().map(|b| char::from(b' ' + b % 95)).collect();
        let _ = manifest::parse(&printable, Path::new(MANIFEST_FILE_NAME));
    }
}

/// Every prefix and every one-line deletion of a valid manifest parses or fails with
/// diagnostics, never panics, and every diagnostic points inside the text.
#[test]
fn mangled_manifests_fail_cleanly() {
    let full = fs::read_to_string(golden_dir().join("full.toml")).unwrap();
    let lines: Vec<&str> = full.lines().collect();
    let mut inputs: Vec<String> = (0..=full.len())
        .filter(|&i| full.is_char_boundary(i))
        .map(|i| full[..i].to_string())
        .collect();
    inputs.extend((0..lines.len()).map(|skip| {
        let mut kept = lines.clone();
        kept.remove(skip);
        kept.join("\n")
    }));
    for text in inputs {
        match manifest::parse(&text, Path::new(MANIFEST_FILE_NAME)) {
            Ok(_) => {}
            Err(ManifestError::Invalid { diagnostics, .. }) => {
                assert!(!diagnostics.is_empty());
                let line_count = text.lines().count().max(1);
                for d in &diagnostics {
                    assert!(d.line >= 1 && d.line <= line_count + 1, "{d:?} in\n{text}");
                    assert!(d.column >= 1);
                    assert!(!d.message.contains('\n'), "{d:?}");
                }
            }
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
}
