//! Errors as `cargo flowtrace` shows them: the message, the `Caused by:` chain, the fix and
//! the exit code.
//!
//! Commands return `anyhow::Result` and add context on every file and process call
//! (`.with_context(|| format!("failed to read `{}`", path.display()))`). On top of that:
//!
//! * **A fix**: `.help("pass `--release`")` / `.with_help(|| ...)` on any `Result`
//!   ([`ResultExt`]), or [`with_help`] on an error, adds a `help:` line. The runtime's errors
//!   that know their fix ([`InspectError`], [`RegistryError`], [`ResolveError`],
//!   [`CapabilityError`], [`ExportProblem`], [`LoadError::Policy`]) get their `help:` lines
//!   without asking, wherever they sit in the chain: a runtime [`Fix`] is data, which
//!   [`fix_help`] words as this tool's command line.
//! * **An exit code**: fail with [`TestsFailed`] (exit code
//!   [`TESTS_FAILED`](exit_codes::TESTS_FAILED)) or [`PolicyViolation`]
//!   ([`POLICY_VIOLATION`](exit_codes::POLICY_VIOLATION)); a runtime [`CapabilityError`],
//!   [`ExportProblem`] or [`LoadError::Policy`] in the chain also means `POLICY_VIOLATION`.
//!   Any other code: `.exit_code(code)` ([`ResultExt::exit_code`]).
//!
//! `main` prints the error with [`report`], which renders:
//!
//! ```text
//! error: failed to build plugin `sample-evaluator`
//!
//! Caused by:
//!   0: failed to read `tests/empty.toml`
//!   1: No such file or directory (os error 2)
//!
//! help: run `cargo flowtrace new` to create a plugin
//! ```
//!
//! and, with `--message-format json`, also a `{"reason": "error", ...}` line on stdout.

use std::fmt;
use std::io::Write as _;

use flowtrace_plugins::capability::{CapabilityError, ExportProblem};
use flowtrace_plugins::inspect::InspectError;
use flowtrace_plugins::manifest::ManifestError;
use flowtrace_plugins::registry::git::GitError;
use flowtrace_plugins::registry::oci::OciError;
use flowtrace_plugins::registry::{LoadEnabledError, RegistryError, ResolveError};
use flowtrace_plugins::{Fix, LoadError};
use serde::Serialize;

use crate::exit_codes;
use crate::harness::FixtureErrors;
use crate::term::github::{self, Annotation};
use crate::term::{style, Message, Term};

/// An error with a fix or an exit code attached. It shows as the error it wraps: its
/// `Display` is the wrapped error's message, its `source` the wrapped error's source.
#[derive(Debug)]
pub struct Annotated {
    error: anyhow::Error,
    help: Vec<String>,
    code: Option<i32>,
}

impl Annotated {
    /// The error, with what earlier annotations said kept.
    fn wrap(mut error: anyhow::Error) -> Self {
        // Only the outermost layer: `downcast` also finds one under a `.context(..)`, and
        // would drop that context.
        if (&*error as &(dyn std::error::Error + 'static)).is::<Annotated>() {
            match error.downcast::<Annotated>() {
                Ok(annotated) => return annotated,
                Err(same) => error = same,
            }
        }
        Annotated {
            error,
            help: Vec::new(),
            code: None,
        }
    }

    /// The wrapped error.
    pub fn inner(&self) -> &anyhow::Error {
        &self.error
    }
}

impl fmt::Display for Annotated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.error, f)
    }
}

impl std::error::Error for Annotated {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

/// `error` with a `help:` line.
pub fn with_help(error: impl Into<anyhow::Error>, help: impl Into<String>) -> anyhow::Error {
    let mut annotated = Annotated::wrap(error.into());
    annotated.help.push(help.into());
    anyhow::Error::new(annotated)
}

/// `error`, ending the command with exit code `code` (one of [`exit_codes`]).
pub fn with_exit_code(error: impl Into<anyhow::Error>, code: i32) -> anyhow::Error {
    let mut annotated = Annotated::wrap(error.into());
    annotated.code = Some(code);
    anyhow::Error::new(annotated)
}

/// Attach a fix or an exit code to the error of a `Result`.
pub trait ResultExt<T> {
    /// Add a `help:` line with the fix.
    fn help(self, help: impl Into<String>) -> anyhow::Result<T>;
    /// Add a `help:` line, computed only on error.
    fn with_help<H: Into<String>>(self, help: impl FnOnce() -> H) -> anyhow::Result<T>;
    /// End the command with exit code `code` (one of [`exit_codes`]) if this is an error.
    fn exit_code(self, code: i32) -> anyhow::Result<T>;
}

impl<T, E: Into<anyhow::Error>> ResultExt<T> for Result<T, E> {
    fn help(self, help: impl Into<String>) -> anyhow::Result<T> {
        self.map_err(|e| with_help(e, help))
    }

    fn with_help<H: Into<String>>(self, help: impl FnOnce() -> H) -> anyhow::Result<T> {
        self.map_err(|e| with_help(e, help()))
    }

    fn exit_code(self, code: i32) -> anyhow::Result<T> {
        self.map_err(|e| with_exit_code(e, code))
    }
}

/// `cargo flowtrace test` ran and some cases failed: exit code
/// [`TESTS_FAILED`](exit_codes::TESTS_FAILED). Print the cases and the `N passed, N failed`
/// line first; this error is the last line (`error: 2 of 5 tests failed`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{failed} of {total} {} failed", if *total == 1 { "test" } else { "tests" })]
pub struct TestsFailed {
    /// How many cases failed.
    pub failed: usize,
    /// How many cases ran.
    pub total: usize,
}

/// A component breaks the capability policy: exit code
/// [`POLICY_VIOLATION`](exit_codes::POLICY_VIOLATION). Lists every problem with its fix:
///
/// ```text
/// error: `sample-evaluator` breaks the capability policy: 1 problem
///   import `flowtrace:plugin/kv@0.1.0` needs capability `storage`, which flowtrace.toml does not declare
///     help: add `storage = true` under `[capabilities]` in flowtrace.toml
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render_violation(self))]
pub struct PolicyViolation {
    /// What breaks it: a plugin id or a file name, in backticks.
    pub subject: String,
    /// Every problem, from [`CapabilityReport::errors`](flowtrace_plugins::capability::CapabilityReport::errors).
    pub errors: Vec<CapabilityError>,
    /// The flowtrace.toml whose `[capabilities]` the problems are about, when there is one
    /// (GitHub annotations point at it).
    pub manifest: Option<std::path::PathBuf>,
}

fn render_violation(violation: &PolicyViolation) -> String {
    render_listed(violation_listed(violation), true)
}

fn violation_listed(e: &PolicyViolation) -> Listed {
    Listed {
        header: format!(
            "{} breaks the capability policy: {}",
            e.subject,
            problems(e.errors.len())
        ),
        items: e
            .errors
            .iter()
            .map(|c| ListedItem {
                place: None,
                message: c.to_string(),
                help: c.help(),
            })
            .collect(),
    }
}

/// An error taken apart for printing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Report {
    /// The top-level message.
    pub message: String,
    /// The `Caused by:` chain, outermost first.
    pub causes: Vec<String>,
    /// The `help:` lines.
    pub help: Vec<String>,
    /// The exit code.
    pub exit_code: i32,
}

impl Message for Report {
    const REASON: &'static str = "error";
}

impl Report {
    /// Take `error` apart for a person: its messages (the problems of a manifest, fixture or
    /// policy error each with its `help:` under it), every other fix found in it, its exit
    /// code.
    pub fn new(error: &anyhow::Error) -> Self {
        Self::build(error, true)
    }

    /// Take `error` apart for a machine (`--message-format json`): the same messages without
    /// `help:` lines in them, and every fix in `help`, a listed problem's prefixed with its
    /// place (`flowtrace.toml:2:6: use something like ...`).
    pub fn machine(error: &anyhow::Error) -> Self {
        Self::build(error, false)
    }

    fn build(error: &anyhow::Error, inline_help: bool) -> Self {
        let mut messages = error.chain().map(|link| link_text(link, inline_help));
        let message = messages.next().unwrap_or_default();
        // `Annotated` and `#[error(transparent)]` layers repeat the message below them.
        let mut causes: Vec<String> = Vec::new();
        for cause in messages {
            if causes.last().unwrap_or(&message) != &cause {
                causes.push(cause);
            }
        }
        let mut help = Vec::new();
        if !inline_help {
            for link in links(error) {
                let Some(listed) = listed(link) else { continue };
                for item in listed.items {
                    let Some(fix) = item.help else { continue };
                    let line = match item.place {
                        Some(place) => format!("{place}: {fix}"),
                        None => fix,
                    };
                    if !help.contains(&line) {
                        help.push(line);
                    }
                }
            }
        }
        for line in helps(error) {
            if !help.contains(&line) {
                help.push(line);
            }
        }
        Report {
            message,
            causes,
            help,
            exit_code: exit_code(error),
        }
    }
}

/// An error that lists several problems, each with its place and fix.
struct Listed {
    /// The first line: what failed, and how many problems.
    header: String,
    items: Vec<ListedItem>,
}

struct ListedItem {
    /// `file:line:column`, when the problem has one.
    place: Option<String>,
    message: String,
    help: Option<String>,
}

/// The problems of a manifest, fixture or policy error (their `Display` puts each fix under
/// its problem).
fn listed(link: &(dyn std::error::Error + 'static)) -> Option<Listed> {
    if let Some(ManifestError::Invalid { path, diagnostics }) = link.downcast_ref() {
        let path = path.display();
        return Some(Listed {
            header: format!("invalid manifest `{path}`: {}", problems(diagnostics.len())),
            items: diagnostics
                .iter()
                .map(|d| ListedItem {
                    place: Some(format!("{path}:{}:{}", d.line, d.column)),
                    message: d.message.clone(),
                    help: manifest_help(d),
                })
                .collect(),
        });
    }
    if let Some(e) = link.downcast_ref::<FixtureErrors>() {
        return Some(Listed {
            header: e.summary(),
            items: e
                .problems
                .iter()
                .map(|p| ListedItem {
                    place: Some(p.place()),
                    message: p.message.clone(),
                    help: p.help.clone(),
                })
                .collect(),
        });
    }
    link.downcast_ref::<PolicyViolation>().map(violation_listed)
}

/// A manifest problem's fix as this tool words it.
fn manifest_help(d: &flowtrace_plugins::manifest::Diagnostic) -> Option<String> {
    d.fix.as_ref().map(fix_help).or_else(|| d.help.clone())
}

fn problems(count: usize) -> String {
    match count {
        1 => "1 problem".to_string(),
        n => format!("{n} problems"),
    }
}

/// What one link of the chain says: a listed error rendered here (with its fixes under
/// its problems when `inline_help`), any other its `Display`.
fn link_text(link: &(dyn std::error::Error + 'static), inline_help: bool) -> String {
    if let Some(annotated) = link.downcast_ref::<Annotated>() {
        if let Some(inner) = annotated.inner().chain().next() {
            return link_text(inner, inline_help);
        }
    }
    match listed(link) {
        Some(listed) => render_listed(listed, inline_help),
        None => link.to_string(),
    }
}

fn render_listed(listed: Listed, inline_help: bool) -> String {
    let mut out = listed.header;
    for item in listed.items {
        match item.place {
            Some(place) => out.push_str(&format!("\n  {place}: {}", item.message)),
            None => out.push_str(&format!("\n  {}", item.message)),
        }
        if let (true, Some(help)) = (inline_help, item.help) {
            out.push_str(&format!("\n    help: {help}"));
        }
    }
    out
}

impl fmt::Display for Report {
    /// `error: ...`, `Caused by:` with numbered causes, then `help: ...` lines; no colours.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}",
            self.render(anstyle::Style::new(), anstyle::Style::new())
        )
    }
}

impl Report {
    fn render(&self, error_style: anstyle::Style, help_style: anstyle::Style) -> String {
        let mut out = format!("{error_style}error:{error_style:#} {}", self.message);
        if !self.causes.is_empty() {
            out.push_str("\n\nCaused by:");
            let width = (self.causes.len() - 1).to_string().len();
            for (i, cause) in self.causes.iter().enumerate() {
                let indent = " ".repeat(2 + width + 2);
                let cause = cause.replace('\n', &format!("\n{indent}"));
                out.push_str(&format!("\n  {i:>width$}: {cause}"));
            }
        }
        if !self.help.is_empty() {
            out.push('\n');
        }
        for help in &self.help {
            out.push_str(&format!("\n{help_style}help:{help_style:#} {help}"));
        }
        out
    }
}

/// Print `error` on stderr (and as a JSON `error` message in JSON mode); the exit code.
///
/// A closed stdout (`cargo flowtrace inspect x.wasm | head`) is not an error worth a message:
/// the reader has what it wanted, and the command ends quietly with success.
pub fn report(term: &Term, error: &anyhow::Error) -> i32 {
    if is_broken_pipe(error) {
        return exit_codes::SUCCESS;
    }
    let report = Report::new(error);
    term.stderr_line(report.render(style::ERROR, style::HELP));
    // A failure to write JSON to a closed stdout changes nothing about the exit code.
    let _ = term.emit(&Report::machine(error));
    if github::enabled() {
        for annotation in annotations(error) {
            // Beside the JSON messages, not among them.
            if term.is_json() {
                term.stderr_line(annotation);
            } else {
                let _ = writeln!(term.stdout(), "{annotation}");
            }
        }
    }
    report.exit_code
}

/// GitHub annotations for the errors that have a place: a manifest's problems on their lines,
/// a fixture's on theirs, capability violations on the manifest's `[capabilities]`.
fn annotations(error: &anyhow::Error) -> Vec<Annotation> {
    let mut out = Vec::new();
    for link in links(error) {
        if let Some(e) = link.downcast_ref::<ManifestError>() {
            out.extend(e.diagnostics().iter().map(|d| {
                Annotation::on(
                    e.path(),
                    Some(d.line),
                    "invalid flowtrace.toml".into(),
                    with_help_line(&d.message, manifest_help(d).as_deref()),
                )
            }));
        } else if let Some(e) = link.downcast_ref::<FixtureErrors>() {
            out.extend(e.problems.iter().map(|p| {
                Annotation::on(
                    std::path::Path::new(&p.file),
                    p.position.map(|(line, _)| line),
                    "invalid test fixture".into(),
                    with_help_line(&p.message, p.help.as_deref()),
                )
            }));
        } else if let Some(e) = link.downcast_ref::<PolicyViolation>() {
            let Some(manifest) = &e.manifest else {
                continue;
            };
            let line = std::fs::read_to_string(manifest)
                .ok()
                .and_then(|text| text.lines().position(|l| l.trim() == "[capabilities]"))
                .map(|i| i + 1);
            out.extend(e.errors.iter().map(|c| {
                Annotation::on(
                    manifest,
                    line,
                    format!("{} breaks the capability policy", e.subject),
                    with_help_line(&c.to_string(), c.help().as_deref()),
                )
            }));
        } else {
            continue;
        }
        // The outermost error with places says it all.
        break;
    }
    out
}

fn with_help_line(message: &str, help: Option<&str>) -> String {
    let text = match help {
        Some(help) => format!("{message}\nhelp: {help}"),
        None => message.to_string(),
    };
    crate::term::sanitize(&text).into_owned()
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    links(error).iter().any(|link| {
        link.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Every link of the chain, plus the errors that [`Annotated`] layers wrap (which the chain
/// skips, as they show the same message).
fn links(error: &anyhow::Error) -> Vec<&(dyn std::error::Error + 'static)> {
    let mut out = Vec::new();
    for link in error.chain() {
        out.push(link);
        if let Some(annotated) = link.downcast_ref::<Annotated>() {
            out.extend(links(annotated.inner()));
        }
    }
    out
}

/// The exit code for `error`: the outermost explicit one, else the one its type implies,
/// else [`ERROR`](exit_codes::ERROR).
pub fn exit_code(error: &anyhow::Error) -> i32 {
    let links = links(error);
    if let Some(code) = links
        .iter()
        .find_map(|l| l.downcast_ref::<Annotated>().and_then(|a| a.code))
    {
        return code;
    }
    for link in &links {
        if link.is::<TestsFailed>() {
            return exit_codes::TESTS_FAILED;
        }
        if link.is::<PolicyViolation>()
            || link.is::<CapabilityError>()
            || link.is::<ExportProblem>()
            || matches!(load_error(*link), Some(LoadError::Policy { .. }))
            || matches!(registry_error(*link), Some(RegistryError::Policy { .. }))
        {
            return exit_codes::POLICY_VIOLATION;
        }
    }
    exit_codes::ERROR
}

/// The runtime's load error at `link`, also inside the registry's [`LoadEnabledError`]
/// (transparent: the error it wraps is not a link of the chain itself).
fn load_error<'a>(link: &'a (dyn std::error::Error + 'static)) -> Option<&'a LoadError> {
    link.downcast_ref::<LoadError>()
        .or(match link.downcast_ref::<LoadEnabledError>() {
            Some(LoadEnabledError::Load(e)) => Some(e),
            _ => None,
        })
}

/// The registry's error at `link`, also inside a [`LoadEnabledError`].
fn registry_error<'a>(link: &'a (dyn std::error::Error + 'static)) -> Option<&'a RegistryError> {
    link.downcast_ref::<RegistryError>()
        .or(match link.downcast_ref::<LoadEnabledError>() {
            Some(LoadEnabledError::Registry(e)) => Some(e),
            _ => None,
        })
}

/// A runtime [`Fix`] as `cargo flowtrace` words it: the command line or flag that applies it.
/// Fixes that need no command read as the runtime words them.
pub fn fix_help(fix: &Fix) -> String {
    match fix {
        Fix::Upgrade => "upgrade cargo-flowtrace (`cargo install cargo-flowtrace`)".into(),
        Fix::RepairIndex => "run `cargo flowtrace doctor --repair`: it rebuilds the index from \
                             the installed plugins, each checked against the hashes recorded \
                             at install"
            .into(),
        Fix::MatchContract => "rebuild the plugin against this version of the plugin SDK, or \
                               upgrade cargo-flowtrace"
            .into(),
        Fix::Reinstall { .. } => "pass `--force` to reinstall it".into(),
        Fix::AllowDowngrade { .. } => "pass `--allow-downgrade` to install it".into(),
        Fix::ListPlugins => "`cargo flowtrace list` shows the installed plugins".into(),
        Fix::ShowVersions { id } => {
            format!("`cargo flowtrace info {id}` shows its installed versions")
        }
        Fix::UninstallPlugin { id } => format!(
            "uninstall the whole plugin (`cargo flowtrace uninstall {id}`), or install another \
             version first"
        ),
        Fix::DependentsFirst { action } => {
            format!("{action} them first, or pass `--force` to {action} it anyway")
        }
        Fix::Repair { .. } => "the installed plugin was changed or damaged: reinstall it with \
                               `cargo flowtrace install --force <source>`"
            .into(),
        Fix::Grant { id } => format!("grant them with `cargo flowtrace enable {id} --grant`"),
        Fix::Configure { id } => format!(
            "`cargo flowtrace config {id}` shows its settings; change one with `cargo flowtrace \
             config {id} KEY=VALUE`, or remove it with `cargo flowtrace config {id} --unset KEY`"
        ),
        Fix::Activate { id, version } => format!(
            "install `{id} {version}` again to make it the active version (with \
             `--allow-downgrade` if it is older)"
        ),
        Fix::Enable { id } => format!("enable it first: `cargo flowtrace enable {id}`"),
        Fix::ChooseEmbedder { id, embedders } => match embedders.as_slice() {
            [] => format!(
                "install an embedder plugin, then choose it with `cargo flowtrace enable {id} \
                 --embedder <ID>` or `cargo flowtrace enable <ID> --default-embedder`"
            ),
            [one, ..] => format!(
                "choose its embedder with `cargo flowtrace enable {id} --embedder {one}`, or \
                 one for every plugin with `cargo flowtrace enable {one} --default-embedder` \
                 (installed embedders: {})",
                embedders
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
        Fix::EmbedManifest => "build the plugin with `cargo flowtrace build`: it embeds \
                               `flowtrace.toml` in the component"
            .into(),
        Fix::EmbedOneManifest => "rebuild the plugin with `cargo flowtrace build`: it embeds \
                                  one `flowtrace-manifest` section, its flowtrace.toml"
            .into(),
        Fix::RebuildComponent => "the component was built by an older or newer component model \
                                  toolchain: rebuild it with `cargo flowtrace build`"
            .into(),
        Fix::DirectoryInRepository => "name the plugin's directory relative to the \
                                        repository's root, e.g. `#main:plugins/my-eval` or \
                                        `--path plugins/my-eval`"
            .into(),
        Fix::PassComponent => {
            "pass the `.wasm` component that `cargo flowtrace build` wrote".into()
        }
        other => other.to_string(),
    }
}

/// Every `help:` line for `error`, outermost first, without repeats.
pub fn helps(error: &anyhow::Error) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for link in links(error) {
        let mut found = Vec::new();
        if let Some(annotated) = link.downcast_ref::<Annotated>() {
            found.extend(annotated.help.iter().cloned());
        } else if let Some(e) = link.downcast_ref::<InspectError>() {
            found.extend(e.fix().as_ref().map(fix_help));
        } else if let Some(e) = link.downcast_ref::<CapabilityError>() {
            found.extend(e.help());
        } else if let Some(e) = link.downcast_ref::<ExportProblem>() {
            found.extend(e.help());
        } else if let Some(LoadError::Policy { report, .. }) = load_error(link) {
            found.extend(report.errors().iter().filter_map(CapabilityError::help));
        } else if let Some(e) = registry_error(link) {
            match e {
                RegistryError::Policy { report, .. } => {
                    found.extend(report.errors().iter().filter_map(CapabilityError::help));
                }
                other => found.extend(other.fix().as_ref().map(fix_help)),
            }
        } else if let Some(e) = link.downcast_ref::<ResolveError>() {
            found.extend(e.fix().as_ref().map(fix_help));
        } else if let Some(e) = link.downcast_ref::<GitError>() {
            found.extend(e.fix().as_ref().map(fix_help));
        } else if let Some(e) = link.downcast_ref::<OciError>() {
            found.extend(crate::registry::oci::help(e));
        }
        for help in found {
            if !out.contains(&help) {
                out.push(help);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use anyhow::{anyhow, Context};

    use super::*;

    #[test]
    fn help_and_code_survive_context() {
        let result: anyhow::Result<()> = Err(anyhow!("inner failure"))
            .help("do the thing")
            .exit_code(exit_codes::TESTS_FAILED);
        let error = result.context("outer").unwrap_err();
        let report = Report::new(&error);
        assert_eq!(report.message, "outer");
        assert_eq!(report.causes, ["inner failure"]);
        assert_eq!(report.help, ["do the thing"]);
        assert_eq!(report.exit_code, exit_codes::TESTS_FAILED);
        assert_eq!(
            report.to_string(),
            "error: outer\n\nCaused by:\n  0: inner failure\n\nhelp: do the thing"
        );
    }

    #[test]
    fn runtime_errors_bring_their_help_and_code() {
        let error = anyhow::Error::new(InspectError::CoreModule).context("failed to inspect `x`");
        let report = Report::new(&error);
        assert_eq!(report.exit_code, exit_codes::ERROR);
        assert_eq!(report.help, [InspectError::CoreModule.help().unwrap()]);

        let violation = PolicyViolation {
            subject: "`p`".into(),
            errors: vec![CapabilityError::UnknownImport {
                import: "x:y/z".into(),
                reason: "nobody provides it".into(),
            }],
            manifest: None,
        };
        let error = anyhow::Error::new(violation).context("failed to build `p`");
        assert_eq!(exit_code(&error), exit_codes::POLICY_VIOLATION);
        let error = anyhow::Error::new(TestsFailed {
            failed: 1,
            total: 3,
        });
        assert_eq!(error.to_string(), "1 of 3 tests failed");
        assert_eq!(exit_code(&error), exit_codes::TESTS_FAILED);
    }

    #[test]
    fn runtime_fixes_read_as_command_lines() {
        use flowtrace_plugins::manifest::PluginId;
        let id = PluginId::parse("p").unwrap();
        let error = anyhow::Error::new(RegistryError::GrantsPending {
            id: id.clone(),
            version: semver::Version::new(1, 0, 0),
            added: Vec::new(),
        })
        .context("failed to enable plugin `p`");
        assert_eq!(
            helps(&error),
            ["grant them with `cargo flowtrace enable p --grant`"]
        );
        assert_eq!(
            fix_help(&Fix::Enable { id }),
            "enable it first: `cargo flowtrace enable p`"
        );
        // A fix without a command reads as the runtime words it.
        assert_eq!(fix_help(&Fix::BreakCycle), Fix::BreakCycle.to_string());
    }

    /// `--message-format json`: whatever kind of error, its fixes are in `help`, never folded
    /// into `message` or `causes`; a person still reads each fix under its problem.
    #[test]
    fn machine_reports_carry_every_help_in_help() {
        use crate::harness::{FixtureErrors, Problem};
        use flowtrace_plugins::manifest::{Manifest, PluginId};
        use flowtrace_plugins::registry::git::GitSource;
        use std::path::Path;

        let manifest = Manifest::from_str(
            "manifest-version = 9\n[plugin]\nid = \"con\"\n",
            Path::new("flowtrace.toml"),
        )
        .unwrap_err();
        let fixture = FixtureErrors {
            problems: vec![Problem {
                file: "tests/a.toml".into(),
                position: Some((3, 1)),
                message: "unknown key `expct`".into(),
                help: Some("did you mean `expect`?".into()),
            }],
        };
        let violation = PolicyViolation {
            subject: "plugin `p`".into(),
            errors: vec![CapabilityError::UnknownImport {
                import: "x:y/z".into(),
                reason: "nobody provides it".into(),
            }],
            manifest: None,
        };
        let id = PluginId::parse("p").unwrap();
        let errors: Vec<anyhow::Error> = vec![
            anyhow::Error::new(manifest).context("failed to build"),
            anyhow::Error::new(fixture),
            with_help(anyhow::Error::new(violation), "outer help"),
            anyhow::Error::new(RegistryError::Downgrade {
                id: id.clone(),
                installed: semver::Version::new(2, 0, 0),
                requested: semver::Version::new(1, 0, 0),
            }),
            anyhow::Error::new(GitSource::parse("x#").unwrap_err()).context("failed"),
            anyhow::Error::new(
                GitSource::parse("https://h/r")
                    .unwrap()
                    .with_path("../up")
                    .unwrap_err(),
            ),
            Err::<(), _>(anyhow!("plain")).help("a fix").unwrap_err(),
            anyhow::Error::new(InspectError::CoreModule),
        ];
        for error in &errors {
            let machine = Report::machine(error);
            let human = Report::new(error);
            let text = std::iter::once(&machine.message)
                .chain(&machine.causes)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n");
            assert!(!text.contains("help:"), "{text}");
            assert!(!machine.help.is_empty(), "no help for {error:#}");
            for help in &machine.help {
                assert!(!help.is_empty() && !help.contains('\n'), "{help:?}");
            }
            // Everything the person is told, the machine is told too.
            for help in &human.help {
                assert!(
                    machine.help.contains(help),
                    "{help} not in {:?}",
                    machine.help
                );
            }
        }
        let manifest = Report::machine(&errors[0]);
        assert_eq!(
            manifest.causes,
            [
                "invalid manifest `flowtrace.toml`: 1 problem\n  flowtrace.toml:1:20: \
              `manifest-version = 9` needs a newer Flowtrace: this one reads manifest versions \
              up to 1"
            ]
        );
        // The runtime's fix, in this tool's words, with its place.
        assert_eq!(
            manifest.help,
            ["flowtrace.toml:1:20: upgrade cargo-flowtrace (`cargo install cargo-flowtrace`)"]
        );
        let human = Report::new(&errors[0]).to_string();
        assert!(
            human.contains("up to 1\n         help: upgrade cargo-flowtrace (`cargo install"),
            "{human}"
        );
        assert_eq!(
            Report::machine(&errors[1]).help,
            ["tests/a.toml:3:1: did you mean `expect`?"]
        );
        assert_eq!(
            Report::machine(&errors[2]).help.first().map(String::as_str),
            Some("outer help")
        );
        assert_eq!(
            Report::machine(&errors[3]).help,
            ["pass `--allow-downgrade` to install it"]
        );
        assert_eq!(
            Report::machine(&errors[5]).help,
            [
                "name the plugin's directory relative to the repository's root, e.g. \
              `#main:plugins/my-eval` or `--path plugins/my-eval`"
            ]
        );
    }

    #[test]
    fn long_chains_number_and_indent_their_causes() {
        let mut error = anyhow!("root\nsecond line");
        for i in 0..11 {
            error = error.context(format!("level {i}"));
        }
        let text = Report::new(&error).to_string();
        assert!(text.contains("\n   0: level 9\n"), "{text}");
        assert!(text.contains("\n  10: root\n      second line"), "{text}");
    }
}
