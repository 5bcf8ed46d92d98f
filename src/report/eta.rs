//! How long a run has left: the critical path of the steps not finished yet, each step weighted
//! by how long AWS typically takes for it (`durations.toml`, the figures the emulator and the
//! bench use), corrected by how fast the long steps that finished went compared with those
//! figures. A bar that counts steps sits at 37/44 while the cluster, most of the time, is still
//! ahead; this does not.

use crate::model::{Kind, LogicalId};
use crate::plan::{Action, Plan, StepKind};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The figures, in seconds, by name (`eks_cluster_create`).
const TABLE: &str = include_str!("durations.toml");
/// A step AWS answers at once: one or two API calls.
const QUICK: f64 = 1.0;
/// Steps expected to take at least this long correct the figures once they finish; quick ones
/// are mostly network round trips and say nothing about AWS's pace.
const LONG: f64 = 10.0;

type Key = (LogicalId, StepKind);

/// The estimate for one run of a plan.
pub struct Eta {
    /// Steps in order, with their expected seconds and prerequisites.
    steps: Vec<(Key, f64, Vec<Key>)>,
    started: HashMap<Key, Instant>,
    done: HashMap<Key, f64>,
    /// Sums over finished long steps: how long they took, and how long they were expected to.
    took: f64,
    expected: f64,
}

impl Eta {
    /// The estimate for `plan`, nothing started yet.
    pub fn new(plan: &Plan) -> Self {
        let figures = parse(TABLE);
        let change = |id: &LogicalId| plan.changes.iter().find(|c| &c.id == id);
        let steps = plan
            .steps
            .iter()
            .map(|s| {
                let secs = change(&s.id)
                    .map(|c| expected(&figures, c.kind, s.kind, c.action))
                    .unwrap_or(QUICK);
                let after = s.after.iter().cloned().collect();
                ((s.id.clone(), s.kind), secs, after)
            })
            .collect();
        Eta {
            steps,
            started: HashMap::new(),
            done: HashMap::new(),
            took: 0.0,
            expected: 0.0,
        }
    }

    /// Step `key` began now.
    pub fn started(&mut self, key: &Key) {
        self.started.insert(key.clone(), Instant::now());
    }

    /// Step `key` ended now (done or failed: either way it takes no more time).
    pub fn finished(&mut self, key: &Key) {
        let took = self
            .started
            .get(key)
            .map(|t| t.elapsed().as_secs_f64())
            .unwrap_or_default();
        if let Some((_, secs, _)) = self.steps.iter().find(|(k, _, _)| k == key) {
            if *secs >= LONG {
                self.took += took;
                self.expected += secs;
            }
        }
        self.done.insert(key.clone(), took);
    }

    /// How long the rest takes, if every step runs as soon as what it waits for is done.
    pub fn remaining(&self) -> Duration {
        // Until a long step has finished, AWS's figures stand as they are.
        let pace = if self.expected > 0.0 {
            self.took / self.expected
        } else {
            1.0
        };
        let mut ends: HashMap<&Key, f64> = HashMap::new();
        let mut last: f64 = 0.0;
        // Steps are in dependency order, so each one's prerequisites are already placed.
        for (key, secs, after) in &self.steps {
            let end = if self.done.contains_key(key) {
                0.0
            } else {
                let ready = after
                    .iter()
                    .filter_map(|a| ends.get(a))
                    .fold(0.0_f64, |a, b| a.max(*b));
                let spent = self
                    .started
                    .get(key)
                    .map(|t| t.elapsed().as_secs_f64())
                    .unwrap_or_default();
                ready + (secs * pace - spent).max(0.0)
            };
            last = last.max(end);
            ends.insert(key, end);
        }
        Duration::from_secs_f64(last)
    }
}

/// Seconds AWS typically takes to carry out `step` of a `kind` resource.
fn expected(figures: &HashMap<&str, f64>, kind: Kind, step: StepKind, action: Action) -> f64 {
    let name = match (kind, step, action) {
        (Kind::NatGateway, StepKind::Apply, _) => "nat_gateway_create",
        (Kind::NatGateway, StepKind::Delete, _) => "nat_gateway_delete",
        // Gateway endpoints are quicker, but they run beside the interface ones.
        (Kind::VpcEndpoint, StepKind::Apply, Action::Create | Action::Replace) => {
            "vpc_endpoint_create"
        }
        (Kind::VpcEndpoint, StepKind::Delete, _) => "vpc_endpoint_delete",
        (Kind::EksCluster, StepKind::Apply, Action::Update) => "eks_cluster_config_update",
        (Kind::EksCluster, StepKind::Apply, _) => "eks_cluster_create",
        (Kind::EksCluster, StepKind::Delete, _) => "eks_cluster_delete",
        (Kind::EksNodeGroup, StepKind::Apply, Action::Update) => "eks_nodegroup_config_update",
        (Kind::EksNodeGroup, StepKind::Apply, _) => "eks_nodegroup_create",
        (Kind::EksNodeGroup, StepKind::Delete, _) => "eks_nodegroup_delete",
        (Kind::LoadBalancer, StepKind::Apply, Action::Create | Action::Replace) => "alb_provision",
        (Kind::K8sNamespace, StepKind::Delete, _) => "k8s_namespace_delete",
        (Kind::TargetGroupAttachment, StepKind::Apply, Action::Create | Action::Replace) => {
            "asg_traffic_source_register"
        }
        _ => return QUICK,
    };
    figures.get(name).copied().unwrap_or(QUICK)
}

/// `name = seconds` lines; comments and blank lines skipped.
fn parse(text: &str) -> HashMap<&str, f64> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or_default())
        .filter_map(|l| {
            let (name, value) = l.split_once('=')?;
            Some((name.trim(), value.trim().parse().ok()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{parse as parse_config, DEFAULT_YAML};
    use crate::kinds;

    fn fresh_plan() -> Plan {
        let g = crate::stack::build(&parse_config(DEFAULT_YAML).unwrap(), "123456789012");
        crate::plan::diff("grpc-eks", &g, &[], &kinds::attr_rule).unwrap()
    }

    #[test]
    fn the_table_has_every_figure_the_estimate_names() {
        let figures = parse(TABLE);
        for name in [
            "nat_gateway_create",
            "vpc_endpoint_create",
            "vpc_endpoint_delete",
            "eks_cluster_create",
            "eks_nodegroup_create",
            "alb_provision",
            "eks_cluster_delete",
        ] {
            assert!(figures.get(name).is_some_and(|s| *s > 0.0), "{name}");
        }
    }

    #[test]
    fn a_fresh_stack_is_as_long_as_its_critical_path() {
        let eta = Eta::new(&fresh_plan());
        let figures = parse(TABLE);
        // The cluster, then its node group (the NAT gateway and the ALB run beside them).
        let path = figures["eks_cluster_create"] + figures["eks_nodegroup_create"];
        let left = eta.remaining().as_secs_f64();
        assert!(left >= path && left < path + 30.0, "{left} vs {path}");
    }

    #[test]
    fn finished_long_steps_set_the_pace() {
        let plan = fresh_plan();
        let mut eta = Eta::new(&plan);
        let nat = (LogicalId::new("nat/a"), StepKind::Apply);
        eta.started(&nat);
        // It finished at once: AWS (an emulator here) runs far faster than the figures.
        eta.finished(&nat);
        assert!(
            eta.remaining() < Duration::from_secs(5),
            "{:?}",
            eta.remaining()
        );
    }
}
