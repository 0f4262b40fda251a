//! What a path given on the command line holds: the one answer `install`, `eval` and `inspect`
//! share. A directory is a plugin's when it holds `flowtrace.toml` (naming that file names its
//! directory); a file is told by its first bytes, not its name, so a `.wasm` that is really a
//! tarball is the archive it is.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use flowtrace_plugins::manifest::MANIFEST_FILE_NAME;

const WASM_MAGIC: &[u8] = b"\0asm";
const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
/// `ustar` at offset 257 of a tar file's first header.
const TAR_MAGIC_AT: usize = 257;
const TAR_MAGIC: &[u8] = b"ustar";

/// What is at a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginPath {
    /// A plugin directory: one holding `flowtrace.toml`, or the directory of a
    /// `flowtrace.toml` named itself.
    Dir(PathBuf),
    /// A directory without `flowtrace.toml`; `git` when it holds `.git`.
    OtherDir {
        /// The directory.
        path: PathBuf,
        /// Whether it is a git repository.
        git: bool,
    },
    /// A file starting with the WebAssembly magic number `\0asm`.
    Component(PathBuf),
    /// A gzip file: a `.tar.gz` archive of a plugin.
    Archive(PathBuf),
    /// A tar file: a package (`<id>-<version>.oci.tar`).
    Package(PathBuf),
    /// Any other file.
    OtherFile {
        /// The file.
        path: PathBuf,
        /// Its first bytes (up to four), for messages.
        head: Vec<u8>,
    },
}

impl PluginPath {
    /// What is at `path`; `None` when nothing is (or it cannot be looked at).
    pub fn at(path: &Path) -> Result<Option<PluginPath>> {
        let Ok(metadata) = std::fs::metadata(path) else {
            return Ok(None);
        };
        if metadata.is_dir() {
            return Ok(Some(if path.join(MANIFEST_FILE_NAME).is_file() {
                PluginPath::Dir(path.to_path_buf())
            } else {
                PluginPath::OtherDir {
                    path: path.to_path_buf(),
                    git: path.join(".git").exists(),
                }
            }));
        }
        if path.file_name().is_some_and(|n| n == MANIFEST_FILE_NAME) {
            let dir = match path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir,
                _ => Path::new("."),
            };
            return Ok(Some(PluginPath::Dir(dir.to_path_buf())));
        }
        let mut head = Vec::with_capacity(TAR_MAGIC_AT + TAR_MAGIC.len());
        File::open(path)
            .and_then(|f| {
                f.take((TAR_MAGIC_AT + TAR_MAGIC.len()) as u64)
                    .read_to_end(&mut head)
            })
            .with_context(|| format!("failed to read `{}`", path.display()))?;
        let path = path.to_path_buf();
        Ok(Some(if head.starts_with(WASM_MAGIC) {
            PluginPath::Component(path)
        } else if head.starts_with(GZIP_MAGIC) {
            PluginPath::Archive(path)
        } else if head.get(TAR_MAGIC_AT..) == Some(TAR_MAGIC) {
            PluginPath::Package(path)
        } else {
            head.truncate(4);
            PluginPath::OtherFile { path, head }
        }))
    }

    /// The path itself (for a plugin directory named by its `flowtrace.toml`, the directory).
    pub fn path(&self) -> &Path {
        match self {
            PluginPath::Dir(path)
            | PluginPath::OtherDir { path, .. }
            | PluginPath::Component(path)
            | PluginPath::Archive(path)
            | PluginPath::Package(path)
            | PluginPath::OtherFile { path, .. } => path,
        }
    }

    /// Whether it is a directory.
    pub fn is_dir(&self) -> bool {
        matches!(self, PluginPath::Dir(_) | PluginPath::OtherDir { .. })
    }
}

/// When `path`, as typed, is also the id of an installed plugin (`my-eval` is a directory
/// here and an installed plugin), say that the path was taken: a path always comes before
/// an id. Nothing is said when there is no registry, or it cannot be read.
pub fn note_if_also_installed(cx: &crate::context::Context, path: &Path) {
    let Some(id) = path
        .to_str()
        .and_then(|text| flowtrace_plugins::manifest::PluginId::parse(text).ok())
    else {
        return;
    };
    let installed = crate::context::flowtrace_home()
        .ok()
        .filter(|home| home.is_dir())
        .and_then(|_| crate::registry::open(cx).ok())
        .and_then(|registry| registry.list().ok())
        .is_some_and(|plugins| plugins.iter().any(|p| p.id == id));
    if installed {
        let what = if path.is_dir() { "directory" } else { "file" };
        cx.term.note(format_args!(
            "`{id}` is both the {what} `./{id}` and an installed plugin: taking the {what} (a \
             path comes before an id; run from another directory to use the installed plugin)"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_told_by_what_they_hold() {
        let dir = tempfile::tempdir().unwrap();
        let at = |p: &Path| PluginPath::at(p).unwrap();
        let wasm = dir.path().join("plugin.tar.gz");
        std::fs::write(&wasm, b"\0asm\x0d\0\x01\0").unwrap();
        assert_eq!(at(&wasm), Some(PluginPath::Component(wasm.clone())));
        let gz = dir.path().join("plugin.wasm");
        std::fs::write(&gz, [0x1f, 0x8b, 8, 0]).unwrap();
        assert_eq!(at(&gz), Some(PluginPath::Archive(gz.clone())));
        let mut tar = vec![0u8; 512];
        tar[257..262].copy_from_slice(b"ustar");
        let package = dir.path().join("p.oci.tar");
        std::fs::write(&package, tar).unwrap();
        assert_eq!(at(&package), Some(PluginPath::Package(package.clone())));
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "hello").unwrap();
        assert_eq!(
            at(&text),
            Some(PluginPath::OtherFile {
                path: text.clone(),
                head: b"hell".to_vec()
            })
        );
        assert_eq!(at(&dir.path().join("missing")), None);

        let plain = dir.path().to_path_buf();
        assert_eq!(
            at(&plain),
            Some(PluginPath::OtherDir {
                path: plain.clone(),
                git: false
            })
        );
        let manifest = dir.path().join(MANIFEST_FILE_NAME);
        std::fs::write(&manifest, "").unwrap();
        assert_eq!(at(&plain), Some(PluginPath::Dir(plain.clone())));
        assert_eq!(at(&manifest), Some(PluginPath::Dir(plain)));
    }
}
