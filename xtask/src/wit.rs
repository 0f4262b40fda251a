//! `cargo xtask wit [--check]`: copy the contract in `wit/` to every crate that needs its own
//! copy (a published crate cannot reach outside its directory), or (with `--check`, in CI)
//! fail when a copy has drifted.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

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
    if !drifted.is_empty() {
        bail!(
            "the WIT copies in {} differ from `wit/`\nhelp: edit `wit/` only, then run `cargo xtask wit` and commit the copies",
            drifted.join(", ")
        );
    }
    Ok(())
}
