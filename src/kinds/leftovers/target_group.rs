//! A target group a Kubernetes controller made for a Service or an Ingress of the cluster.

use super::delete_only;
use crate::kinds::alb::target_group::delete_target_group;
use crate::kinds::{attrs, Current, StepCtx};
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

delete_only!(
    K8sTargetGroup,
    K8sTargetGroupAttrs,
    "target group made by a Kubernetes controller",
    delete
);

async fn delete(cx: &StepCtx<'_>, c: &Current<K8sTargetGroupAttrs>) -> Result<()> {
    delete_target_group(cx, &c.physical_id).await
}

/// The target group's attributes as ELB describes it.
pub fn attrs_of(tg: &TargetGroup) -> K8sTargetGroupAttrs {
    K8sTargetGroupAttrs {
        name: tg.target_group_name().unwrap_or_default().to_string(),
        vpc_id: tg.vpc_id().unwrap_or_default().to_string(),
    }
}
