//! The bundle's source map, embedded in the component (the runtime's
//! `failure::SOURCE_MAP_SECTION`) so that the host can map a JavaScript stack back to the
//! TypeScript sources. esbuild names each source relative to the bundle's directory; they are
//! renamed relative to the plugin's directory (`src/index.ts`), the SDK's as
//! `@flowtrace/plugin-sdk/<file>`, anything else by its file name: the component names no
//! path of the machine that built it.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context as _, Result};
use flowtrace_plugins::failure::source_map_section;

/// Rewrite `<work>/plugin.js.map` for the plugin at `root` and append it to the component
/// at `component`.
pub(super) fn embed(work: &Path, root: &Path, component: &Path) -> Result<()> {
    let path = work.join("plugin.js.map");
    let text = std::fs::read(&path)
        .with_context(|| format!("failed to read the source map `{}`", path.display()))?;
    let map = portable(&text, work, root)
        .with_context(|| format!("`{}` is not a source map esbuild writes", path.display()))?;
    let mut file = OpenOptions::new()
        .append(true)
        .open(component)
        .with_context(|| format!("failed to open `{}`", component.display()))?;
    file.write_all(&source_map_section(&map))
        .with_context(|| format!("failed to write `{}`", component.display()))
}

/// The source map at `path` (written by esbuild into `work`) rewritten for the plugin at
/// `root`, as [`embed`] embeds it.
pub(super) fn portable_file(work: &Path, root: &Path, path: &Path) -> Result<Vec<u8>> {
    let text = std::fs::read(path)
        .with_context(|| format!("failed to read the source map `{}`", path.display()))?;
    portable(&text, work, root)
        .with_context(|| format!("`{}` is not a source map esbuild writes", path.display()))
}

/// The source map `text` with its `sources` renamed (see the module's doc) and no
/// `sourceRoot`.
fn portable(text: &[u8], work: &Path, root: &Path) -> Result<Vec<u8>> {
    let mut map: serde_json::Value = serde_json::from_slice(text)?;
    let object = map.as_object_mut().context("not a JSON object")?;
    object.remove("sourceRoot");
    let sources = object
        .get_mut("sources")
        .and_then(|s| s.as_array_mut())
        .context("no `sources` list")?;
    let sdk = work.join("sdk").join("src");
    for source in sources.iter_mut() {
        let Some(name) = source.as_str() else {
            continue;
        };
        *source = serde_json::Value::String(shown(&lexical(&work.join(name)), &sdk, root));
    }
    Ok(serde_json::to_vec(&map)?)
}

/// How a source is named in the component.
fn shown(path: &Path, sdk: &Path, root: &Path) -> String {
    let slashed = |p: &Path| {
        p.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    };
    if let Ok(rest) = path.strip_prefix(lexical(sdk)) {
        return format!("@flowtrace/plugin-sdk/{}", slashed(rest));
    }
    if let Ok(rest) = path.strip_prefix(lexical(root)) {
        return slashed(rest);
    }
    path.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// `path` with `.` and `..` resolved without touching the filesystem.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_named_relative_to_the_plugin_never_by_a_machine_path() {
        let root = Path::new("/home/someone/my-plugin");
        let work = root.join("target/flowtrace/typescript");
        let text = br#"{"version":3,"sourceRoot":"/home/someone","sources":["../../../src/index.ts","sdk/src/bridge.ts","../../../node_modules/lib/index.js","../../../../elsewhere/x.ts"],"names":[],"mappings":""}"#;
        let map: serde_json::Value =
            serde_json::from_slice(&portable(text, &work, root).unwrap()).unwrap();
        assert_eq!(
            map["sources"],
            serde_json::json!([
                "src/index.ts",
                "@flowtrace/plugin-sdk/bridge.ts",
                "node_modules/lib/index.js",
                "x.ts"
            ])
        );
        assert!(map.get("sourceRoot").is_none());
        assert!(!map.to_string().contains("someone"));
    }
}
