//! A security group a Kubernetes controller made for a load balancer of the cluster (the
//! Load Balancer Controller's `k8s-…` frontend and `k8s-traffic-…` backend groups, the in-tree
//! controller's `k8s-elb-…`).

use super::delete_only;
use crate::kinds::network::blockers::delete_group;
use crate::kinds::{attrs, Current, StepCtx};
use anyhow::Result;
use aws_sdk_ec2::types::SecurityGroup;

/// Security group left by a Kubernetes controller.
pub struct K8sSecurityGroup;

attrs! {
    /// What orders its deletion: before its VPC.
    pub struct K8sSecurityGroupAttrs {
        /// Its name.
        name: String,
        /// Its VPC.
        vpc_id: String,
    }
}

delete_only!(
    K8sSecurityGroup,
    K8sSecurityGroupAttrs,
    "security group made by a Kubernetes controller",
    delete
);

/// The controller wrote rules naming this group into the node group's: those are revoked
/// first, and a deleted load balancer's interfaces are waited out.
async fn delete(cx: &StepCtx<'_>, c: &Current<K8sSecurityGroupAttrs>) -> Result<()> {
    delete_group(cx, &c.physical_id).await
}

/// The group's attributes as EC2 describes it.
pub fn attrs_of(g: &SecurityGroup) -> K8sSecurityGroupAttrs {
    K8sSecurityGroupAttrs {
        name: g.group_name().unwrap_or_default().to_string(),
        vpc_id: g.vpc_id().unwrap_or_default().to_string(),
    }
}
