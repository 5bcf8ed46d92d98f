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
                // Not an AWS resource: its `infra/stack` label makes it the stack's.
                | Kind::K8sNamespace
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
                assert!(
                    actions == ["ecr:GetAuthorizationToken"] || st["Sid"] == "RunInTheVpc",
                    "{at}: {actions:?}"
                );
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
    // Its own role: the build assumes itself to deploy.
    assert_eq!(
        targets,
        [
            "ecr/repository.arn",
            "eks/cluster.arn",
            "role/codebuild.arn"
        ]
    );
    let text = serde_json::to_string(doc).unwrap();
    assert!(text.contains("log-group:/aws/codebuild/grpc-eks"), "{text}");
    // The stack creates the group; the build may not make others.
    assert!(!text.contains("logs:CreateLogGroup"), "{text}");
    // No secrets configured: no secret may be read.
    assert!(
        !text.contains("ssm:") && !text.contains("secretsmanager:"),
        "{text}"
    );
}

#[test]
fn build_secrets_are_readable_exactly_and_reach_the_project_by_reference() {
    let mut c = crate::config::parse(crate::config::DEFAULT_YAML).unwrap();
    c.codebuild.secrets = [
        ("API_TOKEN", "ssm:/grpc/api-token"),
        ("DB_PASSWORD", "secretsmanager:grpc/db:password"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let g = crate::stack::build(&c, "123456789012");
    let docs = documents(&g);
    let (_, doc) = docs
        .iter()
        .find(|(at, _)| at == "policy/codebuild/deploy.document")
        .unwrap();
    let statements = doc["Statement"].as_array().unwrap();
    let sid = |s: &str| statements.iter().find(|st| st["Sid"] == s).cloned();
    assert_eq!(
        sid("ReadItsParameters").unwrap()["Resource"],
        serde_json::json!(["arn:aws:ssm:us-east-1:123456789012:parameter/grpc/api-token"])
    );
    assert_eq!(
        sid("ReadItsSecrets").unwrap()["Resource"],
        serde_json::json!(["arn:aws:secretsmanager:us-east-1:123456789012:secret:grpc/db-??????"])
    );
    let env = serde_json::to_string(
        &g.resources[&LogicalId::new("codebuild/project")].attrs["environment"],
    )
    .unwrap();
    assert!(env.contains("PARAMETER_STORE:/grpc/api-token"), "{env}");
    assert!(env.contains("SECRETS_MANAGER:grpc/db:password"), "{env}");
}

#[test]
fn codebuild_trust_names_the_account_and_project_and_eks_trust_names_the_service_only() {
    let g = full();
    for (which, conditioned) in [("codebuild", true), ("cluster", false), ("node", false)] {
        let role = &g.resources[&LogicalId::new(format!("role/{which}"))];
        let trust = &g.resources[&LogicalId::new(format!("trust/{which}"))];
        // The statement the role is created with, then its full trust policy.
        let mut text = String::new();
        for doc in [
            &role.attrs["initial_trust_policy"],
            &trust.attrs["document"],
        ] {
            text = serde_json::to_string(doc).unwrap();
            let has = text.contains("aws:SourceAccount");
            assert_eq!(has, conditioned, "{which}: {text}");
        }
        if conditioned {
            assert!(
                text.contains("arn:aws:codebuild:us-east-1:123456789012:project/grpc-eks"),
                "{text}"
            );
        }
    }
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
    refs.sort();
    assert_eq!(refs, ["ecr/repository", "role/codebuild"]);
    // Without a certificate there is no HTTPS listener and no gRPC target group.
    let plain = graph(NatMode::Single);
    assert!(plain.get(&LogicalId::new("listener/https")).is_none());
    assert!(plain.get(&LogicalId::new("tg/grpc")).is_none());
    assert!(plain.get(&LogicalId::new("listener/http")).is_some());
}

#[test]
fn a_private_endpoint_runs_builds_in_the_vpc_and_admits_only_them() {
    let text =
        crate::config::DEFAULT_YAML.replace("endpoint: public-and-private", "endpoint: private");
    let c = crate::config::parse(&text).unwrap();
    let g = crate::stack::build(&c, "123456789012");
    let get = |id: &str| &g.resources[&LogicalId::new(id)];
    let cluster = serde_json::to_string(&get("eks/cluster").attrs["endpoint"]).unwrap();
    assert!(cluster.contains(r#""public":false"#), "{cluster}");
    let groups = &get("eks/cluster").attrs["security_group_ids"];
    assert_eq!(
        groups,
        &Value::List(vec![Value::reference(&LogicalId::new("sg/api"), "id")])
    );
    let api = serde_json::to_string(&get("sg/api").attrs["ingress"]).unwrap();
    assert!(api.contains("443") && api.contains("sg/build"), "{api}");
    let vpc = serde_json::to_string(&get("codebuild/project").attrs["vpc"]).unwrap();
    assert!(
        vpc.contains("sg/build") && vpc.contains("subnet/private-app/a"),
        "{vpc}"
    );
    let policy = documents(&g)
        .into_iter()
        .find(|(at, _)| at == "policy/codebuild/deploy.document")
        .unwrap()
        .1;
    let attach = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|st| st["Sid"] == "AttachInItsSubnets")
        .unwrap();
    assert_eq!(
        attach["Condition"]["ArnEquals"]["ec2:Subnet"],
        serde_json::json!(["arn-of-subnet/private-app/a", "arn-of-subnet/private-app/b"])
    );
    // The default, public endpoint runs builds outside the VPC.
    let public = full();
    assert!(public.get(&LogicalId::new("sg/build")).is_none());
    assert_eq!(
        public.resources[&LogicalId::new("codebuild/project")].attrs["vpc"],
        Value::Lit(serde_json::Value::Null)
    );
}

#[test]
fn no_nat_gives_the_private_subnets_the_endpoints_nodes_need() {
    let g = graph(NatMode::None);
    assert_eq!(
        ids(&g, Kind::VpcEndpoint),
        [
            "vpce/ec2",
            "vpce/ecr.api",
            "vpce/ecr.dkr",
            "vpce/logs",
            "vpce/s3",
            "vpce/sts"
        ]
    );
    let attr = |id: &str, name: &str| g.resources[&LogicalId::new(id)].attrs[name].clone();
    let s3 = &g.resources[&LogicalId::new("vpce/s3")];
    assert_eq!(
        attr("vpce/s3", "service_name"),
        Value::str("com.amazonaws.us-east-1.s3")
    );
    assert_eq!(attr("vpce/s3", "endpoint_type"), Value::str("Gateway"));
    assert!(s3.deps().contains(&LogicalId::new("rt/private")));
    assert_eq!(attr("vpce/s3", "private_dns_enabled"), Value::bool(false));
    for service in ["ec2", "ecr.api", "ecr.dkr", "logs", "sts"] {
        let id = format!("vpce/{service}");
        let name = format!("com.amazonaws.us-east-1.{service}");
        assert_eq!(attr(&id, "service_name"), Value::str(name));
        assert_eq!(attr(&id, "endpoint_type"), Value::str("Interface"));
        assert_eq!(attr(&id, "private_dns_enabled"), Value::bool(true));
        let deps = g.resources[&LogicalId::new(&id)].deps();
        for needed in [
            "subnet/private-app/a",
            "subnet/private-app/b",
            "sg/endpoints",
        ] {
            assert!(
                deps.contains(&LogicalId::new(needed)),
                "{id} needs {needed}"
            );
        }
        assert!(!deps.contains(&LogicalId::new("subnet/private-data/a")));
    }
    // HTTPS from the VPC only.
    assert_eq!(
        attr("sg/endpoints", "ingress"),
        Value::Lit(serde_json::json!([
            {"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr": "10.0.0.0/16"}
        ]))
    );
    g.topo_order().expect("the private graph orders");
}

#[test]
fn with_no_nat_the_nodes_wait_for_every_endpoint_and_the_cluster_is_reachable_privately() {
    let g = graph(NatMode::None);
    let nodes = g.resources[&LogicalId::new("eks/nodegroup")].deps();
    for id in ids(&g, Kind::VpcEndpoint) {
        assert!(nodes.contains(&LogicalId::new(&id)), "nodes before {id}");
    }
    for id in ["rta/private-app/a", "rta/private-app/b"] {
        assert!(nodes.contains(&LogicalId::new(id)), "nodes before {id}");
    }
    // Nodes register with the cluster through its private endpoint (EKS User Guide, "Private
    // cluster requirements"), whatever the public side is.
    for private in [false, true] {
        let mut c = parse(DEFAULT_YAML).unwrap();
        c.network.nat = NatMode::None;
        if private {
            c.eks.endpoint = crate::config::EndpointAccess::Private;
        }
        let g = build(&c, "123456789012");
        let endpoint = &g.resources[&LogicalId::new("eks/cluster")].attrs["endpoint"];
        let Value::Lit(endpoint) = endpoint else {
            panic!("the endpoint setting is a literal: {endpoint:?}")
        };
        assert_eq!(endpoint["private"], true, "{endpoint}");
    }
}

#[test]
fn with_a_nat_gateway_there_are_no_endpoints() {
    for nat in [NatMode::Single, NatMode::PerAz] {
        let g = graph(nat);
        assert!(ids(&g, Kind::VpcEndpoint).is_empty());
        assert!(!g.resources.contains_key(&LogicalId::new("sg/endpoints")));
    }
}
