//! The `eval` entries of `cargo xtask bench`: the real `cargo-flowtrace eval` (the release
//! binary beside this one) over generated files of the 20-span agent trace.
//!
//! - `throughput`: 10,000 traces (JSON lines) on 1 core (the process pinned to CPU 0), with 1
//!   worker (unpinned) and with every core; traces/s
//!   over the run (from the `eval-summary`, plugin load excluded) and over the whole process;
//!   for the scan-infos guest as it is (its memory grows on every call) and with a Rust-like
//!   initial memory (it does not).
//! - `peak-memory`: the maximum RSS of the `eval` process (`getrusage` of a wrapper process
//!   that runs only it) for 1,000 and 10,000 traces: it should not grow with the count.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use flowtrace_plugins::inspect;
use flowtrace_plugins::{testing, Runtime};
use serde_json::{json, Value};

/// The hidden xtask that runs a command and prints its peak RSS in KiB.
pub const PEAK_RSS: &str = "__peak-rss";

const MANIFEST: &str =
    "[plugin]\nid = \"bench-eval\"\nname = \"bench-eval\"\nversion = \"0.1.0\"\n\
                        kind = \"evaluator\"\n\n[build]\nlanguage = \"rust\"\n";

pub fn run(quick: bool) -> Result<Value> {
    let tool = tool()?;
    let dir = tempfile::tempdir()?;
    // The scan-infos guest as it is: one page of memory, and its first allocation (the span
    // infos) grows it, so every call grows memory and every reset shrinks it back (an
    // `mprotect` each way, and a TLB shootdown across the cores). A Rust guest starts with
    // 17 pages and allocates inside them: the same guest with that memory is the other case.
    let scan_infos = testing::guest_wat("scan-infos");
    let rust_like = scan_infos.replace(
        "(memory (export \"memory\") 1)",
        "(memory (export \"memory\") 17)",
    );
    if rust_like == scan_infos {
        bail!("the test guests' prelude no longer declares `(memory (export \"memory\") 1)`");
    }
    let plugin = dir.path().join("bench-eval.wasm");
    let plugin_17 = dir.path().join("bench-eval-17-pages.wasm");
    for (path, wat) in [(&plugin, &scan_infos), (&plugin_17, &rust_like)] {
        let component = testing::evaluator(wat);
        std::fs::write(path, inspect::embed_manifest(&component, MANIFEST)?)?;
    }

    let (small, large) = if quick {
        (1_000, 3_000)
    } else {
        (1_000, 10_000)
    };
    let small_file = dir.path().join("small.jsonl");
    let large_file = dir.path().join("large.jsonl");
    write_traces(&small_file, small)?;
    write_traces(&large_file, large)?;

    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let runs = if quick { 1 } else { 3 };
    let mut scaling = serde_json::Map::new();
    for (name, plugin) in [("1-page-guest", &plugin), ("17-page-guest", &plugin_17)] {
        // One core: the whole process (reader, worker, writer) pinned to CPU 0. One
        // worker: unpinned, so its reader and writer still use a second core.
        let one_core = best_of(runs, || {
            throughput(&tool, plugin, &large_file, 1, large, true)
        })?;
        let one = best_of(runs, || {
            throughput(&tool, plugin, &large_file, 1, large, false)
        })?;
        let all = best_of(runs, || {
            throughput(&tool, plugin, &large_file, cores, large, false)
        })?;
        scaling.insert(
            name.into(),
            json!({
                "1-core": one_core.json(),
                "1-worker": one.json(),
                format!("{cores}-workers"): all.json(),
                "speedup-vs-1-core": round(all.run_rate / one_core.run_rate, 2),
                "speedup-vs-1-worker": round(all.run_rate / one.run_rate, 2),
            }),
        );
    }

    // What a worker does per line besides evaluating: parse it, prepare the trace.
    let line = serde_json::to_vec(&testing::agent_trace())?;
    let parse = crate::bench::sample(if quick { 200 } else { 2000 }, || {
        let traces = flowtrace_plugins::trace::parse_json_line(&line).expect("the line parses");
        std::hint::black_box(traces);
    });

    let in_process =
        in_process_scaling(&rust_like, &line, cores, if quick { 3000 } else { 10_000 })?;

    let rss_small = peak_rss_kib(&tool, &plugin, &small_file)?;
    let rss_large = peak_rss_kib(&tool, &plugin, &large_file)?;

    Ok(json!({
        "trace-json-bytes": std::fs::metadata(&large_file)?.len() / large as u64,
        "parse-line": parse.json(),
        "throughput": {
            "traces": large,
            "cores": cores,
            "guests": scaling,
            "note": "traces-per-s: traces / the run's duration (plugin load excluded); process-traces-per-s: traces / the whole process's wall-clock time; best of the runs; `--message-format json`, stdout read by this process",
        },
        "in-process": in_process,
        "peak-memory": {
            format!("{small}-traces-mib"): round(rss_small as f64 / 1024.0, 1),
            format!("{large}-traces-mib"): round(rss_large as f64 / 1024.0, 1),
            "growth": round(rss_large as f64 / rss_small as f64, 2),
            "note": "maximum RSS of the `cargo-flowtrace eval` process, all cores, JSON lines input",
        },
    }))
}

/// The release `cargo-flowtrace` beside this binary.
pub fn tool() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("failed to find the xtask binary")?;
    let tool = exe.with_file_name(format!("cargo-flowtrace{}", std::env::consts::EXE_SUFFIX));
    if !tool.is_file() {
        bail!(
            "`{}` does not exist: build it with `cargo build --release -p cargo-flowtrace`",
            tool.display()
        );
    }
    Ok(tool)
}

/// `count` agent traces with distinct ids, one per line.
pub fn write_traces(path: &Path, count: usize) -> Result<()> {
    let mut trace = testing::agent_trace();
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for i in 0..count {
        trace.id = format!("{i:032x}");
        serde_json::to_writer(&mut out, &trace)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

struct Throughput {
    run_rate: f64,
    process_rate: f64,
    run_seconds: f64,
}

impl Throughput {
    fn json(&self) -> Value {
        json!({
            "traces-per-s": round(self.run_rate, 0),
            "process-traces-per-s": round(self.process_rate, 0),
            "run-s": round(self.run_seconds, 3),
        })
    }
}

fn best_of(runs: usize, mut f: impl FnMut() -> Result<Throughput>) -> Result<Throughput> {
    let mut best: Option<Throughput> = None;
    for _ in 0..runs {
        let t = f()?;
        if best.as_ref().is_none_or(|b| t.run_rate > b.run_rate) {
            best = Some(t);
        }
    }
    best.context("no runs")
}

fn throughput(
    tool: &Path,
    plugin: &Path,
    traces: &Path,
    jobs: usize,
    count: usize,
    pin_to_one_core: bool,
) -> Result<Throughput> {
    let mut command = Command::new(tool);
    command
        .args(["eval", "--message-format", "json", "-j"])
        .arg(jobs.to_string())
        .arg(plugin)
        .arg(traces)
        .stderr(Stdio::inherit());
    if pin_to_one_core {
        pin_to_cpu0(&mut command);
    }
    let started = Instant::now();
    let seconds = eval_seconds(command, count)?;
    let wall = started.elapsed().as_secs_f64();
    Ok(Throughput {
        run_rate: count as f64 / seconds,
        process_rate: count as f64 / wall,
        run_seconds: seconds,
    })
}

/// Run `command` (a `cargo-flowtrace eval --message-format json` over `count` traces) and
/// return the duration its summary reports (the run, plugin load excluded), once the
/// summary says every trace was evaluated without an error.
pub fn eval_seconds(mut command: Command, count: usize) -> Result<f64> {
    let output = command
        .output()
        .context("failed to run `cargo-flowtrace eval`")?;
    if !output.status.success() {
        bail!("`cargo-flowtrace eval` failed ({})", output.status);
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary: Value = stdout
        .lines()
        .last()
        .map(serde_json::from_str)
        .transpose()?
        .context("no output from `cargo-flowtrace eval`")?;
    if summary["reason"] != "eval-summary" || summary["traces"] != count || summary["errors"] != 0 {
        bail!("unexpected summary: {summary}");
    }
    summary["duration"].as_f64().context("no duration")
}

/// Run the child on CPU 0 only, every thread of it (`sched_setaffinity` before `exec`).
#[cfg(target_os = "linux")]
fn pin_to_cpu0(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: between fork and exec only async-signal-safe calls: `sched_setaffinity` on a
    // stack-allocated set.
    unsafe {
        command.pre_exec(|| {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(0, &mut set);
            if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn pin_to_cpu0(_command: &mut Command) {
    // No portable affinity call: the "1-core" figure is one worker, unpinned, there.
}

/// Peak RSS of `cargo-flowtrace eval` over `traces`.
fn peak_rss_kib(tool: &Path, plugin: &Path, traces: &Path) -> Result<u64> {
    let results = traces.with_extension("results");
    peak_rss_of(
        tool,
        &["eval", "-q", "--output"],
        &[&results, plugin, traces],
    )
}

/// Peak RSS of `tool` run with `args` then `paths`, measured by a wrapper process.
pub fn peak_rss_of(tool: &Path, args: &[&str], paths: &[&Path]) -> Result<u64> {
    peak_rss_with_env(tool, args, paths, &[])
}

/// [`peak_rss_of`] with environment variables set for the command.
pub fn peak_rss_with_env(
    tool: &Path,
    args: &[&str],
    paths: &[&Path],
    env: &[(&str, &Path)],
) -> Result<u64> {
    let exe = std::env::current_exe()?;
    let output = Command::new(exe)
        .envs(env.iter().copied())
        .arg(PEAK_RSS)
        .arg(tool)
        .args(args)
        .args(paths)
        .stderr(Stdio::inherit())
        .output()
        .context("failed to run the peak-RSS wrapper")?;
    if !output.status.success() {
        bail!("measuring peak RSS failed ({})", output.status);
    }
    let text = String::from_utf8_lossy(&output.stdout);
    text.trim()
        .parse()
        .with_context(|| format!("peak RSS wrapper printed {text:?}"))
}

/// `xtask __peak-rss <cmd> <args>...`: run the command (stdout discarded), then print the
/// maximum RSS of this process's children in KiB, which is the command's alone.
pub fn peak_rss_main(args: &[String]) -> Result<()> {
    let (program, rest) = args
        .split_first()
        .context("usage: __peak-rss <cmd> <args>...")?;
    let status = Command::new(program)
        .args(rest)
        .stdout(Stdio::null())
        .status()
        .with_context(|| format!("failed to run `{program}`"))?;
    if !status.success() {
        bail!("`{program}` failed ({status})");
    }
    // SAFETY: `getrusage` only writes the `rusage` it is given, which is zeroed and ours.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) != 0 {
            bail!("getrusage failed: {}", std::io::Error::last_os_error());
        }
        usage
    };
    // Linux reports KiB.
    println!("{}", usage.ru_maxrss);
    Ok(())
}

/// The same work without the command around it: `threads` threads each parsing `n / threads`
/// lines and evaluating them (one `Plugin` shared), against one thread; and each half alone.
fn in_process_scaling(wat: &str, line: &[u8], threads: usize, n: usize) -> Result<Value> {
    use flowtrace_plugins::manifest::PluginKind;
    use flowtrace_plugins::{LoadOptions, PreparedTrace};

    let runtime = Runtime::new()?;
    let manifest = testing::manifest("scaling", PluginKind::Evaluator);
    let plugin = runtime.load(&testing::evaluator(wat), &manifest, LoadOptions::default())?;
    let parse = || {
        flowtrace_plugins::trace::parse_json_line(line)
            .expect("the line parses")
            .remove(0)
    };
    let prepared = PreparedTrace::new(parse());
    let rate = |threads: usize, work: &(dyn Fn() + Sync)| {
        let started = Instant::now();
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| (0..n / threads).for_each(|_| work()));
            }
        });
        n as f64 / started.elapsed().as_secs_f64()
    };
    let mut out = serde_json::Map::new();
    let works: [(&str, &(dyn Fn() + Sync)); 3] = [
        ("parse", &|| drop(std::hint::black_box(parse()))),
        ("evaluate", &|| {
            plugin.evaluate(&prepared).expect("evaluate");
        }),
        ("parse-prepare-evaluate", &|| {
            plugin
                .evaluate(&PreparedTrace::new(parse()))
                .expect("evaluate");
        }),
    ];
    for (name, work) in works {
        let one = rate(1, work);
        let all = rate(threads, work);
        out.insert(
            name.into(),
            json!({
                "1-thread-per-s": round(one, 0),
                format!("{threads}-threads-per-s"): round(all, 0),
                "speedup": round(all / one, 2),
            }),
        );
    }
    Ok(Value::Object(out))
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}
