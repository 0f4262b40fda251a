//! Developer automation: `cargo xtask demo`, `cargo xtask bench`.

mod bench;
mod bench_build;
mod bench_eval;
mod bench_input;
mod bench_load;
mod bench_output;
mod bench_share;
mod bench_templates;
mod demo;
mod wit;
mod wit_ts;

use anyhow::{bail, Context, Result};

const USAGE: &str =
    "usage: cargo xtask <demo | bench [--quick] | bench-build [--quick] [--runs N] [--profile dev|release] | bench-templates [--quick] | bench-share [--runs N] [--dev] | bench-output [--dev | --tool PATH] | bench-input [--quick] [--dev | --tool PATH] | wit [--check]>

  demo    load a WAT evaluator and run it over the real OpenTelemetry traces
  bench   runtime and `eval` figures as JSON (rebuilds itself with --release)
  bench-build  what `cargo flowtrace build` adds to an incremental `cargo build`, as JSON
  bench-templates  the Rust, Python and TypeScript evaluator templates against native Rust, as JSON
  bench-share  package, publish and install oci:// against a loopback registry, as JSON
  bench-output  peak memory of `eval -j 8` over 8 traces with 100 MB outputs, as JSON
  bench-input  memory per input byte of `eval` over one large OTLP/JSON export, as JSON
  wit     copy wit/ into the SDKs; --check fails when a copy drifted (CI)";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("demo") => demo::run(),
        Some("wit") => wit::run(&args[1..]),
        Some(bench_eval::PEAK_RSS) => bench_eval::peak_rss_main(&args[1..]),
        Some(bench_input::PARSE_TREE) => bench_input::parse_tree_main(&args[1..]),
        Some("bench-input") => bench_input::run(&args[1..]),
        Some("bench") if cfg!(debug_assertions) => release_rerun(&args),
        Some("bench") => bench::run(&args[1..]),
        Some("bench-templates") if cfg!(debug_assertions) => release_rerun(&args),
        Some("bench-templates") => bench_templates::main(&args[1..]),
        Some("bench-build") if cfg!(debug_assertions) => release_rerun(&args),
        Some("bench-build") => bench_build::run(&args[1..]),
        Some("bench-share") => bench_share::run(&args[1..]),
        Some("bench-output") => bench_output::run(&args[1..]),
        Some(other) => bail!("unknown xtask `{other}`\n\n{USAGE}"),
        None => bail!("{USAGE}"),
    }
}

/// `cargo build --release -p cargo-flowtrace` in the workspace: the binary the benchmarks
/// run.
/// `--runs N`, else `default`.
fn runs_arg(args: &[String], default: usize) -> Result<usize> {
    match args.iter().position(|a| a == "--runs") {
        Some(i) => args
            .get(i + 1)
            .context("`--runs` takes a number")?
            .parse()
            .context("`--runs` takes a number"),
        None => Ok(default),
    }
}

/// Benchmarks of a debug build measure the wrong thing: run the release build instead.
fn release_rerun(args: &[String]) -> Result<()> {
    eprintln!("note: benchmarks run optimised; building xtask and cargo-flowtrace with --release");
    // `bench` runs the release `cargo-flowtrace` beside the xtask binary.
    build_cli(false)?;
    let status = std::process::Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--release", "--package", "xtask", "--"])
        .args(args)
        .status()
        .context("failed to run `cargo run --release -p xtask`")?;
    if !status.success() {
        bail!("`cargo xtask {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

/// The workspace's root directory.
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The workspace's target directory (`CARGO_TARGET_DIR`, else `target/`).
pub fn target_root() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .filter(|d| !d.is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// Build the CLI (`--release` unless `dev`) with this workspace's cargo; the binary's path.
pub fn build_cli(dev: bool) -> Result<std::path::PathBuf> {
    let mut build = std::process::Command::new(env!("CARGO"));
    build.args(["build", "--quiet", "--package", "cargo-flowtrace"]);
    if !dev {
        build.arg("--release");
    }
    let status = build
        .current_dir(workspace_root())
        .status()
        .context("failed to run `cargo build -p cargo-flowtrace`")?;
    if !status.success() {
        bail!("building cargo-flowtrace failed ({status})");
    }
    Ok(target_root()
        .join(if dev { "debug" } else { "release" })
        .join(format!("cargo-flowtrace{}", std::env::consts::EXE_SUFFIX)))
}
