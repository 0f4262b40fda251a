//! `cargo flowtrace build [--release]`

use anyhow::Result;
use clap::Args;

use crate::build::{self, BuildRequest};
use crate::context::Context;

/// Build the plugin into a validated component
///
/// Runs `cargo build --target wasm32-wasip2` on the package beside flowtrace.toml (installing
/// the target through rustup when it is missing), with the Rust SDK's features for the
/// declared capabilities; embeds flowtrace.toml in the component as its
/// `flowtrace-manifest` custom section; checks every import of the component against the
/// declared capabilities; and writes `target/flowtrace/<debug|release>/<id>-<version>.wasm`.
///
/// Cargo builds every Rust plugin in one shared target dir, `$FLOWTRACE_HOME/cargo-target`,
/// so the SDK and its dependencies compile once, not once per plugin (`doctor` and `build
/// -v` say where it is; remove it to reclaim the space). When cargo is told of another
/// target dir (`CARGO_TARGET_DIR`, `build.target-dir`, a workspace the plugin belongs to),
/// it builds there, and the component goes to `<that dir>/flowtrace/` instead.
///
/// A TypeScript plugin is type-checked first with the TypeScript cargo-flowtrace installs
/// beside esbuild (`tsc --noEmit -p tsconfig.json`, when the plugin has a tsconfig.json); a
/// type error fails the build, unless `--no-typecheck`.
///
/// Cargo's diagnostics are shown as cargo renders them. A component that imports an
/// undeclared capability (or anything the host does not provide) is not written, and the
/// command exits with code 4, naming the manifest line to add.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  cargo flowtrace build                          the plugin in this directory, dev profile
  cargo flowtrace build --release                optimised and small, for installing
  cargo flowtrace build --manifest-path plugins/my-evaluator
  cargo flowtrace build --message-format json    a `build-finished` message for CI")]
pub struct BuildCommand {
    /// Build with the release profile (optimised, smaller)
    #[arg(long)]
    pub release: bool,

    /// TypeScript: do not type-check before bundling (by default `tsc --noEmit` runs with
    /// the plugin's tsconfig.json)
    #[arg(long)]
    pub no_typecheck: bool,
}

impl BuildCommand {
    /// Run `build`.
    pub fn exec(self, cx: &Context) -> Result<()> {
        let request = BuildRequest {
            manifest_path: cx.manifest_path()?,
            release: self.release,
            typecheck: !self.no_typecheck,
            dev_engine: false,
            caps: flowtrace_plugins::HostCaps::default(),
        };
        build::build(&cx.term, &request)?;
        Ok(())
    }
}
