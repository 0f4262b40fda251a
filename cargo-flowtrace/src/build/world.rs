//! The world a plugin is built against, synthesised from its manifest: its kind's export
//! and only the host interfaces its capabilities grant. A plugin that calls an undeclared
//! host interface then fails to build in every language, because the bindings its
//! toolchain generates do not have that interface.
//!
//! Rust plugins get the same effect from the SDK's cargo features; the Python and
//! TypeScript drivers write the contract with this world into their build directory and
//! point their toolchain at it.

use std::path::Path;

use anyhow::{Context as _, Result};
use flowtrace_plugins::capability::{
    self, Capability, Grant, CONTRACT_PACKAGE, CONTRACT_VERSION, HOST_INTERFACES,
};
use flowtrace_plugins::manifest::Manifest;

/// The contract, `wit/` of this repository, embedded (see `build.rs`): `(file name, text)`.
pub const CONTRACT_FILES: [(&str, &str); 3] = [
    (
        "types.wit",
        include_str!(concat!(env!("FLOWTRACE_EMBEDDED"), "/wit/types.wit")),
    ),
    (
        "host.wit",
        include_str!(concat!(env!("FLOWTRACE_EMBEDDED"), "/wit/host.wit")),
    ),
    (
        "plugins.wit",
        include_str!(concat!(env!("FLOWTRACE_EMBEDDED"), "/wit/plugins.wit")),
    ),
];

/// The WASI packages at the version the host implements (`cargo-flowtrace/wasi-wit/`): what
/// a world importing `wasi:http` needs beside the contract, in `deps/<name>/`.
pub const WASI_FILES: [(&str, &str); 7] = [
    ("cli", include_str!("../../wasi-wit/cli.wit")),
    ("clocks", include_str!("../../wasi-wit/clocks.wit")),
    ("filesystem", include_str!("../../wasi-wit/filesystem.wit")),
    ("http", include_str!("../../wasi-wit/http.wit")),
    ("io", include_str!("../../wasi-wit/io.wit")),
    ("random", include_str!("../../wasi-wit/random.wit")),
    ("sockets", include_str!("../../wasi-wit/sockets.wit")),
];

/// What a plugin with `network` imports for its outgoing HTTP requests, when its toolchain
/// takes `wasi:http` from the world (Python); at the version of [`WASI_FILES`].
pub const OUTGOING_HANDLER: &str = "wasi:http/outgoing-handler@0.2.12";

/// What the world holds besides the contract's interfaces.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorldOptions {
    /// Import [`OUTGOING_HANDLER`] when the manifest declares `network` (and write the WASI
    /// packages it needs under `deps/`).
    pub wasi_http: bool,
}

/// The name of the synthesised world.
pub const WORLD: &str = "plugin";

/// The file the synthesised world is written to, beside the contract's files.
pub const WORLD_FILE: &str = "build.wit";

/// The host interfaces a manifest grants, in the order they are imported: the contract's
/// table (`HOST_INTERFACES`, which the capability check and the linker read too), without
/// `types`, which the kind's export brings in itself.
pub fn granted_interfaces(manifest: &Manifest) -> Vec<&'static str> {
    capability::granted_interfaces(&manifest.capabilities)
        .into_iter()
        .filter(|interface| *interface != "types")
        .collect()
}

/// Each host interface that only a capability grants, with that capability: `kv` and
/// `storage`, `traces` and `traces`, `embeddings` and `embeddings`.
pub fn gated_interfaces() -> impl Iterator<Item = (&'static str, Capability)> {
    HOST_INTERFACES.iter().filter_map(|i| match i.grant {
        Grant::Capability(capability) => Some((i.name, capability)),
        Grant::Always => None,
    })
}

/// The text of [`WORLD_FILE`]: world [`WORLD`] in the contract's package.
///
/// ```text
/// package flowtrace:plugin@0.1.0;
///
/// world plugin {
///     import log;
///     import config;
///     import kv;
///     export evaluator;
/// }
/// ```
pub fn world_wit(manifest: &Manifest) -> String {
    world_wit_with(manifest, WorldOptions::default())
}

/// [`world_wit`], with `options`.
pub fn world_wit_with(manifest: &Manifest, options: WorldOptions) -> String {
    let mut text = format!(
        "// Written by cargo-flowtrace from flowtrace.toml: the plugin's kind and the host\n\
         // interfaces its capabilities grant. Regenerated on every build.\n\
         package {CONTRACT_PACKAGE}@{CONTRACT_VERSION};\n\nworld {WORLD} {{\n"
    );
    for interface in granted_interfaces(manifest) {
        text.push_str(&format!("    import {interface};\n"));
    }
    if options.wasi_http && manifest.capabilities.has_network() {
        text.push_str(&format!("    import {OUTGOING_HANDLER};\n"));
    }
    text.push_str(&format!("    export {};\n}}\n", manifest.plugin.kind));
    text
}

/// Write the contract and the plugin's world into `dir` (created; files that are already
/// up to date are left alone, so their mtimes do not change).
pub fn write_wit_dir(dir: &Path, manifest: &Manifest) -> Result<()> {
    write_wit_dir_with(dir, manifest, WorldOptions::default())
}

/// [`write_wit_dir`], with `options`.
pub fn write_wit_dir_with(dir: &Path, manifest: &Manifest, options: WorldOptions) -> Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("failed to create directory `{}`", dir.display()))?;
    let world = world_wit_with(manifest, options);
    let deps = dir.join("deps");
    if options.wasi_http && manifest.capabilities.has_network() {
        for (name, text) in WASI_FILES {
            write_if_changed(
                &deps.join(name).join(format!("{name}.wit")),
                text.as_bytes(),
            )?;
        }
    } else if deps.exists() {
        std::fs::remove_dir_all(&deps)
            .with_context(|| format!("failed to remove `{}`", deps.display()))?;
    }
    let files = CONTRACT_FILES
        .iter()
        .map(|&(name, text)| (name, text))
        .chain([(WORLD_FILE, world.as_str())]);
    for (name, text) in files {
        write_if_changed(&dir.join(name), text.as_bytes())?;
    }
    Ok(())
}

/// Write `bytes` to `path` unless it already holds exactly them.
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<bool> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(false);
    }
    super::write_atomically(path, bytes)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowtrace_plugins::manifest::{self, PluginKind};

    fn manifest(kind: PluginKind, caps: &str) -> Manifest {
        let text = format!(
            "[plugin]\nid = \"p\"\nname = \"P\"\nversion = \"0.1.0\"\nkind = \"{kind}\"\n\
             flowtrace = \"^0.1\"\n\n[build]\nlanguage = \"python\"\n\n[capabilities]\n{caps}\n"
        );
        manifest::parse(&text, Path::new("flowtrace.toml")).expect("valid manifest")
    }

    #[test]
    fn the_world_imports_only_what_is_granted() {
        let world = world_wit(&manifest(PluginKind::Evaluator, ""));
        assert!(
            world.contains(
                "world plugin {\n    import log;\n    import config;\n    export evaluator;\n}"
            ),
            "{world}"
        );
        let world = world_wit(&manifest(
            PluginKind::Exporter,
            "storage = true\nembeddings = true",
        ));
        assert!(
            world.contains("    import kv;\n    import embeddings;\n    export exporter;"),
            "{world}"
        );
        assert!(!world.contains("import traces"), "{world}");
    }

    #[test]
    fn a_network_plugin_s_world_imports_wasi_http_and_parses() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = manifest(
            PluginKind::Embedder,
            "network = { hosts = [\"api.example.com\"] }",
        );
        let options = WorldOptions { wasi_http: true };
        write_wit_dir_with(dir.path(), &manifest, options).unwrap();
        let mut resolve = wit_parser::Resolve::default();
        let (package, _) = resolve.push_dir(dir.path()).expect("the WIT parses");
        let world = resolve.select_world(&[package], Some(WORLD)).unwrap();
        let imports: Vec<String> = resolve.worlds[world]
            .imports
            .keys()
            .map(|key| resolve.name_world_key(key))
            .collect();
        assert!(imports.iter().any(|i| i == OUTGOING_HANDLER), "{imports:?}");

        // Without `network` the same options add nothing, and the deps go.
        let manifest = manifest_without_network();
        write_wit_dir_with(dir.path(), &manifest, options).unwrap();
        assert!(!world_wit_with(&manifest, options).contains("wasi:http"));
        assert!(!dir.path().join("deps").exists());
    }

    fn manifest_without_network() -> Manifest {
        manifest(PluginKind::Embedder, "")
    }

    #[test]
    fn the_written_world_parses_with_the_contract() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = manifest(PluginKind::Transformer, "traces = true");
        write_wit_dir(dir.path(), &manifest).unwrap();
        let mut resolve = wit_parser::Resolve::default();
        let (package, _) = resolve.push_dir(dir.path()).expect("the WIT parses");
        let world = resolve
            .select_world(&[package], Some(WORLD))
            .expect("world `plugin` exists");
        let imports: Vec<String> = resolve.worlds[world]
            .imports
            .keys()
            .map(|key| resolve.name_world_key(key))
            .collect();
        assert!(
            imports.iter().any(|i| i == "flowtrace:plugin/traces@0.1.0"),
            "{imports:?}"
        );
        assert!(
            !imports.iter().any(|i| i.ends_with("/kv@0.1.0")),
            "{imports:?}"
        );
    }
}
