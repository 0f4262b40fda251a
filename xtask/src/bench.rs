//! `cargo xtask bench`: runtime figures as one JSON document on stdout.
//!
//! Measures, for WAT evaluators over the 20-span agent trace: evaluate per call (median, p99)
//! for three ways of reading the trace, a fresh instance, the same logic in native Rust, and
//! loading a large component from the compiled cache versus compiling it; then `eval`
//! ([`crate::bench_eval`]): throughput on one worker and on every core, peak memory for 1,000
//! and 10,000 traces; loads of an installed plugin ([`crate::bench_load`]): the first
//! one, with and without the full checks, and the memory of 50 loads of one plugin; and the
//! three evaluator templates against native Rust ([`crate::bench_templates`]).

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use flowtrace_plugins::manifest::PluginKind;
use flowtrace_plugins::testing;
use flowtrace_plugins::{LoadOptions, PreparedTrace, Runtime, RuntimeConfig};
use serde_json::{json, Value};

pub struct Stats {
    pub median: Duration,
    p99: Duration,
    n: usize,
}

impl Stats {
    fn of(mut samples: Vec<Duration>) -> Self {
        samples.sort();
        let n = samples.len();
        Self {
            median: samples[n / 2],
            p99: samples[(n * 99 / 100).min(n - 1)],
            n,
        }
    }

    pub fn json(&self) -> Value {
        json!({
            "median-us": us(self.median),
            "p99-us": us(self.p99),
            "samples": self.n,
        })
    }
}

fn us(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6 * 100.0).round() / 100.0
}

pub fn sample(n: usize, mut f: impl FnMut()) -> Stats {
    for _ in 0..n / 10 {
        f();
    }
    Stats::of(
        (0..n)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed()
            })
            .collect(),
    )
}

pub fn run(args: &[String]) -> Result<()> {
    let quick = args.iter().any(|a| a == "--quick");
    let n = if quick { 200 } else { 2000 };
    let runtime = Runtime::new().context("creating the runtime")?;
    let trace = testing::agent_trace();
    let prepared = PreparedTrace::new(trace.clone());
    let expected = testing::scan_native(prepared.trace());

    let mut evaluate = serde_json::Map::new();
    for variant in ["scan-accessors", "scan-infos", "scan-by-value"] {
        let bytes = testing::evaluator(&testing::guest_wat(variant));
        let manifest = testing::manifest(variant, PluginKind::Evaluator);
        let plugin = runtime
            .load(&bytes, &manifest, LoadOptions::default())
            .with_context(|| format!("loading `{variant}`"))?;
        let got = plugin.evaluate(&prepared)?.score;
        anyhow::ensure!(
            (got - expected).abs() < 1e-12,
            "`{variant}` scored {got}, native {expected}: the guest reads the trace wrong"
        );
        let stats = sample(n, || {
            plugin.evaluate(&prepared).expect("evaluate");
        });
        evaluate.insert(variant.to_string(), stats.json());
        if variant == "scan-accessors" {
            let inst = sample(n, || plugin.bench_instantiate().expect("instantiate"));
            evaluate.insert("fresh-instance".into(), inst.json());
            let state = sample(n, || plugin.bench_host_state());
            evaluate.insert("of-which-host-state".into(), state.json());
        }
    }
    // The fixed cost of a call: a guest that reads one number and returns.
    let noop = runtime.load(
        &testing::evaluator(&testing::guest_wat("behaviors")),
        &testing::manifest("noop", PluginKind::Evaluator),
        LoadOptions::default(),
    )?;
    let empty = PreparedTrace::new(testing::trace_with_spans(0));
    let stats = sample(n, || {
        noop.evaluate(&empty).expect("evaluate");
    });
    evaluate.insert("minimal-call".into(), stats.json());
    // The same call from inside a tokio runtime: blocking on a current-thread runtime's
    // thread (it spawned a thread per call before), and awaited there.
    let tokio_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let stats = tokio_rt.block_on(async {
        sample(n, || {
            noop.evaluate(&empty).expect("evaluate");
        })
    });
    evaluate.insert("minimal-call-blocking-in-tokio".into(), stats.json());
    let mut samples = Vec::with_capacity(n);
    tokio_rt.block_on(async {
        for i in 0..n + n / 10 {
            let start = Instant::now();
            noop.evaluate_async(&empty).await.expect("evaluate");
            if i >= n / 10 {
                samples.push(start.elapsed());
            }
        }
    });
    evaluate.insert("minimal-call-async".into(), Stats::of(samples).json());
    let native = sample(n * 10, || {
        std::hint::black_box(testing::scan_native(std::hint::black_box(prepared.trace())));
    });
    let native_with_prepare = sample(n, || {
        let p = PreparedTrace::new(std::hint::black_box(trace.clone()));
        std::hint::black_box(testing::scan_native(p.trace()));
    });

    // Preparing a deep trace: a 20,000-span parent chain, deepest span first (it took 8-26 s
    // when depths were walked span by span, O(spans x depth)).
    let mut chain = testing::trace_with_spans(20_000);
    for (i, span) in chain.spans.iter_mut().enumerate() {
        span.parent_id = (i > 0).then(|| format!("{i:016x}"));
    }
    chain.spans.reverse();
    let prepare_chain = sample(if quick { 3 } else { 20 }, || {
        std::hint::black_box(PreparedTrace::new(chain.clone()));
    });

    let cache = bench_cache(quick)?;
    let installed_load =
        crate::bench_load::run(quick).context("benchmarking loads of installed plugins")?;
    let eval = crate::bench_eval::run(quick).context("benchmarking `cargo flowtrace eval`")?;
    let tool = std::env::current_exe()?
        .with_file_name(format!("cargo-flowtrace{}", std::env::consts::EXE_SUFFIX));
    let huge_output =
        crate::bench_output::measure(&tool).context("measuring memory under huge outputs")?;
    let input_memory = crate::bench_input::measure(&tool, quick)
        .context("measuring memory per input byte of a large document")?;
    let templates = crate::bench_templates::run(quick, false, None)
        .context("benchmarking the evaluator templates")?;
    let accessors_median = evaluate["scan-accessors"]["median-us"]
        .as_f64()
        .unwrap_or(0.0);
    let out = json!({
        "trace": { "spans": prepared.trace().spans.len(), "json-bytes": serde_json::to_vec(&trace)?.len() },
        "evaluate": evaluate,
        "native": {
            "scan": native.json(),
            "scan-including-prepare": native_with_prepare.json(),
        },
        "prepare": { "parent-chain-20000-spans": prepare_chain.json() },
        "ratio-accessors-to-native": (accessors_median / us(native.median).max(0.01) * 10.0).round() / 10.0,
        "load": cache,
        "installed-load": installed_load,
        "eval": eval,
        "huge-output": huge_output,
        "input-memory": input_memory,
        "templates": templates,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// A component of about 20 MB (a large code section plus data) loaded from the cache versus
/// compiled.
fn bench_cache(quick: bool) -> Result<Value> {
    let funcs = if quick { 500 } else { 4000 };
    let wat = testing::large_module_wat(funcs, 16 << 20);
    let bytes = testing::evaluator(&wat);
    let dir = tempfile::tempdir()?;
    let at = flowtrace_plugins::cache::CacheDir::new(
        dir.path(),
        flowtrace_plugins::cache::CacheKey::ephemeral()?,
    );
    let runtime = Runtime::with_config(RuntimeConfig {
        cache: Some(at.clone()),
        ..RuntimeConfig::default()
    })?;
    let manifest = testing::manifest("large", PluginKind::Evaluator);
    let start = Instant::now();
    let plugin = runtime.load(&bytes, &manifest, LoadOptions::default())?;
    let compile = start.elapsed();
    anyhow::ensure!(plugin.cache_outcome() == flowtrace_plugins::cache::CacheOutcome::Miss);
    drop(plugin);
    // What an install does: check the entry once its file times have settled, which records
    // its identity, so every sample below maps the code unread.
    runtime.precompile(&bytes, &at)?;
    let cached = sample(if quick { 5 } else { 20 }, || {
        let p = runtime
            .load(&bytes, &manifest, LoadOptions::default())
            .expect("cached load");
        assert_eq!(
            p.cache_outcome(),
            flowtrace_plugins::cache::CacheOutcome::Hit
        );
    });
    let inspect = sample(if quick { 5 } else { 20 }, || {
        flowtrace_plugins::inspect::inspect(&bytes).expect("inspect");
    });
    let sha = sample(if quick { 5 } else { 20 }, || {
        use sha2::Digest;
        std::hint::black_box(sha2::Sha256::digest(&bytes));
    });
    Ok(json!({
        "component-bytes": bytes.len(),
        "of-which-inspect-ms": us(inspect.median) / 1e3,
        "of-which-sha256-ms": us(sha.median) / 1e3,
        "compile-ms": (compile.as_secs_f64() * 1e3 * 10.0).round() / 10.0,
        "cached-load-ms": { "median": us(cached.median) / 1e3, "p99": us(cached.p99) / 1e3 },
        "note": "Runtime::load of bytes, each plugin dropped before the next load (so nothing is shared): hashes the component (sha256: the bytes are the caller's), checks the policy on the inspection stored with the entry, and maps the compiled code unread (its identity was recorded when it was last checked in full); a miss also validates and compiles",
    }))
}
