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
mod error;
mod explain;
mod ranges;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::convert::Infallible;
use std::fmt;

use pubgrub::{
    Dependencies, DependencyProvider, PackageResolutionStatistics, PubGrubError, Ranges,
};
use semver::{Version, VersionReq};

use crate::manifest::PluginId;

use super::index::Index;

pub use error::{Requirement, ResolveError};
use explain::{explain, verify};
use ranges::req_ranges;

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
pub(crate) fn check(universe: &Universe, subject: &PluginId) -> Result<(), Box<ResolveError>> {
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
            match verify(universe, subject, &chosen) {
                Some(problem) => Err(Box::new(problem)),
                None => Ok(()),
            }
        }
        Err(PubGrubError::NoSolution(tree)) => Err(Box::new(explain(universe, &pins, &tree))),
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
                    node.versions
                        .keys()
                        .rev()
                        .find(|v| range.contains(*v))
                        .cloned()
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
