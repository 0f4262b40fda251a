//! Dependencies: `[dependencies]` requirements solved with `pubgrub` over what is installed.
//!
//! Every installed version of every plugin is a package version with its manifest's
//! dependencies. A check is about one *subject* (the plugin being installed or enabled): the
//! solver's root requires the subject and every enabled plugin connected to it through
//! dependencies at exactly their active versions, since those are what runs. The solver
//! picks the other versions, preferring active ones. What it cannot solve is explained from
//! its derivation tree: a missing dependency, a version that does not match, or a conflict
//! that names both requirers. A solution is then checked for what pubgrub does not look at:
//! cycles (`a -> b -> a`), and dependencies that are disabled or not at their active version.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::convert::Infallible;
use std::fmt;

use pubgrub::{
    DefaultStringReporter, Dependencies, DependencyProvider, DerivationTree, External,
    PackageResolutionStatistics, PubGrubError, Ranges, Reporter,
};
use semver::{Comparator, Op, Version, VersionReq};
use serde::Serialize;

use crate::manifest::PluginId;

use super::index::Index;

/// One plugin version's requirement on another plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Requirement {
    /// The plugin that requires.
    pub by: PluginId,
    /// Its version.
    pub by_version: Version,
    /// What it requires of the dependency.
    pub requirement: VersionReq,
}

/// Why the dependencies of a plugin cannot be satisfied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// No version of the dependency is installed.
    #[error(
        "`{} {}` requires `{dependency} {}`, which is not installed",
        required_by.by, required_by.by_version, required_by.requirement
    )]
    Missing {
        /// The plugin required.
        dependency: PluginId,
        /// Who requires it, and what.
        required_by: Requirement,
    },
    /// Versions are installed, but none matches.
    #[error(
        "`{} {}` requires `{dependency} {}`, but the installed versions are {}",
        required_by.by, required_by.by_version, required_by.requirement, versions(installed)
    )]
    NoMatchingVersion {
        /// The plugin required.
        dependency: PluginId,
        /// Who requires it, and what.
        required_by: Requirement,
        /// What is installed.
        installed: Vec<Version>,
    },
    /// The version that has to run (being installed or enabled, or active and enabled) does
    /// not match a requirement on it.
    #[error(
        "`{} {}` requires `{dependency} {}`, which `{dependency} {version}` does not satisfy",
        required_by.by, required_by.by_version, required_by.requirement
    )]
    Incompatible {
        /// The plugin required.
        dependency: PluginId,
        /// Its version that runs.
        version: Version,
        /// Who requires it, and what.
        required_by: Requirement,
    },
    /// Two plugins require versions of a third that no version can satisfy at once.
    #[error(
        "conflicting requirements on `{dependency}`: `{} {}` requires `{}` and `{} {}` requires `{}`",
        first.by, first.by_version, first.requirement, second.by, second.by_version, second.requirement
    )]
    Conflict {
        /// The plugin both require.
        dependency: PluginId,
        /// One requirer.
        first: Requirement,
        /// The other.
        second: Requirement,
    },
    /// An installed version satisfies the requirement, but another one is active.
    #[error(
        "`{} {}` requires `{dependency} {}`: installed `{dependency} {satisfying}` satisfies it, \
         but the active version is {active}",
        required_by.by, required_by.by_version, required_by.requirement
    )]
    Inactive {
        /// The plugin required.
        dependency: PluginId,
        /// Its active version.
        active: Version,
        /// The installed version that would do.
        satisfying: Version,
        /// Who requires it, and what.
        required_by: Requirement,
    },
    /// The dependency is installed, but disabled.
    #[error(
        "`{} {}` requires `{dependency}`, which is disabled",
        required_by.by, required_by.by_version
    )]
    Disabled {
        /// The plugin required.
        dependency: PluginId,
        /// Who requires it, and what.
        required_by: Requirement,
    },
    /// Plugins that require each other, in a loop.
    #[error("dependency cycle: {}", chain(cycle))]
    Cycle {
        /// The loop, first plugin repeated at the end: `[a, b, a]`.
        cycle: Vec<PluginId>,
    },
    /// Anything else the solver could not satisfy, in its own words.
    #[error("no set of installed versions satisfies every requirement:\n{explanation}")]
    Unsatisfiable {
        /// The solver's explanation, one derivation per line.
        explanation: String,
    },
}

impl ResolveError {
    /// The known fix, for a `help:` line.
    pub fn help(&self) -> Option<String> {
        Some(match self {
            ResolveError::Missing {
                dependency,
                required_by,
            } => format!(
                "install a version of `{dependency}` that matches `{}` first",
                required_by.requirement
            ),
            ResolveError::NoMatchingVersion {
                dependency,
                required_by,
                ..
            } => format!(
                "install a version of `{dependency}` that matches `{}`",
                required_by.requirement
            ),
            ResolveError::Incompatible {
                dependency,
                version,
                required_by,
            } => format!(
                "install a version of `{}` that accepts `{dependency} {version}`, or disable it",
                required_by.by
            ),
            ResolveError::Conflict { dependency, .. } => format!(
                "no version of `{dependency}` satisfies both: upgrade one of them, or disable it"
            ),
            ResolveError::Inactive {
                dependency,
                satisfying,
                ..
            } => format!(
                "install `{dependency} {satisfying}` again to make it the active version \
                 (with `--allow-downgrade` if it is older)"
            ),
            ResolveError::Disabled { dependency, .. } => {
                format!("enable it first: `cargo flowtrace enable {dependency}`")
            }
            ResolveError::Cycle { .. } => {
                "remove one of these dependencies from its manifest".to_string()
            }
            ResolveError::Unsatisfiable { .. } => return None,
        })
    }
}

fn versions(list: &[Version]) -> String {
    let list: Vec<String> = list.iter().map(ToString::to_string).collect();
    list.join(", ")
}

fn chain(cycle: &[PluginId]) -> String {
    let ids: Vec<&str> = cycle.iter().map(PluginId::as_str).collect();
    ids.join(" -> ")
}

/// What resolution needs to know of one installed plugin.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub active: Version,
    pub enabled: bool,
    /// Every installed version, with its dependencies.
    pub versions: BTreeMap<Version, BTreeMap<PluginId, VersionReq>>,
}

/// Every installed plugin, by id.
pub(crate) type Universe = BTreeMap<PluginId, Node>;

/// The universe an index describes.
pub(crate) fn universe(index: &Index) -> Universe {
    index
        .plugins
        .iter()
        .map(|(id, record)| {
            let node = Node {
                active: record.active.clone(),
                enabled: record.enabled,
                versions: record
                    .versions
                    .iter()
                    .map(|(v, r)| (v.clone(), r.dependencies.clone()))
                    .collect(),
            };
            (id.clone(), node)
        })
        .collect()
}

/// The enabled plugins (other than `id`) whose active version depends on `id`, sorted.
pub(crate) fn dependents(universe: &Universe, id: &PluginId) -> Vec<PluginId> {
    universe
        .iter()
        .filter(|(other, node)| {
            *other != id && node.enabled && active_deps(node).is_some_and(|d| d.contains_key(id))
        })
        .map(|(other, _)| other.clone())
        .collect()
}

fn active_deps(node: &Node) -> Option<&BTreeMap<PluginId, VersionReq>> {
    node.versions.get(&node.active)
}

/// Check that `subject` (at its active version, as if enabled) can run: its dependencies,
/// and the enabled plugins connected to it, are satisfied by enabled active versions,
/// without cycles.
pub(crate) fn check(universe: &Universe, subject: &PluginId) -> Result<(), ResolveError> {
    let pins = pinned(universe, subject);
    let provider = Provider {
        universe,
        root: pins
            .iter()
            .map(|(id, v)| (Pkg::Plugin(id.clone()), Ranges::singleton(v.clone())))
            .collect(),
    };
    match pubgrub::resolve(&provider, Pkg::Root, root_version()) {
        Ok(solution) => {
            let chosen: BTreeMap<PluginId, Version> = solution
                .into_iter()
                .filter_map(|(p, v)| match p {
                    Pkg::Plugin(id) => Some((id, v)),
                    Pkg::Root => None,
                })
                .collect();
            verify(universe, subject, &chosen)
        }
        Err(PubGrubError::NoSolution(tree)) => Err(explain(universe, &pins, &tree)),
        Err(PubGrubError::ErrorRetrievingDependencies { source, .. })
        | Err(PubGrubError::ErrorChoosingVersion { source, .. })
        | Err(PubGrubError::ErrorInShouldCancel(source)) => match source {},
    }
}

/// The subject, and the enabled plugins connected to it through dependencies (either way),
/// at their active versions: what must run together. Enabled plugins elsewhere do not take
/// part, so a problem among them never blocks an unrelated install.
fn pinned(universe: &Universe, subject: &PluginId) -> BTreeMap<PluginId, Version> {
    let mut edges: BTreeMap<&PluginId, BTreeSet<&PluginId>> = BTreeMap::new();
    for (id, node) in universe {
        if !(node.enabled || id == subject) {
            continue;
        }
        for dep in active_deps(node).into_iter().flat_map(BTreeMap::keys) {
            edges.entry(id).or_default().insert(dep);
            edges.entry(dep).or_default().insert(id);
        }
    }
    let mut seen = BTreeSet::from([subject]);
    let mut queue = VecDeque::from([subject]);
    while let Some(id) = queue.pop_front() {
        for next in edges.get(id).into_iter().flatten() {
            if seen.insert(next) {
                queue.push_back(next);
            }
        }
    }
    seen.into_iter()
        .filter_map(|id| {
            let node = universe.get(id)?;
            (node.enabled || id == subject).then(|| (id.clone(), node.active.clone()))
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Pkg {
    Root,
    Plugin(PluginId),
}

impl fmt::Display for Pkg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pkg::Root => f.write_str("the plugins that must run together"),
            Pkg::Plugin(id) => f.write_str(id.as_str()),
        }
    }
}

fn root_version() -> Version {
    Version::new(0, 0, 0)
}

struct Provider<'a> {
    universe: &'a Universe,
    root: pubgrub::DependencyConstraints<Pkg, Ranges<Version>>,
}

impl DependencyProvider for Provider<'_> {
    type P = Pkg;
    type V = Version;
    type VS = Ranges<Version>;
    type M = String;
    type Err = Infallible;
    type Priority = (u32, Reverse<usize>);

    fn prioritize(
        &self,
        package: &Pkg,
        range: &Ranges<Version>,
        stats: &PackageResolutionStatistics,
    ) -> Self::Priority {
        let count = match package {
            Pkg::Root => 1,
            Pkg::Plugin(id) => self.universe.get(id).map_or(0, |node| {
                node.versions.keys().filter(|v| range.contains(*v)).count()
            }),
        };
        if count == 0 {
            // Fail fast on a package nothing can satisfy.
            return (u32::MAX, Reverse(0));
        }
        (stats.conflict_count(), Reverse(count))
    }

    fn choose_version(
        &self,
        package: &Pkg,
        range: &Ranges<Version>,
    ) -> Result<Option<Version>, Infallible> {
        Ok(match package {
            Pkg::Root => Some(root_version()).filter(|v| range.contains(v)),
            Pkg::Plugin(id) => self.universe.get(id).and_then(|node| {
                if range.contains(&node.active) {
                    Some(node.active.clone())
                } else {
                    node.versions.keys().rev().find(|v| range.contains(*v)).cloned()
                }
            }),
        })
    }

    fn get_dependencies(
        &self,
        package: &Pkg,
        version: &Version,
    ) -> Result<Dependencies<Pkg, Ranges<Version>, String>, Infallible> {
        Ok(match package {
            Pkg::Root => Dependencies::Available(self.root.clone()),
            Pkg::Plugin(id) => match self.universe.get(id).and_then(|n| n.versions.get(version)) {
                Some(deps) => Dependencies::Available(
                    deps.iter()
                        .map(|(dep, req)| (Pkg::Plugin(dep.clone()), req_ranges(req)))
                        .collect(),
                ),
                None => Dependencies::Unavailable("it is not installed".into()),
            },
        })
    }
}

/// The versions a semver requirement allows, as ranges. Pre-release versions sort inside
/// ranges here; `verify` checks the solution with `VersionReq::matches` itself.
fn req_ranges(req: &VersionReq) -> Ranges<Version> {
    req.comparators
        .iter()
        .fold(Ranges::full(), |acc, c| acc.intersection(&comparator_ranges(c)))
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

/// Check a solution: no cycle, every requirement matched, every dependency active and
/// enabled.
fn verify(
    universe: &Universe,
    subject: &PluginId,
    chosen: &BTreeMap<PluginId, Version>,
) -> Result<(), ResolveError> {
    let deps_of = |id: &PluginId| {
        universe
            .get(id)
            .and_then(|n| n.versions.get(&chosen[id]))
            .into_iter()
            .flatten()
    };
    if let Some(cycle) = find_cycle(chosen, &deps_of) {
        return Err(ResolveError::Cycle { cycle });
    }
    let requirer_of = |dep: &PluginId| {
        chosen.keys().find_map(|id| {
            deps_of(id)
                .find(|(d, _)| *d == dep)
                .map(|(_, req)| Requirement {
                    by: id.clone(),
                    by_version: chosen[id].clone(),
                    requirement: req.clone(),
                })
        })
    };
    for id in chosen.keys() {
        for (dep, req) in deps_of(id) {
            let version = &chosen[dep];
            if !req.matches(version) {
                return Err(ResolveError::Incompatible {
                    dependency: dep.clone(),
                    version: version.clone(),
                    required_by: Requirement {
                        by: id.clone(),
                        by_version: chosen[id].clone(),
                        requirement: req.clone(),
                    },
                });
            }
        }
    }
    for (id, version) in chosen {
        if id == subject {
            continue;
        }
        let (Some(node), Some(required_by)) = (universe.get(id), requirer_of(id)) else {
            continue;
        };
        if *version != node.active {
            return Err(ResolveError::Inactive {
                dependency: id.clone(),
                active: node.active.clone(),
                satisfying: version.clone(),
                required_by,
            });
        }
        if !node.enabled {
            return Err(ResolveError::Disabled {
                dependency: id.clone(),
                required_by,
            });
        }
    }
    Ok(())
}

/// The first cycle of the dependency graph, in id order: `[a, b, a]`.
fn find_cycle<'a, I>(
    chosen: &'a BTreeMap<PluginId, Version>,
    deps_of: &impl Fn(&'a PluginId) -> I,
) -> Option<Vec<PluginId>>
where
    I: Iterator<Item = (&'a PluginId, &'a VersionReq)>,
{
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    let mut marks: BTreeMap<&PluginId, Mark> = chosen.keys().map(|id| (id, Mark::New)).collect();
    for start in chosen.keys() {
        if marks[start] != Mark::New {
            continue;
        }
        // Depth-first, with an explicit stack of (node, its remaining dependencies).
        let mut path: Vec<(&PluginId, Vec<&PluginId>)> = vec![(start, next_of(start, deps_of))];
        marks.insert(start, Mark::OnPath);
        while let Some((_, todo)) = path.last_mut() {
            match todo.pop() {
                Some(next) => match marks.get(next).copied() {
                    Some(Mark::New) => {
                        marks.insert(next, Mark::OnPath);
                        path.push((next, next_of(next, deps_of)));
                    }
                    Some(Mark::OnPath) => {
                        let from = path.iter().position(|(id, _)| *id == next)?;
                        let mut cycle: Vec<PluginId> =
                            path[from..].iter().map(|(id, _)| (*id).clone()).collect();
                        cycle.push(next.clone());
                        return Some(cycle);
                    }
                    _ => {}
                },
                None => {
                    let (done, _) = path.pop()?;
                    marks.insert(done, Mark::Done);
                }
            }
        }
    }
    None
}

/// The dependencies of `id`, reversed so popping visits them in id order.
fn next_of<'a, I>(id: &'a PluginId, deps_of: &impl Fn(&'a PluginId) -> I) -> Vec<&'a PluginId>
where
    I: Iterator<Item = (&'a PluginId, &'a VersionReq)>,
{
    let mut next: Vec<&PluginId> = deps_of(id).map(|(d, _)| d).collect();
    next.reverse();
    next
}

type Tree = DerivationTree<Pkg, Ranges<Version>, String>;

/// Turn the solver's derivation tree into the most specific error it supports.
fn explain(universe: &Universe, pins: &BTreeMap<PluginId, Version>, tree: &Tree) -> ResolveError {
    let mut edges = Vec::new();
    let mut none = Vec::new();
    collect(tree, &mut edges, &mut none);
    let requirement = |by: &Pkg, range: &Ranges<Version>, dep: &PluginId| {
        let Pkg::Plugin(by) = by else { return None };
        let node = universe.get(by)?;
        let version = if range.contains(&node.active) {
            node.active.clone()
        } else {
            node.versions.keys().find(|v| range.contains(*v))?.clone()
        };
        let req = node.versions.get(&version)?.get(dep)?.clone();
        Some(Requirement {
            by: by.clone(),
            by_version: version,
            requirement: req,
        })
    };

    // Two plugins whose requirements on a third exclude each other.
    for (i, (a, ra, p, rp)) in edges.iter().enumerate() {
        for (b, rb, q, rq) in &edges[i + 1..] {
            let (Pkg::Plugin(dep), true) = (p, p == q) else {
                continue;
            };
            if a == b || !rp.is_disjoint(rq) {
                continue;
            }
            if let (Some(x), Some(y)) = (requirement(a, ra, dep), requirement(b, rb, dep)) {
                let (first, second) = if x.by <= y.by { (x, y) } else { (y, x) };
                return ResolveError::Conflict {
                    dependency: dep.clone(),
                    first,
                    second,
                };
            }
        }
    }

    // A requirement on a plugin that must run at a version it excludes.
    for (by, range, p, required) in &edges {
        let Pkg::Plugin(dep) = p else { continue };
        let Some(version) = pins.get(dep) else {
            continue;
        };
        if required.contains(version) {
            continue;
        }
        let Some(failing) = requirement(by, range, dep) else {
            continue;
        };
        // Name the other side too when an enabled plugin relies on the running version.
        let other = pins.iter().find_map(|(id, v)| {
            let req = universe.get(id)?.versions.get(v)?.get(dep)?;
            (*id != failing.by && req.matches(version) && req_ranges(req).is_disjoint(required))
                .then(|| Requirement {
                    by: id.clone(),
                    by_version: v.clone(),
                    requirement: req.clone(),
                })
        });
        return match other {
            Some(other) => ResolveError::Conflict {
                dependency: dep.clone(),
                first: other,
                second: failing,
            },
            None => ResolveError::Incompatible {
                dependency: dep.clone(),
                version: version.clone(),
                required_by: failing,
            },
        };
    }

    // A requirement nothing installed satisfies.
    for p in &none {
        let Pkg::Plugin(dep) = p else { continue };
        let found = edges
            .iter()
            .find(|(_, _, q, _)| q == p)
            .and_then(|(by, range, _, _)| requirement(by, range, dep));
        let Some(required_by) = found else { continue };
        return match universe.get(dep) {
            None => ResolveError::Missing {
                dependency: dep.clone(),
                required_by,
            },
            Some(node) => ResolveError::NoMatchingVersion {
                dependency: dep.clone(),
                required_by,
                installed: node.versions.keys().cloned().collect(),
            },
        };
    }

    ResolveError::Unsatisfiable {
        explanation: DefaultStringReporter::report(tree),
    }
}

type Edge = (Pkg, Ranges<Version>, Pkg, Ranges<Version>);

fn collect(tree: &Tree, edges: &mut Vec<Edge>, none: &mut Vec<Pkg>) {
    match tree {
        DerivationTree::External(External::FromDependencyOf(a, ra, b, rb)) => {
            edges.push((a.clone(), ra.clone(), b.clone(), rb.clone()));
        }
        DerivationTree::External(External::NoVersions(p, _)) => none.push(p.clone()),
        DerivationTree::External(_) => {}
        DerivationTree::Derived(derived) => {
            collect(&derived.cause1, edges, none);
            collect(&derived.cause2, edges, none);
        }
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
            "^1.2.3", "^1.2", "^1", "^0.2.3", "^0.2", "^0.0.3", "^0.0", "^0", "~1.2.3", "~1.2",
            "~1", "=1.2.3", "=1.2", "=1", ">1.2.3", ">1.2", ">1", ">=1.2.3", ">=1.2", "<1.2.3",
            "<1.2", "<=1.2.3", "<=1.2", "<=1", "1.*", "1.2.*", "*", ">=1.2, <1.5",
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
