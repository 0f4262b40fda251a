//! Running `cargo build` for `wasm32-wasip2`: its diagnostics go to stderr as cargo renders
//! them, its JSON messages say which file it built.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use anyhow::{anyhow, Context as _, Result};
use cargo_metadata::{Message, TargetKind};

use super::toolchain::WASM_TARGET;
use crate::build::world::gated_interfaces;
use crate::term::Term;
use crate::toolchain::process::display;
use flowtrace_plugins::capability::Capability;

/// Most bytes of cargo's stderr kept to look for known problems (all of it is shown).
const KEPT_STDERR: usize = 4 << 20;

/// What to build.
#[derive(Debug, Clone)]
pub struct CargoBuild<'a> {
    /// The cargo to run: `$CARGO` (set when cargo runs this tool), else `cargo`.
    pub cargo: &'a Path,
    /// The package's `Cargo.toml`.
    pub manifest_path: &'a Path,
    /// The package name, to find its artefact among its dependencies'.
    pub package: &'a str,
    /// `--target-dir`, when the build goes to the target dir shared by plugins
    /// ([`super::target`]).
    pub target_dir: Option<&'a Path>,
    /// `--release`
    pub release: bool,
    /// `--features` values, e.g. `flowtrace-plugin-sdk/storage`.
    pub features: Vec<String>,
    /// `--config` values, e.g. the `[patch]` that supplies the SDK.
    pub config: Vec<String>,
    /// Flags for rustc, appended to the user's ([`super::remap`]).
    pub rustflags: Vec<String>,
    /// Whether cargo reads `rustflags` from the plugin's configuration already (then they
    /// are only passed when a variable makes cargo ignore it).
    pub rustflags_configured: bool,
    /// Flags for the rustc of the package's crate alone: `cargo rustc -- <flags>` instead of
    /// `cargo build`.
    pub crate_flags: Vec<String>,
    /// `--color always` when our stderr shows colours (cargo's stderr is a pipe).
    pub color: bool,
    /// `--quiet` for cargo too.
    pub quiet: bool,
}

/// What `cargo build` did.
#[derive(Debug)]
pub struct CargoOutcome {
    /// How cargo exited.
    pub status: ExitStatus,
    /// The package's `.wasm`, from its `compiler-artifact` message.
    pub artefact: Option<PathBuf>,
    /// Whether cargo found it up to date (nothing recompiled).
    pub fresh: bool,
    /// Cargo's stderr (the first `KEPT_STDERR` bytes), already shown.
    pub stderr: String,
    /// The command, as a person would type it.
    pub command: String,
}

impl CargoBuild<'_> {
    /// The `cargo build` command line (`cargo rustc` with flags for the crate alone).
    pub fn command(&self) -> Command {
        let mut command = Command::new(self.cargo);
        command
            .arg(if self.crate_flags.is_empty() {
                "build"
            } else {
                "rustc"
            })
            .arg("--manifest-path")
            .arg(self.manifest_path)
            .args(["--lib", "--target", WASM_TARGET])
            .args(["--message-format", "json-render-diagnostics"])
            .args(["--color", if self.color { "always" } else { "never" }]);
        if let Some(dir) = self.target_dir {
            command.arg("--target-dir").arg(dir);
        }
        if self.release {
            command.arg("--release");
        }
        for config in &self.config {
            command.arg("--config").arg(config);
        }
        if !self.features.is_empty() {
            command.arg("--features").arg(self.features.join(","));
        }
        if self.quiet {
            command.arg("--quiet");
        }
        if !self.rustflags.is_empty() {
            match super::remap::user_env_flags(&self.rustflags) {
                Some(encoded) => {
                    command.env("CARGO_ENCODED_RUSTFLAGS", encoded);
                }
                None if self.rustflags_configured => {}
                None => {
                    command
                        .arg("--config")
                        .arg(super::remap::config(&self.rustflags));
                }
            }
        }
        if !self.crate_flags.is_empty() {
            command.arg("--").args(&self.crate_flags);
        }
        command
    }

    /// `cargo clean -p <package>` for the target, in the same target dir and with the same
    /// configuration as the build: cargo forgets what it built of the package (not of its
    /// dependencies), which then compiles again.
    pub fn clean_package(&self, term: &Term) -> Result<()> {
        let mut command = Command::new(self.cargo);
        command
            .arg("clean")
            .arg("--manifest-path")
            .arg(self.manifest_path)
            .args([
                "--package",
                self.package,
                "--target",
                WASM_TARGET,
                "--quiet",
            ]);
        if let Some(dir) = self.target_dir {
            command.arg("--target-dir").arg(dir);
        }
        for config in &self.config {
            command.arg("--config").arg(config);
        }
        let shown = display(&command);
        term.verbose_status("Running", format_args!("`{shown}`"));
        let out = command
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("failed to run `{shown}`"))?;
        if !out.status.success() {
            return Err(anyhow!(
                "`{shown}` failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(())
    }

    /// Run cargo, showing its stderr line by line as it comes.
    ///
    /// `on_artefact` runs on its own thread as soon as cargo reports the package's `.wasm`,
    /// while cargo is still writing its fingerprints and exiting; its result comes back with
    /// the outcome (`None` when cargo reported no artefact). Whatever it prepared is only to
    /// be used when cargo succeeded.
    pub fn run<T: Send>(
        &self,
        term: &Term,
        on_artefact: impl FnOnce(&Path) -> T + Send,
    ) -> Result<(CargoOutcome, Option<T>)> {
        let mut command = self.command();
        let shown = display(&command);
        term.verbose_status("Running", format_args!("`{shown}`"));
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("failed to run `{shown}`"))?;
        let stderr = child.stderr.take().context("cargo's stderr is not piped")?;
        let stdout = child.stdout.take().context("cargo's stdout is not piped")?;
        let (found, kept, prepared) = std::thread::scope(|s| {
            let forward = s.spawn(|| forward_stderr(term, stderr));
            let mut on_artefact = Some(on_artefact);
            let mut preparing = None;
            let found = self.read_messages(term, stdout, |path: &Path| {
                if let Some(f) = on_artefact.take() {
                    let path = path.to_path_buf();
                    preparing = Some(s.spawn(move || f(&path)));
                }
            });
            let kept = forward.join().unwrap_or_default();
            let prepared = preparing.map(|p| p.join());
            (found, kept, prepared)
        });
        let status = child
            .wait()
            .with_context(|| format!("failed to wait for `{shown}`"))?;
        let prepared = match prepared {
            Some(Ok(value)) => Some(value),
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => None,
        };
        let (artefact, fresh) = found;
        let outcome = CargoOutcome {
            status,
            artefact,
            fresh,
            stderr: kept,
            command: shown,
        };
        Ok((outcome, prepared))
    }

    /// The package's cdylib `.wasm` among cargo's JSON messages (`found` is told at once);
    /// other stdout lines (a build script's output) go to our stderr.
    fn read_messages(
        &self,
        term: &Term,
        stdout: impl Read,
        mut found: impl FnMut(&Path),
    ) -> (Option<PathBuf>, bool) {
        let mut artefact = None;
        let mut fresh = false;
        for message in Message::parse_stream(BufReader::new(stdout)) {
            match message {
                Ok(Message::CompilerArtifact(a))
                    if a.target.kind.contains(&TargetKind::CDyLib)
                        && same_file(a.manifest_path.as_std_path(), self.manifest_path) =>
                {
                    if let Some(wasm) = a.filenames.iter().find(|f| f.extension() == Some("wasm")) {
                        let wasm = wasm.clone().into_std_path_buf();
                        found(&wasm);
                        artefact = Some(wasm);
                        fresh = a.fresh;
                    }
                }
                Ok(Message::TextLine(line)) => term.stderr_line(line),
                Ok(_) => {}
                Err(_) => break,
            }
        }
        (artefact, fresh)
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

/// Copy cargo's stderr to ours line by line, unchanged, keeping the start of it.
fn forward_stderr(term: &Term, stderr: impl Read) -> String {
    let mut kept = String::new();
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let text = String::from_utf8_lossy(&line);
                let text = text.strip_suffix('\n').unwrap_or(&text);
                let text = text.strip_suffix('\r').unwrap_or(text);
                term.stderr_line(text);
                if kept.len() < KEPT_STDERR {
                    kept.push_str(text);
                    kept.push('\n');
                }
            }
        }
    }
    kept
}

/// The capabilities whose SDK module a failed build could not find, with the module:
/// `flowtrace_plugin_sdk::kv` is only there with `storage` declared, and so on.
pub fn missing_sdk_capabilities(stderr: &str) -> Vec<(&'static str, Capability)> {
    // Colours split the text: look at it without escape sequences.
    let plain = strip_ansi(stderr);
    gated_interfaces()
        .filter(|(module, capability)| {
            // The SDK's stand-in modules say so themselves; without them the module is
            // missing.
            plain.contains(&format!(
                "needs the capability `{capability}`, which this plugin does not declare"
            )) || plain.contains(&format!("flowtrace_plugin_sdk::{module}`"))
                || plain.contains(&format!("flowtrace_plugin_sdk::{module}::"))
                || plain.contains(&format!(
                    "could not find `{module}` in `flowtrace_plugin_sdk`"
                ))
        })
        .collect()
}

/// Whether cargo failed because the target's standard library is missing.
pub fn target_missing(stderr: &str) -> bool {
    let plain = strip_ansi(stderr);
    plain.contains(&format!("the `{WASM_TARGET}` target may not be installed"))
}

/// `text` without ANSI escape sequences (`ESC [ ... letter`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The cargo to run: `$CARGO` (cargo sets it for the subcommands it runs), else `cargo`.
pub fn cargo_program() -> PathBuf {
    std::env::var_os("CARGO")
        .filter(|c| !c.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("cargo"))
}

/// The error for a failed `cargo build`.
pub fn failed(outcome: &CargoOutcome, id: &str) -> anyhow::Error {
    anyhow!(
        "failed to compile plugin `{id}`: `cargo build` failed ({})",
        outcome.status
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unresolved_sdk_modules_name_their_capability() {
        let stderr = "error[E0432]: unresolved import `flowtrace_plugin_sdk::kv`\n\
                      error[E0433]: failed to resolve: could not find `\u{1b}[1membeddings\u{1b}[0m` in `flowtrace_plugin_sdk`\n";
        assert_eq!(
            missing_sdk_capabilities(stderr),
            [
                ("kv", Capability::Storage),
                ("embeddings", Capability::Embeddings)
            ]
        );
        assert_eq!(missing_sdk_capabilities("error: mismatched types"), []);
        let stderr = "error[E0277]: `traces` needs the capability `traces`, which this plugin \
                      does not declare\n";
        assert_eq!(
            missing_sdk_capabilities(stderr),
            [("traces", Capability::Traces)]
        );
    }
}
