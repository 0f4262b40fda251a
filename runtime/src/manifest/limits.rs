//! `[limits]`: sizes (`"64MiB"`) and durations (`"2s"`), exact, never zero.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use super::cx::Cx;
use super::diag::{show, suggest, Diagnostics, Problem};
use super::load::load;
use super::raw::{Field, RawLimits, RawQuantity, Typed};
use super::{Limits, ManifestError};
use crate::HostCaps;

/// Size units and their value in bytes.
const SIZE_UNITS: [(&str, u128); 7] = [
    ("B", 1),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("KB", 1_000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
];

/// Duration units and their value in nanoseconds.
const DURATION_UNITS: [(&str, u128); 3] = [
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
];

pub(crate) fn validate(cx: &mut Cx<'_, '_>, raw: RawLimits) -> Limits {
    Limits {
        memory: checked(cx, "memory", raw.memory, size),
        timeout: checked(cx, "timeout", raw.timeout, duration),
        output: checked(cx, "output", raw.output, size),
    }
}

fn checked<T>(
    cx: &mut Cx<'_, '_>,
    key: &str,
    field: Field<RawQuantity>,
    parse: fn(&RawQuantity) -> Result<T, Problem>,
) -> Option<T> {
    let raw = cx.optional(field, &["limits", key])?;
    match parse(raw.get_ref()) {
        Ok(value) => Some(value),
        Err((reason, help)) => {
            let shown = match raw.get_ref() {
                RawQuantity::Integer(i) => i.to_string(),
                RawQuantity::Text(s) => format!("\"{}\"", show(s)),
            };
            cx.error(
                raw.span(),
                format!("invalid `{key}` limit `{shown}`: {reason}"),
                help,
            );
            None
        }
    }
}

/// Every `[limits]` entry of manifest `text` (valid, as [`parse`](super::parse) accepts it) that
/// asks for more than `caps`, each at its line, so all of them are shown at once.
pub(crate) fn over_caps(text: &str, path: &Path, caps: &HostCaps) -> Result<(), ManifestError> {
    // What is wrong with the text otherwise is `parse`'s to report.
    let mut ignored = Diagnostics::new(text);
    let Some(limits) = load(text, &mut ignored).and_then(|loaded| loaded.raw.limits) else {
        return Ok(());
    };
    let mut diags = Diagnostics::new(text);
    let limits = limits.into_inner();
    let entries = [
        ("memory", limits.memory, Cap::Size(caps.memory)),
        ("timeout", limits.timeout, Cap::Duration(caps.timeout)),
        ("output", limits.output, Cap::Size(caps.output)),
    ];
    for (key, field, cap) in entries {
        let Some(field) = field else { continue };
        let span = field.span();
        let Typed::Ok(raw) = field.into_inner() else {
            continue;
        };
        let over = match cap {
            Cap::Size(cap) => size(&raw).is_ok_and(|asked| asked > cap),
            Cap::Duration(cap) => duration(&raw).is_ok_and(|asked| asked > cap),
        };
        if over {
            let cap = cap.to_string();
            let asked = diags.snippet(span.clone()).unwrap_or_default().to_owned();
            diags.error(
                span,
                format!(
                    "`{key} = {}` is above the host's cap of `{cap}`",
                    show(&asked)
                ),
                Some(format!(
                    "ask for at most `{key} = \"{cap}\"`, or leave `{key}` out to get the \
                     host's cap"
                )),
            );
        }
    }
    if diags.is_empty() {
        return Ok(());
    }
    Err(ManifestError::Invalid {
        path: path.to_path_buf(),
        diagnostics: diags.into_sorted(),
    })
}

/// A host cap, shown as a manifest would write it.
enum Cap {
    Size(u64),
    Duration(Duration),
}

impl fmt::Display for Cap {
    /// The largest unit that gives a whole number: `128MiB`, `1500ms`, `5s`, `10m`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (value, units): (u128, &[(&str, u128)]) = match self {
            Cap::Size(bytes) => (u128::from(*bytes), &SIZE_UNITS[..4]),
            Cap::Duration(d) => (d.as_nanos(), &DURATION_UNITS),
        };
        match units
            .iter()
            .rev()
            .find(|(_, factor)| value >= *factor && value % factor == 0)
        {
            Some((unit, factor)) => write!(f, "{}{unit}", value / factor),
            None => match self {
                Cap::Size(bytes) => write!(f, "{bytes}B"),
                Cap::Duration(d) => write!(f, "{d:?}"),
            },
        }
    }
}

/// Bytes: a bare positive integer, or a number with a unit (`"64MiB"`, `"1.5GB"`).
pub(crate) fn size(raw: &RawQuantity) -> Result<u64, Problem> {
    let bytes = match raw {
        RawQuantity::Integer(i) => u128::try_from(*i).map_err(|_| negative())?,
        RawQuantity::Text(s) => quantity(
            s,
            &SIZE_UNITS,
            "`64MiB`, `512KiB` or a bare number of bytes",
        )?,
    };
    if bytes == 0 {
        return Err(zero());
    }
    u64::try_from(bytes).map_err(|_| ("too large".to_string(), None))
}

/// A size as people write it in settings files (`"64MiB"`, `"1.5GB"`, `"4096"`): bytes, or
/// why not (with an example of the right form).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let raw = match text.trim().parse::<i64>() {
        Ok(i) => RawQuantity::Integer(i),
        Err(_) => RawQuantity::Text(text.trim().to_string()),
    };
    size(&raw).map_err(|(reason, example)| match example {
        Some(example) => format!("{reason} (e.g. {example})"),
        None => reason,
    })
}

/// A duration with a unit: `"500ms"`, `"2s"`, `"1.5s"`, `"1m"`.
pub(crate) fn duration(raw: &RawQuantity) -> Result<Duration, Problem> {
    let nanos = match raw {
        RawQuantity::Integer(i) => {
            return Err((
                "a duration needs a unit".into(),
                Some(format!("write `\"{i}s\"` or `\"{i}ms\"`")),
            ))
        }
        RawQuantity::Text(s) => quantity(s, &DURATION_UNITS, "`2s`, `500ms` or `1m`")?,
    };
    if nanos == 0 {
        return Err(zero());
    }
    u64::try_from(nanos)
        .map(Duration::from_nanos)
        .map_err(|_| ("too long".to_string(), None))
}

fn zero() -> Problem {
    (
        "a limit cannot be zero".into(),
        Some("leave the key out to use the host's limit".into()),
    )
}

fn negative() -> Problem {
    ("a limit cannot be negative".into(), None)
}

/// `<decimal number> [space] <unit>`, exactly: the result must be a whole number of the
/// smallest unit (bytes, nanoseconds).
fn quantity(s: &str, units: &[(&str, u128)], example: &str) -> Result<u128, Problem> {
    let like = || Some(format!("write something like {example}"));
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let unit = unit.trim_start();
    if s.starts_with('-') {
        return Err(negative());
    }
    let Some((mantissa, scale)) = decimal(number) else {
        return Err(("expected a number followed by a unit".into(), like()));
    };
    let names: Vec<&str> = units.iter().map(|(name, _)| *name).collect();
    if unit.is_empty() {
        let help = format!("add a unit; valid units: {}", names.join(", "));
        return Err(("missing unit".into(), Some(help)));
    }
    let Some((_, factor)) = units.iter().find(|(name, _)| *name == unit) else {
        return Err((
            format!("unknown unit `{}`", show(unit)),
            Some(suggest(unit, &names, "units")),
        ));
    };
    let total = mantissa
        .checked_mul(*factor)
        .ok_or_else(|| ("too large".to_string(), None))?;
    let divisor = 10u128.pow(scale);
    if total % divisor != 0 {
        return Err((
            format!("`{}` is not a whole number of {}", show(s), smallest(units)),
            None,
        ));
    }
    Ok(total / divisor)
}

fn smallest(units: &[(&str, u128)]) -> &'static str {
    if units.first().is_some_and(|(name, _)| *name == "B") {
        "bytes"
    } else {
        "nanoseconds"
    }
}

/// `"1.5"` -> `(15, 1)`; at most 18 fractional digits, at most 30 digits in all.
fn decimal(s: &str) -> Option<(u128, u32)> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() || (s.contains('.') && frac.is_empty()) || int.len() + frac.len() > 30 {
        return None;
    }
    if frac.len() > 18 || !(int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())) {
        return None;
    }
    let mantissa = format!("{int}{frac}").parse().ok()?;
    Some((mantissa, u32::try_from(frac.len()).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> RawQuantity {
        RawQuantity::Text(s.into())
    }

    #[test]
    fn sizes() {
        assert_eq!(size(&text("64MiB")), Ok(64 << 20));
        assert_eq!(size(&text("1.5 KiB")), Ok(1536));
        assert_eq!(size(&text("2MB")), Ok(2_000_000));
        assert_eq!(size(&text("10B")), Ok(10));
        assert_eq!(size(&RawQuantity::Integer(4096)), Ok(4096));
        assert!(size(&text("0MiB")).is_err());
        assert!(size(&RawQuantity::Integer(0)).is_err());
        assert!(size(&RawQuantity::Integer(-1)).is_err());
        assert!(size(&text("0.5B")).is_err());
        assert!(size(&text("64")).is_err());
        assert!(size(&text("64mb")).unwrap_err().1.unwrap().contains("`MB`"));
        assert!(size(&text("99999999999999999999GiB")).is_err());
        assert!(size(&text("1.")).is_err());
        assert!(size(&text(".5MiB")).is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(duration(&text("500ms")), Ok(Duration::from_millis(500)));
        assert_eq!(duration(&text("1.5s")), Ok(Duration::from_millis(1500)));
        assert_eq!(duration(&text("2m")), Ok(Duration::from_secs(120)));
        assert!(duration(&text("0s")).is_err());
        assert!(duration(&RawQuantity::Integer(2)).is_err());
        assert!(duration(&text("2h")).is_err());
        assert!(duration(&text("99999999999999999999m")).is_err());
    }
}
