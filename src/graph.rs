//! The desired graph: resources keyed by logical id, with ordering helpers.

use crate::model::{Desired, LogicalId};
use std::collections::{BTreeMap, BTreeSet};

/// Why a set of resources cannot be ordered.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GraphError {
    /// A resource refers to one that is not in the graph.
    #[error("{from} refers to {to}, which is not part of the stack")]
    Dangling {
        /// The referring resource.
        from: LogicalId,
        /// The missing one.
        to: LogicalId,
    },
    /// The dependencies loop.
    #[error("dependency cycle: {0} (each waits for the next)")]
    Cycle(String),
}

/// All desired resources of a stack.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Graph {
    /// Resources by logical id.
    pub resources: BTreeMap<LogicalId, Desired>,
}

impl Graph {
    /// Adds a resource; a duplicate logical id is a bug in the stack builder.
    pub fn add(&mut self, resource: Desired) -> LogicalId {
        let id = resource.id.clone();
        let previous = self.resources.insert(id.clone(), resource);
        debug_assert!(previous.is_none(), "duplicate logical id {id}");
        id
    }

    /// The resource with this id.
    pub fn get(&self, id: &LogicalId) -> Option<&Desired> {
        self.resources.get(id)
    }

    /// Ids in an order where every resource comes after everything it depends on.
    pub fn topo_order(&self) -> Result<Vec<LogicalId>, GraphError> {
        let mut deps = BTreeMap::new();
        for (id, r) in &self.resources {
            let d = r.deps();
            if let Some(missing) = d.iter().find(|d| !self.resources.contains_key(*d)) {
                return Err(GraphError::Dangling {
                    from: id.clone(),
                    to: missing.clone(),
                });
            }
            deps.insert(id.clone(), d);
        }
        topo_sort(&deps)
    }
}

/// Orders nodes so each comes after its dependencies; ties are broken by node order, so the
/// result is deterministic.
pub fn topo_sort<N: Ord + Clone + std::fmt::Display>(
    deps: &BTreeMap<N, BTreeSet<N>>,
) -> Result<Vec<N>, GraphError> {
    let mut remaining: BTreeMap<&N, usize> = deps
        .iter()
        .map(|(n, d)| (n, d.iter().filter(|x| deps.contains_key(*x)).count()))
        .collect();
    let mut dependents: BTreeMap<&N, Vec<&N>> = BTreeMap::new();
    for (n, d) in deps {
        for x in d.iter().filter(|x| deps.contains_key(*x)) {
            dependents.entry(x).or_default().push(n);
        }
    }
    let mut ready: BTreeSet<&N> = remaining
        .iter()
        .filter(|(_, c)| **c == 0)
        .map(|(n, _)| *n)
        .collect();
    let mut out = Vec::with_capacity(deps.len());
    while let Some(n) = ready.pop_first() {
        out.push(n.clone());
        for d in dependents.get(n).into_iter().flatten() {
            if let Some(c) = remaining.get_mut(*d) {
                *c -= 1;
                if *c == 0 {
                    ready.insert(*d);
                }
            }
        }
    }
    if out.len() < deps.len() {
        let stuck: BTreeSet<&N> = remaining
            .iter()
            .filter(|(_, c)| **c > 0)
            .map(|(n, _)| *n)
            .collect();
        return Err(GraphError::Cycle(one_cycle(deps, &stuck)));
    }
    Ok(out)
}

/// One loop among the `stuck` nodes, as "a -> b -> a": every stuck node waits on another stuck
/// node, so walking those waits must come back to a node already seen.
fn one_cycle<N: Ord + std::fmt::Display>(
    deps: &BTreeMap<N, BTreeSet<N>>,
    stuck: &BTreeSet<&N>,
) -> String {
    let mut path: Vec<&N> = Vec::new();
    let mut next = stuck.first().copied();
    while let Some(n) = next {
        if let Some(start) = path.iter().position(|p| *p == n) {
            let mut names: Vec<String> = path[start..].iter().map(|p| p.to_string()).collect();
            names.push(n.to_string());
            return names.join(" -> ");
        }
        path.push(n);
        next = deps
            .get(n)
            .and_then(|d| d.iter().find(|x| stuck.contains(x)));
    }
    path.iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Kind, Value};

    fn node(id: &str, refs: &[&str]) -> Desired {
        let mut d = Desired::new(id, Kind::Subnet);
        for (i, r) in refs.iter().enumerate() {
            d = d.with(
                &format!("r{i}"),
                Value::reference(&LogicalId::new(*r), "id"),
            );
        }
        d
    }

    #[test]
    fn dependencies_come_first() {
        let mut g = Graph::default();
        g.add(node("c", &["b"]));
        g.add(node("b", &["a"]));
        g.add(node("a", &[]));
        g.add(node("d", &["a", "c"]));
        let order = g.topo_order().unwrap();
        let pos = |s: &str| order.iter().position(|x| x.as_str() == s).unwrap();
        assert!(pos("a") < pos("b") && pos("b") < pos("c") && pos("c") < pos("d"));
    }

    #[test]
    fn cycle_is_reported() {
        let mut g = Graph::default();
        g.add(node("a", &["b"]));
        g.add(node("b", &["c"]));
        g.add(node("c", &["b"]));
        g.add(node("d", &["a"]));
        assert_eq!(
            g.topo_order(),
            Err(GraphError::Cycle("b -> c -> b".to_string()))
        );
    }

    #[test]
    fn dangling_reference_is_reported() {
        let mut g = Graph::default();
        g.add(node("a", &["ghost"]));
        assert_eq!(
            g.topo_order(),
            Err(GraphError::Dangling {
                from: LogicalId::new("a"),
                to: LogicalId::new("ghost")
            })
        );
    }
}
