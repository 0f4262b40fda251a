//! Checking a solution, and explaining a failure, in terms of the plugins involved.

use std::collections::BTreeMap;

use pubgrub::{DefaultStringReporter, DerivationTree, External, Ranges, Reporter};
use semver::{Version, VersionReq};

use crate::manifest::PluginId;

use super::ranges::req_ranges;
use super::{Pkg, Requirement, ResolveError, Universe};

/// Check a solution: no cycle, every requirement matched, every dependency active and
/// enabled. Returns the first problem.
pub(super) fn verify(
    universe: &Universe,
    subject: &PluginId,
    chosen: &BTreeMap<PluginId, Version>,
) -> Option<ResolveError> {
    let deps_of = |id: &PluginId| {
        universe
            .get(id)
            .and_then(|n| n.versions.get(&chosen[id]))
            .into_iter()
            .flatten()
    };
    if let Some(cycle) = find_cycle(chosen, &deps_of) {
        return Some(ResolveError::Cycle { cycle });
    }
    // The subject's own requirement first: it is what the user acts on.
    let requirer_of = |dep: &PluginId| {
        std::iter::once(subject)
            .chain(chosen.keys())
            .find_map(|id| {
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
                return Some(ResolveError::Incompatible {
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
            return Some(ResolveError::Inactive {
                dependency: id.clone(),
                active: node.active.clone(),
                satisfying: version.clone(),
                required_by,
            });
        }
        if !node.enabled {
            return Some(ResolveError::Disabled {
                dependency: id.clone(),
                required_by,
            });
        }
    }
    None
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
pub(super) fn explain(
    universe: &Universe,
    pins: &BTreeMap<PluginId, Version>,
    tree: &Tree,
) -> ResolveError {
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
