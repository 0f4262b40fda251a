//! The host's memory per input byte when `eval` reads one large OTLP/JSON document (issue 16,
//! item 2): the peak RSS of `cargo-flowtrace eval -j 1` over an export of a small and a large
//! size, pretty-printed (a document) and on one line (as exporters write it), and the slope
//! between the two sizes: the bytes of memory each byte of input costs. Beside it, the same
//! export parsed the way documents were before (one `serde_json::Value` tree, then converted),
//! in a process of its own (`__parse-tree`).
//!
//! The export is the real Traceloop export of `runtime/tests/fixtures/traces`, its
//! `resourceSpans` entry repeated with a new trace id each time until the size is reached.
//!
//! `cargo xtask bench-input` prints it as JSON (`--dev` measures the dev build of the CLI,
//! `--tool PATH` another build); `cargo xtask bench` includes it as `input-memory`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use flowtrace_plugins::{inspect, testing};
use serde_json::{json, Value};

/// The hidden xtask that parses a file into one JSON tree, then into traces.
pub const PARSE_TREE: &str = "__parse-tree";

const MANIFEST: &str =
    "[plugin]\nid = \"bench-input\"\nname = \"bench-input\"\nversion = \"0.1.0\"\n\
                        kind = \"evaluator\"\n\n[build]\nlanguage = \"rust\"\n";

const FIXTURE: &str = "runtime/tests/fixtures/traces/real-python-traceloop0475-hex.json";

pub fn run(args: &[String]) -> Result<()> {
    let tool = match args.iter().position(|a| a == "--tool") {
        Some(i) => PathBuf::from(args.get(i + 1).context("`--tool` takes a path")?),
        None => crate::build_cli(args.iter().any(|a| a == "--dev"))?,
    };
    let quick = args.iter().any(|a| a == "--quick");
    println!("{}", serde_json::to_string_pretty(&measure(&tool, quick)?)?);
    Ok(())
}

pub fn measure(tool: &Path, quick: bool) -> Result<Value> {
    let dir = tempfile::tempdir()?;
    let plugin = dir.path().join("plugin.wasm");
    let component = testing::evaluator(&testing::guest_wat("scan-infos"));
    std::fs::write(&plugin, inspect::embed_manifest(&component, MANIFEST)?)?;
    let (small, large) = if quick {
        (8 << 20, 32 << 20)
    } else {
        (16 << 20, 128 << 20)
    };
    let mut out = serde_json::Map::new();
    for (layout, pretty) in [("document", true), ("one-line", false)] {
        let mut sizes = Vec::new();
        let mut eval_kib = Vec::new();
        let mut tree_kib = Vec::new();
        for target in [small, large] {
            let path = dir.path().join(format!("{layout}-{target}.json"));
            let (bytes, traces) = write_export(&path, target, pretty)?;
            sizes.push(bytes);
            let results = dir.path().join("results.jsonl");
            eval_kib.push(crate::bench_eval::peak_rss_of(
                tool,
                &["eval", "-q", "-j", "1", "--output"],
                &[&results, &plugin, &path],
            )?);
            let evaluated = std::fs::read_to_string(&results)?.lines().count();
            anyhow::ensure!(
                evaluated == traces,
                "`eval` gave {evaluated} results for {traces} traces"
            );
            let exe = std::env::current_exe()?;
            tree_kib.push(crate::bench_eval::peak_rss_of(
                &exe,
                &[PARSE_TREE],
                &[&path],
            )?);
        }
        let mib = |kib: u64| round(kib as f64 / 1024.0, 1);
        let per_byte = |kib: &[u64]| {
            let grown = (kib[1] as f64 - kib[0] as f64) * 1024.0;
            round(grown / (sizes[1] - sizes[0]) as f64, 2)
        };
        out.insert(
            layout.into(),
            json!({
                "input-mib": [mib(sizes[0] as u64 / 1024), mib(sizes[1] as u64 / 1024)],
                "eval-peak-mib": [mib(eval_kib[0]), mib(eval_kib[1])],
                "eval-bytes-per-input-byte": per_byte(&eval_kib),
                "json-tree-peak-mib": [mib(tree_kib[0]), mib(tree_kib[1])],
                "json-tree-bytes-per-input-byte": per_byte(&tree_kib),
            }),
        );
    }
    out.insert(
        "note".into(),
        json!("peak RSS of `cargo-flowtrace eval -j 1` over one OTLP/JSON export (the real Traceloop export's resourceSpans repeated with new trace ids), and of a process that parses it as one JSON tree (how documents were read before); bytes-per-input-byte is the slope between the two sizes"),
    );
    Ok(Value::Object(out))
}

/// An export of about `target` bytes; its size and its number of traces.
fn write_export(path: &Path, target: usize, pretty: bool) -> Result<(usize, usize)> {
    let fixture = crate::workspace_root().join(FIXTURE);
    let export: Value = serde_json::from_slice(&std::fs::read(&fixture)?)?;
    let entries = export["resourceSpans"]
        .as_array()
        .context("the fixture has `resourceSpans`")?;
    let mut ids: Vec<String> = entries
        .iter()
        .flat_map(|rs| rs["scopeSpans"].as_array().into_iter().flatten())
        .flat_map(|ss| ss["spans"].as_array().into_iter().flatten())
        .filter_map(|span| span["traceId"].as_str().map(str::to_owned))
        .collect();
    ids.sort();
    ids.dedup();
    anyhow::ensure!(ids.len() == 1, "the fixture should hold one trace");
    let template: Vec<String> = entries
        .iter()
        .map(|rs| {
            if pretty {
                serde_json::to_string_pretty(rs)
            } else {
                serde_json::to_string(rs)
            }
        })
        .collect::<Result<_, _>>()?;
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut written = 0;
    let mut copies = 0;
    let open = if pretty {
        "{\n\"resourceSpans\": [\n"
    } else {
        "{\"resourceSpans\":["
    };
    file.write_all(open.as_bytes())?;
    written += open.len();
    while written < target {
        for entry in &template {
            let mut entry = entry.clone();
            for id in &ids {
                entry = entry.replace(id.as_str(), &format!("{:032x}", copies + 1));
            }
            if written > open.len() {
                file.write_all(b",")?;
                written += 1;
            }
            file.write_all(entry.as_bytes())?;
            written += entry.len();
        }
        copies += 1;
    }
    let close = if pretty { "\n]\n}\n" } else { "]}\n" };
    file.write_all(close.as_bytes())?;
    written += close.len();
    file.flush()?;
    Ok((written, copies))
}

/// `xtask __parse-tree <file>`: parse the file into one `serde_json::Value`, then into traces,
/// as documents were read before they were streamed.
pub fn parse_tree_main(args: &[String]) -> Result<()> {
    let path = args.first().context("usage: __parse-tree <file>")?;
    let bytes = std::fs::read(path)?;
    let value: Value = serde_json::from_slice(&bytes)?;
    let traces = flowtrace_plugins::trace::from_otlp_value(&value)?;
    std::hint::black_box((&value, &traces));
    println!("{}", traces.len());
    Ok(())
}

fn round(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}
