//! VPC, subnets, gateways, route tables and security groups.

use super::Builder;
use crate::config::{EndpointAccess, NatMode};
use crate::model::{Desired, Kind, LogicalId, Value};
use crate::naming;
use serde_json::json;
use std::collections::BTreeMap;

/// Public subnets: where the ALB and the NAT gateways live.
const PUBLIC: &str = "public";
/// Private subnets for the EKS nodes.
const PRIVATE_APP: &str = "private-app";
/// Private subnets for data stores.
const PRIVATE_DATA: &str = "private-data";

/// Logical id of the VPC.
pub const VPC: &str = "vpc";
/// Logical id of the IGW attachment, which anything using public addresses must wait for.
pub const IGW_ATTACHMENT: &str = "igw-attachment";

/// Logical id of the subnet of `tier` in zone `zone`.
pub fn subnet_id(tier: &str, zone: &str) -> String {
    format!("subnet/{tier}/{zone}")
}

fn zone_suffixes(b: &Builder) -> Vec<String> {
    let c = b.config;
    c.network
        .zones
        .iter()
        .map(|z| z.suffix(&c.region).to_string())
        .collect()
}

/// References to the ids of the public subnets (the ALB's), in zone order.
pub fn public_subnet_ids(b: &Builder) -> Value {
    subnet_outputs(b, PUBLIC, "id")
}

/// References to the ids of the private application subnets (the nodes'), in zone order.
pub fn private_app_subnet_ids(b: &Builder) -> Value {
    subnet_outputs(b, PRIVATE_APP, "id")
}

/// References to the ARNs of the private application subnets, in zone order.
pub fn private_app_subnet_arns(b: &Builder) -> Value {
    subnet_outputs(b, PRIVATE_APP, "arn")
}

fn subnet_outputs(b: &Builder, tier: &str, output: &str) -> Value {
    let of = |z: &String| Value::reference(&LogicalId::new(subnet_id(tier, z)), output);
    Value::List(zone_suffixes(b).iter().map(of).collect())
}

/// Logical ids of the private default routes and the private subnets' associations.
pub fn private_routes(b: &Builder) -> Vec<LogicalId> {
    b.graph
        .resources
        .values()
        .filter(|r| match r.kind {
            Kind::Route => r.id.as_str().starts_with("route/private"),
            Kind::RouteTableAssociation => r.id.as_str().starts_with("rta/private-app"),
            _ => false,
        })
        .map(|r| r.id.clone())
        .collect()
}

fn id_of(id: &str) -> Value {
    Value::reference(&LogicalId::new(id), "id")
}

/// Adds the whole network layer.
pub(super) fn add(b: &mut Builder) {
    let c = b.config;
    let vpc = b.graph.add(
        Desired::new(VPC, Kind::Vpc)
            .with("cidr_block", Value::str(&c.network.vpc_cidr))
            .with("enable_dns_support", Value::bool(true))
            .with("enable_dns_hostnames", Value::bool(true))
            .with("tags", b.tags(VPC)),
    );
    let igw = b
        .graph
        .add(Desired::new("igw", Kind::InternetGateway).with("tags", b.tags("igw")));
    let attachment = b.graph.add(
        Desired::new(IGW_ATTACHMENT, Kind::IgwAttachment)
            .with("internet_gateway_id", Value::reference(&igw, "id"))
            .with("vpc_id", Value::reference(&vpc, "id")),
    );

    let zones: Vec<_> = c
        .network
        .zones
        .iter()
        .map(|z| (z.suffix(&c.region).to_string(), z))
        .collect();
    for (suffix, zone) in &zones {
        // The Kubernetes tags let the AWS load balancer controller find the subnets by role.
        for (tier, cidr, public, k8s_tag) in [
            (PUBLIC, &zone.public, true, Some("kubernetes.io/role/elb")),
            (
                PRIVATE_APP,
                &zone.private_app,
                false,
                Some("kubernetes.io/role/internal-elb"),
            ),
            (PRIVATE_DATA, &zone.private_data, false, None),
        ] {
            let id = subnet_id(tier, suffix);
            let extra: Vec<(&str, &str)> = k8s_tag.into_iter().map(|k| (k, "1")).collect();
            b.graph.add(
                Desired::new(&id, Kind::Subnet)
                    .with("vpc_id", Value::reference(&vpc, "id"))
                    .with("cidr_block", Value::str(cidr.as_str()))
                    .with("availability_zone", Value::str(zone.name.as_str()))
                    .with("map_public_ip_on_launch", Value::bool(public))
                    .with("tags", b.tags_with(&id, &extra)),
            );
        }
    }

    // Public routing: one table, default route to the internet gateway.
    let public_rt = add_route_table(b, "rt/public");
    b.graph.add(
        Desired::new("route/public", Kind::Route)
            .with("route_table_id", Value::reference(&public_rt, "id"))
            .with("destination", Value::str("0.0.0.0/0"))
            .with("gateway_id", Value::reference(&igw, "id"))
            // A route to a detached gateway is refused.
            .after(&attachment),
    );
    for (suffix, _) in &zones {
        associate(b, &public_rt, &subnet_id(PUBLIC, suffix));
    }

    // NAT gateways (with their Elastic IPs) live in public subnets.
    let nat_zones: Vec<&String> = match c.network.nat {
        NatMode::Single => zones.iter().take(1).map(|(s, _)| s).collect(),
        NatMode::PerAz => zones.iter().map(|(s, _)| s).collect(),
        NatMode::None => Vec::new(),
    };
    for suffix in &nat_zones {
        let eip_id = format!("eip/{suffix}");
        let eip = b.graph.add(
            Desired::new(&eip_id, Kind::ElasticIp)
                .with("domain", Value::str("vpc"))
                .with("tags", b.tags(&eip_id)),
        );
        let nat_id = format!("nat/{suffix}");
        b.graph.add(
            Desired::new(&nat_id, Kind::NatGateway)
                .with("subnet_id", id_of(&subnet_id(PUBLIC, suffix)))
                .with("allocation_id", Value::reference(&eip, "id"))
                .with("tags", b.tags(&nat_id))
                // A NAT gateway maps a public address, which needs the attached gateway; and
                // on destroy the gateway cannot be detached while the NAT gateway exists.
                .after(&attachment),
        );
    }

    // Private routing: per zone with per-az NAT, else one shared table.
    for (suffix, _) in &zones {
        let (rt_id, nat) = match c.network.nat {
            NatMode::PerAz => (
                format!("rt/private/{suffix}"),
                Some(format!("nat/{suffix}")),
            ),
            NatMode::Single => (
                "rt/private".to_string(),
                nat_zones.first().map(|z| format!("nat/{z}")),
            ),
            NatMode::None => ("rt/private".to_string(), None),
        };
        let rt = LogicalId::new(&rt_id);
        if b.graph.get(&rt).is_none() {
            add_route_table(b, &rt_id);
            if let Some(nat) = nat {
                let route_id = rt_id.replacen("rt/", "route/", 1);
                b.graph.add(
                    Desired::new(&route_id, Kind::Route)
                        .with("route_table_id", Value::reference(&rt, "id"))
                        .with("destination", Value::str("0.0.0.0/0"))
                        .with("nat_gateway_id", id_of(&nat)),
                );
            }
        }
        associate(b, &rt, &subnet_id(PRIVATE_APP, suffix));
        associate(b, &rt, &subnet_id(PRIVATE_DATA, suffix));
    }

    // Security groups: the ALB takes HTTP (and HTTPS with a certificate) from the internet;
    // nodes take the service NodePorts from the ALB only.
    let tls = c.alb.certificate_arn.is_some();
    let mut listen = vec![80];
    let mut node_ports = vec![c.service.node_port];
    if tls {
        listen.push(443);
        node_ports.push(c.service.grpc_node_port);
    }
    let from_internet: Vec<serde_json::Value> = listen
        .iter()
        .map(|p| json!({"protocol": "tcp", "from_port": p, "to_port": p, "cidr": "0.0.0.0/0"}))
        .collect();
    let alb_sg = add_security_group(
        b,
        "sg/alb",
        "alb",
        "ALB of the stack: HTTP(S) from the internet",
        Value::Lit(json!(from_internet)),
    );
    let from_alb = node_ports
        .iter()
        .map(|p| {
            Value::Map(BTreeMap::from([
                ("protocol".to_string(), Value::str("tcp")),
                ("from_port".to_string(), Value::Lit(json!(p))),
                ("to_port".to_string(), Value::Lit(json!(p))),
                (
                    "source_security_group_id".to_string(),
                    Value::reference(&alb_sg, "id"),
                ),
            ]))
        })
        .collect();
    add_security_group(
        b,
        "sg/nodes",
        "nodes",
        "EKS nodes of the stack: service NodePort from the ALB only",
        Value::List(from_alb),
    );
    // A private endpoint is reached from inside the VPC only: builds run there, in their own
    // group, and the control plane admits HTTPS from that group alone.
    if b.config.eks.endpoint == EndpointAccess::Private {
        let build = add_security_group(
            b,
            BUILD_SG,
            "build",
            "CodeBuild builds of the stack: no inbound",
            Value::List(Vec::new()),
        );
        let from_builds = Value::Map(BTreeMap::from([
            ("protocol".to_string(), Value::str("tcp")),
            ("from_port".to_string(), Value::Lit(json!(443))),
            ("to_port".to_string(), Value::Lit(json!(443))),
            (
                "source_security_group_id".to_string(),
                Value::reference(&build, "id"),
            ),
        ]));
        add_security_group(
            b,
            API_SG,
            "api",
            "EKS API of the stack: HTTPS from the stack's builds",
            Value::List(vec![from_builds]),
        );
    }
}

/// Logical id of the builds' security group (private endpoint only).
pub const BUILD_SG: &str = "sg/build";
/// Logical id of the group on the control plane admitting the builds (private endpoint only).
pub const API_SG: &str = "sg/api";

fn add_route_table(b: &mut Builder, id: &str) -> LogicalId {
    let rt = Desired::new(id, Kind::RouteTable)
        .with("vpc_id", id_of(VPC))
        .with("tags", b.tags(id));
    b.graph.add(rt)
}

fn associate(b: &mut Builder, rt: &LogicalId, subnet: &str) {
    let id = subnet.replacen("subnet/", "rta/", 1);
    b.graph.add(
        Desired::new(id, Kind::RouteTableAssociation)
            .with("route_table_id", Value::reference(rt, "id"))
            .with("subnet_id", id_of(subnet)),
    );
}

/// Adds security group `id` (named after the stack and `which`) with `ingress`.
pub(super) fn add_security_group(
    b: &mut Builder,
    id: &str,
    which: &str,
    description: &str,
    ingress: Value,
) -> LogicalId {
    let sg = Desired::new(id, Kind::SecurityGroup)
        .with("vpc_id", id_of(VPC))
        .with(
            "name",
            Value::str(naming::security_group(&b.config.stack, which)),
        )
        .with("description", Value::str(description))
        .with("ingress", ingress)
        .with("tags", b.tags(id));
    b.graph.add(sg)
}
