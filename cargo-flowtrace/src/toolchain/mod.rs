//! The toolchains plugins are built with: find them, check their versions, install the
//! pinned ones under `$FLOWTRACE_HOME/toolchains` (TOOLCHAIN.md).
//!
//! `doctor` reports every [`Check`]; `build` calls the `ensure_*` functions, which install
//! what is missing (with a status line and a spinner) or fail with the command to run:
//!
//! * [`ensure_rust_target`]: the `wasm32-wasip2` target, through rustup.
//! * [`python::ensure_componentize_py`]: componentize-py in a venv, returns its path.
//! * [`node::ensure_node_tools`]: componentize-js and esbuild through npm, returns their
//!   paths.

pub mod node;
pub mod process;
pub mod python;
pub mod rust;

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;

use crate::term::{Message, Term};

pub use rust::{ensure_rust_target, ensure_rust_target_in, WASM_TARGET};

/// The variable that moves the managed toolchains out of `$FLOWTRACE_HOME` (a CI cache, or
/// one install shared by several homes).
pub const TOOLCHAINS_ENV: &str = "FLOWTRACE_TOOLCHAINS";

/// Where the managed toolchains live: `$FLOWTRACE_TOOLCHAINS`, else
/// `$FLOWTRACE_HOME/toolchains`.
pub fn toolchains_dir(home: &Path) -> PathBuf {
    match std::env::var_os(TOOLCHAINS_ENV).filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => home.join("toolchains"),
    }
}

/// Hold the lock on `$FLOWTRACE_HOME/toolchains` (created) while installing into it, so
/// that two processes never install the same toolchain at once; a second one says it
/// waits.
pub fn lock_toolchains(term: &Term, home: &Path) -> Result<std::fs::File> {
    lock_dir(term, &toolchains_dir(home))
}

/// Hold an exclusive lock on `dir` (created), through the file `dir/.lock`, until the file
/// returned is dropped; the lock goes with the process, however it ends. When another
/// process holds it, says so (`Blocking waiting for file lock on ...`, as cargo does) and
/// waits.
pub fn lock_dir(term: &Term, dir: &Path) -> Result<std::fs::File> {
    use anyhow::Context as _;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("failed to create directory `{}`", dir.display()))?;
    let path = dir.join(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("failed to open `{}`", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            term.status(
                "Blocking",
                format_args!("waiting for file lock on `{}`", dir.display()),
            );
            file.lock()
                .with_context(|| format!("failed to lock `{}`", path.display()))?;
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("failed to lock `{}`", path.display()))
        }
    }
    Ok(file)
}

/// The state of one tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Found, at a version that works.
    Ok,
    /// Not found.
    Missing,
    /// Found, at a version that does not work.
    WrongVersion,
}

impl Status {
    /// `ok`, `missing`, `wrong version`.
    pub fn label(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Missing => "missing",
            Status::WrongVersion => "wrong version",
        }
    }
}

/// What `doctor --fix` can install.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Installer {
    /// `rustup target add wasm32-wasip2`.
    RustTarget,
    /// A venv with componentize-py.
    ComponentizePy,
    /// componentize-js through npm.
    ComponentizeJs,
    /// esbuild through npm.
    Esbuild,
}

/// One tool, as `doctor` reports it (the JSON `toolchain-check` message).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Check {
    /// What was checked: `rustc`, `wasm32-wasip2`, `componentize-py`, ...
    pub name: &'static str,
    /// Which plugins need it: `rust`, `python`, `typescript`.
    pub needed_for: &'static str,
    /// Whether every build needs it (the Rust toolchain) or only plugins in other languages.
    pub required: bool,
    /// The version found (or `installed`), when found.
    pub found: Option<String>,
    /// What works, e.g. `1.82 or newer`, `0.25.1`.
    pub expected: String,
    /// Whether it works.
    pub status: Status,
    /// Where it is or goes, for the managed toolchains.
    pub location: Option<PathBuf>,
    /// The command that fixes it, when it does not work.
    pub fix: Option<String>,
    /// Whether `doctor --fix` can run that fix.
    pub fixable: bool,
    #[serde(skip)]
    installer: Option<Installer>,
}

impl Message for Check {
    const REASON: &'static str = "toolchain-check";
}

impl Check {
    /// Whether it works.
    pub fn is_ok(&self) -> bool {
        self.status == Status::Ok
    }

    /// What `doctor --fix` runs for it, when it does not work and can be installed.
    pub fn installer(&self) -> Option<Installer> {
        self.installer.filter(|_| !self.is_ok() && self.fixable)
    }
}

/// Builder for the checks: the fields every check has.
pub(crate) fn check(
    name: &'static str,
    needed_for: &'static str,
    expected: impl Into<String>,
) -> Check {
    Check {
        name,
        needed_for,
        required: needed_for == "rust",
        found: None,
        expected: expected.into(),
        status: Status::Missing,
        location: None,
        fix: None,
        fixable: false,
        installer: None,
    }
}

impl Check {
    pub(crate) fn found(mut self, found: Option<String>, ok: bool) -> Self {
        self.status = match (&found, ok) {
            (None, _) => Status::Missing,
            (Some(_), true) => Status::Ok,
            (Some(_), false) => Status::WrongVersion,
        };
        self.found = found;
        self
    }

    pub(crate) fn fix(mut self, fix: impl Into<String>, installer: Option<Installer>) -> Self {
        if !self.is_ok() {
            self.fix = Some(fix.into());
            self.fixable = installer.is_some();
            self.installer = installer;
        }
        self
    }

    pub(crate) fn location(mut self, path: PathBuf) -> Self {
        self.location = Some(path);
        self
    }
}

/// Every check, in the order `doctor` shows them.
pub fn check_all(home: &Path) -> Vec<Check> {
    let python = python::check_python();
    let componentize_py = python::check_componentize_py(home, python.is_ok());
    let node = node::check_node();
    let npm = node::check_npm();
    let node_ok = node.is_ok() && npm.is_ok();
    let componentize_js = node::check_componentize_js(home, node_ok);
    let esbuild = node::check_esbuild(home, node_ok);
    vec![
        rust::check_rustup(),
        rust::check_rustc(),
        rust::check_target(),
        python,
        componentize_py,
        node,
        npm,
        componentize_js,
        esbuild,
    ]
}

/// Install what `installer` installs.
pub fn install(term: &Term, home: &Path, installer: Installer) -> Result<()> {
    let _lock = match installer {
        Installer::RustTarget => None,
        Installer::ComponentizePy | Installer::ComponentizeJs | Installer::Esbuild => {
            Some(lock_toolchains(term, home)?)
        }
    };
    match installer {
        Installer::RustTarget => rust::add_target(term, None),
        Installer::ComponentizePy => python::install_componentize_py(term, home).map(drop),
        Installer::ComponentizeJs => node::install_componentize_js(term, home).map(drop),
        Installer::Esbuild => node::install_esbuild(term, home).map(drop),
    }
}
