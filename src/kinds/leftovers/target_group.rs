//! A target group a Kubernetes controller made for a Service or an Ingress of the cluster.

use super::never_made;
use crate::kinds::{attrs, Change, Current, Found, Outputs, Resource, Snapshot, StepCtx};
use crate::retry::{delete_eventually, Budget};
use anyhow::Result;
use aws_sdk_elasticloadbalancingv2::types::TargetGroup;

/// Target group left by a Kubernetes controller.
pub struct K8sTargetGroup;

attrs! {
    /// What orders its deletion: before its VPC.
    pub struct K8sTargetGroupAttrs {
        /// Its name.
        name: String,
        /// Its VPC.
        vpc_id: String,
    }
}

impl Resource for K8sTargetGroup {
    type Attrs = K8sTargetGroupAttrs;

    async fn observe(&self, _snap: &Snapshot) -> Result<Vec<Found<Self::Attrs>>> {
        Ok(Vec::new()) // found by destroy alone (see `leftovers::find`)
    }

    async fn create(&self, _cx: &StepCtx<'_>, _want: &Self::Attrs) -> Result<Outputs> {
        never_made("target group made by a Kubernetes controller")
    }

    async fn update(&self, _cx: &StepCtx<'_>, _c: &Change<Self::Attrs>) -> Result<Outputs> {
        never_made("target group made by a Kubernetes controller")
    }

    async fn delete(&self, cx: &StepCtx<'_>, c: &Current<Self::Attrs>) -> Result<()> {
        // A listener deleted with its load balancer a moment ago may still hold it briefly.
        delete_eventually(
            Budget::FRESH_ID,
            |e| e.is("ResourceInUse"),
            "DeleteTargetGroup",
            || {
                cx.aws
                    .elb
                    .delete_target_group()
                    .target_group_arn(&c.physical_id)
                    .send()
            },
        )
        .await
    }
}

/// The target group's attributes as ELB describes it.
pub fn attrs_of(tg: &TargetGroup) -> K8sTargetGroupAttrs {
    K8sTargetGroupAttrs {
        name: tg.target_group_name().unwrap_or_default().to_string(),
        vpc_id: tg.vpc_id().unwrap_or_default().to_string(),
    }
}
