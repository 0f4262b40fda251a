//! python3 and componentize-py, in a venv under `$FLOWTRACE_HOME/toolchains/python`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, Result};
use semver::Version;

use flowtrace_plugins::manifest::Language;

use crate::error::ResultExt;
use crate::term::Term;
use crate::toolchain::process::{display, first_line, parse_version, run_logged};
use crate::toolchain::{check, toolchains_dir, Check};

/// The componentize-py release plugins are built with (TOOLCHAIN.md).
pub const COMPONENTIZE_PY_VERSION: &str = "0.25.1";

/// The Python inside components built by [`COMPONENTIZE_PY_VERSION`]: the version pure-Python
/// dependencies are installed for.
pub const GUEST_PYTHON: &str = "3.14";

/// The oldest Python componentize-py runs on.
pub const MIN_PYTHON: Version = Version::new(3, 10, 0);

/// The Python that creates the venv.
const PYTHON: &str = if cfg!(windows) { "python" } else { "python3" };

/// The managed venv.
pub fn venv_dir(home: &Path) -> PathBuf {
    toolchains_dir(home).join("python")
}

fn venv_bin(home: &Path, program: &str) -> PathBuf {
    let (dir, suffix) = if cfg!(windows) {
        ("Scripts", ".exe")
    } else {
        ("bin", "")
    };
    venv_dir(home).join(dir).join(format!("{program}{suffix}"))
}

/// The venv's `python`.
pub fn venv_python(home: &Path) -> PathBuf {
    venv_bin(home, "python")
}

/// `pip install` of the venv, quiet about pip's own version and never asking.
pub fn pip_install(home: &Path) -> Command {
    let mut command = Command::new(venv_python(home));
    command.args([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
    ]);
    command
}

/// The venv's `componentize-py`.
pub fn componentize_py(home: &Path) -> PathBuf {
    venv_bin(home, "componentize-py")
}

/// `python3`, at [`MIN_PYTHON`] or newer.
pub fn check_python() -> Check {
    let version = first_line(PYTHON, &["--version"]).and_then(|l| parse_version(&l));
    let ok = version.as_ref().is_some_and(|v| *v >= MIN_PYTHON);
    check(
        PYTHON,
        Language::Python,
        format!("{}.{} or newer", MIN_PYTHON.major, MIN_PYTHON.minor),
    )
    .found(version.map(|v| v.to_string()), ok)
    .fix(
        "install Python 3.10 or newer with its `venv` module (e.g. `apt-get install python3 \
         python3-venv`)",
        false,
    )
}

/// The installed componentize-py's version, if any.
fn installed_version(home: &Path) -> Option<Version> {
    first_line(componentize_py(home), &["--version"]).and_then(|l| parse_version(&l))
}

/// componentize-py [`COMPONENTIZE_PY_VERSION`] in the managed venv.
pub fn check_componentize_py(home: &Path, python_ok: bool) -> Check {
    let version = installed_version(home);
    let ok = version
        .as_ref()
        .is_some_and(|v| v.to_string() == COMPONENTIZE_PY_VERSION);
    let venv = venv_dir(home);
    check("componentize-py", Language::Python, COMPONENTIZE_PY_VERSION)
        .found(version.map(|v| v.to_string()), ok)
        .location(componentize_py(home))
        .fix(
            format!(
                "{PYTHON} -m venv {venv} && {pip} install componentize-py=={COMPONENTIZE_PY_VERSION}",
                venv = venv.display(),
                pip = venv_bin(home, "pip").display()
            ),
            python_ok,
        )
}

/// Create the venv if needed and install componentize-py into it; its path.
pub fn install_componentize_py(term: &Term, home: &Path) -> Result<PathBuf> {
    let venv = venv_dir(home);
    let python = venv_bin(home, "python");
    if !python.is_file() {
        std::fs::create_dir_all(toolchains_dir(home))
            .map_err(|e| anyhow!("failed to create `{}`: {e}", toolchains_dir(home).display()))?;
        let mut command = Command::new(PYTHON);
        command.arg("-m").arg("venv").arg(&venv);
        let shown = display(&command);
        run_logged(
            term,
            "Creating",
            &format!("a Python venv in `{}`", venv.display()),
            command,
        )
        .with_help(|| {
            format!(
                "`{shown}` needs Python's `venv` module (on Debian and Ubuntu: `apt-get \
                 install python3-venv`)"
            )
        })?;
    }
    let mut command = pip_install(home);
    command.arg(format!("componentize-py=={COMPONENTIZE_PY_VERSION}"));
    run_logged(
        term,
        "Installing",
        &format!("componentize-py {COMPONENTIZE_PY_VERSION}"),
        command,
    )?;
    match installed_version(home) {
        Some(v) if v.to_string() == COMPONENTIZE_PY_VERSION => {}
        found => {
            return Err(anyhow!(
                "componentize-py was installed, but `{} --version` reports {}",
                componentize_py(home).display(),
                found.map_or_else(|| "nothing".to_string(), |v| format!("`{v}`"))
            ))
        }
    }
    term.status(
        "Installed",
        format_args!(
            "componentize-py {COMPONENTIZE_PY_VERSION} in `{}`",
            venv.display()
        ),
    );
    Ok(componentize_py(home))
}

/// The path of componentize-py [`COMPONENTIZE_PY_VERSION`], installed first if needed.
pub fn ensure_componentize_py(term: &Term, home: &Path) -> Result<PathBuf> {
    if check_componentize_py(home, true).is_ok() {
        return Ok(componentize_py(home));
    }
    if !check_python().is_ok() {
        return Err(anyhow!(
            "building Python plugins needs componentize-py, and installing it needs Python {}.{} \
             or newer",
            MIN_PYTHON.major,
            MIN_PYTHON.minor
        ))
        .help("install Python 3.10 or newer, then run `cargo flowtrace doctor --fix`");
    }
    // Two builds at once must not both install: the second waits, then finds it done.
    let _lock = crate::toolchain::lock_toolchains(term, home)?;
    if check_componentize_py(home, true).is_ok() {
        return Ok(componentize_py(home));
    }
    install_componentize_py(term, home)
}
