//! A security group a Kubernetes controller made for a load balancer of the cluster (the
//! Load Balancer Controller's `k8s-…` frontend and `k8s-traffic-…` backend groups, the in-tree
//! controller's `k8s-elb-…`).

use super::never_made;
use crate::aws::AwsResultExt;
use crate::kinds::network::blockers::{delete_unblocked, Held};
use crate::kinds::{attrs, Change, Current, Found, Outputs, Resource, Snapshot, StepCtx};
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

impl Resource for K8sSecurityGroup {
    type Attrs = K8sSecurityGroupAttrs;

    async fn observe(&self, _snap: &Snapshot) -> Result<Vec<Found<Self::Attrs>>> {
        Ok(Vec::new()) // found by destroy alone (see `leftovers::find`)
    }

    async fn create(&self, _cx: &StepCtx<'_>, _want: &Self::Attrs) -> Result<Outputs> {
        never_made("security group made by a Kubernetes controller")
    }

    async fn update(&self, _cx: &StepCtx<'_>, _c: &Change<Self::Attrs>) -> Result<Outputs> {
        never_made("security group made by a Kubernetes controller")
    }

    /// The controller wrote rules naming this group into the node group's: those are revoked
    /// first, and a deleted load balancer's interfaces are waited out.
    async fn delete(&self, cx: &StepCtx<'_>, c: &Current<Self::Attrs>) -> Result<()> {
        let id = &c.physical_id;
        delete_unblocked(cx, Held::Group(id), || async {
            let r = cx.aws.ec2.delete_security_group().group_id(id).send().await;
            r.aws("DeleteSecurityGroup")
        })
        .await
    }
}

/// The group's attributes as EC2 describes it.
pub fn attrs_of(g: &SecurityGroup) -> K8sSecurityGroupAttrs {
    K8sSecurityGroupAttrs {
        name: g.group_name().unwrap_or_default().to_string(),
        vpc_id: g.vpc_id().unwrap_or_default().to_string(),
    }
}
