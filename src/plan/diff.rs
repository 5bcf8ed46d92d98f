//! Desired graph versus observed state, into a plan. Pure: no I/O.

use super::{duplicates, steps, Action, AttrChange, Change, Plan, Untouched};
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
    let Split {
        conflicts,
        strays,
        owned,
    } = split(observed);
    let conflicts: Vec<Untouched> = conflicts
        .into_iter()
        .filter(|c| desired.get(&c.id).is_some())
        .collect();
    let fits =
        |o: &Observed, lookup: &dyn Fn(&Ref) -> Option<Json>| fits_config(desired, o, rule, lookup);
    let sorted = duplicates::sort(&owned, &fits);
    let by_id = &sorted.keep;
    let contested = |id: &LogicalId| sorted.contests.iter().any(|c| &c.id == id);
    let mut actions: HashMap<LogicalId, Action> = HashMap::new();
    // Resources updated by a new version: their version output is known only after apply.
    let mut new_version: HashSet<LogicalId> = HashSet::new();
    let mut changes = Vec::new();

    for id in &order {
        if conflicts.iter().any(|c| &c.id == id) || contested(id) {
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
            new_first: false,
        });
    }

    let mut leftovers: Vec<(&Observed, String)> = by_id
        .iter()
        .filter(|(id, o)| desired.get(id).is_none_or(|d| d.kind != o.kind))
        .map(|(_, o)| (*o, "no longer in the config".to_string()))
        .collect();
    leftovers.extend(sorted.copies.iter().map(|(o, why)| (*o, why.clone())));
    let mut delete_ids = Vec::new();
    for (o, reason) in leftovers {
        let id = if changes.iter().any(|c: &Change| c.id == o.id)
            || by_id[&o.id].physical_id != o.physical_id
        {
            LogicalId::new(format!("{}#{}", o.id, o.physical_id))
        } else {
            o.id.clone()
        };
        delete_ids.push((id.clone(), o));
        changes.push(deletion(id, o, Some(reason)));
    }

    let steps = steps::build(
        &mut changes,
        desired,
        observed_by_step_id(by_id, &delete_ids),
    )?;
    Ok(Plan {
        stack: stack.to_string(),
        changes,
        conflicts,
        strays,
        contests: sorted.contests,
        steps,
    })
}

/// True when `o` already is what the config describes: no attribute that would force a
/// replacement differs (those whose references `lookup` cannot resolve are left out), and it is
/// not broken.
fn fits_config(
    desired: &Graph,
    o: &Observed,
    rule: &dyn Fn(Kind, &str) -> AttrRule,
    lookup: &dyn Fn(&Ref) -> Option<Json>,
) -> bool {
    let Some(want) = desired.get(&o.id).filter(|d| d.kind == o.kind) else {
        return false;
    };
    o.broken.is_none()
        && want.attrs.iter().all(|(name, value)| {
            match (rule(o.kind, name), value.resolve(&lookup)) {
                (AttrRule::ForceNew, Some(v)) => o
                    .attrs
                    .get(name)
                    .is_some_and(|have| canonical(have) == canonical(&v)),
                _ => true,
            }
        })
}

/// What was observed, by how the plan treats it.
struct Split {
    /// Under the stack's names without its tag: someone else's.
    conflicts: Vec<Untouched>,
    /// With the stack's tag but an id infra never makes: someone else's too.
    strays: Vec<Untouched>,
    /// The stack's own.
    owned: Vec<Observed>,
}

fn split(observed: &[Observed]) -> Split {
    let untouched = |o: &Observed| Untouched {
        id: o.id.clone(),
        kind: o.kind,
        physical_id: o.physical_id.clone(),
    };
    Split {
        conflicts: observed
            .iter()
            .filter(|o| o.unowned)
            .map(untouched)
            .collect(),
        strays: observed
            .iter()
            .filter(|o| o.stray && !o.unowned)
            .map(untouched)
            .collect(),
        owned: observed
            .iter()
            .filter(|o| !o.unowned && !o.stray)
            .cloned()
            .collect(),
    }
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
        new_first: false,
    }
}

/// Plans the deletion of everything observed. `desired` only contributes ordering edges that
/// attributes do not show (NAT gateways before the internet gateway's detachment).
/// `left` is what the cluster's workloads left in the stack's network, each with what it is:
/// deleted too, before what holds it.
pub fn destroy(
    stack: &str,
    desired: &Graph,
    observed: &[Observed],
    left: &[(Observed, String)],
) -> Result<Plan, GraphError> {
    let mut changes = Vec::new();
    let mut ids = Vec::new();
    let mut seen: HashMap<&LogicalId, usize> = HashMap::new();
    let Split { strays, owned, .. } = split(observed);
    // Only what carries the stack's tag and an id infra makes is ever deleted.
    for o in &owned {
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
    for (o, what) in left {
        ids.push((o.id.clone(), o));
        changes.push(deletion(o.id.clone(), o, Some(what.clone())));
    }
    let by_step: BTreeMap<LogicalId, &Observed> = ids.into_iter().collect();
    let steps = steps::build(&mut changes, desired, by_step)?;
    Ok(Plan {
        stack: stack.to_string(),
        changes,
        conflicts: Vec::new(),
        strays,
        contests: Vec::new(),
        steps,
    })
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
