//! `cargo flowtrace package`

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use clap::Args;
use flowtrace_plugins::fs::write_atomically;
use flowtrace_plugins::registry::oci::{created_from_env, layout, Artifact, SigningKey};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::build::{self, BuildRequest, OUTPUT_DIR};
use crate::context::{self, Context};
use crate::registry::trust;

/// Package the plugin into one file, to publish, share or install
///
/// Builds the plugin (`--release`, unless `--debug`) and writes
/// `<target dir>/flowtrace/package/<id>-<version>.oci.tar`: an OCI image layout holding the
/// plugin as one OCI artifact, in the layout of the WebAssembly OCI artifact convention that
/// `wkg`, `wash` and `spin` push (an image manifest with a config of type
/// `application/vnd.wasm.config.v0+json` and one `application/wasm` layer, the component,
/// with the plugin's id, kind, capabilities and contract version as annotations).
///
/// The package is what `cargo flowtrace publish` pushes, byte for byte: its digest is the
/// digest the registry will serve. `cargo flowtrace install <file>.oci.tar` installs it, and
/// `skopeo copy oci-archive:<file>.oci.tar docker://...` copies it to any registry. The same
/// component gives the same package (entries sorted, times zero; the artifact's `created` is
/// `$SOURCE_DATE_EPOCH`, else the Unix epoch).
///
/// With a signing key (`cargo flowtrace key generate` makes the `default` one), the package
/// is signed: an Ed25519 signature of its digest in `<file>.oci.tar.sig`, which `install`
/// checks against the keys the installing user trusts.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  cargo flowtrace package                          target/flowtrace/package/<id>-<version>.oci.tar
  cargo flowtrace package -o my-eval.oci.tar
  cargo flowtrace install target/flowtrace/package/my-eval-0.1.0.oci.tar")]
pub struct PackageCommand {
    /// Package a dev build instead of a release build
    #[arg(long)]
    pub debug: bool,

    /// Where to write the package
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub signing: SigningArgs,
}

/// How `package` and `publish` sign.
#[derive(Debug, Args)]
pub struct SigningArgs {
    /// Sign with this key of `$FLOWTRACE_HOME/keys/` (default: the key `default`, when you
    /// have one: `cargo flowtrace key generate`)
    #[arg(long, value_name = "NAME")]
    pub key: Option<String>,

    /// Do not sign, even with a default key
    #[arg(long, conflicts_with = "key")]
    pub no_sign: bool,
}

impl SigningArgs {
    /// The key to sign with, if any.
    pub fn key(&self) -> Result<Option<SigningKey>> {
        trust::signing_key(
            &context::flowtrace_home()?,
            self.key.as_deref(),
            self.no_sign,
        )
    }
}

/// `{"reason": "plugin-packaged", ...}`
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Packaged {
    /// The plugin id.
    pub id: String,
    /// Its version.
    pub version: String,
    /// The package file.
    pub path: PathBuf,
    /// The artifact's digest (its manifest's), as a registry serves it.
    pub digest: String,
    /// SHA-256 of the package file.
    pub sha256: String,
    /// Size of the package file, bytes.
    pub size: u64,
    /// `dev` or `release`.
    pub profile: &'static str,
    /// The id of the key that signed it (the signature is `<path>.sig`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<String>,
    /// The artifact itself (not serialised).
    #[serde(skip)]
    pub artifact: Artifact,
    /// The signature document (not serialised).
    #[serde(skip)]
    pub signature: Option<Vec<u8>>,
}

impl PackageCommand {
    /// Run `package`.
    pub fn exec(self, cx: &Context) -> Result<()> {
        let key = self.signing.key()?;
        let packaged = package(cx, !self.debug, self.output.as_deref(), key.as_ref())?;
        cx.term.emit_as("plugin-packaged", &packaged)?;
        if !cx.term.is_json() {
            println!("{}", packaged.digest);
        }
        Ok(())
    }
}

/// Build the plugin of this directory and write its package (to `output`, or beside the
/// built component).
pub fn package(
    cx: &Context,
    release: bool,
    output: Option<&Path>,
    key: Option<&SigningKey>,
) -> Result<Packaged> {
    let term = &cx.term;
    let built = build::build(
        term,
        &BuildRequest {
            manifest_path: cx.manifest_path()?,
            release,
            typecheck: true,
            dev_engine: false,
            caps: flowtrace_plugins::HostCaps::default(),
        },
    )?;
    let id = built.manifest.plugin.id.to_string();
    let version = built.manifest.plugin.version.to_string();
    let artifact = Artifact::from_component(built.bytes, &created_from_env())
        .context("failed to package the plugin")?;
    let path = match output {
        Some(path) => path.to_path_buf(),
        None => built
            .target_dir
            .join(OUTPUT_DIR)
            .join("package")
            .join(format!("{id}-{version}.oci.tar")),
    };
    let mut bytes = Vec::new();
    layout::write(&artifact, &mut bytes).context("failed to write the package")?;
    write_atomically(&path, &bytes)?;
    let digest = artifact.digest();
    let signature = key.map(|key| key.sign(&digest));
    let sig_path = trust::signature_path(&path);
    match &signature {
        Some(document) => write_atomically(&sig_path, document)?,
        // A signature left from an earlier package would not match this one.
        None => match std::fs::remove_file(&sig_path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e).with_context(|| format!("failed to remove `{}`", sig_path.display()))
            }
        },
    }
    let packaged = Packaged {
        id,
        version,
        digest,
        signed_by: key.map(|k| k.public().key_id()),
        signature,
        sha256: hex::encode(Sha256::digest(&bytes)),
        size: bytes.len() as u64,
        profile: if release { "release" } else { "dev" },
        path,
        artifact,
    };
    term.status(
        "Packaged",
        format_args!(
            "{} v{} ({}, {} bytes) to {}",
            packaged.id,
            packaged.version,
            packaged.profile,
            packaged.size,
            packaged.path.display()
        ),
    );
    term.verbose_status("Digest", &packaged.digest);
    if let Some(id) = &packaged.signed_by {
        term.status(
            "Signed",
            format_args!("{} with key {id} ({})", packaged.digest, sig_path.display()),
        );
    }
    Ok(packaged)
}
