//! Signing what `package` and `publish` produce, and checking what `install` takes from a
//! registry or a package file against the keys the user trusts.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _, Result};
use flowtrace_plugins::registry::oci::{SignatureError, SigningKey, TrustStore, TrustedKey};
use flowtrace_plugins::registry::Store;

use crate::error::{with_help, ResultExt};
use crate::term::Term;

/// `<package>.sig`: where a package's signature is kept, beside it.
pub fn signature_path(package: &Path) -> PathBuf {
    let mut name = package.as_os_str().to_owned();
    name.push(".sig");
    PathBuf::from(name)
}

/// The key `key generate` writes when no name is given, and `package`/`publish` sign with.
pub const DEFAULT_KEY: &str = "default";

/// The key to sign with: `--key NAME`, else the default key when the user has one; none
/// with `--no-sign`.
pub fn signing_key(home: &Path, name: Option<&str>, no_sign: bool) -> Result<Option<SigningKey>> {
    if no_sign {
        return Ok(None);
    }
    let path = Store::new(home)
        .keys_dir()
        .join(format!("{}.key", name.unwrap_or(DEFAULT_KEY)));
    if name.is_none() && !path.exists() {
        return Ok(None);
    }
    SigningKey::load(&path)
        .with_context(|| format!("failed to load the signing key `{}`", path.display()))
        .with_help(|| {
            format!(
                "create it with `cargo flowtrace key generate{}`",
                name.map(|n| format!(" --name {n}")).unwrap_or_default()
            )
        })
        .map(Some)
}

/// What `install` decides about an artifact's signature.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Refuse artifacts without a signature (`--require-signature`, or
    /// `require-signature = true` in config.toml).
    pub require: bool,
}

/// Check the signature `document` (absent: unsigned) of the artifact `digest` from `what`:
/// the trusted key that signed it, `None` for an unsigned artifact allowed by `policy` (with
/// a warning), or an error that says what is wrong and how to fix it.
pub fn verify(
    term: &Term,
    home: &Path,
    policy: Policy,
    what: &str,
    digest: &str,
    document: Option<&[u8]>,
) -> Result<Option<TrustedKey>> {
    let Some(document) = document else {
        if policy.require {
            return Err(anyhow!(
                "`{what}` ({digest}) is not signed, and signatures are required"
            ))
            .help(
                "ask its publisher to sign it (`cargo flowtrace key generate`, then publish \
                     again), or install without `--require-signature` (and without \
                     `require-signature = true` in `$FLOWTRACE_HOME/config.toml`)",
            );
        }
        term.warn(format_args!(
            "`{what}` is not signed: nothing shows who published {digest}"
        ));
        return Ok(None);
    };
    let store = TrustStore::new(Store::new(home).trust_dir());
    match store.verify(document, digest) {
        Ok(key) => {
            term.status(
                "Verified",
                format_args!(
                    "signature of {digest} by `{}` ({})",
                    key.name,
                    key.key.key_id()
                ),
            );
            Ok(Some(key))
        }
        Err(SignatureError::Untrusted {
            digest,
            key_id,
            public_key,
        }) => {
            let help = format!(
                "if you trust its publisher, trust the key: `cargo flowtrace trust add \
                 {public_key} --name <publisher>`"
            );
            let e = SignatureError::Untrusted {
                digest,
                key_id,
                public_key,
            };
            Err(with_help(e, help)).with_context(|| format!("refusing to install `{what}`"))
        }
        Err(e @ (SignatureError::Invalid { .. } | SignatureError::OtherSubject { .. })) => {
            Err(with_help(
                e,
                "the artifact or its signature was altered after signing: do not install it; \
                 tell its publisher",
            ))
            .with_context(|| format!("refusing to install `{what}`"))
        }
        Err(e) => Err(e).with_context(|| format!("refusing to install `{what}`")),
    }
}
