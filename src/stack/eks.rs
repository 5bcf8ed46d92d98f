//! The EKS cluster, the node group (with the launch template that puts the node security group
//! on the nodes), the service's namespace and the CodeBuild role's access entry.

use super::{endpoints, iam, logs, network, out, Builder};
use crate::config::{Config, EndpointAccess, RootVolume};
use crate::model::{Desired, Kind, LogicalId, Value, VERSION_OUTPUT};
use crate::naming;
use serde_json::json;

/// Lets the CodeBuild role apply the workload manifests and watch their rollouts in the
/// service's namespace, and nothing else: the narrowest EKS access policy that can create
/// Deployments, Services, ConfigMaps and PodDisruptionBudgets (it grants no RBAC, and only reads
/// of Namespace objects). The namespace itself is cluster-scoped, which no namespace-scoped
/// policy can create: `infra` makes it (`k8s/namespace/...`).
const DEPLOY_POLICY: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy";

/// Adds cluster, launch template, node group, namespace and access entry.
pub(super) fn add(b: &mut Builder) {
    let c = b.config;
    let stack = &c.stack;
    let app_subnets = network::private_app_subnet_ids(b);
    // The command layer resolves the version against EKS's list and the live cluster
    // (kinds::eks::versions) before the stack is built.
    let version = c.eks.version.clone().unwrap_or_default();

    let mut cluster = Desired::new("eks/cluster", Kind::EksCluster)
        .with("name", Value::str(naming::cluster(stack)))
        .with("version", Value::str(&version))
        .with("upgrade_policy", Value::str(c.eks.upgrade_policy.as_eks()))
        .with("role_arn", out("role/cluster", "arn"))
        .with("subnet_ids", app_subnets.clone())
        // API_AND_CONFIG_MAP enables access entries while keeping the ConfigMap readable.
        .with("authentication_mode", Value::str("API_AND_CONFIG_MAP"))
        .with("security_group_ids", control_plane_groups(c))
        .with("endpoint", endpoint(c))
        .with("logging", logging(c))
        .with("tags", b.tags("eks/cluster"))
        .after(&LogicalId::new("trust/cluster"));
    for a in iam::attachments_of("cluster") {
        cluster = cluster.after(&LogicalId::new(a));
    }
    // EKS creates its log group on first use, untagged and kept forever, unless it exists:
    // the stack's comes first, and goes only after the cluster.
    if !c.eks.logging.is_empty() {
        cluster = cluster.after(&LogicalId::new(logs::CLUSTER_LOG_GROUP));
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
            // IMDSv2 only, and no further than the node: pods cannot take its credentials.
            .with(
                "metadata",
                Value::Lit(json!({"http_tokens": "required", "hop_limit": 1})),
            )
            .with("root_volume", root_volume(&c.eks.root_volume))
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
        .with("launch_template_version", out("lt/nodes", VERSION_OUTPUT))
        .with(
            "scaling",
            Value::Lit(json!({"min": s.min, "desired": s.desired, "max": s.max})),
        )
        .with("version", Value::str(&version))
        .with("tags", b.tags("eks/nodegroup"))
        .after(&LogicalId::new("trust/node"));
    for a in iam::attachments_of("node") {
        nodes = nodes.after(&LogicalId::new(a));
    }
    // Nodes join the cluster and pull images through the NAT gateway, or without one through
    // the VPC endpoints (the S3 one a route in the subnets' associated table): whichever way
    // out, it is there before they boot.
    let ways_out = network::private_routes(b)
        .into_iter()
        .chain(endpoints::endpoint_ids(b));
    for id in ways_out {
        nodes = nodes.after(&id);
    }
    b.graph.add(nodes);

    let namespace = &c.service.namespace;
    b.graph.add(
        Desired::new(format!("k8s/namespace/{namespace}"), Kind::K8sNamespace)
            .with("cluster_name", out("eks/cluster", "name"))
            .with("name", Value::str(namespace))
            .with("labels", namespace_labels(stack)),
    );

    b.graph.add(
        Desired::new("eks/access/codebuild", Kind::EksAccessEntry)
            .with("cluster_name", out("eks/cluster", "name"))
            .with("principal_arn", out("role/codebuild", "arn"))
            .with("policy_arn", Value::str(DEPLOY_POLICY))
            .with(
                "access_scope",
                Value::Lit(json!({"type": "namespace", "namespaces": [namespace]})),
            )
            .with("tags", b.tags("eks/access/codebuild"))
            .after(&LogicalId::new("trust/codebuild")),
    );
}

/// The service namespace's labels: the workloads are built to the "restricted" Pod Security
/// Standard and the namespace enforces it (the latest version of it), and the ownership labels
/// that make the namespace this stack's (`infra/stack`, as the `infra:stack` tag does elsewhere).
fn namespace_labels(stack: &str) -> Value {
    Value::Lit(json!({
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
        "app.kubernetes.io/managed-by": "infra",
        "infra/stack": stack,
    }))
}

/// The nodes' root volume: gp3, always encrypted (with the config's key, or EBS's default).
fn root_volume(v: &RootVolume) -> Value {
    let mut volume = json!({
        // The root device of the EKS-optimized AMIs.
        "device_name": "/dev/xvda",
        "size_gib": v.size_gib,
        "volume_type": "gp3",
        "encrypted": true,
    });
    if let Some(key) = &v.kms_key_arn {
        volume["kms_key_id"] = json!(key);
    }
    Value::Lit(volume)
}

/// Who can reach the cluster's API: the VPC always; the internet within the config's CIDRs
/// unless the endpoint is private.
fn endpoint(c: &Config) -> Value {
    let public = c.eks.endpoint == EndpointAccess::PublicAndPrivate;
    let cidrs = if public {
        c.eks.public_access_cidrs.clone()
    } else {
        Vec::new()
    };
    Value::Lit(json!({"public": public, "private": true, "public_access_cidrs": cidrs}))
}

/// The control-plane log types to send, sorted as observe reports them.
fn logging(c: &Config) -> Value {
    let mut types: Vec<&str> = c.eks.logging.iter().map(|t| t.as_str()).collect();
    types.sort();
    Value::Lit(json!(types))
}

/// The control plane's own security groups: with a private endpoint, the one admitting builds.
fn control_plane_groups(c: &Config) -> Value {
    match c.eks.endpoint {
        EndpointAccess::Private => Value::List(vec![out(network::API_SG, "id")]),
        EndpointAccess::PublicAndPrivate => Value::List(Vec::new()),
    }
}
