//! What `cargo flowtrace install <source>` installs from, and how it becomes a component.
//!
//! | source | recognised by | how |
//! |---|---|---|
//! | plugin directory | a directory holding `flowtrace.toml` | built with `cargo flowtrace build --release`; in a clean git checkout, recorded as that commit |
//! | built component | a file starting with the wasm magic `\0asm` | installed as is (the manifest is embedded by `build`) |
//! | archive | a file starting with the gzip magic | extracted safely into the registry's scratch area; a single `.wasm` at its root is installed, else a `flowtrace.toml` there is built |
//! | git | `https://` or `file://` URL, a path to a repository (a directory with `.git` and no `flowtrace.toml`, or any directory with `--git`), each with an optional `#rev` | cloned with the system `git` (no hooks, no submodules), then built |
//! | OCI reference | `oci://HOST[:PORT]/REPOSITORY[:TAG\|@DIGEST]` | pulled (no tag: the highest semver tag), every digest and size checked |
//! | registry id | `ID@REQ` or `ID` (not an existing path) | the highest version matching `REQ` in the registries of `$FLOWTRACE_HOME/config.toml` |
//! | package | a tar file (`ustar` magic): the OCI image layout `cargo flowtrace package` writes | read, every blob's digest checked |
//!
//! Files are told apart by their first bytes, not their names: a `.wasm` that is really a
//! tarball is treated as the archive it is.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _, Result};
use flowtrace_plugins::manifest::{Manifest, PluginId, MANIFEST_FILE_NAME};
use flowtrace_plugins::registry::archive::{self, ArchiveLimits};
use flowtrace_plugins::registry::git::{self, GitSource};
use flowtrace_plugins::registry::oci::{
    annotations, layout, OciReference, MAX_SIGNATURE_BYTES, SCHEME,
};
use flowtrace_plugins::registry::{Registry, Source};
use semver::{Version, VersionReq};

use crate::build::{self, BuildRequest};
use crate::error::{with_help, ResultExt};
use crate::plugin_path::PluginPath;
use crate::registry::oci::{self as registries, RegistrySettings};
use crate::registry::trust;
use crate::term::Term;

/// The largest `.wasm` read into memory to install.
pub const MAX_COMPONENT_BYTES: u64 = 512 << 20;

/// `ID@REQ`, or a bare `ID`, when `arg` reads as one.
fn registry_id(arg: &str) -> Option<Result<InstallSource>> {
    let (id, req) = match arg.split_once('@') {
        Some((id, req)) => (id, Some(req)),
        None => (arg, None),
    };
    let id = PluginId::parse(id).ok()?;
    let req = match req {
        None => VersionReq::STAR,
        Some(req) => match VersionReq::parse(req) {
            Ok(req) => req,
            Err(e) => {
                return Some(
                    Err(anyhow!(
                        "invalid version requirement `{req}` for `{id}`: {e}"
                    ))
                    .help("write a semver requirement, e.g. `my-eval@^1.2` or `my-eval@=1.2.3`"),
                )
            }
        },
    };
    Some(Ok(InstallSource::Registry { id, req }))
}

/// A source, recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstallSource {
    /// A plugin directory, to build.
    Dir(PathBuf),
    /// A built component.
    Wasm(PathBuf),
    /// A `.tar.gz` archive.
    Archive(PathBuf),
    /// A git repository.
    Git(GitSource),
    /// An artifact in an OCI registry.
    Oci(OciReference),
    /// A plugin id and version requirement, looked up in the configured registries.
    Registry {
        /// The plugin.
        id: PluginId,
        /// The versions wanted.
        req: VersionReq,
    },
    /// A package (`<id>-<version>.oci.tar`).
    Package(PathBuf),
}

impl InstallSource {
    /// Recognise `arg`; `force_git` (`--git`) reads it as a git URL or repository path.
    pub fn classify(arg: &str, force_git: bool) -> Result<InstallSource> {
        // A `GitError` brings its own `help:` (`error::helps`).
        let git = |arg: &str| {
            GitSource::parse(arg)
                .map(InstallSource::Git)
                .map_err(anyhow::Error::from)
        };
        if arg.starts_with(SCHEME) {
            return OciReference::parse(arg)
                .map(InstallSource::Oci)
                .map_err(|e| match crate::registry::oci::help(&e) {
                    Some(help) => with_help(e, help),
                    None => e.into(),
                });
        }
        if force_git || looks_like_url(arg) {
            return git(arg);
        }
        let path = Path::new(arg);
        let Some(found) = PluginPath::at(path)? else {
            // `my-eval@^1.2` or `my-eval`: a plugin of the configured registries.
            if let Some(found) = registry_id(arg) {
                return found;
            }
            // `path/to/repo#v1.2.0`
            if let Some((repo, _)) = arg.rsplit_once('#') {
                if Path::new(repo).is_dir() {
                    return git(arg);
                }
            }
            return Err(anyhow!(
                "`{arg}` is not a file, a directory, a git URL or a registry reference"
            ))
            .help(
                "pass a plugin directory, a built `.wasm`, a package or `.tar.gz` archive, \
                 a git repository (`https://...`, `file://...` or a local path, optionally \
                 followed by `#<branch, tag or commit>`), `oci://HOST/REPOSITORY:TAG`, or \
                 `ID@VERSION` from the configured registries",
            );
        };
        match found {
            PluginPath::Dir(dir) => Ok(InstallSource::Dir(dir)),
            PluginPath::OtherDir { git: true, .. } => git(arg),
            PluginPath::OtherDir { git: false, .. } => Err(anyhow!(
                "`{arg}` is a directory without `{MANIFEST_FILE_NAME}`: not a plugin directory"
            ))
            .help(format!(
                "pass the directory holding the plugin's `{MANIFEST_FILE_NAME}`, or create one \
                 with `cargo flowtrace new <path>`"
            )),
            PluginPath::Component(path) => Ok(InstallSource::Wasm(path)),
            PluginPath::Archive(path) => Ok(InstallSource::Archive(path)),
            PluginPath::Package(path) => Ok(InstallSource::Package(path)),
            PluginPath::OtherFile { head, .. } => Err(anyhow!(
                "`{arg}` is neither a WebAssembly component nor a gzip archive (it starts with \
                 {})",
                describe_head(&head)
            ))
            .help(
                "pass a component built by `cargo flowtrace build` (`target/flowtrace/release/*.wasm`) \
                 or a `.tar.gz` archive of a plugin",
            ),
        }
    }
}

fn looks_like_url(arg: &str) -> bool {
    arg.starts_with('-') || arg.contains("://") || arg.contains("::") || arg.starts_with("git@")
}

fn describe_head(head: &[u8]) -> String {
    if head.is_empty() {
        return "nothing: it is empty".into();
    }
    let hex: Vec<String> = head.iter().map(|b| format!("{b:02x}")).collect();
    format!("bytes `{}`", hex.join(" "))
}

/// A component ready to install, with where it came from.
#[derive(Debug)]
pub struct Prepared {
    /// The component, manifest embedded.
    pub component: Vec<u8>,
    /// What the index records.
    pub source: Source,
}

/// How to build or fetch a source.
#[derive(Debug, Clone, Copy)]
pub struct BuildOptions {
    /// `--release` unless `install --debug`.
    pub release: bool,
    /// `--insecure`: plain HTTP to registries that are not on this machine.
    pub insecure: bool,
    /// `--require-signature`: refuse unsigned artifacts.
    pub require_signature: bool,
    /// `--force`: reinstalling the active version is allowed.
    pub force: bool,
    /// `--allow-downgrade`: installing a lower version is allowed.
    pub allow_downgrade: bool,
}

impl InstallSource {
    /// Turn the source into a component: build it, read it, extract it or clone it (into
    /// `registry`'s scratch area, removed afterwards).
    pub fn prepare(
        &self,
        term: &Term,
        registry: &Registry,
        options: BuildOptions,
    ) -> Result<Prepared> {
        match self {
            InstallSource::Dir(dir) => {
                // Before the build, which could write into the checkout.
                let checkout = checkout_source(term, dir);
                let built = build_dir(term, registry, dir, options)?;
                Ok(Prepared {
                    component: built,
                    source: checkout.unwrap_or_else(|| Source::Path {
                        path: absolute(dir),
                    }),
                })
            }
            InstallSource::Wasm(path) => Ok(Prepared {
                component: read_component(path)?,
                source: Source::File {
                    path: absolute(path),
                },
            }),
            InstallSource::Archive(path) => prepare_archive(term, registry, path, options),
            InstallSource::Git(source) => prepare_git(term, registry, source, options),
            InstallSource::Oci(reference) => prepare_oci(term, registry, reference, None, options),
            InstallSource::Registry { id, req } => {
                let settings = RegistrySettings::load(registry.store().home())?;
                let client = settings.client(options.insecure);
                let (repository, version) =
                    registries::resolve(&client, &settings.registries, id, req)?;
                let reference = repository.with_tag(&version.to_string());
                prepare_oci(term, registry, &reference, Some(id), options)
            }
            InstallSource::Package(path) => {
                let home = registry.store().home();
                let settings = RegistrySettings::load(home)?;
                let file = File::open(path)
                    .with_context(|| format!("failed to read `{}`", path.display()))?;
                let artifact = layout::read(std::io::BufReader::new(file), settings.max_blob)
                    .with_context(|| format!("failed to read the package `{}`", path.display()))?;
                let signature = read_signature_beside(path)?;
                trust::verify(
                    term,
                    home,
                    policy(&settings, options),
                    &path.display().to_string(),
                    &artifact.digest(),
                    signature.as_deref(),
                )?;
                Ok(Prepared {
                    component: artifact.component,
                    source: Source::Archive {
                        path: absolute(path),
                    },
                })
            }
        }
    }
}

/// A plugin directory in a clean git checkout is the commit it holds: recorded as a git
/// source (the checkout's path, the commit, the plugin's place in it), as if cloned. In a
/// checkout with changes, or before its first commit, it is taken as a directory, and the
/// user is told why no commit is recorded.
fn checkout_source(term: &Term, dir: &Path) -> Option<Source> {
    let tree = match git::work_tree(dir) {
        Ok(tree) => tree?,
        Err(e) => {
            term.note(format_args!(
                "could not read the git state of `{}` ({e}): installed as a directory, with no \
                 commit recorded",
                dir.display()
            ));
            return None;
        }
    };
    match &tree.commit {
        Some(commit) if tree.is_clean() => {
            term.status(
                "Commit",
                format_args!("{commit} (`{}` is a clean git checkout)", dir.display()),
            );
            Some(Source::Git {
                url: tree.root.display().to_string(),
                rev: None,
                commit: commit.clone(),
                path: tree.path.clone(),
            })
        }
        commit => {
            let why = if commit.is_none() {
                "has no commit yet".to_string()
            } else {
                const SHOWN: usize = 3;
                let mut paths: Vec<String> = tree
                    .changed
                    .iter()
                    .take(SHOWN)
                    .map(|p| format!("`{p}`"))
                    .collect();
                if tree.changed.len() > SHOWN {
                    paths.push(format!("{} more", tree.changed.len() - SHOWN));
                }
                format!("has changes not committed ({})", paths.join(", "))
            };
            term.warn(format_args!(
                "`{}` is in a git checkout that {why}: installed as a directory, with no commit \
                 recorded",
                dir.display()
            ));
            term.help(format_args!(
                "commit the changes to record the commit, or pass `--git` to install the last \
                 commit"
            ));
            None
        }
    }
}

/// Pull `reference` (the highest semver tag when it names none). `expected_id`: the plugin
/// the user asked for, which the artifact must carry.
fn prepare_oci(
    term: &Term,
    registry: &Registry,
    reference: &OciReference,
    expected_id: Option<&PluginId>,
    options: BuildOptions,
) -> Result<Prepared> {
    let settings = RegistrySettings::load(registry.store().home())?;
    let client = settings.client(options.insecure);
    let reference = if reference.tag.is_none() && reference.digest.is_none() {
        let versions = registries::block_on(client.versions(reference))?
            .with_context(|| format!("failed to list the versions of `{reference}`"))?;
        let latest = versions.last().ok_or_else(|| {
            with_help(
                anyhow!("`{reference}` has no semver tag to install"),
                "name a tag: `oci://HOST/REPOSITORY:VERSION`",
            )
        })?;
        reference.with_tag(&latest.to_string())
    } else {
        reference.clone()
    };
    let pulled = {
        let _progress = term.progress("Downloading", None, reference.to_string());
        registries::block_on(client.pull(&reference, expected_id))?
            .with_context(|| format!("failed to pull `{reference}`"))?
    };
    term.status(
        "Downloaded",
        format_args!(
            "{reference} ({}, {} bytes)",
            pulled.info.digest,
            pulled.component.len()
        ),
    );
    if let Some(tag) = &reference.tag {
        if let Ok(version) = Version::parse(tag) {
            let says = pulled.info.manifest.annotations.get(annotations::VERSION);
            if says.is_some_and(|v| *v != version.to_string()) {
                return Err(anyhow!(
                    "`{reference}` holds version {} under the tag {tag}",
                    says.map(String::as_str).unwrap_or_default()
                ))
                .help(
                    "a plugin's tag must be its version: publish it with `cargo flowtrace publish`",
                );
            }
        }
    }
    let signature = registries::block_on(client.pull_signature(&reference, &pulled.info.digest))?
        .with_context(|| format!("failed to fetch the signature of `{reference}`"))?;
    let signer = trust::verify(
        term,
        registry.store().home(),
        policy(&settings, options),
        &reference.to_string(),
        &pulled.info.digest,
        signature.as_deref(),
    )?;
    Ok(Prepared {
        component: pulled.component,
        source: Source::Oci {
            reference: reference.to_string(),
            digest: pulled.info.digest,
            signed_by: signer.map(|k| k.key.key_id()),
        },
    })
}

fn policy(settings: &RegistrySettings, options: BuildOptions) -> trust::Policy {
    trust::Policy {
        require: options.require_signature || settings.require_signature,
    }
}

/// `<package>.sig`, when there is one.
fn read_signature_beside(package: &Path) -> Result<Option<Vec<u8>>> {
    let path = trust::signature_path(package);
    match File::open(&path) {
        Ok(file) => {
            let mut data = Vec::new();
            file.take(MAX_SIGNATURE_BYTES + 1)
                .read_to_end(&mut data)
                .with_context(|| format!("failed to read `{}`", path.display()))?;
            Ok(Some(data))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("failed to read `{}`", path.display())),
    }
}

fn absolute(path: &Path) -> PathBuf {
    path.canonicalize()
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf())
}

/// Build the plugin in `dir`, unless the registry would refuse its manifest's id and version
/// whatever the build gives (the active version again without `--force`, a lower one
/// without `--allow-downgrade`): that is said before a build that can take a minute. A
/// manifest that does not parse is left for the build to report.
fn build_dir(
    term: &Term,
    registry: &Registry,
    dir: &Path,
    options: BuildOptions,
) -> Result<Vec<u8>> {
    let manifest_path = dir.join(MANIFEST_FILE_NAME);
    if let Ok(manifest) = Manifest::from_file(&manifest_path) {
        registry.check_install(
            &manifest.plugin.id,
            &manifest.plugin.version,
            options.force,
            options.allow_downgrade,
        )?;
    }
    let built = build::build(
        term,
        &BuildRequest {
            manifest_path: dir.join(MANIFEST_FILE_NAME),
            release: options.release,
            typecheck: true,
            dev_engine: false,
            caps: flowtrace_plugins::HostCaps::default(),
        },
    )?;
    Ok(built.bytes)
}

fn read_component(path: &Path) -> Result<Vec<u8>> {
    let file = File::open(path).with_context(|| format!("failed to read `{}`", path.display()))?;
    let size = file
        .metadata()
        .with_context(|| format!("failed to read `{}`", path.display()))?
        .len();
    if size > MAX_COMPONENT_BYTES {
        bail!(
            "`{}` is {size} bytes, over the {} MiB a plugin component may have",
            path.display(),
            MAX_COMPONENT_BYTES >> 20
        );
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(MAX_COMPONENT_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    Ok(bytes)
}

fn prepare_archive(
    term: &Term,
    registry: &Registry,
    path: &Path,
    options: BuildOptions,
) -> Result<Prepared> {
    let shown = path.display();
    let file = File::open(path).with_context(|| format!("failed to read `{shown}`"))?;
    let scratch = registry
        .scratch_dir("archive-")
        .context("failed to create a scratch directory in the registry")?;
    let dest = scratch.path().join("contents");
    term.status("Unpacking", &shown);
    let extracted = archive::extract_tar_gz(std::io::BufReader::new(file), &dest, &ArchiveLimits::default())
        .with_context(|| format!("refused to extract the archive `{shown}`"))
        .help("an archive of a plugin holds only plain files and directories under one root, with relative paths that stay inside it")?;
    term.verbose_status(
        "Unpacked",
        format_args!("{} files, {} bytes", extracted.files, extracted.bytes),
    );
    let root = archive_root(&dest)?;
    let component = component_in_archive(term, registry, &root, options)
        .with_context(|| format!("failed to install from the archive `{shown}`"))?;
    drop(scratch);
    Ok(Prepared {
        component,
        source: Source::Archive {
            path: absolute(path),
        },
    })
}

/// The archive's own root: its single top-level directory when it has nothing else
/// (`tar czf x.tar.gz my-plugin/`), else the extraction directory itself.
fn archive_root(dest: &Path) -> Result<PathBuf> {
    match list_dir(dest)?.as_slice() {
        [only] if only.is_dir() => Ok(only.clone()),
        _ => Ok(dest.to_path_buf()),
    }
}

fn list_dir(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in
        std::fs::read_dir(dir).with_context(|| format!("failed to read `{}`", dir.display()))?
    {
        out.push(
            entry
                .with_context(|| format!("failed to read `{}`", dir.display()))?
                .path(),
        );
    }
    out.sort();
    Ok(out)
}

/// A built plugin (one `.wasm` at the root) or a plugin directory (`flowtrace.toml`).
fn component_in_archive(
    term: &Term,
    registry: &Registry,
    root: &Path,
    options: BuildOptions,
) -> Result<Vec<u8>> {
    let entries = list_dir(root)?;
    let wasm: Vec<&PathBuf> = entries
        .iter()
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "wasm"))
        .collect();
    match wasm.as_slice() {
        [one] => return read_component(one),
        [] => {}
        several => {
            let names: Vec<String> = several
                .iter()
                .map(|p| format!("`{}`", file_name(p)))
                .collect();
            return Err(anyhow!(
                "the archive holds {} components at its root ({}): cannot tell which to install",
                several.len(),
                names.join(", ")
            ))
            .help("archive one built plugin per file, or the plugin directory without its built components");
        }
    }
    if root.join(MANIFEST_FILE_NAME).is_file() {
        return build_dir(term, registry, root, options);
    }
    let names: Vec<String> = entries
        .iter()
        .map(|p| format!("`{}`", file_name(p)))
        .collect();
    Err(anyhow!(
        "the archive holds neither a built component (`.wasm`) nor a `{MANIFEST_FILE_NAME}` at \
         its root; it holds {}",
        if names.is_empty() {
            "nothing".to_string()
        } else {
            names.join(", ")
        }
    ))
    .help(
        "archive a plugin directory (`tar czf plugin.tar.gz -C my-plugin .`) or a built \
         component (`tar czf plugin.tar.gz -C target/flowtrace/release my-plugin-0.1.0.wasm`)",
    )
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn prepare_git(
    term: &Term,
    registry: &Registry,
    source: &GitSource,
    options: BuildOptions,
) -> Result<Prepared> {
    let scratch = registry
        .scratch_dir("git-")
        .context("failed to create a scratch directory in the registry")?;
    let dest = scratch.path().join("repo");
    let shown = match (&source.rev, &source.path) {
        (Some(rev), Some(path)) => format!("{}#{rev}:{path}", source.url),
        (None, Some(path)) => format!("{}#:{path}", source.url),
        (Some(rev), None) => format!("{}#{rev}", source.url),
        (None, None) => source.url.clone(),
    };
    term.status("Cloning", &shown);
    let commit = git::clone(&source.url, source.rev.as_deref(), &dest)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("failed to clone `{shown}`"))?;
    term.verbose_status("Checked out", &commit);
    let root = match &source.path {
        None => dest.clone(),
        Some(path) => {
            let root = dest.join(path);
            // A symbolic link in the repository must not lead the build out of it.
            let inside = match (root.canonicalize(), dest.canonicalize()) {
                (Ok(root), Ok(dest)) => root.starts_with(dest) && root.is_dir(),
                _ => false,
            };
            if !inside {
                return Err(anyhow!(
                    "the repository `{}` has no directory `{path}`",
                    source.url
                ))
                .help("name the plugin's directory relative to the repository's root (`git ls-tree -d HEAD` lists them)");
            }
            root
        }
    };
    if !root.join(MANIFEST_FILE_NAME).is_file() {
        let place = match &source.path {
            Some(path) => format!("in `{path}`"),
            None => "at its root".into(),
        };
        return Err(anyhow!(
            "the repository `{shown}` has no `{MANIFEST_FILE_NAME}` {place}"
        ))
        .help("point at the plugin's directory: `URL#REV:PATH`, `URL#:PATH` or `--path PATH`");
    }
    let component = build_dir(term, registry, &root, options)
        .with_context(|| format!("failed to build the plugin cloned from `{shown}`"))?;
    // Record where a local repository is, not where the command ran.
    let url = if source.url.contains("://") {
        source.url.clone()
    } else {
        absolute(Path::new(&source.url)).display().to_string()
    };
    drop(scratch);
    Ok(Prepared {
        component,
        source: Source::Git {
            url,
            rev: source.rev.clone(),
            commit,
            path: source.path.clone(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_refused_urls_are_git_sources() {
        assert!(matches!(
            InstallSource::classify("https://example.com/p.git#v1", false),
            Ok(InstallSource::Git(GitSource { rev: Some(r), .. })) if r == "v1"
        ));
        for bad in ["-uhello", "ext::sh -c touch% /tmp/pwned", "ssh://host/repo"] {
            let error = InstallSource::classify(bad, false).unwrap_err();
            assert!(
                format!("{error:#}").contains("refusing git source"),
                "{bad}: {error:#}"
            );
        }
    }

    #[test]
    fn files_are_told_apart_by_their_first_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let wasm = dir.path().join("plugin.tar.gz");
        std::fs::write(&wasm, b"\0asm\x0d\0\x01\0").unwrap();
        let gz = dir.path().join("plugin.wasm");
        std::fs::write(&gz, [0x1f, 0x8b, 8, 0]).unwrap();
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "hello").unwrap();
        let arg = |p: &Path| p.to_str().unwrap().to_string();
        assert_eq!(
            InstallSource::classify(&arg(&wasm), false).unwrap(),
            InstallSource::Wasm(wasm.clone())
        );
        assert_eq!(
            InstallSource::classify(&arg(&gz), false).unwrap(),
            InstallSource::Archive(gz.clone())
        );
        let error = InstallSource::classify(&arg(&text), false).unwrap_err();
        assert!(error.to_string().contains("bytes `68 65 6c 6c`"), "{error}");
        let error = InstallSource::classify(&arg(&dir.path().join("missing")), false).unwrap_err();
        assert!(error
            .to_string()
            .contains("is not a file, a directory, a git URL or a registry reference"));
        let error = InstallSource::classify(&arg(dir.path()), false).unwrap_err();
        assert!(
            error.to_string().contains("not a plugin directory"),
            "{error}"
        );
    }
}
