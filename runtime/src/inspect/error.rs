//! Why a file could not be inspected, and what inspection noticed without failing.

use serde::{Deserialize, Serialize};

use crate::fix::Fix;

use super::{MANIFEST_SECTION, MAX_EMBEDDED_MANIFEST_BYTES};

/// Why [`inspect`](super::inspect) refused its input.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// Zero bytes.
    #[error("the file is empty, not a WebAssembly component")]
    Empty,
    /// The `\0asm` magic number is missing.
    #[error("not a WebAssembly binary: it does not start with the `\\0asm` magic number")]
    NotWasm,
    /// A valid header for a core module, not a component.
    #[error("this is a core WebAssembly module, not a component")]
    CoreModule,
    /// A WebAssembly header of a version or layer this host does not read.
    #[error(
        "unsupported WebAssembly binary version `{version:#06x}` (layer {layer}): this host reads \
         components of version `0x000d` (layer 1)"
    )]
    UnsupportedVersion {
        /// The version field of the header.
        version: u16,
        /// The layer field of the header: 0 for core modules, 1 for components.
        layer: u16,
    },
    /// The file ends inside its header or inside a section.
    #[error("the component is truncated: it is {len} bytes long, but its sections need {needed}")]
    Truncated {
        /// Length of the input.
        len: usize,
        /// Bytes needed to hold the header or section that was cut.
        needed: usize,
        /// What the validator said, when it got that far.
        #[source]
        source: Option<wasmparser::BinaryReaderError>,
    },
    /// The component uses a WebAssembly feature that the host's engine does not enable.
    #[error("the component needs WebAssembly features this host does not enable: {features}")]
    UnsupportedFeatures {
        /// The missing features, comma separated, e.g. `stack-switching`.
        features: String,
        /// The validator's error.
        #[source]
        source: wasmparser::BinaryReaderError,
    },
    /// Anything else the validator refused.
    #[error("invalid WebAssembly component")]
    Invalid {
        /// The validator's error, with the offset of the problem.
        #[source]
        source: wasmparser::BinaryReaderError,
    },
}

impl InspectError {
    /// What would fix this error, when that is known: data for the embedder to word.
    pub fn fix(&self) -> Option<Fix> {
        match self {
            InspectError::CoreModule => Some(Fix::MakeComponent),
            InspectError::UnsupportedVersion { layer: 1, .. } => Some(Fix::RebuildComponent),
            InspectError::Truncated { .. } => Some(Fix::CopyAgain),
            InspectError::NotWasm => Some(Fix::PassComponent),
            _ => None,
        }
    }

    /// The fix in plain words (the [`Display`](std::fmt::Display) of [`fix`](Self::fix)),
    /// for a `help:` line.
    pub fn help(&self) -> Option<String> {
        self.fix().map(|fix| fix.to_string())
    }
}

/// Something [`inspect`](super::inspect) noticed that does not stop it: the component is valid,
/// but a part of what the inspection reports is missing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(
    tag = "warning",
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case"
)]
pub enum InspectWarning {
    /// `wit_component::decode` could not turn the component's type into a WIT world.
    #[error("could not print the component's world as WIT: {reason}")]
    WorldNotDecoded {
        /// The decoder's error chain, one line.
        reason: String,
    },
    /// The embedded manifest section is larger than [`MAX_EMBEDDED_MANIFEST_BYTES`].
    #[error(
        "the `{MANIFEST_SECTION}` custom section is {size} bytes, more than the \
         {MAX_EMBEDDED_MANIFEST_BYTES} allowed: ignored"
    )]
    ManifestTooLarge {
        /// Size of the section's data.
        size: usize,
    },
    /// The embedded manifest section is not UTF-8 text.
    #[error(
        "the `{MANIFEST_SECTION}` custom section is not UTF-8 text (invalid byte at offset \
         {valid_up_to}): ignored"
    )]
    ManifestNotUtf8 {
        /// Length of the valid UTF-8 prefix.
        valid_up_to: usize,
    },
    /// More than one top-level manifest section: which one is meant is ambiguous.
    #[error("the component has {count} `{MANIFEST_SECTION}` custom sections: all ignored")]
    DuplicateManifest {
        /// How many top-level manifest sections there are.
        count: usize,
    },
    /// A manifest section inside a nested module or component, where it does not count.
    #[error(
        "a `{MANIFEST_SECTION}` custom section inside a nested module or component was ignored: \
         only a top-level section describes the plugin"
    )]
    NestedManifest,
}
