//! Write the plugin's manifest into its component, as the [`MANIFEST_SECTION`] custom section.
//!
//! A component with its manifest embedded is a complete, self-describing plugin: one `.wasm`
//! file to copy, inspect or install. The section is only a description: capability verdicts
//! always come from the component's real imports.

use std::borrow::Cow;
use std::ops::Range;

use wasm_encoder::{CustomSection, Encode};
use wasmparser::{Parser, Payload};

use super::{
    check_header, BuildProfile, InspectError, BUILD_SECTION, MANIFEST_SECTION,
    MAX_EMBEDDED_MANIFEST_BYTES,
};

/// Why a manifest could not be embedded.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// The bytes are not a component (empty, not WebAssembly, a core module, cut short).
    #[error("cannot embed the manifest: the file is not a WebAssembly component")]
    NotAComponent {
        /// What is wrong with it.
        #[source]
        source: InspectError,
    },
    /// The component's top-level sections could not be read.
    #[error("cannot embed the manifest: the component's sections could not be read")]
    Malformed {
        /// The parser's error, with the offset.
        #[source]
        source: wasmparser::BinaryReaderError,
    },
    /// The manifest is larger than an inspection would read back.
    #[error(
        "cannot embed the manifest: it is {size} bytes, more than the \
         {MAX_EMBEDDED_MANIFEST_BYTES} an inspection reads"
    )]
    TooLarge {
        /// Size of the manifest text in bytes.
        size: usize,
    },
}

/// `component` with `manifest` as its one top-level [`MANIFEST_SECTION`] custom section.
///
/// Every existing top-level manifest section is removed (so embedding twice gives the same
/// bytes as embedding once); the new one is appended after the last section. Every other
/// section is copied byte for byte, nested modules and components included, and a custom
/// section of that name inside a nested module or component is left alone (it does not
/// describe the plugin, and [`inspect`](super::inspect) ignores it).
///
/// The input is not validated beyond its header and its top-level section framing; validate
/// the result with [`inspect`](super::inspect).
pub fn embed_manifest(component: &[u8], manifest: &str) -> Result<Vec<u8>, EmbedError> {
    embed(component, manifest, None)
}

fn embed(
    component: &[u8],
    manifest: &str,
    profile: Option<BuildProfile>,
) -> Result<Vec<u8>, EmbedError> {
    let kept = kept_ranges(component, manifest, profile.is_some())?;
    let mut out = Vec::with_capacity(component.len() + manifest.len() + 64);
    for range in kept {
        out.extend_from_slice(&component[range]);
    }
    append_sections(&mut out, manifest, profile);
    Ok(out)
}

/// [`embed_manifest`] on a component the caller owns: when it has no top-level manifest
/// section yet (what a compiler writes), the section is appended in place, without copying
/// a component that can be megabytes long.
pub fn embed_manifest_owned(component: Vec<u8>, manifest: &str) -> Result<Vec<u8>, EmbedError> {
    embed_owned(component, manifest, None)
}

/// [`embed_manifest_owned`], and the [`BUILD_SECTION`] recording `profile` after it (any
/// top-level one there was is replaced): what a plugin build writes.
pub fn embed_plugin_owned(
    component: Vec<u8>,
    manifest: &str,
    profile: BuildProfile,
) -> Result<Vec<u8>, EmbedError> {
    embed_owned(component, manifest, Some(profile))
}

fn embed_owned(
    mut component: Vec<u8>,
    manifest: &str,
    profile: Option<BuildProfile>,
) -> Result<Vec<u8>, EmbedError> {
    let kept = kept_ranges(&component, manifest, profile.is_some())?;
    if kept.len() == 1 && kept[0] == (0..component.len()) {
        append_sections(&mut component, manifest, profile);
        return Ok(component);
    }
    embed(&component, manifest, profile)
}

fn append_sections(out: &mut Vec<u8>, manifest: &str, profile: Option<BuildProfile>) {
    append_section(out, MANIFEST_SECTION, manifest.as_bytes());
    if let Some(profile) = profile {
        append_section(out, BUILD_SECTION, profile.section_text().as_bytes());
    }
}

fn append_section(out: &mut Vec<u8>, name: &str, data: &[u8]) {
    out.push(0); // custom section id, the same in components and core modules
    CustomSection {
        name: Cow::Borrowed(name),
        data: Cow::Borrowed(data),
    }
    .encode(out);
}

/// The byte ranges of `component` to keep (adjacent ones merged): the header and every
/// top-level section but the manifest sections (and the build sections, with `builds`).
fn kept_ranges(
    component: &[u8],
    manifest: &str,
    builds: bool,
) -> Result<Vec<Range<usize>>, EmbedError> {
    if manifest.len() > MAX_EMBEDDED_MANIFEST_BYTES {
        return Err(EmbedError::TooLarge {
            size: manifest.len(),
        });
    }
    check_header(component).map_err(|source| EmbedError::NotAComponent { source })?;
    let truncated = |needed| EmbedError::NotAComponent {
        source: InspectError::Truncated {
            len: component.len(),
            needed,
            source: None,
        },
    };
    let mut kept: Vec<Range<usize>> = Vec::new();
    let mut keep = |range: Range<usize>| match kept.last_mut() {
        Some(last) if last.end == range.start => last.end = range.end,
        _ => kept.push(range),
    };
    let mut parser = Parser::new(0);
    let mut offset = 0usize;
    loop {
        let (payload, consumed) = match parser
            .parse(&component[offset..], true)
            .map_err(|source| EmbedError::Malformed { source })?
        {
            wasmparser::Chunk::Parsed { consumed, payload } => (payload, consumed),
            // With `eof = true` the parser reports a truncated input as an error.
            wasmparser::Chunk::NeedMoreData(_) => return Err(truncated(component.len() + 1)),
        };
        let start = offset;
        offset += consumed;
        match payload {
            Payload::CustomSection(reader) if reader.name() == MANIFEST_SECTION => {}
            Payload::CustomSection(reader) if builds && reader.name() == BUILD_SECTION => {}
            Payload::ModuleSection {
                unchecked_range, ..
            }
            | Payload::ComponentSection {
                unchecked_range, ..
            } => {
                // The parser stepped over the nested module or component; keep it whole.
                if unchecked_range.end > component.len() {
                    return Err(truncated(unchecked_range.end));
                }
                keep(start..unchecked_range.end);
                offset = unchecked_range.end;
            }
            Payload::End(_) => break,
            _ => keep(start..offset),
        }
    }
    Ok(kept)
}

/// The profile the top-level [`BUILD_SECTION`] of `component` records, read without
/// validating the component (nested modules and components are stepped over): for a caller
/// that only says how a component was built. `None` when there is not exactly one such
/// section, or it is not one this version reads, or the bytes cannot be walked.
pub fn build_profile(component: &[u8]) -> Option<BuildProfile> {
    check_header(component).ok()?;
    let mut parser = Parser::new(0);
    let mut offset = 0usize;
    let mut found = Vec::new();
    loop {
        let (payload, consumed) = match parser.parse(component.get(offset..)?, true).ok()? {
            wasmparser::Chunk::Parsed { consumed, payload } => (payload, consumed),
            wasmparser::Chunk::NeedMoreData(_) => return None,
        };
        offset += consumed;
        match payload {
            Payload::CustomSection(reader) if reader.name() == BUILD_SECTION => {
                found.push(BuildProfile::from_section(reader.data()));
            }
            Payload::ModuleSection {
                unchecked_range, ..
            }
            | Payload::ComponentSection {
                unchecked_range, ..
            } => offset = unchecked_range.end,
            Payload::End(_) => break,
            _ => {}
        }
    }
    match found[..] {
        [profile] => profile,
        _ => None,
    }
}
