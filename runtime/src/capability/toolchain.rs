//! Which WASI imports each language toolchain adds on its own, and the flag that removes them
//! (TOOLCHAIN.md, "What each toolchain imports by default").

use std::fmt;

use serde::Serialize;

use crate::manifest::Language;

/// A toolchain that puts WASI imports into a component the plugin's code never asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Toolchain {
    /// Rust's standard library on `wasm32-wasip2`.
    RustStd,
    /// componentize-py: CPython in the component.
    ComponentizePy,
    /// componentize-js: StarlingMonkey (SpiderMonkey) in the component.
    ComponentizeJs,
}

impl Toolchain {
    /// The toolchain the Flowtrace build uses for `language`.
    pub fn for_language(language: Language) -> Self {
        match language {
            Language::Rust => Toolchain::RustStd,
            Language::Python => Toolchain::ComponentizePy,
            Language::TypeScript => Toolchain::ComponentizeJs,
        }
    }

    /// Whether this toolchain imports `wasi:<package>/<interface>` by default, whatever the
    /// plugin's code does.
    pub fn injects(self, package: &str, interface: &str) -> bool {
        match self {
            // std links `wasi:cli/environment` and `wasi:filesystem` even for pure
            // computation; sockets only come from code that uses `std::net`.
            Toolchain::RustStd => {
                matches!(
                    (package, interface),
                    ("cli", "environment") | ("filesystem", _)
                )
            }
            // CPython's runtime: all of cli, filesystem and sockets.
            Toolchain::ComponentizePy => matches!(package, "cli" | "filesystem" | "sockets"),
            // StarlingMonkey: `fetch` over wasi:http, cli, filesystem.
            Toolchain::ComponentizeJs => {
                matches!(package, "cli" | "filesystem")
                    || matches!((package, interface), ("http", "outgoing-handler" | "types"))
            }
        }
    }

    /// How to build without the import, when the toolchain has a switch for it.
    pub fn removal(self, package: &str) -> Option<String> {
        match self {
            // No switch: std's imports stay, and stay sandboxed.
            Toolchain::RustStd => None,
            // componentize-py's only switch, `--stub-wasi`, takes away every WASI import
            // (the clocks and random CPython uses too), and a plugin's manifest cannot pass
            // it: advice nobody can act on is left out. The imports stay, sandboxed.
            Toolchain::ComponentizePy => None,
            Toolchain::ComponentizeJs if package == "http" => Some(
                "pass `-d http fetch-event` to `componentize-js` to remove it, or declare \
                 `network = { hosts = [...] }` under `[capabilities]` to make requests"
                    .into(),
            ),
            Toolchain::ComponentizeJs => Some(
                "pass `-d stdio` to `componentize-js` to remove it (the Flowtrace build \
                 does; keep `random` and `clocks`: without them `Math.random()` and `Date.now()` \
                 trap)"
                    .into(),
            ),
        }
    }
}

impl fmt::Display for Toolchain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Toolchain::RustStd => "Rust std on `wasm32-wasip2`",
            Toolchain::ComponentizePy => "componentize-py",
            Toolchain::ComponentizeJs => "componentize-js",
        })
    }
}
