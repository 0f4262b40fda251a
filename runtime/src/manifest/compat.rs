//! Schema versions: read `manifest-version` first, refuse files from the future, and upgrade
//! files of older schemas to the current one before anything else looks at them.

use std::ops::Range;

use serde_spanned::Spanned;
use toml_edit::{DocumentMut, Table};

use super::diag::Diagnostics;
use super::raw::RawVersionProbe;
use super::CURRENT_MANIFEST_VERSION;
use crate::fix::Fix;

/// One upgrade step: rewrites a document of version `n` into version `n + 1`, in place.
///
/// A step moves or renames existing items (which keeps their spans, so messages still point
/// into the file as written) rather than building new ones.
type Upgrade = fn(&mut Table);

/// `UPGRADES[n - 1]` upgrades version `n` to `n + 1`. Version 1 is the first schema, so there
/// is nothing to upgrade yet; a version 2 that renames a key adds `v1_to_v2` here.
const UPGRADES: &[Upgrade] = &[];

const _: () = assert!(UPGRADES.len() + 1 == CURRENT_MANIFEST_VERSION as usize);

/// The schema version the file declares (1 when it declares none), like spin's
/// `VersionProbe`: only `manifest-version` is read, every other key is ignored here.
///
/// `None` when the file comes from a newer schema, which this code cannot read at all: the
/// one diagnostic then says so, rather than a list of keys it does not know. A version that is
/// not an integer is left for the full pass to report; it is read as the current version.
pub(crate) fn probe(root: &Table, diags: &mut Diagnostics<'_>) -> Option<u32> {
    let probe = toml_edit::de::from_document::<RawVersionProbe>(DocumentMut::from(root.clone()));
    let Some(version) = probe.ok().and_then(|p| p.manifest_version) else {
        return Some(CURRENT_MANIFEST_VERSION);
    };
    let span: Range<usize> = version.span();
    let version: i64 = *Spanned::get_ref(&version);
    match u32::try_from(version) {
        Ok(v) if (1..=CURRENT_MANIFEST_VERSION).contains(&v) => Some(v),
        Ok(v) if v > CURRENT_MANIFEST_VERSION => {
            diags.error_with_fix(
                span,
                format!(
                    "`manifest-version = {v}` needs a newer Flowtrace: this one reads manifest \
                     versions up to {CURRENT_MANIFEST_VERSION}"
                ),
                Fix::Upgrade,
            );
            None
        }
        _ if version > 0 => {
            // Larger than any u32: certainly from the future, but more likely a typo.
            diags.error(
                span,
                format!("`manifest-version = {version}` is not a manifest version"),
                Some(format!(
                    "the current manifest version is {CURRENT_MANIFEST_VERSION}"
                )),
            );
            None
        }
        _ => {
            diags.error(
                span,
                format!(
                    "`manifest-version = {version}` is not a manifest version: versions start at 1"
                ),
                Some(format!(
                    "write `manifest-version = {CURRENT_MANIFEST_VERSION}`, or leave it out"
                )),
            );
            Some(CURRENT_MANIFEST_VERSION)
        }
    }
}

/// Rewrite a document of schema `from` into the current schema, step by step.
pub(crate) fn upgrade(from: u32, root: &mut Table) {
    let first = usize::try_from(from.saturating_sub(1)).unwrap_or(usize::MAX);
    for step in UPGRADES.iter().skip(first) {
        step(root);
    }
}
