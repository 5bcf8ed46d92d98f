use super::*;
use crate::config::{parse, NatMode, DEFAULT_YAML};
use crate::model::Kind;

fn graph(nat: NatMode) -> Graph {
    let mut c = parse(DEFAULT_YAML).unwrap();
    c.network.nat = nat;
    build(&c)
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
            Kind::IgwAttachment | Kind::Route | Kind::RouteTableAssociation
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
