//! VPC endpoints for a network without a NAT gateway (`network.nat: none`): without them the
//! private subnets reach no AWS service, and nodes never join the cluster (the node group ends
//! CREATE_FAILED with NodeCreationFailure after EKS's wait).
//!
//! Which services, from the EKS User Guide, "Deploy private clusters with limited internet
//! access" (<https://docs.aws.amazon.com/eks/latest/userguide/private-clusters.html>), taken
//! for what this stack's nodes and builds do:
//! - `s3` (gateway, free): ECR serves image layers from S3; the guide lists it with ECR.
//! - `ecr.api`, `ecr.dkr`: nodes pull the VPC CNI, kube-proxy and the service's images; builds
//!   in the VPC (a private cluster endpoint) log in, push and read tags.
//! - `ec2`: "If you use the EKS Optimized AMI, you should enable the `ec2` endpoint": the AMI
//!   names the node from the EC2 API, and the VPC CNI assigns addresses through it.
//! - `sts`: IAM roles for service accounts get credentials from STS, and a build in the VPC
//!   deploys as its role assumed through STS (`aws eks update-kubeconfig --role-arn`).
//! - `logs`: node and pod logs sent to CloudWatch Logs, and a build in the VPC writes its log
//!   there (CodeBuild User Guide, "Use VPC endpoints").
//!
//! Not taken: `eks-auth` (no Pod Identity associations here), `elasticloadbalancing` (no load
//! balancer controller: infra makes the ALB and attaches the node group's Auto Scaling group),
//! `autoscaling` (no Cluster Autoscaler), `ssm`, `xray`, `eks` (managed nodes get the cluster's
//! endpoint and CA in their user data and never call the EKS API). The cluster's private
//! endpoint access, which the guide also requires, is always on (stack/eks.rs).

use super::network::{self, VPC};
use super::Builder;
use crate::config::NatMode;
use crate::kinds::network::vpc_endpoint::{GATEWAY, INTERFACE};
use crate::model::{Desired, Kind, LogicalId, Value};
use serde_json::json;

/// Logical id of the security group on the interface endpoints.
pub const ENDPOINTS_SG: &str = "sg/endpoints";

/// The gateway endpoint's service suffix.
pub const GATEWAY_SERVICE: &str = "s3";

/// The interface endpoints' service suffixes (see the module's notes for why each).
pub const INTERFACE_SERVICES: &[&str] = &["ec2", "ecr.api", "ecr.dkr", "logs", "sts"];

/// Logical id of the endpoint for service suffix `service` (`vpce/ecr.api`).
pub fn endpoint_id(service: &str) -> String {
    format!("vpce/{service}")
}

/// The full service name EC2 knows `service` by in `region`.
fn service_name(region: &str, service: &str) -> String {
    format!("com.amazonaws.{region}.{service}")
}

/// Logical ids of every endpoint the stack has (none unless `nat: none`).
pub fn endpoint_ids(b: &Builder) -> Vec<LogicalId> {
    b.graph
        .resources
        .values()
        .filter(|r| r.kind == Kind::VpcEndpoint)
        .map(|r| r.id.clone())
        .collect()
}

/// Adds the endpoints and their security group when the private subnets have no NAT gateway.
pub(super) fn add(b: &mut Builder) {
    let c = b.config;
    if c.network.nat != NatMode::None {
        return;
    }
    let region = c.region.clone();
    let private_tables: Vec<Value> = b
        .graph
        .resources
        .values()
        .filter(|r| r.kind == Kind::RouteTable && r.id.as_str().starts_with("rt/private"))
        .map(|r| Value::reference(&r.id, "id"))
        .collect();
    let vpc = Value::reference(&LogicalId::new(VPC), "id");

    let s3 = endpoint_id(GATEWAY_SERVICE);
    b.graph.add(
        Desired::new(&s3, Kind::VpcEndpoint)
            .with("vpc_id", vpc.clone())
            .with(
                "service_name",
                Value::str(service_name(&region, GATEWAY_SERVICE)),
            )
            .with("endpoint_type", Value::str(GATEWAY))
            .with("route_table_ids", Value::List(private_tables))
            .with("subnet_ids", Value::List(Vec::new()))
            .with("security_group_ids", Value::List(Vec::new()))
            .with("private_dns_enabled", Value::bool(false))
            .with("tags", b.tags(&s3)),
    );

    // The interfaces answer HTTPS only, and only from inside the VPC (nodes, pods and builds).
    let from_vpc = json!([{
        "protocol": "tcp", "from_port": 443, "to_port": 443, "cidr": c.network.vpc_cidr,
    }]);
    let sg = network::add_security_group(
        b,
        ENDPOINTS_SG,
        "endpoints",
        "VPC interface endpoints of the stack: HTTPS from the VPC",
        Value::Lit(from_vpc),
    );
    for service in INTERFACE_SERVICES {
        let id = endpoint_id(service);
        b.graph.add(
            Desired::new(&id, Kind::VpcEndpoint)
                .with("vpc_id", vpc.clone())
                .with("service_name", Value::str(service_name(&region, service)))
                .with("endpoint_type", Value::str(INTERFACE))
                .with("route_table_ids", Value::List(Vec::new()))
                // One interface per zone, where the nodes are.
                .with("subnet_ids", network::private_app_subnet_ids(b))
                .with(
                    "security_group_ids",
                    Value::List(vec![Value::reference(&sg, "id")]),
                )
                // Private DNS lets every client keep the service's usual name.
                .with("private_dns_enabled", Value::bool(true))
                .with("tags", b.tags(&id)),
        );
    }
}
