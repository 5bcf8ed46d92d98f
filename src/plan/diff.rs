//! Desired graph versus observed state, into a plan. Pure: no I/O.

use super::{steps, Action, AttrChange, Change, Conflict, Plan};
use crate::graph::{Graph, GraphError};
use crate::model::{canonical, AttrRule, Kind, LogicalId, Observed, Ref, VERSION_OUTPUT};
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Plans the changes that make `observed` match `desired`. `rule` says how a change to each
/// attribute of a kind is carried out (in place, by replacement, or not at all).
pub fn diff(
    stack: &str,
    desired: &Graph,
    observed: &[Observed],
    rule: &dyn Fn(Kind, &str) -> AttrRule,
) -> Result<Plan, GraphError> {
    let order = desired.topo_order()?;
    let (unowned, observed): (Vec<Observed>, Vec<Observed>) =
        observed.iter().cloned().partition(|o| o.unowned);
    let observed = observed.as_slice();
    let conflicts: Vec<Conflict> = unowned
        .into_iter()
        .filter(|o| desired.get(&o.id).is_some())
        .map(|o| Conflict {
            id: o.id,
            kind: o.kind,
            physical_id: o.physical_id,
        })
        .collect();
    let (by_id, extra) = index(observed);
    let mut actions: HashMap<LogicalId, Action> = HashMap::new();
    // Resources updated by a new version: their version output is known only after apply.
    let mut new_version: HashSet<LogicalId> = HashSet::new();
    let mut changes = Vec::new();

    for id in &order {
        if conflicts.iter().any(|c| &c.id == id) {
            continue;
        }
        let want = &desired.resources[id];
        let have = by_id.get(id).copied().filter(|o| o.kind == want.kind);
        let lookup = |r: &Ref| -> Option<Json> {
            match actions.get(&r.id) {
                Some(Action::Create | Action::Replace) | None => None,
                Some(Action::Update) if r.attr == VERSION_OUTPUT && new_version.contains(&r.id) => {
                    None
                }
                Some(_) => by_id
                    .get(&r.id)
                    .and_then(|o| o.outputs.get(&r.attr))
                    .map(|s| Json::String(s.clone())),
            }
        };
        let mut attrs = Vec::new();
        for (name, value) in &want.attrs {
            let rule = rule(want.kind, name);
            if have.is_some() && rule == AttrRule::CreateOnly {
                continue;
            }
            let new = value.resolve(&lookup);
            let old = have.and_then(|o| o.attrs.get(name)).cloned();
            let same = matches!((&new, &old), (Some(n), Some(o)) if canonical(n) == canonical(o));
            if have.is_none() || !same {
                attrs.push(AttrChange {
                    name: name.clone(),
                    old,
                    new,
                    forces_replacement: have.is_some() && rule == AttrRule::ForceNew,
                });
            }
        }
        let (action, reason) = match have {
            None if by_id.contains_key(id) => (
                Action::Create,
                Some("an existing resource with this id has another kind".to_string()),
            ),
            None => (Action::Create, None),
            Some(o) if o.broken.is_some() => (Action::Replace, o.broken.clone()),
            Some(_) if attrs.iter().any(|a| a.forces_replacement) => (Action::Replace, None),
            Some(o) if !attrs.is_empty() || o.pending.is_some() => {
                (Action::Update, o.pending.clone())
            }
            Some(_) => (Action::NoOp, None),
        };
        if action == Action::Update
            && attrs
                .iter()
                .any(|a| rule(want.kind, &a.name) == AttrRule::NewVersion)
        {
            new_version.insert(id.clone());
        }
        actions.insert(id.clone(), action);
        changes.push(Change {
            id: id.clone(),
            kind: want.kind,
            area: want.kind.area(),
            action,
            physical_id: have.map(|o| o.physical_id.clone()),
            attrs,
            reason,
        });
    }

    let mut leftovers: Vec<(&Observed, String)> = by_id
        .iter()
        .filter(|(id, o)| desired.get(id).is_none_or(|d| d.kind != o.kind))
        .map(|(_, o)| (*o, "no longer in the config".to_string()))
        .collect();
    leftovers.extend(extra.into_iter().map(|o| {
        (
            o,
            format!("duplicate of {} (left by an interrupted run)", o.id),
        )
    }));
    let mut delete_ids = Vec::new();
    for (o, reason) in leftovers {
        let id = if changes.iter().any(|c: &Change| c.id == o.id) {
            LogicalId::new(format!("{}#{}", o.id, o.physical_id))
        } else {
            o.id.clone()
        };
        delete_ids.push((id.clone(), o));
        changes.push(deletion(id, o, Some(reason)));
    }

    let steps = steps::build(&changes, desired, observed_by_step_id(&by_id, &delete_ids))?;
    Ok(Plan {
        stack: stack.to_string(),
        changes,
        conflicts,
        steps,
    })
}

/// The change that deletes `o`, planned under step id `id`.
fn deletion(id: LogicalId, o: &Observed, reason: Option<String>) -> Change {
    Change {
        id,
        kind: o.kind,
        area: o.kind.area(),
        action: Action::Delete,
        physical_id: Some(o.physical_id.clone()),
        attrs: Vec::new(),
        reason,
    }
}

/// Plans the deletion of everything observed. `desired` only contributes ordering edges that
/// attributes do not show (NAT gateways before the internet gateway's detachment).
pub fn destroy(stack: &str, desired: &Graph, observed: &[Observed]) -> Result<Plan, GraphError> {
    let mut changes = Vec::new();
    let mut ids = Vec::new();
    let mut seen: HashMap<&LogicalId, usize> = HashMap::new();
    // Only what carries the stack's tag is ever deleted.
    for o in observed.iter().filter(|o| !o.unowned) {
        let n = seen.entry(&o.id).or_default();
        let id = if *n == 0 {
            o.id.clone()
        } else {
            LogicalId::new(format!("{}#{}", o.id, o.physical_id))
        };
        *n += 1;
        ids.push((id.clone(), o));
        changes.push(deletion(id, o, None));
    }
    let by_step: BTreeMap<LogicalId, &Observed> = ids.into_iter().collect();
    let steps = steps::build(&changes, desired, by_step)?;
    Ok(Plan {
        stack: stack.to_string(),
        changes,
        conflicts: Vec::new(),
        steps,
    })
}

/// Observed resources by logical id; later ones with an id already seen are returned apart.
fn index(observed: &[Observed]) -> (BTreeMap<LogicalId, &Observed>, Vec<&Observed>) {
    let mut by_id = BTreeMap::new();
    let mut extra = Vec::new();
    for o in observed {
        if by_id.contains_key(&o.id) {
            extra.push(o);
        } else {
            by_id.insert(o.id.clone(), o);
        }
    }
    (by_id, extra)
}

fn observed_by_step_id<'a>(
    by_id: &BTreeMap<LogicalId, &'a Observed>,
    deletes: &[(LogicalId, &'a Observed)],
) -> BTreeMap<LogicalId, &'a Observed> {
    let mut out: BTreeMap<LogicalId, &Observed> =
        by_id.iter().map(|(k, v)| (k.clone(), *v)).collect();
    for (id, o) in deletes {
        out.insert(id.clone(), *o);
    }
    out
}
