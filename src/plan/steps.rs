//! The execution DAG of a plan: which create, update and delete steps wait for which.

use super::{Action, Change};
use crate::graph::{topo_sort, Graph, GraphError};
use crate::model::{Kind, LogicalId, Observed};
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

/// Whether a step brings a resource to its desired state or removes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StepKind {
    /// Create or update (the create half of a replace too).
    Apply,
    /// Delete (the delete half of a replace too).
    Delete,
}

/// One unit of executor work and the steps it must wait for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The resource (for duplicates, `id#physical-id`).
    pub id: LogicalId,
    /// Apply or delete.
    pub kind: StepKind,
    /// Prerequisites.
    pub after: BTreeSet<(LogicalId, StepKind)>,
}

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key(LogicalId, StepKind);

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = match self.1 {
            StepKind::Apply => "apply",
            StepKind::Delete => "delete",
        };
        write!(f, "{verb} {}", self.0)
    }
}

/// Builds the steps for `changes`, and marks the replacements made new-first
/// ([`Change::new_first`]). `observed` maps each change id that exists to what was found; an
/// observed resource depends on another when one of its attributes holds the other's physical
/// id, or when the desired graph says so.
pub(super) fn build(
    changes: &mut [Change],
    desired: &Graph,
    observed: BTreeMap<LogicalId, &Observed>,
) -> Result<Vec<Step>, GraphError> {
    let action: HashMap<LogicalId, Action> =
        changes.iter().map(|c| (c.id.clone(), c.action)).collect();
    let applies = |id: &LogicalId| {
        matches!(
            action.get(id),
            Some(Action::Create | Action::Update | Action::Replace)
        )
    };
    let deletes = |id: &LogicalId| matches!(action.get(id), Some(Action::Delete | Action::Replace));
    // What the config makes depend on each id, among what is applied: re-pointed at a new copy.
    let mut applied_dependents: BTreeMap<LogicalId, BTreeSet<LogicalId>> = BTreeMap::new();
    for d in desired.resources.values() {
        if applies(&d.id) {
            for dep in d.deps() {
                applied_dependents
                    .entry(dep)
                    .or_default()
                    .insert(d.id.clone());
            }
        }
    }

    // Which observed resources each observed resource depends on.
    // A physical id several resources share (a role and its trust policy, an EKS cluster and
    // an ECR repository both named after the stack) says nothing about which one is meant:
    // those pairs rely on the desired graph alone.
    // A copy (`id#physical`) is not in the desired graph, which knows only the one kept: what
    // uses a copy is found through its outputs too (the old node group's Auto Scaling group,
    // which its attachments name).
    let mut by_physical: HashMap<&str, Option<&LogicalId>> = HashMap::new();
    for (id, o) in &observed {
        let copied = (original(id) != *id).then_some(&o.outputs);
        let names = copied.into_iter().flat_map(|out| out.values());
        for name in std::iter::once(&o.physical_id).chain(names) {
            by_physical
                .entry(name.as_str())
                .and_modify(|seen| *seen = seen.filter(|seen| *seen == id))
                .or_insert(Some(id));
        }
    }
    let by_physical: HashMap<&str, &LogicalId> = by_physical
        .into_iter()
        .filter_map(|(p, id)| id.map(|id| (p, id)))
        .collect();
    let mut observed_deps: BTreeMap<&LogicalId, BTreeSet<&LogicalId>> = BTreeMap::new();
    for (id, o) in &observed {
        let mut deps = BTreeSet::new();
        references(o, &mut |s| {
            if let Some(other) = by_physical.get(s) {
                if *other != id {
                    deps.insert(*other);
                }
            }
        });
        // A copy (`id#physical`) hangs on what the resource it copies hangs on.
        if let Some(d) = desired.get(&original(id)) {
            for dep in d.deps() {
                if let Some((k, _)) = observed.get_key_value(&dep) {
                    deps.insert(k);
                }
            }
        }
        observed_deps.insert(id, deps);
    }

    let mut graph: BTreeMap<Key, BTreeSet<Key>> = BTreeMap::new();
    for c in changes.iter() {
        if applies(&c.id) {
            let mut after = BTreeSet::new();
            if let Some(d) = desired.get(&c.id) {
                for dep in d.deps() {
                    if applies(&dep) {
                        after.insert(Key(dep, StepKind::Apply));
                    }
                }
            }
            graph.insert(Key(c.id.clone(), StepKind::Apply), after);
        }
        if deletes(&c.id) {
            let mut after = BTreeSet::new();
            for (dependent, deps) in &observed_deps {
                if !deps.contains(&c.id) {
                    continue;
                }
                if deletes(dependent) {
                    after.insert(Key((*dependent).clone(), StepKind::Delete));
                } else if applies(dependent) && c.action == Action::Delete {
                    // The dependent is re-pointed elsewhere first, then this one can go.
                    after.insert(Key((*dependent).clone(), StepKind::Apply));
                }
            }
            graph.insert(Key(c.id.clone(), StepKind::Delete), after);
        }
    }
    hand_over_the_way_out(changes, &mut graph);
    order_replacements(changes, &applied_dependents, &mut graph);
    after_the_keeper(changes, &observed, &applied_dependents, &mut graph);
    let order = topo_sort(&graph)?;
    Ok(order
        .into_iter()
        .map(|k| {
            let after = graph[&k].iter().map(|a| (a.0.clone(), a.1)).collect();
            Step {
                id: k.0,
                kind: k.1,
                after,
            }
        })
        .collect())
}

/// The logical id a step id stands for: a copy's (`id#physical`) is the id it copies.
fn original(id: &LogicalId) -> LogicalId {
    match id.as_str().split_once('#') {
        Some((base, _)) => LogicalId::new(base),
        None => id.clone(),
    }
}

/// A copy of a resource (two claim its id) goes once the one kept, and what the config hangs on
/// it, is applied: the old half of an interrupted replacement keeps serving until its successor
/// does. A broken copy serves nothing, and may hold the name a replacement of the kept one
/// takes: it goes first. Neither holds where the kept one needs the copy gone first (its
/// cluster is replaced, and the copy goes before the old cluster).
fn after_the_keeper(
    changes: &[Change],
    observed: &BTreeMap<LogicalId, &Observed>,
    applied_dependents: &BTreeMap<LogicalId, BTreeSet<LogicalId>>,
    graph: &mut BTreeMap<Key, BTreeSet<Key>>,
) {
    for c in changes.iter().filter(|c| c.action == Action::Delete) {
        let keeper = original(&c.id);
        if keeper == c.id {
            continue;
        }
        let copy = Key(c.id.clone(), StepKind::Delete);
        let kept = Key(keeper.clone(), StepKind::Apply);
        let applied = graph.contains_key(&kept);
        if observed.get(&c.id).is_some_and(|o| o.broken.is_some()) {
            if applied && !reaches(graph, &copy, &kept) {
                graph.entry(kept).or_default().insert(copy);
            }
            continue;
        }
        let dependents = applied_dependents.get(&keeper).into_iter().flatten();
        let waits: Vec<Key> = applied
            .then_some(kept)
            .into_iter()
            .chain(dependents.map(|d| Key(d.clone(), StepKind::Apply)))
            .collect();
        for wait in waits {
            if !reaches(graph, &wait, &copy) {
                graph.entry(copy.clone()).or_default().insert(wait);
            }
        }
    }
}

/// Orders each replacement: the old one first, or (kinds [`Kind::replaced_new_first`]) the new
/// one first, with the old one going once the new one and what the config hangs on it are
/// applied. New-first is not possible when making the new one needs the old one gone (the
/// cluster it belongs to is replaced too): that replacement goes old-first.
fn order_replacements(
    changes: &mut [Change],
    applied_dependents: &BTreeMap<LogicalId, BTreeSet<LogicalId>>,
    graph: &mut BTreeMap<Key, BTreeSet<Key>>,
) {
    // In dependency order, so that a resource's ordering is settled before its dependents'.
    for c in changes.iter_mut().filter(|c| c.action == Action::Replace) {
        let apply = Key(c.id.clone(), StepKind::Apply);
        let delete = Key(c.id.clone(), StepKind::Delete);
        if c.kind.replaced_new_first() && !reaches(graph, &apply, &delete) {
            let mut waits = vec![apply];
            for d in applied_dependents.get(&c.id).into_iter().flatten() {
                waits.push(Key(d.clone(), StepKind::Apply));
            }
            if let Some(after) = graph.get_mut(&delete) {
                after.extend(waits);
            }
            c.new_first = true;
        } else if let Some(after) = graph.get_mut(&apply) {
            after.insert(delete);
        }
    }
}

/// True when step `from` waits, directly or not, for step `to`.
fn reaches(graph: &BTreeMap<Key, BTreeSet<Key>>, from: &Key, to: &Key) -> bool {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from];
    while let Some(k) = todo.pop() {
        if k == to {
            return true;
        }
        if seen.insert(k) {
            todo.extend(graph.get(k).into_iter().flatten());
        }
    }
    false
}

/// The private subnets' way out is either a NAT gateway with its routes or the VPC endpoints
/// (`nat: none`). Nothing references one from the other, so a switch would remove the old way
/// while the new one is still coming up, and nodes could not pull images or reach EC2 for a
/// minute or two: the old way goes only once the new one is applied.
fn hand_over_the_way_out(changes: &[Change], graph: &mut BTreeMap<Key, BTreeSet<Key>>) {
    let nat = |k: Kind| matches!(k, Kind::Route | Kind::NatGateway);
    let endpoint = |k: Kind| k == Kind::VpcEndpoint;
    let applied = |is: &dyn Fn(Kind) -> bool| -> Vec<Key> {
        changes
            .iter()
            .filter(|c| is(c.kind) && c.action != Action::Delete && c.action != Action::NoOp)
            .map(|c| Key(c.id.clone(), StepKind::Apply))
            .collect()
    };
    let (new_endpoints, new_nat) = (applied(&endpoint), applied(&nat));
    for c in changes.iter().filter(|c| c.action == Action::Delete) {
        let waits = if nat(c.kind) {
            &new_endpoints
        } else if endpoint(c.kind) {
            &new_nat
        } else {
            continue;
        };
        if let Some(after) = graph.get_mut(&Key(c.id.clone(), StepKind::Delete)) {
            after.extend(waits.iter().cloned());
        }
    }
}

/// Calls `f` with every string among `o`'s attributes that may name another resource. A
/// resource's own name, description and tags are labels, not references, even when they spell
/// another resource's id (a launch template named like the node group).
pub(super) fn references<'a>(o: &'a Observed, f: &mut impl FnMut(&'a str)) {
    o.attrs
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "name" | "description" | "tags"))
        .for_each(|(_, v)| strings(v, f));
}

fn strings<'a>(v: &'a Json, f: &mut impl FnMut(&'a str)) {
    match v {
        Json::String(s) => f(s),
        Json::Array(items) => items.iter().for_each(|i| strings(i, f)),
        Json::Object(map) => map.values().for_each(|i| strings(i, f)),
        _ => {}
    }
}
