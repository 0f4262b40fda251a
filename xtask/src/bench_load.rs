//! The `installed-load` entries of `cargo xtask bench`: loading an installed plugin.
//!
//! - `first-load-ms`: the first `Registry::load` of an installed component in a fresh
//!   `Runtime` (what a new Flowtrace process does), from the artefact precompiled at install,
//!   when the component and its compiled code are unchanged since their last full check (the
//!   install's): neither is read whole nor hashed, the compiled code is mapped.
//! - `full-check-first-load-ms`: the same load with the identity records removed, so both
//!   files are checked in full (the sha256 of the component, the MAC of the compiled code
//!   read into memory): what every load cost before the records.
//! - `from-source`: an install without a precompiler; its first load compiles.
//! - `50-loads`: RSS growth of one process loading the same installed plugin 50 times (all
//!   kept alive, each called once): the compiled code is shared, so it is held once.
//!
//! The component is the large WAT evaluator (generated code and a 16 MiB data segment), and
//! also a real one when `FLOWTRACE_BENCH_COMPONENT` names a built plugin (`.wasm` with its
//! manifest embedded, e.g. the Python template's `target/flowtrace/release/<id>-<version>.wasm`).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use flowtrace_plugins::cache::CacheOutcome;
use flowtrace_plugins::inspect;
use flowtrace_plugins::manifest::PluginId;
use flowtrace_plugins::registry::{InstallRequest, Registry, Source};
use flowtrace_plugins::{testing, PreparedTrace, Runtime, Services};
use serde_json::{json, Value};

const MANIFEST: &str =
    "[plugin]\nid = \"bench-load\"\nname = \"bench-load\"\nversion = \"0.1.0\"\n\
                        kind = \"evaluator\"\n\n[build]\nlanguage = \"rust\"\n";

pub fn run(quick: bool) -> Result<Value> {
    let funcs = if quick { 500 } else { 4000 };
    let wat = testing::evaluator(&testing::large_module_wat(funcs, 16 << 20));
    let wat = inspect::embed_manifest(&wat, MANIFEST)?;
    let mut out = serde_json::Map::new();
    out.insert(
        "wat".into(),
        installed(
            &wat,
            "generated WAT evaluator: filler functions and a 16 MiB data segment",
            quick,
            true,
        )?,
    );
    if let Some(path) = std::env::var_os("FLOWTRACE_BENCH_COMPONENT") {
        let path = Path::new(&path);
        let component =
            std::fs::read(path).with_context(|| format!("failed to read `{}`", path.display()))?;
        // Compiling an interpreter takes seconds: only in a full run.
        out.insert(
            "real".into(),
            installed(&component, &path.display().to_string(), quick, !quick)?,
        );
    }
    out.insert(
        "note".into(),
        json!("first Registry::load in a fresh Runtime after install, median of the samples; full-check: the same with the identity records removed (component sha256 + compiled-code MAC over every byte); 50-loads: RSS of this process before and after 50 loads of the plugin, each kept and called once"),
    );
    Ok(serde_json::Value::Object(out))
}

fn installed(component: &[u8], what: &str, quick: bool, from_source: bool) -> Result<Value> {
    let samples = if quick { 5 } else { 15 };
    let home = tempfile::tempdir()?;
    let runtime = Runtime::new()?;
    let registry = Registry::open(home.path())?.precompiling_with(&runtime);
    let started = Instant::now();
    let outcome = registry.install(InstallRequest::new(
        component.to_vec(),
        Source::File {
            path: "bench.wasm".into(),
        },
    ))?;
    let install = started.elapsed();
    let id = outcome.id;
    ensure!(
        registry.component_unchanged(&id)?,
        "the install recorded no identity for the component"
    );
    let first_load = |registry: &Registry| -> Result<Duration> {
        let fresh = Runtime::new()?;
        let started = Instant::now();
        let plugin = registry.load(&fresh, &id, &Services::default())?;
        let elapsed = started.elapsed();
        ensure!(plugin.cache_outcome() == CacheOutcome::Hit);
        Ok(elapsed)
    };
    let fast = (0..samples)
        .map(|_| first_load(&registry))
        .collect::<Result<Vec<_>>>()?;
    ensure!(
        registry.component_unchanged(&id)?,
        "loads left the record alone"
    );
    let version_dir = outcome.path.clone();
    let full = (0..samples)
        .map(|_| {
            forget_identities(&version_dir)?;
            first_load(&registry)
        })
        .collect::<Result<Vec<_>>>()?;
    let mut out = json!({
        "component": what,
        "component-bytes": component.len(),
        "cwasm-bytes": cwasm_bytes(&version_dir.join("precompiled")),
        "precompiled": {
            "install-ms": ms(install),
            "first-load-ms": ms(median(fast)),
            "full-check-first-load-ms": ms(median(full)),
        },
        "50-loads": fifty_loads(&registry, &id)?,
    });
    if from_source {
        let home = tempfile::tempdir()?;
        let registry = Registry::open(home.path())?;
        let started = Instant::now();
        registry.install(InstallRequest::new(
            component.to_vec(),
            Source::File {
                path: "bench.wasm".into(),
            },
        ))?;
        let install = started.elapsed();
        let started = Instant::now();
        let plugin = registry.load(&runtime, &id, &Services::default())?;
        let load = started.elapsed();
        ensure!(plugin.cache_outcome() == CacheOutcome::Miss);
        out["from-source"] = json!({ "install-ms": ms(install), "first-load-ms": ms(load) });
    }
    Ok(out)
}

/// RSS growth of this process over 50 loads of one installed plugin into one runtime, every
/// plugin kept alive and called once.
fn fifty_loads(registry: &Registry, id: &PluginId) -> Result<Value> {
    let runtime = Runtime::new()?;
    let trace = PreparedTrace::new(testing::agent_trace());
    let before = rss_kib()?;
    let mut plugins = Vec::new();
    let mut after_first = 0;
    for i in 0..50 {
        let plugin = registry.load(&runtime, id, &Services::default())?;
        // A plugin that fails on this trace still had its code loaded and run.
        let _ = plugin.evaluate(&trace);
        plugins.push(plugin);
        if i == 0 {
            after_first = rss_kib()?;
        }
    }
    let after = rss_kib()?;
    ensure!(
        plugins.iter().all(|p| p.shares_code_with(&plugins[0])),
        "every load shares the first one's compiled code"
    );
    let shared = plugins
        .iter()
        .filter(|p| p.cache_outcome() == CacheOutcome::Shared)
        .count();
    drop(plugins);
    ensure!(runtime.shared_code_entries() == 0, "freed with the plugins");
    let mib = |kib: u64| (kib as f64 / 1024.0 * 10.0).round() / 10.0;
    Ok(json!({
        "rss-growth-mib": mib(after.saturating_sub(before)),
        "of-which-first-load-mib": mib(after_first.saturating_sub(before)),
        "per-later-load-kib": (after.saturating_sub(after_first)) / 49,
        "loads-sharing-code": shared,
    }))
}

/// Remove the records that let a load skip the full checks: the component's
/// `plugin.wasm.verified` and the compiled entries' `.seen`.
fn forget_identities(version_dir: &Path) -> Result<()> {
    let _ = std::fs::remove_file(version_dir.join("plugin.wasm.verified"));
    for sub in std::fs::read_dir(version_dir.join("precompiled"))? {
        for entry in std::fs::read_dir(sub?.path())? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "seen") {
                std::fs::remove_file(path)?;
            }
        }
    }
    Ok(())
}

fn cwasm_bytes(dir: &Path) -> u64 {
    walk(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// This process's resident set, KiB (`VmRSS` of `/proc/self/status`).
fn rss_kib() -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS in /proc/self/status")
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e4).round() / 10.0
}
