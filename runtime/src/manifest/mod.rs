//! `flowtrace.toml`: the plugin manifest, parsed and validated.
//!
//! One file, the same for every language. Reading it goes in three steps, each in its own
//! module:
//!
//! 1. `load`: TOML text to the serde shapes in `raw`, after `compat` has read the schema
//!    version and upgraded older files. Unknown keys are errors: a misspelt limit must not
//!    silently mean "no limit".
//! 2. `validate` (with `capabilities`, `config` and `limits`): every rule, from the raw shapes to the
//!    domain types in [`model`].
//! 3. Every problem found on the way is kept, with its line and column, so one run shows all
//!    of them: [`ManifestError::Invalid`].
//!
//! ```
//! # use std::path::Path;
//! # use flowtrace_plugins::manifest::{self, PluginKind};
//! let text = r#"
//! [plugin]
//! id = "sample-evaluator"
//! name = "Sample Evaluator"
//! version = "0.1.0"
//! kind = "evaluator"
//!
//! [build]
//! language = "rust"
//! "#;
//! let m = manifest::parse(text, Path::new("flowtrace.toml")).unwrap();
//! assert_eq!(m.plugin.kind, PluginKind::Evaluator);
//! ```

use std::io::Read;
use std::path::Path;

mod capabilities;
mod compat;
mod config;
mod cx;
mod diag;
mod error;
mod limits;
mod load;
pub mod model;
mod raw;
mod validate;

pub use error::{Diagnostic, ManifestError};
pub use limits::parse_size;
pub use model::*;

/// The largest manifest read, in bytes: 1 MiB, far beyond any real one.
pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;

/// The manifest's file name, next to `Cargo.toml`, `pyproject.toml` or `package.json`.
pub const MANIFEST_FILE_NAME: &str = "flowtrace.toml";

/// Parse and validate manifest text. `path` only names the file in messages.
///
/// Reports every problem at once, sorted by position; never panics, whatever the input.
pub fn parse(text: &str, path: &Path) -> Result<Manifest, ManifestError> {
    let size = text.len() as u64;
    if size > MAX_MANIFEST_BYTES {
        return Err(ManifestError::TooLarge {
            path: path.to_path_buf(),
            size,
            limit: MAX_MANIFEST_BYTES,
        });
    }
    let mut diags = diag::Diagnostics::new(text);
    let manifest = load::load(text, &mut diags).and_then(|l| validate::validate(l, &mut diags));
    match manifest {
        Some(manifest) if diags.is_empty() => Ok(manifest),
        _ => {
            if diags.is_empty() {
                // Every path to `None` reports why; this only guards that promise.
                diags.error(0..0, "the manifest could not be read".into(), None);
            }
            Err(ManifestError::Invalid {
                path: path.to_path_buf(),
                diagnostics: diags.into_sorted(),
            })
        }
    }
}

/// Check the `[limits]` of manifest `text` against the host's caps: every entry that asks for
/// more than `caps` allows is a problem at its line and column (all of them, not the first),
/// so a plugin that could never load on this host is refused where it is built or installed.
/// `text` is expected to be valid ([`parse`]); what is invalid in it is left to [`parse`] to
/// report. `path` only names the file in messages.
///
/// ```
/// # use std::path::Path;
/// # use flowtrace_plugins::{manifest, HostCaps};
/// let text = "[plugin]\nid = \"p\"\nname = \"P\"\nversion = \"0.1.0\"\nkind = \"evaluator\"\n\n\
///             [build]\nlanguage = \"rust\"\n\n[limits]\nmemory = \"4GiB\"\ntimeout = \"10m\"\n";
/// let error = manifest::check_limits(text, Path::new("flowtrace.toml"), &HostCaps::default())
///     .unwrap_err();
/// assert_eq!(error.diagnostics().len(), 2);
/// assert_eq!(error.diagnostics()[0].line, 11);
/// ```
pub fn check_limits(text: &str, path: &Path, caps: &crate::HostCaps) -> Result<(), ManifestError> {
    limits::over_caps(text, path, caps)
}

impl Manifest {
    /// Read, parse and validate a manifest file.
    ///
    /// Files larger than [`MAX_MANIFEST_BYTES`] are refused before they are read, and never
    /// read past the limit even when they grow or are not regular files.
    pub fn from_file(path: &Path) -> Result<Manifest, ManifestError> {
        let io = |source| ManifestError::Io {
            path: path.to_path_buf(),
            source,
        };
        let too_large = |size| ManifestError::TooLarge {
            path: path.to_path_buf(),
            size,
            limit: MAX_MANIFEST_BYTES,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        if size > MAX_MANIFEST_BYTES {
            return Err(too_large(size));
        }
        let mut bytes = Vec::new();
        file.take(MAX_MANIFEST_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() as u64 > MAX_MANIFEST_BYTES {
            return Err(too_large(bytes.len() as u64));
        }
        match String::from_utf8(bytes) {
            Ok(text) => parse(&text, path),
            Err(e) => Err(not_utf8(path, e)),
        }
    }

    /// Parse and validate manifest text; the same as [`parse`]. `path` only names the file
    /// in messages.
    pub fn from_str(text: &str, path: &Path) -> Result<Manifest, ManifestError> {
        parse(text, path)
    }
}

/// The one problem of a file that is not text: where its first bad byte is.
fn not_utf8(path: &Path, e: std::string::FromUtf8Error) -> ManifestError {
    let valid = e.utf8_error().valid_up_to();
    let bytes = e.as_bytes();
    let bad = bytes.get(valid).copied().unwrap_or_default();
    let prefix = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
    let mut diags = diag::Diagnostics::new(prefix);
    diags.error(
        valid..valid,
        format!("the file is not valid UTF-8: byte `0x{bad:02x}`"),
        Some("save the manifest as UTF-8".into()),
    );
    ManifestError::Invalid {
        path: path.to_path_buf(),
        diagnostics: diags.into_sorted(),
    }
}
