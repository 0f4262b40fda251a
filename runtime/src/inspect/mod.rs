//! Read a plugin component without running it: validate it, list what it imports and
//! exports at its top level, print its world as WIT and find its embedded manifest.
//!
//! Every input is untrusted. [`inspect`] never panics and never allocates more than a small
//! multiple of the input's size: the validator bounds the structure, custom sections are
//! borrowed from the input, and the embedded manifest is capped at
//! [`MAX_EMBEDDED_MANIFEST_BYTES`].

mod embed;
mod error;
mod name;

use std::fmt;
use std::panic::{self, AssertUnwindSafe};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use wasmparser::{
    ComponentExternalKind, ComponentTypeRef, Parser, Payload, Validator, WasmFeatures,
};

pub use embed::{
    build_profile, embed_manifest, embed_manifest_owned, embed_plugin_owned, EmbedError,
};
pub use error::{InspectError, InspectWarning};
pub use name::InterfaceName;

/// Name of the custom section that holds the plugin's `flowtrace.toml`, as UTF-8 text.
pub const MANIFEST_SECTION: &str = "flowtrace-manifest";

/// Name of the custom section that says how the component was built, as JSON text:
/// `{"profile":"dev"}` or `{"profile":"release"}` ([`BuildProfile`]). Written by
/// `cargo flowtrace build` beside the manifest; a description only, like the manifest.
pub const BUILD_SECTION: &str = "flowtrace-build";

/// The profile a plugin's component was built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BuildProfile {
    /// Unoptimized, with debug info: for the edit loop and tests.
    Dev,
    /// Optimized: what to install and ship.
    Release,
}

impl BuildProfile {
    /// `dev` or `release`, as cargo names its profiles.
    pub fn as_str(self) -> &'static str {
        match self {
            BuildProfile::Dev => "dev",
            BuildProfile::Release => "release",
        }
    }

    /// The directory its builds go to, as cargo names them: `debug` or `release`.
    pub fn dir_name(self) -> &'static str {
        match self {
            BuildProfile::Dev => "debug",
            BuildProfile::Release => "release",
        }
    }

    /// The text of the [`BUILD_SECTION`] that records it.
    pub fn section_text(self) -> String {
        format!("{{\"profile\":\"{}\"}}", self.as_str())
    }

    /// The profile a [`BUILD_SECTION`]'s data records, if it is one this version knows.
    pub fn from_section(data: &[u8]) -> Option<BuildProfile> {
        #[derive(Deserialize)]
        struct Build {
            profile: BuildProfile,
        }
        serde_json::from_slice::<Build>(data)
            .ok()
            .map(|b| b.profile)
    }
}

impl std::fmt::Display for BuildProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Largest embedded manifest read: a `flowtrace.toml` is a few hundred bytes, so anything
/// near this size is hostile or broken.
pub const MAX_EMBEDDED_MANIFEST_BYTES: usize = 1024 * 1024;

/// The WebAssembly features a component may use: exactly the ones this host's wasmtime 48
/// enables (`Config::features`: the 3.0 feature set and the component model, less GC types
/// and exceptions, which need wasmtime's `gc` cargo feature, and less the component model's
/// async ABI, whose `component-model-async` feature doubles the cost of every call; see the
/// workspace `Cargo.toml`).
///
/// Components from Rust on `wasm32-wasip2`, componentize-py and componentize-js use a subset
/// (bulk memory, multi-value, reference types, sign extension, mutable globals, SIMD), and
/// anything wasmtime would refuse at load time is refused here first, with a clear error.
pub const FEATURES: WasmFeatures = WasmFeatures::WASM3
    .union(WasmFeatures::COMPONENT_MODEL)
    .difference(WasmFeatures::GC_TYPES.union(WasmFeatures::EXCEPTIONS));

/// What a component is made of, as far as a host deciding whether to run it cares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Inspection {
    /// The component's own imports, in order. Imports of nested modules and components are
    /// wired inside the component and are not listed.
    pub imports: Vec<ImportItem>,
    /// The component's own exports, in order.
    pub exports: Vec<ExportItem>,
    /// The component's world printed as WIT, with the packages it uses; `None` when it could
    /// not be decoded (the reason is in `warnings`).
    pub world_wit: Option<String>,
    /// Top-level custom sections: name and size of the data in bytes.
    pub custom_sections: Vec<CustomSection>,
    /// The text of the top-level [`MANIFEST_SECTION`], when there is exactly one and it is
    /// UTF-8 of at most [`MAX_EMBEDDED_MANIFEST_BYTES`]. Capability verdicts never come from
    /// it: they come from `imports`.
    pub embedded_manifest: Option<String>,
    /// The profile the top-level [`BUILD_SECTION`] records, when there is exactly one that
    /// reads as one; `None` for a component built otherwise (or by an older build).
    #[serde(default)]
    pub build_profile: Option<BuildProfile>,
    /// What was noticed without failing: an undecodable world, a rejected manifest section.
    pub warnings: Vec<InspectWarning>,
    /// Size of the component in bytes.
    pub size: usize,
    /// SHA-256 of the component, lowercase hex.
    pub sha256: String,
}

impl Inspection {
    /// The top-level import called `name`, if any.
    pub fn import(&self, name: &str) -> Option<&ImportItem> {
        self.imports.iter().find(|i| i.name == name)
    }

    /// The top-level export called `name`, if any.
    pub fn export(&self, name: &str) -> Option<&ExportItem> {
        self.exports.iter().find(|e| e.name == name)
    }
}

/// One top-level import of a component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ImportItem {
    /// The name as written in the component, e.g. `wasi:io/streams@0.2.6`.
    pub name: String,
    /// What is imported: an instance for an interface, a function for a plain name, ...
    pub kind: ItemKind,
    /// The name split into namespace, package, interface and version; `None` for a plain
    /// name, which is kept as it is in `name`.
    pub interface: Option<InterfaceName>,
}

/// One top-level export of a component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ExportItem {
    /// The name as written in the component, e.g. `flowtrace:plugin/evaluator@0.1.0`.
    pub name: String,
    /// What is exported.
    pub kind: ItemKind,
    /// The name split up, `None` for a plain name.
    pub interface: Option<InterfaceName>,
}

/// The sort of item a component imports or exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ItemKind {
    /// A core module.
    Module,
    /// A component function.
    Func,
    /// A component value.
    Value,
    /// A type.
    Type,
    /// An instance: how WIT interfaces are imported and exported.
    Instance,
    /// A component.
    Component,
}

impl ItemKind {
    /// The component model spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Module => "module",
            ItemKind::Func => "func",
            ItemKind::Value => "value",
            ItemKind::Type => "type",
            ItemKind::Instance => "instance",
            ItemKind::Component => "component",
        }
    }
}

impl fmt::Display for ItemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<ComponentTypeRef> for ItemKind {
    fn from(ty: ComponentTypeRef) -> Self {
        match ty {
            ComponentTypeRef::Module(_) => ItemKind::Module,
            ComponentTypeRef::Func(_) => ItemKind::Func,
            ComponentTypeRef::Value(_) => ItemKind::Value,
            ComponentTypeRef::Type(_) => ItemKind::Type,
            ComponentTypeRef::Instance(_) => ItemKind::Instance,
            ComponentTypeRef::Component(_) => ItemKind::Component,
        }
    }
}

impl From<ComponentExternalKind> for ItemKind {
    fn from(kind: ComponentExternalKind) -> Self {
        match kind {
            ComponentExternalKind::Module => ItemKind::Module,
            ComponentExternalKind::Func => ItemKind::Func,
            ComponentExternalKind::Value => ItemKind::Value,
            ComponentExternalKind::Type => ItemKind::Type,
            ComponentExternalKind::Instance => ItemKind::Instance,
            ComponentExternalKind::Component => ItemKind::Component,
        }
    }
}

/// A top-level custom section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct CustomSection {
    /// The section's name, e.g. `producers` or [`MANIFEST_SECTION`].
    pub name: String,
    /// Size of its data in bytes.
    pub size: usize,
}

/// What [`inspect_with`] works out besides the checks, which always run in full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InspectOptions {
    /// Decode the component's world and print it as WIT ([`Inspection::world_wit`]). A
    /// caller that does not show the world (a build, which only needs the imports) saves the
    /// decode; `world_wit` is then `None`, with no warning.
    pub world_wit: bool,
}

impl Default for InspectOptions {
    fn default() -> Self {
        Self { world_wit: true }
    }
}

/// Validate `bytes` as a component and describe it.
///
/// Fails on anything that is not a valid component this host's engine can load: empty input,
/// garbage, a truncated file, a core module, an unsupported binary version, a feature the
/// engine does not enable, or any validation error.
pub fn inspect(bytes: &[u8]) -> Result<Inspection, InspectError> {
    inspect_with(bytes, InspectOptions::default())
}

/// [`inspect`], with a choice of what to describe. Validation runs on its own thread while
/// the component is hashed and its imports, exports and sections are read; an invalid
/// component fails exactly as with [`inspect`].
pub fn inspect_with(bytes: &[u8], options: InspectOptions) -> Result<Inspection, InspectError> {
    check_header(bytes)?;
    let (validated, described) = std::thread::scope(|s| {
        let validating = s.spawn(|| Validator::new_with_features(FEATURES).validate_all(bytes));
        let mut inspection = Inspection {
            imports: Vec::new(),
            exports: Vec::new(),
            world_wit: None,
            custom_sections: Vec::new(),
            embedded_manifest: None,
            build_profile: None,
            warnings: Vec::new(),
            size: bytes.len(),
            sha256: hex::encode(Sha256::digest(bytes)),
        };
        let walked = walk(bytes, &mut inspection).map(|()| inspection);
        let validated = match validating.join() {
            Ok(validated) => validated,
            Err(panic) => panic::resume_unwind(panic),
        };
        (validated, walked)
    });
    // Checked even when the validator accepts: wasmparser 0.254 takes a component whose
    // nested module section is cut right after the module's header as a complete, valid
    // component (the nested parser stops at the end of the input).
    if let Some(needed) = truncated_at(bytes) {
        return Err(InspectError::Truncated {
            len: bytes.len(),
            needed,
            source: validated.err(),
        });
    }
    validated.map_err(validation_error)?;
    let mut inspection = described.map_err(|source| InspectError::Invalid { source })?;
    if options.world_wit {
        match print_world(bytes) {
            Ok(wit) => inspection.world_wit = Some(wit),
            Err(reason) => inspection
                .warnings
                .push(InspectWarning::WorldNotDecoded { reason }),
        }
    }
    Ok(inspection)
}

const MAGIC: &[u8; 4] = b"\0asm";
const COMPONENT_VERSION: u16 = 0x0d;
const COMPONENT_LAYER: u16 = 1;
const MODULE_VERSION: u16 = 1;
const MODULE_LAYER: u16 = 0;
const HEADER_LEN: usize = 8;

/// Tell the common wrong inputs apart before the validator gives its generic errors.
fn check_header(bytes: &[u8]) -> Result<(), InspectError> {
    if bytes.is_empty() {
        return Err(InspectError::Empty);
    }
    let magic_len = bytes.len().min(MAGIC.len());
    if bytes[..magic_len] != MAGIC[..magic_len] {
        return Err(InspectError::NotWasm);
    }
    let Some(header) = bytes.get(..HEADER_LEN) else {
        return Err(InspectError::Truncated {
            len: bytes.len(),
            needed: HEADER_LEN,
            source: None,
        });
    };
    let version = u16::from_le_bytes([header[4], header[5]]);
    let layer = u16::from_le_bytes([header[6], header[7]]);
    match (version, layer) {
        (COMPONENT_VERSION, COMPONENT_LAYER) => Ok(()),
        (MODULE_VERSION, MODULE_LAYER) => Err(InspectError::CoreModule),
        (version, layer) => Err(InspectError::UnsupportedVersion { version, layer }),
    }
}

fn validation_error(source: wasmparser::BinaryReaderError) -> InspectError {
    match source.missing_wasm_feature() {
        Some(missing) => {
            let features = missing
                .iter_names()
                .map(|(name, _)| name.to_ascii_lowercase().replace('_', "-"))
                .collect::<Vec<_>>()
                .join(", ");
            InspectError::UnsupportedFeatures { features, source }
        }
        None => InspectError::Invalid { source },
    }
}

/// When the top-level section list runs past the end of `bytes`: the length it needs.
///
/// Nested modules and components live inside a top-level section, so any cut shows here.
fn truncated_at(bytes: &[u8]) -> Option<usize> {
    let mut pos = HEADER_LEN;
    while pos < bytes.len() {
        // Section id, then the size as unsigned LEB128 (at most 5 bytes for a u32).
        pos += 1;
        let mut size: u64 = 0;
        let mut shift = 0;
        loop {
            let Some(&byte) = bytes.get(pos) else {
                return Some(pos + 1);
            };
            pos += 1;
            size |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
            if shift >= 35 {
                return None; // malformed, not truncated: the validator's error stands
            }
        }
        let end = pos.saturating_add(usize::try_from(size).ok()?);
        if end > bytes.len() {
            return Some(end);
        }
        pos = end;
    }
    None
}

/// Collect the top-level imports, exports and custom sections of a validated component.
fn walk(bytes: &[u8], inspection: &mut Inspection) -> Result<(), wasmparser::BinaryReaderError> {
    let mut depth = 0usize;
    let mut manifests: Vec<&[u8]> = Vec::new();
    let mut builds: Vec<&[u8]> = Vec::new();
    let mut nested_manifest = false;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(reader) if depth == 0 => {
                for import in reader {
                    let import = import?;
                    let name = import.name.name;
                    inspection.imports.push(ImportItem {
                        name: name.to_string(),
                        kind: import.ty.into(),
                        interface: InterfaceName::parse(name),
                    });
                }
            }
            Payload::ComponentExportSection(reader) if depth == 0 => {
                for export in reader {
                    let export = export?;
                    let name = export.name.name;
                    inspection.exports.push(ExportItem {
                        name: name.to_string(),
                        kind: export.kind.into(),
                        interface: InterfaceName::parse(name),
                    });
                }
            }
            Payload::CustomSection(reader) => {
                let is_manifest = reader.name() == MANIFEST_SECTION;
                if depth > 0 {
                    nested_manifest |= is_manifest;
                    continue;
                }
                inspection.custom_sections.push(CustomSection {
                    name: reader.name().to_string(),
                    size: reader.data().len(),
                });
                if is_manifest {
                    manifests.push(reader.data());
                } else if reader.name() == BUILD_SECTION {
                    builds.push(reader.data());
                }
            }
            _ => {}
        }
    }
    if nested_manifest {
        inspection.warnings.push(InspectWarning::NestedManifest);
    }
    if let [data] = builds[..] {
        inspection.build_profile = BuildProfile::from_section(data);
    }
    match manifests[..] {
        [] => {}
        [data] => match read_manifest(data) {
            Ok(text) => inspection.embedded_manifest = Some(text),
            Err(warning) => inspection.warnings.push(warning),
        },
        ref all => inspection
            .warnings
            .push(InspectWarning::DuplicateManifest { count: all.len() }),
    }
    Ok(())
}

fn read_manifest(data: &[u8]) -> Result<String, InspectWarning> {
    if data.len() > MAX_EMBEDDED_MANIFEST_BYTES {
        return Err(InspectWarning::ManifestTooLarge { size: data.len() });
    }
    match std::str::from_utf8(data) {
        Ok(text) => Ok(text.to_string()),
        Err(e) => Err(InspectWarning::ManifestNotUtf8 {
            valid_up_to: e.valid_up_to(),
        }),
    }
}

/// Decode the component's type into a WIT world and print it, with the packages it uses, the
/// way `wasm-tools component wit` does.
fn print_world(bytes: &[u8]) -> Result<String, String> {
    // The decoder is third-party code run on untrusted (if validated) input: a panic in it
    // must cost the WIT text, not the caller's process.
    let printed = panic::catch_unwind(AssertUnwindSafe(|| -> Result<String, String> {
        let decoded = wit_component::decode(bytes).map_err(|e| format!("{e:#}"))?;
        let resolve = decoded.resolve();
        let main = decoded.package();
        let nested: Vec<_> = resolve
            .packages
            .iter()
            .map(|(id, _)| id)
            .filter(|id| *id != main)
            .collect();
        let mut printer = wit_component::WitPrinter::default();
        printer
            .print(resolve, main, &nested)
            .map_err(|e| format!("{e:#}"))?;
        Ok(printer.output.to_string())
    }));
    match printed {
        Ok(result) => result,
        Err(_) => Err("the WIT decoder panicked on this component".into()),
    }
}
