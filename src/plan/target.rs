//! `--target`: a plan narrowed to some resources and the steps they wait for (for apply, what
//! they need; for destroy, what needs them), as Terraform's `-target` does.

use super::{Plan, StepKind};
use crate::model::LogicalId;
use std::collections::BTreeSet;

/// Why a plan cannot be narrowed.
#[derive(Debug, thiserror::Error)]
#[error(
    "--target {0}: no such resource in this plan (`infra list` shows the stack's ids; a \
     resource with nothing to do is not in the plan)"
)]
pub struct UnknownTarget(pub String);

impl Plan {
    /// Keeps only the steps of `targets` and every step they wait for, and their changes.
    pub fn narrow(&mut self, targets: &[LogicalId]) -> Result<(), UnknownTarget> {
        if targets.is_empty() {
            return Ok(());
        }
        let mut keep: BTreeSet<(LogicalId, StepKind)> = BTreeSet::new();
        let mut todo: Vec<(LogicalId, StepKind)> = Vec::new();
        for t in targets {
            let mine: Vec<_> = self.steps.iter().filter(|s| &s.id == t).collect();
            if mine.is_empty() && !self.changes.iter().any(|c| &c.id == t) {
                return Err(UnknownTarget(t.to_string()));
            }
            todo.extend(mine.iter().map(|s| (s.id.clone(), s.kind)));
        }
        while let Some(key) = todo.pop() {
            if !keep.insert(key.clone()) {
                continue;
            }
            if let Some(step) = self
                .steps
                .iter()
                .find(|s| (&s.id, s.kind) == (&key.0, key.1))
            {
                todo.extend(step.after.iter().cloned());
            }
        }
        self.steps
            .retain(|s| keep.contains(&(s.id.clone(), s.kind)));
        let ids: BTreeSet<&LogicalId> = keep.iter().map(|(id, _)| id).collect();
        // Unchanged resources stay: their outputs are what the kept steps refer to.
        self.changes
            .retain(|c| ids.contains(&c.id) || c.action == super::Action::NoOp);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{parse, DEFAULT_YAML};
    use crate::kinds;
    use crate::model::LogicalId;
    use crate::plan::{destroy, diff, Action};
    use crate::stack;

    fn ids(p: &crate::plan::Plan) -> Vec<String> {
        let mut v: Vec<String> = p
            .changes
            .iter()
            .filter(|c| c.action != Action::NoOp)
            .map(|c| c.id.to_string())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn apply_keeps_the_target_and_what_it_needs() {
        let g = stack::build(&parse(DEFAULT_YAML).unwrap(), "123456789012");
        let mut p = diff("grpc-eks", &g, &[], &kinds::attr_rule).unwrap();
        p.narrow(&[LogicalId::new("subnet/public/a")]).unwrap();
        assert_eq!(ids(&p), ["subnet/public/a", "vpc"]);
        assert_eq!(p.steps.len(), 2);
        let mut q = diff("grpc-eks", &g, &[], &kinds::attr_rule).unwrap();
        let e = q.narrow(&[LogicalId::new("subnet/public/z")]).unwrap_err();
        assert!(e.to_string().contains("subnet/public/z"));
    }

    #[test]
    fn destroy_keeps_the_target_and_what_needs_it() {
        let g = stack::build(&parse(DEFAULT_YAML).unwrap(), "123456789012");
        let observed: Vec<crate::model::Observed> = g
            .resources
            .keys()
            .filter(|id| id.as_str().starts_with("subnet/") || id.as_str() == "vpc")
            .map(|id| {
                crate::model::Observed::new(id.clone(), g.resources[id].kind, format!("p-{id}"))
            })
            .collect();
        let mut p = destroy("grpc-eks", &g, &observed, &[]).unwrap();
        p.narrow(&[LogicalId::new("subnet/public/a")]).unwrap();
        assert_eq!(ids(&p), ["subnet/public/a"]);
    }
}
