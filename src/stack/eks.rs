//! The EKS cluster, the node group (with the launch template that puts the node security group
//! on the nodes) and the CodeBuild role's access entry.

use super::{iam, network, out, Builder};
use crate::config::NatMode;
use crate::model::{Desired, Kind, LogicalId, Value};
use crate::naming;
use serde_json::json;

/// Lets the CodeBuild role apply the manifests, Namespace included (namespaces are
/// cluster-scoped, which only the cluster admin policy covers among EKS's access policies).
const DEPLOY_POLICY: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

/// Adds cluster, launch template, node group and access entry.
pub(super) fn add(b: &mut Builder) {
    let c = b.config;
    let stack = &c.stack;
    let app_subnets = network::private_app_subnet_ids(b);

    let mut cluster = Desired::new("eks/cluster", Kind::EksCluster)
        .with("name", Value::str(naming::cluster(stack)))
        .with("version", Value::str(&c.eks.version))
        .with("role_arn", out("role/cluster", "arn"))
        .with("subnet_ids", app_subnets.clone())
        // API_AND_CONFIG_MAP enables access entries while keeping the ConfigMap readable.
        .with("authentication_mode", Value::str("API_AND_CONFIG_MAP"))
        .with("tags", b.tags("eks/cluster"))
        .after(&LogicalId::new("trust/cluster"));
    for a in iam::attachments_of("cluster") {
        cluster = cluster.after(&LogicalId::new(a));
    }
    b.graph.add(cluster);

    b.graph.add(
        Desired::new("lt/nodes", Kind::LaunchTemplate)
            .with("name", Value::str(naming::node_group(stack)))
            .with(
                "security_group_ids",
                Value::List(vec![
                    out("sg/nodes", "id"),
                    // Nodes given their own groups lose the cluster group, which the control
                    // plane uses to reach them; keep it.
                    out("eks/cluster", "cluster_security_group_id"),
                ]),
            )
            .with("tags", b.tags("lt/nodes")),
    );

    let s = c.eks.scaling;
    let mut nodes = Desired::new("eks/nodegroup", Kind::EksNodeGroup)
        .with("cluster_name", out("eks/cluster", "name"))
        .with("name", Value::str(naming::node_group(stack)))
        .with("node_role_arn", out("role/node", "arn"))
        .with("subnet_ids", app_subnets)
        .with("instance_types", Value::Lit(json!(c.eks.instance_types)))
        .with("launch_template_id", out("lt/nodes", "id"))
        .with(
            "scaling",
            Value::Lit(json!({"min": s.min, "desired": s.desired, "max": s.max})),
        )
        .with("version", Value::str(&c.eks.version))
        .with("tags", b.tags("eks/nodegroup"))
        .after(&LogicalId::new("trust/node"));
    for a in iam::attachments_of("node") {
        nodes = nodes.after(&LogicalId::new(a));
    }
    // Nodes join the cluster and pull images through the NAT gateway: routes first.
    if c.network.nat != NatMode::None {
        for id in network::private_routes(b) {
            nodes = nodes.after(&id);
        }
    }
    b.graph.add(nodes);

    b.graph.add(
        Desired::new("eks/access/codebuild", Kind::EksAccessEntry)
            .with("cluster_name", out("eks/cluster", "name"))
            .with("principal_arn", out("role/codebuild", "arn"))
            .with("policy_arn", Value::str(DEPLOY_POLICY))
            .with("access_scope", Value::str("cluster"))
            .with("tags", b.tags("eks/access/codebuild"))
            .after(&LogicalId::new("trust/codebuild")),
    );
}
