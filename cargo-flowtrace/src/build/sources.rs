//! What the drivers that keep their own build directory share (the componentizers of
//! Python and TypeScript): finding the plugin's entry file, hashing its sources for the
//! staleness stamp, reusing a component a stamp vouches for, and writing an embedded SDK
//! into the build directory.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _, Result};
use flowtrace_plugins::manifest::Manifest;
use sha2::{Digest, Sha256};

use super::{inspect_built, Prepared};
use crate::error::ResultExt;

/// The plugin's entry file (`[build] entry`, else the language's default).
pub(crate) struct Entry {
    /// Absolute.
    pub path: PathBuf,
    /// As the manifest names it, e.g. `src/index.ts`.
    pub shown: String,
}

/// The entry file of the plugin at `root`; when it is missing, the error says to create it
/// with `content` (`with the plugin class`) or to name another.
pub(crate) fn find_entry(root: &Path, manifest: &Manifest, content: &str) -> Result<Entry> {
    let language = manifest.build.language;
    let entry = manifest
        .build
        .entry_or_default()
        .expect("a language built from an entry file has a default entry");
    let path = root.join(entry);
    if !path.is_file() {
        let how = match manifest.build.entry {
            Some(_) => "or change `entry` under `[build]` in flowtrace.toml".to_string(),
            None => format!(
                "or name your module under `[build]` in flowtrace.toml: `entry = \
                 \"src/plugin.{}\"`",
                language.entry_extensions()[0]
            ),
        };
        return Err(anyhow!(
            "the plugin's entry module `{entry}` does not exist in `{}`",
            root.display()
        ))
        .help(format!("create `{entry}` {content}, {how}"));
    }
    Ok(Entry {
        path,
        shown: entry.to_string(),
    })
}

/// The files of an embedded directory that `keep` keeps (a directory it does not keep is
/// skipped whole), in path order.
pub(crate) fn embedded_files<'a>(
    dir: &'a include_dir::Dir<'a>,
    keep: &dyn Fn(&Path) -> bool,
) -> Vec<&'a include_dir::File<'a>> {
    fn collect<'a>(
        dir: &'a include_dir::Dir<'a>,
        keep: &dyn Fn(&Path) -> bool,
        out: &mut Vec<&'a include_dir::File<'a>>,
    ) {
        out.extend(dir.files().filter(|file| keep(file.path())));
        for sub in dir.dirs().filter(|sub| keep(sub.path())) {
            collect(sub, keep, out);
        }
    }
    let mut files = Vec::new();
    collect(dir, keep, &mut files);
    files.sort_by(|a, b| a.path().cmp(b.path()));
    files
}

/// SHA-256 of `extra` and the embedded `files` (their paths and contents), for a stamp: a
/// change to what the binary embeds (an SDK) rebuilds plugins even when this tool's
/// version did not change.
pub(crate) fn embedded_hash(extra: &[u8], files: &[&include_dir::File<'_>]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(extra);
    for file in files {
        hasher.update(b"\0file\0");
        hasher.update(file.path().to_string_lossy().as_bytes());
        hasher.update(b"\0");
        hasher.update(file.contents());
    }
    hex::encode(hasher.finalize())
}

/// Which files of a plugin are its sources.
pub(crate) struct SourceSet<'a> {
    /// Directories at the plugin's root that never hold sources (`target`, `tests`).
    pub skip_at_root: &'a [&'a str],
    /// Directories skipped at any depth (`__pycache__`, `node_modules`).
    pub skip_anywhere: &'a [&'a str],
    /// Files hashed even inside a skipped directory, relative to the root, when they exist
    /// (npm's `node_modules/.package-lock.json`).
    pub also: &'a [&'a str],
}

/// SHA-256 over the manifest, `extra` (what else the build depends on, e.g. a dependency
/// list) and every source file of `set` under `root`, path and content. Hidden files and
/// directories are never sources.
pub(crate) fn hash_sources(
    root: &Path,
    manifest: &str,
    extra: &[u8],
    set: &SourceSet<'_>,
) -> Result<String> {
    let mut files = BTreeMap::new();
    collect_sources(root, root, set, &mut files)?;
    for relative in set.also {
        let path = root.join(relative);
        if path.is_file() {
            files.insert((*relative).to_string(), path);
        }
    }
    let mut hasher = Sha256::new();
    hasher.update(b"manifest\0");
    hasher.update(manifest.as_bytes());
    hasher.update(b"\0extra\0");
    hasher.update((extra.len() as u64).to_le_bytes());
    hasher.update(extra);
    let mut buffer = Vec::new();
    for (relative, path) in files {
        buffer.clear();
        std::fs::File::open(&path)
            .and_then(|mut f| f.read_to_end(&mut buffer))
            .with_context(|| format!("failed to read `{}`", path.display()))?;
        hasher.update(b"\0file\0");
        hasher.update(relative.as_bytes());
        hasher.update(b"\0");
        hasher.update((buffer.len() as u64).to_le_bytes());
        hasher.update(&buffer);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The paths, relative to `root` with `/` separators, of the source files of `set` under
/// `root` (as [`hash_sources`] reads them), sorted.
pub(crate) fn source_files(root: &Path, set: &SourceSet<'_>) -> Result<Vec<String>> {
    let mut files = BTreeMap::new();
    collect_sources(root, root, set, &mut files)?;
    Ok(files.into_keys().collect())
}

fn collect_sources(
    root: &Path,
    dir: &Path,
    set: &SourceSet<'_>,
    out: &mut BTreeMap<String, PathBuf>,
) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("failed to read `{}`", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("failed to read `{}`", dir.display()))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let file_type = entry
            .file_type()
            .with_context(|| format!("failed to read `{}`", path.display()))?;
        if file_type.is_dir() || (file_type.is_symlink() && path.is_dir()) {
            let skipped = (dir == root && set.skip_at_root.contains(&name.as_ref()))
                || set.skip_anywhere.contains(&name.as_ref());
            if !skipped {
                collect_sources(root, &path, set, out)?;
            }
        } else if file_type.is_file() || (file_type.is_symlink() && path.is_file()) {
            let relative = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            out.insert(relative, path);
        }
    }
    Ok(())
}

/// What a Python or TypeScript build was made from (`stamp.json` in its build directory);
/// equal stamps mean the component is up to date.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Stamp {
    /// This tool's version (the embedded SDKs and entry modules come with it).
    tool: String,
    /// The toolchain and what else shaped the component: name -> version or hash.
    toolchain: BTreeMap<String, String>,
    /// [`hash_sources`] of the plugin.
    inputs: String,
    /// SHA-256 of the component written from them.
    component: String,
}

/// The component at `output`, when `stamp_path` says it was built by this tool with
/// `toolchain` from `inputs`, and the file is still the one written then.
pub(crate) fn stamped_component(
    stamp_path: &Path,
    toolchain: &BTreeMap<String, String>,
    inputs: &str,
    output: &Path,
    target_dir: &Path,
) -> Option<Prepared> {
    let stamp: Stamp = serde_json::from_slice(&std::fs::read(stamp_path).ok()?).ok()?;
    let current = stamp.tool == env!("CARGO_PKG_VERSION")
        && stamp.toolchain == *toolchain
        && stamp.inputs == inputs;
    if !current {
        return None;
    }
    fresh_component(output, target_dir, &stamp.component)
}

/// Record that the component with hash `component` was built with `toolchain` from
/// `inputs`. Written before the component is renamed into place: the stamp names the
/// component's hash, so it never makes a different (older, or unwritten) one look fresh.
pub(crate) fn write_stamp(
    stamp_path: &Path,
    toolchain: BTreeMap<String, String>,
    inputs: String,
    component: String,
) -> Result<()> {
    let stamp = Stamp {
        tool: env!("CARGO_PKG_VERSION").to_string(),
        toolchain,
        inputs,
        component,
    };
    let json = serde_json::to_vec_pretty(&stamp).expect("a stamp serialises");
    super::write_atomically(stamp_path, &json)
}

/// The component at `output`, when it is still the one whose hash a stamp recorded.
fn fresh_component(output: &Path, target_dir: &Path, sha256: &str) -> Option<Prepared> {
    let bytes = std::fs::read(output).ok()?;
    let inspection = inspect_built(&bytes, output).ok()?;
    (inspection.sha256 == sha256).then(|| Prepared {
        bytes,
        inspection,
        staged: None,
        target_dir: target_dir.to_path_buf(),
        output: output.to_path_buf(),
    })
}

/// Write `files` (embedded, paths relative to `dir`) into `dir`, replacing its content
/// when it differs in any way (a file changed, missing or extra); left alone otherwise, so
/// that mtimes do not move. `__pycache__` directories do not count.
pub(crate) fn write_embedded(dir: &Path, files: &[&include_dir::File<'_>]) -> Result<()> {
    let unchanged = files
        .iter()
        .all(|file| std::fs::read(dir.join(file.path())).is_ok_and(|old| old == file.contents()))
        && count_files(dir) == files.len();
    if unchanged {
        return Ok(());
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir)
            .with_context(|| format!("failed to remove `{}`", dir.display()))?;
    }
    for file in files {
        let path = dir.join(file.path());
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("failed to create directory `{}`", parent.display()))?;
        }
        std::fs::write(&path, file.contents())
            .with_context(|| format!("failed to write `{}`", path.display()))?;
    }
    Ok(())
}

/// Files under `dir`, recursively, `__pycache__` aside (0 when it does not exist).
fn count_files(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| {
            let path = entry.path();
            if entry.file_name() == "__pycache__" {
                0
            } else if path.is_dir() {
                count_files(&path)
            } else {
                1
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SET: SourceSet<'static> = SourceSet {
        skip_at_root: &["target", "tests"],
        skip_anywhere: &["__pycache__", "node_modules"],
        also: &["node_modules/.package-lock.json"],
    };

    #[test]
    fn inputs_change_with_sources_but_not_with_tests_caches_or_hidden_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("app.py"), "x = 1\n").unwrap();
        let first = hash_sources(root, "m", b"", &SET).unwrap();
        for ignored in [
            "tests",
            "target",
            "__pycache__",
            ".venv",
            "node_modules/left-pad",
            "lib/__pycache__",
        ] {
            std::fs::create_dir_all(root.join(ignored)).unwrap();
            std::fs::write(root.join(ignored).join("f.py"), "y").unwrap();
        }
        assert_eq!(hash_sources(root, "m", b"", &SET).unwrap(), first);
        std::fs::write(root.join("app.py"), "x = 2\n").unwrap();
        let second = hash_sources(root, "m", b"", &SET).unwrap();
        assert_ne!(second, first);
        std::fs::write(root.join("lib").join("util.py"), "z").unwrap();
        let third = hash_sources(root, "m", b"", &SET).unwrap();
        assert_ne!(third, second);
        assert_ne!(hash_sources(root, "other", b"", &SET).unwrap(), third);
        assert_ne!(hash_sources(root, "m", b"requests", &SET).unwrap(), third);
        std::fs::write(root.join("node_modules/.package-lock.json"), "{}").unwrap();
        assert_ne!(hash_sources(root, "m", b"", &SET).unwrap(), third);
    }
}
