//! `cargo flowtrace install <source>`

use std::path::Path;

use anyhow::{Context as _, Result};
use clap::Args;
use flowtrace_plugins::inspect::BuildProfile;
use flowtrace_plugins::manifest::{Manifest, PluginId, PluginKind};
use flowtrace_plugins::registry::oci::OciReference;
use flowtrace_plugins::registry::{
    capability_items, InstallAction, InstallOutcome, InstallRequest, Registry, RegistryError,
    Source,
};
use flowtrace_plugins::{Runtime, RuntimeConfig};
use semver::Version;

use super::diff;
use crate::context::{self, Context};
use crate::error::with_help;
use crate::error::ResultExt;
use crate::eval::PluginSource;
use crate::harness::fixture::Input;
use crate::harness::{self, FixtureContext};
use crate::registry::oci::{self as registries, RegistrySettings};
use crate::registry::source::{BuildOptions, InstallSource};
use crate::registry::{self, describe_capabilities, describe_items};
use crate::term::style;

/// Install a plugin into the local registry.
///
/// The registry is `$FLOWTRACE_HOME` (default `~/.flowtrace`). SOURCE is a plugin directory,
/// a built component, a `.tar.gz` archive or a git repository (see Sources below).
///
/// The component is validated and checked against its manifest's capabilities, its
/// dependencies are resolved against the installed plugins, and it is compiled to native
/// code so its first load is fast. The install is staged and renamed into place: an
/// interrupted install leaves the previous state.
///
/// A fresh install is enabled with the capabilities its manifest declares. An upgrade whose
/// manifest asks for more (a new capability, host or environment variable) is installed
/// disabled until the new capabilities are granted: on a terminal you are asked; otherwise
/// run `cargo flowtrace enable <id> --grant`.
///
/// Another process installing at the same time holds the registry lock; this one waits
/// (`$FLOWTRACE_LOCK_TIMEOUT` seconds, default 300) and says who it waits for.
#[derive(Debug, Args)]
#[command(after_help = "\
Sources:
  <dir>              a plugin directory, built first with `cargo flowtrace build --release`
  <file>.wasm        a component built by `cargo flowtrace build` (its manifest is embedded;
                     a dev build, not `--release`, installs with a warning)
  <file>.tar.gz      an archive of a plugin directory, or holding one built component
  https://...#<rev>  a git repository (also `file://...` or a local path to a repository),
                     optionally at a branch, tag or commit; cloned with the system git,
                     without running hooks or fetching submodules, then built
  URL#<rev>:<dir>    the plugin in a directory of the repository (`URL#:<dir>` at the
                     default branch; or `--path <dir>`)
  oci://HOST/REPO:TAG  an artifact in an OCI registry (`@sha256:...` pins a digest; no tag:
                     the highest semver tag); every digest and size is checked
  ID@REQ             the highest version of ID matching REQ (`my-eval@^1.2`; `ID` alone: any)
                     in the registries listed in `$FLOWTRACE_HOME/config.toml`
  <file>.oci.tar     a package written by `cargo flowtrace package`
Files are told apart by their first bytes, not their names. Registry credentials come from
`$FLOWTRACE_REGISTRY_USERNAME`/`$FLOWTRACE_REGISTRY_PASSWORD`, else Docker's config.json.

Signatures: an artifact from a registry or a package file is checked against the keys you
trust (`cargo flowtrace trust`). Signed by a trusted key: installed. Signed by another key, or
altered after signing: refused. Unsigned: installed with a warning, or refused with
`--require-signature`.

Examples:
  cargo flowtrace install .                                  the plugin in this directory
  cargo flowtrace install target/flowtrace/release/my-eval-0.1.0.wasm
  cargo flowtrace install my-eval-0.1.0.tar.gz
  cargo flowtrace install https://github.com/acme/my-eval.git#v0.2.0
  cargo flowtrace install oci://ghcr.io/acme/my-eval:0.2.0
  cargo flowtrace install my-eval@^0.2                       from the configured registries
  cargo flowtrace install ../my-eval --force                 reinstall the same version")]
pub struct InstallCommand {
    /// A plugin directory, a built `.wasm`, a `.tar.gz` archive or a git URL
    #[arg(value_name = "SOURCE")]
    pub source: String,

    /// Read SOURCE as a git repository even when it is a plugin directory
    #[arg(long)]
    pub git: bool,

    /// The plugin's directory inside the git repository (also `URL#REV:PATH`)
    #[arg(long, value_name = "DIR")]
    pub path: Option<String>,

    /// Reinstall a version that is installed already
    #[arg(long)]
    pub force: bool,

    /// Install a version lower than the installed one
    #[arg(long)]
    pub allow_downgrade: bool,

    /// Build sources with the dev profile instead of `--release`
    #[arg(long)]
    pub debug: bool,

    /// Speak plain HTTP to a registry that is not on this machine (loopback registries
    /// always get plain HTTP)
    #[arg(long)]
    pub insecure: bool,

    /// Refuse an artifact from a registry or a package file unless a trusted key signed it
    /// (also `require-signature = true` in `$FLOWTRACE_HOME/config.toml`)
    #[arg(long)]
    pub require_signature: bool,
}

impl InstallCommand {
    /// Run `install`.
    pub fn exec(self, cx: &Context) -> Result<()> {
        let term = &cx.term;
        let mut source = InstallSource::classify(&self.source, self.git)?;
        if let Some(path) = &self.path {
            source = match source {
                // A `GitError` brings its own `help:` (`error::helps`).
                InstallSource::Git(git) => InstallSource::Git(git.with_path(path)?),
                _ => {
                    return Err(anyhow::anyhow!("`--path` applies to git repositories only"))
                        .help("pass a git URL or repository, or `--git` to read SOURCE as one")
                }
            };
        }
        let runtime = Runtime::with_config(RuntimeConfig::default())
            .context("failed to start the plugin runtime")?;
        let verbose = term.clone();
        let registry = registry::open(cx)?
            .precompiling_with(&runtime)
            .on_install_step(move |step| verbose.verbose_status("Install", step));

        let options = BuildOptions {
            release: !self.debug,
            insecure: self.insecure,
            require_signature: self.require_signature,
            force: self.force,
            allow_downgrade: self.allow_downgrade,
        };
        let prepared = source.prepare(term, &registry, options)?;
        let profile = flowtrace_plugins::inspect::build_profile(&prepared.component);
        let search = dependency_search(&registry, &prepared.source)?;
        install_dependencies(
            cx,
            &registry,
            &prepared.component,
            &search,
            options,
            &mut Vec::new(),
        )?;
        let shown = prepared.source.to_string();
        let expected_id = match &source {
            // `install ID@REQ`: whatever the artifact says, it must be ID.
            InstallSource::Registry { id, .. } => Some(id.clone()),
            _ => installed_from(&registry, &prepared.source)?,
        };
        let request = InstallRequest {
            force: self.force,
            allow_downgrade: self.allow_downgrade,
            expected_id: expected_id.clone(),
            ..InstallRequest::new(prepared.component, prepared.source)
        };
        let outcome = {
            let _progress = term.progress("Installing", None, shown);
            registry
                .install(request)
                .map_err(|e| match (&e, &expected_id) {
                    (RegistryError::IdMismatch { .. }, Some(old)) => with_help(
                        e,
                        format!(
                            "`{old}` was installed from this source; if the plugin was renamed, \
                             uninstall the old one (`cargo flowtrace uninstall {old}`) and \
                             install again"
                        ),
                    ),
                    _ => e.into(),
                })
                .with_context(|| format!("failed to install `{}`", self.source))?
        };

        report(cx, &outcome, profile);
        emit_installed(cx, &outcome, profile)?;
        if let (InstallSource::Dir(dir), Some(previous)) = (&source, &outcome.previous) {
            if outcome.kind == PluginKind::Evaluator && outcome.version != *previous {
                if let Err(e) = compare_with_previous(cx, dir, &outcome, previous) {
                    term.warn(format_args!(
                        "not compared with v{previous} over the plugin's fixtures: {}",
                        flowtrace_plugins::diag::error_chain(e.as_ref())
                    ));
                }
            }
        }

        if !outcome.pending.is_empty() && registry::can_prompt(term) {
            let question = format!("Grant these capabilities and enable `{}`?", outcome.id);
            if registry::confirm(&question)? {
                let enabled = registry
                    .enable(&outcome.id, true)
                    .with_context(|| format!("failed to enable `{}`", outcome.id))?;
                term.status(
                    "Enabled",
                    format_args!("{} v{}", enabled.id, enabled.version),
                );
                term.emit_as("plugin-enabled", &enabled)?;
            }
        }
        Ok(())
    }
}

/// After an upgrade (or downgrade) of an evaluator from a plugin directory: what `diff`
/// shows between the version installed before and this one, over the traces of the plugin's
/// own fixtures (`tests/`), each version with its default config.
fn compare_with_previous(
    cx: &Context,
    dir: &Path,
    outcome: &InstallOutcome,
    previous: &Version,
) -> Result<()> {
    let manifest = Manifest::from_file(&context::manifest_at(dir)?)?;
    let files = harness::discover(&dir.join(harness::TESTS_DIR))?;
    let fixtures = harness::load_all(
        &files,
        &FixtureContext {
            root: dir,
            manifest: &manifest,
        },
    )
    .context("the fixtures could not be read")?;
    let mut traces = Vec::new();
    for fixture in fixtures.iter().filter(|f| f.ignore.is_none()) {
        if let Input::Traces { traces: of, .. } = &fixture.input {
            for (i, trace) in of.iter().enumerate() {
                let name = match of.len() {
                    1 => fixture.name.clone(),
                    _ => format!("{}#{}", fixture.name, i + 1),
                };
                traces.push((name, trace.clone()));
            }
        }
    }
    let term = &cx.term;
    if traces.is_empty() {
        term.note(format_args!(
            "no fixture traces under `{}` to compare v{previous} with",
            dir.join(harness::TESTS_DIR).display()
        ));
        return Ok(());
    }
    let id = &outcome.id;
    // Each version reads its `fs-read` paths from the plugin directory, as `test` does.
    let a = diff::load(
        cx,
        &PluginSource::Installed(id.clone(), Some(previous.clone())),
        dir,
    )?;
    let b = diff::load(
        cx,
        &PluginSource::Installed(id.clone(), Some(outcome.version.clone())),
        dir,
    )?;
    term.status(
        "Comparing",
        format_args!(
            "v{previous} -> v{} over {} fixture traces",
            outcome.version,
            traces.len()
        ),
    );
    let (records, summary) = diff::over_traces(&a, &b, traces);
    for record in &records {
        term.emit(record)?;
        if term.is_human() && !record.changed.is_empty() {
            term.stderr_line(format_args!("  {}", record.describe()));
        }
    }
    diff::show_summary(cx, &summary)
}

/// The plugin an earlier install took from the same plugin directory or git repository: a
/// reinstall from there must bring the same id (a renamed manifest would otherwise install a
/// second plugin beside the first).
fn installed_from(registry: &Registry, source: &Source) -> Result<Option<PluginId>> {
    let same = |recorded: &Source| match (recorded, source) {
        (Source::Path { path: a }, Source::Path { path: b }) => a == b,
        (
            Source::Git {
                url: a, path: pa, ..
            },
            Source::Git {
                url: b, path: pb, ..
            },
        ) => a == b && pa == pb,
        (Source::Oci { reference: a, .. }, Source::Oci { reference: b, .. }) => {
            repository_of(a).is_some() && repository_of(a) == repository_of(b)
        }
        _ => false,
    };
    Ok(registry
        .list()
        .context("failed to read the registry")?
        .into_iter()
        .find(|p| same(&p.source))
        .map(|p| p.id))
}

/// Where missing dependencies are looked up: the registries of `config.toml`, then the
/// namespace the plugin itself came from (`oci://host/ns` for `oci://host/ns/plugin:1.0.0`).
fn dependency_search(registry: &Registry, source: &Source) -> Result<Vec<OciReference>> {
    let settings = RegistrySettings::load(registry.store().home())?;
    let mut search = settings.registries;
    if let Source::Oci { reference, .. } = source {
        if let Some(mut parent) = repository_of(reference) {
            if let Some((namespace, _)) = parent.repository.rsplit_once('/') {
                parent.repository = namespace.to_string();
                if !search.contains(&parent) {
                    search.push(parent);
                }
            }
        }
    }
    Ok(search)
}

/// Install, from the registries in `search`, each dependency of `component` that no
/// installed version satisfies (its own dependencies first): the highest version matching
/// the requirement, through the same checks, signature policy and grants as any install.
/// `chain` is the path of plugins being installed, to name a cycle.
fn install_dependencies(
    cx: &Context,
    registry: &Registry,
    component: &[u8],
    search: &[OciReference],
    options: BuildOptions,
    chain: &mut Vec<PluginId>,
) -> Result<()> {
    let Some(text) = flowtrace_plugins::inspect::inspect(component)
        .ok()
        .and_then(|i| i.embedded_manifest)
    else {
        return Ok(());
    };
    let Ok(manifest) = Manifest::from_str(&text, std::path::Path::new("flowtrace.toml")) else {
        // The install itself reports the manifest's problems.
        return Ok(());
    };
    chain.push(manifest.plugin.id.clone());
    for (id, req) in &manifest.dependencies {
        let installed = registry
            .list()
            .context("failed to read the registry")?
            .into_iter()
            .any(|p| p.id == *id && req.matches(&p.version));
        if installed {
            continue;
        }
        if chain.contains(id) {
            let mut names: Vec<String> = chain.iter().map(|p| format!("`{p}`")).collect();
            names.push(format!("`{id}`"));
            return Err(anyhow::anyhow!("dependency cycle: {}", names.join(" -> ")))
                .help("a plugin cannot depend on itself, even through others");
        }
        if search.is_empty() {
            // Nowhere to fetch it from: the install reports the missing dependency.
            continue;
        }
        let client = RegistrySettings::load(registry.store().home())?.client(options.insecure);
        let (repository, version) =
            registries::resolve(&client, search, id, req).with_context(|| {
                format!(
                    "failed to resolve `{id}@{req}`, a dependency of `{}`",
                    manifest.plugin.id
                )
            })?;
        cx.term.status(
            "Resolved",
            format_args!("{id}@{req} -> v{version} (for {})", manifest.plugin.id),
        );
        let reference = repository.with_tag(&version.to_string());
        let prepared = InstallSource::Oci(reference).prepare(&cx.term, registry, options)?;
        let profile = flowtrace_plugins::inspect::build_profile(&prepared.component);
        install_dependencies(cx, registry, &prepared.component, search, options, chain)?;
        let outcome = registry
            .install(InstallRequest {
                expected_id: Some(id.clone()),
                ..InstallRequest::new(prepared.component, prepared.source)
            })
            .with_context(|| {
                format!(
                    "failed to install `{id}`, a dependency of `{}`",
                    manifest.plugin.id
                )
            })?;
        report(cx, &outcome, profile);
        emit_installed(cx, &outcome, profile)?;
    }
    chain.pop();
    Ok(())
}

/// The repository of a recorded reference (`oci://host/repo` of `oci://host/repo:tag` or
/// `oci://host/repo@sha256:...`).
fn repository_of(reference: &str) -> Option<OciReference> {
    OciReference::parse(reference).ok().map(|r| OciReference {
        tag: None,
        digest: None,
        ..r
    })
}

/// The `plugin-installed` message: the outcome, and the profile the component was built with.
fn emit_installed(
    cx: &Context,
    outcome: &InstallOutcome,
    profile: Option<BuildProfile>,
) -> Result<()> {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "kebab-case")]
    struct Installed<'a> {
        #[serde(flatten)]
        outcome: &'a InstallOutcome,
        /// `dev`, `release`, or absent for a component built otherwise.
        #[serde(skip_serializing_if = "Option::is_none")]
        profile: Option<BuildProfile>,
    }
    cx.term
        .emit_as("plugin-installed", &Installed { outcome, profile })
}

fn report(cx: &Context, outcome: &InstallOutcome, profile: Option<BuildProfile>) {
    let term = &cx.term;
    let verb = match outcome.action {
        InstallAction::Installed => "Installed",
        InstallAction::Upgraded => "Upgraded",
        InstallAction::Downgraded => "Downgraded",
        InstallAction::Reinstalled => "Reinstalled",
    };
    let versions = match (&outcome.previous, outcome.action) {
        (Some(previous), InstallAction::Upgraded | InstallAction::Downgraded) => {
            format!("v{previous} -> v{}", outcome.version)
        }
        _ => format!("v{}", outcome.version),
    };
    let built = match profile {
        Some(profile) => format!(", {profile} build"),
        None => String::new(),
    };
    term.status(
        verb,
        format_args!("{} {versions} ({}{built})", outcome.id, outcome.kind),
    );
    if profile == Some(BuildProfile::Dev) {
        term.warn(format_args!(
            "`{}` v{} is a dev build (unoptimized, with debug info): slower, and larger; \
             install a release build for real use (`cargo flowtrace install <plugin dir>` \
             builds one, or `cargo flowtrace build --release` then install \
             `target/flowtrace/release/{}-{}.wasm`)",
            outcome.id, outcome.version, outcome.id, outcome.version
        ));
    }
    if capability_items(&outcome.granted).is_empty() {
        term.status("Granted", "no capabilities");
    } else {
        term.status("Granted", describe_capabilities(&outcome.granted));
    }
    if outcome.action != InstallAction::Installed && !outcome.changes.removed.is_empty() {
        term.status_with_style(
            "Dropped",
            format_args!(
                "{} (no longer asked for)",
                describe_items(&outcome.changes.removed)
            ),
            style::DIM,
        );
    }
    if !outcome.pending.is_empty() {
        registry::show_pending(term, &outcome.id, &outcome.version, &outcome.pending);
        if !registry::can_prompt(term) {
            term.help(format_args!(
                "review them, then run `cargo flowtrace enable {} --grant`",
                outcome.id
            ));
        }
    } else if !outcome.enabled {
        term.note(format_args!(
            "`{}` stays disabled, as it was; `cargo flowtrace enable {}` enables it",
            outcome.id, outcome.id
        ));
    }
    for warning in &outcome.warnings {
        term.warn(warning);
    }
    term.verbose_status("Stored", outcome.path.display());
}
