//! The TypeScript driver: esbuild bundles the plugin's entry (TypeScript or JavaScript),
//! its own modules, its npm dependencies and the TypeScript SDK (`@flowtrace/plugin-sdk`,
//! embedded in this binary) into one ES module; componentize-js turns that module into a
//! component of the world synthesised from the manifest.
//!
//! Everything it writes is under `<plugin>/target/flowtrace/typescript/`:
//!
//! | path | what |
//! |---|---|
//! | `wit/` | the contract and `build.wit`, the plugin's world ([`super::world`]) |
//! | `sdk/` | the SDK (`sdk/src/index.ts`, ...): what the bundle uses, and what the template's `tsconfig.json` points editors at |
//! | `bundle.mjs` | the script that runs esbuild (its JavaScript API, for the resolver plugin that gates capabilities) |
//! | `entry.js` | the module esbuild bundles: imports the plugin's export and hands it to the SDK's bridge |
//! | `plugin.js` | the bundle componentize-js builds |
//! | `stamp.json` | what the last build was made from, so an unchanged plugin is not rebuilt |
//!
//! Capabilities are checked while bundling: an import of `@flowtrace/plugin-sdk/kv` (or of
//! `flowtrace:plugin/kv@0.1.0` itself) in a plugin that does not declare `storage = true`
//! is an esbuild error at that import, with the manifest line to add as a help.
//!
//! componentize-js runs with `-d fetch-event` (a plugin serves no HTTP) and `-d stdio`
//! always, and `-d http` unless the manifest declares `network` (`fetch` needs `http`
//! alone). Without `stdio` the component imports no stdin, stdout, terminal or filesystem
//! interfaces, and `console.log` writes nothing: the SDK's export bridge routes `console`
//! to the plugin log instead, at each method's level. `random` and `clocks` stay, or
//! `Math.random()` and `Date.now()` would trap.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{anyhow, Context as _, Result};
use flowtrace_plugins::capability::{CONTRACT_PACKAGE, CONTRACT_VERSION};
use flowtrace_plugins::manifest::{Manifest, PluginKind};
use include_dir::{include_dir, Dir};
use serde::{Deserialize, Serialize};

use super::sources::{self, SourceSet};
use super::world::{self, write_if_changed};
use super::{own_target_dir, prepare, Compiled, Source, OUTPUT_DIR};
use crate::error::{self, ResultExt};
use crate::term::Term;
use crate::toolchain::node::{self as toolchain, NodeTools};
use crate::toolchain::process::display;

/// The TypeScript SDK, `sdk/typescript` of this repository (see `build.rs`).
static SDK: Dir<'static> = include_dir!("$FLOWTRACE_EMBEDDED/sdk-typescript");

/// The script that runs esbuild.
const BUNDLE_SCRIPT: &str = include_str!("typescript/bundle.mjs");

/// The SDK's package name.
pub const SDK_PACKAGE: &str = "@flowtrace/plugin-sdk";

/// The files of the SDK that the build writes (its sources and package metadata).
const SDK_PARTS: [&str; 4] = ["src", "package.json", "tsconfig.json", "README.md"];

/// The files of a TypeScript plugin that its component is built from: everything but its
/// build output, tests, installed packages and hidden files, plus npm's record of the
/// installed packages (so that installing other versions rebuilds it).
const SOURCES: SourceSet<'static> = SourceSet {
    skip_at_root: &["target", "tests", "dist"],
    skip_anywhere: &["node_modules"],
    also: &["node_modules/.package-lock.json"],
};

/// What shaped a TypeScript component besides its sources, for the staleness stamp: the
/// embedded SDK and bundle script, componentize-js and esbuild.
fn stamped_toolchain() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("sdk".to_string(), sdk_hash()),
        (
            "componentize-js".to_string(),
            toolchain::COMPONENTIZE_JS_VERSION.to_string(),
        ),
        (
            "esbuild".to_string(),
            toolchain::ESBUILD_VERSION.to_string(),
        ),
    ])
}

/// Build the TypeScript plugin whose manifest is `source.manifest`.
pub(crate) fn compile(term: &Term, source: &Source<'_>) -> Result<Compiled> {
    let Source {
        manifest,
        text,
        root,
        started,
        ..
    } = *source;
    let id = manifest.plugin.id.as_str();
    let entry = find_entry(root, manifest)?;
    let target_dir = own_target_dir(root);
    let work = target_dir.join(OUTPUT_DIR).join("typescript");
    // Two builds of one plugin at once (an editor's and a terminal's) take turns: they
    // write the same build directory.
    let lock = crate::toolchain::lock_dir(term, &work)?;
    let output = target_dir.join(OUTPUT_DIR).join(source.file_name());
    let stamp_path = work.join("stamp.json");

    install_dependencies(term, root)?;
    // Also when nothing is rebuilt: editors and `tsc` read this copy.
    write_sdk(&work.join("sdk"))?;
    let inputs = sources::hash_sources(root, text, b"", &SOURCES)?;
    tracing::debug!(elapsed = ?started.elapsed(), "hashed the sources");
    let fresh = sources::stamped_component(
        &stamp_path,
        &stamped_toolchain(),
        &inputs,
        &output,
        &target_dir,
    );
    if let Some(prepared) = fresh {
        return Ok(Compiled {
            prepared,
            fresh: true,
            profile: "release",
            lock: Some(lock),
        });
    }

    let home = crate::context::flowtrace_home()?;
    let tools = toolchain::ensure_node_tools(term, &home)?;
    term.status(
        "Compiling",
        format_args!(
            "plugin `{id}` v{} (esbuild {}, componentize-js {})",
            manifest.plugin.version,
            toolchain::ESBUILD_VERSION,
            toolchain::COMPONENTIZE_JS_VERSION
        ),
    );
    let wit = work.join("wit");
    world::write_wit_dir(&wit, manifest)?;
    let script = work.join("bundle.mjs");
    write_if_changed(&script, BUNDLE_SCRIPT.as_bytes())?;
    let entry_module = work.join("entry.js");
    write_if_changed(
        &entry_module,
        entry_source(&work, &entry.path, manifest.plugin.kind).as_bytes(),
    )?;

    let bundle = work.join("plugin.js");
    run_bundler(
        term,
        &tools,
        &Bundle {
            script: &script,
            root,
            entry: &entry,
            entry_module: &entry_module,
            bundle: &bundle,
            sdk: &work.join("sdk").join("src"),
            manifest,
        },
    )?;
    tracing::debug!(elapsed = ?started.elapsed(), "esbuild finished");

    let built = tempfile::Builder::new()
        .prefix(".componentize-")
        .suffix(".wasm")
        .tempfile_in(&work)
        .with_context(|| format!("failed to create a temp file in `{}`", work.display()))?;
    let mut command = Command::new(&tools.componentize_js);
    // componentize-js maps the current directory into the build sandbox: run it where the
    // bundle is, so its messages name `plugin.js`.
    command
        .current_dir(&work)
        .arg("plugin.js")
        .arg("--wit")
        .arg("wit")
        .args(["-n", world::WORLD])
        .args(disabled_features(manifest))
        .arg("-o")
        .arg(built.path());
    run_componentize(term, command, id, &bundle)?;
    tracing::debug!(elapsed = ?started.elapsed(), "componentize-js finished");

    let prepared = prepare(built.path(), text, output, target_dir)?;
    let component = prepared.inspection.sha256.clone();
    sources::write_stamp(&stamp_path, stamped_toolchain(), inputs, component)?;
    Ok(Compiled {
        prepared,
        fresh: false,
        profile: "release",
        lock: Some(lock),
    })
}

/// The `-d` flags of componentize-js for `manifest`: `fetch-event` and `stdio` always,
/// `http` without the `network` capability.
fn disabled_features(manifest: &Manifest) -> Vec<&'static str> {
    let mut flags = vec!["-d", "fetch-event", "-d", "stdio"];
    if !manifest.capabilities.has_network() {
        flags.extend(["-d", "http"]);
    }
    flags
}

/// The plugin's entry file.
struct Entry {
    /// Absolute.
    path: PathBuf,
    /// As the manifest names it, e.g. `src/index.ts`.
    shown: String,
}

fn find_entry(root: &Path, manifest: &Manifest) -> Result<Entry> {
    let entry = manifest
        .build
        .entry_or_default()
        .expect("typescript has a default entry");
    let path = root.join(entry);
    if !path.is_file() {
        let how = if manifest.build.entry.is_some() {
            "or change `entry` under `[build]` in flowtrace.toml"
        } else {
            "or name your module under `[build]` in flowtrace.toml: `entry = \"src/plugin.ts\"`"
        };
        return Err(anyhow!(
            "the plugin's entry module `{entry}` does not exist in `{}`",
            root.display()
        ))
        .help(format!(
            "create `{entry}` exporting the plugin as `{}`, {how}",
            manifest.plugin.kind
        ));
    }
    Ok(Entry {
        path,
        shown: entry.to_string(),
    })
}

/// The `define*` function of the SDK for `kind`.
fn define_function(kind: PluginKind) -> &'static str {
    match kind {
        PluginKind::Evaluator => "defineEvaluator",
        PluginKind::Exporter => "defineExporter",
        PluginKind::Embedder => "defineEmbedder",
        PluginKind::Transformer => "defineTransformer",
    }
}

/// The module esbuild bundles: the plugin's export, through the SDK's bridge, under the
/// name componentize-js looks for (`evaluator` for `flowtrace:plugin/evaluator@0.1.0`).
fn entry_source(work: &Path, entry: &Path, kind: PluginKind) -> String {
    let bridge = match kind {
        PluginKind::Evaluator => "exportEvaluator",
        PluginKind::Exporter => "exportExporter",
        PluginKind::Embedder => "exportEmbedder",
        PluginKind::Transformer => "exportTransformer",
    };
    let specifier = relative_specifier(work, entry);
    let specifier = serde_json::to_string(&specifier).expect("a string serialises");
    format!(
        "// Written by cargo-flowtrace: the module componentize-js builds.\n\
         import {{ {kind} as plugin }} from {specifier};\n\
         import {{ {bridge} }} from \"{SDK_PACKAGE}/export\";\n\
         export const {kind} = {bridge}(plugin);\n"
    )
}

/// `to` as an import specifier relative to `from` (`../../../src/index.ts`), or absolute
/// when they share no prefix.
fn relative_specifier(from: &Path, to: &Path) -> String {
    let from: Vec<_> = from.components().collect();
    let to_parts: Vec<_> = to.components().collect();
    let common = from
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count();
    if common == 0 {
        return to.to_string_lossy().replace('\\', "/");
    }
    let mut parts: Vec<String> = vec!["..".to_string(); from.len() - common];
    parts.extend(
        to_parts[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    let joined = parts.join("/");
    if joined.starts_with("..") {
        joined
    } else {
        format!("./{joined}")
    }
}

/// SHA-256 of the embedded SDK and bundle script: a change to either rebuilds plugins
/// even when this tool's version did not change.
fn sdk_hash() -> String {
    use sha2::{Digest, Sha256};
    let mut files = Vec::new();
    collect_files(&SDK, &mut files);
    let mut hasher = Sha256::new();
    hasher.update(BUNDLE_SCRIPT.as_bytes());
    for file in files {
        hasher.update(b"\0file\0");
        hasher.update(file.path().to_string_lossy().as_bytes());
        hasher.update(b"\0");
        hasher.update(file.contents());
    }
    hex::encode(hasher.finalize())
}

/// The SDK's files that the build writes, in path order.
fn collect_files<'a>(dir: &'a Dir<'a>, out: &mut Vec<&'a include_dir::File<'a>>) {
    let wanted = |path: &Path| {
        SDK_PARTS
            .iter()
            .any(|part| path.starts_with(part) || path == Path::new(part))
    };
    for file in dir.files() {
        if wanted(file.path()) {
            out.push(file);
        }
    }
    for sub in dir.dirs() {
        if wanted(sub.path()) {
            collect_files(sub, out);
        }
    }
    out.sort_by(|a, b| a.path().cmp(b.path()));
}

/// Write the embedded SDK to `dir` (its `src/` and package files), replacing what is there
/// when it differs.
fn write_sdk(dir: &Path) -> Result<()> {
    let mut files = Vec::new();
    collect_files(&SDK, &mut files);
    sources::write_embedded(dir, &files)
}

/// `npm install` in the plugin's directory when its `package.json` lists `dependencies`
/// and there is no `node_modules` yet: esbuild bundles them from there. (Later changes are
/// the author's to install, as with any npm project; an import esbuild cannot resolve
/// gets the command as a help.)
fn install_dependencies(term: &Term, root: &Path) -> Result<()> {
    let path = root.join("package.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    let json: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("failed to parse `{}`", path.display()))?;
    let count = json
        .get("dependencies")
        .and_then(serde_json::Value::as_object)
        .map_or(0, serde_json::Map::len);
    if count == 0 || root.join("node_modules").is_dir() {
        return Ok(());
    }
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    let mut command = Command::new(npm);
    command
        .current_dir(root)
        .args(["install", "--no-audit", "--no-fund", "--loglevel=error"]);
    let shown = format!("cd {} && {}", root.display(), display(&command));
    crate::toolchain::process::run_logged(
        term,
        "Installing",
        &format!("{count} npm package(s) of the plugin (`npm install`)"),
        command,
    )
    .with_help(|| format!("run `{shown}` and fix what it reports"))?;
    Ok(())
}

/// What [`run_bundler`] bundles.
struct Bundle<'a> {
    script: &'a Path,
    root: &'a Path,
    entry: &'a Entry,
    entry_module: &'a Path,
    bundle: &'a Path,
    sdk: &'a Path,
    manifest: &'a Manifest,
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
    capabilities: std::collections::BTreeMap<&'static str, &'static str>,
    contract: serde_json::Value,
    #[serde(rename = "exportName")]
    export_name: &'static str,
    define: &'static str,
    color: bool,
    result: &'a Path,
}

/// What `bundle.mjs` reports besides esbuild's messages.
#[derive(Deserialize)]
struct BundleResult {
    helps: Vec<String>,
}

/// Run esbuild through `bundle.mjs`: its messages are shown as esbuild prints them (in
/// verbose mode also on success); on failure, the helps the script found are added.
fn run_bundler(term: &Term, tools: &NodeTools, bundle: &Bundle<'_>) -> Result<()> {
    let work = bundle.script.parent().unwrap_or(Path::new("."));
    let request_path = work.join("bundle-request.json");
    let result_path = work.join("bundle-result.json");
    let request = BundleRequest {
        esbuild: &tools.esbuild,
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
        define: define_function(bundle.manifest.plugin.kind),
        color: term.stderr_has_color(),
        result: &result_path,
    };
    let json = serde_json::to_vec_pretty(&request).expect("a request serialises");
    super::write_atomically(&request_path, &json)?;
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

/// Run componentize-js: its output is shown in verbose mode, and on failure, unchanged.
fn run_componentize(term: &Term, command: Command, id: &str, bundle: &Path) -> Result<()> {
    let run = sources::run_componentizer(term, command, id)?;
    if run.status.success() {
        return Ok(());
    }
    if !term.is_verbose() {
        for line in run.stdout.lines() {
            term.stderr_line(line);
        }
    }
    for line in run.stderr.lines() {
        term.stderr_line(line);
    }
    let mut err = anyhow!(
        "failed to compile plugin `{id}`: componentize-js failed ({})",
        run.status
    );
    for help in componentize_helps(&run.stderr, bundle) {
        err = error::with_help(err, help);
    }
    Err(err)
}

/// The helps for a failed componentize-js run: it runs the bundle's top level while it
/// builds, so what fails there is the plugin's code.
fn componentize_helps(stderr: &str, bundle: &Path) -> Vec<String> {
    let mut helps = Vec::new();
    if stderr.contains("cannot call arbitrary imported functions during Wizer initialization") {
        helps.push(
            "the build runs the top level of the plugin's modules, where there is no host: \
             call `log`, `config`, `fetch` and the other host functions from the plugin's \
             methods"
                .to_string(),
        );
    } else if stderr.contains("Exception while evaluating top-level script") {
        helps.push(format!(
            "the build runs the top level of the plugin's modules, and it threw (above); \
             `plugin.js` lines refer to the bundle, `{}`",
            bundle.display()
        ));
    }
    if let Some(place) = bundle_place(stderr, bundle) {
        helps.push(place);
    }
    helps
}

/// Where the first `plugin.js:<line>:<column>` of `stderr` is in the plugin's sources: the
/// module esbuild marked above that line of the bundle (`// src/index.ts`), and the line.
fn bundle_place(stderr: &str, bundle: &Path) -> Option<String> {
    let (_, rest) = stderr.split_once("plugin.js:")?;
    let digits = rest.find(|c: char| !c.is_ascii_digit())?;
    let line: usize = rest[..digits].parse().ok()?;
    let text = std::fs::read_to_string(bundle).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let code = lines.get(line.checked_sub(1)?)?.trim();
    // esbuild starts each module's code with a comment naming its path.
    let module = lines[..line - 1].iter().rev().find_map(|l| {
        let path = l.strip_prefix("// ")?;
        let is_path = !path.contains(' ') && path.contains('.');
        is_path.then_some(path)
    })?;
    Some(format!("`plugin.js:{line}` is in `{module}`: `{code}`"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowtrace_plugins::manifest;

    #[test]
    fn a_bundle_line_is_traced_to_its_module() {
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("plugin.js");
        std::fs::write(
            &bundle,
            "// target/flowtrace/typescript/sdk/src/log.ts\nvar a = 1;\n// src/index.ts\n\
             var broken = void 0;\nvar limit = broken.value;\n",
        )
        .unwrap();
        let stderr = "Exception while evaluating top-level script\nplugin.js:5:13 TypeError: \
                      can't access property \"value\", broken is undefined\n";
        assert_eq!(
            bundle_place(stderr, &bundle).as_deref(),
            Some("`plugin.js:5` is in `src/index.ts`: `var limit = broken.value;`")
        );
        assert_eq!(bundle_place("no location", &bundle), None);
        assert_eq!(bundle_place("plugin.js:99:1", &bundle), None);
    }

    fn manifest_with(caps: &str) -> Manifest {
        let text = format!(
            "[plugin]\nid = \"p\"\nname = \"P\"\nversion = \"0.1.0\"\nkind = \"evaluator\"\n\
             flowtrace = \"^0.1\"\n\n[build]\nlanguage = \"typescript\"\n\n[capabilities]\n{caps}\n"
        );
        manifest::parse(&text, Path::new("flowtrace.toml")).expect("valid manifest")
    }

    #[test]
    fn http_is_kept_only_for_network_plugins() {
        assert_eq!(
            disabled_features(&manifest_with("")),
            ["-d", "fetch-event", "-d", "stdio", "-d", "http"]
        );
        let network = manifest_with("network = { hosts = [\"api.example.com\"] }");
        assert_eq!(
            disabled_features(&network),
            ["-d", "fetch-event", "-d", "stdio"]
        );
        let empty = manifest_with("network = { hosts = [] }");
        assert_eq!(
            disabled_features(&empty),
            ["-d", "fetch-event", "-d", "stdio", "-d", "http"]
        );
    }

    #[test]
    fn the_entry_module_exports_what_componentize_js_binds() {
        let text = entry_source(
            Path::new("/p/target/flowtrace/typescript"),
            Path::new("/p/src/index.ts"),
            PluginKind::Transformer,
        );
        assert!(
            text.contains("import { transformer as plugin } from \"../../../src/index.ts\";"),
            "{text}"
        );
        assert!(
            text.contains("export const transformer = exportTransformer(plugin);"),
            "{text}"
        );
    }

    #[test]
    fn top_level_failures_get_a_help() {
        let bundle = Path::new("/p/target/flowtrace/typescript/plugin.js");
        let host_call = "1: Error: attempted to call an unknown imported function: \
                         'flowtrace:plugin/config@0.1.0' 'get'\n\n       You cannot call arbitrary \
                         imported functions during Wizer initialization.\n";
        let helps = componentize_helps(host_call, bundle);
        assert_eq!(helps.len(), 1, "{helps:?}");
        assert!(helps[0].contains("from the plugin's methods"), "{helps:?}");
        let thrown = "Exception while evaluating top-level script\nplugin.js:3:9 Error: boom\n";
        let helps = componentize_helps(thrown, bundle);
        assert!(
            helps[0].contains("/p/target/flowtrace/typescript/plugin.js"),
            "{helps:?}"
        );
        assert!(componentize_helps("out of memory", bundle).is_empty());
    }

    #[test]
    fn relative_specifiers_start_with_a_dot() {
        assert_eq!(
            relative_specifier(Path::new("/a/b"), Path::new("/a/b/c.ts")),
            "./c.ts"
        );
        assert_eq!(
            relative_specifier(Path::new("/a/b/c"), Path::new("/a/x.ts")),
            "../../x.ts"
        );
    }

    #[test]
    fn the_embedded_sdk_has_its_modules() {
        let mut files = Vec::new();
        collect_files(&SDK, &mut files);
        let paths: Vec<String> = files
            .iter()
            .map(|f| f.path().to_string_lossy().replace('\\', "/"))
            .collect();
        for module in ["index", "export", "kv", "traces", "embeddings"] {
            assert!(
                paths.contains(&format!("src/{module}.ts")),
                "{module} missing from {paths:?}"
            );
        }
        assert!(paths.contains(&"package.json".to_string()), "{paths:?}");
        assert!(!paths.iter().any(|p| p.starts_with("tests/")), "{paths:?}");
    }
}
