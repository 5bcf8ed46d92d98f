//! Several resources claiming one logical id (a race before runs were locked, a resource copied
//! by hand): which one the plan keeps. The keeper is the one the rest of the stack hangs on,
//! the copy other kept resources reference (the VPC that holds the cluster's subnets), so
//! resolving duplicates never costs a live resource.

use super::steps::references;
use crate::model::{Kind, LogicalId, Observed, Ref};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashSet};

/// A logical id that several resources claim, where infra cannot tell which one to keep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Contest {
    /// The logical id they claim.
    pub id: LogicalId,
    /// Their kind.
    pub kind: Kind,
    /// Their AWS ids.
    pub physical_ids: Vec<String>,
    /// Why the plan cannot choose.
    pub why: String,
}

/// Observed resources sorted out: one per logical id, the copies to delete, and the ids the
/// plan cannot settle.
#[derive(Default)]
pub(super) struct Sorted<'a> {
    /// The resource kept for each logical id.
    pub keep: BTreeMap<LogicalId, &'a Observed>,
    /// Copies to delete, with why.
    pub copies: Vec<(&'a Observed, String)>,
    /// Ids several resources claim where the plan cannot tell which to keep: none is touched.
    pub contests: Vec<Contest>,
}

/// Whether a resource already is what the config describes (no attribute the config gives
/// would force its replacement), with references resolved by the lookup where it can.
pub(super) type Fits<'f> = dyn Fn(&Observed, &dyn Fn(&Ref) -> Option<Json>) -> bool + 'f;

/// Sorts `observed` (owned resources only) into keepers, copies and contests.
pub(super) fn sort<'a>(observed: &'a [Observed], fits: &Fits<'_>) -> Sorted<'a> {
    let mut groups: BTreeMap<&LogicalId, Vec<&Observed>> = BTreeMap::new();
    for o in observed {
        groups.entry(&o.id).or_default().push(o);
    }
    let mut out = Sorted::default();
    let mut open: BTreeMap<&LogicalId, Vec<&Observed>> = BTreeMap::new();
    for (id, group) in groups {
        match group.as_slice() {
            [one] => {
                out.keep.insert(id.clone(), *one);
            }
            _ => {
                open.insert(id, group);
            }
        }
    }
    // Settle ids whose keeper is known from references by what is already kept, until nothing
    // more settles: a copy's dependents are copies too, so they never vote for it.
    loop {
        let mut settled = Vec::new();
        for (id, group) in &open {
            if let Some(v) = verdict(&out, &open, id, group, fits) {
                settled.push(((*id).clone(), v));
            }
        }
        if settled.is_empty() {
            // Only copies wait on copies (no kept resource reaches them): keep the first of each.
            settled = open
                .iter()
                .map(|(id, g)| ((*id).clone(), Ok((g[0], Why::Duplicate))))
                .collect();
        }
        for (id, verdict) in settled {
            let Some(group) = open.remove(&id) else {
                continue;
            };
            settle(&mut out, &id, group, verdict);
        }
        if open.is_empty() {
            return out;
        }
    }
}

/// Why the others are copies of the keeper.
#[derive(Clone, Copy)]
enum Why {
    /// Made twice (a race, a copy by hand).
    Duplicate,
    /// The keeper is the new half of a replacement an earlier run left unfinished.
    Replaced,
}

/// The keeper of `group` (claiming `id`) with why, or why none can be chosen; `None` while it
/// depends on groups still open.
fn verdict<'a>(
    out: &Sorted<'a>,
    open: &BTreeMap<&LogicalId, Vec<&'a Observed>>,
    id: &LogicalId,
    group: &[&'a Observed],
    fits: &Fits<'_>,
) -> Option<Result<(&'a Observed, Why), String>> {
    let kind = group[0].kind;
    // References resolve against what is kept so far (the subnets a node group should be in).
    let kept = |r: &Ref| {
        let o = out.keep.get(&r.id)?.outputs.get(&r.attr)?;
        Some(Json::String(o.clone()))
    };
    let fitting: Vec<&&Observed> = group.iter().filter(|c| fits(c, &kept)).collect();
    // A kind replaced new-first exists twice while a replacement runs: the old copy is still
    // the one the rest of the stack uses, but the config describes the new one.
    if let (true, [new]) = (kind.replaced_new_first(), fitting.as_slice()) {
        return Some(Ok((**new, Why::Replaced)));
    }
    let used: Vec<&&Observed> = group
        .iter()
        .filter(|c| used_by(c, out.keep.values()) > 0)
        .collect();
    match used.as_slice() {
        [keeper] => return Some(Ok((**keeper, Why::Duplicate))),
        [] => {}
        _ => {
            return Some(Err(format!(
                "{} of them are each used by other resources of the stack",
                used.len()
            )))
        }
    }
    let others = || {
        open.iter()
            .filter(move |(other, _)| **other != id)
            .flat_map(|(_, g)| g.iter())
    };
    // What uses a copy says most: wait for it to settle.
    if others().any(|o| group.iter().any(|c| uses(o, c))) {
        return None;
    }
    if let [keeper] = fitting.as_slice() {
        return Some(Ok((**keeper, Why::Duplicate)));
    }
    // Then what a copy uses.
    if group.iter().any(|c| others().any(|o| uses(c, o))) {
        return None;
    }
    // A copy that uses a copy being deleted belongs with it (the old half of a replacement).
    let current: Vec<&&Observed> = group
        .iter()
        .filter(|c| !out.copies.iter().any(|(copy, _)| uses(c, copy)))
        .collect();
    let keeper = match current.as_slice() {
        [keeper] => **keeper,
        _ => group[0],
    };
    Some(Ok((keeper, Why::Duplicate)))
}

/// Records the outcome for `id`: a keeper and its copies, or a contest.
fn settle<'a>(
    out: &mut Sorted<'a>,
    id: &LogicalId,
    group: Vec<&'a Observed>,
    verdict: Result<(&'a Observed, Why), String>,
) {
    let kind = group[0].kind;
    // Deleting a copy that holds state is safe only when it is the old or failed half of a
    // replacement: the config describes only the keeper, or the copy never came up.
    let expendable = |c: &Observed, why: Why| {
        !kind.holds_state()
            || (kind.replaced_new_first() && (c.broken.is_some() || matches!(why, Why::Replaced)))
    };
    let verdict = match verdict {
        Ok((keeper, why))
            if group
                .iter()
                .any(|c| !std::ptr::eq(*c, keeper) && !expendable(c, why)) =>
        {
            Err(format!(
                "a {kind} holds state, and infra never deletes one to resolve duplicates"
            ))
        }
        v => v,
    };
    match verdict {
        Ok((keeper, why)) => {
            out.keep.insert(id.clone(), keeper);
            for copy in group.into_iter().filter(|c| !std::ptr::eq(*c, keeper)) {
                let what = match (&copy.broken, why) {
                    (Some(broken), _) => format!("{broken}; {id} is {}", keeper.physical_id),
                    (None, Why::Replaced) => format!(
                        "replaced by {id} {}, which an earlier run made; goes once that one \
                         serves",
                        keeper.physical_id
                    ),
                    (None, Why::Duplicate) => format!(
                        "duplicate of {id} {}, which is the one the stack uses",
                        keeper.physical_id
                    ),
                };
                out.copies.push((copy, what));
            }
        }
        Err(why) => out.contests.push(Contest {
            id: id.clone(),
            kind,
            physical_ids: group.iter().map(|o| o.physical_id.clone()).collect(),
            why,
        }),
    }
}

/// How many of `kept` reference `candidate`.
fn used_by<'a>(candidate: &Observed, kept: impl Iterator<Item = &'a &'a Observed>) -> usize {
    kept.filter(|k| !std::ptr::eq(**k, candidate) && uses(k, candidate))
        .count()
}

/// True when one of `o`'s attributes holds one of `target`'s ids or outputs.
fn uses(o: &Observed, target: &Observed) -> bool {
    let names: HashSet<&str> = std::iter::once(target.physical_id.as_str())
        .chain(target.outputs.values().map(String::as_str))
        .collect();
    let mut found = false;
    references(o, &mut |s| found |= names.contains(s));
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn res(id: &str, kind: Kind, physical: &str, attrs: serde_json::Value) -> Observed {
        let mut o = Observed::new(LogicalId::new(id), kind, physical);
        if let serde_json::Value::Object(m) = attrs {
            o.attrs = m.into_iter().collect();
        }
        o
    }

    #[test]
    fn the_copy_the_cluster_hangs_on_is_kept_through_its_subnets() {
        let observed = vec![
            res("vpc", Kind::Vpc, "vpc-a", json!({})),
            res("vpc", Kind::Vpc, "vpc-b", json!({})),
            res(
                "subnet/public/a",
                Kind::Subnet,
                "subnet-b",
                json!({"vpc_id": "vpc-b"}),
            ),
            res(
                "subnet/public/a",
                Kind::Subnet,
                "subnet-a",
                json!({"vpc_id": "vpc-a"}),
            ),
            res(
                "eks/cluster",
                Kind::EksCluster,
                "c",
                json!({"subnet_ids": ["subnet-a"]}),
            ),
        ];
        let s = sort(&observed, &|_, _| true);
        assert!(s.contests.is_empty());
        assert_eq!(s.keep[&LogicalId::new("vpc")].physical_id, "vpc-a");
        assert_eq!(
            s.keep[&LogicalId::new("subnet/public/a")].physical_id,
            "subnet-a"
        );
        let mut copies: Vec<&str> = s
            .copies
            .iter()
            .map(|(o, _)| o.physical_id.as_str())
            .collect();
        copies.sort();
        assert_eq!(copies, ["subnet-b", "vpc-b"]);
    }

    #[test]
    fn two_copies_each_in_use_are_a_contest_and_nothing_is_deleted() {
        let observed = vec![
            res("sg/nodes", Kind::SecurityGroup, "sg-1", json!({})),
            res("sg/nodes", Kind::SecurityGroup, "sg-2", json!({})),
            res(
                "lt/nodes",
                Kind::LaunchTemplate,
                "lt",
                json!({"security_group_ids": ["sg-1"]}),
            ),
            res(
                "sg/alb",
                Kind::SecurityGroup,
                "sg-3",
                json!({"ingress": [{"source": "sg-2"}]}),
            ),
        ];
        let s = sort(&observed, &|_, _| true);
        assert!(s.copies.is_empty());
        assert_eq!(s.contests.len(), 1);
        assert_eq!(s.contests[0].physical_ids, ["sg-1", "sg-2"]);
    }

    #[test]
    fn copies_nothing_uses_keep_the_first_and_stateful_kinds_are_never_resolved() {
        let observed = vec![
            res("igw", Kind::InternetGateway, "igw-1", json!({})),
            res("igw", Kind::InternetGateway, "igw-2", json!({})),
            res("alb", Kind::LoadBalancer, "arn-1", json!({})),
            res("alb", Kind::LoadBalancer, "arn-2", json!({})),
        ];
        let s = sort(&observed, &|_, _| true);
        assert_eq!(s.keep[&LogicalId::new("igw")].physical_id, "igw-1");
        assert_eq!(s.copies.len(), 1);
        assert_eq!(s.contests.len(), 1);
        assert_eq!(s.contests[0].id.as_str(), "alb");
    }
}
