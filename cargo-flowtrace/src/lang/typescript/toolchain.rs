//! node, npm, componentize-js and esbuild, installed with npm under
//! `$FLOWTRACE_HOME/toolchains/node`.
//!
//! A TypeScript plugin is bundled into one ES module by esbuild, then componentize-js turns
//! that module into a component: both are pinned, and installed together into one npm prefix.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, Context as _, Result};
use semver::Version;

use flowtrace_plugins::manifest::Language;

use crate::error::ResultExt;
use crate::term::Term;
use crate::toolchain::process::{first_line, parse_version, run_logged};
use crate::toolchain::{check, toolchains_dir, Check};

/// The npm package that builds TypeScript and JavaScript plugins.
pub const COMPONENTIZE_JS_PACKAGE: &str = "@bytecodealliance/componentize-js";

/// Its release plugins are built with (TOOLCHAIN.md: call its own CLI, not jco's).
pub const COMPONENTIZE_JS_VERSION: &str = "0.23.0";

/// The bundler that turns a plugin's TypeScript or JavaScript, its npm dependencies and the
/// SDK into the one ES module componentize-js builds.
pub const ESBUILD_PACKAGE: &str = "esbuild";

/// Its release plugins are bundled with.
pub const ESBUILD_VERSION: &str = "0.28.2";

/// The type checker `build` runs over a TypeScript plugin (`tsc --noEmit`, with the
/// plugin's tsconfig.json), and that the template's `npm run typecheck` finds without an
/// `npm install`: TypeScript 7, the native compiler (its binary comes in a platform
/// package npm picks).
pub const TYPESCRIPT_PACKAGE: &str = "typescript";

/// Its release the build type-checks with (the templates' `devDependencies` name the same).
pub const TYPESCRIPT_VERSION: &str = "7.0.2";

/// What componentize-js 0.23.0 imports at run time but declares only as a development
/// dependency: `lib/spidermonkey-embedding-splicer.js` imports
/// `@bytecodealliance/preview2-shim`. A fresh install happens to hoist a copy to the top of
/// `node_modules` (0.25.0, a dependency of jco's); a second `npm install` into the same
/// prefix may not, and componentize-js then fails with `ERR_MODULE_NOT_FOUND`. So it is
/// pinned at the version a fresh install resolves, and installed with the tools.
pub const COMPONENTIZE_JS_RUNTIME_DEPS: [(&str, &str); 1] =
    [("@bytecodealliance/preview2-shim", "0.25.0")];

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

/// The installed `tsc` command.
pub fn tsc(home: &Path) -> PathBuf {
    let name = if cfg!(windows) { "tsc.cmd" } else { "tsc" };
    node_dir(home).join("node_modules/.bin").join(name)
}

/// `node`, at [`MIN_NODE`] or newer.
pub fn check_node() -> Check {
    let version = first_line("node", &["--version"]).and_then(|l| parse_version(&l));
    let ok = version.as_ref().is_some_and(|v| *v >= MIN_NODE);
    check(
        "node",
        Language::TypeScript,
        format!("{} or newer", MIN_NODE.major),
    )
    .found(version.map(|v| v.to_string()), ok)
    .fix("install Node.js 18 or newer (https://nodejs.org)", false)
}

/// `npm`, to install componentize-js.
pub fn check_npm() -> Check {
    let version = first_line(NPM, &["--version"]).and_then(|l| parse_version(&l));
    check("npm", Language::TypeScript, "any")
        .found(version.map(|v| v.to_string()), true)
        .fix("install npm (it comes with Node.js)", false)
}

/// The esbuild package under the managed prefix (the bundle script loads its JavaScript API
/// from there).
pub fn esbuild_dir(home: &Path) -> PathBuf {
    node_dir(home).join("node_modules").join(ESBUILD_PACKAGE)
}

/// The version in the installed `package`'s `package.json`.
fn package_version(home: &Path, package: &str) -> Option<String> {
    let manifest = node_dir(home)
        .join("node_modules")
        .join(package)
        .join("package.json");
    let text = std::fs::read_to_string(manifest).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some(json.get("version")?.as_str()?.to_string())
}

/// The installed esbuild's native binary (npm installs it from a platform package; an
/// install that skipped optional dependencies has none).
fn esbuild_bin(home: &Path) -> PathBuf {
    let bin = if cfg!(windows) {
        "esbuild.cmd"
    } else {
        "esbuild"
    };
    node_dir(home).join("node_modules/.bin").join(bin)
}

/// A pinned npm package of the managed prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeTool {
    /// componentize-js.
    ComponentizeJs,
    /// esbuild.
    Esbuild,
    /// TypeScript's `tsc`, the type checker.
    TypeScript,
}

impl NodeTool {
    /// All three, in install order.
    pub const ALL: [NodeTool; 3] = [
        NodeTool::ComponentizeJs,
        NodeTool::Esbuild,
        NodeTool::TypeScript,
    ];

    /// The name `doctor` shows.
    pub fn name(self) -> &'static str {
        match self {
            NodeTool::ComponentizeJs => "componentize-js",
            NodeTool::Esbuild => "esbuild",
            NodeTool::TypeScript => "typescript",
        }
    }

    /// The npm package.
    pub fn package(self) -> &'static str {
        match self {
            NodeTool::ComponentizeJs => COMPONENTIZE_JS_PACKAGE,
            NodeTool::Esbuild => ESBUILD_PACKAGE,
            NodeTool::TypeScript => TYPESCRIPT_PACKAGE,
        }
    }

    /// The pinned version.
    pub fn version(self) -> &'static str {
        match self {
            NodeTool::ComponentizeJs => COMPONENTIZE_JS_VERSION,
            NodeTool::Esbuild => ESBUILD_VERSION,
            NodeTool::TypeScript => TYPESCRIPT_VERSION,
        }
    }

    /// What it needs at run time besides what npm installs with it.
    fn runtime_deps(self) -> &'static [(&'static str, &'static str)] {
        match self {
            NodeTool::ComponentizeJs => &COMPONENTIZE_JS_RUNTIME_DEPS,
            NodeTool::Esbuild | NodeTool::TypeScript => &[],
        }
    }

    /// What a build runs: the `componentize-js` command, the esbuild package.
    pub fn location(self, home: &Path) -> PathBuf {
        match self {
            NodeTool::ComponentizeJs => componentize_js(home),
            NodeTool::Esbuild => esbuild_dir(home),
            NodeTool::TypeScript => tsc(home),
        }
    }

    /// The installed version, when its command (componentize-js) or native binary
    /// (esbuild) is there too.
    fn installed_version(self, home: &Path) -> Option<String> {
        let version = package_version(home, self.package())?;
        let command = match self {
            NodeTool::ComponentizeJs => componentize_js(home),
            NodeTool::Esbuild => esbuild_bin(home),
            NodeTool::TypeScript => tsc(home),
        };
        command.exists().then_some(version)
    }

    /// Whether the pinned version is installed under `home`, with its run-time
    /// dependencies.
    pub fn is_installed(self, home: &Path) -> bool {
        self.installed_version(home).as_deref() == Some(self.version())
            && self.runtime_deps().iter().all(|(package, version)| {
                package_version(home, package).as_deref() == Some(version)
            })
    }

    /// The pinned version under the managed prefix, as `doctor` reports it.
    pub fn check(self, home: &Path, npm_ok: bool) -> Check {
        // Its version alone is not enough: without its undeclared run-time dependency
        // componentize-js fails.
        let ok = self.is_installed(home);
        let version = match (self.installed_version(home), self.runtime_deps().first()) {
            (Some(v), Some((dep, _))) if !ok && v == self.version() => {
                Some(format!("{v} without {dep}"))
            }
            (other, _) => other,
        };
        let specs: String = std::iter::once((self.package(), self.version()))
            .chain(self.runtime_deps().iter().copied())
            .map(|(package, version)| format!(" {package}@{version}"))
            .collect();
        check(self.name(), Language::TypeScript, self.version())
            .found(version, ok)
            .location(self.location(home))
            .fix(
                format!(
                    "npm install --prefix {} --save-exact{specs}",
                    node_dir(home).display()
                ),
                npm_ok,
            )
    }
}

/// Install `tools` at their pinned versions under the managed prefix, with one npm run.
/// The caller holds the toolchains lock.
pub fn install_tools(term: &Term, home: &Path, tools: &[NodeTool]) -> Result<()> {
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
    // Every tool and pinned dependency in each run, whichever are missing: npm then lays
    // out one consistent tree (a run naming one package can move the others' dependencies).
    let specs: Vec<String> = NodeTool::ALL
        .iter()
        .map(|t| format!("{}@{}", t.package(), t.version()))
        .chain(
            COMPONENTIZE_JS_RUNTIME_DEPS
                .iter()
                .map(|(package, version)| format!("{package}@{version}")),
        )
        .collect();
    let mut command = Command::new(NPM);
    command
        .arg("install")
        .arg("--prefix")
        .arg(&dir)
        .args([
            "--save-exact",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ])
        .args(&specs);
    let what: Vec<String> = NodeTool::ALL
        .iter()
        .map(|t| format!("{} {}", t.package(), t.version()))
        .collect();
    run_logged(
        term,
        "Installing",
        &format!("{} (npm)", what.join(", ")),
        command,
    )?;
    for tool in tools {
        if !tool.is_installed(home) {
            let found = package_version(home, tool.package());
            return Err(anyhow!(
                "npm finished, but `{}` in `{}` is not version {} (found {})",
                tool.package(),
                dir.display(),
                tool.version(),
                found.map_or_else(|| "nothing".to_string(), |v| format!("`{v}`"))
            ));
        }
    }
    term.status(
        "Installed",
        format_args!("{} in `{}`", what.join(", "), dir.display()),
    );
    Ok(())
}

/// What building a TypeScript plugin runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeTools {
    /// The `componentize-js` command.
    pub componentize_js: PathBuf,
    /// The componentize-js package directory (its JavaScript API).
    pub componentize_js_package: PathBuf,
    /// The esbuild package directory.
    pub esbuild: PathBuf,
    /// The `tsc` command.
    pub tsc: PathBuf,
}

/// componentize-js, esbuild and TypeScript at their pinned versions, installed first (with
/// one npm run, under the toolchains lock) when any is missing.
pub fn ensure_node_tools(term: &Term, home: &Path) -> Result<NodeTools> {
    let tools = NodeTools {
        componentize_js: componentize_js(home),
        componentize_js_package: node_dir(home)
            .join("node_modules/@bytecodealliance/componentize-js"),
        esbuild: esbuild_dir(home),
        tsc: tsc(home),
    };
    let missing = |home: &Path| -> Vec<NodeTool> {
        NodeTool::ALL
            .into_iter()
            .filter(|t| !t.is_installed(home))
            .collect()
    };
    if missing(home).is_empty() {
        return Ok(tools);
    }
    if !(check_node().is_ok() && check_npm().is_ok()) {
        return Err(anyhow!(
            "building TypeScript plugins needs componentize-js, esbuild and TypeScript, and \
             installing them \
             needs Node.js {} or newer with npm",
            MIN_NODE.major
        ))
        .help("install Node.js, then run `cargo flowtrace doctor --fix`");
    }
    // Two builds at once must not both install: the second waits, then finds it done.
    let _lock = crate::toolchain::lock_toolchains(term, home)?;
    let missing = missing(home);
    if !missing.is_empty() {
        install_tools(term, home, &missing)?;
    }
    Ok(tools)
}
