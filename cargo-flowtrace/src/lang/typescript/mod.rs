//! The TypeScript driver: esbuild bundles the plugin's entry (TypeScript or JavaScript),
//! its own modules, its npm dependencies and the TypeScript SDK (`@flowtrace/plugin-sdk`,
//! embedded in this binary) into one ES module; componentize-js turns that module into a
//! component of the world synthesised from the manifest.
//!
//! Everything it writes is under `<plugin>/target/flowtrace/typescript/`:
//!
//! | path | what |
//! |---|---|
//! | `wit/` | the contract and `build.wit`, the plugin's world ([`crate::build::world`]) |
//! | `sdk/` | the SDK (`sdk/src/index.ts`, ...): what the bundle uses, and what the template's `tsconfig.json` points editors at |
//! | `bundle.mjs` | the script that runs esbuild (its JavaScript API, for the resolver plugin that gates capabilities) |
//! | `entry.js` | the module esbuild bundles: imports the plugin's export and hands it to the SDK's bridge |
//! | `plugin.js` | the bundle componentize-js builds |
//! | `plugin.js.map` | its source map, embedded in the component with paths relative to the plugin (`source_map`) |
//! | `stamp.json` | what the last build was made from, so an unchanged plugin is not rebuilt |
//! | `plugin-dev.js`, `.map` | the bundle `test` hands to the dev engine, as CommonJS ([`engine`]) |
//! | `engine/wit/` | the dev engine's world: the plugin's and its loader ([`engine`]) |
//!
//! Capabilities are checked while bundling: an import of `@flowtrace/plugin-sdk/kv` (or of
//! `flowtrace:plugin/kv@0.1.0` itself) in a plugin that does not declare `storage = true`
//! is an esbuild error at that import, with the manifest line to add as a help.
//!
//! After bundling, the plugin is type-checked with `tsc --noEmit` and its tsconfig.json
//! (TypeScript is installed with esbuild and componentize-js); `--no-typecheck` skips it.
//!
//! componentize-js runs with `-d fetch-event` (a plugin serves no HTTP) and `-d stdio`
//! always, and `-d http` unless the manifest declares `network` (`fetch` needs `http`
//! alone). Without `stdio` the component imports no stdin, stdout, terminal or filesystem
//! interfaces, and `console.log` writes nothing: the SDK's export bridge routes `console`
//! to the plugin log instead, at each method's level. `random` and `clocks` stay, or
//! `Math.random()` and `Date.now()` would trap.

mod bundle;
pub mod engine;
mod failure;
mod source_map;
mod staging;
pub mod toolchain;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, Result};
use flowtrace_plugins::manifest::{Manifest, PluginKind};
use include_dir::{include_dir, Dir};

use super::{capitalised, Build, Driver, Sdk};
use crate::build::componentizer::{self, component_file};
use crate::build::sources::{self, Entry, SourceSet};
use crate::build::world::{self, write_if_changed};
use crate::build::{Made, Source};
use crate::error::ResultExt;
use crate::term::Term;
use crate::toolchain::process::{display, run_logged};
use crate::toolchain::{lock_toolchains, Check};
use toolchain::NodeTool;

/// The TypeScript SDK, `sdk/typescript` of this repository (see `build.rs`).
static SDK: Dir<'static> = include_dir!("$FLOWTRACE_EMBEDDED/sdk-typescript");

/// The script that runs esbuild.
const BUNDLE_SCRIPT: &str = include_str!("bundle.mjs");

/// The script that runs componentize-js ([`staging`]).
const COMPONENTIZE_SCRIPT: &str = include_str!("componentize.mjs");

/// The SDK's package name.
pub const SDK_PACKAGE: &str = "@flowtrace/plugin-sdk";

/// The SDK's version (`sdk/typescript/package.json`).
pub const SDK_VERSION: &str = env!("FLOWTRACE_TYPESCRIPT_SDK_VERSION");

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

/// The TypeScript driver.
pub(crate) struct TypeScript;

impl Driver for TypeScript {
    fn sdk(&self) -> Sdk {
        Sdk {
            package: SDK_PACKAGE,
            version: SDK_VERSION,
        }
    }

    fn checks(&self, home: &Path) -> Vec<Check> {
        let node = toolchain::check_node();
        let npm = toolchain::check_npm();
        let node_ok = node.is_ok() && npm.is_ok();
        let tools = NodeTool::ALL.map(|tool| tool.check(home, node_ok));
        [node, npm].into_iter().chain(tools).collect()
    }

    /// Install `tool` (with the other node tools, in one npm run), unless it is there.
    fn install(&self, term: &Term, home: &Path, tool: &str) -> Result<()> {
        let _lock = lock_toolchains(term, home)?;
        let tool = NodeTool::ALL
            .into_iter()
            .find(|t| t.name() == tool)
            .expect("a tool of the TypeScript checks");
        if !tool.is_installed(home) {
            toolchain::install_tools(term, home, &[tool])?;
        }
        Ok(())
    }

    fn sources(&self) -> Option<&'static SourceSet<'static>> {
        Some(&SOURCES)
    }

    fn has_dev_engine(&self) -> bool {
        true
    }

    /// What shaped a TypeScript component besides its sources: the embedded SDK and bundle
    /// script, componentize-js and esbuild.
    fn stamped_toolchain(&self) -> BTreeMap<String, String> {
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

    fn plan<'a>(&self, term: &Term, source: &'a Source<'a>) -> Result<Box<dyn Build + 'a>> {
        let kind = source.manifest.plugin.kind;
        let entry = sources::find_entry(
            source.root,
            source.manifest,
            &format!("exporting the plugin as `{kind}`"),
        )?;
        let work = source.work_dir();
        // Before the sources are hashed: npm's record of what it installed is one of them.
        npm_install(term, source.root)?;
        // Also when nothing is rebuilt: editors and `tsc` read this copy.
        write_sdk(&work.join("sdk"))?;
        Ok(Box::new(TypeScriptBuild {
            source,
            work,
            entry,
            tools: None,
        }))
    }
}

/// One build of a TypeScript plugin.
struct TypeScriptBuild<'a> {
    source: &'a Source<'a>,
    work: std::path::PathBuf,
    entry: Entry,
    /// componentize-js and esbuild, once [`Build::toolchain`] made them ready.
    tools: Option<toolchain::NodeTools>,
}

impl Build for TypeScriptBuild<'_> {
    fn toolchain(&mut self, term: &Term) -> Result<String> {
        let home = crate::context::flowtrace_home()?;
        self.tools = Some(toolchain::ensure_node_tools(term, &home)?);
        if self.source.dev_engine {
            return Ok(format!(
                "esbuild {}, into the dev engine",
                toolchain::ESBUILD_VERSION
            ));
        }
        Ok(format!(
            "esbuild {}, componentize-js {}",
            toolchain::ESBUILD_VERSION,
            toolchain::COMPONENTIZE_JS_VERSION
        ))
    }

    fn compile(&mut self, term: &Term) -> Result<Made> {
        let (source, work) = (self.source, &self.work);
        let manifest = source.manifest;
        let tools = self.tools.as_ref().expect("the toolchain is ready");
        world::write_wit_dir(&work.join("wit"), manifest)?;
        let script = work.join("bundle.mjs");
        write_if_changed(&script, BUNDLE_SCRIPT.as_bytes())?;
        let entry_module = work.join("entry.js");
        write_if_changed(
            &entry_module,
            entry_source(work, &self.entry.path, manifest.plugin.kind).as_bytes(),
        )?;

        if source.dev_engine {
            return self.compile_dev(term, &entry_module);
        }
        let bundle = work.join("plugin.js");
        bundle::run_bundler(
            term,
            &tools.esbuild,
            &bundle::Bundle {
                script: &script,
                root: source.root,
                entry: &self.entry,
                entry_module: &entry_module,
                bundle: &bundle,
                sdk: &work.join("sdk").join("src"),
                manifest,
                format: "esm",
            },
        )?;
        tracing::debug!(elapsed = ?source.started.elapsed(), "esbuild finished");
        // After esbuild, whose errors (syntax, unresolved imports, undeclared capabilities)
        // name the line and the fix; before componentize-js, the slow step.
        if source.typecheck {
            typecheck(term, &tools.tsc, source.root)?;
        }

        let built = component_file(work)?;
        // componentize-js bakes the directory it runs in (and its scratch directory) into
        // the component: it runs in the fixed staging directory, on a copy of the bundle.
        let staging = staging::Staging::lock(term)?;
        let staged = staging.build.join("plugin.js");
        std::fs::copy(&bundle, &staged)
            .with_context(|| format!("failed to copy the bundle to `{}`", staged.display()))?;
        write_if_changed(&staging.script, COMPONENTIZE_SCRIPT.as_bytes())?;
        let mut command = staging.componentize_command(&tools.componentize_js_package);
        command
            .arg(&staged)
            .arg(work.join("wit"))
            .arg(world::WORLD)
            .arg(built.path())
            .args(disabled_features(manifest));
        staging.hand_lock_to(&mut command);
        componentizer::componentize(term, command, source.id(), "componentize-js", |run| {
            failure::explain(run, term.is_verbose(), &bundle)
        })?;
        drop(staging);
        tracing::debug!(elapsed = ?source.started.elapsed(), "componentize-js finished");
        source_map::embed(work, source.root, built.path())?;
        Ok(Made::Written(built))
    }
}

impl TypeScriptBuild<'_> {
    /// The dev build of `cargo flowtrace test` ([`engine`]): the plugin bundled as CommonJS
    /// (`plugin-dev.js`), type-checked, and handed to the engine of its kind and
    /// capabilities, built first if there is none yet.
    fn compile_dev(&mut self, term: &Term, entry_module: &Path) -> Result<Made> {
        let (source, work) = (self.source, &self.work);
        let tools = self.tools.as_ref().expect("the toolchain is ready");
        let bundle = work.join(DEV_BUNDLE);
        bundle::run_bundler(
            term,
            &tools.esbuild,
            &bundle::Bundle {
                script: &work.join("bundle.mjs"),
                root: source.root,
                entry: &self.entry,
                entry_module,
                bundle: &bundle,
                sdk: &work.join("sdk").join("src"),
                manifest: source.manifest,
                format: "cjs",
            },
        )?;
        tracing::debug!(elapsed = ?source.started.elapsed(), "esbuild finished");
        if source.typecheck {
            typecheck(term, &tools.tsc, source.root)?;
        }
        let code = std::fs::read_to_string(&bundle)
            .with_context(|| format!("failed to read `{}`", bundle.display()))?;
        let map =
            source_map::portable_file(work, source.root, &work.join(format!("{DEV_BUNDLE}.map")))?;
        let home = crate::context::flowtrace_home()?;
        let engine = engine::ensure(term, tools, &home, source.manifest, work)?;
        tracing::debug!(elapsed = ?source.started.elapsed(), "dev engine ready");
        Ok(Made::Engine {
            engine,
            preload: flowtrace_plugins::Preload {
                source: code.into(),
                source_map: Some(map.into()),
            },
        })
    }
}

/// The bundle of a dev build, in the build directory.
const DEV_BUNDLE: &str = "plugin-dev.js";

/// `tsc --noEmit -p tsconfig.json` in the plugin's directory, with the managed TypeScript
/// (the SDK it resolves through `paths` is written by then). No tsconfig.json: nothing to
/// check against, said under `-v`. Type errors fail the build with tsc's own diagnostics.
fn typecheck(term: &Term, tsc: &Path, root: &Path) -> Result<()> {
    let config = root.join("tsconfig.json");
    if !config.is_file() {
        term.verbose_status("Skipping", "type-checking: the plugin has no tsconfig.json");
        return Ok(());
    }
    let mut command = Command::new(tsc);
    command
        .current_dir(root)
        .args(["--noEmit", "--pretty", "false", "-p", "tsconfig.json"]);
    let shown = display(&command);
    term.status(
        "Checking",
        format_args!("types (TypeScript {})", toolchain::TYPESCRIPT_VERSION),
    );
    term.verbose_status("Running", format_args!("`{shown}`"));
    let output = command
        .stdin(std::process::Stdio::null())
        .output()
        .with_context(|| format!("failed to run `{shown}`"))?;
    if output.status.success() {
        return Ok(());
    }
    // tsc prints its diagnostics on stdout: `src/index.ts(3,7): error TS2322: ...`.
    let text = String::from_utf8_lossy(&output.stdout);
    let text = if text.trim().is_empty() {
        String::from_utf8_lossy(&output.stderr)
    } else {
        text
    };
    let diagnostics: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let errors = diagnostics
        .iter()
        .filter(|l| l.contains(": error TS"))
        .count();
    for line in &diagnostics {
        term.stderr_line(crate::term::sanitize(line));
    }
    Err(anyhow::anyhow!(
        "the plugin does not type-check: {}",
        match errors {
            0 => format!("`{shown}` failed ({})", output.status),
            1 => "1 type error".to_string(),
            n => format!("{n} type errors"),
        }
    ))
    .help(
        "fix the types tsc names above (editors show them with the same tsconfig.json), or \
         build without type-checking: `--no-typecheck`",
    )
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

/// The module esbuild bundles: the plugin's export, through the SDK's bridge for the kind
/// (`exportEvaluator`), under the name componentize-js looks for (`evaluator` for
/// `flowtrace:plugin/evaluator@0.1.0`).
fn entry_source(work: &Path, entry: &Path, kind: PluginKind) -> String {
    let bridge = format!("export{}", capitalised(kind.as_str()));
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

/// SHA-256 of the embedded SDK and bundle script.
fn sdk_hash() -> String {
    sources::embedded_hash(BUNDLE_SCRIPT.as_bytes(), &sdk_files())
}

/// The SDK's files that the build writes, in path order.
fn sdk_files() -> Vec<&'static include_dir::File<'static>> {
    sources::embedded_files(&SDK, &|path| {
        SDK_PARTS
            .iter()
            .any(|part| path.starts_with(part) || path == Path::new(part))
    })
}

/// Write the embedded SDK to `dir` (its `src/` and package files), replacing what is there
/// when it differs.
fn write_sdk(dir: &Path) -> Result<()> {
    sources::write_embedded(dir, &sdk_files())
}

/// `npm install` in the plugin's directory when its `package.json` lists `dependencies`
/// and there is no `node_modules` yet: esbuild bundles them from there. (Later changes are
/// the author's to install, as with any npm project; an import esbuild cannot resolve
/// gets the command as a help.)
fn npm_install(term: &Term, root: &Path) -> Result<()> {
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
    run_logged(
        term,
        "Installing",
        &format!("{count} npm package(s) of the plugin (`npm install`)"),
        command,
    )
    .with_help(|| format!("run `{shown}` and fix what it reports"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::tests::manifest_with;
    use flowtrace_plugins::manifest::Language;

    #[test]
    fn http_is_kept_only_for_network_plugins() {
        assert_eq!(
            disabled_features(&manifest_with(Language::TypeScript, "")),
            ["-d", "fetch-event", "-d", "stdio", "-d", "http"]
        );
        let network = manifest_with(
            Language::TypeScript,
            "network = { hosts = [\"api.example.com\"] }",
        );
        assert_eq!(
            disabled_features(&network),
            ["-d", "fetch-event", "-d", "stdio"]
        );
        let empty = manifest_with(Language::TypeScript, "network = { hosts = [] }");
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

    /// The TypeScript `build` checks with is the one `npm run typecheck` gets from the
    /// templates' `devDependencies`: one version.
    #[test]
    fn the_templates_type_check_with_the_managed_typescript() {
        let templates = crate::templates::all().unwrap();
        let typescript: Vec<_> = templates
            .iter()
            .filter(|t| t.language == Language::TypeScript)
            .collect();
        assert_eq!(typescript.len(), 4);
        for template in typescript {
            let files = template.render(&crate::templates::tests::vars()).unwrap();
            let package = files
                .iter()
                .find(|f| f.path == Path::new("package.json"))
                .unwrap();
            let json: serde_json::Value = serde_json::from_slice(&package.contents).unwrap();
            assert_eq!(
                json["devDependencies"]["typescript"],
                format!("^{}", toolchain::TYPESCRIPT_VERSION),
                "{}",
                template.name
            );
            assert!(
                files.iter().any(|f| f.path == Path::new("tsconfig.json")),
                "{}",
                template.name
            );
        }
    }

    #[test]
    fn the_embedded_sdk_has_its_modules() {
        let paths: Vec<String> = sdk_files()
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
