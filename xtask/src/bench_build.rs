//! `cargo xtask bench-build`: what `cargo flowtrace build` adds to a plain `cargo build` on an
//! incremental rebuild, as one JSON document on stdout.
//!
//! A copy of `examples/sample-evaluator` is built once, then for each profile (dev, release)
//! `runs` times in turn: touch `src/lib.rs`, time `cargo build --target wasm32-wasip2`; touch
//! it again, time `cargo-flowtrace build` (the release binary). Both recompile the plugin
//! crate only, against the same SDK: the one `cargo-flowtrace build` supplies, which the
//! plugin's `.cargo/config.toml` points a plain `cargo build` at once it is written (so ours
//! runs first). Ours includes writing the SDK when it changed (it never does here). Medians, and the overhead of the medians; and what the
//! two steps of ours that grow with the component's size cost on their own (embedding the
//! manifest, inspecting the component). Guest builds go to `target/bench-build` (under
//! `$CARGO_TARGET_DIR` when it is set).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

pub fn run(args: &[String]) -> Result<()> {
    let quick = args.iter().any(|a| a == "--quick");
    let runs = crate::runs_arg(args, if quick { 3 } else { 9 })?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = PathBuf::from(env!("CARGO"));
    eprintln!("note: building cargo-flowtrace with --release");
    let tool = crate::build_cli(false)?;

    let work = tempfile::tempdir()?;
    // A copy: the target dir may be shared, and another build may replace the binary.
    let copied = work.path().join("cargo-flowtrace");
    std::fs::copy(&tool, &copied)
        .with_context(|| format!("failed to copy `{}`", tool.display()))?;
    let tool = copied;
    let plugin = work.path().join("sample-evaluator");
    copy_plugin(&root.join("examples/sample-evaluator"), &plugin)?;
    // Kept between runs, so the SDK and its dependencies compile once.
    let target = crate::target_root().join("bench-build");

    let mut profiles = Vec::new();
    let profiles_asked: Vec<bool> = match args.iter().position(|a| a == "--profile") {
        Some(i) => match args.get(i + 1).map(String::as_str) {
            Some("dev") => vec![false],
            Some("release") => vec![true],
            _ => bail!("`--profile` is `dev` or `release`"),
        },
        None => vec![false, true],
    };
    for release in profiles_asked {
        let flag: &[&str] = if release { &["--release"] } else { &[] };
        let plain = || {
            let mut c = Command::new(&cargo);
            c.args(["build", "--quiet", "--target", "wasm32-wasip2"])
                .args(flag);
            c
        };
        let ours = || {
            let mut c = Command::new(&tool);
            c.args(["build", "--quiet"]).args(flag);
            c
        };
        eprintln!(
            "note: first {} build",
            if release { "release" } else { "dev" }
        );
        for mut c in [ours(), plain()] {
            check(c.current_dir(&plugin).env("CARGO_TARGET_DIR", &target))?;
        }
        let (mut p, mut o) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            p.push(touched(&plugin, &target, plain())?);
            o.push(touched(&plugin, &target, ours())?);
        }
        let samples = json!({
            "plain-cargo-ms": p.iter().map(|d| ms(*d)).collect::<Vec<_>>(),
            "cargo-flowtrace-ms": o.iter().map(|d| ms(*d)).collect::<Vec<_>>(),
        });
        let (p, o) = (median(p), median(o));
        let built = std::fs::read(
            target
                .join("flowtrace")
                .join(if release { "release" } else { "debug" })
                .join("sample-evaluator-0.1.0.wasm"),
        )?;
        let manifest = std::fs::read_to_string(plugin.join("flowtrace.toml"))?;
        let embed =
            time(|| flowtrace_plugins::inspect::embed_manifest(&built, &manifest).map(drop))?;
        let inspect = time(|| flowtrace_plugins::inspect::inspect(&built).map(drop))?;
        profiles.push(json!({
            "profile": if release { "release" } else { "dev" },
            "runs": runs,
            "component-bytes": built.len(),
            "embed-manifest-ms": ms(embed),
            "inspect-ms": ms(inspect),
            "plain-cargo-ms": ms(p),
            "cargo-flowtrace-ms": ms(o),
            "overhead-ms": ms(o.saturating_sub(p)),
            "overhead-percent": ((o.as_secs_f64() / p.as_secs_f64() - 1.0) * 1000.0).round() / 10.0,
            "samples": samples,
        }));
    }
    let out: Value = json!({ "incremental-rebuild": profiles });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// Touch `src/lib.rs`, then time `command` in `plugin`.
fn touched(plugin: &Path, target: &Path, mut command: Command) -> Result<Duration> {
    let lib = plugin.join("src/lib.rs");
    let text = std::fs::read(&lib)?;
    std::fs::write(&lib, text)?;
    let start = Instant::now();
    check(command.current_dir(plugin).env("CARGO_TARGET_DIR", target))?;
    Ok(start.elapsed())
}

fn check(command: &mut Command) -> Result<()> {
    let status = command
        .stdout(Stdio::null())
        .status()
        .with_context(|| format!("failed to run {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed ({status})");
    }
    Ok(())
}

/// Copy the plugin's sources (not its `target/`), with its `.cargo/`.
fn copy_plugin(from: &Path, to: &Path) -> Result<()> {
    for dir in ["src", ".cargo"] {
        std::fs::create_dir_all(to.join(dir))?;
        for entry in std::fs::read_dir(from.join(dir))? {
            let entry = entry?;
            std::fs::copy(entry.path(), to.join(dir).join(entry.file_name()))?;
        }
    }
    for file in ["flowtrace.toml", "Cargo.lock", "Cargo.toml"] {
        std::fs::copy(from.join(file), to.join(file))
            .with_context(|| format!("failed to copy `{}`", from.join(file).display()))?;
    }
    Ok(())
}

/// Median time of 15 calls of `f`.
fn time<E: std::error::Error + Send + Sync + 'static>(
    mut f: impl FnMut() -> std::result::Result<(), E>,
) -> Result<Duration> {
    let mut samples = Vec::new();
    for _ in 0..15 {
        let start = Instant::now();
        f()?;
        samples.push(start.elapsed());
    }
    Ok(median(samples))
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}
