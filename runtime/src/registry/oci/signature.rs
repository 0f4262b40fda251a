//! Ed25519 signatures of plugin artifacts, detached: a small JSON document that names the
//! artifact's manifest digest and the signer's public key. The manifest names the digests of
//! the config and of the component, so one signature covers every byte installed.
//!
//! A signature travels beside what it signs: as `<package>.sig` next to a package file, and
//! in a registry as an artifact under the tag `sha256-<hex>.sig` of the signed digest (the
//! tag scheme cosign uses, which every registry supports, referrers API or not).
//!
//! Keys are the user's own (`cargo flowtrace key generate`); installs verify against the
//! public keys the user trusts ([`TrustStore`]).

use std::path::{Path, PathBuf};

use base64::Engine as _;
use ed25519_dalek::{Signer as _, Verifier as _};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::artifact::is_sha256_digest;

/// `format` of a signature document.
pub const SIGNATURE_FORMAT: &str = "flowtrace-signature-v1";
/// What is signed: this prefix, then the manifest digest (`sha256:<hex>`).
const SIGNED_PREFIX: &[u8] = b"flowtrace plugin artifact v1\n";
/// The text form of a public key starts with this.
const PUBLIC_PREFIX: &str = "ed25519:";
/// The text form of a private key starts with this.
const PRIVATE_PREFIX: &str = "ed25519-private:";
/// A signature document bigger than this is not one.
pub const MAX_SIGNATURE_BYTES: u64 = 64 << 10;

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// Why a key or signature could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    /// A key file or key text that is not a key.
    #[error("invalid key{}: {reason}", path.as_ref().map(|p| format!(" `{}`", p.display())).unwrap_or_default())]
    BadKey {
        /// The file, if it came from one.
        path: Option<PathBuf>,
        /// Why.
        reason: String,
    },
    /// A signature document that does not parse.
    #[error("invalid signature document: {reason}")]
    BadDocument {
        /// Why.
        reason: String,
    },
    /// The signature is for another artifact.
    #[error("the signature is for {signed}, not for {digest}")]
    OtherSubject {
        /// The digest it signs.
        signed: String,
        /// The digest installed.
        digest: String,
    },
    /// Signed by a key the user does not trust.
    #[error("{digest} is signed by key {key_id}, which is not trusted")]
    Untrusted {
        /// The artifact.
        digest: String,
        /// The signer's key id.
        key_id: String,
        /// The signer's public key, in text form.
        public_key: String,
    },
    /// The signature does not verify: the artifact or the signature was altered.
    #[error("the signature of {digest} by key {key_id} ({name}) does not verify")]
    Invalid {
        /// The artifact.
        digest: String,
        /// The key id.
        key_id: String,
        /// The trusted key's name.
        name: String,
    },
    /// Reading or writing a key.
    #[error("failed to {action} `{}`", path.display())]
    Io {
        /// What.
        action: &'static str,
        /// Where.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

/// A public key: `ed25519:<base64 of 32 bytes>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey(ed25519_dalek::VerifyingKey);

impl PublicKey {
    /// Parse the text form.
    pub fn parse(text: &str) -> Result<Self, SignatureError> {
        let bad = |reason: &str| SignatureError::BadKey {
            path: None,
            reason: reason.into(),
        };
        let encoded = text
            .trim()
            .strip_prefix(PUBLIC_PREFIX)
            .ok_or_else(|| bad("a public key starts with `ed25519:`"))?;
        let bytes: [u8; 32] = b64()
            .decode(encoded)
            .map_err(|_| bad("not base64"))?
            .try_into()
            .map_err(|_| bad("not 32 bytes"))?;
        ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map(PublicKey)
            .map_err(|_| bad("not a point of the curve"))
    }

    /// The text form.
    pub fn to_text(&self) -> String {
        format!("{PUBLIC_PREFIX}{}", b64().encode(self.0.as_bytes()))
    }

    /// A short id: the first 16 hex digits of the sha256 of the key's bytes.
    pub fn key_id(&self) -> String {
        hex::encode(&Sha256::digest(self.0.as_bytes())[..8])
    }
}

/// A private signing key. `Debug` shows only its public key's id.
pub struct SigningKey(ed25519_dalek::SigningKey);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.public().key_id())
    }
}

impl SigningKey {
    /// A new random key.
    pub fn generate() -> Result<Self, SignatureError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| SignatureError::BadKey {
            path: None,
            reason: format!("no randomness: {e}"),
        })?;
        Ok(SigningKey(ed25519_dalek::SigningKey::from_bytes(&seed)))
    }

    /// Its public key.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// Read a key file written by [`save`](Self::save).
    pub fn load(path: &Path) -> Result<Self, SignatureError> {
        let text = std::fs::read_to_string(path).map_err(|source| SignatureError::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        })?;
        let bad = |reason: &str| SignatureError::BadKey {
            path: Some(path.to_path_buf()),
            reason: reason.into(),
        };
        let seed: [u8; 32] = b64()
            .decode(
                text.trim()
                    .strip_prefix(PRIVATE_PREFIX)
                    .ok_or_else(|| bad("a private key starts with `ed25519-private:`"))?,
            )
            .map_err(|_| bad("not base64"))?
            .try_into()
            .map_err(|_| bad("not 32 bytes"))?;
        Ok(SigningKey(ed25519_dalek::SigningKey::from_bytes(&seed)))
    }

    /// Write the key to `path` (created new, readable by its owner only) and its public key
    /// to `path` with the extension `pub`.
    pub fn save(&self, path: &Path) -> Result<(), SignatureError> {
        let io = |action, path: &Path| {
            let path = path.to_path_buf();
            move |source| SignatureError::Io {
                action,
                path,
                source,
            }
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io("create", dir))?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(io("create", path))?;
        let text = format!("{PRIVATE_PREFIX}{}\n", b64().encode(self.0.to_bytes()));
        std::io::Write::write_all(&mut file, text.as_bytes()).map_err(io("write", path))?;
        let public = path.with_extension("pub");
        std::fs::write(&public, format!("{}\n", self.public().to_text()))
            .map_err(io("write", &public))?;
        Ok(())
    }

    /// Sign the artifact whose manifest digest is `digest`: the signature document's bytes.
    pub fn sign(&self, digest: &str) -> Vec<u8> {
        let signature = self.0.sign(&signed_message(digest));
        let public = self.public();
        let document = Document {
            format: SIGNATURE_FORMAT.into(),
            algorithm: "ed25519".into(),
            subject: digest.into(),
            key_id: public.key_id(),
            public_key: public.to_text(),
            signature: b64().encode(signature.to_bytes()),
        };
        serde_json::to_vec_pretty(&document).expect("serialising plain data")
    }
}

fn signed_message(digest: &str) -> Vec<u8> {
    let mut message = SIGNED_PREFIX.to_vec();
    message.extend_from_slice(digest.as_bytes());
    message
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Document {
    format: String,
    algorithm: String,
    subject: String,
    key_id: String,
    public_key: String,
    signature: String,
}

/// A public key the user trusts, by name.
#[derive(Debug, Clone)]
pub struct TrustedKey {
    /// Its name (the file name in the trust store).
    pub name: String,
    /// The key.
    pub key: PublicKey,
}

/// The public keys the user trusts: one `<name>.pub` file per key in a directory
/// (`$FLOWTRACE_HOME/trust/`).
#[derive(Debug, Clone)]
pub struct TrustStore {
    dir: PathBuf,
}

impl TrustStore {
    /// The store in `dir` (nothing is created).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Every trusted key, by name. A file that is not a key is an error naming it.
    pub fn keys(&self) -> Result<Vec<TrustedKey>, SignatureError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(SignatureError::Io {
                    action: "read",
                    path: self.dir.clone(),
                    source,
                })
            }
        };
        let mut keys = Vec::new();
        for entry in entries {
            let path = entry
                .map_err(|source| SignatureError::Io {
                    action: "read",
                    path: self.dir.clone(),
                    source,
                })?
                .path();
            if path.extension().is_none_or(|e| e != "pub") {
                continue;
            }
            let text = std::fs::read_to_string(&path).map_err(|source| SignatureError::Io {
                action: "read",
                path: path.clone(),
                source,
            })?;
            let key = PublicKey::parse(&text).map_err(|e| match e {
                SignatureError::BadKey { reason, .. } => SignatureError::BadKey {
                    path: Some(path.clone()),
                    reason,
                },
                other => other,
            })?;
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            keys.push(TrustedKey { name, key });
        }
        keys.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(keys)
    }

    /// Trust `key` under `name` (`[a-z0-9][a-z0-9._-]*`); the path written.
    pub fn add(&self, name: &str, key: &PublicKey) -> Result<PathBuf, SignatureError> {
        let valid = name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
            && name.len() <= 64;
        if !valid {
            return Err(SignatureError::BadKey {
                path: None,
                reason: format!(
                    "`{name}` is not a key name: lowercase letters, digits, `.`, `_` and `-`, \
                     starting with a letter or digit"
                ),
            });
        }
        std::fs::create_dir_all(&self.dir).map_err(|source| SignatureError::Io {
            action: "create",
            path: self.dir.clone(),
            source,
        })?;
        let path = self.dir.join(format!("{name}.pub"));
        std::fs::write(&path, format!("{}\n", key.to_text())).map_err(|source| {
            SignatureError::Io {
                action: "write",
                path: path.clone(),
                source,
            }
        })?;
        Ok(path)
    }

    /// Stop trusting the key named `name_or_id` (a name or a key id); the key removed.
    pub fn remove(&self, name_or_id: &str) -> Result<Option<TrustedKey>, SignatureError> {
        let Some(found) = self
            .keys()?
            .into_iter()
            .find(|k| k.name == name_or_id || k.key.key_id() == name_or_id)
        else {
            return Ok(None);
        };
        let path = self.dir.join(format!("{}.pub", found.name));
        std::fs::remove_file(&path).map_err(|source| SignatureError::Io {
            action: "remove",
            path,
            source,
        })?;
        Ok(Some(found))
    }

    /// Check `document` signs `digest` with a trusted key: the key that did.
    pub fn verify(&self, document: &[u8], digest: &str) -> Result<TrustedKey, SignatureError> {
        let bad = |reason: String| SignatureError::BadDocument { reason };
        if document.len() as u64 > MAX_SIGNATURE_BYTES {
            return Err(bad(format!("larger than {MAX_SIGNATURE_BYTES} bytes")));
        }
        let doc: Document = serde_json::from_slice(document).map_err(|e| bad(e.to_string()))?;
        if doc.format != SIGNATURE_FORMAT || doc.algorithm != "ed25519" {
            return Err(bad(format!(
                "format `{}` with `{}`, expected `{SIGNATURE_FORMAT}` with `ed25519`",
                doc.format, doc.algorithm
            )));
        }
        if !is_sha256_digest(&doc.subject) {
            return Err(bad(format!(
                "the subject `{}` is not a digest",
                doc.subject
            )));
        }
        if doc.subject != digest {
            return Err(SignatureError::OtherSubject {
                signed: doc.subject,
                digest: digest.into(),
            });
        }
        let claimed = PublicKey::parse(&doc.public_key)?;
        // The key id is derived, never believed: a document naming a trusted id with another
        // key is checked against the trusted key and fails.
        let trusted = self
            .keys()?
            .into_iter()
            .find(|k| k.key.key_id() == doc.key_id || k.key == claimed);
        let Some(trusted) = trusted else {
            return Err(SignatureError::Untrusted {
                digest: digest.into(),
                key_id: claimed.key_id(),
                public_key: claimed.to_text(),
            });
        };
        let invalid = || SignatureError::Invalid {
            digest: digest.into(),
            key_id: trusted.key.key_id(),
            name: trusted.name.clone(),
        };
        let bytes: [u8; 64] = b64()
            .decode(&doc.signature)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(invalid)?;
        let signature = ed25519_dalek::Signature::from_bytes(&bytes);
        trusted
            .key
            .0
            .verify(&signed_message(digest), &signature)
            .map_err(|_| invalid())?;
        Ok(trusted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_refuse() {
        let dir = tempfile::tempdir().unwrap();
        let store = TrustStore::new(dir.path().join("trust"));
        let key = SigningKey::generate().unwrap();
        let digest = format!("sha256:{}", "a".repeat(64));
        let document = key.sign(&digest);
        assert!(matches!(
            store.verify(&document, &digest),
            Err(SignatureError::Untrusted { .. })
        ));
        store.add("alice", &key.public()).unwrap();
        assert_eq!(store.verify(&document, &digest).unwrap().name, "alice");
        let other = format!("sha256:{}", "b".repeat(64));
        assert!(matches!(
            store.verify(&document, &other),
            Err(SignatureError::OtherSubject { .. })
        ));
        // Another key's signature claiming alice's id.
        let mallory = SigningKey::generate().unwrap();
        let forged = String::from_utf8(mallory.sign(&digest))
            .unwrap()
            .replace(&mallory.public().key_id(), &key.public().key_id());
        assert!(matches!(
            store.verify(forged.as_bytes(), &digest),
            Err(SignatureError::Invalid { .. })
        ));
        // Round trip of the key file; a second save refuses to overwrite.
        let path = dir.path().join("keys/default.key");
        key.save(&path).unwrap();
        assert_eq!(SigningKey::load(&path).unwrap().public(), key.public());
        assert!(key.save(&path).is_err());
        assert!(store.remove("alice").unwrap().is_some());
        assert!(store.keys().unwrap().is_empty());
    }
}
