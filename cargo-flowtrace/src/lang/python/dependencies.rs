//! The packages a Python plugin bundles: `[project] dependencies` of its `pyproject.toml`,
//! installed into the build directory as pure-Python wheels.

use std::path::Path;

use anyhow::{anyhow, Context as _, Result};

use super::toolchain;
use crate::error::ResultExt;
use crate::term::Term;
use crate::toolchain::process::run_logged;

/// `[project] dependencies` of `pyproject.toml`, when there is one.
pub(super) fn read(root: &Path) -> Result<Vec<String>> {
    let path = root.join("pyproject.toml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(Vec::new());
    };
    let doc: toml::Table =
        toml::from_str(&text).with_context(|| format!("failed to parse `{}`", path.display()))?;
    let Some(list) = doc.get("project").and_then(|p| p.get("dependencies")) else {
        return Ok(Vec::new());
    };
    let list = list.as_array().ok_or_else(|| {
        anyhow!(
            "`project.dependencies` in `{}` is not an array of strings",
            path.display()
        )
    })?;
    list.iter()
        .map(|d| {
            d.as_str().map(str::to_string).ok_or_else(|| {
                anyhow!(
                    "`project.dependencies` in `{}` has an entry that is not a string: `{d}`",
                    path.display()
                )
            })
        })
        .collect()
}

/// Install `dependencies` into `dir` with the toolchain venv's pip, as pure-Python wheels
/// (a component cannot load native extensions built for this machine), when the list
/// changed since the last install: componentize-py bundles them from there.
pub(super) fn bundle(term: &Term, home: &Path, dir: &Path, dependencies: &[String]) -> Result<()> {
    let marker = dir.join(".requirements");
    let wanted = dependencies.join("\n");
    if dependencies.is_empty() {
        if dir.exists() {
            std::fs::remove_dir_all(dir)
                .with_context(|| format!("failed to remove `{}`", dir.display()))?;
        }
        return Ok(());
    }
    if std::fs::read_to_string(&marker).is_ok_and(|old| old == wanted) {
        return Ok(());
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir)
            .with_context(|| format!("failed to remove `{}`", dir.display()))?;
    }
    let mut command = toolchain::pip_install(home);
    command
        .args([
            "--only-binary",
            ":all:",
            "--platform",
            "any",
            "--implementation",
            "py",
            "--python-version",
            toolchain::GUEST_PYTHON,
            "--target",
        ])
        .arg(dir)
        .args(dependencies);
    run_logged(
        term,
        "Installing",
        &format!("{} Python package(s) for the plugin", dependencies.len()),
        command,
    )
    .with_help(|| {
        "a plugin can bundle pure-Python packages only (wheels tagged `py3-none-any`): \
         packages with native code cannot run in a component"
            .to_string()
    })?;
    std::fs::write(&marker, wanted)
        .with_context(|| format!("failed to write `{}`", marker.display()))?;
    Ok(())
}
