//! `cargo flowtrace key`

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use flowtrace_plugins::registry::oci::SigningKey;
use flowtrace_plugins::registry::Store;
use serde::Serialize;

use crate::context::{self, Context};
use crate::error::ResultExt;
use crate::registry::trust::DEFAULT_KEY;

/// Manage the keys you sign plugins with
///
/// `key generate` makes an Ed25519 key pair under `$FLOWTRACE_HOME/keys/`: `<name>.key`
/// (the private key, readable by you only) and `<name>.pub`. From then on `package` and
/// `publish` sign with the key named `default` (or `--key NAME`); give the public key to the
/// people who install your plugins: they run `cargo flowtrace trust add <public key>`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  cargo flowtrace key generate               the key `package` and `publish` sign with
  cargo flowtrace key generate --name ci     another key (`publish --key ci`)
  cargo flowtrace key show                   the public key to hand out")]
pub struct KeyCommand {
    #[command(subcommand)]
    action: KeyAction,
}

#[derive(Debug, Subcommand)]
enum KeyAction {
    /// Generate a signing key pair
    Generate {
        /// Its name
        #[arg(long, default_value = DEFAULT_KEY)]
        name: String,
    },
    /// Print a key's public key
    Show {
        /// Its name
        #[arg(default_value = DEFAULT_KEY)]
        name: String,
    },
}

/// `{"reason": "signing-key", ...}`
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
struct KeyMessage {
    name: String,
    key_id: String,
    public_key: String,
    path: String,
}

impl KeyCommand {
    /// Run `key`.
    pub fn exec(self, cx: &Context) -> Result<()> {
        let store = Store::new(context::flowtrace_home()?);
        let (name, key, path) = match self.action {
            KeyAction::Generate { name } => {
                let path = store.keys_dir().join(format!("{name}.key"));
                if path.exists() {
                    return Err(anyhow::anyhow!(
                        "the key `{name}` exists already (`{}`)",
                        path.display()
                    ))
                    .help(format!(
                        "pick another name (`--name`), or remove `{}` if you mean to replace \
                         it (plugins signed with it will no longer verify for anyone who \
                         trusts it)",
                        path.display()
                    ));
                }
                let key = SigningKey::generate().context("failed to generate a key")?;
                key.save(&path)
                    .with_context(|| format!("failed to write the key `{name}`"))?;
                cx.term.status(
                    "Generated",
                    format_args!(
                        "key `{name}` ({}) in {}",
                        key.public().key_id(),
                        path.display()
                    ),
                );
                (name, key, path)
            }
            KeyAction::Show { name } => {
                let path = store.keys_dir().join(format!("{name}.key"));
                let key = SigningKey::load(&path)
                    .with_context(|| format!("failed to load the key `{name}`"))
                    .help(format!(
                        "create it with `cargo flowtrace key generate --name {name}`"
                    ))?;
                (name, key, path)
            }
        };
        let public = key.public();
        cx.term.emit_as(
            "signing-key",
            &KeyMessage {
                name,
                key_id: public.key_id(),
                public_key: public.to_text(),
                path: path.display().to_string(),
            },
        )?;
        if !cx.term.is_json() {
            println!("{}", public.to_text());
        }
        Ok(())
    }
}
