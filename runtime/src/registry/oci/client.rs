//! Push, pull and list over the OCI distribution API (the `oci-client` crate does the
//! protocol: token and basic auth, chunked uploads, digest checks on every blob).

use std::time::Duration;

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, RegistryOperation};
use tokio::io::AsyncWrite;

use super::artifact::{digest_of, Artifact, ArtifactInfo, MANIFEST_MEDIA_TYPE};
use super::{OciError, OciReference};
use crate::manifest::PluginId;

/// The largest blob pulled by default: 64 MiB.
pub const DEFAULT_MAX_BLOB: u64 = 64 << 20;
/// The largest manifest or config read (they are a few KiB).
const MAX_SMALL_BLOB: u64 = 4 << 20;

/// Credentials for one registry. Never printed: `Debug` shows the user name only.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// No credentials.
    Anonymous,
    /// HTTP basic (a user name and a password or token).
    Basic {
        /// The user name.
        username: String,
        /// The password or token.
        password: String,
    },
    /// A bearer identity token (`identitytoken` in Docker's config).
    Bearer(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Anonymous => f.write_str("Anonymous"),
            Credentials::Basic { username, .. } => write!(f, "Basic({username}, ..)"),
            Credentials::Bearer(_) => f.write_str("Bearer(..)"),
        }
    }
}

impl Credentials {
    /// What Docker's configuration (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`,
    /// with its credential helpers) holds for `registry` (`host[:port]`); anonymous when it
    /// has nothing.
    pub fn from_docker_config(registry: &str) -> Credentials {
        match docker_credential::get_credential(registry) {
            Ok(docker_credential::DockerCredential::UsernamePassword(username, password)) => {
                Credentials::Basic { username, password }
            }
            Ok(docker_credential::DockerCredential::IdentityToken(token)) => {
                Credentials::Bearer(token)
            }
            Err(e) => {
                tracing::debug!("no Docker credentials for `{registry}`: {e}");
                Credentials::Anonymous
            }
        }
    }

    fn to_auth(&self) -> RegistryAuth {
        match self {
            Credentials::Anonymous => RegistryAuth::Anonymous,
            Credentials::Basic { username, password } => {
                RegistryAuth::Basic(username.clone(), password.clone())
            }
            Credentials::Bearer(token) => RegistryAuth::Bearer(token.clone()),
        }
    }
}

/// How to talk to registries.
#[derive(Debug, Clone)]
pub struct OciClientConfig {
    /// Plain HTTP to every registry (loopback registries always get plain HTTP).
    pub insecure: bool,
    /// The largest component layer pulled, bytes.
    pub max_blob: u64,
    /// Credentials per registry; `None` asks [`Credentials::from_docker_config`].
    pub credentials: Option<fn(&str) -> Credentials>,
    /// Give up on a connection that sends nothing for this long.
    pub read_timeout: Duration,
}

impl Default for OciClientConfig {
    fn default() -> Self {
        Self {
            insecure: false,
            max_blob: DEFAULT_MAX_BLOB,
            credentials: None,
            read_timeout: Duration::from_secs(60),
        }
    }
}

/// A pulled artifact, every digest checked.
#[derive(Debug)]
pub struct Pulled {
    /// The component.
    pub component: Vec<u8>,
    /// The manifest.
    pub info: ArtifactInfo,
    /// Where it came from, pinned to the manifest digest.
    pub reference: OciReference,
}

/// A client for OCI registries.
#[derive(Debug, Clone, Default)]
pub struct OciClient {
    config: OciClientConfig,
}

impl OciClient {
    /// A client with `config`.
    pub fn new(config: OciClientConfig) -> Self {
        Self { config }
    }

    fn client(&self, reference: &OciReference) -> (Client, RegistryAuth, bool) {
        let protocol = if self.config.insecure {
            ClientProtocol::Http
        } else if reference.is_loopback() {
            ClientProtocol::HttpsExcept(vec![reference.registry.clone()])
        } else {
            ClientProtocol::Https
        };
        let client = Client::new(ClientConfig {
            protocol,
            read_timeout: Some(self.config.read_timeout),
            connect_timeout: Some(Duration::from_secs(10)),
            user_agent: concat!("flowtrace-plugins/", env!("CARGO_PKG_VERSION")),
            ..ClientConfig::default()
        });
        let credentials = match self.config.credentials {
            Some(lookup) => lookup(&reference.registry),
            None => Credentials::from_docker_config(&reference.registry),
        };
        let had = credentials != Credentials::Anonymous;
        (client, credentials.to_auth(), had)
    }

    /// Push `artifact` to `reference` (which names its tag) and return the manifest digest.
    /// Blobs the registry has already are not sent again.
    pub async fn push(
        &self,
        reference: &OciReference,
        artifact: &Artifact,
    ) -> Result<String, OciError> {
        let info = artifact.info()?;
        let blobs = [
            (info.manifest.config.digest.as_str(), &artifact.config),
            (info.layer().digest.as_str(), &artifact.component),
        ];
        self.push_raw(reference, &artifact.manifest, &blobs).await
    }

    /// Push `document`, the signature of the artifact `signed` (its manifest descriptor:
    /// digest and size) in the repository of `reference`, under the tag
    /// `sha256-<hex>.sig`.
    pub async fn push_signature(
        &self,
        reference: &OciReference,
        signed_digest: &str,
        signed_size: u64,
        document: &[u8],
    ) -> Result<String, OciError> {
        let config = b"{}".to_vec();
        let manifest = signature_manifest(signed_digest, signed_size, &config, document);
        let tag = signature_tag(signed_digest);
        self.push_raw(
            &reference.with_tag(&tag),
            &manifest,
            &[
                (digest_of(&config).as_str(), &config),
                (digest_of(document).as_str(), &document.to_vec()),
            ],
        )
        .await
    }

    /// The signature document of the artifact `signed_digest` in the repository of
    /// `reference`, if one was pushed.
    pub async fn pull_signature(
        &self,
        reference: &OciReference,
        signed_digest: &str,
    ) -> Result<Option<Vec<u8>>, OciError> {
        let at = reference.with_tag(&signature_tag(signed_digest));
        let (client, auth, had) = self.client(&at);
        let image = at.to_client();
        let fail = |e| map_error(e, &at, had);
        let (bytes, _) = match client
            .pull_manifest_raw(&image, &auth, &[MANIFEST_MEDIA_TYPE])
            .await
        {
            Ok(found) => found,
            Err(e) => {
                return match fail(e) {
                    OciError::NotFound { .. } => Ok(None),
                    other => Err(other),
                }
            }
        };
        let manifest: super::ImageManifest =
            serde_json::from_slice(&bytes).map_err(|e| OciError::BadManifest {
                reason: format!("the signature manifest does not parse ({e})"),
            })?;
        let Some(layer) = manifest
            .layers
            .iter()
            .find(|l| l.media_type == SIGNATURE_MEDIA_TYPE)
        else {
            return Err(OciError::BadManifest {
                reason: format!("the signature artifact `{at}` holds no signature layer"),
            });
        };
        if layer.size > super::MAX_SIGNATURE_BYTES || !super::is_sha256_digest(&layer.digest) {
            return Err(OciError::TooLarge {
                digest: layer.digest.clone(),
                size: layer.size,
                max: super::MAX_SIGNATURE_BYTES,
            });
        }
        let mut sink = CappedSink::new(super::MAX_SIGNATURE_BYTES, layer.size);
        client
            .pull_blob(&image, layer.digest.as_str(), &mut sink)
            .await
            .map_err(fail)?;
        Ok(Some(sink.data))
    }

    /// Push blobs (skipping those the registry has) then the manifest bytes, as they are.
    async fn push_raw(
        &self,
        reference: &OciReference,
        manifest: &[u8],
        blobs: &[(&str, &Vec<u8>)],
    ) -> Result<String, OciError> {
        let (client, auth, had) = self.client(reference);
        let image = reference.to_client();
        let fail = |e| map_error(e, reference, had);
        client
            .auth(&image, &auth, RegistryOperation::Push)
            .await
            .map_err(fail)?;
        for (digest, data) in blobs {
            let exists = client.blob_exists(&image, digest).await.map_err(fail)?;
            if !exists {
                client
                    .push_blob(&image, (*data).clone(), digest)
                    .await
                    .map_err(fail)?;
            }
        }
        let content_type = http::HeaderValue::from_static(MANIFEST_MEDIA_TYPE);
        client
            .push_manifest_raw(&image, manifest.to_vec(), content_type)
            .await
            .map_err(fail)?;
        Ok(digest_of(manifest))
    }

    /// Pull the artifact at `reference` (a tag or a digest), checking the manifest (a
    /// Flowtrace plugin; `expected_id` when given), the size of the layer against the cap
    /// and the digest of every byte received.
    pub async fn pull(
        &self,
        reference: &OciReference,
        expected_id: Option<&PluginId>,
    ) -> Result<Pulled, OciError> {
        let (client, auth, had) = self.client(reference);
        let image = reference.to_client();
        let fail = |e| map_error(e, reference, had);
        let (bytes, digest) = client
            .pull_manifest_raw(&image, &auth, &[MANIFEST_MEDIA_TYPE])
            .await
            .map_err(fail)?;
        if bytes.len() as u64 > MAX_SMALL_BLOB {
            return Err(OciError::TooLarge {
                digest,
                size: bytes.len() as u64,
                max: MAX_SMALL_BLOB,
            });
        }
        let actual = digest_of(&bytes);
        if let Some(expected) = &reference.digest {
            if *expected != actual {
                return Err(OciError::DigestMismatch {
                    what: "the manifest".into(),
                    expected: expected.clone(),
                    actual,
                });
            }
        }
        let info = ArtifactInfo::parse(&bytes, expected_id)?;
        let layer = info.layer().clone();
        if layer.size > self.config.max_blob {
            return Err(OciError::TooLarge {
                digest: layer.digest,
                size: layer.size,
                max: self.config.max_blob,
            });
        }
        let mut sink = CappedSink::new(self.config.max_blob, layer.size);
        match client
            .pull_blob(&image, layer.digest.as_str(), &mut sink)
            .await
        {
            Ok(()) => {}
            Err(OciDistributionError::DigestError(e)) => {
                return Err(OciError::DigestMismatch {
                    what: "the component layer".into(),
                    expected: layer.digest.clone(),
                    actual: e.to_string(),
                })
            }
            Err(e) if sink.over => {
                tracing::debug!("pull stopped: {e}");
                return Err(OciError::TooLarge {
                    digest: layer.digest,
                    size: sink.data.len() as u64,
                    max: self.config.max_blob.min(layer.size),
                });
            }
            Err(e) => return Err(fail(e)),
        }
        let component = sink.data;
        if component.len() as u64 != layer.size {
            return Err(OciError::BadManifest {
                reason: format!(
                    "the component layer is {} bytes, the manifest says {}",
                    component.len(),
                    layer.size
                ),
            });
        }
        // oci-client checked the layer digest as it streamed; check again on the bytes kept.
        let kept = digest_of(&component);
        if kept != layer.digest {
            return Err(OciError::DigestMismatch {
                what: "the component layer".into(),
                expected: layer.digest,
                actual: kept,
            });
        }
        Ok(Pulled {
            component,
            reference: reference.with_digest(&info.digest),
            info,
        })
    }

    /// The digest `reference`'s tag points at, or `None` when the tag does not exist.
    pub async fn tag_digest(&self, reference: &OciReference) -> Result<Option<String>, OciError> {
        let (client, auth, had) = self.client(reference);
        match client
            .fetch_manifest_digest(&reference.to_client(), &auth)
            .await
        {
            Ok(digest) => Ok(Some(digest)),
            Err(e) => match map_error(e, reference, had) {
                OciError::NotFound { .. } => Ok(None),
                other => Err(other),
            },
        }
    }

    /// Every tag of the repository of `reference`.
    pub async fn tags(&self, reference: &OciReference) -> Result<Vec<String>, OciError> {
        let (client, auth, had) = self.client(reference);
        let image = reference.to_client();
        let mut tags = Vec::new();
        let mut last: Option<String> = None;
        loop {
            let page = client
                .list_tags(&image, &auth, Some(1000), last.as_deref())
                .await
                .map_err(|e| map_error(e, reference, had))?;
            let done = page.tags.len() < 1000;
            last = page.tags.last().cloned();
            tags.extend(page.tags);
            if done || last.is_none() || tags.len() > 100_000 {
                break;
            }
        }
        Ok(tags)
    }

    /// The semver versions among the tags (others are skipped), highest last.
    pub async fn versions(
        &self,
        reference: &OciReference,
    ) -> Result<Vec<semver::Version>, OciError> {
        let mut versions: Vec<semver::Version> = self
            .tags(reference)
            .await?
            .iter()
            .filter_map(|t| semver::Version::parse(t).ok())
            .collect();
        versions.sort();
        versions.dedup();
        Ok(versions)
    }
}

/// `mediaType` of a signature document layer (and `artifactType` of its manifest).
pub const SIGNATURE_MEDIA_TYPE: &str = "application/vnd.dev.flowtrace.signature.v1+json";

/// The tag the signature of `digest` is pushed under: `sha256-<hex>.sig`.
pub fn signature_tag(digest: &str) -> String {
    format!("{}.sig", digest.replace(':', "-"))
}

fn signature_manifest(
    signed_digest: &str,
    signed_size: u64,
    config: &[u8],
    document: &[u8],
) -> Vec<u8> {
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "artifactType": SIGNATURE_MEDIA_TYPE,
        "config": {
            "mediaType": "application/vnd.oci.empty.v1+json",
            "digest": digest_of(config),
            "size": config.len(),
        },
        "layers": [{
            "mediaType": SIGNATURE_MEDIA_TYPE,
            "digest": digest_of(document),
            "size": document.len(),
        }],
        "subject": {
            "mediaType": MANIFEST_MEDIA_TYPE,
            "digest": signed_digest,
            "size": signed_size,
        },
    });
    serde_json::to_vec(&manifest).expect("serialising plain data")
}

fn map_error(e: OciDistributionError, reference: &OciReference, had_credentials: bool) -> OciError {
    let unauthorized = || OciError::Unauthorized {
        registry: reference.registry.clone(),
        repository: reference.repository.clone(),
        had_credentials,
    };
    let not_found = || OciError::NotFound {
        reference: reference.to_string(),
    };
    match e {
        OciDistributionError::UnauthorizedError { .. }
        | OciDistributionError::AuthenticationFailure(_) => unauthorized(),
        OciDistributionError::ImageManifestNotFoundError(_) => not_found(),
        OciDistributionError::RegistryError { ref envelope, .. } => {
            let codes: Vec<&OciErrorCode> = envelope.errors.iter().map(|e| &e.code).collect();
            if codes
                .iter()
                .any(|c| matches!(c, OciErrorCode::Unauthorized | OciErrorCode::Denied))
            {
                unauthorized()
            } else if codes.iter().any(|c| {
                matches!(
                    c,
                    OciErrorCode::ManifestUnknown
                        | OciErrorCode::NameUnknown
                        | OciErrorCode::NotFound
                        | OciErrorCode::BlobUnknown
                )
            }) {
                not_found()
            } else {
                OciError::Registry {
                    reference: reference.to_string(),
                    source: Box::new(e),
                }
            }
        }
        OciDistributionError::ServerError {
            code: 401 | 403, ..
        } => unauthorized(),
        OciDistributionError::ServerError { code: 404, .. } => not_found(),
        OciDistributionError::RequestError(ref err) => match err.status().map(|s| s.as_u16()) {
            Some(401 | 403) => unauthorized(),
            Some(404) => not_found(),
            _ if err.is_connect() || (err.is_timeout() && !err.is_body()) => {
                OciError::Unreachable {
                    registry: reference.registry.clone(),
                    source: Box::new(e),
                }
            }
            _ if err.is_body() || err.is_decode() || err.is_timeout() => OciError::Interrupted {
                registry: reference.registry.clone(),
                reference: reference.to_string(),
                source: Box::new(e),
            },
            _ => OciError::Registry {
                reference: reference.to_string(),
                source: Box::new(e),
            },
        },
        other => OciError::Registry {
            reference: reference.to_string(),
            source: Box::new(other),
        },
    }
}

/// Keeps what a pull writes, refusing more than `max` bytes (or than the declared size).
struct CappedSink {
    data: Vec<u8>,
    limit: u64,
    over: bool,
}

impl CappedSink {
    fn new(max: u64, declared: u64) -> Self {
        let limit = max.min(declared);
        Self {
            data: Vec::with_capacity(usize::try_from(limit.min(64 << 20)).unwrap_or(0)),
            limit,
            over: false,
        }
    }
}

impl AsyncWrite for CappedSink {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        if self.data.len() as u64 + buf.len() as u64 > self.limit {
            self.over = true;
            return std::task::Poll::Ready(Err(std::io::Error::other(
                "more bytes than the layer may have",
            )));
        }
        self.data.extend_from_slice(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}
