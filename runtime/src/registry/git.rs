//! Clone a plugin's git repository with the system `git`, without running anything of the
//! repository's: no hooks, no submodules, no `ext::` transport, no prompts.
//!
//! Accepted sources: `https://...`, `file://...`, or a local path, each with an optional
//! `#rev` (a branch, tag or commit). Anything starting with `-` (it would be read as an
//! option) or naming a `transport::` (`ext::sh -c ...` runs a command) is refused before
//! `git` runs; `git` itself is told to allow only the `https` and `file` protocols.

use std::ffi::OsStr;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::fix::Fix;

/// A parsed git source: where to clone from and what to check out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitSource {
    /// The URL or path, without the `#rev`.
    pub url: String,
    /// The `#rev`, when given.
    pub rev: Option<String>,
    /// The plugin's directory inside the repository (`#rev:path`, `#:path`), `/`-separated,
    /// relative, without `.` or `..`; `None`: the repository's root.
    pub path: Option<String>,
}

impl GitSource {
    /// Split `url#rev:path` (rev and path optional: `url`, `url#rev`, `url#:path`) and
    /// check each part.
    pub fn parse(source: &str) -> Result<GitSource, GitError> {
        let (url, fragment) = match source.rsplit_once('#') {
            Some((url, fragment)) => (url, Some(fragment)),
            None => (source, None),
        };
        // A revision never holds `:` (git refuses it in ref names), so the first one ends it.
        let (rev, path) = match fragment.map(|f| f.split_once(':').unwrap_or((f, ""))) {
            Some((rev, path)) => (
                (!rev.is_empty()).then_some(rev),
                (!path.is_empty()).then_some(path),
            ),
            None => (None, None),
        };
        check_url(url)?;
        if let Some(rev) = rev {
            check_rev(rev)?;
        }
        if fragment.is_some_and(|f| f.is_empty() || f == ":") {
            return Err(GitError::InvalidRev {
                rev: fragment.unwrap_or_default().to_string(),
                reason: "`#` is followed by neither a revision nor `:path`",
            });
        }
        let path = path.map(normalize_subdir).transpose()?;
        Ok(GitSource {
            url: url.to_string(),
            rev: rev.map(str::to_string),
            path,
        })
    }

    /// The same source with the plugin at `path` in the repository (`install --path`).
    pub fn with_path(mut self, path: &str) -> Result<GitSource, GitError> {
        self.path = Some(normalize_subdir(path)?);
        Ok(self)
    }
}

/// A plugin directory inside a repository: relative, `/`-separated, no `.`, `..` or empty
/// parts, no control characters; trailing `/` dropped.
pub fn normalize_subdir(path: &str) -> Result<String, GitError> {
    let refuse = |reason| {
        Err(GitError::InvalidPath {
            path: path.to_string(),
            reason,
        })
    };
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return refuse("it is empty");
    }
    if trimmed.starts_with('/') || trimmed.contains('\\') {
        return refuse("it must be relative to the repository's root, with `/` separators");
    }
    if trimmed.chars().any(char::is_control) {
        return refuse("it holds control characters");
    }
    if trimmed
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return refuse("it may not hold empty, `.` or `..` parts");
    }
    Ok(trimmed.to_string())
}

/// Why a clone failed or was refused.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// A URL this host does not clone from.
    #[error("refusing git source `{url}`: {reason}")]
    UnsafeUrl {
        /// The URL as given.
        url: String,
        /// Why.
        reason: &'static str,
    },
    /// A `#rev` that is not a plain revision name.
    #[error("invalid git revision `{rev}`: {reason}")]
    InvalidRev {
        /// The revision as given.
        rev: String,
        /// Why.
        reason: &'static str,
    },
    /// A `:path` that could leave the repository or is not a path.
    #[error("invalid path in the repository `{path}`: {reason}")]
    InvalidPath {
        /// The path as given.
        path: String,
        /// Why.
        reason: &'static str,
    },
    /// `git` could not be started.
    #[error("failed to run `git`")]
    Spawn {
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// A `git` command failed.
    #[error("`git {command}` failed ({status}): {stderr}")]
    Failed {
        /// The git subcommand, e.g. `clone`.
        command: &'static str,
        /// Its exit status.
        status: std::process::ExitStatus,
        /// What it printed on stderr, trimmed.
        stderr: String,
    },
    /// The `#rev` names nothing in the repository.
    #[error("revision `{rev}` not found in `{url}`")]
    RevNotFound {
        /// The revision.
        rev: String,
        /// The repository.
        url: String,
    },
}

impl GitError {
    /// What would fix this error, when that is known: data for the embedder to word.
    pub fn fix(&self) -> Option<Fix> {
        match self {
            GitError::UnsafeUrl { .. } => Some(Fix::SafeGitSource),
            GitError::InvalidRev { .. } => Some(Fix::NameRevision),
            GitError::RevNotFound { .. } => Some(Fix::CheckRevision),
            GitError::Spawn { .. } => Some(Fix::InstallGit),
            GitError::InvalidPath { .. } => Some(Fix::DirectoryInRepository),
            _ => None,
        }
    }

    /// The fix in plain words (the [`Display`](std::fmt::Display) of [`fix`](Self::fix)),
    /// for a `help:` line.
    pub fn help(&self) -> Option<String> {
        self.fix().map(|fix| fix.to_string())
    }
}

fn check_url(url: &str) -> Result<(), GitError> {
    let refuse = |reason| {
        Err(GitError::UnsafeUrl {
            url: url.to_string(),
            reason,
        })
    };
    if url.is_empty() {
        return refuse("it is empty");
    }
    if url.starts_with('-') {
        return refuse("it starts with `-`, which git would read as an option");
    }
    if url.chars().any(char::is_control) {
        return refuse("it holds control characters");
    }
    if url.starts_with("ext::") || url.contains("::") {
        return refuse("`<transport>::` URLs run commands (`ext::`) or helpers");
    }
    if url.starts_with("https://") || url.starts_with("file://") {
        return Ok(());
    }
    if url.contains("://") {
        return refuse("only `https://` and `file://` URLs are cloned");
    }
    // scp-like `host:path` is ssh to git; a local path with a `:` before any `/` would be
    // read that way too.
    let before_slash = url.split('/').next().unwrap_or(url);
    if before_slash.contains(':') && !is_windows_drive(url) {
        return refuse("`host:path` (ssh) sources are not cloned; use an `https://` URL");
    }
    Ok(())
}

fn is_windows_drive(url: &str) -> bool {
    cfg!(windows) && url.as_bytes().get(1) == Some(&b':')
}

fn check_rev(rev: &str) -> Result<(), GitError> {
    let refuse = |reason| {
        Err(GitError::InvalidRev {
            rev: rev.to_string(),
            reason,
        })
    };
    if rev.is_empty() {
        return refuse("it is empty");
    }
    if rev.starts_with('-') {
        return refuse("it starts with `-`, which git would read as an option");
    }
    if rev.chars().any(|c| {
        c.is_control() || c.is_whitespace() || matches!(c, '~' | '^' | ':' | '?' | '*' | '[' | '\\')
    }) {
        return refuse(
            "a branch, tag or commit name holds no spaces, control characters or `~^:?*[\\`",
        );
    }
    Ok(())
}

/// Clone `url` into `dest` (which must not exist or be empty) and check out `rev`, or the
/// default branch. Returns the commit checked out, as `git rev-parse HEAD` prints it.
pub fn clone(url: &str, rev: Option<&str>, dest: &Path) -> Result<String, GitError> {
    check_url(url)?;
    if let Some(rev) = rev {
        check_rev(rev)?;
    }
    let target = clone_target(url);
    let mut args: Vec<&OsStr> = vec![
        "clone".as_ref(),
        "--quiet".as_ref(),
        "--no-recurse-submodules".as_ref(),
    ];
    if rev.is_some() {
        args.push("--no-checkout".as_ref());
    }
    args.extend(["--".as_ref(), target.as_os_str(), dest.as_os_str()]);
    git(None, "clone", &args)?;

    if let Some(rev) = rev {
        let commit = [
            format!("{rev}^{{commit}}"),
            format!("refs/remotes/origin/{rev}^{{commit}}"),
        ]
        .into_iter()
        .find_map(|spec| {
            let args: [&OsStr; 5] = [
                "rev-parse".as_ref(),
                "--verify".as_ref(),
                "--quiet".as_ref(),
                "--end-of-options".as_ref(),
                spec.as_ref(),
            ];
            git(Some(dest), "rev-parse", &args).ok()
        })
        .ok_or_else(|| GitError::RevNotFound {
            rev: rev.to_string(),
            url: url.to_string(),
        })?;
        let args: [&OsStr; 4] = [
            "checkout".as_ref(),
            "--quiet".as_ref(),
            "--detach".as_ref(),
            commit.as_ref(),
        ];
        git(Some(dest), "checkout", &args)?;
    }
    git(
        Some(dest),
        "rev-parse",
        &["rev-parse".as_ref(), "HEAD".as_ref()],
    )
}

/// What to pass to `git clone`: URLs as they are, local paths made absolute (so that
/// nothing in them reads as `host:path`).
fn clone_target(url: &str) -> PathBuf {
    if url.starts_with("https://") || url.starts_with("file://") {
        return PathBuf::from(url);
    }
    std::path::absolute(url).unwrap_or_else(|_| PathBuf::from(url))
}

/// Run one `git` command with the safety settings; stdout, trimmed, on success.
fn git(dir: Option<&Path>, command: &'static str, args: &[&OsStr]) -> Result<String, GitError> {
    let stdout = git_raw(dir, command, args)?;
    Ok(String::from_utf8_lossy(&stdout).trim().to_string())
}

/// Run one `git` command with the safety settings; its stdout as it is, on success.
fn git_raw(
    dir: Option<&Path>,
    command: &'static str,
    args: &[&OsStr],
) -> Result<Vec<u8>, GitError> {
    let hooks = if cfg!(windows) { "NUL" } else { "/dev/null" };
    let mut cmd = Command::new("git");
    if let Some(dir) = dir {
        cmd.arg("-C").arg(dir);
    }
    cmd.args(["-c", &format!("core.hooksPath={hooks}")])
        .args(["-c", "protocol.allow=never"])
        .args(["-c", "protocol.https.allow=always"])
        .args(["-c", "protocol.file.allow=always"])
        .args(["-c", "protocol.ext.allow=never"])
        .args(["-c", "submodule.recurse=false"])
        // A repository's own configuration must not start a program for a status.
        .args(["-c", "core.fsmonitor=false"])
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GCM_INTERACTIVE", "never")
        .env("GIT_PROTOCOL_FROM_USER", "0")
        // Whatever repository the caller runs in must not leak into this one.
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_CONFIG_PARAMETERS")
        .env_remove("GIT_CONFIG_COUNT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let output = cmd.output().map_err(|source| GitError::Spawn { source })?;
    if !output.status.success() {
        return Err(GitError::Failed {
            command,
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(output.stdout)
}

/// The git checkout a local directory is in, as `git` sees it there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkTree {
    /// The checkout's top directory.
    pub root: PathBuf,
    /// The directory's place in it, `/`-separated; `None` at its top.
    pub path: Option<String>,
    /// The commit checked out (`HEAD`); `None` before the first commit.
    pub commit: Option<String>,
    /// Paths with changes not committed (modified, added, deleted, renamed, untracked and
    /// not ignored), anywhere in the checkout, as `git status` lists them: empty when the
    /// checkout is clean, so `commit` is exactly what the directory holds (ignored files
    /// aside).
    pub changed: Vec<String>,
}

impl WorkTree {
    /// Whether the directory holds exactly its commit: committed, and nothing changed.
    pub fn is_clean(&self) -> bool {
        self.commit.is_some() && self.changed.is_empty()
    }
}

/// The git checkout `dir` is in, or `None` when it is in none. Runs `git rev-parse` and
/// `git status` there, with the same safety settings as [`clone`] (no hooks, no file system
/// monitor): the directory's own files are read, as building it would read them.
pub fn work_tree(dir: &Path) -> Result<Option<WorkTree>, GitError> {
    let top = ["rev-parse".as_ref(), "--show-toplevel".as_ref()];
    let root = match git(Some(dir), "rev-parse", &top) {
        Ok(root) if !root.is_empty() => PathBuf::from(root),
        Ok(_) => return Ok(None),
        Err(GitError::Failed { .. }) => return Ok(None), // not a git repository
        Err(e) => return Err(e),
    };
    // A directory the checkout ignores (a plugin under a repository's `target/`) is not
    // part of it.
    let ignored: [&OsStr; 4] = [
        "check-ignore".as_ref(),
        "-q".as_ref(),
        "--".as_ref(),
        crate::manifest::MANIFEST_FILE_NAME.as_ref(),
    ];
    if git(Some(dir), "check-ignore", &ignored).is_ok() {
        return Ok(None);
    }
    let head: [&OsStr; 5] = [
        "rev-parse".as_ref(),
        "--verify".as_ref(),
        "--quiet".as_ref(),
        "--end-of-options".as_ref(),
        "HEAD^{commit}".as_ref(),
    ];
    let commit = git(Some(dir), "rev-parse", &head)
        .ok()
        .filter(|c| !c.is_empty());
    let status: [&OsStr; 4] = [
        "status".as_ref(),
        "--porcelain=v1".as_ref(),
        "-z".as_ref(),
        "--untracked-files=all".as_ref(),
    ];
    let out = git_raw(Some(&root), "status", &status)?;
    let mut changed = Vec::new();
    let mut entries = out.split(|b| *b == 0).filter(|e| !e.is_empty());
    while let Some(entry) = entries.next() {
        // `XY path`; a rename or copy is followed by its source path, its own entry.
        let (code, path) = entry.split_at(entry.len().min(3));
        changed.push(String::from_utf8_lossy(path).into_owned());
        if code.first().is_some_and(|c| matches!(c, b'R' | b'C')) {
            entries.next();
        }
    }
    let path = match (dir.canonicalize(), root.canonicalize()) {
        (Ok(dir), Ok(root)) => dir.strip_prefix(&root).ok().and_then(|rel| {
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            (!parts.is_empty()).then(|| parts.join("/"))
        }),
        _ => None,
    };
    Ok(Some(WorkTree {
        root,
        path,
        commit,
        changed,
    }))
}
