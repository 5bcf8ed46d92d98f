use super::*;
use crate::config::{parse, NatMode, DEFAULT_YAML};
use crate::model::Kind;

fn graph(nat: NatMode) -> Graph {
    let mut c = parse(DEFAULT_YAML).unwrap();
    c.network.nat = nat;
    build(&c, "123456789012")
}

fn ids(g: &Graph, kind: Kind) -> Vec<String> {
    g.resources
        .values()
        .filter(|r| r.kind == kind)
        .map(|r| r.id.to_string())
        .collect()
}

#[test]
fn default_network_inventory() {
    let g = graph(NatMode::Single);
    assert_eq!(ids(&g, Kind::Vpc), ["vpc"]);
    assert_eq!(ids(&g, Kind::Subnet).len(), 6);
    assert_eq!(ids(&g, Kind::NatGateway), ["nat/a"]);
    assert_eq!(ids(&g, Kind::ElasticIp), ["eip/a"]);
    assert_eq!(ids(&g, Kind::RouteTable), ["rt/private", "rt/public"]);
    assert_eq!(ids(&g, Kind::Route), ["route/private", "route/public"]);
    assert_eq!(ids(&g, Kind::RouteTableAssociation).len(), 6);
    assert_eq!(ids(&g, Kind::SecurityGroup), ["sg/alb", "sg/nodes"]);
    g.topo_order().expect("default graph orders");
}

#[test]
fn per_az_nat_gives_each_zone_its_own_gateway_and_table() {
    let g = graph(NatMode::PerAz);
    assert_eq!(ids(&g, Kind::NatGateway), ["nat/a", "nat/b"]);
    assert_eq!(
        ids(&g, Kind::RouteTable),
        ["rt/private/a", "rt/private/b", "rt/public"]
    );
    let route_b = &g.resources[&LogicalId::new("route/private/b")];
    assert!(route_b.deps().contains(&LogicalId::new("nat/b")));
}

#[test]
fn no_nat_means_no_default_route_for_private_subnets() {
    let g = graph(NatMode::None);
    assert!(ids(&g, Kind::NatGateway).is_empty());
    assert!(ids(&g, Kind::ElasticIp).is_empty());
    assert_eq!(ids(&g, Kind::Route), ["route/public"]);
}

#[test]
fn public_addresses_wait_for_the_attached_gateway() {
    let g = graph(NatMode::PerAz);
    let order = g.topo_order().unwrap();
    let pos = |s: &str| order.iter().position(|x| x.as_str() == s).unwrap();
    for after in ["nat/a", "nat/b", "route/public"] {
        assert!(
            pos("igw-attachment") < pos(after),
            "{after} before the attachment"
        );
    }
    assert!(pos("sg/alb") < pos("sg/nodes"));
    assert!(pos("eip/a") < pos("nat/a"));
}

#[test]
fn every_taggable_resource_carries_the_ownership_tags() {
    let g = graph(NatMode::Single);
    for r in g.resources.values() {
        let untaggable = matches!(
            r.kind,
            Kind::IgwAttachment
                | Kind::Route
                | Kind::RouteTableAssociation
                | Kind::IamTrustPolicy
                | Kind::IamInlinePolicy
                | Kind::IamPolicyAttachment
                | Kind::TargetGroupAttachment
        );
        match r.attrs.get("tags") {
            Some(Value::Map(tags)) => {
                assert_eq!(
                    tags.get("infra:stack"),
                    Some(&Value::str("grpc-eks")),
                    "{}",
                    r.id
                );
                assert_eq!(
                    tags.get("infra:id"),
                    Some(&Value::str(r.id.as_str())),
                    "{}",
                    r.id
                );
                assert_eq!(
                    tags.get("project"),
                    Some(&Value::str("grpc-eks")),
                    "{}",
                    r.id
                );
            }
            _ => assert!(untaggable, "{} has no tags", r.id),
        }
    }
}

#[test]
fn public_subnets_map_public_ips_and_private_ones_do_not() {
    let g = graph(NatMode::Single);
    let get = |id: &str| g.resources[&LogicalId::new(id)].attrs["map_public_ip_on_launch"].clone();
    assert_eq!(get("subnet/public/a"), Value::bool(true));
    assert_eq!(get("subnet/private-app/b"), Value::bool(false));
    assert_eq!(get("subnet/private-data/a"), Value::bool(false));
}

fn full() -> Graph {
    let mut c = parse(DEFAULT_YAML).unwrap();
    c.alb.certificate_arn = Some("arn:aws:acm:us-east-1:123456789012:certificate/abc".into());
    build(&c, "123456789012")
}

/// Every IAM policy document in the graph, with where it is.
fn documents(g: &Graph) -> Vec<(String, serde_json::Value)> {
    let lookup = |r: &crate::model::Ref| Some(serde_json::json!(format!("arn-of-{}", r.id)));
    let mut out = Vec::new();
    for r in g.resources.values() {
        for key in ["document", "initial_trust_policy"] {
            if let Some(v) = r.attrs.get(key) {
                out.push((format!("{}.{key}", r.id), v.resolve(&lookup).unwrap()));
            }
        }
    }
    out
}

#[test]
fn policy_documents_grant_no_wildcard_actions() {
    let docs = documents(&full());
    assert!(docs.len() >= 7, "{docs:?}");
    for (at, doc) in docs {
        for st in doc["Statement"].as_array().unwrap() {
            let actions: Vec<&str> = match &st["Action"] {
                serde_json::Value::String(s) => vec![s.as_str()],
                serde_json::Value::Array(a) => a.iter().map(|v| v.as_str().unwrap()).collect(),
                other => panic!("{at}: odd Action {other}"),
            };
            for a in &actions {
                assert!(*a != "*" && !a.ends_with(":*"), "{at} grants {a}");
            }
            // "*" resources only where AWS offers no resource-level permission.
            if st.get("Resource") == Some(&serde_json::json!("*")) {
                assert_eq!(actions, ["ecr:GetAuthorizationToken"], "{at}");
            }
        }
    }
}

#[test]
fn codebuild_policy_is_scoped_to_its_own_repository_cluster_and_logs() {
    let g = full();
    let doc = &g.resources[&LogicalId::new("policy/codebuild/deploy")].attrs["document"];
    let mut targets = Vec::new();
    doc.visit_refs(&mut |r| targets.push(format!("{}.{}", r.id, r.attr)));
    targets.sort();
    assert_eq!(targets, ["ecr/repository.arn", "eks/cluster.arn"]);
    let text = serde_json::to_string(doc).unwrap();
    assert!(text.contains("log-group:/aws/codebuild/grpc-eks"), "{text}");
}

#[test]
fn every_role_comes_before_every_document_naming_it() {
    let g = full();
    let order = g.topo_order().unwrap();
    let pos = |id: &LogicalId| order.iter().position(|x| x == id).unwrap();
    let mut checked = 0;
    for r in g.resources.values() {
        for v in r.attrs.values() {
            v.visit_refs(&mut |rf| {
                if rf.id.as_str().starts_with("role/") {
                    assert!(pos(&rf.id) < pos(&r.id), "{} before {}", r.id, rf.id);
                    checked += 1;
                }
            });
        }
    }
    assert!(checked >= 10, "only {checked} references to roles");
    // A role's own create call names no role: that is what makes one apply enough.
    for r in g.resources.values().filter(|r| r.kind == Kind::IamRole) {
        assert!(r.deps().is_empty(), "{} depends on {:?}", r.id, r.deps());
    }
    let trust = &g.resources[&LogicalId::new("trust/codebuild")];
    assert!(
        trust.deps().contains(&LogicalId::new("role/codebuild")),
        "the self statement names its role"
    );
}

#[test]
fn full_stack_inventory_and_relations() {
    let g = full();
    let get = |id: &str| &g.resources[&LogicalId::new(id)];
    let waits_for = |id: &str, dep: &str| {
        let deps = get(id).deps();
        assert!(
            deps.contains(&LogicalId::new(dep)),
            "{id} should wait for {dep}"
        );
    };
    waits_for("eks/cluster", "attach/cluster/AmazonEKSClusterPolicy");
    waits_for("eks/nodegroup", "subnet/private-app/b");
    waits_for("eks/nodegroup", "lt/nodes");
    waits_for("alb", "subnet/public/a");
    waits_for("tg-attachment/http", "eks/nodegroup");
    assert!(get("listener/https").attrs.contains_key("certificate_arn"));
    assert_eq!(get("tg/grpc").attrs["protocol_version"], Value::str("GRPC"));
    let project = &get("codebuild/project").attrs["environment"];
    let mut refs = Vec::new();
    project.visit_refs(&mut |r| refs.push(r.id.to_string()));
    assert_eq!(refs, ["ecr/repository"]);
    // Without a certificate there is no HTTPS listener and no gRPC target group.
    let plain = graph(NatMode::Single);
    assert!(plain.get(&LogicalId::new("listener/https")).is_none());
    assert!(plain.get(&LogicalId::new("tg/grpc")).is_none());
    assert!(plain.get(&LogicalId::new("listener/http")).is_some());
}
