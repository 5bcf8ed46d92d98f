//! A load balancer a Kubernetes controller made for a Service or an Ingress of the cluster.

use super::delete_only;
use crate::aws::{absent_ok, delete_once, AwsResultExt};
use crate::kinds::{attrs, Current, StepCtx};
use anyhow::Result;
use aws_sdk_elasticloadbalancingv2::types::LoadBalancer;
use std::time::Duration;

/// Load balancer left by a Kubernetes controller.
pub struct K8sLoadBalancer;

attrs! {
    /// What orders its deletion: before its subnets, groups and target groups.
    pub struct K8sLoadBalancerAttrs {
        /// Its name.
        name: String,
        /// Its subnets.
        subnets: Vec<String>,
        /// Its security groups.
        security_groups: Vec<String>,
        /// The target groups its listeners forward to.
        target_groups: Vec<String>,
    }
}

delete_only!(
    K8sLoadBalancer,
    K8sLoadBalancerAttrs,
    "load balancer made by a Kubernetes controller",
    delete
);

/// Deleting a load balancer deletes its listeners with it.
async fn delete(cx: &StepCtx<'_>, c: &Current<K8sLoadBalancerAttrs>) -> Result<()> {
    let arn = &c.physical_id;
    let req = cx.aws.elb.delete_load_balancer().load_balancer_arn(arn);
    delete_once("DeleteLoadBalancer", req.send()).await?;
    let what = format!("load balancer {}", c.attrs.name);
    cx.wait_deleted(&what, Duration::from_secs(300), || async {
        let r = cx
            .aws
            .elb
            .describe_load_balancers()
            .load_balancer_arns(arn)
            .send()
            .await;
        let out = absent_ok(r.aws("DescribeLoadBalancers"))?;
        Ok(out.is_none_or(|o| o.load_balancers().is_empty()))
    })
    .await
}

/// The load balancer's attributes, with the target groups that forward from it.
pub fn attrs_of(lb: &LoadBalancer, target_groups: Vec<String>) -> K8sLoadBalancerAttrs {
    K8sLoadBalancerAttrs {
        name: lb.load_balancer_name().unwrap_or_default().to_string(),
        subnets: lb
            .availability_zones()
            .iter()
            .filter_map(|z| z.subnet_id())
            .map(str::to_string)
            .collect(),
        security_groups: lb.security_groups().to_vec(),
        target_groups,
    }
}
