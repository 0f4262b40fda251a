//! `cargo xtask demo`: the runtime end to end on real traces, without any language toolchain.
//!
//! Builds the `scan-accessors` test evaluator from WAT, loads it through the full policy
//! (inspection, capability check, compile, link), parses the three real OpenTelemetry exports
//! in `runtime/tests/fixtures/traces/` and evaluates each, then shows a hostile plugin
//! contained.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use flowtrace_plugins::manifest::{Limits, PluginKind};
use flowtrace_plugins::{testing, trace, LoadOptions, PreparedTrace, Runtime};

pub fn run() -> Result<()> {
    let runtime = Runtime::new()?;
    let bytes = testing::evaluator(&testing::guest_wat("scan-accessors"));
    let manifest = testing::manifest("empty-output-check", PluginKind::Evaluator);
    let plugin = runtime.load(&bytes, &manifest, LoadOptions::default())?;
    println!(
        "loaded `{}` ({} bytes, sha256 {})",
        plugin.id(),
        bytes.len(),
        &plugin.sha256()[..12]
    );
    for verdict in &plugin.capability_report().verdicts {
        println!("  import {verdict}");
    }

    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../runtime/tests/fixtures/traces");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .with_context(|| format!("failed to read `{}`", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    for file in files {
        let bytes =
            std::fs::read(&file).with_context(|| format!("failed to read `{}`", file.display()))?;
        let traces = trace::parse_traces(&bytes)
            .with_context(|| format!("failed to parse `{}`", file.display()))?;
        for t in traces {
            let kinds: Vec<String> = t.spans.iter().map(|s| format!("{:?}", s.kind)).collect();
            let prepared = PreparedTrace::new(t);
            let result = plugin.evaluate(&prepared)?;
            println!(
                "{}: trace {} ({} spans: {}) -> score {:.3}, passed {}",
                file.file_name().unwrap_or_default().to_string_lossy(),
                &prepared.trace().id,
                prepared.trace().spans.len(),
                kinds.join(", "),
                result.score,
                result.passed
            );
        }
    }

    let mut hostile = testing::manifest("hostile", PluginKind::Evaluator);
    hostile.limits = Limits {
        timeout: Some(Duration::from_millis(100)),
        ..Limits::default()
    };
    let bytes = testing::evaluator(&testing::guest_wat("behaviors"));
    let plugin = runtime.load(&bytes, &hostile, LoadOptions::default())?;
    let err = plugin
        .evaluate(&PreparedTrace::new(testing::trace_with_spans(1)))
        .expect_err("an infinite loop cannot succeed");
    println!("hostile plugin contained: {err}");
    let ok = plugin.evaluate(&PreparedTrace::new(testing::trace_with_spans(0)))?;
    println!("and its next call still works: score {}", ok.score);
    Ok(())
}
