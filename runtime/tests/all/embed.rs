//! Embedding the manifest as the `flowtrace-manifest` custom section: the section is read back
//! by `inspect`, replaces any earlier one, leaves every other byte alone, and the component
//! still validates, passes the capability check and runs.

use flowtrace_plugins::capability;
use flowtrace_plugins::inspect::{
    embed_manifest, embed_manifest_owned, inspect, EmbedError, InspectError, InspectWarning,
    FEATURES, MANIFEST_SECTION, MAX_EMBEDDED_MANIFEST_BYTES,
};
use flowtrace_plugins::manifest::PluginKind;
use flowtrace_plugins::testing;
use flowtrace_plugins::{LoadOptions, PreparedTrace, Runtime};

const MANIFEST: &str = r#"[plugin]
id = "embedded"
name = "Embedded"
version = "0.1.0"
kind = "evaluator"

[build]
language = "rust"
"#;

fn validate(bytes: &[u8]) {
    wasmparser::Validator::new_with_features(FEATURES)
        .validate_all(bytes)
        .expect("the component must stay valid");
}

/// The custom sections of `bytes` at the top level, in order, by name.
fn top_level_sections(bytes: &[u8]) -> Vec<String> {
    inspect(bytes)
        .unwrap()
        .custom_sections
        .into_iter()
        .map(|s| s.name)
        .collect()
}

#[test]
fn embedded_manifest_is_read_back_and_the_plugin_still_runs() {
    let plain = testing::evaluator(&testing::guest_wat("scan-infos"));
    let bytes = embed_manifest(&plain, MANIFEST).unwrap();
    validate(&bytes);
    let inspection = inspect(&bytes).unwrap();
    assert_eq!(inspection.embedded_manifest.as_deref(), Some(MANIFEST));
    assert_eq!(inspection.warnings, []);
    // Only the section was added: the imports and exports are the plain component's.
    let before = inspect(&plain).unwrap();
    assert_eq!(inspection.imports, before.imports);
    assert_eq!(inspection.exports, before.exports);
    assert_eq!(
        bytes[..plain.len()],
        plain[..],
        "the rest is copied byte for byte"
    );

    let manifest = testing::manifest("embedded", PluginKind::Evaluator);
    assert!(capability::check(&inspection, &manifest).is_ok());
    let runtime = Runtime::new().unwrap();
    let plugin = runtime
        .load(&bytes, &manifest, LoadOptions::default())
        .unwrap();
    let result = plugin
        .evaluate(&PreparedTrace::new(testing::trace_with_spans(3)))
        .unwrap();
    assert!((0.0..=1.0).contains(&result.score));
}

#[test]
fn embedding_replaces_every_earlier_manifest_section() {
    let plain = testing::evaluator(&testing::guest_wat("scan-infos"));
    let once = embed_manifest(&plain, MANIFEST).unwrap();
    assert_eq!(
        embed_manifest(&once, MANIFEST).unwrap(),
        once,
        "embedding twice is embedding once"
    );

    // The owned form appends in place when there is nothing to replace, and agrees with the
    // borrowed one either way.
    assert_eq!(embed_manifest_owned(plain.clone(), MANIFEST).unwrap(), once);
    assert_eq!(embed_manifest_owned(once.clone(), MANIFEST).unwrap(), once);

    let edited = MANIFEST.replace("0.1.0", "0.2.0");
    let replaced = embed_manifest(&once, &edited).unwrap();
    validate(&replaced);
    assert_eq!(
        inspect(&replaced).unwrap().embedded_manifest.as_deref(),
        Some(edited.as_str())
    );

    // Two stale sections (which `inspect` distrusts), with another section between them.
    let messy = testing::with_custom_section(plain.clone(), MANIFEST_SECTION, b"a = 1", None);
    let messy = testing::with_custom_section(messy, "producers-ish", b"keep me", None);
    let messy = testing::with_custom_section(messy, MANIFEST_SECTION, b"a = 2", None);
    validate(&messy);
    assert_eq!(
        inspect(&messy).unwrap().warnings,
        [InspectWarning::DuplicateManifest { count: 2 }]
    );
    let fixed = embed_manifest(&messy, MANIFEST).unwrap();
    assert_eq!(
        embed_manifest_owned(messy.clone(), MANIFEST).unwrap(),
        fixed
    );
    validate(&fixed);
    let inspection = inspect(&fixed).unwrap();
    assert_eq!(inspection.warnings, []);
    assert_eq!(inspection.embedded_manifest.as_deref(), Some(MANIFEST));
    let sections = top_level_sections(&fixed);
    assert_eq!(
        sections
            .iter()
            .filter(|s| s.as_str() == MANIFEST_SECTION)
            .count(),
        1
    );
    assert!(
        sections.iter().any(|s| s == "producers-ish"),
        "{sections:?}"
    );
}

#[test]
fn a_manifest_section_inside_a_nested_module_is_left_alone() {
    let nested = wat::parse_str(
        r#"(component
  (core module $m (@custom "flowtrace-manifest" "storage = true"))
)"#,
    )
    .unwrap();
    let bytes = embed_manifest(&nested, MANIFEST).unwrap();
    validate(&bytes);
    let inspection = inspect(&bytes).unwrap();
    assert_eq!(inspection.embedded_manifest.as_deref(), Some(MANIFEST));
    assert_eq!(inspection.warnings, [InspectWarning::NestedManifest]);
    assert_eq!(bytes[..nested.len()], nested[..]);
}

#[test]
fn what_is_not_a_component_is_refused() {
    let core = wat::parse_str("(module)").unwrap();
    assert!(matches!(
        embed_manifest(&core, MANIFEST),
        Err(EmbedError::NotAComponent {
            source: InspectError::CoreModule
        })
    ));
    assert!(matches!(
        embed_manifest(b"", MANIFEST),
        Err(EmbedError::NotAComponent {
            source: InspectError::Empty
        })
    ));
    assert!(matches!(
        embed_manifest(b"not wasm at all", MANIFEST),
        Err(EmbedError::NotAComponent {
            source: InspectError::NotWasm
        })
    ));

    // Every truncation of a real component is refused or (when it ends on a section
    // boundary) embedded into something `inspect` reads; never a panic.
    let plain = testing::evaluator(&testing::guest_wat("scan-infos"));
    for len in (0..plain.len()).step_by(7) {
        if let Ok(bytes) = embed_manifest(&plain[..len], MANIFEST) {
            let _ = inspect(&bytes);
        }
    }

    let huge = "#".repeat(MAX_EMBEDDED_MANIFEST_BYTES + 1);
    let err = embed_manifest(&plain, &huge).unwrap_err();
    assert!(matches!(err, EmbedError::TooLarge { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "cannot embed the manifest: it is 1048577 bytes, more than the 1048576 an inspection reads"
    );
}
