//! Plugins in OCI registries: package a component as an OCI artifact, push it, list a
//! repository's versions, pull one back with every digest and size checked.
//!
//! - [`Artifact`]: the artifact's exact bytes (WebAssembly OCI artifact convention: config
//!   `application/vnd.wasm.config.v0+json`, one `application/wasm` layer), deterministic.
//! - [`layout`]: the artifact as an OCI image layout in one tar file (what `package` writes;
//!   `skopeo copy oci-archive:...` reads it).
//! - [`OciReference`]: a repository, `oci://HOST[:PORT]/REPOSITORY`, with a tag or a digest.
//! - [`OciClient`]: push, pull and list tags over the distribution API, through the
//!   `oci-client` crate; credentials from [`Credentials`].
//!
//! Loopback registries (`localhost`, `127.0.0.0/8`, `[::1]`) are spoken to over plain HTTP,
//! as Docker does; any other needs TLS unless the client is made `insecure`.

mod artifact;
mod client;
mod error;
pub mod layout;
mod reference;
mod signature;

pub use artifact::{
    annotations, created_from_env, digest_of, is_sha256_digest, Artifact, ArtifactInfo, Descriptor,
    ImageManifest, CONFIG_MEDIA_TYPE, LAYER_MEDIA_TYPE, MANIFEST_MEDIA_TYPE,
};
pub use client::{
    signature_tag, Credentials, OciClient, OciClientConfig, Pulled, DEFAULT_MAX_BLOB,
    SIGNATURE_MEDIA_TYPE,
};
pub use error::OciError;
pub use reference::{OciReference, SCHEME};
pub use signature::{
    PublicKey, SignatureError, SigningKey, TrustStore, TrustedKey, MAX_SIGNATURE_BYTES,
    SIGNATURE_FORMAT,
};
