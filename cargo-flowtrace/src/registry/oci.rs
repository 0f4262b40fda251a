//! OCI registries as the commands use them: the settings in `$FLOWTRACE_HOME/config.toml`,
//! credentials from the environment or Docker's configuration, and one blocking call per
//! registry operation.
//!
//! ```toml
//! # $FLOWTRACE_HOME/config.toml
//! # Where `install ID@REQ` looks (in order) and `publish` pushes by default; a plugin `ID`
//! # lives in the repository `<registry>/<ID>`.
//! registries = ["oci://registry.example.com/flowtrace"]
//! # The largest component pulled (default 64MiB).
//! max-blob-size = "64MiB"
//! # Refuse artifacts without a signature by a trusted key (default: warn and install).
//! require-signature = true
//! ```

use std::future::Future;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _, Result};
use flowtrace_plugins::manifest::{parse_size, PluginId};
use flowtrace_plugins::registry::oci::{
    Credentials, OciClient, OciClientConfig, OciError, OciReference, DEFAULT_MAX_BLOB,
};
use semver::{Version, VersionReq};
use serde::Deserialize;

use crate::error::{with_help, ResultExt};

/// The settings file under `$FLOWTRACE_HOME`.
pub const CONFIG_FILE: &str = "config.toml";
/// User name for every registry (with [`PASSWORD_ENV`]); else Docker's configuration.
pub const USERNAME_ENV: &str = "FLOWTRACE_REGISTRY_USERNAME";
/// Password or token for every registry (with [`USERNAME_ENV`]).
pub const PASSWORD_ENV: &str = "FLOWTRACE_REGISTRY_PASSWORD";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    #[serde(default)]
    registries: Vec<String>,
    max_blob_size: Option<toml::Value>,
    #[serde(default)]
    require_signature: bool,
}

/// The registry settings.
#[derive(Debug, Clone)]
pub struct RegistrySettings {
    /// Where plugins are looked up, in order (repositories `<registry>/<id>`).
    pub registries: Vec<OciReference>,
    /// The largest component pulled.
    pub max_blob: u64,
    /// Refuse unsigned artifacts (`require-signature = true`).
    pub require_signature: bool,
    /// The file they came from.
    pub path: PathBuf,
}

impl RegistrySettings {
    /// Read `$FLOWTRACE_HOME/config.toml` (defaults when it does not exist).
    pub fn load(home: &Path) -> Result<Self> {
        let path = home.join(CONFIG_FILE);
        let raw: RawConfig = match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text)
                .with_context(|| format!("invalid settings file `{}`", path.display()))
                .help(
                    "it may hold `registries = [\"oci://HOST/NAMESPACE\", ...]` and \
                     `max-blob-size = \"64MiB\"` and `require-signature = true`",
                )?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => RawConfig::default(),
            Err(e) => {
                return Err(e).with_context(|| format!("failed to read `{}`", path.display()))
            }
        };
        let mut registries = Vec::new();
        for text in &raw.registries {
            let reference = OciReference::parse(text).with_context(|| {
                format!("invalid entry in `registries` of `{}`", path.display())
            })?;
            if reference.tag.is_some() || reference.digest.is_some() {
                return Err(anyhow!(
                    "the registry `{text}` in `{}` names a tag or digest",
                    path.display()
                ))
                .help("list namespaces, e.g. `oci://ghcr.io/acme/flowtrace`: plugin `ID` is looked up as `<namespace>/ID`");
            }
            registries.push(reference);
        }
        let max_blob = match &raw.max_blob_size {
            None => DEFAULT_MAX_BLOB,
            Some(value) => {
                let text = match value {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                parse_size(&text)
                    .map_err(|reason| {
                        anyhow!(
                            "invalid `max-blob-size = {value}` in `{}`: {reason}",
                            path.display()
                        )
                    })
                    .help("write a size such as `\"64MiB\"`")?
            }
        };
        Ok(RegistrySettings {
            registries,
            max_blob,
            require_signature: raw.require_signature,
            path,
        })
    }

    /// A client with these settings.
    pub fn client(&self, insecure: bool) -> OciClient {
        OciClient::new(OciClientConfig {
            insecure,
            max_blob: self.max_blob,
            credentials: Some(credentials),
            ..OciClientConfig::default()
        })
    }
}

/// `$FLOWTRACE_REGISTRY_USERNAME` and `$FLOWTRACE_REGISTRY_PASSWORD` when both are set, else
/// what Docker's configuration holds for `registry`.
fn credentials(registry: &str) -> Credentials {
    match (std::env::var(USERNAME_ENV), std::env::var(PASSWORD_ENV)) {
        (Ok(username), Ok(password)) if !username.is_empty() => {
            Credentials::Basic { username, password }
        }
        _ => Credentials::from_docker_config(registry),
    }
}

/// Run one registry operation to completion.
pub fn block_on<F: Future>(future: F) -> Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start the network runtime")?;
    Ok(runtime.block_on(future))
}

/// The repository of plugin `id` under `registry` (`oci://host/ns` -> `oci://host/ns/id`).
pub fn repository_of(registry: &OciReference, id: &PluginId) -> OciReference {
    OciReference {
        repository: format!("{}/{id}", registry.repository),
        tag: None,
        digest: None,
        ..registry.clone()
    }
}

/// The highest version of `id` matching `req` in the first of `registries` that has one:
/// the repository and the version.
pub fn resolve(
    client: &OciClient,
    registries: &[OciReference],
    id: &PluginId,
    req: &VersionReq,
) -> Result<(OciReference, Version)> {
    let mut seen = Vec::new();
    for registry in registries {
        let repository = repository_of(registry, id);
        let versions = match block_on(client.versions(&repository))? {
            Ok(versions) => versions,
            Err(OciError::NotFound { .. }) => {
                seen.push(format!("{repository}: no such repository"));
                continue;
            }
            Err(e) => {
                return Err(anyhow::Error::new(e))
                    .with_context(|| format!("failed to list the versions of `{repository}`"))
            }
        };
        if let Some(version) = versions.iter().rev().find(|v| req.matches(v)) {
            return Ok((repository, version.clone()));
        }
        let listed: Vec<String> = versions.iter().map(Version::to_string).collect();
        seen.push(format!(
            "{repository}: {}",
            if listed.is_empty() {
                "no semver tags".to_string()
            } else {
                listed.join(", ")
            }
        ));
    }
    if registries.is_empty() {
        return Err(anyhow!("no registry is configured to look up `{id}@{req}` in"))
            .help(format!(
                "add `registries = [\"oci://HOST/NAMESPACE\"]` to `$FLOWTRACE_HOME/{CONFIG_FILE}`, \
                 or install from a reference: `cargo flowtrace install oci://HOST/REPOSITORY:VERSION`"
            ));
    }
    Err(with_help(
        anyhow!(
            "no version of `{id}` matches `{req}` in the configured registries ({})",
            seen.join("; ")
        ),
        "check the requirement, or publish a matching version",
    ))
}

/// The fix for a registry error, for a `help:` line.
pub fn help(error: &OciError) -> Option<String> {
    Some(match error {
        OciError::Unauthorized {
            had_credentials: false,
            registry,
            ..
        } => format!(
            "log in (`docker login {registry}` writes `~/.docker/config.json`), or set \
             `{USERNAME_ENV}` and `{PASSWORD_ENV}`"
        ),
        OciError::Unauthorized { .. } => format!(
            "check the credentials (`{USERNAME_ENV}`/`{PASSWORD_ENV}` or Docker's \
             `config.json`) and that they may access this repository"
        ),
        OciError::Unreachable { registry, .. } => format!(
            "check that `{registry}` is up and reachable; a registry other than this machine \
             needs TLS, or `--insecure` for plain HTTP"
        ),
        OciError::Interrupted { .. } => {
            "nothing was installed; run the command again (a proxy or an unstable network may \
             cut long transfers)"
                .into()
        }
        OciError::NotFound { .. } => {
            "check the repository and tag (`skopeo list-tags docker://HOST/REPOSITORY` lists \
             the tags)"
                .into()
        }
        OciError::TooLarge { .. } => format!(
            "raise `max-blob-size` in `$FLOWTRACE_HOME/{CONFIG_FILE}` if you trust this artifact"
        ),
        OciError::DigestMismatch { .. } => {
            "the registry or the network altered the data: nothing was installed; try again, \
             and tell the registry's operator if it persists"
                .into()
        }
        OciError::NotAPlugin { .. } => {
            "push plugins with `cargo flowtrace publish`, or any tool that writes the \
             WebAssembly OCI artifact layout (`wkg oci push`)"
                .into()
        }
        OciError::NoEmbeddedManifest => {
            "build the plugin with `cargo flowtrace build`: it embeds `flowtrace.toml`".into()
        }
        OciError::IdMismatch { expected, .. } => format!(
            "the repository for `{expected}` holds another plugin: check the configured \
             registries, or install the artifact by its reference (`oci://...`)"
        ),
        OciError::BadReference { .. } => {
            "write `oci://HOST[:PORT]/REPOSITORY[:TAG]`, e.g. `oci://ghcr.io/acme/my-eval:0.1.0`"
                .into()
        }
        _ => return None,
    })
}
