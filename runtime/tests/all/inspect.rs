//! Component inspection and the capability check, on components written in the text format
//! or built by `wit-component` from the repository's `wit/`.
//!
//! Every component a test builds goes through `wasmparser::Validator` first.

use std::collections::BTreeMap;
use std::path::Path;

use flowtrace_plugins::capability::{
    self, CapabilityError, CapabilityReport, ExportProblem, ImportVerdict, Toolchain, Verdict,
    CONTRACT_VERSION,
};
use flowtrace_plugins::inspect::{
    inspect, InspectError, InspectWarning, Inspection, ItemKind, FEATURES, MANIFEST_SECTION,
    MAX_EMBEDDED_MANIFEST_BYTES,
};
use flowtrace_plugins::manifest::{
    BuildInfo, Capabilities, HostPattern, Language, Limits, Manifest, PluginId, PluginInfo,
    PluginKind, CURRENT_MANIFEST_VERSION,
};
use flowtrace_plugins::testing::with_custom_section;
use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::{LiftLowerAbi, ManglingAndAbi, Resolve};

// ---------------------------------------------------------------------------------------------
// Building test components

/// Validate a component the way the host does; panics with the validator's error.
fn validated(bytes: Vec<u8>) -> Vec<u8> {
    wasmparser::Validator::new_with_features(FEATURES)
        .validate_all(&bytes)
        .expect("test component must be valid");
    bytes
}

/// A component from its text format.
fn component(wat: &str) -> Vec<u8> {
    validated(wat::parse_str(wat).expect("test WAT must parse"))
}

/// A component that imports each name as an (empty) instance and exports
/// `flowtrace:plugin/<export>` as an instance holding one real lifted function.
fn importing(imports: &[&str], export: &str) -> Vec<u8> {
    let imports: String = imports
        .iter()
        .map(|name| format!("  (import \"{name}\" (instance))\n"))
        .collect();
    component(&format!(
        r#"(component
{imports}
  (core module $m (func (export "evaluate") (result i32) i32.const 1))
  (core instance $mi (instantiate $m))
  (func $evaluate (result bool) (canon lift (core func $mi "evaluate")))
  (instance $plugin (export "evaluate" (func $evaluate)))
  (export "flowtrace:plugin/{export}" (instance $plugin))
)"#
    ))
}

/// An evaluator that imports each name.
fn evaluator_importing(imports: &[&str]) -> Vec<u8> {
    importing(imports, "evaluator@0.1.0")
}

/// Extra WIT for built components: a test package with worlds over the real contract, and
/// stand-ins for the WASI packages (only their names matter here).
const TEST_WIT: &str = r#"
package test:plugins;

world kv-evaluator {
    include flowtrace:plugin/evaluator-plugin@0.1.0;
    import flowtrace:plugin/kv@0.1.0;
}

world rust-evaluator {
    include flowtrace:plugin/evaluator-plugin@0.1.0;
    import wasi:io/streams@0.2.6;
    import wasi:cli/environment@0.2.6;
    import wasi:cli/exit@0.2.6;
    import wasi:cli/stdout@0.2.6;
    import wasi:cli/stderr@0.2.6;
    import wasi:filesystem/preopens@0.2.6;
}

world network-exporter {
    include flowtrace:plugin/exporter-plugin@0.1.0;
    import wasi:http/types@0.2.10;
    import wasi:http/outgoing-handler@0.2.10;
}

package wasi:io@0.2.6 {
    interface streams {
        resource output-stream {
            blocking-write-and-flush: func(contents: list<u8>) -> result;
        }
    }
}

package wasi:cli@0.2.6 {
    interface environment {
        get-environment: func() -> list<tuple<string, string>>;
    }
    interface exit {
        exit: func(status: result);
    }
    interface stdout {
        use wasi:io/streams@0.2.6.{output-stream};
        get-stdout: func() -> output-stream;
    }
    interface stderr {
        use wasi:io/streams@0.2.6.{output-stream};
        get-stderr: func() -> output-stream;
    }
}

package wasi:filesystem@0.2.6 {
    interface preopens {
        get-directories: func() -> list<tuple<u32, string>>;
    }
}

package wasi:http@0.2.10 {
    interface types {
        resource fields {
            constructor();
        }
    }
    interface outgoing-handler {
        use types.{fields};
        handle: func(request: fields) -> result;
    }
}
"#;

/// A component built the way a guest toolchain builds one: a core module for `world` (from
/// the repository's `wit/` plus [`TEST_WIT`]), its type embedded, then `ComponentEncoder`.
fn built(world: &str) -> Vec<u8> {
    let mut resolve = Resolve::default();
    let wit = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit");
    resolve
        .push_dir(&wit)
        .expect("the repository's wit/ must parse");
    let test = resolve
        .push_str("test.wit", TEST_WIT)
        .expect("the test WIT must parse");
    let world = resolve
        .select_world(&[test], Some(world))
        .expect("the test world exists");
    let mut module =
        wit_component::dummy_module(&resolve, world, ManglingAndAbi::Legacy(LiftLowerAbi::Sync));
    wit_component::embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8)
        .expect("embedding the component type works");
    let bytes = ComponentEncoder::default()
        .module(&module)
        .expect("the dummy module is a valid core module")
        .validate(true)
        .encode()
        .expect("the component encodes");
    validated(bytes)
}

/// Where the header and each top-level section of a component end.
fn top_level_section_ends(bytes: &[u8]) -> Vec<usize> {
    let mut ends = vec![8];
    let mut depth = 0;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        let payload = payload.unwrap();
        if let (0, Some((_, range))) = (depth, payload.as_section()) {
            ends.push(range.end);
        }
        match payload {
            wasmparser::Payload::ModuleSection { .. }
            | wasmparser::Payload::ComponentSection { .. } => depth += 1,
            wasmparser::Payload::End(_) => depth -= 1,
            _ => {}
        }
    }
    ends
}

fn manifest(kind: PluginKind, language: Language, capabilities: Capabilities) -> Manifest {
    Manifest {
        manifest_version: CURRENT_MANIFEST_VERSION,
        plugin: PluginInfo {
            id: PluginId::parse("test-plugin").unwrap(),
            name: "Test Plugin".into(),
            version: semver::Version::new(0, 1, 0),
            kind,
            description: None,
            flowtrace: semver::VersionReq::parse("^0.1").unwrap(),
            authors: Vec::new(),
            license: None,
            stateless: false,
        },
        build: BuildInfo {
            language,
            entry: None,
        },
        capabilities,
        config: BTreeMap::new(),
        dependencies: BTreeMap::new(),
        limits: Limits::default(),
    }
}

fn evaluator(language: Language, capabilities: Capabilities) -> Manifest {
    manifest(PluginKind::Evaluator, language, capabilities)
}

fn network(hosts: &[&str]) -> Capabilities {
    Capabilities {
        network: Some(
            hosts
                .iter()
                .map(|h| HostPattern {
                    host: h.to_string(),
                    wildcard: false,
                    port: None,
                })
                .collect(),
        ),
        ..Capabilities::default()
    }
}

fn check(bytes: &[u8], manifest: &Manifest) -> CapabilityReport {
    let inspection = inspect(bytes).expect("test component inspects");
    capability::check(&inspection, manifest)
}

fn verdict<'a>(report: &'a CapabilityReport, import: &str) -> &'a ImportVerdict {
    report
        .verdict(import)
        .unwrap_or_else(|| panic!("no verdict for `{import}` in\n{report}"))
}

// ---------------------------------------------------------------------------------------------
// Inspection

#[test]
fn lists_top_level_imports_and_exports_with_parsed_names() {
    let bytes = component(
        r#"(component
  (import "wasi:http/outgoing-handler@0.2.3" (instance))
  (import "flowtrace:plugin/log@0.1.0" (instance
    (export "log" (func (param "level" u8) (param "message" string)))))
  (import "run-me" (func))
  (core module $m (func (export "f")))
  (core instance $mi (instantiate $m))
  (func $f (canon lift (core func $mi "f")))
  (export "plain" (func $f))
)"#,
    );
    let inspection = inspect(&bytes).unwrap();
    let names: Vec<_> = inspection.imports.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "wasi:http/outgoing-handler@0.2.3",
            "flowtrace:plugin/log@0.1.0",
            "run-me"
        ]
    );
    let http = inspection.imports[0].interface.as_ref().unwrap();
    assert_eq!(
        (
            http.namespace.as_str(),
            http.package.as_str(),
            http.interface.as_str()
        ),
        ("wasi", "http", "outgoing-handler")
    );
    assert_eq!(http.version, Some(semver::Version::new(0, 2, 3)));
    assert_eq!(inspection.imports[0].kind, ItemKind::Instance);
    assert_eq!(
        inspection.imports[2].interface, None,
        "plain names stay plain"
    );
    assert_eq!(inspection.imports[2].kind, ItemKind::Func);
    assert_eq!(inspection.exports.len(), 1);
    assert_eq!(inspection.exports[0].name, "plain");
    assert_eq!(inspection.exports[0].kind, ItemKind::Func);
    assert_eq!(inspection.size, bytes.len());
    assert_eq!(inspection.sha256.len(), 64);
    assert!(inspection
        .sha256
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
}

#[test]
fn nested_modules_and_components_do_not_leak_their_imports_or_exports() {
    let bytes = component(
        r#"(component
  (import "wasi:io/streams@0.2.6" (instance))
  (core module $inner
    (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
    (func (export "inner-func")))
  (component $nested
    (import "wasi:sockets/tcp@0.2.0" (instance))
    (import "acme:secret/backdoor@1.0.0" (instance))
    (core module $deeper (import "env" "memory" (memory 1)))
    (component $deepest (import "wasi:filesystem/types@0.2.0" (instance)))
    (export "flowtrace:plugin/evaluator@0.1.0" (component $deepest))
  )
  (core module $m (func (export "evaluate") (result i32) i32.const 1))
  (core instance $mi (instantiate $m))
  (func $evaluate (result bool) (canon lift (core func $mi "evaluate")))
  (instance $plugin (export "evaluate" (func $evaluate)))
  (export "flowtrace:plugin/evaluator@0.1.0" (instance $plugin))
)"#,
    );
    let inspection = inspect(&bytes).unwrap();
    let imports: Vec<_> = inspection.imports.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(imports, ["wasi:io/streams@0.2.6"]);
    let exports: Vec<_> = inspection
        .exports
        .iter()
        .map(|e| (e.name.as_str(), e.kind))
        .collect();
    assert_eq!(
        exports,
        [("flowtrace:plugin/evaluator@0.1.0", ItemKind::Instance)]
    );

    let report = capability::check(
        &inspection,
        &evaluator(Language::Rust, Capabilities::default()),
    );
    assert!(report.is_ok(), "{report}");
}

#[test]
fn prints_the_world_as_wit() {
    let bytes = built("kv-evaluator");
    let inspection = inspect(&bytes).unwrap();
    assert_eq!(inspection.warnings, []);
    let wit = inspection.world_wit.as_deref().expect("the world decodes");
    for line in [
        "import flowtrace:plugin/types@0.1.0;",
        "import flowtrace:plugin/log@0.1.0;",
        "import flowtrace:plugin/config@0.1.0;",
        "import flowtrace:plugin/kv@0.1.0;",
        "export flowtrace:plugin/evaluator@0.1.0;",
        "package flowtrace:plugin@0.1.0 {",
        "evaluate: func(trace: borrow<trace>) -> result<eval-result, plugin-error>;",
    ] {
        assert!(
            wit.lines().any(|l| l.trim() == line),
            "`{line}` missing from\n{wit}"
        );
    }
    let mut imports: Vec<_> = inspection.imports.iter().map(|i| i.name.as_str()).collect();
    imports.sort_unstable();
    assert_eq!(
        imports,
        [
            "flowtrace:plugin/config@0.1.0",
            "flowtrace:plugin/kv@0.1.0",
            "flowtrace:plugin/log@0.1.0",
            "flowtrace:plugin/types@0.1.0",
        ]
    );
}

#[test]
fn core_module_is_refused_with_how_to_componentize() {
    let module = wat::parse_str("(module (func (export \"f\")))").unwrap();
    wasmparser::Validator::new().validate_all(&module).unwrap();
    let err = inspect(&module).unwrap_err();
    assert!(matches!(err, InspectError::CoreModule), "{err:?}");
    assert_eq!(
        err.to_string(),
        "this is a core WebAssembly module, not a component"
    );
    assert_eq!(
        err.help().unwrap(),
        "a plugin must be a WebAssembly component: build Rust for `wasm32-wasip2` (`cargo build \
         --target wasm32-wasip2`), or wrap the module with `wasm-tools component new \
         <module.wasm> -o <component.wasm>` (add `--adapt wasi_snapshot_preview1.reactor.wasm` \
         for a `wasm32-wasip1` module)"
    );
}

#[test]
fn empty_garbage_and_unknown_versions_are_typed_errors() {
    assert!(matches!(inspect(b""), Err(InspectError::Empty)));
    assert!(matches!(
        inspect(b"hello, world"),
        Err(InspectError::NotWasm)
    ));
    assert!(matches!(
        inspect(b"\x7fELF\x02\x01\x01"),
        Err(InspectError::NotWasm)
    ));
    assert!(matches!(
        inspect(b"\0as"),
        Err(InspectError::Truncated {
            len: 3,
            needed: 8,
            source: None
        })
    ));
    assert!(matches!(
        inspect(b"\0asm\x0d\x00"),
        Err(InspectError::Truncated {
            len: 6,
            needed: 8,
            ..
        })
    ));
    // The pre-standard component binary version.
    let err = inspect(b"\0asm\x0a\x00\x01\x00").unwrap_err();
    assert!(
        matches!(
            err,
            InspectError::UnsupportedVersion {
                version: 0x0a,
                layer: 1
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "unsupported WebAssembly binary version `0x000a` (layer 1): this host reads components \
         of version `0x000d` (layer 1)"
    );
    assert!(err.help().is_some());
    assert!(matches!(
        inspect(b"\0asm\x02\x00\x00\x00"),
        Err(InspectError::UnsupportedVersion {
            version: 2,
            layer: 0
        })
    ));
    // A right header, then garbage.
    let err = inspect(b"\0asm\x0d\x00\x01\x00\xff\x00").unwrap_err();
    assert!(matches!(err, InspectError::Invalid { .. }), "{err:?}");
    assert!(
        std::error::Error::source(&err).is_some(),
        "the validator's error is the cause"
    );
}

#[test]
fn a_feature_the_engine_does_not_enable_is_named() {
    let bytes = wat::parse_str(
        r#"(component (core module
  (func (param i64 i64 i64 i64) (result i64 i64)
    local.get 0 local.get 1 local.get 2 local.get 3 i64.add128)))"#,
    )
    .unwrap();
    let err = inspect(&bytes).unwrap_err();
    let InspectError::UnsupportedFeatures { features, .. } = &err else {
        panic!("expected a missing feature, got {err:?}");
    };
    assert_eq!(features, "wide-arithmetic");
    assert_eq!(
        err.to_string(),
        "the component needs WebAssembly features this host does not enable: wide-arithmetic"
    );
}

#[test]
fn a_cut_component_is_reported_as_truncated() {
    let bytes = built("kv-evaluator");
    let cut = &bytes[..bytes.len() / 2];
    let err = inspect(cut).unwrap_err();
    let InspectError::Truncated { len, needed, .. } = err else {
        panic!("expected a truncation, got {err:?}");
    };
    assert_eq!(len, cut.len());
    assert!(needed > len);
    assert!(inspect(cut)
        .unwrap_err()
        .help()
        .unwrap()
        .contains("cut short"));
}

#[test]
fn a_nested_module_cut_after_its_header_is_truncated() {
    // wasmparser's validator alone accepts this cut (the nested module parses as an empty
    // module ending at the end of the input); inspection must not.
    let bytes = component(r#"(component (core module (func (export "f"))))"#);
    let module_section = 8;
    assert_eq!(
        bytes[module_section], 1,
        "a core module section comes first"
    );
    let cut = &bytes[..module_section + 2 + 8];
    let err = inspect(cut).unwrap_err();
    assert!(
        matches!(err, InspectError::Truncated { len, .. } if len == cut.len()),
        "{err:?}"
    );
}

#[test]
fn every_truncation_is_handled_without_panicking() {
    let bytes = built("rust-evaluator");
    let manifest = evaluator(Language::Rust, Capabilities::default());
    let boundaries = top_level_section_ends(&bytes);
    for len in 0..bytes.len() {
        let prefix = &bytes[..len];
        match inspect(prefix) {
            // A cut at a top-level section boundary is a smaller valid component.
            Ok(inspection) => {
                assert!(boundaries.contains(&len), "prefix of {len} bytes accepted");
                validated(prefix.to_vec());
                let _ = capability::check(&inspection, &manifest);
            }
            Err(InspectError::Empty) => assert_eq!(len, 0),
            Err(InspectError::Truncated { len: l, needed, .. }) => {
                assert_eq!(l, len);
                assert!(needed > len);
            }
            Err(other) => panic!("prefix of {len} bytes: unexpected {other:?}"),
        }
    }
    let full = inspect(&bytes).unwrap();
    assert!(capability::check(&full, &manifest).is_ok());
}

#[test]
fn random_byte_flips_never_panic() {
    let bytes = built("kv-evaluator");
    let manifest = evaluator(Language::Python, Capabilities::default());
    // xorshift64*: deterministic, no dependency.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let mut refused = 0;
    for _ in 0..3000 {
        let mut mutated = bytes.clone();
        for _ in 0..=(next() % 4) {
            let at = (next() % mutated.len() as u64) as usize;
            mutated[at] ^= (next() % 255 + 1) as u8;
        }
        match inspect(&mutated) {
            Ok(inspection) => {
                let _ = capability::check(&inspection, &manifest);
            }
            Err(err) => {
                refused += 1;
                let _ = (err.to_string(), err.help());
            }
        }
    }
    assert!(refused > 1000, "only {refused} of 3000 mutants refused");
}

// ---------------------------------------------------------------------------------------------
// The embedded manifest and hostile custom sections

const TOML: &str = "[plugin]\nid = \"sample-evaluator\"\n";

#[test]
fn reads_the_embedded_manifest_and_lists_custom_sections() {
    let bytes = with_custom_section(
        evaluator_importing(&[]),
        MANIFEST_SECTION,
        TOML.as_bytes(),
        None,
    );
    let bytes = validated(bytes);
    let inspection = inspect(&bytes).unwrap();
    assert_eq!(inspection.embedded_manifest.as_deref(), Some(TOML));
    assert_eq!(inspection.warnings, []);
    let section = inspection
        .custom_sections
        .iter()
        .find(|s| s.name == MANIFEST_SECTION)
        .unwrap();
    assert_eq!(section.size, TOML.len());
}

#[test]
fn an_oversized_manifest_section_is_ignored_with_a_warning() {
    let data = vec![b'#'; MAX_EMBEDDED_MANIFEST_BYTES + 1];
    let bytes = validated(with_custom_section(
        evaluator_importing(&[]),
        MANIFEST_SECTION,
        &data,
        None,
    ));
    let inspection = inspect(&bytes).unwrap();
    assert_eq!(inspection.embedded_manifest, None);
    assert_eq!(
        inspection.warnings,
        [InspectWarning::ManifestTooLarge { size: data.len() }]
    );
    assert_eq!(
        inspection.warnings[0].to_string(),
        "the `flowtrace-manifest` custom section is 1048577 bytes, more than the 1048576 \
         allowed: ignored"
    );
    // Exactly at the limit is fine.
    let data = vec![b'#'; MAX_EMBEDDED_MANIFEST_BYTES];
    let bytes = validated(with_custom_section(
        evaluator_importing(&[]),
        MANIFEST_SECTION,
        &data,
        None,
    ));
    assert_eq!(
        inspect(&bytes).unwrap().embedded_manifest.map(|m| m.len()),
        Some(data.len())
    );
}

#[test]
fn a_manifest_section_that_is_not_utf8_is_ignored_with_a_warning() {
    let bytes = validated(with_custom_section(
        evaluator_importing(&[]),
        MANIFEST_SECTION,
        b"[plugin]\n\xff\xfe",
        None,
    ));
    let inspection = inspect(&bytes).unwrap();
    assert_eq!(inspection.embedded_manifest, None);
    assert_eq!(
        inspection.warnings,
        [InspectWarning::ManifestNotUtf8 { valid_up_to: 9 }]
    );
}

#[test]
fn duplicate_and_nested_manifest_sections_are_not_trusted() {
    let bytes = with_custom_section(evaluator_importing(&[]), MANIFEST_SECTION, b"a = 1", None);
    let bytes = validated(with_custom_section(bytes, MANIFEST_SECTION, b"a = 2", None));
    let inspection = inspect(&bytes).unwrap();
    assert_eq!(inspection.embedded_manifest, None);
    assert_eq!(
        inspection.warnings,
        [InspectWarning::DuplicateManifest { count: 2 }]
    );

    let bytes = component(
        r#"(component
  (core module $m (@custom "flowtrace-manifest" "storage = true"))
)"#,
    );
    let inspection = inspect(&bytes).unwrap();
    assert_eq!(inspection.embedded_manifest, None);
    assert_eq!(inspection.warnings, [InspectWarning::NestedManifest]);
    assert!(
        !inspection
            .custom_sections
            .iter()
            .any(|s| s.name == MANIFEST_SECTION),
        "{:?}",
        inspection.custom_sections
    );
}

#[test]
fn a_custom_section_that_claims_4_gib_is_refused_without_allocating() {
    let bytes = with_custom_section(
        evaluator_importing(&[]),
        MANIFEST_SECTION,
        b"tiny",
        Some(u32::MAX),
    );
    let err = inspect(&bytes).unwrap_err();
    assert!(
        matches!(err, InspectError::Truncated { needed, .. } if needed > u32::MAX as usize),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The capability check, row by row of DESIGN.md's import table

#[test]
fn types_log_and_config_are_always_granted() {
    let bytes = evaluator_importing(&[
        "flowtrace:plugin/types@0.1.0",
        "flowtrace:plugin/log@0.1.0",
        "flowtrace:plugin/config@0.1.0",
    ]);
    let report = check(&bytes, &evaluator(Language::Rust, Capabilities::default()));
    assert!(report.is_ok(), "{report}");
    for v in &report.verdicts {
        assert_eq!(v.verdict, Verdict::Ok, "{v}");
        assert_eq!(v.reason, "always granted");
    }
}

#[test]
fn undeclared_kv_is_refused_with_the_manifest_line_to_add() {
    let bytes = built("kv-evaluator");
    let report = check(&bytes, &evaluator(Language::Rust, Capabilities::default()));
    assert!(!report.is_ok());
    let kv = verdict(&report, "flowtrace:plugin/kv@0.1.0");
    assert_eq!(
        kv.verdict,
        Verdict::Undeclared {
            capability: capability::Capability::Storage,
            manifest_line: "storage = true".into(),
        }
    );
    let errors = report.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0].to_string(),
        "import `flowtrace:plugin/kv@0.1.0` needs capability `storage`, which flowtrace.toml \
         does not declare"
    );
    assert_eq!(
        errors[0].help().unwrap(),
        "add `storage = true` under `[capabilities]` in flowtrace.toml"
    );

    let granted = Capabilities {
        storage: true,
        ..Capabilities::default()
    };
    let report = check(&bytes, &evaluator(Language::Rust, granted));
    assert!(report.is_ok(), "{report}");
    assert_eq!(
        verdict(&report, "flowtrace:plugin/kv@0.1.0").verdict,
        Verdict::Ok
    );
}

#[test]
fn traces_and_embeddings_need_their_capabilities() {
    let bytes = evaluator_importing(&[
        "flowtrace:plugin/traces@0.1.0",
        "flowtrace:plugin/embeddings@0.1.0",
    ]);
    let report = check(&bytes, &evaluator(Language::Rust, Capabilities::default()));
    let lines: Vec<_> = report.errors().iter().map(|e| e.help().unwrap()).collect();
    assert_eq!(
        lines,
        [
            "add `traces = true` under `[capabilities]` in flowtrace.toml",
            "add `embeddings = true` under `[capabilities]` in flowtrace.toml",
        ]
    );
    let granted = Capabilities {
        traces: true,
        embeddings: true,
        ..Capabilities::default()
    };
    assert!(check(&bytes, &evaluator(Language::Rust, granted)).is_ok());
}

#[test]
fn unknown_contract_interfaces_are_errors() {
    let bytes = evaluator_importing(&[
        "flowtrace:plugin/secrets@0.1.0",
        "flowtrace:plugin/exporter@0.1.0",
    ]);
    let report = check(&bytes, &evaluator(Language::Rust, Capabilities::default()));
    let errors: Vec<_> = report.errors().iter().map(ToString::to_string).collect();
    assert_eq!(
        errors,
        [
            "unknown import `flowtrace:plugin/secrets@0.1.0`: `flowtrace:plugin@0.1.0` has no \
             host interface `secrets`",
            "unknown import `flowtrace:plugin/exporter@0.1.0`: `exporter` is a plugin \
             interface: a plugin exports it, the host does not provide it",
        ]
    );
}

#[test]
fn contract_versions_must_be_compatible_and_not_newer() {
    let bytes = evaluator_importing(&[
        "flowtrace:plugin/log@0.2.0",
        "flowtrace:plugin/config@0.1.1",
        "flowtrace:plugin/types",
        "flowtrace:plugin/kv@0.1.0+build.1",
    ]);
    let storage = Capabilities {
        storage: true,
        ..Capabilities::default()
    };
    let report = check(&bytes, &evaluator(Language::Rust, storage));
    let host = CONTRACT_VERSION.to_string();
    assert_eq!(
        verdict(&report, "flowtrace:plugin/log@0.2.0").verdict,
        Verdict::IncompatibleVersion {
            found: Some("0.2.0".into()),
            host: host.clone()
        }
    );
    assert_eq!(
        verdict(&report, "flowtrace:plugin/config@0.1.1").verdict,
        Verdict::IncompatibleVersion {
            found: Some("0.1.1".into()),
            host: host.clone()
        }
    );
    assert_eq!(
        verdict(&report, "flowtrace:plugin/types").verdict,
        Verdict::IncompatibleVersion { found: None, host }
    );
    assert_eq!(
        verdict(&report, "flowtrace:plugin/kv@0.1.0+build.1").verdict,
        Verdict::Ok
    );
    let errors = report.errors();
    assert_eq!(
        errors[0].to_string(),
        "import `flowtrace:plugin/log@0.2.0` is version `0.2.0`, not compatible with the host's \
         `0.1.0`"
    );
    assert_eq!(
        errors[0].help().unwrap(),
        "rebuild the plugin against `flowtrace:plugin@0.1.0` (update the SDK or the plugin's \
         `wit/`)"
    );
    assert_eq!(
        errors[2].to_string(),
        "import `flowtrace:plugin/types` is version (none), not compatible with the host's \
         `0.1.0`"
    );
}

#[test]
fn baseline_wasi_is_always_linked() {
    let imports = [
        "wasi:io/poll@0.2.6",
        "wasi:io/error@0.2.6",
        "wasi:io/streams@0.2.6",
        "wasi:clocks/monotonic-clock@0.2.9",
        "wasi:clocks/wall-clock@0.2.9",
        "wasi:random/random@0.2.12",
        "wasi:random/insecure-seed@0.2.12",
        "wasi:cli/stdin@0.2.0",
        "wasi:cli/stdout@0.2.0",
        "wasi:cli/stderr@0.2.0",
        "wasi:cli/exit@0.2.0",
        "wasi:cli/terminal-input@0.2.0",
        "wasi:cli/terminal-output@0.2.0",
        "wasi:cli/terminal-stdin@0.2.0",
        "wasi:cli/terminal-stdout@0.2.0",
        "wasi:cli/terminal-stderr@0.2.0",
    ];
    let report = check(
        &evaluator_importing(&imports),
        &evaluator(Language::Rust, Capabilities::default()),
    );
    assert!(report.is_ok(), "{report}");
    for import in imports {
        assert_eq!(
            verdict(&report, import).verdict,
            Verdict::Baseline,
            "{import}"
        );
    }
    assert_eq!(
        verdict(&report, "wasi:cli/stdout@0.2.0").reason,
        "always linked; the output goes to the plugin log"
    );
}

#[test]
fn outgoing_http_needs_a_non_empty_allow_list() {
    let bytes = built("network-exporter");
    let exporter = |caps| manifest(PluginKind::Exporter, Language::Rust, caps);
    let imports = [
        "wasi:http/types@0.2.10",
        "wasi:http/outgoing-handler@0.2.10",
    ];

    let report = check(&bytes, &exporter(network(&["api.openai.com"])));
    assert!(report.is_ok(), "{report}");
    for import in imports {
        assert_eq!(verdict(&report, import).verdict, Verdict::Ok, "{import}");
    }

    for caps in [Capabilities::default(), network(&[])] {
        let report = check(&bytes, &exporter(caps));
        assert!(report.is_ok(), "sandboxed is not an error: {report}");
        for import in imports {
            let v = verdict(&report, import);
            assert_eq!(
                v.verdict,
                Verdict::Sandboxed {
                    injected_by: None,
                    fix: Some(
                        "declare `network = { hosts = [\"api.example.com\"] }` under \
                         `[capabilities]` in flowtrace.toml to grant it"
                            .into()
                    ),
                },
                "{import}"
            );
            assert_eq!(v.reason, "linked, but every request is refused");
        }
        assert_eq!(report.sandboxed().count(), 2);
    }
}

#[test]
fn other_wasi_http_interfaces_are_sandboxed_even_with_network() {
    let bytes = evaluator_importing(&["wasi:http/incoming-handler@0.2.0"]);
    let report = check(
        &bytes,
        &evaluator(Language::Rust, network(&["example.com"])),
    );
    assert!(matches!(
        verdict(&report, "wasi:http/incoming-handler@0.2.0").verdict,
        Verdict::Sandboxed { .. }
    ));
}

#[test]
fn filesystem_and_environment_follow_fs_read_and_env() {
    let imports = [
        "wasi:filesystem/types@0.2.6",
        "wasi:filesystem/preopens@0.2.6",
        "wasi:cli/environment@0.2.6",
    ];
    let bytes = evaluator_importing(&imports);
    let granted = Capabilities {
        env: vec!["OPENAI_API_KEY".into()],
        fs_read: vec!["data".into()],
        ..Capabilities::default()
    };
    let report = check(&bytes, &evaluator(Language::Rust, granted));
    for import in imports {
        assert_eq!(verdict(&report, import).verdict, Verdict::Ok, "{import}");
    }
    assert_eq!(
        verdict(&report, "wasi:cli/environment@0.2.6").reason,
        "granted by capability `env`: only the declared environment variables are visible"
    );
}

#[test]
fn rust_std_imports_are_sandboxed_and_attributed() {
    let bytes = built("rust-evaluator");
    let report = check(&bytes, &evaluator(Language::Rust, Capabilities::default()));
    assert!(report.is_ok(), "{report}");
    let env = verdict(&report, "wasi:cli/environment@0.2.6");
    assert_eq!(
        env.verdict,
        Verdict::Sandboxed {
            injected_by: Some(Toolchain::RustStd),
            fix: None
        }
    );
    assert_eq!(
        env.reason,
        "injected by Rust std on `wasm32-wasip2`; linked, but no environment variables or \
         arguments are visible"
    );
    assert_eq!(
        verdict(&report, "wasi:filesystem/preopens@0.2.6").verdict,
        Verdict::Sandboxed {
            injected_by: Some(Toolchain::RustStd),
            fix: None
        }
    );
    assert_eq!(
        verdict(&report, "wasi:io/streams@0.2.6").verdict,
        Verdict::Baseline
    );
}

#[test]
fn sockets_are_never_granted_and_componentize_py_is_named() {
    let bytes = evaluator_importing(&["wasi:sockets/tcp@0.2.9", "wasi:sockets/network@0.2.9"]);
    let everything = Capabilities {
        env: vec!["A".into()],
        fs_read: vec!["data".into()],
        storage: true,
        traces: true,
        embeddings: true,
        ..network(&["api.openai.com"])
    };
    let report = check(&bytes, &evaluator(Language::Python, everything));
    assert!(report.is_ok(), "{report}");
    let tcp = verdict(&report, "wasi:sockets/tcp@0.2.9");
    assert_eq!(
        tcp.verdict,
        Verdict::Sandboxed {
            injected_by: Some(Toolchain::ComponentizePy),
            // No advice that nothing in flowtrace.toml can follow (`--stub-wasi`).
            fix: None,
        }
    );
    assert_eq!(
        tcp.reason,
        "injected by componentize-py; linked, but no socket can be opened: network access is \
         HTTP only"
    );

    // In a Rust plugin, sockets come from the plugin's own code: no toolchain to blame.
    let report = check(&bytes, &evaluator(Language::Rust, Capabilities::default()));
    assert_eq!(
        verdict(&report, "wasi:sockets/tcp@0.2.9").verdict,
        Verdict::Sandboxed {
            injected_by: None,
            fix: None
        }
    );
}

#[test]
fn componentize_js_http_is_named_with_the_flags_that_remove_it() {
    let bytes = evaluator_importing(&[
        "wasi:http/types@0.2.10",
        "wasi:http/outgoing-handler@0.2.10",
        "wasi:filesystem/types@0.2.10",
    ]);
    let report = check(
        &bytes,
        &evaluator(Language::TypeScript, Capabilities::default()),
    );
    assert!(report.is_ok(), "{report}");
    assert_eq!(
        verdict(&report, "wasi:http/outgoing-handler@0.2.10").verdict,
        Verdict::Sandboxed {
            injected_by: Some(Toolchain::ComponentizeJs),
            fix: Some(
                "pass `-d http fetch-event` to `componentize-js` to remove it, or declare \
                 `network = { hosts = [...] }` under `[capabilities]` to make requests"
                    .into()
            ),
        }
    );
    assert_eq!(
        verdict(&report, "wasi:filesystem/types@0.2.10").verdict,
        Verdict::Sandboxed {
            injected_by: Some(Toolchain::ComponentizeJs),
            fix: Some(
                "pass `-d stdio` to `componentize-js` to remove it (the Flowtrace build \
                 does; keep `random` and `clocks`: without them `Math.random()` and `Date.now()` \
                 trap)"
                    .into()
            ),
        }
    );
}

#[test]
fn anything_else_is_an_unknown_import() {
    let bytes = component(
        r#"(component
  (import "wasi:keyvalue/store@0.2.0" (instance))
  (import "acme:tools/shell@1.0.0" (instance))
  (import "wasi:cli/run@0.2.0" (instance))
  (import "host-func" (func))
  (core module $m (func (export "evaluate") (result i32) i32.const 1))
  (core instance $mi (instantiate $m))
  (func $evaluate (result bool) (canon lift (core func $mi "evaluate")))
  (instance $plugin (export "evaluate" (func $evaluate)))
  (export "flowtrace:plugin/evaluator@0.1.0" (instance $plugin))
)"#,
    );
    let report = check(&bytes, &evaluator(Language::Rust, Capabilities::default()));
    let errors: Vec<_> = report.errors().iter().map(ToString::to_string).collect();
    assert_eq!(
        errors,
        [
            "unknown import `wasi:keyvalue/store@0.2.0`: the host does not provide \
             `wasi:keyvalue/store`",
            "unknown import `acme:tools/shell@1.0.0`: package `acme:tools` is neither \
             `flowtrace:plugin` nor a WASI package this host provides",
            "unknown import `wasi:cli/run@0.2.0`: the host does not provide `wasi:cli/run`",
            "unknown import `host-func`: a plain-name import is neither part of \
             `flowtrace:plugin` nor of WASI",
        ]
    );
}

#[test]
fn wasi_outside_the_0_2_series_is_incompatible() {
    let bytes = evaluator_importing(&["wasi:io/streams@0.3.0", "wasi:clocks/wall-clock@0.2.13"]);
    let report = check(&bytes, &evaluator(Language::Rust, Capabilities::default()));
    assert_eq!(
        verdict(&report, "wasi:io/streams@0.3.0").verdict,
        Verdict::IncompatibleVersion {
            found: Some("0.3.0".into()),
            host: "0.2.12".into()
        }
    );
    // wasmtime links any 0.2.x to its 0.2.12.
    assert_eq!(
        verdict(&report, "wasi:clocks/wall-clock@0.2.13").verdict,
        Verdict::Baseline
    );
}

// ---------------------------------------------------------------------------------------------
// Exports

#[test]
fn the_wrong_kind_of_export_is_named() {
    let bytes = importing(&[], "exporter@0.1.0");
    let report = check(&bytes, &evaluator(Language::Rust, Capabilities::default()));
    assert_eq!(
        report.export_problems,
        [ExportProblem::Missing {
            expected: "flowtrace:plugin/evaluator@0.1.0".into(),
            kind: "evaluator".into(),
            found: vec!["flowtrace:plugin/exporter@0.1.0".into()],
            other_kind: Some("exporter".into()),
        }]
    );
    let errors = report.errors();
    assert_eq!(
        errors[0].to_string(),
        "the component does not export `flowtrace:plugin/evaluator@0.1.0`, which a plugin of \
         kind `evaluator` must export; it exports `flowtrace:plugin/exporter@0.1.0`"
    );
    assert_eq!(
        errors[0].help().unwrap(),
        "set `kind = \"exporter\"` under `[plugin]` in flowtrace.toml, or build against the \
         `evaluator-plugin` world and implement `evaluator`"
    );
    let exporter = manifest(
        PluginKind::Exporter,
        Language::Rust,
        Capabilities::default(),
    );
    assert!(check(&bytes, &exporter).is_ok());
}

#[test]
fn a_component_exporting_nothing_is_told_what_to_implement() {
    let bytes = component("(component (import \"wasi:io/poll@0.2.6\" (instance)))");
    let report = check(&bytes, &evaluator(Language::Rust, Capabilities::default()));
    let errors = report.errors();
    assert_eq!(
        errors[0].to_string(),
        "the component does not export `flowtrace:plugin/evaluator@0.1.0`, which a plugin of \
         kind `evaluator` must export; it exports nothing"
    );
    assert_eq!(
        errors[0].help().unwrap(),
        "build against the `evaluator-plugin` world of `flowtrace:plugin` and implement the \
         `evaluator` interface"
    );
}

#[test]
fn an_export_of_another_contract_version_is_refused() {
    let bytes = importing(&[], "evaluator@0.2.0");
    let report = check(&bytes, &evaluator(Language::Rust, Capabilities::default()));
    assert_eq!(
        report.export_problems,
        [ExportProblem::IncompatibleVersion {
            export: "flowtrace:plugin/evaluator@0.2.0".into(),
            found: Some("0.2.0".into()),
            host: "0.1.0".into(),
        }]
    );
    assert_eq!(
        report.errors()[0].to_string(),
        "export `flowtrace:plugin/evaluator@0.2.0` is contract version `0.2.0`, not compatible \
         with the host's `0.1.0`"
    );
}

#[test]
fn an_interface_exported_as_a_function_is_refused() {
    let bytes = component(
        r#"(component
  (core module $m (func (export "f")))
  (core instance $mi (instantiate $m))
  (func $f (canon lift (core func $mi "f")))
  (export "flowtrace:plugin/evaluator@0.1.0" (func $f))
)"#,
    );
    let report = check(&bytes, &evaluator(Language::Rust, Capabilities::default()));
    assert_eq!(
        report.export_problems,
        [ExportProblem::NotAnInstance {
            export: "flowtrace:plugin/evaluator@0.1.0".into(),
            item: ItemKind::Func,
        }]
    );
}

// ---------------------------------------------------------------------------------------------
// Output

#[test]
fn the_report_renders_as_text_and_kebab_case_json() {
    let bytes = evaluator_importing(&[
        "flowtrace:plugin/types@0.1.0",
        "flowtrace:plugin/log@0.1.0",
        "flowtrace:plugin/config@0.1.0",
        "flowtrace:plugin/kv@0.1.0",
    ]);
    let report = check(&bytes, &evaluator(Language::Rust, Capabilities::default()));
    assert_eq!(
        report.to_string(),
        "\
ok                   flowtrace:plugin/types@0.1.0: always granted
ok                   flowtrace:plugin/log@0.1.0: always granted
ok                   flowtrace:plugin/config@0.1.0: always granted
undeclared           flowtrace:plugin/kv@0.1.0: needs capability `storage`, which flowtrace.toml does not declare
"
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(
        json["verdicts"][3],
        serde_json::json!({
            "import": "flowtrace:plugin/kv@0.1.0",
            "verdict": "undeclared",
            "capability": "storage",
            "manifest-line": "storage = true",
            "reason": "needs capability `storage`, which flowtrace.toml does not declare",
        })
    );
    assert_eq!(json["export-problems"], serde_json::json!([]));

    let sandboxed = check(
        &evaluator_importing(&["wasi:cli/environment@0.2.6"]),
        &evaluator(Language::Rust, Capabilities::default()),
    );
    assert_eq!(
        serde_json::to_value(&sandboxed.verdicts[0]).unwrap(),
        serde_json::json!({
            "import": "wasi:cli/environment@0.2.6",
            "verdict": "sandboxed",
            "injected-by": "rust-std",
            "fix": null,
            "reason": "injected by Rust std on `wasm32-wasip2`; linked, but no environment \
                       variables or arguments are visible",
        })
    );

    let errors = serde_json::to_value(
        check(
            &importing(&[], "exporter@0.1.0"),
            &evaluator(Language::Rust, Capabilities::default()),
        )
        .errors(),
    )
    .unwrap();
    assert_eq!(errors[0]["problem"], "missing");
    assert_eq!(errors[0]["other-kind"], "exporter");
}

#[test]
fn the_inspection_serializes_with_kebab_case_fields() {
    let bytes = validated(with_custom_section(
        evaluator_importing(&["wasi:io/streams@0.2.6"]),
        MANIFEST_SECTION,
        TOML.as_bytes(),
        None,
    ));
    let inspection: Inspection = inspect(&bytes).unwrap();
    let json = serde_json::to_value(&inspection).unwrap();
    assert_eq!(
        json["imports"][0],
        serde_json::json!({
            "name": "wasi:io/streams@0.2.6",
            "kind": "instance",
            "interface": {
                "namespace": "wasi",
                "package": "io",
                "interface": "streams",
                "version": "0.2.6",
            },
        })
    );
    assert_eq!(json["embedded-manifest"], TOML);
    assert_eq!(json["size"], bytes.len());
    assert!(json["world-wit"].is_string());
    // `component-name` is the name section wat writes for the `$ids`.
    assert_eq!(
        json["custom-sections"],
        serde_json::json!([
            { "name": "component-name", "size": 43 },
            { "name": MANIFEST_SECTION, "size": TOML.len() },
        ])
    );
}

#[test]
fn capability_errors_are_all_collected() {
    let bytes = importing(
        &[
            "flowtrace:plugin/kv@0.1.0",
            "acme:x/y@1.0.0",
            "flowtrace:plugin/log@9.0.0",
        ],
        "transformer@0.1.0",
    );
    let report = check(&bytes, &evaluator(Language::Rust, Capabilities::default()));
    let errors = report.errors();
    assert_eq!(errors.len(), 4, "{errors:?}");
    assert!(matches!(
        errors[0],
        CapabilityError::UndeclaredCapability { .. }
    ));
    assert!(matches!(errors[1], CapabilityError::UnknownImport { .. }));
    assert!(matches!(
        errors[2],
        CapabilityError::IncompatibleImport { .. }
    ));
    assert!(matches!(errors[3], CapabilityError::Export { .. }));
}
