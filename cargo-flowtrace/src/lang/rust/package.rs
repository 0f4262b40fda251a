//! The cargo package beside `flowtrace.toml`, as `cargo metadata` describes it.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _, Result};
use cargo_metadata::{CrateType, MetadataCommand, TargetKind};

use crate::error::ResultExt;

/// The crate name of the Rust SDK.
pub const SDK_PACKAGE: &str = "flowtrace-plugin-sdk";

/// What the build needs to know about the plugin's package.
#[derive(Debug, Clone)]
pub struct Package {
    /// `Cargo.toml`.
    pub manifest_path: PathBuf,
    /// The package name.
    pub name: String,
    /// The name of its library as cargo names its files: `my_plugin` (cargo writes the
    /// component to `<target dir>/wasm32-wasip2/<profile>/my_plugin.wasm`).
    pub lib_name: String,
    /// How it depends on the Rust SDK directly (so `--features flowtrace-plugin-sdk/..`
    /// applies), when it does.
    pub sdk: Option<SdkDependency>,
}

/// How a package depends on the Rust SDK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SdkDependency {
    /// By version from crates.io, `flowtrace-plugin-sdk = "0.1"`: the build supplies the SDK
    /// it carries (see `super::rust_sdk`).
    Registry {
        /// The version requirement as written: `0.1`.
        requirement: String,
    },
    /// By path, git or another registry: used as it is.
    Other,
}

impl Package {
    /// Whether it depends on the Rust SDK directly.
    pub fn uses_sdk(&self) -> bool {
        self.sdk.is_some()
    }
}

/// The lines that make a package a cdylib, for the `help:`.
pub const CDYLIB_LINES: &str = "[lib]\ncrate-type = [\"cdylib\"]";

/// Read the package whose `Cargo.toml` is in `dir`.
///
/// A package whose own `Cargo.toml` says `crate-type = ["cdylib", ...]` is read from that
/// file (an incremental build should not pay for a `cargo metadata` run); anything else is
/// asked of `cargo metadata`, which knows every way cargo reads a manifest and gives the
/// exact error.
pub fn locate(dir: &Path, cargo: &Path) -> Result<Package> {
    let manifest_path = dir.join("Cargo.toml");
    if !manifest_path.is_file() {
        return Err(anyhow!(
            "no `Cargo.toml` beside `flowtrace.toml` in `{}`",
            dir.display()
        ))
        .help(
            "a Rust plugin is a cargo library package: run `cargo init --lib` in that \
             directory, or create a plugin with `cargo flowtrace new <path>`",
        );
    }
    if let Some(package) = read_cdylib(&manifest_path) {
        return Ok(package);
    }
    locate_with_metadata(manifest_path, cargo)
}

/// The package, when its `Cargo.toml` plainly declares a cdylib library.
fn read_cdylib(manifest_path: &Path) -> Option<Package> {
    let text = std::fs::read_to_string(manifest_path).ok()?;
    let doc: toml::Table = toml::from_str(&text).ok()?;
    let name = doc.get("package")?.get("name")?.as_str()?.to_string();
    let is_cdylib = doc
        .get("lib")?
        .get("crate-type")?
        .as_array()?
        .iter()
        .any(|t| t.as_str() == Some("cdylib"));
    if !is_cdylib {
        return None;
    }
    let mut tables: Vec<&toml::Table> = Vec::new();
    tables.extend(doc.get("dependencies").and_then(toml::Value::as_table));
    if let Some(targets) = doc.get("target").and_then(toml::Value::as_table) {
        for target in targets.values() {
            tables.extend(target.get("dependencies").and_then(toml::Value::as_table));
        }
    }
    let sdk = tables.iter().find_map(|deps| {
        deps.iter().find_map(|(key, value)| {
            let is_sdk = match value.get("package").and_then(toml::Value::as_str) {
                Some(package) => package == SDK_PACKAGE,
                None => key == SDK_PACKAGE,
            };
            is_sdk.then_some(value)
        })
    });
    // `flowtrace-plugin-sdk.workspace = true`: what it inherits is for `cargo metadata` to say.
    if sdk.is_some_and(|v| v.get("workspace").is_some()) {
        return None;
    }
    let sdk = sdk.map(sdk_dependency);
    let lib_name = doc
        .get("lib")?
        .get("name")
        .and_then(toml::Value::as_str)
        .unwrap_or(&name);
    Some(Package {
        manifest_path: manifest_path.to_path_buf(),
        lib_name: file_stem(lib_name),
        name,
        sdk,
    })
}

/// How the dependency `value` (from a `[dependencies]` table) names the SDK.
fn sdk_dependency(value: &toml::Value) -> SdkDependency {
    let other_source = ["path", "git", "registry"];
    match value {
        toml::Value::String(requirement) => SdkDependency::Registry {
            requirement: requirement.clone(),
        },
        toml::Value::Table(table) if !other_source.iter().any(|k| table.contains_key(*k)) => {
            match table.get("version").and_then(toml::Value::as_str) {
                Some(requirement) => SdkDependency::Registry {
                    requirement: requirement.to_string(),
                },
                None => SdkDependency::Other,
            }
        }
        _ => SdkDependency::Other,
    }
}

/// The package as `cargo metadata` sees it; fails when it is not a cdylib.
fn locate_with_metadata(manifest_path: PathBuf, cargo: &Path) -> Result<Package> {
    let metadata = MetadataCommand::new()
        .cargo_path(cargo)
        .manifest_path(&manifest_path)
        .no_deps()
        .exec()
        .with_context(|| {
            format!(
                "failed to read the cargo package `{}`",
                manifest_path.display()
            )
        })?;
    let canonical = manifest_path
        .canonicalize()
        .unwrap_or_else(|_| manifest_path.clone());
    let package = metadata
        .packages
        .iter()
        .find(|p| {
            let p = p.manifest_path.as_std_path();
            p == manifest_path || p.canonicalize().ok().as_deref() == Some(&canonical)
        })
        .ok_or_else(|| {
            anyhow!(
                "`{}` is a workspace manifest without a package",
                manifest_path.display()
            )
        })
        .help("put flowtrace.toml beside the plugin package's own `Cargo.toml`")?;
    let name = package.name.to_string();
    let lib = package
        .targets
        .iter()
        .find(|t| t.kind.iter().any(is_library_kind));
    let is_cdylib = lib.is_some_and(|t| {
        t.crate_types.contains(&CrateType::CDyLib) || t.kind.contains(&TargetKind::CDyLib)
    });
    if !is_cdylib {
        let what = match lib {
            Some(_) => format!(
                "package `{name}` does not build a `cdylib`, so cargo cannot build it into a \
                 WebAssembly component"
            ),
            None => format!(
                "package `{name}` has no library target, so cargo cannot build it into a \
                 WebAssembly component"
            ),
        };
        let help = format!(
            "add these lines to `{}`{}:\n\n{}\n",
            manifest_path.display(),
            if lib.is_none() {
                " and put the plugin in `src/lib.rs`"
            } else {
                ""
            },
            indent(CDYLIB_LINES)
        );
        return Err(anyhow!(what)).help(help);
    }
    let sdk = package
        .dependencies
        .iter()
        .find(|d| d.name == SDK_PACKAGE && d.kind == cargo_metadata::DependencyKind::Normal)
        .map(|d| {
            let crates_io = d.source.as_ref().is_some_and(|s| s.is_crates_io());
            if d.path.is_none() && crates_io {
                SdkDependency::Registry {
                    requirement: d.req.to_string(),
                }
            } else {
                SdkDependency::Other
            }
        });
    let lib_name = file_stem(lib.map_or(&name, |t| &t.name));
    Ok(Package {
        manifest_path,
        name,
        lib_name,
        sdk,
    })
}

/// A library's name as cargo spells it in file names: `-` becomes `_`.
fn file_stem(lib_name: &str) -> String {
    lib_name.replace('-', "_")
}

fn is_library_kind(kind: &TargetKind) -> bool {
    matches!(
        kind,
        TargetKind::Lib
            | TargetKind::CDyLib
            | TargetKind::DyLib
            | TargetKind::RLib
            | TargetKind::StaticLib
    )
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
