use super::*;
use crate::config::{parse, NatMode, DEFAULT_YAML};
use crate::graph::Graph;
use crate::kinds;
use crate::model::{Kind, Observed, Ref};
use crate::stack;
use serde_json::json;
use StepKind::{Apply, Delete};

fn desired(nat: NatMode) -> Graph {
    let mut c = parse(DEFAULT_YAML).unwrap();
    c.network.nat = nat;
    stack::build(&c, "123456789012")
}

fn physical(id: &LogicalId) -> String {
    format!("p-{}", id.as_str().replace('/', "-"))
}

/// The observed state right after a perfect apply of `g`.
pub(crate) fn applied(g: &Graph) -> Vec<Observed> {
    // Every output anything refers to is the target's physical id, which keeps this simple.
    let lookup = |r: &Ref| Some(json!(physical(&r.id)));
    let mut referenced: Vec<Ref> = Vec::new();
    for d in g.resources.values() {
        for v in d.attrs.values() {
            v.visit_refs(&mut |r| referenced.push(r.clone()));
        }
    }
    g.resources
        .values()
        .map(|d| {
            let mut o = Observed::new(d.id.clone(), d.kind, physical(&d.id));
            for (k, v) in &d.attrs {
                o.attrs.insert(k.clone(), v.resolve(&lookup).unwrap());
            }
            for r in referenced.iter().filter(|r| r.id == d.id) {
                o.outputs.insert(r.attr.clone(), physical(&d.id));
            }
            o
        })
        .collect()
}

fn plan(g: &Graph, observed: &[Observed]) -> Plan {
    diff("grpc-eks", g, observed, &kinds::attr_rule).unwrap()
}

fn action(p: &Plan, id: &str) -> Action {
    p.changes
        .iter()
        .find(|c| c.id.as_str() == id)
        .unwrap_or_else(|| panic!("{id} not in plan"))
        .action
}

fn find<'a>(obs: &'a mut [Observed], id: &str) -> &'a mut Observed {
    obs.iter_mut().find(|o| o.id.as_str() == id).unwrap()
}

fn step_pos(p: &Plan, id: &str, kind: StepKind) -> usize {
    p.steps
        .iter()
        .position(|s| s.id.as_str() == id && s.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} step for {id}"))
}

/// Asserts that `steps` (each an id and what is done to it) come in this order.
fn in_order(p: &Plan, steps: &[(&str, StepKind)]) {
    for pair in steps.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let (first, then) = (step_pos(p, a.0, a.1), step_pos(p, b.0, b.1));
        assert!(first < then, "{a:?} should come before {b:?}");
    }
}

#[test]
fn empty_account_creates_everything_with_ids_known_after_apply() {
    let g = desired(NatMode::Single);
    let p = plan(&g, &[]);
    assert_eq!(p.counts().create, g.resources.len());
    let subnet = p
        .changes
        .iter()
        .find(|c| c.id.as_str() == "subnet/public/a")
        .unwrap();
    let vpc_id = subnet.attrs.iter().find(|a| a.name == "vpc_id").unwrap();
    assert_eq!(vpc_id.new, None, "vpc id is known only after apply");
    let cidr = subnet
        .attrs
        .iter()
        .find(|a| a.name == "cidr_block")
        .unwrap();
    assert_eq!(cidr.new, Some(json!("10.0.0.0/24")));
    assert!(render_human(&p).contains("(known after apply)"));
    assert!(render_human(&p).contains(&format!(
        "Plan: {} to add, 0 to change, 0 to destroy.",
        g.resources.len()
    )));
}

#[test]
fn applied_stack_plans_no_changes() {
    let g = desired(NatMode::PerAz);
    let p = plan(&g, &applied(&g));
    assert!(p.is_empty(), "{}", render_human(&p));
    assert!(p.steps.is_empty());
}

#[test]
fn list_order_from_aws_is_not_a_change() {
    let g = desired(NatMode::Single);
    let mut obs = applied(&g);
    let sg = find(&mut obs, "sg/alb");
    let rule = sg.attrs["ingress"][0].clone();
    sg.attrs.insert(
        "ingress".into(),
        json!([{"cidr": "10.9.0.0/16", "protocol": "tcp", "from_port": 1, "to_port": 1}, rule]),
    );
    let p = plan(&g, &obs);
    assert_eq!(
        action(&p, "sg/alb"),
        Action::Update,
        "extra rule is revoked in place"
    );
    let mut obs = applied(&g);
    let rules = find(&mut obs, "sg/nodes").attrs["ingress"].clone();
    find(&mut obs, "sg/nodes").attrs.insert(
        "ingress".into(),
        json!(rules.as_array().unwrap().iter().rev().collect::<Vec<_>>()),
    );
    assert!(plan(&g, &obs).is_empty());
}

#[test]
fn tag_change_is_one_in_place_update() {
    let g = desired(NatMode::Single);
    let mut obs = applied(&g);
    let tags = find(&mut obs, "subnet/public/b")
        .attrs
        .get_mut("tags")
        .unwrap();
    tags["project"] = json!("old");
    let p = plan(&g, &obs);
    assert_eq!(action(&p, "subnet/public/b"), Action::Update);
    let text = render_human(&p);
    assert!(text.contains("tags.project"), "{text}");
    assert!(text.contains("\"old\" -> \"grpc-eks\""), "{text}");
    assert!(
        text.contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{text}"
    );
}

#[test]
fn cidr_change_replaces_the_subnet_and_what_is_bound_to_it() {
    let mut c = parse(DEFAULT_YAML).unwrap();
    c.network.zones[0].private_app = "10.0.8.0/24".into();
    let g = stack::build(&c, "123456789012");
    let obs = applied(&desired(NatMode::Single));
    let p = plan(&g, &obs);
    assert_eq!(action(&p, "subnet/private-app/a"), Action::Replace);
    assert_eq!(
        action(&p, "rta/private-app/a"),
        Action::Replace,
        "association is bound to the subnet id"
    );
    assert_eq!(action(&p, "subnet/private-app/b"), Action::NoOp);
    let text = render_human(&p);
    assert!(text.contains("-/+ subnet/private-app/a"), "{text}");
    assert!(text.contains("# forces replacement"), "{text}");
    // Old association goes before the old subnet, the new subnet before the new association.
    let app_a = "subnet/private-app/a";
    let rta = "rta/private-app/a";
    in_order(
        &p,
        &[(rta, Delete), (app_a, Delete), (app_a, Apply), (rta, Apply)],
    );
}

#[test]
fn resource_deleted_by_hand_is_created_again() {
    let g = desired(NatMode::Single);
    let obs: Vec<Observed> = applied(&g)
        .into_iter()
        .filter(|o| {
            o.id.as_str() != "subnet/private-data/b" && o.id.as_str() != "rta/private-data/b"
        })
        .collect();
    let p = plan(&g, &obs);
    let Counts {
        create,
        update,
        replace,
        delete,
    } = p.counts();
    assert_eq!((create, update, replace, delete), (2, 0, 0, 0));
    let rta = p
        .changes
        .iter()
        .find(|c| c.id.as_str() == "rta/private-data/b")
        .unwrap();
    let rt = rta
        .attrs
        .iter()
        .find(|a| a.name == "route_table_id")
        .unwrap();
    assert_eq!(
        rt.new,
        Some(json!("p-rt-private")),
        "unchanged route table id is known at plan time"
    );
}

#[test]
fn switching_to_per_az_nat_adds_and_removes_in_a_safe_order() {
    let old = desired(NatMode::Single);
    let new = desired(NatMode::PerAz);
    let p = plan(&new, &applied(&old));
    assert_eq!(action(&p, "nat/b"), Action::Create);
    assert_eq!(action(&p, "rt/private"), Action::Delete);
    assert_eq!(action(&p, "rt/private/a"), Action::Create);
    assert_eq!(
        action(&p, "rta/private-app/a"),
        Action::Update,
        "associations move atomically"
    );
    // The old table goes only once no subnet is associated with it.
    in_order(&p, &[("rta/private-app/b", Apply), ("rt/private", Delete)]);
    in_order(&p, &[("route/private", Delete), ("rt/private", Delete)]);
}

#[test]
fn switching_between_nat_and_endpoints_keeps_a_way_out_throughout() {
    let with_nat = desired(NatMode::Single);
    let with_endpoints = desired(NatMode::None);
    let p = plan(&with_endpoints, &applied(&with_nat));
    assert_eq!(action(&p, "vpce/ecr.dkr"), Action::Create);
    assert_eq!(action(&p, "route/private"), Action::Delete);
    in_order(&p, &[("vpce/ecr.dkr", Apply), ("route/private", Delete)]);
    in_order(&p, &[("vpce/s3", Apply), ("nat/a", Delete)]);

    let p = plan(&with_nat, &applied(&with_endpoints));
    assert_eq!(action(&p, "vpce/ecr.dkr"), Action::Delete);
    in_order(&p, &[("route/private", Apply), ("vpce/ecr.dkr", Delete)]);
    in_order(&p, &[("nat/a", Apply), ("vpce/sts", Delete)]);
}

#[test]
fn resources_no_longer_wanted_and_duplicates_are_deleted() {
    let g = desired(NatMode::Single);
    let mut obs = applied(&desired(NatMode::PerAz));
    // The copy sorts first, so only references can make the original the keeper.
    obs.push(copy(&obs, "vpc", "p-vpc-0"));
    let p = plan(&g, &obs);
    assert_eq!(action(&p, "nat/b"), Action::Delete);
    assert_eq!(action(&p, "eip/b"), Action::Delete);
    assert_eq!(action(&p, "vpc#p-vpc-0"), Action::Delete);
    assert_eq!(action(&p, "vpc"), Action::NoOp);
    in_order(&p, &[("nat/b", Delete), ("eip/b", Delete)]);
}

/// A copy of the observed `id` under another physical id, as a race or a hand copy makes one.
fn copy(obs: &[Observed], id: &str, physical: &str) -> Observed {
    let mut dup = obs.iter().find(|o| o.id.as_str() == id).unwrap().clone();
    dup.physical_id = physical.into();
    for v in dup.outputs.values_mut() {
        *v = physical.into();
    }
    dup
}

#[test]
fn duplicates_keep_the_network_the_cluster_uses_and_never_touch_the_cluster() {
    let g = desired(NatMode::Single);
    let mut obs = applied(&g);
    // A racing run's network: a second VPC with its own copy of a subnet inside it.
    obs.push(copy(&obs, "vpc", "p-vpc-0"));
    let mut subnet = copy(&obs, "subnet/private-app/a", "p-subnet-0");
    subnet.attrs.insert("vpc_id".into(), json!("p-vpc-0"));
    obs.push(subnet);
    let p = plan(&g, &obs);
    assert!(p.contests.is_empty(), "{:?}", p.contests);
    assert_eq!(action(&p, "vpc#p-vpc-0"), Action::Delete);
    assert_eq!(
        action(&p, "subnet/private-app/a#p-subnet-0"),
        Action::Delete
    );
    for id in [
        "vpc",
        "subnet/private-app/a",
        "eks/cluster",
        "eks/nodegroup",
    ] {
        assert_eq!(action(&p, id), Action::NoOp, "{id}");
    }
    in_order(
        &p,
        &[
            ("subnet/private-app/a#p-subnet-0", Delete),
            ("vpc#p-vpc-0", Delete),
        ],
    );
}

#[test]
fn copies_of_a_stateful_resource_stop_the_plan_instead_of_deleting_one() {
    let g = desired(NatMode::Single);
    let mut obs = applied(&g);
    obs.push(copy(&obs, "alb", "p-alb-0"));
    let p = plan(&g, &obs);
    assert_eq!(p.contests.len(), 1);
    assert!(p.changes.iter().all(|c| !c.id.as_str().starts_with("alb")));
    let e = p.check_conflicts().unwrap_err().to_string();
    assert!(e.contains("cannot tell") && e.contains("p-alb-0"), "{e}");
}

#[test]
fn strays_are_listed_and_never_deleted_by_apply_or_destroy() {
    let g = desired(NatMode::Single);
    let mut obs = applied(&g);
    let mut stray = Observed::new(LogicalId::new("bogus/thing"), Kind::Vpc, "vpc-theirs");
    stray.stray = true;
    obs.push(stray);
    let p = plan(&g, &obs);
    assert!(p.is_empty());
    assert_eq!(p.strays.len(), 1);
    assert!(render_human(&p).contains("not made by infra"));
    let d = destroy("grpc-eks", &g, &obs, &[]).unwrap();
    assert!(d
        .changes
        .iter()
        .all(|c| c.physical_id.as_deref() != Some("vpc-theirs")));
    assert_eq!(d.strays.len(), 1);
}

#[test]
fn broken_resource_is_replaced_with_the_reason() {
    let g = desired(NatMode::Single);
    let mut obs = applied(&g);
    find(&mut obs, "nat/a").broken = Some("NAT gateway failed: no capacity".into());
    let p = plan(&g, &obs);
    assert_eq!(action(&p, "nat/a"), Action::Replace);
    assert!(render_human(&p).contains("no capacity"));
    assert_eq!(
        action(&p, "route/private"),
        Action::Update,
        "route follows the new gateway"
    );
}

#[test]
fn destroy_deletes_in_reverse_dependency_order() {
    let g = desired(NatMode::PerAz);
    let p = destroy("grpc-eks", &g, &applied(&g), &[]).unwrap();
    assert_eq!(p.counts().delete, g.resources.len());
    let before = |a, b| in_order(&p, &[(a, Delete), (b, Delete)]);
    before("nat/a", "igw-attachment");
    before("nat/b", "igw-attachment");
    before("nat/a", "eip/a");
    before("nat/a", "subnet/public/a");
    before("igw-attachment", "igw");
    before("rta/public/a", "rt/public");
    before("sg/nodes", "sg/alb");
    for s in &p.steps {
        if s.id.as_str() != "vpc" {
            before(s.id.as_str(), "vpc");
        }
    }
}

#[test]
fn destroy_orders_resources_that_share_a_physical_id_by_the_desired_graph() {
    // As in AWS: a trust policy is known by its role's name, and the cluster, the repository
    // and the build project are all named after the stack.
    let g = desired(NatMode::Single);
    let mut obs = applied(&g);
    for o in obs.iter_mut() {
        let shared = match o.id.as_str() {
            "role/cluster" | "trust/cluster" => Some("grpc-eks-cluster"),
            "eks/cluster" | "ecr/repository" | "codebuild/project" => Some("grpc-eks"),
            _ => None,
        };
        if let Some(name) = shared {
            o.physical_id = name.to_string();
            o.attrs.insert("name".into(), json!(name));
        }
    }
    let p = destroy("grpc-eks", &g, &obs, &[]).unwrap();
    let before = |a, b| in_order(&p, &[(a, Delete), (b, Delete)]);
    before("trust/cluster", "role/cluster");
    before("eks/nodegroup", "eks/cluster");
    before("eks/cluster", "role/cluster");
    before("codebuild/project", "role/codebuild");
    before("tg-attachment/http", "eks/nodegroup");
}

#[test]
fn plan_json_marks_unknown_values_and_actions() {
    let g = desired(NatMode::Single);
    let p = plan(&g, &[]);
    let j = serde_json::to_value(&p).unwrap();
    let item = |list: &serde_json::Value, key: &str, value: &str| {
        let items = list.as_array().expect("a list");
        let found = items.iter().find(|c| c[key] == value);
        found.cloned().unwrap_or_else(|| panic!("no {key} {value}"))
    };
    let vpc = item(&j["changes"], "id", "vpc");
    assert_eq!(vpc["action"], "create");
    assert_eq!(vpc["area"], "network");
    let subnet = item(&j["changes"], "id", "subnet/public/a");
    let vpc_id = item(&subnet["attrs"], "name", "vpc_id");
    assert!(vpc_id["new"].is_null());
}

#[test]
fn unowned_resource_under_the_stacks_name_is_a_conflict_and_never_deleted() {
    let g = desired(NatMode::Single);
    let mut obs = applied(&g);
    find(&mut obs, "ecr/repository").unowned = true;
    let p = plan(&g, &obs);
    assert_eq!(p.conflicts.len(), 1);
    assert_eq!(p.conflicts[0].id.as_str(), "ecr/repository");
    assert!(p.changes.iter().all(|c| c.id.as_str() != "ecr/repository"));
    assert!(p.check_conflicts().is_err());
    assert!(render_human(&p).contains("!   ecr/repository"));
    let d = destroy("grpc-eks", &g, &obs, &[]).unwrap();
    assert!(d.changes.iter().all(|c| c.id.as_str() != "ecr/repository"));
}

/// A fixed drifted state: tags edited by hand, a subnet whose CIDR the config changed, the node
/// group scaled by hand, a route deleted by hand, and a resource no longer in the config; with
/// the desired graph and what was observed.
pub(crate) fn drifted_parts() -> (Graph, Vec<Observed>, Plan) {
    let mut c = parse(DEFAULT_YAML).unwrap();
    let g = stack::build(&c, "123456789012");
    let mut obs = applied(&g);
    find(&mut obs, "subnet/public/b")
        .attrs
        .get_mut("tags")
        .unwrap()["project"] = json!("hand-edited");
    find(&mut obs, "eks/nodegroup")
        .attrs
        .insert("scaling".into(), json!({"min": 1, "desired": 2, "max": 2}));
    obs.retain(|o| o.id.as_str() != "route/public");
    let mut orphan = Observed::new(LogicalId::new("nat/b"), Kind::NatGateway, "nat-0b");
    orphan
        .attrs
        .insert("subnet_id".into(), json!("p-subnet-public-b"));
    obs.push(orphan);
    c.network.zones[1].private_data = "10.0.9.0/24".into();
    let g = stack::build(&c, "123456789012");
    let p = plan(&g, &obs);
    (g, obs, p)
}

fn drifted() -> Plan {
    drifted_parts().2
}

#[test]
fn snapshot_of_the_human_plan() {
    insta::assert_snapshot!(render_human(&drifted()));
}

#[test]
fn snapshot_of_the_json_plan() {
    let j = serde_json::to_value(drifted()).unwrap();
    // Unchanged resources are listed too; the snapshot keeps the ones that change.
    let changed: Vec<&serde_json::Value> = j["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "no-op")
        .collect();
    let shown = json!({"changes": changed, "counts": j["counts"]});
    insta::assert_snapshot!(serde_json::to_string_pretty(&shown).unwrap());
}

#[test]
fn resource_still_coming_up_is_waited_for() {
    let g = desired(NatMode::Single);
    let mut obs = applied(&g);
    find(&mut obs, "eks/cluster").pending =
        Some("still CREATING: apply waits until it is ACTIVE".into());
    let p = plan(&g, &obs);
    assert_eq!(action(&p, "eks/cluster"), Action::Update);
    assert_eq!(p.counts().update, 1);
    let text = render_human(&p);
    assert!(
        text.contains("eks/cluster (eks_cluster p-eks-cluster): still CREATING"),
        "{text}"
    );
}

#[test]
fn what_kubernetes_left_goes_before_the_network_that_holds_it() {
    let g = desired(NatMode::Single);
    let obs = applied(&g);
    let subnet = physical(&LogicalId::new("subnet/private-app/a"));
    let nodes = physical(&LogicalId::new("sg/nodes"));
    let mut eni = Observed::new(
        LogicalId::new("left-by-k8s/eni/eni-1"),
        Kind::K8sEni,
        "eni-1",
    );
    eni.attrs.insert("subnet_id".into(), json!(subnet));
    eni.attrs.insert("security_groups".into(), json!([nodes]));
    eni.attrs.insert("description".into(), json!("aws-K8S-i-1"));
    let what = "available network interface \"aws-K8S-i-1\" left by the VPC CNI".to_string();
    let p = destroy("grpc-eks", &g, &obs, &[(eni, what)]).unwrap();
    let eni = "left-by-k8s/eni/eni-1";
    for holder in ["subnet/private-app/a", "sg/nodes", "vpc"] {
        in_order(&p, &[(eni, Delete), (holder, Delete)]);
    }
    let text = render_human(&p);
    assert!(
        text.contains("left by Kubernetes in the cluster:"),
        "{text}"
    );
    assert!(text.contains("left by the VPC CNI"), "{text}");
}

#[test]
fn markdown_puts_warnings_first_and_folds_the_attribute_changes() {
    let g = desired(NatMode::Single);
    let mut obs = applied(&g);
    let subnet = find(&mut obs, "subnet/private-data/a");
    subnet
        .attrs
        .insert("cidr_block".into(), json!("10.0.40.0/24"));
    obs.retain(|o| o.id.as_str() != "logs/codebuild");
    let p = plan(&g, &obs);
    let text = render_markdown(&p, &["eks.logging is empty".to_string()]);
    let expected = "### infra plan: stack `grpc-eks`

> **Warning:** eks.logging is empty

| to add | to change | to replace | to destroy |
|---:|---:|---:|---:|
| 1 | 1 | 2 | 0 |

**network**

| | resource | kind | AWS id | why |
|---|---|---|---|---|
| `-/+` | `rta/private-data/a` | route_table_association | `p-rta-private-data-a` |  |
| `-/+` | `subnet/private-data/a` | subnet | `p-subnet-private-data-a` |  |

**codebuild**

| | resource | kind | AWS id | why |
|---|---|---|---|---|
| `~` | `codebuild/project` | codebuild_project | `p-codebuild-project` |  |

**logs**

| | resource | kind | AWS id | why |
|---|---|---|---|---|
| `+` | `logs/codebuild` | log_group |  |  |

<details><summary>Attribute changes (4 resources)</summary>

```
-/+ rta/private-data/a
    subnet_id = \"p-subnet-private-data-a\" -> (known after apply)  # forces replacement
-/+ subnet/private-data/a
    cidr_block = \"10.0.40.0/24\" -> \"10.0.4.0/24\"  # forces replacement
~ codebuild/project
    logs_group_name = \"p-logs-codebuild\" -> (known after apply)
+ logs/codebuild
    name = \"/aws/codebuild/grpc-eks\"
";
    assert!(text.starts_with(expected), "{text}");
    assert!(text.ends_with("```\n\n</details>\n"), "{text}");
}

/// The default stack applied, then planned with other instance types (which replace the node
/// group): the graph, and what was observed.
fn new_instance_types() -> (Graph, Vec<Observed>) {
    let mut c = parse(DEFAULT_YAML).unwrap();
    let obs = applied(&stack::build(&c, "123456789012"));
    c.eks.instance_types = vec!["m6i.large".into()];
    (stack::build(&c, "123456789012"), obs)
}

fn change<'a>(p: &'a Plan, id: &str) -> &'a Change {
    p.changes.iter().find(|c| c.id.as_str() == id).unwrap()
}

fn waits_for(p: &Plan, step: (&str, StepKind), prerequisite: (&str, StepKind)) -> bool {
    p.steps[step_pos(p, step.0, step.1)]
        .after
        .contains(&(LogicalId::new(prerequisite.0), prerequisite.1))
}

#[test]
fn a_replaced_node_group_is_made_and_attached_before_the_old_one_goes() {
    let (g, obs) = new_instance_types();
    let p = plan(&g, &obs);
    for id in ["eks/nodegroup", "tg-attachment/http"] {
        assert_eq!(action(&p, id), Action::Replace, "{id}");
        assert!(change(&p, id).new_first, "{id}");
    }
    // The new group, its attachment, then the old attachment and the old group.
    in_order(
        &p,
        &[
            ("eks/nodegroup", Apply),
            ("tg-attachment/http", Apply),
            ("tg-attachment/http", Delete),
            ("eks/nodegroup", Delete),
        ],
    );
    assert!(waits_for(
        &p,
        ("eks/nodegroup", Delete),
        ("eks/nodegroup", Apply)
    ));
    assert!(!waits_for(
        &p,
        ("eks/nodegroup", Apply),
        ("eks/nodegroup", Delete)
    ));
    assert!(waits_for(
        &p,
        ("tg-attachment/http", Delete),
        ("tg-attachment/http", Apply)
    ));
    let human = render_human(&p);
    assert!(human.contains("+/- eks/nodegroup"), "{human}");
    assert!(
        human.contains("must be replaced, the new one first"),
        "{human}"
    );
    let hazards = hazards(&p);
    assert!(
        hazards
            .iter()
            .any(|h| h.contains("new group first, no gap in capacity")),
        "{hazards:?}"
    );
    assert_eq!(
        serde_json::to_value(change(&p, "eks/nodegroup")).unwrap()["new_first"],
        true
    );
    assert!(serde_json::to_value(change(&p, "vpc"))
        .unwrap()
        .get("new_first")
        .is_none());
}

#[test]
fn a_node_group_whose_cluster_is_replaced_goes_old_first() {
    let (g, mut obs) = new_instance_types();
    // The cluster's subnets differ: it is replaced, and the new group needs the new cluster.
    find(&mut obs, "eks/cluster")
        .attrs
        .insert("subnet_ids".into(), json!(["subnet-elsewhere"]));
    let p = plan(&g, &obs);
    assert_eq!(action(&p, "eks/cluster"), Action::Replace);
    assert_eq!(action(&p, "eks/nodegroup"), Action::Replace);
    assert!(!change(&p, "eks/nodegroup").new_first);
    in_order(
        &p,
        &[
            ("eks/nodegroup", Delete),
            ("eks/cluster", Delete),
            ("eks/cluster", Apply),
            ("eks/nodegroup", Apply),
        ],
    );
    let hazards = hazards(&p);
    assert!(
        hazards
            .iter()
            .any(|h| h.contains("gone before new ones exist")),
        "{hazards:?}"
    );
}

/// The node group an interrupted replacement made beside the old one (`grpc-eks-nodes-2`, with
/// the config's instance types), still coming up.
fn successor(obs: &[Observed]) -> Observed {
    let mut new = copy(obs, "eks/nodegroup", "grpc-eks-nodes-2");
    new.attrs
        .insert("instance_types".into(), json!(["m6i.large"]));
    new.outputs.insert("asg_name".into(), "asg-2".into());
    new.pending = Some("still CREATING: apply waits until it is ACTIVE".into());
    new
}

#[test]
fn an_interrupted_replacement_keeps_the_new_group_and_deletes_the_old_once_it_serves() {
    let (g, mut obs) = new_instance_types();
    // The old group's Auto Scaling group is named apart from the group, as on AWS.
    find(&mut obs, "eks/nodegroup")
        .outputs
        .insert("asg_name".into(), "asg-1".into());
    find(&mut obs, "tg-attachment/http")
        .attrs
        .insert("asg_name".into(), json!("asg-1"));
    obs.push(successor(&obs));
    let p = plan(&g, &obs);
    assert!(p.contests.is_empty(), "{:?}", p.contests);
    assert_eq!(action(&p, "eks/nodegroup"), Action::Update);
    assert_eq!(
        change(&p, "eks/nodegroup").physical_id.as_deref(),
        Some("grpc-eks-nodes-2")
    );
    let old = "eks/nodegroup#p-eks-nodegroup";
    assert_eq!(action(&p, old), Action::Delete);
    assert!(
        change(&p, old)
            .reason
            .as_deref()
            .unwrap()
            .contains("replaced by eks/nodegroup"),
        "{:?}",
        change(&p, old).reason
    );
    // The attachment moves to the new group's Auto Scaling group, new first, and the old group
    // goes only after that.
    assert_eq!(action(&p, "tg-attachment/http"), Action::Replace);
    assert!(change(&p, "tg-attachment/http").new_first);
    assert!(waits_for(&p, (old, Delete), ("eks/nodegroup", Apply)));
    assert!(waits_for(&p, (old, Delete), ("tg-attachment/http", Apply)));
    // Detached before it goes: its attachment names its Auto Scaling group.
    assert!(waits_for(&p, (old, Delete), ("tg-attachment/http", Delete)));

    // Killed later, once the new group was up and attached too: what is left is to detach
    // and delete the old one.
    obs.last_mut().unwrap().pending = None;
    let mut attached = copy(&obs, "tg-attachment/http", "asg-2|p-tg-http");
    attached.attrs.insert("asg_name".into(), json!("asg-2"));
    obs.push(attached);
    let p = plan(&g, &obs);
    assert!(p.contests.is_empty(), "{:?}", p.contests);
    for id in ["eks/nodegroup", "tg-attachment/http"] {
        assert_eq!(action(&p, id), Action::NoOp, "{id}");
    }
    let old_attachment = "tg-attachment/http#p-tg-attachment-http";
    assert_eq!(action(&p, old_attachment), Action::Delete);
    assert_eq!(action(&p, old), Action::Delete);
    assert_eq!(p.counts().delete, 2);
}

#[test]
fn a_replacement_that_failed_is_deleted_before_the_next_attempt_takes_its_name() {
    let (g, mut obs) = new_instance_types();
    let mut failed = successor(&obs);
    failed.pending = None;
    failed.broken = Some("node group is CREATE_FAILED: no capacity".into());
    obs.push(failed);
    let p = plan(&g, &obs);
    assert!(p.contests.is_empty(), "{:?}", p.contests);
    // The old group still serves and is replaced again, new first; the failed one goes first.
    assert_eq!(
        change(&p, "eks/nodegroup").physical_id.as_deref(),
        Some("p-eks-nodegroup")
    );
    assert!(change(&p, "eks/nodegroup").new_first);
    let failed = "eks/nodegroup#grpc-eks-nodes-2";
    assert_eq!(action(&p, failed), Action::Delete);
    assert!(waits_for(&p, ("eks/nodegroup", Apply), (failed, Delete)));
}

#[test]
fn two_node_groups_the_config_describes_equally_stop_the_plan() {
    let g = desired(NatMode::Single);
    let mut obs = applied(&g);
    obs.push(copy(&obs, "eks/nodegroup", "grpc-eks-nodes-2"));
    let p = plan(&g, &obs);
    assert_eq!(p.contests.len(), 1, "{:?}", p.contests);
    assert!(p
        .changes
        .iter()
        .all(|c| !c.id.as_str().starts_with("eks/nodegroup")));
}

#[test]
fn an_interrupted_replacement_into_a_new_zone_keeps_the_group_that_is_in_it() {
    let mut c = parse(DEFAULT_YAML).unwrap();
    let before = applied(&stack::build(&c, "123456789012"));
    let mut third = c.network.zones[1].clone();
    third.name = "us-east-1c".into();
    (third.public, third.private_app, third.private_data) = (
        "10.0.6.0/24".into(),
        "10.0.7.0/24".into(),
        "10.0.8.0/24".into(),
    );
    c.network.zones.push(third);
    let g = stack::build(&c, "123456789012");
    // The killed run had made the new zone's network and the new group in its subnets; the old
    // group, in two zones, is still the one attached.
    let mut obs: Vec<Observed> = applied(&g)
        .into_iter()
        .filter(|o| !before.iter().any(|b| b.id == o.id))
        .chain(before.iter().cloned())
        .collect();
    let subnets = json!(["a", "b", "c"].map(|z| format!("p-subnet-private-app-{z}")));
    let mut new = copy(&obs, "eks/nodegroup", "grpc-eks-nodes-2");
    new.attrs.insert("subnet_ids".into(), subnets.clone());
    obs.push(new);
    // Where the cluster is replaced for its subnets, the node group (which needs the new
    // cluster) and its copy go before the old cluster: no order waits for the new group.
    let p = plan(&g, &obs);
    assert_eq!(action(&p, "eks/cluster"), Action::Replace);
    assert!(!change(&p, "eks/nodegroup").new_first);
    in_order(
        &p,
        &[
            ("eks/nodegroup#p-eks-nodegroup", Delete),
            ("eks/cluster", Delete),
        ],
    );
    // Where the cluster took the new subnets in place, the old group waits for the new one.
    find(&mut obs, "eks/cluster")
        .attrs
        .insert("subnet_ids".into(), subnets);
    let p = plan(&g, &obs);
    assert!(p.contests.is_empty(), "{:?}", p.contests);
    assert_eq!(
        change(&p, "eks/nodegroup").physical_id.as_deref(),
        Some("grpc-eks-nodes-2")
    );
    assert_eq!(action(&p, "eks/nodegroup"), Action::NoOp);
    let old = "eks/nodegroup#p-eks-nodegroup";
    assert_eq!(action(&p, old), Action::Delete);
    assert!(waits_for(&p, (old, Delete), ("tg-attachment/http", Apply)));
}
