//! What a TypeScript build is made from, for the staleness stamp: the plugin's sources,
//! its manifest and the npm packages installed for it.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use sha2::{Digest, Sha256};

use super::Stamp;
use crate::build::{inspect_built, Prepared};

/// Directories at a plugin's root that never hold its sources: not hashed.
const NOT_SOURCES: [&str; 4] = ["target", "tests", "node_modules", "dist"];

/// npm's record of what `npm install` put in `node_modules`: hashed, so that installing
/// other versions of the plugin's dependencies rebuilds it.
const INSTALLED_LOCK: &str = "node_modules/.package-lock.json";

/// SHA-256 over the manifest, every file of the plugin but its build output, tests,
/// `node_modules` and hidden files, and npm's lock of the installed packages.
pub(super) fn hash_inputs(root: &Path, manifest: &str) -> Result<String> {
    let mut files = BTreeMap::new();
    collect_sources(root, root, &mut files)?;
    let lock = root.join(INSTALLED_LOCK);
    if lock.is_file() {
        files.insert(INSTALLED_LOCK.to_string(), lock);
    }
    let mut hasher = Sha256::new();
    hasher.update(b"manifest\0");
    hasher.update(manifest.as_bytes());
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

fn collect_sources(root: &Path, dir: &Path, out: &mut BTreeMap<String, PathBuf>) -> Result<()> {
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
            if (dir == root && NOT_SOURCES.contains(&name.as_ref())) || name == "node_modules" {
                continue;
            }
            collect_sources(root, &path, out)?;
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

/// The component at `output`, when `stamp_path` holds the stamp `current` makes for the
/// component's hash (same tool, SDK, toolchain and inputs) and the file is still the one
/// written then.
pub(super) fn up_to_date(
    stamp_path: &Path,
    current: impl Fn(&str) -> Stamp,
    output: &Path,
    target_dir: &Path,
) -> Option<Prepared> {
    let stamp: Stamp = serde_json::from_slice(&std::fs::read(stamp_path).ok()?).ok()?;
    if stamp != current(&stamp.component) {
        return None;
    }
    let bytes = std::fs::read(output).ok()?;
    let inspection = inspect_built(&bytes, output).ok()?;
    (inspection.sha256 == stamp.component).then(|| Prepared {
        bytes,
        inspection,
        staged: None,
        target_dir: target_dir.to_path_buf(),
        output: output.to_path_buf(),
    })
}

/// Number of files under `dir`, recursively (0 when it does not exist).
pub(super) fn count_files(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| {
            let path = entry.path();
            if path.is_dir() {
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

    #[test]
    fn inputs_change_with_sources_and_installed_packages_but_not_with_tests() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join("src/index.ts"), "export {};\n").unwrap();
        let first = hash_inputs(root, "m").unwrap();
        for ignored in [
            "tests",
            "target",
            "node_modules/left-pad",
            ".git",
            "src/node_modules",
        ] {
            std::fs::create_dir_all(root.join(ignored)).unwrap();
            std::fs::write(root.join(ignored).join("f.ts"), "x").unwrap();
        }
        assert_eq!(hash_inputs(root, "m").unwrap(), first);
        std::fs::write(root.join("src/index.ts"), "export const x = 1;\n").unwrap();
        let second = hash_inputs(root, "m").unwrap();
        assert_ne!(second, first);
        std::fs::write(root.join("src/util.ts"), "export {};\n").unwrap();
        let third = hash_inputs(root, "m").unwrap();
        assert_ne!(third, second);
        assert_ne!(hash_inputs(root, "other").unwrap(), third);
        std::fs::write(root.join(INSTALLED_LOCK), "{\"lockfileVersion\": 3}").unwrap();
        assert_ne!(hash_inputs(root, "m").unwrap(), third);
    }
}
