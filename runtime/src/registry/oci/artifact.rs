//! A plugin as an OCI artifact, in the layout of the WebAssembly OCI artifact convention
//! (what `wkg oci push`, `wash push` and `spin registry push` write): an image manifest whose
//! config is `application/vnd.wasm.config.v0+json` and whose one layer is the component,
//! `application/wasm`. Flowtrace's own facts ride in manifest annotations.
//!
//! The bytes are deterministic: the same component gives the same config, manifest and
//! manifest digest on every machine (JSON with fixed key order, `created` from
//! `SOURCE_DATE_EPOCH` or the Unix epoch), so `package` and `publish` print the digest a
//! registry will serve.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::OciError;
use crate::inspect::{self, Inspection};
use crate::manifest::{Manifest, PluginId};
use crate::registry::capability_items;

/// `mediaType` of the image manifest.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// `mediaType` of the config blob (the WebAssembly OCI artifact convention).
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
/// `mediaType` of the component layer.
pub const LAYER_MEDIA_TYPE: &str = "application/wasm";

/// Annotation keys on the manifest.
pub mod annotations {
    /// The plugin id.
    pub const ID: &str = "dev.flowtrace.plugin.id";
    /// `evaluator`, `exporter`, `embedder` or `transformer`.
    pub const KIND: &str = "dev.flowtrace.plugin.kind";
    /// The capabilities the manifest declares, comma-separated, in the manifest's words
    /// (`network host api.openai.com, storage`); empty for none.
    pub const CAPABILITIES: &str = "dev.flowtrace.plugin.capabilities";
    /// The contract versions it runs on (`^0.1`).
    pub const CONTRACT: &str = "dev.flowtrace.plugin.contract";
    /// The sha256 of the component (`sha256:<hex>`), the digest of the layer.
    pub const COMPONENT: &str = "dev.flowtrace.plugin.component";
    /// Standard: the version.
    pub const VERSION: &str = "org.opencontainers.image.version";
    /// Standard: the human name.
    pub const TITLE: &str = "org.opencontainers.image.title";
    /// Standard: the description.
    pub const DESCRIPTION: &str = "org.opencontainers.image.description";
    /// Standard: the license.
    pub const LICENSES: &str = "org.opencontainers.image.licenses";
    /// Standard: the authors.
    pub const AUTHORS: &str = "org.opencontainers.image.authors";
    /// Standard: when (the `created` of the config).
    pub const CREATED: &str = "org.opencontainers.image.created";
}

/// An OCI content descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// What the blob is.
    pub media_type: String,
    /// `sha256:<hex>`.
    pub digest: String,
    /// Bytes.
    pub size: u64,
    /// Annotations, if any.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// An OCI image manifest (the fields this artifact uses; others are ignored when read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// Always 2.
    pub schema_version: u32,
    /// [`MANIFEST_MEDIA_TYPE`] (optional in the spec, always written here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// An artifact type, if the writer set one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The config blob.
    pub config: Descriptor,
    /// The layers: exactly one, the component.
    pub layers: Vec<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// The config blob of the WebAssembly OCI artifact convention.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WasmConfig {
    created: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    author: Option<String>,
    architecture: String,
    os: String,
    layer_digests: Vec<String>,
    component: WasmComponent,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct WasmComponent {
    exports: Vec<String>,
    imports: Vec<String>,
    target: Option<String>,
}

/// A plugin packaged as an OCI artifact: the exact bytes of its manifest, config and
/// component.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// The image manifest, as pushed (its sha256 is the artifact's digest).
    pub manifest: Vec<u8>,
    /// The config blob.
    pub config: Vec<u8>,
    /// The component (the one layer).
    pub component: Vec<u8>,
}

/// What an artifact says about itself, read from its manifest.
#[derive(Debug, Clone)]
pub struct ArtifactInfo {
    /// The parsed image manifest.
    pub manifest: ImageManifest,
    /// `sha256:<hex>` of the manifest bytes.
    pub digest: String,
}

/// `sha256:<hex>` of `bytes`.
pub fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

impl Artifact {
    /// Package a built component: its manifest is the one embedded in it (`cargo flowtrace
    /// build` embeds `flowtrace.toml`). `created` is an RFC 3339 time (use
    /// [`created_from_env`] for reproducible output).
    pub fn from_component(component: Vec<u8>, created: &str) -> Result<Self, OciError> {
        let inspection =
            inspect::inspect(&component).map_err(|source| OciError::InvalidComponent { source })?;
        let text = inspection
            .embedded_manifest
            .clone()
            .ok_or(OciError::NoEmbeddedManifest)?;
        let manifest = Manifest::from_str(&text, std::path::Path::new("flowtrace.toml"))
            .map_err(|source| OciError::EmbeddedManifest { source })?;
        Ok(Self::new(component, &manifest, &inspection, created))
    }

    fn new(
        component: Vec<u8>,
        manifest: &Manifest,
        inspection: &Inspection,
        created: &str,
    ) -> Self {
        let layer_digest = format!("sha256:{}", inspection.sha256);
        let plugin = &manifest.plugin;
        let config = WasmConfig {
            created: created.to_string(),
            author: (!plugin.authors.is_empty()).then(|| plugin.authors.join(", ")),
            architecture: "wasm".into(),
            os: "wasip2".into(),
            layer_digests: vec![layer_digest.clone()],
            component: WasmComponent {
                exports: inspection.exports.iter().map(|e| e.name.clone()).collect(),
                imports: inspection.imports.iter().map(|i| i.name.clone()).collect(),
                target: None,
            },
        };
        let config = serde_json::to_vec(&config).expect("serialising plain data");
        let mut notes = BTreeMap::new();
        notes.insert(annotations::ID.into(), plugin.id.to_string());
        notes.insert(annotations::KIND.into(), plugin.kind.to_string());
        let caps: Vec<String> = capability_items(&manifest.capabilities)
            .iter()
            .map(|c| c.to_string())
            .collect();
        notes.insert(annotations::CAPABILITIES.into(), caps.join(", "));
        notes.insert(annotations::CONTRACT.into(), plugin.flowtrace.to_string());
        notes.insert(annotations::COMPONENT.into(), layer_digest.clone());
        notes.insert(annotations::VERSION.into(), plugin.version.to_string());
        notes.insert(annotations::TITLE.into(), plugin.name.clone());
        notes.insert(annotations::CREATED.into(), created.to_string());
        if let Some(description) = &plugin.description {
            notes.insert(annotations::DESCRIPTION.into(), description.clone());
        }
        if let Some(license) = &plugin.license {
            notes.insert(annotations::LICENSES.into(), license.clone());
        }
        if !plugin.authors.is_empty() {
            notes.insert(annotations::AUTHORS.into(), plugin.authors.join(", "));
        }
        let image = ImageManifest {
            schema_version: 2,
            media_type: Some(MANIFEST_MEDIA_TYPE.into()),
            artifact_type: None,
            config: Descriptor {
                media_type: CONFIG_MEDIA_TYPE.into(),
                digest: digest_of(&config),
                size: config.len() as u64,
                annotations: BTreeMap::new(),
            },
            layers: vec![Descriptor {
                media_type: LAYER_MEDIA_TYPE.into(),
                digest: layer_digest,
                size: component.len() as u64,
                annotations: BTreeMap::from([(
                    annotations::TITLE.to_string(),
                    format!("{}.wasm", plugin.id),
                )]),
            }],
            annotations: notes,
        };
        Artifact {
            manifest: serde_json::to_vec(&image).expect("serialising plain data"),
            config,
            component,
        }
    }

    /// `sha256:<hex>` of the manifest: the digest a registry serves it under.
    pub fn digest(&self) -> String {
        digest_of(&self.manifest)
    }

    /// The parsed manifest.
    pub fn info(&self) -> Result<ArtifactInfo, OciError> {
        ArtifactInfo::parse(&self.manifest, None)
    }
}

impl ArtifactInfo {
    /// Parse and check a manifest: an OCI image manifest with the WebAssembly config type
    /// and exactly one `application/wasm` layer. `expected_id` is the plugin the caller
    /// asked for, checked against the id annotation when present.
    pub fn parse(bytes: &[u8], expected_id: Option<&PluginId>) -> Result<Self, OciError> {
        let manifest: ImageManifest =
            serde_json::from_slice(bytes).map_err(|e| OciError::BadManifest {
                reason: format!("it is not an OCI image manifest ({e})"),
            })?;
        let bad = |reason: String| Err(OciError::BadManifest { reason });
        if manifest.schema_version != 2 {
            return bad(format!(
                "schemaVersion is {}, not 2",
                manifest.schema_version
            ));
        }
        if let Some(media_type) = &manifest.media_type {
            if media_type != MANIFEST_MEDIA_TYPE {
                return bad(format!(
                    "its media type is `{media_type}`, not `{MANIFEST_MEDIA_TYPE}`"
                ));
            }
        }
        if manifest.config.media_type != CONFIG_MEDIA_TYPE {
            return Err(OciError::NotAPlugin {
                found: format!("config of media type `{}`", manifest.config.media_type),
            });
        }
        match manifest.layers.as_slice() {
            [layer] if layer.media_type == LAYER_MEDIA_TYPE => {}
            [layer] => {
                return Err(OciError::NotAPlugin {
                    found: format!("a layer of media type `{}`", layer.media_type),
                })
            }
            layers => {
                return Err(OciError::NotAPlugin {
                    found: format!("{} layers", layers.len()),
                })
            }
        }
        for descriptor in std::iter::once(&manifest.config).chain(&manifest.layers) {
            if !is_sha256_digest(&descriptor.digest) {
                return bad(format!(
                    "the digest `{}` is not `sha256:` and 64 lowercase hex digits",
                    descriptor.digest
                ));
            }
        }
        if let (Some(expected), Some(found)) =
            (expected_id, manifest.annotations.get(annotations::ID))
        {
            if found != expected.as_str() {
                return Err(OciError::IdMismatch {
                    expected: expected.clone(),
                    found: found.clone(),
                });
            }
        }
        Ok(ArtifactInfo {
            manifest,
            digest: digest_of(bytes),
        })
    }

    /// The component layer.
    pub fn layer(&self) -> &Descriptor {
        &self.manifest.layers[0]
    }
}

/// Whether `digest` is `sha256:` and 64 lowercase hex digits (what a blob path may hold).
pub fn is_sha256_digest(digest: &str) -> bool {
    digest.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// The `created` time for reproducible artifacts: `SOURCE_DATE_EPOCH` (seconds since the
/// Unix epoch, the reproducible-builds convention) when set and valid, else the epoch itself.
pub fn created_from_env() -> String {
    let seconds = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(0);
    crate::registry::index::rfc3339(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_checked() {
        assert!(is_sha256_digest(&digest_of(b"x")));
        assert!(!is_sha256_digest("sha256:../../etc/passwd"));
        assert!(!is_sha256_digest("sha512:00"));
    }
}
