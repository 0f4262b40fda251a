//! The host's memory under huge outputs (issue 9, item 4): the peak RSS of `cargo-flowtrace
//! eval -j 8` over 8 traces whose evaluator returns a 100 MB explanation each, refused by
//! the 1 MiB output limit, next to the same guest returning a 100-byte explanation from the
//! same 100 MB of memory. The difference is what the host copies out of the guests (to
//! within the runs' noise, some tens of MiB: the 8 calls overlap differently each run).
//!
//! `cargo xtask bench-output` prints it as JSON (`--dev` measures the dev build of the CLI,
//! quicker to make; `--tool PATH` measures another build, e.g. one of an older commit);
//! `cargo xtask bench` includes it as `huge-output`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use flowtrace_plugins::{inspect, testing};
use serde_json::{json, Value};

/// Bytes of each explanation: the issue's 100 MB.
const EXPLANATION: usize = 100_000_000;
/// Traces, and workers.
const TRACES: usize = 8;

const MANIFEST: &str =
    "[plugin]\nid = \"huge-output\"\nname = \"huge-output\"\nversion = \"0.1.0\"\n\
                        kind = \"evaluator\"\n\n[build]\nlanguage = \"rust\"\n";

pub fn run(args: &[String]) -> Result<()> {
    let tool = match args.iter().position(|a| a == "--tool") {
        Some(i) => PathBuf::from(args.get(i + 1).context("`--tool` takes a path")?),
        None => {
            let dev = args.iter().any(|a| a == "--dev");
            crate::build_cli(dev)?
        }
    };
    println!("{}", serde_json::to_string_pretty(&measure(&tool)?)?);
    Ok(())
}

/// Peak RSS of `tool eval -j 8` over 8 traces, with the huge explanations and without.
pub fn measure(tool: &Path) -> Result<Value> {
    let dir = tempfile::tempdir()?;
    let traces = dir.path().join("traces.jsonl");
    write_traces(&traces)?;
    let mut peak = serde_json::Map::new();
    for (name, explained) in [
        ("100-mb-explanations", EXPLANATION),
        ("100-byte-explanations", 100),
    ] {
        let plugin = dir.path().join(format!("{name}.wasm"));
        let component = testing::evaluator(&guest(EXPLANATION, explained));
        std::fs::write(&plugin, inspect::embed_manifest(&component, MANIFEST)?)?;
        let results = dir.path().join(format!("{name}.results"));
        let kib = crate::bench_eval::peak_rss_of(
            tool,
            &["eval", "-q", "-j", &TRACES.to_string(), "--output"],
            &[&results, &plugin, &traces],
        )?;
        // The scenario is the one measured: every trace refused for its output, or passed.
        let text = std::fs::read_to_string(&results)?;
        let expected = if explained > 1 << 20 {
            "is over the"
        } else {
            "\"passed\":true"
        };
        let matching = text.matches(expected).count();
        if matching != TRACES {
            bail!("{name}: {matching} of {TRACES} results say `{expected}`:\n{text:.2000}");
        }
        peak.insert(name.into(), json!((kib as f64 / 1024.0).round()));
    }
    let extra = peak["100-mb-explanations"].as_f64().unwrap_or(0.0)
        - peak["100-byte-explanations"].as_f64().unwrap_or(0.0);
    Ok(json!({
        "traces": TRACES,
        "jobs": TRACES,
        "explanation-bytes": EXPLANATION,
        "peak-rss-mib": peak,
        "huge-minus-small-mib": extra,
        "note": "maximum RSS of `cargo-flowtrace eval -j 8` over 8 traces (one per batch), each evaluation filling 100 MB of guest memory and returning it as its explanation (refused by the 1 MiB output limit) or 100 bytes of it",
    }))
}

/// An evaluator that fills `fill` bytes of its memory and returns the first `explained` of
/// them as its explanation.
fn guest(fill: usize, explained: usize) -> String {
    testing::expand(&format!(
        r#"(module
  (import "flowtrace:plugin/types@0.1.0" "[resource-drop]trace" (func $drop_trace (param i32)))
  @PRELUDE@
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate") (param $t i32) (result i32)
    (local $p i32)
    (call $drop_trace (local.get $t))
    (local.set $p (call $alloc (i32.const 1) (i32.const {fill})))
    (memory.fill (local.get $p) (i32.const 97) (i32.const {fill}))
    (drop (call $ok (f64.const 1) (i32.const 1)))
    (i32.store8 (i32.const 1056) (i32.const 1))
    (i32.store (i32.const 1060) (local.get $p))
    (i32.store (i32.const 1064) (i32.const {explained}))
    (i32.const 1024))
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate-batch") (param i32 i32) (result i32)
    unreachable))"#
    ))
}

/// `TRACES` agent traces, each with a 1 MiB input so that each line is a batch of its own
/// (`eval` closes a batch at 1 MiB of lines) and the 8 workers evaluate one each, at once.
fn write_traces(path: &Path) -> Result<()> {
    let mut trace = testing::agent_trace();
    trace.input = Some("x".repeat(1 << 20));
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for i in 0..TRACES {
        trace.id = format!("{i:032x}");
        serde_json::to_writer(&mut out, &trace)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}
