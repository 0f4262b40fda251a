//! The dev engine: what `cargo flowtrace test` runs a TypeScript plugin in, so that an edit
//! costs an esbuild run (a few tenths of a second) instead of a componentize-js run and a
//! wasmtime compilation of a new 12 MB component (about 20 s together).
//!
//! The engine is a componentize-js component built from a small module of its own
//! (`engine_source`), not from the plugin: it imports the host interfaces the plugin's
//! capabilities grant (the same world as the plugin's, so the same imports, checked the
//! same way), exports the kind's interface by forwarding each call to the plugin's export,
//! and exports one more interface, `dev-loader`
//! ([`flowtrace_plugins::PRELOAD_INTERFACE`]), whose `load` takes the plugin's bundle
//! (esbuild's CommonJS output: its imports of the host interfaces are `require` calls the
//! engine answers with its own imports) and evaluates it. The runtime
//! calls `load` on every new instance ([`flowtrace_plugins::Preload`]), so each call still
//! starts from a fresh instance; a production host never calls it, and the engine asks the
//! host for nothing it would not ask for anyway.
//!
//! An engine depends only on componentize-js, the contract, the kind and the capabilities:
//! it is built once per `key` and kept in `$FLOWTRACE_HOME/toolchains/node/engines/`, its
//! compiled code beside it (`<key>.cache/`, [`crate::build::DevEngine`]): the first `test`
//! of a plugin of a kind and capabilities that has an engine costs no compilation either.
//! `build`, `install` and `test --release` keep componentize-js's snapshot of the plugin.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use flowtrace_plugins::capability::{CONTRACT_PACKAGE, CONTRACT_VERSION};
use flowtrace_plugins::manifest::{Manifest, PluginKind};
use flowtrace_plugins::PRELOAD_FUNC;
use sha2::{Digest, Sha256};

use super::{staging, toolchain, COMPONENTIZE_SCRIPT};
use crate::build::componentizer;
use crate::build::world::{self, write_if_changed, CONTRACT_FILES, WORLD, WORLD_FILE};
use crate::term::Term;

/// The interface the engine exports beside the kind's (its name in [`flowtrace_plugins::PRELOAD_INTERFACE`]).
const LOADER: &str = "dev-loader";

/// The engine's world: the plugin's ([`world::world_wit`]) and [`LOADER`].
pub(super) fn world_text(manifest: &Manifest) -> String {
    let world = world::world_wit(manifest);
    let (head, _) = world
        .rsplit_once('}')
        .expect("the synthesised world ends with a brace");
    format!(
        "{head}    export {LOADER};\n}}\n\n\
         /// What `cargo flowtrace test` hands the plugin's code to: `load` evaluates the\n\
         /// plugin's bundle in a new instance, before the call.\n\
         interface {LOADER} {{\n    {PRELOAD_FUNC}: func(source: string) -> result<_, string>;\n}}\n"
    )
}

/// The functions of `kind`'s interface, as componentize-js names them (`wit/plugins.wit`).
fn export_functions(kind: PluginKind) -> &'static [&'static str] {
    match kind {
        PluginKind::Evaluator => &["evaluate", "evaluateBatch"],
        PluginKind::Exporter => &["formats", "exportTraces"],
        PluginKind::Embedder => &["dimension", "embed"],
        PluginKind::Transformer => &["transform"],
    }
}

/// The engine's module (see the module's doc).
pub(super) fn engine_source(manifest: &Manifest) -> String {
    let kind = manifest.plugin.kind.as_str();
    let mut text = String::from(
        "// Written by cargo-flowtrace: the dev engine of `cargo flowtrace test` (see\n\
         // cargo-flowtrace's `lang::typescript::engine`).\n",
    );
    let interfaces = world::granted_interfaces(manifest);
    for (i, interface) in interfaces.iter().enumerate() {
        text.push_str(&format!(
            "import * as host{i} from \"{CONTRACT_PACKAGE}/{interface}@{CONTRACT_VERSION}\";\n"
        ));
    }
    text.push_str("\nconst hostModules = {\n");
    for (i, interface) in interfaces.iter().enumerate() {
        text.push_str(&format!(
            "  \"{CONTRACT_PACKAGE}/{interface}@{CONTRACT_VERSION}\": host{i},\n"
        ));
    }
    text.push_str("};\n");
    text.push_str(&format!("const KIND = \"{kind}\";\n"));
    let json = |s: &str| serde_json::to_string(s).expect("a string serialises");
    text.push_str(&format!(
        "const LOG = {};\nconst REPORT_MARKER = {};\n",
        json(&format!("{CONTRACT_PACKAGE}/log@{CONTRACT_VERSION}")),
        json(flowtrace_plugins::failure::REPORT_MARKER)
    ));
    text.push_str(ENGINE_BODY);
    text.push_str(&format!("\nexport const {kind} = {{\n"));
    for function in export_functions(manifest.plugin.kind) {
        text.push_str(&format!(
            "  {function}(...args) {{\n    return loaded().{function}(...args);\n  }},\n"
        ));
    }
    text.push_str("};\n");
    text
}

/// What every engine's module holds besides its imports and forwarders.
const ENGINE_BODY: &str = r#"
// The bundle is evaluated with `eval`: SpiderMonkey names its frames
// `name@engine.js line 40 > eval:12:5`. They are given the name the bundle has in a
// component built from it, `plugin.js`, so the SDK reports them and the host maps them
// back to the TypeScript sources as it does for a built component.
const stackOf = Object.getOwnPropertyDescriptor(Error.prototype, "stack");
if (stackOf && stackOf.get) {
  Object.defineProperty(Error.prototype, "stack", {
    configurable: true,
    get() {
      const stack = stackOf.get.call(this);
      return typeof stack === "string"
        ? stack.replace(/@[^@\n]* line \d+ > eval:(\d+):(\d+)$/gm, "@plugin.js:$1:$2")
        : stack;
    },
    set: stackOf.set,
  });
}

// A build runs the top level of the plugin's modules where there is no host yet
// (componentize-js snapshots the initialised engine): the host's functions refuse to be
// called while the bundle is evaluated here too, so what works in `test` works when built.
let evaluating = false;
const guardedModules = {};

function guarded(name) {
  if (!guardedModules[name]) {
    const module = {};
    for (const [key, value] of Object.entries(hostModules[name])) {
      module[key] =
        typeof value === "function"
          ? function (...args) {
              if (evaluating) {
                throw new Error(
                  `\`${name}\` was called at the top level of a module, where a built plugin ` +
                    "has no host yet: call it from the plugin's methods",
                );
              }
              return value.apply(this, args);
            }
          : value;
    }
    guardedModules[name] = module;
  }
  return guardedModules[name];
}

function require(name) {
  if (Object.prototype.hasOwnProperty.call(hostModules, name)) return guarded(name);
  throw new Error(
    `\`${name}\` is not available to this plugin in \`cargo flowtrace test\`: ` +
      "import the host interfaces through `@flowtrace/plugin-sdk`",
  );
}

let plugin = null;

function loaded() {
  if (plugin === null) {
    throw new Error(
      "this component is the dev engine of `cargo flowtrace test`, not a plugin: " +
        "install the component `cargo flowtrace build --release` makes",
    );
  }
  return plugin;
}

export const devLoader = {
  load(source) {
    try {
      const module = { exports: {} };
      // The wrapper's head is on the bundle's first line, which is esbuild's own code:
      // every other line of the bundle keeps its number and columns.
      const run = (0, eval)("(function (require, module, exports) {" + source + "\n})");
      evaluating = true;
      try {
        run(require, module, module.exports);
      } finally {
        evaluating = false;
      }
      const exported = module.exports[KIND];
      if (typeof exported !== "object" || exported === null) {
        return { tag: "err", val: `the bundle exports no \`${KIND}\`` };
      }
      plugin = exported;
      return { tag: "ok", val: undefined };
    } catch (error) {
      // Reported to the host as the SDK reports an exception (`bridge.ts`): the host maps
      // the frames to the plugin's sources.
      const isError = error instanceof Error;
      const message = isError ? error.message : String(error);
      const frames = isError && typeof error.stack === "string"
        ? error.stack.split("\n").map((l) => l.trim()).filter((l) => /@plugin\.js:\d+:\d+$/.test(l))
        : [];
      const summary = `the plugin's module failed while it was evaluated: ${message}`;
      hostModules[LOG].log(
        "error",
        REPORT_MARKER +
          JSON.stringify({
            summary,
            exception: isError ? error.name : "a value thrown by the module",
            message,
            location: frames[0] ?? null,
            backtrace: frames,
            "stack-overflow": isError && error.name === "InternalError" && /too much recursion/.test(message),
          }),
      );
      return { tag: "err", val: summary };
    }
  },
};
"#;

/// The engine of `manifest`'s kind and capabilities, built with `disabled` (the
/// componentize-js `-d` flags) by componentize-js 0.23.0: a hash of everything it is made
/// from.
pub(super) fn key(manifest: &Manifest, disabled: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in [
        toolchain::COMPONENTIZE_JS_VERSION,
        COMPONENTIZE_SCRIPT,
        &engine_source(manifest),
        &world_text(manifest),
        &disabled.join(" "),
    ] {
        hasher.update(part.as_bytes());
        hasher.update(b"\0");
    }
    for (name, text) in CONTRACT_FILES {
        hasher.update(name.as_bytes());
        hasher.update(b"\0");
        hasher.update(text.as_bytes());
        hasher.update(b"\0");
    }
    hex::encode(hasher.finalize())
}

/// Where the engines are kept.
pub fn engines_dir(home: &Path) -> PathBuf {
    toolchain::node_dir(home).join("engines")
}

/// The engine for `manifest` (see [`key`]), built first when there is none; `work` is the
/// plugin's build directory (the engine's WIT is written under it).
pub(super) fn ensure(
    term: &Term,
    tools: &toolchain::NodeTools,
    home: &Path,
    manifest: &Manifest,
    work: &Path,
) -> Result<PathBuf> {
    let disabled = super::disabled_features(manifest);
    let dir = engines_dir(home);
    let path = dir.join(format!("{}.wasm", key(manifest, &disabled)));
    if path.is_file() {
        term.verbose_status(
            "Reusing",
            format_args!("the dev engine `{}`", path.display()),
        );
        return Ok(path);
    }
    let wit = work.join("engine").join("wit");
    world::write_wit_dir(&wit, manifest)?;
    write_if_changed(&wit.join(WORLD_FILE), world_text(manifest).as_bytes())?;
    // One build at a time in the staging directory; another may have made it meanwhile.
    let staging = staging::Staging::lock(term)?;
    if path.is_file() {
        return Ok(path);
    }
    term.status(
        "Building",
        format_args!(
            "the dev engine for {} plugins with these capabilities (componentize-js {}; \
             once, kept in `{}`)",
            manifest.plugin.kind,
            toolchain::COMPONENTIZE_JS_VERSION,
            dir.display()
        ),
    );
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("failed to create directory `{}`", dir.display()))?;
    let source = staging.build.join("engine.js");
    std::fs::write(&source, engine_source(manifest))
        .with_context(|| format!("failed to write `{}`", source.display()))?;
    write_if_changed(&staging.script, COMPONENTIZE_SCRIPT.as_bytes())?;
    let built = tempfile::Builder::new()
        .suffix(".wasm")
        .tempfile_in(&dir)
        .with_context(|| format!("failed to create a file in `{}`", dir.display()))?;
    let mut command = staging.componentize_command(&tools.componentize_js_package);
    command
        .arg(&source)
        .arg(&wit)
        .arg(WORLD)
        .arg(built.path())
        .args(&disabled);
    staging.hand_lock_to(&mut command);
    componentizer::componentize(
        term,
        command,
        manifest.plugin.id.as_str(),
        "componentize-js",
        |run| super::failure::explain(run, term.is_verbose(), &source),
    )?;
    drop(staging);
    built
        .persist(&path)
        .with_context(|| format!("failed to write `{}`", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::tests::manifest_with;
    use flowtrace_plugins::manifest::Language;

    /// The forwarders name every function of every kind's interface in the contract.
    #[test]
    fn the_engine_forwards_every_function_of_the_kind() {
        let (_, plugins) = CONTRACT_FILES
            .iter()
            .find(|(name, _)| *name == "plugins.wit")
            .unwrap();
        for kind in PluginKind::ALL {
            let body = plugins
                .split(&format!("interface {} {{", kind.as_str()))
                .nth(1)
                .unwrap()
                .split("\n}")
                .next()
                .unwrap();
            let mut in_wit: Vec<String> = body
                .lines()
                .filter_map(|l| l.trim().split_once(": func("))
                .map(|(name, _)| {
                    let mut parts = name.split('-');
                    let first = parts.next().unwrap().to_string();
                    first + &parts.map(crate::lang::capitalised).collect::<String>()
                })
                .collect();
            in_wit.sort();
            let mut forwarded: Vec<String> = export_functions(kind)
                .iter()
                .map(ToString::to_string)
                .collect();
            forwarded.sort();
            assert_eq!(forwarded, in_wit, "{kind}");
        }
    }

    #[test]
    fn the_engine_imports_the_granted_interfaces_and_exports_the_loader() {
        let manifest = manifest_with(Language::TypeScript, "storage = true");
        let source = engine_source(&manifest);
        for interface in ["log", "config", "kv"] {
            assert!(
                source.contains(&format!("from \"flowtrace:plugin/{interface}@0.1.0\";")),
                "{source}"
            );
        }
        assert!(!source.contains("traces@"), "{source}");
        let world = world_text(&manifest);
        assert!(world.contains("    import kv;\n"), "{world}");
        assert!(world.contains("    export dev-loader;\n}"), "{world}");
        assert_eq!(
            flowtrace_plugins::PRELOAD_INTERFACE,
            format!("{CONTRACT_PACKAGE}/{LOADER}@{CONTRACT_VERSION}")
        );
    }

    #[test]
    fn engines_differ_by_capabilities_not_by_plugin() {
        let disabled = ["-d", "stdio"];
        let plain = manifest_with(Language::TypeScript, "");
        let storage = manifest_with(Language::TypeScript, "storage = true");
        assert_ne!(key(&plain, &disabled), key(&storage, &disabled));
        let mut other = plain.clone();
        other.plugin.id = flowtrace_plugins::manifest::PluginId::parse("other").unwrap();
        assert_eq!(key(&plain, &disabled), key(&other, &disabled));
    }
}
