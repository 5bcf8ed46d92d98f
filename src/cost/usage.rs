//! What each resource is billed for by the hour, read from its attributes alone.

use crate::model::{Kind, LogicalId, Value};
use serde::Serialize;
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;
use std::fmt;

/// Something AWS bills by the hour, priced by one product of the Price List API.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Meter {
    /// An EKS control plane.
    EksStandard,
    /// The surcharge on an EKS control plane whose version is in extended support: billed on
    /// top of the standard hours ($0.10 + $0.50 in us-east-1).
    EksExtended,
    /// A NAT gateway (the data it processes is billed per GB on top).
    NatGateway,
    /// An Application Load Balancer (its capacity units are billed on top).
    LoadBalancer,
    /// A public IPv4 address in use: an Elastic IP, or one of an internet-facing ALB's.
    PublicIpv4,
    /// An on-demand Linux EC2 instance of this type.
    Instance(String),
    /// An interface VPC endpoint in one zone: billed per endpoint per zone-hour (the data it
    /// processes is billed per GB on top); gateway endpoints are free.
    VpcEndpoint,
}

impl Meter {
    /// A short stable name for machines: `nat-gateway`, `instance/m5.large`.
    pub fn key(&self) -> String {
        match self {
            Meter::EksStandard => "eks-control-plane".into(),
            Meter::EksExtended => "eks-extended-support".into(),
            Meter::NatGateway => "nat-gateway".into(),
            Meter::LoadBalancer => "application-load-balancer".into(),
            Meter::PublicIpv4 => "public-ipv4-address".into(),
            Meter::Instance(t) => format!("instance/{t}"),
            Meter::VpcEndpoint => "vpc-endpoint-zone".into(),
        }
    }
}

impl Serialize for Meter {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.key())
    }
}

impl fmt::Display for Meter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Meter::EksStandard => f.write_str("EKS control plane"),
            Meter::EksExtended => f.write_str("EKS extended support surcharge"),
            Meter::NatGateway => f.write_str("NAT gateway"),
            Meter::LoadBalancer => f.write_str("Application Load Balancer"),
            Meter::PublicIpv4 => f.write_str("public IPv4 address"),
            Meter::Instance(t) => write!(f, "{t} instance"),
            Meter::VpcEndpoint => f.write_str("VPC interface endpoint zone"),
        }
    }
}

/// How many of one meter a resource runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// The resource.
    pub id: LogicalId,
    /// What it is billed for.
    pub meter: Meter,
    /// How many run at once (nodes, addresses).
    pub count: u32,
}

/// The hourly usage of resource `id` of `kind` with attributes `attrs` (as observed, or as
/// desired with references left `null`: only literal values and list lengths matter here).
/// `extended` says whether a Kubernetes version is in extended support.
pub fn of(
    id: &LogicalId,
    kind: Kind,
    attrs: &Map<String, Json>,
    extended: &dyn Fn(&str) -> bool,
) -> Vec<Usage> {
    let one = |meter| Usage {
        id: id.clone(),
        meter,
        count: 1,
    };
    match kind {
        Kind::EksCluster => {
            let version = attrs.get("version").and_then(Json::as_str).unwrap_or("");
            let mut out = vec![one(Meter::EksStandard)];
            if extended(version) {
                out.push(one(Meter::EksExtended));
            }
            out
        }
        Kind::EksNodeGroup => {
            // On-demand managed node groups launch their first instance type (the Auto
            // Scaling group's "prioritized" allocation), so that is the one priced.
            let first = attrs
                .get("instance_types")
                .and_then(Json::as_array)
                .and_then(|t| t.first())
                .and_then(Json::as_str);
            let desired = attrs
                .get("scaling")
                .and_then(|s| s.get("desired"))
                .and_then(Json::as_u64)
                .unwrap_or(0);
            match first {
                Some(t) if desired > 0 => vec![Usage {
                    id: id.clone(),
                    meter: Meter::Instance(t.to_string()),
                    count: u32::try_from(desired).unwrap_or(u32::MAX),
                }],
                _ => Vec::new(),
            }
        }
        Kind::NatGateway => vec![one(Meter::NatGateway)],
        // Since February 2024 every public IPv4 address is billed, attached or idle; the NAT
        // gateways' addresses are these Elastic IPs.
        Kind::ElasticIp => vec![one(Meter::PublicIpv4)],
        Kind::LoadBalancer => {
            let mut out = vec![one(Meter::LoadBalancer)];
            // An internet-facing ALB holds one public address per zone (subnet) it is in.
            let public = attrs.get("scheme").and_then(Json::as_str) == Some("internet-facing");
            let zones = attrs
                .get("subnet_ids")
                .and_then(Json::as_array)
                .map_or(0, Vec::len);
            if public && zones > 0 {
                out.push(Usage {
                    id: id.clone(),
                    meter: Meter::PublicIpv4,
                    count: u32::try_from(zones).unwrap_or(u32::MAX),
                });
            }
            out
        }
        // An interface endpoint has one network interface per subnet, one subnet per zone,
        // and each is billed by the hour; a gateway endpoint (S3) costs nothing.
        Kind::VpcEndpoint => {
            let interface = attrs.get("endpoint_type").and_then(Json::as_str) == Some("Interface");
            let zones = attrs
                .get("subnet_ids")
                .and_then(Json::as_array)
                .map_or(0, Vec::len);
            if interface && zones > 0 {
                vec![Usage {
                    id: id.clone(),
                    meter: Meter::VpcEndpoint,
                    count: u32::try_from(zones).unwrap_or(u32::MAX),
                }]
            } else {
                Vec::new()
            }
        }
        _ => Vec::new(),
    }
}

/// Desired attributes in the observed shape: literals as they are, references as `null`.
pub fn literal_attrs(attrs: &BTreeMap<String, Value>) -> Map<String, Json> {
    attrs
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.resolve(&|_| Some(Json::Null)).unwrap_or(Json::Null),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn usage(kind: Kind, attrs: Json) -> Vec<(Meter, u32)> {
        let Json::Object(map) = attrs else {
            panic!("attrs must be an object")
        };
        of(&LogicalId::new("x"), kind, &map, &|v| v == "1.30")
            .into_iter()
            .map(|u| (u.meter, u.count))
            .collect()
    }

    #[test]
    fn a_cluster_is_billed_by_its_versions_support() {
        assert_eq!(
            usage(Kind::EksCluster, json!({"version": "1.33"})),
            [(Meter::EksStandard, 1)]
        );
        assert_eq!(
            usage(Kind::EksCluster, json!({"version": "1.30"})),
            [(Meter::EksStandard, 1), (Meter::EksExtended, 1)]
        );
    }

    #[test]
    fn nodes_are_the_desired_count_of_the_first_instance_type() {
        let attrs = json!({"instance_types": ["m5.large", "t3.large"], "scaling": {"min": 1, "desired": 3, "max": 5}});
        assert_eq!(
            usage(Kind::EksNodeGroup, attrs),
            [(Meter::Instance("m5.large".into()), 3)]
        );
        let none =
            json!({"instance_types": ["m5.large"], "scaling": {"min": 0, "desired": 0, "max": 2}});
        assert_eq!(usage(Kind::EksNodeGroup, none), []);
    }

    #[test]
    fn an_internet_facing_alb_holds_an_address_per_zone() {
        let public = json!({"scheme": "internet-facing", "subnet_ids": [null, null, null]});
        assert_eq!(
            usage(Kind::LoadBalancer, public),
            [(Meter::LoadBalancer, 1), (Meter::PublicIpv4, 3)]
        );
        let internal = json!({"scheme": "internal", "subnet_ids": ["a", "b"]});
        assert_eq!(
            usage(Kind::LoadBalancer, internal),
            [(Meter::LoadBalancer, 1)]
        );
    }

    #[test]
    fn references_keep_list_lengths() {
        let mut attrs = BTreeMap::new();
        attrs.insert(
            "subnet_ids".to_string(),
            Value::List(vec![
                Value::reference(&LogicalId::new("subnet/public/a"), "id"),
                Value::reference(&LogicalId::new("subnet/public/b"), "id"),
            ]),
        );
        attrs.insert("scheme".to_string(), Value::str("internet-facing"));
        let lit = literal_attrs(&attrs);
        assert_eq!(lit["subnet_ids"], json!([null, null]));
        assert_eq!(lit["scheme"], json!("internet-facing"));
    }

    #[test]
    fn an_interface_endpoint_is_billed_per_zone_and_a_gateway_one_is_free() {
        let interface = json!({"endpoint_type": "Interface", "subnet_ids": [null, null]});
        assert_eq!(
            usage(Kind::VpcEndpoint, interface),
            [(Meter::VpcEndpoint, 2)]
        );
        let gateway =
            json!({"endpoint_type": "Gateway", "subnet_ids": [], "route_table_ids": ["rtb-1"]});
        assert_eq!(usage(Kind::VpcEndpoint, gateway), []);
    }

    #[test]
    fn unbilled_kinds_cost_nothing() {
        assert_eq!(usage(Kind::Vpc, json!({})), []);
    }
}
