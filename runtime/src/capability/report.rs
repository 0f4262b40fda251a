//! The result of a capability check: a verdict per import, problems with the exports.

use std::fmt;

use serde::Serialize;

use super::table::Capability;
use super::toolchain::Toolchain;
use crate::inspect::ItemKind;

/// What the host does with one import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "verdict",
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case"
)]
pub enum Verdict {
    /// Granted: always (`types`, `log`, `config`) or by a declared capability.
    Ok,
    /// WASI every plugin gets: io, clocks, random, stdio, exit, terminal.
    Baseline,
    /// Linked, but every call is denied (no preopens, no sockets, no env, every request
    /// refused).
    Sandboxed {
        /// The toolchain that added the import, when it is one the language's toolchain adds
        /// by default.
        injected_by: Option<Toolchain>,
        /// How to get rid of the import or grant it.
        fix: Option<String>,
    },
    /// A `flowtrace:plugin` interface whose capability the manifest does not declare.
    Undeclared {
        /// The capability that grants the interface.
        capability: Capability,
        /// The line to add under `[capabilities]`.
        manifest_line: String,
    },
    /// Neither the contract nor a WASI interface this host provides.
    Unknown,
    /// A `flowtrace:plugin` or WASI interface of a version the host cannot provide.
    IncompatibleVersion {
        /// The version the component imports; `None` when the name has none.
        found: Option<String>,
        /// The version the host provides.
        host: String,
    },
}

impl Verdict {
    /// Whether this verdict stops the plugin from loading.
    pub fn is_error(&self) -> bool {
        matches!(
            self,
            Verdict::Undeclared { .. } | Verdict::Unknown | Verdict::IncompatibleVersion { .. }
        )
    }

    /// A short label: `ok`, `baseline`, `sandboxed`, `undeclared`, `unknown`,
    /// `incompatible-version`.
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Baseline => "baseline",
            Verdict::Sandboxed { .. } => "sandboxed",
            Verdict::Undeclared { .. } => "undeclared",
            Verdict::Unknown => "unknown",
            Verdict::IncompatibleVersion { .. } => "incompatible-version",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The verdict on one top-level import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ImportVerdict {
    /// The import's name, as written in the component.
    pub import: String,
    /// What the host does with it.
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Why, in words.
    pub reason: String,
}

impl ImportVerdict {
    /// The error this verdict stands for, if it is one.
    pub fn error(&self) -> Option<CapabilityError> {
        let import = self.import.clone();
        match &self.verdict {
            Verdict::Ok | Verdict::Baseline | Verdict::Sandboxed { .. } => None,
            Verdict::Undeclared {
                capability,
                manifest_line,
            } => Some(CapabilityError::UndeclaredCapability {
                import,
                capability: *capability,
                manifest_line: manifest_line.clone(),
            }),
            Verdict::Unknown => Some(CapabilityError::UnknownImport {
                import,
                reason: self.reason.clone(),
            }),
            Verdict::IncompatibleVersion { found, host } => {
                Some(CapabilityError::IncompatibleImport {
                    import,
                    found: found.clone(),
                    host: host.clone(),
                })
            }
        }
    }
}

impl fmt::Display for ImportVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<20} {}: {}",
            self.verdict.label(),
            self.import,
            self.reason
        )?;
        if let Verdict::Sandboxed { fix: Some(fix), .. } = &self.verdict {
            write!(f, " ({fix})")?;
        }
        Ok(())
    }
}

/// Something wrong with what a component exports, given its manifest's kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(
    tag = "problem",
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case"
)]
pub enum ExportProblem {
    /// The kind's interface is not exported at all.
    #[error(
        "the component does not export `{expected}`, which a plugin of kind `{kind}` must \
         export; it exports {}",
        list_or_nothing(found)
    )]
    Missing {
        /// The export the kind needs, e.g. `flowtrace:plugin/evaluator@0.1.0`.
        expected: String,
        /// The manifest's kind, e.g. `evaluator`.
        kind: String,
        /// Every top-level export of the component.
        found: Vec<String>,
        /// Another plugin kind whose interface the component does export.
        other_kind: Option<String>,
    },
    /// The kind's interface is exported, but from a contract version the host cannot call.
    #[error(
        "export `{export}` is contract version {}, not compatible with the host's `{host}`",
        found.as_deref().map_or_else(|| "(none)".to_string(), |v| format!("`{v}`"))
    )]
    IncompatibleVersion {
        /// The export's name.
        export: String,
        /// Its version; `None` when the name has none.
        found: Option<String>,
        /// The contract version the host implements.
        host: String,
    },
    /// The kind's interface name is exported as something other than an instance.
    #[error("export `{export}` is a {item}, not an instance of the interface")]
    NotAnInstance {
        /// The export's name.
        export: String,
        /// What it is instead.
        item: ItemKind,
    },
}

fn list_or_nothing(names: &[String]) -> String {
    if names.is_empty() {
        "nothing".into()
    } else {
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl ExportProblem {
    /// The known fix, for a `help:` line.
    pub fn help(&self) -> Option<String> {
        match self {
            ExportProblem::Missing {
                kind,
                other_kind: Some(other),
                ..
            } => Some(format!(
                "set `kind = \"{other}\"` under `[plugin]` in flowtrace.toml, or build against \
                 the `{kind}-plugin` world and implement `{kind}`"
            )),
            ExportProblem::Missing { kind, .. } => Some(format!(
                "build against the `{kind}-plugin` world of `flowtrace:plugin` and implement the \
                 `{kind}` interface"
            )),
            ExportProblem::IncompatibleVersion { host, .. } => Some(format!(
                "rebuild the plugin against `flowtrace:plugin@{host}` (update the SDK or the \
                 plugin's `wit/`)"
            )),
            ExportProblem::NotAnInstance { .. } => None,
        }
    }
}

/// A capability-check failure, ready to print as `error:` with its `help:`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(
    tag = "error",
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case"
)]
pub enum CapabilityError {
    /// A `flowtrace:plugin` import whose capability is not declared.
    #[error(
        "import `{import}` needs capability `{capability}`, which flowtrace.toml does not declare"
    )]
    UndeclaredCapability {
        /// The import's name.
        import: String,
        /// The capability that grants it.
        capability: Capability,
        /// The line to add under `[capabilities]`.
        manifest_line: String,
    },
    /// An import the host does not provide.
    #[error("unknown import `{import}`: {reason}")]
    UnknownImport {
        /// The import's name.
        import: String,
        /// Why it is unknown.
        reason: String,
    },
    /// An import of a version the host does not provide.
    #[error(
        "import `{import}` is version {}, not compatible with the host's `{host}`",
        found.as_deref().map_or_else(|| "(none)".to_string(), |v| format!("`{v}`"))
    )]
    IncompatibleImport {
        /// The import's name.
        import: String,
        /// Its version; `None` when the name has none.
        found: Option<String>,
        /// The version the host provides.
        host: String,
    },
    /// A problem with the exports.
    #[error(transparent)]
    Export {
        /// What is wrong.
        #[from]
        #[serde(flatten)]
        problem: ExportProblem,
    },
}

impl CapabilityError {
    /// The known fix, for a `help:` line.
    pub fn help(&self) -> Option<String> {
        match self {
            CapabilityError::UndeclaredCapability { manifest_line, .. } => Some(format!(
                "add `{manifest_line}` under `[capabilities]` in flowtrace.toml"
            )),
            CapabilityError::UnknownImport { .. } => None,
            CapabilityError::IncompatibleImport { import, host, .. } => {
                if import.starts_with("wasi:") {
                    Some(format!(
                        "build with a toolchain that targets WASI `{host}` (this host links \
                         every `0.2.x` release)"
                    ))
                } else {
                    Some(format!(
                        "rebuild the plugin against `flowtrace:plugin@{host}` (update the SDK \
                         or the plugin's `wit/`)"
                    ))
                }
            }
            CapabilityError::Export { problem } => problem.help(),
        }
    }
}

/// The verdict on every import of a component and the problems with its exports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CapabilityReport {
    /// One verdict per top-level import, in the component's order.
    pub verdicts: Vec<ImportVerdict>,
    /// What is wrong with the exports; empty when the kind's interface is exported.
    pub export_problems: Vec<ExportProblem>,
}

impl CapabilityReport {
    /// Whether the plugin may load: no import is an error and the exports are right.
    pub fn is_ok(&self) -> bool {
        self.export_problems.is_empty() && !self.verdicts.iter().any(|v| v.verdict.is_error())
    }

    /// Every error, imports first: all of them, not just the first.
    pub fn errors(&self) -> Vec<CapabilityError> {
        self.verdicts
            .iter()
            .filter_map(ImportVerdict::error)
            .chain(
                self.export_problems
                    .iter()
                    .cloned()
                    .map(CapabilityError::from),
            )
            .collect()
    }

    /// The imports the linker must link to deny-everything stubs.
    pub fn sandboxed(&self) -> impl Iterator<Item = &ImportVerdict> {
        self.verdicts
            .iter()
            .filter(|v| matches!(v.verdict, Verdict::Sandboxed { .. }))
    }

    /// The verdict on the import called `import`, if the component has it.
    pub fn verdict(&self, import: &str) -> Option<&ImportVerdict> {
        self.verdicts.iter().find(|v| v.import == import)
    }
}

impl fmt::Display for CapabilityReport {
    /// One line per import (`label import: reason`), then one per export problem.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for verdict in &self.verdicts {
            writeln!(f, "{verdict}")?;
        }
        for problem in &self.export_problems {
            writeln!(f, "{:<20} {problem}", "export-problem")?;
        }
        Ok(())
    }
}
