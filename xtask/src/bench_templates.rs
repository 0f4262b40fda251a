//! `cargo xtask bench-templates` (and the `templates` entry of `cargo xtask bench`): the three
//! evaluator templates that `cargo flowtrace new` writes (Rust, Python, TypeScript; real SDK
//! plugins built by the release `cargo-flowtrace` beside this binary) over the 20-span agent
//! trace, against the same logic in native Rust.
//!
//! - `per-trace`: through the runtime API, one `evaluate` call per trace (a fresh instance
//!   each: the semantics, and what `eval` does), with the calling thread's CPU time and
//!   minor page faults per call, and one `evaluate-batch` call for 16 traces in one instance
//!   (what `eval` does for a plugin declared `stateless`); median and p99.
//! - `ratios`: Python and TypeScript per trace over Rust's, Rust's over native.
//! - `eval`: `cargo-flowtrace eval` of the installed plugin over the traces in JSON lines, on
//!   1 worker and on 2, traces/s, and the process's peak RSS on 2 workers against the issue's
//!   bound (2 x the plugin's memory limit + 40 MiB).
//! - `instance-memory`: what one more concurrent instance adds to the process's RSS (calls on
//!   two threads at once against one thread), and the linear memory a call ends with.
//! - `first-load`: `Registry::load` of the installed plugin in a fresh runtime (precompiled at
//!   install).
//! - `edit-loop`: wall-clock time of `cargo flowtrace test` after an edit to the Python and
//!   TypeScript templates (dev mode, after a first `test`; median of 3 edits), and of the
//!   first `test` of a new Rust plugin once another Rust plugin was built (its SDK's
//!   dependencies compiled already, in the shared target dir).
//!
//! The plugins are built once into `target/bench-templates/` (`cargo flowtrace build
//! --release`, incremental after that) and checked to give the native result before anything
//! is timed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Instant;

use anyhow::{ensure, Context, Result};
use flowtrace_plugins::cache::CacheOutcome;
use flowtrace_plugins::manifest::PluginId;
use flowtrace_plugins::registry::{InstallRequest, Registry, Source};
use flowtrace_plugins::results::{EvalResult, Finding, Metric, MetricValue};
use flowtrace_plugins::testing;
use flowtrace_plugins::trace::{Span, SpanStatus, Trace};
use flowtrace_plugins::{
    CallObserver, CallRecord, Plugin, PreparedTrace, Runtime, RuntimeConfig, Services,
};
use serde_json::{json, Value};

use crate::bench::sample;

/// The templates' `max-span-ms` default (their flowtrace.toml), for the native baseline.
const MAX_SPAN_MS: u64 = 30_000;

/// Traces per `evaluate-batch` call in the batch figure (`eval`'s batch size before calls
/// were made one per trace).
const BATCH: usize = 16;

const LANGUAGES: [&str; 3] = ["rust", "python", "typescript"];

pub fn main(args: &[String]) -> Result<()> {
    let quick = args.iter().any(|a| a == "--quick");
    let calls_only = args.iter().any(|a| a == "--calls-only");
    let only = args
        .iter()
        .position(|a| a == "--lang")
        .and_then(|i| args.get(i + 1))
        .map(String::as_str);
    let out = run(quick, calls_only, only)?;
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

pub fn run(quick: bool, calls_only: bool, only: Option<&str>) -> Result<Value> {
    let tool = crate::bench_eval::tool()?;
    let work = bench_dir(&tool)?;
    let trace = testing::agent_trace();
    let prepared = PreparedTrace::new(trace.clone());
    let native_result = native(&trace);
    let n = if quick { 200 } else { 1000 };

    let native_stats = sample(n * 10, || {
        std::hint::black_box(native(std::hint::black_box(prepared.trace())));
    });

    let mut per_trace = serde_json::Map::new();
    let mut medians = serde_json::Map::new();
    let mut eval = serde_json::Map::new();
    let mut memory = serde_json::Map::new();
    let mut first_load = serde_json::Map::new();
    let traces_file = work.join("traces.jsonl");
    let count = if quick { 1_000 } else { 5_000 };
    crate::bench_eval::write_traces(&traces_file, count)?;
    for lang in LANGUAGES
        .into_iter()
        .filter(|l| only.is_none_or(|o| o == *l))
    {
        let component = build(&tool, &work, lang)?;
        let installed = Installed::new(&component, lang)?;
        let peak = Arc::new(Peak::default());
        let (runtime, plugin, load_ms) = installed.load(peak.clone())?;
        let limit_mib = (plugin.limits().memory >> 20) as u64;
        first_load.insert(lang.into(), json!(round(load_ms, 1)));

        let got = plugin
            .evaluate(&prepared)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        check_same(lang, &got, &native_result)?;
        let batch: Vec<PreparedTrace> = (0..BATCH).map(|_| prepared.clone()).collect();
        for r in plugin.evaluate_batch(&batch)? {
            check_same(
                lang,
                &r.map_err(|e| anyhow::anyhow!("{e}"))?,
                &native_result,
            )?;
        }

        let cpu_before = thread_usage();
        let fresh = sample(n, || {
            plugin.evaluate(&prepared).expect("evaluate");
        });
        let cpu = thread_usage().since(&cpu_before, n + n / 10);
        let batched = sample(n / 4, || {
            plugin.evaluate_batch(&batch).expect("evaluate-batch");
        });
        let batched_per_trace = us(batched.median) / BATCH as f64;
        medians.insert(lang.into(), json!(us(fresh.median)));
        per_trace.insert(
            lang.into(),
            json!({
                "component-bytes": component.len(),
                "fresh-instance": fresh.json(),
                "fresh-instance-thread-cpu-us": round(cpu.cpu_us, 1),
                "fresh-instance-minor-faults": round(cpu.faults, 1),
                "batch-of-16-per-trace-us": round(batched_per_trace, 2),
            }),
        );
        memory.insert(lang.into(), instance_memory(&plugin, &prepared, &peak)?);
        drop((plugin, runtime));
        if calls_only {
            continue;
        }

        let rate = |jobs| {
            throughput(
                &tool,
                installed.home(),
                &installed.id,
                &traces_file,
                jobs,
                count,
            )
        };
        let (one, two) = (rate(1)?, rate(2)?);
        let rss = crate::bench_eval::peak_rss_with_env(
            &tool,
            &["eval", "-q", "-j", "2", "--output"],
            &[
                &installed.dir.path().join("results"),
                Path::new(&installed.id),
                &traces_file,
            ],
            &[("FLOWTRACE_HOME", &installed.home())],
        )?;
        eval.insert(
            lang.into(),
            json!({
                "1-worker-traces-per-s": round(one, 0),
                "2-workers-traces-per-s": round(two, 0),
                "speedup": round(two / one, 2),
                "peak-rss-2-workers-mib": round(rss as f64 / 1024.0, 1),
                "bound-mib": 2 * limit_mib + 40,
            }),
        );
    }
    let median = |lang: &str| {
        medians
            .get(lang)
            .and_then(Value::as_f64)
            .unwrap_or(f64::NAN)
    };
    let native_us = us(native_stats.median);
    Ok(json!({
        "trace": { "spans": trace.spans.len() },
        "native-rust": native_stats.json(),
        "per-trace": per_trace,
        "ratios": {
            "python-to-rust": round(median("python") / median("rust"), 2),
            "typescript-to-rust": round(median("typescript") / median("rust"), 2),
            "rust-to-native": round(median("rust") / native_us.max(0.01), 1),
            "note": "medians of one `evaluate` call per trace, a fresh instance each",
        },
        "eval": {
            "traces": count,
            "languages": eval,
            "note": "`cargo-flowtrace eval <installed id>` over JSON lines of the agent trace; traces/s over the run (plugin load excluded); peak RSS of the process on 2 workers",
        },
        "instance-memory": memory,
        "first-load-ms": first_load,
        "edit-loop-s": if calls_only { Value::Null } else { edit_loop(&tool, &work, only)? },
    }))
}

/// `target/bench-templates/` of the workspace the tool was built in.
fn bench_dir(tool: &Path) -> Result<PathBuf> {
    // target/release/cargo-flowtrace -> target/
    let target = tool
        .parent()
        .and_then(Path::parent)
        .context("the tool is not in a target directory")?;
    let dir = target.join("bench-templates");
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The `<lang>-evaluator` template, created once and built with `--release`.
fn build(tool: &Path, work: &Path, lang: &str) -> Result<Vec<u8>> {
    let name = format!("bench-{lang}-evaluator");
    let dir = work.join(&name);
    if !dir.join("flowtrace.toml").is_file() {
        let status = Command::new(tool)
            .args(["flowtrace", "new", "-q", "-t"])
            .arg(format!("{lang}-evaluator"))
            .arg(&dir)
            .status()?;
        ensure!(status.success(), "`cargo flowtrace new` of {lang} failed");
    }
    eprintln!("bench: building the {lang} evaluator template");
    let status = Command::new(tool)
        .args(["flowtrace", "build", "-q", "--release"])
        .current_dir(&dir)
        .stdout(Stdio::null())
        .status()?;
    ensure!(
        status.success(),
        "`cargo flowtrace build --release` of {lang} failed"
    );
    let out = dir.join("target/flowtrace/release");
    let wasm = std::fs::read_dir(&out)
        .with_context(|| format!("reading {}", out.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "wasm"))
        .with_context(|| format!("no component in {}", out.display()))?;
    Ok(std::fs::read(&wasm)?)
}

/// `cargo flowtrace test -q` in `dir`, timed.
fn timed_test(tool: &Path, dir: &Path) -> Result<f64> {
    let started = Instant::now();
    let status = Command::new(tool)
        .args(["flowtrace", "test", "-q"])
        .current_dir(dir)
        .stdout(Stdio::null())
        .status()?;
    ensure!(
        status.success(),
        "`cargo flowtrace test` in `{}` failed",
        dir.display()
    );
    Ok(started.elapsed().as_secs_f64())
}

/// The edit loop of each template (see the module's doc), in seconds.
fn edit_loop(tool: &Path, work: &Path, only: Option<&str>) -> Result<Value> {
    let mut out = serde_json::Map::new();
    for (lang, entry, comment) in [
        ("python", "app.py", "#"),
        ("typescript", "src/index.ts", "//"),
    ] {
        if only.is_some_and(|o| o != lang) {
            continue;
        }
        let dir = work.join(format!("bench-{lang}-evaluator"));
        // The first `test` builds the dev engine when this toolchain has none yet.
        timed_test(tool, &dir)?;
        let file = dir.join(entry);
        let original = std::fs::read_to_string(&file)?;
        let mut times = Vec::new();
        for edit in 0..3 {
            std::fs::write(&file, format!("{original}\n{comment} bench edit {edit}\n"))?;
            let took = timed_test(tool, &dir);
            std::fs::write(&file, &original)?;
            times.push(took?);
        }
        times.sort_by(f64::total_cmp);
        out.insert(format!("{lang}-after-an-edit"), json!(round(times[1], 2)));
    }
    if only.is_none_or(|o| o == "rust") {
        // A first plugin's `test` (the dev profile): a new plugin then finds the SDK's
        // dependencies built in the shared target dir.
        timed_test(tool, &work.join("bench-rust-evaluator"))?;
        let fresh = tempfile::tempdir()?;
        let dir = fresh.path().join("bench-second-rust");
        let status = Command::new(tool)
            .args(["flowtrace", "new", "-q", "-t", "rust-evaluator"])
            .arg(&dir)
            .status()?;
        ensure!(status.success(), "`cargo flowtrace new` failed");
        out.insert(
            "second-rust-plugin-first-test".into(),
            json!(round(timed_test(tool, &dir)?, 2)),
        );
    }
    Ok(Value::Object(out))
}

/// A plugin installed (precompiled) in a registry of its own.
struct Installed {
    dir: tempfile::TempDir,
    id: String,
}

impl Installed {
    fn new(component: &[u8], lang: &str) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let runtime = Runtime::new()?;
        let registry = Registry::open(&dir.path().join("home"))?.precompiling_with(&runtime);
        let installed = registry.install(InstallRequest::new(
            component.to_vec(),
            Source::File {
                path: format!("bench-{lang}-evaluator.wasm").into(),
            },
        ))?;
        Ok(Self {
            dir,
            id: installed.id.to_string(),
        })
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// A fresh runtime and the plugin loaded from the registry, with the load's time in ms.
    fn load(&self, observer: Arc<Peak>) -> Result<(Runtime, Plugin, f64)> {
        let runtime = Runtime::with_config(RuntimeConfig {
            observer: Some(observer),
            ..RuntimeConfig::default()
        })?;
        let registry = Registry::open(&self.home())?;
        let id = PluginId::parse(&self.id).map_err(anyhow::Error::msg)?;
        let started = Instant::now();
        let plugin = registry.load(&runtime, &id, &Services::default())?;
        let ms = started.elapsed().as_secs_f64() * 1e3;
        ensure!(
            plugin.cache_outcome() == CacheOutcome::Hit,
            "the installed plugin was not precompiled: {:?}",
            plugin.cache_outcome()
        );
        Ok((runtime, plugin, ms))
    }
}

/// The largest linear memory a call ended with.
#[derive(Default)]
struct Peak(AtomicU64);

impl CallObserver for Peak {
    fn call_finished(&self, record: &CallRecord) {
        self.0
            .fetch_max(record.memory_peak as u64, Ordering::Relaxed);
    }
}

/// RSS after calls on one thread, then after calls on two threads at once: the second
/// instance's share. Plus the linear memory the calls ended with (the observer's peak).
fn instance_memory(plugin: &Plugin, trace: &PreparedTrace, peak: &Peak) -> Result<Value> {
    for _ in 0..50 {
        plugin.evaluate(trace).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let one = rss_kib()?;
    let barrier = Barrier::new(2);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..50 {
                    barrier.wait();
                    plugin.evaluate(trace).expect("evaluate");
                }
            });
        }
    });
    let two = rss_kib()?;
    Ok(json!({
        "second-concurrent-instance-kib": two.saturating_sub(one),
        "linear-memory-peak-kib": peak.0.load(Ordering::Relaxed) / 1024,
    }))
}

/// This process's resident set in KiB (`/proc/self/statm`).
fn rss_kib() -> Result<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm")?;
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .context("statm has no resident field")?
        .parse()?;
    // SAFETY: sysconf reads a constant.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64;
    Ok(pages * page / 1024)
}

/// `cargo-flowtrace eval <id>` with the registry at `home`: traces/s over the run.
fn throughput(
    tool: &Path,
    home: PathBuf,
    id: &str,
    traces: &Path,
    jobs: usize,
    count: usize,
) -> Result<f64> {
    let mut command = Command::new(tool);
    command
        .args(["eval", "--message-format", "json", "-j"])
        .arg(jobs.to_string())
        .arg(id)
        .arg(traces)
        .env("FLOWTRACE_HOME", home)
        .stderr(Stdio::inherit());
    let seconds = crate::bench_eval::eval_seconds(command, count)?;
    Ok(count as f64 / seconds)
}

/// The templates' logic in native Rust, over the runtime's trace model.
fn native(trace: &Trace) -> EvalResult {
    let (mut errors, mut slow) = (0_u32, 0_u32);
    let mut findings = Vec::new();
    for span in &trace.spans {
        let ms = span
            .end_time_ns
            .map_or(0, |end| end.saturating_sub(span.start_time_ns) / 1_000_000);
        if span.status == SpanStatus::Error {
            errors += 1;
            let why = span.status_message.as_deref().unwrap_or("no message");
            findings.push(finding(span, format!("`{}` failed: {why}", span.name)));
        } else if ms > MAX_SPAN_MS {
            slow += 1;
            let message = format!("`{}` took {ms} ms, over {MAX_SPAN_MS} ms", span.name);
            findings.push(finding(span, message));
        }
    }
    let spans = trace.spans.len() as u32;
    let flagged = errors + slow;
    let metric = |name: &str, n: u32| Metric {
        name: name.into(),
        value: MetricValue::Integer(i64::from(n)),
    };
    EvalResult {
        score: if spans == 0 {
            1.0
        } else {
            1.0 - f64::from(flagged) / f64::from(spans)
        },
        passed: flagged == 0,
        label: Some(
            match (errors, slow) {
                (0, 0) => "ok",
                (0, _) => "slow",
                _ => "error",
            }
            .into(),
        ),
        explanation: Some(format!("{flagged} of {spans} spans flagged")),
        metrics: vec![
            metric("spans", spans),
            metric("errors", errors),
            metric("slow", slow),
        ],
        findings,
    }
}

fn finding(span: &Span, message: String) -> Finding {
    Finding {
        span_id: Some(span.id.clone()),
        message,
    }
}

fn check_same(lang: &str, got: &EvalResult, native: &EvalResult) -> Result<()> {
    ensure!(
        (got.score - native.score).abs() < 1e-12
            && got.passed == native.passed
            && got.label == native.label
            && got.explanation == native.explanation
            && got.metrics == native.metrics
            && got.findings == native.findings,
        "the {lang} template gave {:?}/{:?}/{:?}, native Rust {:?}/{:?}/{:?}",
        got.score,
        got.label,
        got.explanation,
        native.score,
        native.label,
        native.explanation
    );
    Ok(())
}

fn us(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1e6 * 100.0).round() / 100.0
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// This thread's CPU time and minor page faults so far (`getrusage(RUSAGE_THREAD)`): less
/// sensitive to a busy machine than wall-clock time.
struct Usage {
    cpu_us: f64,
    faults: f64,
}

impl Usage {
    fn since(&self, before: &Usage, calls: usize) -> Usage {
        Usage {
            cpu_us: (self.cpu_us - before.cpu_us) / calls as f64,
            faults: (self.faults - before.faults) / calls as f64,
        }
    }
}

fn thread_usage() -> Usage {
    // SAFETY: `getrusage` writes only the zeroed `rusage` it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_THREAD, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| t.tv_sec as f64 * 1e6 + t.tv_usec as f64;
    Usage {
        cpu_us: tv(usage.ru_utime) + tv(usage.ru_stime),
        faults: usage.ru_minflt as f64,
    }
}
