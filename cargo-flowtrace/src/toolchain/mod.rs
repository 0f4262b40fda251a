//! The toolchains plugins are built with: what every language's toolchain shares. Each
//! language's own (finding its tools, checking their versions, installing the pinned ones
//! under `$FLOWTRACE_HOME/toolchains`, TOOLCHAIN.md) is in its folder of [`crate::lang`].
//!
//! `doctor` reports every [`Check`] of every driver ([`check_all`]) and installs what a
//! check's [`Installer`] names ([`install`]); `build` has the driver make its toolchain
//! ready, installing what is missing (with a status line and a spinner) or failing with the
//! command to run.

pub mod process;

use std::path::{Path, PathBuf};

use anyhow::Result;
use flowtrace_plugins::manifest::Language;
use serde::Serialize;

use crate::term::{Message, Term};

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

/// What `doctor --fix` can install: a tool of a language's driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Installer {
    /// The language whose driver installs it.
    pub language: Language,
    /// The tool, as its [`Check`] names it.
    pub tool: &'static str,
}

/// One tool, as `doctor` reports it (the JSON `toolchain-check` message).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Check {
    /// What was checked: `rustc`, `wasm32-wasip2`, `componentize-py`, ...
    pub name: &'static str,
    /// Which plugins need it: `rust`, `python`, `typescript`.
    pub needed_for: Language,
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
        (!self.is_ok() && self.fixable).then_some(Installer {
            language: self.needed_for,
            tool: self.name,
        })
    }
}

/// Builder for the checks: the fields every check has.
pub(crate) fn check(
    name: &'static str,
    needed_for: Language,
    expected: impl Into<String>,
) -> Check {
    Check {
        name,
        needed_for,
        required: false,
        found: None,
        expected: expected.into(),
        status: Status::Missing,
        location: None,
        fix: None,
        fixable: false,
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

    /// Every build needs it, not only plugins in its language (the Rust toolchain).
    pub(crate) fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// The fix when it does not work, and whether the driver can install it
    /// ([`crate::lang::Driver::install`] with its name).
    pub(crate) fn fix(mut self, fix: impl Into<String>, installable: bool) -> Self {
        if !self.is_ok() {
            self.fix = Some(fix.into());
            self.fixable = installable;
        }
        self
    }

    pub(crate) fn location(mut self, path: PathBuf) -> Self {
        self.location = Some(path);
        self
    }
}

/// Every check of every driver, in the order `doctor` shows them.
pub fn check_all(home: &Path) -> Vec<Check> {
    crate::lang::drivers()
        .flat_map(|(_, driver)| driver.checks(home))
        .collect()
}

/// Install what `installer` installs.
pub fn install(term: &Term, home: &Path, installer: Installer) -> Result<()> {
    crate::lang::driver(installer.language).install(term, home, installer.tool)
}
