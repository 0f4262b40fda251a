//! Snapshots: a case's whole result, kept in a file next to the fixture. `--bless` writes it;
//! later runs compare and show a unified diff when it changed.

use std::path::Path;

use anyhow::{Context as _, Result};

use super::expect::Mismatch;
use crate::build::write_atomically;

/// What comparing with a snapshot came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotOutcome {
    /// The result is the snapshot's.
    Matched,
    /// `--bless` wrote the result to the file (it was missing or different).
    Blessed,
    /// The result differs, or the file is missing.
    Mismatch(Mismatch),
}

/// Compare `actual` with the snapshot at `path` (shown as `shown`), or write it with `bless`.
///
/// JSON snapshots (`json`) compare as JSON values, so reformatting a snapshot by hand does not
/// break it; anything else compares byte for byte.
pub fn compare(
    path: &Path,
    shown: &str,
    actual: &[u8],
    json: bool,
    bless: bool,
) -> Result<SnapshotOutcome> {
    let expected = match std::fs::read(path) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(e).with_context(|| format!("failed to read snapshot `{shown}`"));
        }
    };
    // JSON compares as values, so a snapshot reformatted by hand still matches.
    let parsed = |bytes: &[u8]| serde_json::from_slice::<serde_json::Value>(bytes).ok();
    let expected_json = if json {
        expected.as_deref().and_then(parsed)
    } else {
        None
    };
    let same = match (&expected, &expected_json) {
        (None, _) => false,
        (Some(_), Some(old)) => parsed(actual).as_ref() == Some(old),
        (Some(old), None) => old == actual,
    };
    if same {
        return Ok(SnapshotOutcome::Matched);
    }
    if bless {
        write_atomically(path, actual)
            .with_context(|| format!("failed to write snapshot `{shown}`"))?;
        return Ok(SnapshotOutcome::Blessed);
    }
    Ok(SnapshotOutcome::Mismatch(match expected {
        None => Mismatch::new(format!("snapshot `{shown}` does not exist yet"))
            .with_help("run `cargo flowtrace test --bless` to write it, then review and commit it"),
        Some(expected) => Mismatch {
            message: format!("the result differs from snapshot `{shown}`"),
            help: Some(
                "if the new result is right, run `cargo flowtrace test --bless` to update the \
                 snapshot"
                    .into(),
            ),
            diff: Some(diff(&expected, actual)),
        },
    }))
}

/// A unified diff from `expected` to `actual`, `-` lines the snapshot's, `+` lines the result's.
pub fn diff(expected: &[u8], actual: &[u8]) -> String {
    match (std::str::from_utf8(expected), std::str::from_utf8(actual)) {
        (Ok(old), Ok(new)) => similar::TextDiff::from_lines(old, new)
            .unified_diff()
            .context_radius(3)
            .header("snapshot", "actual")
            .missing_newline_hint(true)
            .to_string(),
        _ => format!(
            "binary output differs: the snapshot is {} bytes, the result {} bytes",
            expected.len(),
            actual.len()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bless_writes_then_matches_then_a_change_shows_a_diff() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snapshots/case.json");
        let v1 = b"{\n  \"passed\": true,\n  \"score\": 1.0\n}\n";
        match compare(&path, "case.json", v1, true, false).unwrap() {
            SnapshotOutcome::Mismatch(m) => {
                assert_eq!(m.message, "snapshot `case.json` does not exist yet");
                assert!(m.diff.is_none());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            compare(&path, "case.json", v1, true, true).unwrap(),
            SnapshotOutcome::Blessed
        );
        assert_eq!(std::fs::read(&path).unwrap(), v1);
        // Reformatted by hand: still the same JSON.
        std::fs::write(&path, b"{\"score\": 1.0, \"passed\": true}").unwrap();
        assert_eq!(
            compare(&path, "case.json", v1, true, false).unwrap(),
            SnapshotOutcome::Matched
        );
        std::fs::write(&path, v1).unwrap();
        let v2 = b"{\n  \"passed\": false,\n  \"score\": 1.0\n}\n";
        let SnapshotOutcome::Mismatch(m) = compare(&path, "case.json", v2, true, false).unwrap()
        else {
            panic!("expected a mismatch");
        };
        assert_eq!(
            m.diff.as_deref(),
            Some(
                "--- snapshot\n+++ actual\n@@ -1,4 +1,4 @@\n {\n-  \"passed\": true,\n+  \
                 \"passed\": false,\n   \"score\": 1.0\n }\n"
            )
        );
    }
}
