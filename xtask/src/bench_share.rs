//! `cargo xtask bench-share`: what sharing a plugin costs, as one JSON document on stdout:
//! `package`, `publish` and `install oci://` of the Rust evaluator template against a real
//! registry on loopback (Debian's `docker-registry`), next to `install` from the plugin's
//! directory. Medians of `--runs` runs (default 7); every install goes into a fresh home.
//!
//! The plugin is built once first, so every timed command finds its build fresh: the
//! figures are what each command adds to a build, not the build. `--dev` times the dev build
//! of the CLI instead of the release one (quicker to make; its dependencies are optimised
//! in both).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::json;

pub fn run(args: &[String]) -> Result<()> {
    let runs = crate::runs_arg(args, 7)?;
    let dev = args.iter().any(|a| a == "--dev");
    let built = crate::build_cli(dev)?;
    let target_root = crate::target_root();
    let work = tempfile::tempdir()?;
    let tool = work.path().join("cargo-flowtrace");
    std::fs::copy(&built, &tool)?;
    let registry = Registry::start(work.path())?;

    let home = |name: &str| work.path().join("homes").join(name);
    let flowtrace = |home: &Path, dir: &Path, args: &[&str]| -> Result<Duration> {
        let started = Instant::now();
        let out = Command::new(&tool)
            .args(args)
            .env("FLOWTRACE_HOME", home)
            .env("CARGO_TARGET_DIR", target_root.join("bench-share"))
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()?;
        let elapsed = started.elapsed();
        if !out.status.success() {
            bail!(
                "`cargo flowtrace {}` failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(elapsed)
    };
    let author = home("author");
    flowtrace(&author, work.path(), &["new", "shared-eval"])?;
    let plugin = work.path().join("shared-eval");
    eprintln!("note: building the plugin once (release)");
    flowtrace(&author, &plugin, &["build", "--release"])?;
    let repository = format!("oci://{}/bench/shared-eval", registry.addr);
    let reference = format!("{repository}:0.1.0");

    let (mut package, mut publish, mut from_registry, mut from_dir) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        package.push(flowtrace(&author, &plugin, &["package"])?);
        publish.push(flowtrace(&author, &plugin, &["publish", &repository])?);
        let user = home(&format!("oci-{run}"));
        from_registry.push(flowtrace(&user, work.path(), &["install", &reference])?);
        let user = home(&format!("dir-{run}"));
        let dir = plugin.to_str().context("a UTF-8 path")?;
        from_dir.push(flowtrace(&user, work.path(), &["install", dir])?);
    }
    let component = std::fs::metadata(
        target_root
            .join("bench-share/flowtrace/release")
            .join("shared-eval-0.1.0.wasm"),
    )
    .map(|m| m.len())
    .ok();
    let ms = |d: Duration| (d.as_secs_f64() * 1e5).round() / 100.0;
    let report = json!({
        "cli-profile": if dev { "dev" } else { "release" },
        "runs": runs,
        "plugin": "rust-evaluator template, release build",
        "component-bytes": component,
        "median-ms": {
            "package": ms(median(package)),
            "publish (package + push)": ms(median(publish)),
            "install oci:// (pull + checks + precompile)": ms(median(from_registry)),
            "install <dir> (fresh build + checks + precompile)": ms(median(from_dir)),
        },
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// `docker-registry serve` on a free loopback port, killed when dropped.
struct Registry {
    child: Child,
    addr: String,
}

impl Registry {
    fn start(dir: &Path) -> Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let addr = format!("127.0.0.1:{port}");
        let config = dir.join("registry.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {addr}\n",
                dir.join("registry-data").display()
            ),
        )?;
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("failed to start `docker-registry` (apt-get install -y docker-registry)")?;
        let started = Instant::now();
        while std::net::TcpStream::connect(&addr).is_err() {
            if started.elapsed() > Duration::from_secs(20) {
                bail!("the registry did not start");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Registry { child, addr })
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
