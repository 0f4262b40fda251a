//! `cargo flowtrace trust`

use anyhow::{anyhow, Context as _, Result};
use clap::{Args, Subcommand};
use flowtrace_plugins::registry::oci::{PublicKey, TrustStore};
use flowtrace_plugins::registry::Store;
use serde::Serialize;

use crate::context::{self, Context};
use crate::error::ResultExt;

/// Manage the public keys whose signatures `install` accepts
///
/// An artifact installed from a registry or a package file is checked against these keys:
/// signed by one of them, it installs (`Verified ...`); signed by another key, or altered
/// after signing, it is refused; unsigned, it installs with a warning, or is refused with
/// `install --require-signature` or `require-signature = true` in
/// `$FLOWTRACE_HOME/config.toml`. Keys live in `$FLOWTRACE_HOME/trust/<name>.pub`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  cargo flowtrace trust add ed25519:Zm9v... --name acme
  cargo flowtrace trust add acme.pub                 a public key file (`key generate` writes one)
  cargo flowtrace trust list
  cargo flowtrace trust remove acme")]
pub struct TrustCommand {
    #[command(subcommand)]
    action: TrustAction,
}

#[derive(Debug, Subcommand)]
enum TrustAction {
    /// Trust a public key (`ed25519:...`, or a file holding one)
    Add {
        /// The key, or a file holding it
        key: String,
        /// A name for it (default: the file's name, else the key id)
        #[arg(long)]
        name: Option<String>,
    },
    /// List the trusted keys
    List,
    /// Stop trusting a key, by name or key id
    Remove {
        /// Its name or key id
        key: String,
    },
}

/// `{"reason": "trusted-key", ...}`
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
struct Trusted {
    name: String,
    key_id: String,
    public_key: String,
}

impl TrustCommand {
    /// Run `trust`.
    pub fn exec(self, cx: &Context) -> Result<()> {
        let store = TrustStore::new(Store::new(context::flowtrace_home()?).trust_dir());
        let term = &cx.term;
        match self.action {
            TrustAction::Add { key, name } => {
                let path = std::path::Path::new(&key);
                let (text, file_name) = if !key.starts_with("ed25519:") && path.is_file() {
                    let text = std::fs::read_to_string(path)
                        .with_context(|| format!("failed to read `{key}`"))?;
                    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
                    (text, stem)
                } else {
                    (key.clone(), None)
                };
                let public = PublicKey::parse(&text)
                    .context("not a public key")
                    .help("pass `ed25519:<base64>` as `cargo flowtrace key show` prints it, or a `.pub` file")?;
                let name = name.or(file_name).unwrap_or_else(|| public.key_id());
                store.add(&name, &public)?;
                term.status(
                    "Trusted",
                    format_args!("key `{name}` ({})", public.key_id()),
                );
                term.emit_as(
                    "trusted-key",
                    &Trusted {
                        name,
                        key_id: public.key_id(),
                        public_key: public.to_text(),
                    },
                )?;
            }
            TrustAction::List => {
                let keys = store.keys().context("failed to read the trusted keys")?;
                if keys.is_empty() && term.is_human() {
                    term.note("no keys are trusted; `cargo flowtrace trust add <key>` adds one");
                }
                for key in keys {
                    term.emit_as(
                        "trusted-key",
                        &Trusted {
                            name: key.name.clone(),
                            key_id: key.key.key_id(),
                            public_key: key.key.to_text(),
                        },
                    )?;
                    if !term.is_json() {
                        println!("{}  {}  {}", key.name, key.key.key_id(), key.key.to_text());
                    }
                }
            }
            TrustAction::Remove { key } => match store.remove(&key)? {
                Some(removed) => term.status(
                    "Removed",
                    format_args!("key `{}` ({})", removed.name, removed.key.key_id()),
                ),
                None => {
                    return Err(anyhow!("no trusted key is named or has the id `{key}`"))
                        .help("`cargo flowtrace trust list` shows the trusted keys")
                }
            },
        }
        Ok(())
    }
}
