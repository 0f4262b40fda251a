//! node, npm and componentize-js, installed with npm under `$FLOWTRACE_HOME/toolchains/node`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, Context as _, Result};
use semver::Version;

use super::process::{first_line, parse_version, run_logged};
use super::{check, toolchains_dir, Check, Installer};
use crate::error::ResultExt;
use crate::term::Term;

/// The npm package that builds TypeScript and JavaScript plugins.
pub const COMPONENTIZE_JS_PACKAGE: &str = "@bytecodealliance/componentize-js";

/// Its release plugins are built with (TOOLCHAIN.md: call its own CLI, not jco's).
pub const COMPONENTIZE_JS_VERSION: &str = "0.23.0";

/// The oldest node componentize-js runs on.
pub const MIN_NODE: Version = Version::new(18, 0, 0);

const NPM: &str = if cfg!(windows) { "npm.cmd" } else { "npm" };

/// The managed npm prefix.
pub fn node_dir(home: &Path) -> PathBuf {
    toolchains_dir(home).join("node")
}

/// The installed `componentize-js` command.
pub fn componentize_js(home: &Path) -> PathBuf {
    let name = if cfg!(windows) {
        "componentize-js.cmd"
    } else {
        "componentize-js"
    };
    node_dir(home).join("node_modules/.bin").join(name)
}

/// `node`, at [`MIN_NODE`] or newer.
pub fn check_node() -> Check {
    let version = first_line("node", &["--version"]).and_then(|l| parse_version(&l));
    let ok = version.as_ref().is_some_and(|v| *v >= MIN_NODE);
    check("node", "typescript", format!("{} or newer", MIN_NODE.major))
        .found(version.map(|v| v.to_string()), ok)
        .fix("install Node.js 18 or newer (https://nodejs.org)", None)
}

/// `npm`, to install componentize-js.
pub fn check_npm() -> Check {
    let version = first_line(NPM, &["--version"]).and_then(|l| parse_version(&l));
    check("npm", "typescript", "any")
        .found(version.map(|v| v.to_string()), true)
        .fix("install npm (it comes with Node.js)", None)
}

/// The version in the installed package's `package.json`.
fn installed_version(home: &Path) -> Option<String> {
    let manifest = node_dir(home)
        .join("node_modules")
        .join(COMPONENTIZE_JS_PACKAGE)
        .join("package.json");
    let text = std::fs::read_to_string(manifest).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    let version = json.get("version")?.as_str()?.to_string();
    componentize_js(home).exists().then_some(version)
}

/// componentize-js [`COMPONENTIZE_JS_VERSION`] under the managed prefix.
pub fn check_componentize_js(home: &Path, npm_ok: bool) -> Check {
    let version = installed_version(home);
    let ok = version.as_deref() == Some(COMPONENTIZE_JS_VERSION);
    check("componentize-js", "typescript", COMPONENTIZE_JS_VERSION)
        .found(version, ok)
        .location(componentize_js(home))
        .fix(
            format!(
                "npm install --prefix {} --save-exact {COMPONENTIZE_JS_PACKAGE}@{COMPONENTIZE_JS_VERSION}",
                node_dir(home).display()
            ),
            npm_ok.then_some(Installer::ComponentizeJs),
        )
}

/// Install componentize-js under the managed prefix; the path of its command.
pub fn install_componentize_js(term: &Term, home: &Path) -> Result<PathBuf> {
    let dir = node_dir(home);
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("failed to create `{}`", dir.display()))?;
    let package_json = dir.join("package.json");
    if !package_json.exists() {
        // Without one, npm looks for a package.json in the parent directories and installs
        // there.
        std::fs::write(
            &package_json,
            "{\n  \"name\": \"flowtrace-toolchain\",\n  \"private\": true\n}\n",
        )
        .with_context(|| format!("failed to write `{}`", package_json.display()))?;
    }
    let mut command = Command::new(NPM);
    command.arg("install").arg("--prefix").arg(&dir).args([
        "--save-exact",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        &format!("{COMPONENTIZE_JS_PACKAGE}@{COMPONENTIZE_JS_VERSION}"),
    ]);
    run_logged(
        term,
        "Installing",
        &format!("{COMPONENTIZE_JS_PACKAGE} {COMPONENTIZE_JS_VERSION} (npm)"),
        command,
    )?;
    match installed_version(home) {
        Some(v) if v == COMPONENTIZE_JS_VERSION => {}
        found => {
            return Err(anyhow!(
                "npm finished, but `{}` is not version {COMPONENTIZE_JS_VERSION} (found {})",
                componentize_js(home).display(),
                found.map_or_else(|| "nothing".to_string(), |v| format!("`{v}`"))
            ))
        }
    }
    term.status(
        "Installed",
        format_args!(
            "{COMPONENTIZE_JS_PACKAGE} {COMPONENTIZE_JS_VERSION} in `{}`",
            dir.display()
        ),
    );
    Ok(componentize_js(home))
}

/// The path of componentize-js [`COMPONENTIZE_JS_VERSION`], installed first if needed.
pub fn ensure_componentize_js(term: &Term, home: &Path) -> Result<PathBuf> {
    if check_componentize_js(home, true).is_ok() {
        return Ok(componentize_js(home));
    }
    if !(check_node().is_ok() && check_npm().is_ok()) {
        return Err(anyhow!(
            "building TypeScript plugins needs componentize-js, and installing it needs Node.js \
             {} or newer with npm",
            MIN_NODE.major
        ))
        .help("install Node.js, then run `cargo flowtrace doctor --fix`");
    }
    // Two builds at once must not both install: the second waits, then finds it done.
    let _lock = super::lock_toolchains(term, home)?;
    if check_componentize_js(home, true).is_ok() {
        return Ok(componentize_js(home));
    }
    install_componentize_js(term, home)
}
