//! Where the plugin of `eval`, `run` and `diff` comes from: an installed plugin (its active
//! version, or `id@version`), a plugin directory (built first), or a `.wasm`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, Context as _, Result};
use flowtrace_plugins::diag::article;
use flowtrace_plugins::inspect;
use flowtrace_plugins::manifest::{self, ConfigValue, Manifest, PluginId, PluginKind};
use flowtrace_plugins::services::{LogLevel, LogRecord, LogSink, TracingLog};
use flowtrace_plugins::{LoadOptions, Plugin, Runtime, RuntimeConfig, Services};
use semver::Version;

use crate::build::{self, BuildRequest};
use crate::context::{self, Context};
use crate::error::ResultExt;
use crate::plugin_path::PluginPath;
use crate::term::Term;

/// The plugin argument of `eval`, `run` and `diff`: an existing path is a directory or a
/// component, anything else a plugin id (`id` or `id@version`) in the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginSource {
    /// A plugin directory (or its `flowtrace.toml`): built first, like `test` does.
    Dir(PathBuf),
    /// A built component with its manifest embedded.
    Wasm(PathBuf),
    /// A plugin installed in `$FLOWTRACE_HOME`: its active version, or the one named.
    Installed(PluginId, Option<Version>),
}

impl PluginSource {
    /// Decide what `arg` names ([`PluginPath`]): an existing path is a plugin directory (or
    /// its `flowtrace.toml`), another directory, or a file, read as a component; otherwise it
    /// must be a plugin id, or `id@version` for an installed version other than the active one.
    pub fn parse(arg: &str) -> Result<Self> {
        match PluginPath::at(Path::new(arg))? {
            Some(found) if found.is_dir() => Ok(PluginSource::Dir(found.path().to_path_buf())),
            // Whatever the file holds, inspecting it says what is wrong with it.
            Some(found) => Ok(PluginSource::Wasm(found.path().to_path_buf())),
            None => {
                let (id, version) = match arg.split_once('@') {
                    Some((id, version)) => {
                        let version = Version::parse(version)
                            .map_err(|e| anyhow!("`{arg}`: `{version}` is not a version: {e}"))
                            .help("name an installed version, as `my-eval@0.2.0`")?;
                        (id, Some(version))
                    }
                    None => (arg, None),
                };
                PluginId::parse(id)
                    .map(|id| PluginSource::Installed(id, version))
                    .map_err(|_| anyhow!("`{arg}` does not exist"))
                    .help(
                        "pass the id of an installed plugin, a plugin directory or a component \
                         (`.wasm`)",
                    )
            }
        }
    }
}

/// How `eval`, `run` and `diff` load their plugins and read their traces: the flags they
/// share.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LoadArgs {
    /// Override a `[config]` value of the plugin (of both, for `diff`; repeatable); lists are
    /// `a,b,c`
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_config_arg)]
    pub config: Vec<(String, String)>,

    /// Build a plugin directory with the release profile
    #[arg(long)]
    pub release: bool,

    /// The directory the plugin's `fs-read` paths are relative to [default: the plugin's
    /// directory, for a plugin directory]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Refuse traces of more than N spans: each is an error in the results, and the run goes
    /// on [default: 100000]
    #[arg(long, value_name = "N")]
    pub max_spans: Option<std::num::NonZeroUsize>,

    #[command(flatten)]
    pub read: super::input::ReadArgs,
}

impl LoadArgs {
    /// The request these flags make; `logs_with_records` as [`LoadRequest`] says.
    pub fn request(&self, logs_with_records: bool) -> LoadRequest {
        LoadRequest {
            release: self.release,
            config: self.config.clone(),
            max_spans: self.max_spans.map(std::num::NonZeroUsize::get),
            data_dir: self.data_dir.clone(),
            logs_with_records,
        }
    }
}

/// What the plugin is loaded with.
#[derive(Debug, Clone, Default)]
pub struct LoadRequest {
    /// `--release`: build a plugin directory with the release profile.
    pub release: bool,
    /// `--config key=value`, as given.
    pub config: Vec<(String, String)>,
    /// `--max-spans`: the host's cap on spans per trace (none: the runtime's default).
    pub max_spans: Option<usize>,
    /// `--data-dir`: what the `fs-read` paths are relative to (none: the plugin's directory,
    /// for a plugin directory).
    pub data_dir: Option<PathBuf>,
    /// The command shows each record's plugin log with it (`eval`, `run`: under its error,
    /// or its warnings as a warning), so in human output the log sink does not also print
    /// warnings as the plugin logs them.
    pub logs_with_records: bool,
}

impl LoadRequest {
    /// The runtime's configuration for this request.
    fn runtime_config(&self) -> RuntimeConfig {
        let mut config = RuntimeConfig::default();
        if let Some(spans) = self.max_spans {
            config.caps.spans = spans;
        }
        config
    }
}

/// A loaded plugin, and how to name it in messages.
#[derive(Debug)]
pub struct LoadedPlugin {
    /// The plugin, ready to call from many threads.
    pub plugin: Plugin,
    /// `` `id` v1.2.3 ``, with where it came from.
    pub description: String,
}

/// Load the plugin `source` names: build a directory first, read a component's embedded
/// manifest, or load an installed plugin with its grants and precompiled code. With `kind`,
/// a plugin of another kind is refused before it is loaded (`command` names who refuses it).
pub fn load(
    cx: &Context,
    source: &PluginSource,
    request: &LoadRequest,
    kind: Option<Expected>,
) -> Result<LoadedPlugin> {
    if let PluginSource::Dir(path) | PluginSource::Wasm(path) = source {
        crate::plugin_path::note_if_also_installed(cx, path);
    }
    match source {
        PluginSource::Dir(dir) => load_dir(&cx.term, dir, request, kind),
        PluginSource::Wasm(path) => load_wasm(&cx.term, path, request, kind),
        PluginSource::Installed(id, version) => {
            load_installed(cx, id, version.as_ref(), request, kind)
        }
    }
}

/// The kind a command runs, and its name for the refusal of another.
#[derive(Debug, Clone, Copy)]
pub struct Expected {
    /// The kind.
    pub kind: PluginKind,
    /// The command, as `cargo flowtrace eval`.
    pub command: &'static str,
}

fn load_dir(
    term: &Term,
    dir: &Path,
    request: &LoadRequest,
    kind: Option<Expected>,
) -> Result<LoadedPlugin> {
    let manifest_path = context::manifest_at(dir)?;
    let built = build::build(
        term,
        &BuildRequest {
            manifest_path,
            release: request.release,
            typecheck: true,
            dev_engine: false,
            caps: flowtrace_plugins::HostCaps::default(),
        },
    )?;
    let manifest = &built.manifest;
    ensure_kind(manifest, &format!("plugin `{}`", manifest.plugin.id), kind)?;
    let config = config_overrides(manifest, &request.config)?;
    let runtime = Runtime::with_config(RuntimeConfig {
        cache: Some(context::build_cache(&built.target_dir)?),
        ..request.runtime_config()
    })
    .context("failed to start the plugin runtime")?;
    // Like `test`: the plugin's own directory, unless `--data-dir` says otherwise.
    let data_dir = request.data_dir.as_deref().unwrap_or(&built.root);
    let options = LoadOptions {
        config,
        services: services(
            term,
            request,
            &manifest.capabilities.fs_read,
            Some(data_dir),
        )?,
        ..LoadOptions::default()
    };
    let plugin = runtime
        .load(&built.bytes, manifest, options)
        .with_context(|| format!("failed to load `{}`", built.artefact.display()))?;
    Ok(LoadedPlugin {
        description: format!(
            "`{}` v{} ({})",
            manifest.plugin.id,
            manifest.plugin.version,
            built.root.display()
        ),
        plugin,
    })
}

fn load_wasm(
    term: &Term,
    path: &Path,
    request: &LoadRequest,
    kind: Option<Expected>,
) -> Result<LoadedPlugin> {
    let bytes =
        std::fs::read(path).with_context(|| format!("failed to read `{}`", path.display()))?;
    let inspection = inspect::inspect(&bytes)
        .with_context(|| format!("failed to inspect `{}`", path.display()))?;
    let duplicates = inspection.warnings.iter().find_map(|w| match w {
        inspect::InspectWarning::DuplicateManifest { count } => Some(*count),
        _ => None,
    });
    if let (None, Some(count)) = (&inspection.embedded_manifest, duplicates) {
        // The registry's error: `helps` words its fix.
        let error = flowtrace_plugins::registry::RegistryError::DuplicateManifest { count };
        return Err(anyhow::Error::new(error)).with_context(|| {
            format!(
                "failed to read the manifest embedded in `{}`",
                path.display()
            )
        });
    }
    let Some(text) = &inspection.embedded_manifest else {
        return Err(anyhow!(
            "`{}` has no embedded manifest (custom section `{}`)",
            path.display(),
            inspect::MANIFEST_SECTION
        ))
        .help(
            "build the plugin with `cargo flowtrace build`, which embeds its flowtrace.toml in \
             the component, or pass the plugin's directory",
        );
    };
    let name = format!("{}#{}", path.display(), inspect::MANIFEST_SECTION);
    let manifest = manifest::parse(text, Path::new(&name))
        .with_context(|| format!("the manifest embedded in `{}` is invalid", path.display()))?;
    ensure_kind(&manifest, &format!("`{}`", path.display()), kind)?;
    let config = config_overrides(&manifest, &request.config)?;
    let runtime = Runtime::with_config(request.runtime_config())
        .context("failed to start the plugin runtime")?;
    let fs_read = &manifest.capabilities.fs_read;
    let data_dir = needs_data_dir(fs_read, request, &format!("`{}`", path.display()))?;
    let options = LoadOptions {
        config,
        services: services(term, request, fs_read, data_dir)?,
        ..LoadOptions::default()
    };
    let plugin = runtime
        .load(&bytes, &manifest, options)
        .with_context(|| format!("failed to load `{}`", path.display()))?;
    Ok(LoadedPlugin {
        description: format!(
            "`{}` v{} ({})",
            manifest.plugin.id,
            manifest.plugin.version,
            path.display()
        ),
        plugin,
    })
}

fn load_installed(
    cx: &Context,
    id: &PluginId,
    version: Option<&Version>,
    request: &LoadRequest,
    kind: Option<Expected>,
) -> Result<LoadedPlugin> {
    let home = context::flowtrace_home()?;
    let not_installed = || {
        Err(anyhow!(
            "plugin `{id}` is not installed, and there is no file or directory `{id}`"
        ))
    };
    if !home.is_dir() {
        return not_installed().with_help(|| {
            format!(
                "no plugin registry at `{}` (`$FLOWTRACE_HOME`); pass a plugin directory or a \
                 component (`.wasm`) instead",
                home.display()
            )
        });
    }
    let registry = crate::registry::open(cx)?;
    let installed = registry
        .list()
        .with_context(|| format!("failed to read the plugin registry at `{}`", home.display()))?;
    let Some(summary) = installed.iter().find(|p| p.id == *id) else {
        if registry.broken()?.iter().any(|b| b.id == *id) {
            // Its record is broken: the registry's error says how.
            registry
                .read_component(id)
                .with_context(|| format!("failed to load the installed plugin `{id}`"))?;
        }
        let wanted = kind.map(|k| k.kind);
        let candidates: Vec<String> = installed
            .iter()
            .filter(|p| wanted.is_none_or(|k| p.kind == k))
            .map(|p| format!("`{}`", p.id))
            .collect();
        let what = wanted.map_or("plugin", PluginKind::as_str);
        let help = if candidates.is_empty() {
            format!(
                "no {what} is installed in `{}`; install one with `cargo flowtrace install \
                 <plugin directory>`, or pass a plugin directory or a component (`.wasm`)",
                home.display()
            )
        } else {
            format!("installed {what}s: {}", candidates.join(", "))
        };
        return not_installed().help(help);
    };
    if let Some(expected) = kind {
        if summary.kind != expected.kind {
            return Err(wrong_kind(
                &format!("plugin `{id}`"),
                summary.kind,
                expected,
            ));
        }
    }
    let version = version.unwrap_or(&summary.version);
    let config = if request.config.is_empty() {
        BTreeMap::new()
    } else {
        let path = registry.store().manifest_path(id, version);
        let manifest = Manifest::from_file(&path)
            .with_context(|| format!("failed to read the manifest of plugin `{id}`"))?;
        config_overrides(&manifest, &request.config)?
    };
    let runtime = Runtime::with_config(request.runtime_config())
        .context("failed to start the plugin runtime")?;
    // What the user granted, not what the manifest declares: that is what is linked.
    let fs_read = &summary.capabilities.fs_read;
    let data_dir = needs_data_dir(fs_read, request, &format!("plugin `{id}`"))?;
    let services = services(&cx.term, request, fs_read, data_dir)?;
    let plugin = registry
        .load_version_with_config(&runtime, id, Some(version), &services, config)
        .with_context(|| format!("failed to load the installed plugin `{id}` v{version}"))?;
    if let Some(expected) = kind {
        // An older version may be of another kind than the active one.
        if plugin.manifest().plugin.kind != expected.kind {
            let subject = format!("plugin `{id}` v{version}");
            return Err(wrong_kind(
                &subject,
                plugin.manifest().plugin.kind,
                expected,
            ));
        }
    }
    if !summary.enabled {
        crate::registry::warn_disabled(&cx.term, summary);
    }
    let disabled = if summary.enabled { "" } else { ", disabled" };
    Ok(LoadedPlugin {
        description: format!("`{id}` v{version} (installed{disabled})"),
        plugin,
    })
}

/// `--data-dir` for a plugin without a directory of its own (installed, or a `.wasm`): a
/// plugin granted `fs-read` is refused without it, rather than run with nothing to read.
fn needs_data_dir<'a>(
    fs_read: &[String],
    request: &'a LoadRequest,
    subject: &str,
) -> Result<Option<&'a Path>> {
    match (&request.data_dir, fs_read) {
        (Some(dir), _) => Ok(Some(dir)),
        (None, []) => Ok(None),
        (None, dirs) => Err(anyhow!(
            "{subject} reads files (`fs-read`: {}), and has no plugin directory to read them from",
            backticked(dirs)
        ))
        .help("pass `--data-dir <DIR>`: the directory its `fs-read` paths are relative to"),
    }
}

/// The services `eval` loads a plugin with: the defaults, and `data_dir` for `fs-read`. A
/// granted directory missing under it is a warning: the plugin would see nothing there.
fn services(
    term: &Term,
    request: &LoadRequest,
    fs_read: &[String],
    data_dir: Option<&Path>,
) -> Result<Services> {
    let mut services = Services::default();
    if request.logs_with_records && term.is_human() {
        services.log = Arc::new(RecordedWarnings);
    }
    let Some(dir) = data_dir else {
        return Ok(services);
    };
    let dir = std::path::absolute(dir)
        .with_context(|| format!("failed to resolve `{}`", dir.display()))?;
    for rel in fs_read {
        if !dir.join(rel).is_dir() {
            term.warn(format_args!(
                "`fs-read` directory `{rel}` is not a directory under `{}`: the plugin will \
                 not see it",
                dir.display()
            ));
        }
    }
    services.data_dir = Some(dir);
    Ok(services)
}

/// The log sink of a command that shows each record's warnings with the record
/// ([`LoadRequest::logs_with_records`]): passes on to `tracing` (`FLOWTRACE_LOG`) the lines
/// below warnings only, so that a warning is shown once.
struct RecordedWarnings;

impl LogSink for RecordedWarnings {
    fn log(&self, plugin: &PluginId, level: LogLevel, message: &str) {
        if level < LogLevel::Warn {
            TracingLog.log(plugin, level, message);
        }
    }

    fn record(&self, record: &LogRecord<'_>) {
        if record.level < LogLevel::Warn {
            TracingLog.record(record);
        }
    }
}

fn backticked(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    items.join(", ")
}

fn ensure_kind(manifest: &Manifest, subject: &str, expected: Option<Expected>) -> Result<()> {
    match expected {
        Some(expected) if manifest.plugin.kind != expected.kind => {
            Err(wrong_kind(subject, manifest.plugin.kind, expected))
        }
        _ => Ok(()),
    }
}

fn wrong_kind(subject: &str, kind: PluginKind, expected: Expected) -> anyhow::Error {
    let (name, wanted) = (kind.as_str(), expected.kind.as_str());
    crate::error::with_help(
        anyhow!(
            "{subject} is {} {name}, not {} {wanted}",
            article(name),
            article(wanted)
        ),
        format!(
            "`{}` runs {wanted}s: plugins with `kind = \"{wanted}\"` in their flowtrace.toml{}",
            expected.command,
            if expected.command.ends_with(" run") {
                ""
            } else {
                "; `cargo flowtrace run` runs a plugin of any kind"
            }
        ),
    )
}

/// Parse `--config key=value` (the argument as typed).
pub fn parse_config_arg(arg: &str) -> Result<(String, String), String> {
    match arg.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("`{arg}` is not `key=value`")),
    }
}

/// The `--config` values as the types the manifest declares. Every undeclared key and wrong
/// value is reported at once.
pub fn config_overrides(
    manifest: &Manifest,
    given: &[(String, String)],
) -> Result<BTreeMap<String, ConfigValue>> {
    let mut values = BTreeMap::new();
    let mut problems = Vec::new();
    for (key, text) in given {
        let Some(field) = manifest.config.get(key) else {
            let declared: Vec<String> = manifest.config.keys().map(|k| format!("`{k}`")).collect();
            problems.push(format!(
                "`--config {key}={text}`: `{key}` is not declared under `[config]` in the \
                 plugin's manifest (declared: {})",
                if declared.is_empty() {
                    "none".to_string()
                } else {
                    declared.join(", ")
                }
            ));
            continue;
        };
        let value = field.ty.parse(text);
        match value {
            Some(value) => {
                values.insert(key.clone(), value);
            }
            None => problems.push(format!(
                "`--config {key}={text}`: `{key}` is declared as `{}`",
                field.ty.as_str()
            )),
        }
    }
    if problems.is_empty() {
        return Ok(values);
    }
    Err(anyhow!(
        "invalid config for plugin `{}`:\n  {}",
        manifest.plugin.id,
        problems.join("\n  ")
    ))
    .help(
        "set only the keys the plugin declares under `[config]`; give integers as `42`, floats \
         as `0.5`, booleans as `true` or `false`, and string lists as `a,b,c`",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_values_take_the_declared_types() {
        let manifest = Manifest::from_str(
            "[plugin]\nid = \"p\"\nname = \"p\"\nversion = \"0.1.0\"\nkind = \"evaluator\"\n\
             [build]\nlanguage = \"rust\"\n[config]\nn = { type = \"integer\", default = 1 }\n\
             x = { type = \"float\", default = 0.5 }\nflag = { type = \"boolean\", default = false }\n\
             names = { type = \"string-list\", default = [] }\n",
            Path::new("flowtrace.toml"),
        )
        .unwrap();
        let given: Vec<(String, String)> = ["n=3", "x=0.25", "flag=true", "names=a, b"]
            .iter()
            .map(|a| parse_config_arg(a).unwrap())
            .collect();
        let values = config_overrides(&manifest, &given).unwrap();
        assert_eq!(values["n"], ConfigValue::Integer(3));
        assert_eq!(values["x"], ConfigValue::Float(0.25));
        assert_eq!(values["flag"], ConfigValue::Boolean(true));
        assert_eq!(
            values["names"],
            ConfigValue::StringList(vec!["a".into(), "b".into()])
        );

        let bad: Vec<(String, String)> = ["n=three", "other=1"]
            .iter()
            .map(|a| parse_config_arg(a).unwrap())
            .collect();
        let error = config_overrides(&manifest, &bad).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid config for plugin `p`:\n  `--config n=three`: `n` is declared as \
             `integer`\n  `--config other=1`: `other` is not declared under `[config]` in the \
             plugin's manifest (declared: `flag`, `n`, `names`, `x`)"
        );
        assert!(parse_config_arg("novalue").is_err());
        assert!(parse_config_arg("=1").is_err());
    }
}
