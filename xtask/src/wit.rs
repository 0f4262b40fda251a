//! `cargo xtask wit [--check]`: copy the contract in `wit/` to every crate that needs its own
//! copy (a published crate cannot reach outside its directory) and generate the TypeScript
//! SDK's declarations of it ([`crate::wit_ts`]), or (with `--check`, in CI) fail when a copy
//! or the declarations have drifted.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::wit_ts;

/// Where copies live, relative to the repository root.
const COPIES: &[&str] = &["sdk/rust/wit", "runtime/wit"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn wit_files(dir: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    if !dir.exists() {
        return Ok(files);
    }
    for entry in
        std::fs::read_dir(dir).with_context(|| format!("failed to read `{}`", dir.display()))?
    {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "wit") {
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let bytes = std::fs::read(&path)
                .with_context(|| format!("failed to read `{}`", path.display()))?;
            files.push((name, bytes));
        }
    }
    files.sort();
    Ok(files)
}

pub fn run(args: &[String]) -> Result<()> {
    let check = args.iter().any(|a| a == "--check");
    let root = root();
    let source = wit_files(&root.join("wit"))?;
    if source.is_empty() {
        bail!("no .wit files in `{}`", root.join("wit").display());
    }
    let mut drifted = Vec::new();
    for copy in COPIES {
        let dir = root.join(copy);
        if !dir.parent().is_some_and(Path::exists) {
            continue; // that SDK does not exist (yet)
        }
        if wit_files(&dir)? == source {
            continue;
        }
        if check {
            drifted.push(*copy);
            continue;
        }
        if dir.exists() {
            for (name, _) in wit_files(&dir)? {
                std::fs::remove_file(dir.join(&name))?;
            }
        }
        std::fs::create_dir_all(&dir)?;
        for (name, bytes) in &source {
            std::fs::write(dir.join(name), bytes)
                .with_context(|| format!("failed to write `{}`", dir.join(name).display()))?;
        }
        eprintln!("updated {copy}");
    }
    let declarations = root.join(wit_ts::PATH);
    if declarations.parent().is_some_and(Path::exists) {
        let generated = wit_ts::generate(&root.join("wit"))?;
        let current = std::fs::read_to_string(&declarations).unwrap_or_default();
        if current != generated {
            if check {
                drifted.push(wit_ts::PATH);
            } else {
                std::fs::write(&declarations, generated)
                    .with_context(|| format!("failed to write `{}`", declarations.display()))?;
                eprintln!("updated {}", wit_ts::PATH);
            }
        }
    }
    if !drifted.is_empty() {
        bail!(
            "out of sync with `wit/`: {}\nhelp: edit `wit/` only, then run `cargo xtask wit` and commit what it writes",
            drifted.join(", ")
        );
    }
    Ok(())
}
