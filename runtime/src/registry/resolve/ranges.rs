//! Semver requirements as `pubgrub` ranges.

use pubgrub::Ranges;
use semver::{Comparator, Op, Version, VersionReq};

/// The versions a semver requirement allows, as ranges. Pre-release versions sort inside
/// ranges here; `verify` checks the solution with `VersionReq::matches` itself.
pub(super) fn req_ranges(req: &VersionReq) -> Ranges<Version> {
    req.comparators.iter().fold(Ranges::full(), |acc, c| {
        acc.intersection(&comparator_ranges(c))
    })
}

fn comparator_ranges(c: &Comparator) -> Ranges<Version> {
    let v = Version::new;
    let next = |n: u64| n.saturating_add(1);
    let (major, minor, patch) = (c.major, c.minor, c.patch);
    let lower = Version {
        major,
        minor: minor.unwrap_or(0),
        patch: patch.unwrap_or(0),
        pre: c.pre.clone(),
        build: semver::BuildMetadata::EMPTY,
    };
    match c.op {
        Op::Exact | Op::Wildcard => match (minor, patch) {
            (Some(_), Some(_)) => Ranges::singleton(lower),
            (Some(mi), None) => Ranges::between(v(major, mi, 0), v(major, next(mi), 0)),
            (None, _) => Ranges::between(v(major, 0, 0), v(next(major), 0, 0)),
        },
        Op::Greater => match (minor, patch) {
            (Some(_), Some(_)) => Ranges::strictly_higher_than(lower),
            (Some(mi), None) => Ranges::higher_than(v(major, next(mi), 0)),
            (None, _) => Ranges::higher_than(v(next(major), 0, 0)),
        },
        Op::GreaterEq => Ranges::higher_than(lower),
        Op::Less => Ranges::strictly_lower_than(lower),
        Op::LessEq => match (minor, patch) {
            (Some(_), Some(_)) => Ranges::lower_than(lower),
            (Some(mi), None) => Ranges::strictly_lower_than(v(major, next(mi), 0)),
            (None, _) => Ranges::strictly_lower_than(v(next(major), 0, 0)),
        },
        Op::Tilde => match minor {
            Some(mi) => Ranges::between(lower, v(major, next(mi), 0)),
            None => Ranges::between(lower, v(next(major), 0, 0)),
        },
        Op::Caret => match (major, minor, patch) {
            (0, Some(0), Some(pa)) => Ranges::between(lower, v(0, 0, next(pa))),
            (0, Some(mi), _) => Ranges::between(lower, v(0, next(mi), 0)),
            (0, None, _) => Ranges::between(lower, v(1, 0, 0)),
            (ma, _, _) => Ranges::between(lower, v(next(ma), 0, 0)),
        },
        // `Op` is non-exhaustive; a future operator is not narrowed here, and `verify`
        // still checks every edge with `VersionReq::matches`.
        _ => Ranges::full(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(req: &str, version: &str) -> bool {
        req_ranges(&VersionReq::parse(req).unwrap()).contains(&Version::parse(version).unwrap())
    }

    #[test]
    fn requirements_become_the_same_ranges_semver_matches() {
        let reqs = [
            "^1.2.3",
            "^1.2",
            "^1",
            "^0.2.3",
            "^0.2",
            "^0.0.3",
            "^0.0",
            "^0",
            "~1.2.3",
            "~1.2",
            "~1",
            "=1.2.3",
            "=1.2",
            "=1",
            ">1.2.3",
            ">1.2",
            ">1",
            ">=1.2.3",
            ">=1.2",
            "<1.2.3",
            "<1.2",
            "<=1.2.3",
            "<=1.2",
            "<=1",
            "1.*",
            "1.2.*",
            "*",
            ">=1.2, <1.5",
        ];
        let versions = [
            "0.0.0", "0.0.3", "0.0.4", "0.1.0", "0.2.0", "0.2.3", "0.2.9", "0.3.0", "1.0.0",
            "1.1.9", "1.2.0", "1.2.2", "1.2.3", "1.2.4", "1.3.0", "1.4.9", "1.5.0", "1.9.9",
            "2.0.0", "3.1.4",
        ];
        for req in reqs {
            let parsed = VersionReq::parse(req).unwrap();
            for version in versions {
                assert_eq!(
                    allows(req, version),
                    parsed.matches(&Version::parse(version).unwrap()),
                    "{req} on {version}"
                );
            }
        }
    }
}
