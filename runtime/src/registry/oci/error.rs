//! What can go wrong with a registry or an artifact.

use crate::manifest::PluginId;

/// Why an OCI operation failed. Credentials never appear in these messages.
#[derive(Debug, thiserror::Error)]
pub enum OciError {
    /// The reference does not parse.
    #[error("invalid registry reference `{reference}`: {reason}")]
    BadReference {
        /// What was given.
        reference: String,
        /// Why.
        reason: String,
    },
    /// The registry could not be reached.
    #[error("cannot reach the registry `{registry}`")]
    Unreachable {
        /// `host[:port]`.
        registry: String,
        /// The transport error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The registry refused the credentials (or asked for some and had none).
    #[error("the registry `{registry}` refused access to `{repository}` (HTTP 401/403)")]
    Unauthorized {
        /// `host[:port]`.
        registry: String,
        /// The repository.
        repository: String,
        /// Whether credentials were sent.
        had_credentials: bool,
    },
    /// No such tag or digest.
    #[error("`{reference}` does not exist in the registry")]
    NotFound {
        /// The full reference.
        reference: String,
    },
    /// The connection broke off in the middle of a transfer.
    #[error("the connection to `{registry}` broke off during the transfer of `{reference}`")]
    Interrupted {
        /// `host[:port]`.
        registry: String,
        /// The full reference.
        reference: String,
        /// The transport error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Another failure of the distribution API.
    #[error("the registry failed on `{reference}`")]
    Registry {
        /// The full reference.
        reference: String,
        /// The error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The manifest is not an OCI image manifest this tool reads.
    #[error("the manifest is not a usable OCI image manifest: {reason}")]
    BadManifest {
        /// Why.
        reason: String,
    },
    /// A manifest of another kind of artifact (a container image, say).
    #[error(
        "not a Flowtrace plugin: expected a config `application/vnd.wasm.config.v0+json` and \
         one `application/wasm` layer, found {found}"
    )]
    NotAPlugin {
        /// What was found.
        found: String,
    },
    /// A blob bigger than the cap.
    #[error("the blob {digest} is {size} bytes, over the {max}-byte cap")]
    TooLarge {
        /// The blob.
        digest: String,
        /// Its size (declared, or read so far).
        size: u64,
        /// The cap.
        max: u64,
    },
    /// What arrived does not hash to what was asked for.
    #[error("digest mismatch on {what}: expected {expected}, got {actual}")]
    DigestMismatch {
        /// `the manifest`, `the component layer`.
        what: String,
        /// The digest asked for.
        expected: String,
        /// The digest of the bytes received.
        actual: String,
    },
    /// The artifact's plugin id is not the one asked for.
    #[error("the artifact holds plugin `{found}`, not `{expected}`")]
    IdMismatch {
        /// The id asked for.
        expected: PluginId,
        /// The id the artifact carries.
        found: String,
    },
    /// A tag that is not a semver version where one is needed.
    #[error("the tag `{tag}` is not a semver version")]
    TagNotSemver {
        /// The tag.
        tag: String,
    },
    /// The component has no embedded manifest.
    #[error("the component has no embedded `flowtrace.toml`")]
    NoEmbeddedManifest,
    /// The embedded manifest does not parse.
    #[error("the component's embedded manifest is invalid")]
    EmbeddedManifest {
        /// Why.
        #[source]
        source: crate::manifest::ManifestError,
    },
    /// The component is not a valid component.
    #[error("the component is not a valid WebAssembly component")]
    InvalidComponent {
        /// Why.
        #[source]
        source: crate::inspect::InspectError,
    },
    /// An OCI image layout archive could not be read or written.
    #[error("invalid OCI image layout archive: {reason}")]
    BadLayout {
        /// Why.
        reason: String,
    },
    /// Reading or writing a file.
    #[error("failed to {action} `{}`", path.display())]
    Io {
        /// What.
        action: &'static str,
        /// Where.
        path: std::path::PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}
