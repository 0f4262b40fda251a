//! Test support: build guest components from WAT, and make manifests and traces.
//!
//! Enabled by the `test-support` feature; the crate's tests and `cargo xtask bench` use it so
//! runtime tests need no language toolchain.

use std::collections::BTreeMap;
use std::path::PathBuf;

pub mod fuzz;

use crate::manifest::{
    BuildInfo, Capabilities, Language, Limits, Manifest, PluginId, PluginInfo, PluginKind,
    CURRENT_MANIFEST_VERSION,
};
use crate::trace::{Attribute, AttributeValue, Span, SpanKind, SpanStatus, TokenUsage, Trace};

/// The contract: this crate's copy of the repository's `wit/` (`cargo xtask wit`).
pub fn wit_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("wit")
}

const PRELUDE: &str = include_str!("../tests/guests/prelude.wat");
const SCORE: &str = include_str!("../tests/guests/score.wat");

/// The test guests, by file name without `.wat`.
pub fn guest_wat(name: &str) -> String {
    let src = match name {
        "behaviors" => include_str!("../tests/guests/behaviors.wat"),
        "scan-accessors" => include_str!("../tests/guests/scan-accessors.wat"),
        "scan-infos" => include_str!("../tests/guests/scan-infos.wat"),
        "scan-by-value" => include_str!("../tests/guests/scan-by-value.wat"),
        "http" => include_str!("../tests/guests/http.wat"),
        "services" => include_str!("../tests/guests/services.wat"),
        "embedder" => include_str!("../tests/guests/embedder.wat"),
        "embeddings-user" => include_str!("../tests/guests/embeddings-user.wat"),
        "transformer" => include_str!("../tests/guests/transformer.wat"),
        "exporter" => include_str!("../tests/guests/exporter.wat"),
        "traces-user" => include_str!("../tests/guests/traces-user.wat"),
        "counter" => include_str!("../tests/guests/counter.wat"),
        "order" => include_str!("../tests/guests/order.wat"),
        "instance-count" => include_str!("../tests/guests/instance-count.wat"),
        "overflow" => include_str!("../tests/guests/overflow.wat"),
        other => panic!("no test guest named `{other}`"),
    };
    expand(src)
}

/// Substitute the shared snippets (`@PRELUDE@`, `@SCORE@`) into a core module's text.
pub fn expand(core_wat: &str) -> String {
    core_wat
        .replace("@PRELUDE@", PRELUDE)
        .replace("@SCORE@", SCORE)
}

/// Componentize a core module (text, after [`expand`]) against a world. `world` is WIT source
/// of a package that may use `flowtrace:plugin@0.1.0`, with one world, e.g.
/// `package test:guest; world w { import flowtrace:plugin/kv@0.1.0; export flowtrace:plugin/evaluator@0.1.0; }`.
pub fn componentize(core_wat: &str, world: &str) -> Result<Vec<u8>, String> {
    componentize_encoded(core_wat, world, wit_component::StringEncoding::UTF8)
}

/// [`componentize`] with strings in UTF-16, as some toolchains lift and lower them.
pub fn componentize_utf16(core_wat: &str, world: &str) -> Result<Vec<u8>, String> {
    componentize_encoded(core_wat, world, wit_component::StringEncoding::UTF16)
}

/// [`componentize`], with `extra` (WIT items, without a `package` line) added to the
/// contract's package: for interfaces a host knows beside the contract, such as the loader of
/// a [`Preload`](crate::Preload) ([`PRELOAD_INTERFACE`](crate::PRELOAD_INTERFACE)).
pub fn componentize_with_contract_extra(
    core_wat: &str,
    world: &str,
    extra: &str,
) -> Result<Vec<u8>, String> {
    componentize_inner(
        core_wat,
        world,
        wit_component::StringEncoding::UTF8,
        Some(extra),
    )
}

fn componentize_encoded(
    core_wat: &str,
    world: &str,
    encoding: wit_component::StringEncoding,
) -> Result<Vec<u8>, String> {
    componentize_inner(core_wat, world, encoding, None)
}

fn componentize_inner(
    core_wat: &str,
    world: &str,
    encoding: wit_component::StringEncoding,
    extra: Option<&str>,
) -> Result<Vec<u8>, String> {
    let mut resolve = wit_parser::Resolve::new();
    // The standard WASI packages first, so test worlds can import `wasi:http` and friends.
    resolve
        .push_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/guests/wasi-wit"))
        .map_err(|e| format!("wasi wit: {e:#}"))?;
    match extra {
        None => {
            resolve
                .push_dir(wit_dir())
                .map_err(|e| format!("wit: {e:#}"))?;
        }
        Some(extra) => {
            let mut sources = wit_parser::SourceMap::new();
            sources
                .push_dir(&wit_dir())
                .map_err(|e| format!("wit: {e:#}"))?;
            sources.push_str(
                "extra.wit",
                format!(
                    "package {}@{};\n{extra}",
                    crate::capability::CONTRACT_PACKAGE,
                    crate::capability::CONTRACT_VERSION
                ),
            );
            let group = sources
                .parse()
                .map_err(|(_, e)| format!("wit and extra: {e:#}"))?;
            resolve
                .push_group(group)
                .map_err(|e| format!("wit and extra: {e:#}"))?;
        }
    }
    let pkg = resolve
        .push_str("test-world.wit", world)
        .map_err(|e| format!("test world: {e:#}"))?;
    let world = resolve
        .select_world(&[pkg], None)
        .map_err(|e| format!("select world: {e:#}"))?;
    let mut module = wat::parse_str(core_wat).map_err(|e| format!("wat: {e}"))?;
    wit_component::embed_component_metadata(&mut module, &resolve, world, encoding)
        .map_err(|e| format!("embed: {e:#}"))?;
    wit_component::ComponentEncoder::default()
        .module(&module)
        .map_err(|e| format!("encoder: {e:#}"))?
        .validate(true)
        .encode()
        .map_err(|e| format!("encode: {e:#}"))
}

/// The world of the `counter` guest: `log`, `kv`, `traces` and the monotonic clock.
pub const COUNTER_WORLD: &str = "package test:guest; world w { import flowtrace:plugin/log@0.1.0; import flowtrace:plugin/kv@0.1.0; import flowtrace:plugin/traces@0.1.0; import wasi:clocks/monotonic-clock@0.2.12; export flowtrace:plugin/evaluator@0.1.0; }";

/// Componentize a core module as an evaluator with only the always-granted imports.
pub fn evaluator(core_wat: &str) -> Vec<u8> {
    componentize(
        core_wat,
        "package test:guest; world w { import flowtrace:plugin/log@0.1.0; export flowtrace:plugin/evaluator@0.1.0; }",
    )
    .unwrap_or_else(|e| panic!("building a test evaluator: {e}"))
}

/// A manifest for a test plugin with no capabilities, config or limits.
pub fn manifest(id: &str, kind: PluginKind) -> Manifest {
    Manifest {
        manifest_version: CURRENT_MANIFEST_VERSION,
        plugin: PluginInfo {
            id: PluginId::parse(id).expect("a valid test id"),
            name: id.to_string(),
            version: semver::Version::new(0, 1, 0),
            kind,
            description: None,
            flowtrace: semver::VersionReq::parse("^0.1").expect("valid"),
            authors: Vec::new(),
            license: None,
            stateless: false,
        },
        build: BuildInfo {
            language: Language::Rust,
            entry: None,
        },
        capabilities: Capabilities::default(),
        config: BTreeMap::new(),
        dependencies: BTreeMap::new(),
        limits: Limits::default(),
    }
}

/// A trace with `n` spans and no content, for picking a behaviour of `behaviors.wat`.
pub fn trace_with_spans(n: usize) -> Trace {
    Trace {
        id: format!("trace-{n}"),
        input: None,
        output: None,
        attributes: Vec::new(),
        spans: (0..n).map(|i| span(i, SpanKind::Custom, None)).collect(),
    }
}

fn span(i: usize, kind: SpanKind, output: Option<String>) -> Span {
    Span {
        id: format!("{:016x}", i + 1),
        parent_id: (i > 0).then(|| format!("{:016x}", 1)),
        name: format!("span {i}"),
        kind,
        status: SpanStatus::Ok,
        status_message: None,
        input: None,
        output,
        model: None,
        start_time_ns: 1_700_000_000_000_000_000 + i as u64 * 1_000_000,
        end_time_ns: Some(1_700_000_000_000_000_000 + i as u64 * 1_000_000 + 500_000),
        usage: TokenUsage::default(),
        cost_usd: None,
        attributes: Vec::new(),
    }
}

/// A realistic 20-span agent trace: an agent root, 13 LLM calls (one with an empty output,
/// one cut off by `length`), 4 tool calls (one errored), 2 retrievals; prompts and
/// completions of a few hundred bytes and GenAI attributes on every span, about 240 strings.
pub fn agent_trace() -> Trace {
    let mut spans = vec![span(
        0,
        SpanKind::AgentStep,
        Some("The weather in Paris is sunny.".into()),
    )];
    spans[0].name = "invoke_agent weather-bot".into();
    spans[0].input = Some("What is the weather in Paris?".into());
    for i in 1..20 {
        let kind = match i % 4 {
            0 => SpanKind::ToolCall,
            _ if i == 7 || i == 15 => SpanKind::Retrieval,
            _ => SpanKind::LlmCall,
        };
        let mut s = span(
            i,
            kind,
            Some(format!(
                "{} reply {i}: {}",
                kind_name(kind),
                "lorem ipsum ".repeat(20)
            )),
        );
        s.input = Some(format!(
            "[{{\"role\":\"user\",\"content\":\"question {i} {}\"}}]",
            "dolor sit amet ".repeat(15)
        ));
        s.name = format!("{} {i}", kind_name(kind));
        if kind == SpanKind::LlmCall {
            s.model = Some("gpt-4o-mini-2024-07-18".into());
            s.usage = TokenUsage {
                input: Some(120 + i as u64),
                output: Some(40 + i as u64),
                total: Some(160 + 2 * i as u64),
            };
        }
        let finish = if i == 9 { "length" } else { "stop" };
        s.attributes = vec![
            attr("gen_ai.system", "openai"),
            attr("gen_ai.operation.name", kind_name(kind)),
            attr("gen_ai.request.model", "gpt-4o-mini"),
            attr("gen_ai.response.finish_reasons", finish),
            attr("server.address", "api.openai.com"),
            Attribute {
                key: "gen_ai.request.temperature".into(),
                value: AttributeValue::Float(0.2),
            },
        ];
        spans.push(s);
    }
    spans[5].output = Some(String::new()); // an LLM call with an empty output
    spans[12].status = SpanStatus::Error; // a tool call that failed
    spans[12].status_message = Some("tool timed out".into());
    Trace {
        id: "4bf92f3577b34da6a3ce929d0e0e4736".into(),
        input: spans[0].input.clone(),
        output: spans[0].output.clone(),
        attributes: vec![attr("service.name", "weather-bot")],
        spans,
    }
}

fn kind_name(kind: SpanKind) -> &'static str {
    match kind {
        SpanKind::LlmCall => "chat",
        SpanKind::ToolCall => "execute_tool",
        SpanKind::Retrieval => "retrieve",
        SpanKind::AgentStep => "invoke_agent",
        SpanKind::Embedding => "embeddings",
        SpanKind::Custom => "custom",
    }
}

fn attr(key: &str, value: &str) -> Attribute {
    Attribute {
        key: key.into(),
        value: AttributeValue::Text(value.into()),
    }
}

/// The scan guests' logic in native Rust (the benchmark baseline): flag LLM calls with an
/// empty output and tool calls that errored; score = 1 - flagged / spans.
pub fn scan_native(trace: &Trace) -> f64 {
    let flagged = trace
        .spans
        .iter()
        .filter(|s| {
            let out = s.output.as_ref().map_or(0, String::len);
            (s.kind == SpanKind::LlmCall && out == 0)
                || (s.kind == SpanKind::ToolCall && s.status == SpanStatus::Error)
        })
        .count();
    if trace.spans.is_empty() {
        1.0
    } else {
        1.0 - flagged as f64 / trace.spans.len() as f64
    }
}

/// A core module (text) of an evaluator with `funcs` filler functions of real code and a
/// `data_bytes` data segment: a stand-in for a Python or JavaScript component's size.
pub fn large_module_wat(funcs: usize, data_bytes: usize) -> String {
    use std::fmt::Write;
    let mut wat = String::from("(module\n");
    wat.push_str(PRELUDE);
    for i in 0..funcs {
        let _ = write!(
            wat,
            "(func $f{i} (param $x i32) (result i32) (local $a i32) (local.set $a (local.get $x))"
        );
        for k in 0..40 {
            let _ = write!(
                wat,
                " (local.set $a (i32.xor (i32.mul (local.get $a) (i32.const {})) (i32.const {})))",
                2 * k + 3 + i,
                k * 7 + i
            );
        }
        wat.push_str(" (local.get $a))\n");
    }
    // Passive, so instantiation does not copy it anywhere.
    let _ = writeln!(wat, "(data \"{}\")", "\\2a".repeat(data_bytes));
    let _ = writeln!(
        wat,
        "(func (export \"flowtrace:plugin/evaluator@0.1.0#evaluate\") (param i32) (result i32)
           (drop (call $f0 (i32.const 1)))
           (call $ok (f64.const 1) (i32.const 1)))
         (func (export \"flowtrace:plugin/evaluator@0.1.0#evaluate-batch\") (param i32 i32) (result i32) unreachable))"
    );
    wat
}

/// `bytes` with a top-level custom section `name` holding `data` appended by hand (id 0,
/// size, name, data), as a producer other than `cargo flowtrace build` might write it;
/// `declared` overrides the size field, to lie about it.
pub fn with_custom_section(
    mut bytes: Vec<u8>,
    name: &str,
    data: &[u8],
    declared: Option<u32>,
) -> Vec<u8> {
    let mut payload = leb128(name.len() as u32);
    payload.extend_from_slice(name.as_bytes());
    payload.extend_from_slice(data);
    bytes.push(0);
    bytes.extend(leb128(declared.unwrap_or(payload.len() as u32)));
    bytes.extend(payload);
    bytes
}

fn leb128(mut value: u32) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// Whether the compiled-cache entry of `sha256` in the cache `at` would be loaded without
/// reading its code: unchanged since this key's holder last checked its seal in full, on a
/// platform where such an entry is mapped (Linux).
pub fn cache_entry_unchanged(
    engine_of: &crate::Runtime,
    at: &crate::cache::CacheDir,
    sha256: &str,
) -> bool {
    cfg!(target_os = "linux") && engine_of.cache_entry_unchanged(at, sha256)
}

/// Forge the compiled-cache entries of the component whose sha256 is `sha256` under
/// `cache_root` (any engine configuration) the way an attacker who knows the format would: overwrite the compiled code (the ELF `.text` section) with `int3` (a trap
/// instruction on x86, illegal bytes elsewhere) and seal the entry again with `key`. Loaded
/// by a home whose key is `key`, the entry's code would kill the process; by any other home,
/// it must be compiled again. Returns how many entries were forged.
pub fn forge_cache_entries(
    cache_root: &std::path::Path,
    sha256: &str,
    key: &crate::cache::CacheKey,
) -> usize {
    let mut forged = 0;
    let mut dirs = vec![cache_root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("a readable cache directory") {
            let path = entry.expect("a readable cache directory").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "cwasm")
                && path.file_stem().is_some_and(|stem| stem == sha256)
            {
                let mut code = std::fs::read(&path).expect("a readable entry");
                let (offset, size) = elf_text_section(&code);
                assert!(size > 0, "an empty .text in {}", path.display());
                code[offset..offset + size].fill(0xcc);
                std::fs::write(&path, &code).expect("a writable entry");
                crate::cache::reseal(&path.with_extension("meta"), &code, key);
                forged += 1;
            }
        }
    }
    forged
}

/// The offset and size of the `.text` section of an ELF file (a compiled cache entry).
fn elf_text_section(elf: &[u8]) -> (usize, usize) {
    let u16_at = |at: usize| u16::from_le_bytes(elf[at..at + 2].try_into().unwrap()) as usize;
    let u32_at = |at: usize| u32::from_le_bytes(elf[at..at + 4].try_into().unwrap()) as usize;
    let u64_at = |at: usize| u64::from_le_bytes(elf[at..at + 8].try_into().unwrap()) as usize;
    assert_eq!(&elf[..4], b"\x7fELF", "a compiled entry is an ELF file");
    let (shoff, shentsize) = (u64_at(0x28), u16_at(0x3a));
    let (shnum, shstrndx) = (u16_at(0x3c), u16_at(0x3e));
    let header = |i: usize| shoff + i * shentsize;
    let strtab = u64_at(header(shstrndx) + 24);
    (0..shnum)
        .map(header)
        .find(|&h| {
            let name = &elf[strtab + u32_at(h)..];
            name.starts_with(b".text\0")
        })
        .map(|h| (u64_at(h + 24), u64_at(h + 32)))
        .expect("a .text section")
}
