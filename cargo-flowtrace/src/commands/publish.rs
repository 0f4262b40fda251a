//! `cargo flowtrace publish`

use std::path::PathBuf;

use anyhow::{anyhow, Context as _, Result};
use clap::Args;
use flowtrace_plugins::manifest::PluginId;
use flowtrace_plugins::registry::oci::{annotations, layout, signature_tag, OciReference};
use serde::Serialize;

use crate::commands::package;
use crate::context::{self, Context};
use crate::error::ResultExt;
use crate::registry::oci::{self as registries, RegistrySettings, CONFIG_FILE};
use crate::registry::trust;

/// Publish the plugin to an OCI registry
///
/// Packages the plugin (as `cargo flowtrace package` does: a release build, unless
/// `--debug`) and pushes it to REPOSITORY with its version as the tag, in the layout of the
/// WebAssembly OCI artifact convention (config `application/vnd.wasm.config.v0+json`, one
/// `application/wasm` layer). Prints the digest the registry serves, the same as the
/// package's.
///
/// REPOSITORY is `oci://HOST[:PORT]/PATH`; without it, the plugin goes to
/// `<first entry of registries>/<id>` of `$FLOWTRACE_HOME/config.toml`. A registry on this
/// machine (`localhost`, `127.0.0.1`, `[::1]`) is spoken to over plain HTTP; any other needs
/// TLS unless `--insecure`. Credentials come from `$FLOWTRACE_REGISTRY_USERNAME` and
/// `$FLOWTRACE_REGISTRY_PASSWORD`, else from Docker's `config.json` (`docker login`); they
/// are never printed.
///
/// With a signing key (`cargo flowtrace key generate`), the artifact is signed and the
/// signature pushed beside it, under the tag `sha256-<hex>.sig` of its digest.
///
/// A version is published once: when its tag points at another artifact already, publish
/// refuses (bump the version) unless `--force` moves the tag. Publishing the same artifact
/// again is harmless.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  cargo flowtrace publish oci://ghcr.io/acme/my-eval
  cargo flowtrace publish oci://127.0.0.1:5000/flowtrace/my-eval
  cargo flowtrace publish --package target/flowtrace/package/my-eval-0.1.0.oci.tar oci://...
  cargo flowtrace publish                 to the first of `registries` in config.toml")]
pub struct PublishCommand {
    /// `oci://HOST[:PORT]/REPOSITORY` (a tag, if given, must be the plugin's version)
    #[arg(value_name = "REPOSITORY")]
    pub repository: Option<String>,

    /// Push this package (from `cargo flowtrace package`) instead of building one
    #[arg(long, value_name = "FILE")]
    pub package: Option<PathBuf>,

    /// Publish a dev build instead of a release build
    #[arg(long, conflicts_with = "package")]
    pub debug: bool,

    /// Speak plain HTTP to a registry that is not on this machine
    #[arg(long)]
    pub insecure: bool,

    /// Move the version's tag even when it points at another artifact already
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub signing: package::SigningArgs,
}

/// `{"reason": "plugin-published", ...}`
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
struct Published<'a> {
    id: &'a str,
    version: &'a str,
    reference: String,
    digest: &'a str,
    signed: bool,
}

impl PublishCommand {
    /// Run `publish`.
    pub fn exec(self, cx: &Context) -> Result<()> {
        let term = &cx.term;
        let home = context::flowtrace_home()?;
        let settings = RegistrySettings::load(&home)?;
        let given = self
            .repository
            .as_deref()
            .map(OciReference::parse)
            .transpose()
            .context("invalid REPOSITORY")?;
        let key = self.signing.key()?;
        let (artifact, signature) = match &self.package {
            Some(path) => {
                let file = std::fs::File::open(path)
                    .with_context(|| format!("failed to read `{}`", path.display()))?;
                let artifact = layout::read(std::io::BufReader::new(file), u64::MAX)
                    .with_context(|| format!("failed to read the package `{}`", path.display()))?;
                // Its own signature, unless a key was chosen to sign it now.
                let beside = trust::signature_path(path);
                let signature = match (&key, self.signing.no_sign) {
                    (Some(key), _) => Some(key.sign(&artifact.digest())),
                    (None, false) if beside.is_file() => Some(
                        std::fs::read(&beside)
                            .with_context(|| format!("failed to read `{}`", beside.display()))?,
                    ),
                    _ => None,
                };
                (artifact, signature)
            }
            None => {
                let packaged = package::package(cx, !self.debug, None, key.as_ref())?;
                (packaged.artifact, packaged.signature)
            }
        };
        let info = artifact.info()?;
        let note = |key: &str| {
            info.manifest
                .annotations
                .get(key)
                .cloned()
                .unwrap_or_default()
        };
        let (id, version) = (note(annotations::ID), note(annotations::VERSION));
        let repository = match given {
            Some(reference) => reference,
            None => {
                let first = settings
                    .registries
                    .first()
                    .ok_or_else(|| anyhow!("no REPOSITORY given and no registry configured"))
                    .with_help(|| {
                        format!(
                            "pass `oci://HOST/REPOSITORY`, or add `registries = \
                         [\"oci://HOST/NAMESPACE\"]` to `{}`",
                            home.join(CONFIG_FILE).display()
                        )
                    })?;
                let id = PluginId::parse(&id).map_err(|e| anyhow!("{e}"))?;
                registries::repository_of(first, &id)
            }
        };
        if repository.digest.is_some() {
            return Err(anyhow!("`{repository}` names a digest: a push names a tag"))
                .help("pass the repository alone; the plugin's version becomes the tag");
        }
        if let Some(tag) = &repository.tag {
            if *tag != version {
                return Err(anyhow!(
                    "`{repository}` tags the plugin `{tag}`, but its version is {version}"
                ))
                .help("pass the repository alone; the plugin's version becomes the tag");
            }
        }
        let target = repository.with_tag(&version);
        let client = settings.client(self.insecure);
        // A published version is immutable unless asked: whoever installed it may rely on it.
        let ours = artifact.digest();
        match registries::block_on(client.tag_digest(&target))?
            .with_context(|| format!("failed to look up `{target}`"))?
        {
            Some(theirs) if theirs != ours && !self.force => {
                return Err(anyhow!(
                    "{id} v{version} is published already at `{target}` as {theirs}, which is \
                     not this artifact ({ours})"
                ))
                .help(format!(
                    "bump `version` in flowtrace.toml and publish again, or pass `--force` to \
                     move the tag `{version}` (anyone who installed {theirs} keeps it)"
                ));
            }
            Some(_) if !self.force => {
                term.note(format_args!("{target} is this artifact already ({ours})"))
            }
            _ => {}
        }
        let digest = {
            let _progress = term.progress("Publishing", None, target.to_string());
            registries::block_on(client.push(&target, &artifact))?
                .with_context(|| format!("failed to publish to `{target}`"))?
        };
        term.status(
            "Published",
            format_args!("{id} v{version} to {target} ({digest})"),
        );
        if let Some(document) = &signature {
            registries::block_on(client.push_signature(
                &target,
                &digest,
                artifact.manifest.len() as u64,
                document,
            ))?
            .with_context(|| format!("failed to publish the signature of `{target}`"))?;
            term.status(
                "Signed",
                format_args!("{digest} ({})", target.with_tag(&signature_tag(&digest))),
            );
        } else {
            term.note(format_args!(
                "`{id}` v{version} is published unsigned; `cargo flowtrace key generate` makes \
                 a key that `publish` signs with"
            ));
        }
        term.emit_as(
            "plugin-published",
            &Published {
                id: &id,
                version: &version,
                reference: target.to_string(),
                digest: &digest,
                signed: signature.is_some(),
            },
        )?;
        if !term.is_json() {
            println!("{}@{digest}", target.repository_url());
        }
        Ok(())
    }
}
