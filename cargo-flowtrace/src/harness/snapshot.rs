//! Snapshots: a case's whole result, kept in a file next to the fixture. `--bless` writes it;
//! later runs compare and show a unified diff when it changed.

use std::path::Path;

use anyhow::{Context as _, Result};
use flowtrace_plugins::fs::write_atomically;

use super::expect::Mismatch;

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
            message: if std::str::from_utf8(&expected).is_ok()
                && std::str::from_utf8(actual).is_ok()
            {
                format!("the result differs from snapshot `{shown}`")
            } else {
                format!(
                    "the binary output differs from snapshot `{shown}` (the snapshot is {} bytes, \
                     the result {})",
                    expected.len(),
                    actual.len()
                )
            },
            help: Some(
                "if the new result is right, run `cargo flowtrace test --bless` to update the \
                 snapshot"
                    .into(),
            ),
            diff: Some(diff(&expected, actual)),
            backtrace: None,
        },
    }))
}

/// A unified diff from `expected` to `actual`, `-` lines the snapshot's, `+` lines the result's.
/// Output that is not UTF-8 gets a [`binary_diff`] instead.
pub fn diff(expected: &[u8], actual: &[u8]) -> String {
    match (std::str::from_utf8(expected), std::str::from_utf8(actual)) {
        (Ok(old), Ok(new)) => similar::TextDiff::from_lines(old, new)
            .unified_diff()
            .context_radius(3)
            .header("snapshot", "actual")
            .missing_newline_hint(true)
            .to_string(),
        _ => binary_diff(expected, actual),
    }
}

/// Bytes per hex dump row.
const ROW: usize = 16;

/// Binary output compared: both sizes, the first differing offset, and a hex dump of the rows
/// around it (the row before, the row itself, the row after) from each side, `-` lines the
/// snapshot's, `+` lines the result's.
///
/// ```text
/// --- snapshot (20 bytes)
/// +++ actual (20 bytes)
/// @@ first difference at byte 18 (0x12) @@
/// -00000000  89 50 4e 47 0d 0a 1a 0a  00 00 00 0d 49 48 44 52  |.PNG........IHDR|
/// -00000010  00 00 01 00                                       |....|
/// +00000000  89 50 4e 47 0d 0a 1a 0a  00 00 00 0d 49 48 44 52  |.PNG........IHDR|
/// +00000010  00 00 02 00                                       |....|
/// ```
pub fn binary_diff(expected: &[u8], actual: &[u8]) -> String {
    let first = expected
        .iter()
        .zip(actual)
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| expected.len().min(actual.len()));
    let start = (first / ROW).saturating_sub(1) * ROW;
    let end = start + 3 * ROW;
    let mut out = format!(
        "--- snapshot ({} bytes)\n+++ actual ({} bytes)\n",
        expected.len(),
        actual.len()
    );
    let where_ = if first == expected.len().min(actual.len()) && expected.len() != actual.len() {
        let shorter = if expected.len() < actual.len() {
            "the snapshot"
        } else {
            "the result"
        };
        format!("{shorter} ends at byte {first} (0x{first:x}), the other goes on")
    } else {
        format!("first difference at byte {first} (0x{first:x})")
    };
    out.push_str(&format!("@@ {where_} @@\n"));
    for (sign, bytes) in [('-', expected), ('+', actual)] {
        let window = &bytes[start.min(bytes.len())..end.min(bytes.len())];
        for (i, row) in window.chunks(ROW).enumerate() {
            out.push(sign);
            out.push_str(&hex_row(start + i * ROW, row));
            out.push('\n');
        }
    }
    out
}

/// `00000010  00 01 .. 0f  |................|`, `hexdump -C` style.
fn hex_row(offset: usize, row: &[u8]) -> String {
    let mut hex = String::new();
    for i in 0..ROW {
        if i == ROW / 2 {
            hex.push(' ');
        }
        match row.get(i) {
            Some(b) => hex.push_str(&format!("{b:02x} ")),
            None => hex.push_str("   "),
        }
    }
    let text: String = row
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            }
        })
        .collect();
    format!("{offset:08x}  {hex} |{text}|")
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

    #[test]
    fn binary_output_shows_sizes_the_first_difference_and_a_hex_window() {
        let expected: Vec<u8> = (0u8..64).map(|b| b.wrapping_mul(7) | 0x80).collect();
        let mut actual = expected.clone();
        actual[37] = b'A';
        assert_eq!(
            diff(&expected, &actual),
            "--- snapshot (64 bytes)\n+++ actual (64 bytes)\n\
             @@ first difference at byte 37 (0x25) @@\n\
             -00000010  f0 f7 fe 85 8c 93 9a a1  a8 af b6 bd c4 cb d2 d9  |................|\n\
             -00000020  e0 e7 ee f5 fc 83 8a 91  98 9f a6 ad b4 bb c2 c9  |................|\n\
             -00000030  d0 d7 de e5 ec f3 fa 81  88 8f 96 9d a4 ab b2 b9  |................|\n\
             +00000010  f0 f7 fe 85 8c 93 9a a1  a8 af b6 bd c4 cb d2 d9  |................|\n\
             +00000020  e0 e7 ee f5 fc 41 8a 91  98 9f a6 ad b4 bb c2 c9  |.....A..........|\n\
             +00000030  d0 d7 de e5 ec f3 fa 81  88 8f 96 9d a4 ab b2 b9  |................|\n"
        );
        // One is a prefix of the other: where the shorter ends.
        let short = &expected[..3];
        assert_eq!(
            diff(short, &expected[..5]),
            "--- snapshot (3 bytes)\n+++ actual (5 bytes)\n\
             @@ the snapshot ends at byte 3 (0x3), the other goes on @@\n\
             -00000000  80 87 8e                                          |...|\n\
             +00000000  80 87 8e 95 9c                                    |.....|\n"
        );
    }
}
