//! esbuild, through `bundle.mjs`: the plugin's entry, its own modules, its npm dependencies
//! and the SDK bundled into the one ES module componentize-js builds; an import of a host
//! interface the manifest does not grant is an esbuild error at that import.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{anyhow, Context as _, Result};
use flowtrace_plugins::capability::{CONTRACT_PACKAGE, CONTRACT_VERSION};
use flowtrace_plugins::manifest::Manifest;
use serde::{Deserialize, Serialize};

use crate::build::sources::Entry;
use crate::build::world;
use crate::error::{self, ResultExt};
use crate::lang::capitalised;
use crate::term::Term;
use crate::toolchain::process::display;

/// What [`run_bundler`] bundles.
pub(super) struct Bundle<'a> {
    /// `bundle.mjs`, in the build directory.
    pub script: &'a Path,
    /// The plugin's directory.
    pub root: &'a Path,
    /// The plugin's entry file.
    pub entry: &'a Entry,
    /// The module esbuild starts from ([`super::entry_source`]).
    pub entry_module: &'a Path,
    /// The bundle to write.
    pub bundle: &'a Path,
    /// The SDK's sources.
    pub sdk: &'a Path,
    pub manifest: &'a Manifest,
    /// esbuild's output format: `esm` for componentize-js, `cjs` for the dev engine
    /// ([`super::engine`]), which evaluates the bundle with its own `require`.
    pub format: &'static str,
}

/// The request `bundle.mjs` reads.
#[derive(Serialize)]
struct BundleRequest<'a> {
    esbuild: &'a Path,
    root: &'a Path,
    entry: &'a Path,
    #[serde(rename = "entryShown")]
    entry_shown: &'a str,
    outfile: &'a Path,
    sdk: &'a Path,
    granted: Vec<&'static str>,
    capabilities: BTreeMap<&'static str, &'static str>,
    contract: serde_json::Value,
    #[serde(rename = "exportName")]
    export_name: &'static str,
    define: String,
    color: bool,
    result: &'a Path,
    format: &'static str,
}

/// What `bundle.mjs` reports besides esbuild's messages.
#[derive(Deserialize)]
struct BundleResult {
    helps: Vec<String>,
}

/// Run esbuild through `bundle.mjs`: its messages are shown as esbuild prints them (in
/// verbose mode also on success); on failure, the helps the script found are added.
pub(super) fn run_bundler(term: &Term, esbuild: &Path, bundle: &Bundle<'_>) -> Result<()> {
    let work = bundle.script.parent().unwrap_or(Path::new("."));
    let request_path = work.join("bundle-request.json");
    let result_path = work.join("bundle-result.json");
    let request = BundleRequest {
        esbuild,
        root: bundle.root,
        entry: bundle.entry_module,
        entry_shown: &bundle.entry.shown,
        outfile: bundle.bundle,
        sdk: bundle.sdk,
        granted: world::granted_interfaces(bundle.manifest),
        capabilities: world::gated_interfaces()
            .map(|(interface, capability)| (interface, capability.as_str()))
            .collect(),
        contract: serde_json::json!({
            "package": CONTRACT_PACKAGE,
            "version": CONTRACT_VERSION.to_string(),
        }),
        export_name: bundle.manifest.plugin.kind.as_str(),
        // The SDK's `define*` function of the kind: `defineEvaluator`.
        define: format!(
            "define{}",
            capitalised(bundle.manifest.plugin.kind.as_str())
        ),
        color: term.stderr_has_color(),
        result: &result_path,
        format: bundle.format,
    };
    let json = serde_json::to_vec_pretty(&request).expect("a request serialises");
    crate::build::write_atomically(&request_path, &json)?;
    let _ = std::fs::remove_file(&result_path);

    let mut command = Command::new("node");
    command
        .current_dir(bundle.root)
        .arg(bundle.script)
        .arg(&request_path);
    let shown = display(&command);
    term.verbose_status("Running", format_args!("`{shown}`"));
    let output = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("failed to run `{shown}`"))
        .with_help(|| "install Node.js 18 or newer (`cargo flowtrace doctor` checks it)")?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    let result: Option<BundleResult> = std::fs::read(&result_path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    if output.status.success() {
        // Warnings are worth seeing without `-v`.
        for line in stderr.lines() {
            term.stderr_line(line);
        }
        return Ok(());
    }
    for line in stderr.lines() {
        term.stderr_line(line);
    }
    let id = &bundle.manifest.plugin.id;
    let mut err = match result {
        Some(_) => anyhow!("failed to compile plugin `{id}`: esbuild could not bundle it"),
        // The script itself failed (esbuild missing, a broken install): its own error is
        // above.
        None => anyhow!(
            "failed to compile plugin `{id}`: `{shown}` failed ({})",
            output.status
        ),
    };
    for help in result.map(|r| r.helps).unwrap_or_default() {
        err = error::with_help(err, help);
    }
    Err(err)
}
