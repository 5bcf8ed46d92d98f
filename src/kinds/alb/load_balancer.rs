//! Application Load Balancer: internet-facing, in the public subnets; provisioning takes minutes.

use super::{arn_outputs, describe_load_balancer, describe_tags, owned, spec_tags, str_list};
use crate::aws::{gone_ok, Aws, AwsResultExt};
use crate::kinds::{Outputs, ResourceKind, Spec, StepCtx};
use crate::model::{Kind, LogicalId, Observed};
use crate::retry::{eventually, poll_until, Budget};
use crate::snapshot::Snapshot;
use anyhow::{bail, Context, Result};
use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{
    IpAddressType, LoadBalancer as ElbLoadBalancer, LoadBalancerSchemeEnum, LoadBalancerStateEnum,
    LoadBalancerTypeEnum,
};
use std::time::Duration;

/// Application Load Balancer.
pub struct LoadBalancer;

/// The ALB's logical id.
const ID: &str = "alb";

/// AWS documents 1 to 3 minutes of provisioning; allow far more before calling it stuck.
const TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// The ALB with this ARN, `None` once it is gone.
async fn describe(aws: &Aws, arn: &str) -> Result<Option<ElbLoadBalancer>> {
    let r = aws
        .elb
        .describe_load_balancers()
        .load_balancer_arns(arn)
        .send()
        .await
        .aws("DescribeLoadBalancers");
    match r {
        Ok(out) => Ok(out.load_balancers.unwrap_or_default().into_iter().next()),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn outputs(arn: &str, dns: &str) -> Outputs {
    let mut out = arn_outputs(arn);
    out.insert("dns_name".to_string(), dns.to_string());
    out
}

/// Waits until the load balancer is active; fails with AWS's reason if it failed.
async fn wait_active(cx: &StepCtx<'_>, name: &str, arn: &str) -> Result<()> {
    cx.note(&format!("waiting for {name} to become active"));
    poll_until(
        &format!("load balancer {name} to become active"),
        TIMEOUT,
        || async {
            let Some(lb) = describe(cx.aws, arn).await? else {
                bail!("load balancer {name} was deleted while being created");
            };
            let state = lb.state();
            match state.and_then(|s| s.code()) {
                // Impaired still serves traffic: AWS is only short of its target capacity.
                Some(LoadBalancerStateEnum::Active | LoadBalancerStateEnum::ActiveImpaired) => {
                    Ok(Some(()))
                }
                Some(LoadBalancerStateEnum::Failed) => bail!(
                    "load balancer {name} failed: {}",
                    state.and_then(|s| s.reason()).unwrap_or("no reason given")
                ),
                _ => Ok(None),
            }
        },
    )
    .await
}

#[async_trait]
impl ResourceKind for LoadBalancer {
    fn force_new(&self) -> &'static [&'static str] {
        &["name", "scheme"]
    }

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Observed>> {
        let lb = describe_load_balancer(snap).await?;
        let Some(lb) = lb.as_ref() else {
            return Ok(Vec::new());
        };
        let arn = lb.load_balancer_arn().unwrap_or_default();
        let all_tags = describe_tags(snap).await?;
        let tags = all_tags.get(arn).map(Vec::as_slice).unwrap_or_default();
        let subnets: Vec<&str> = lb
            .availability_zones()
            .iter()
            .filter_map(|z| z.subnet_id())
            .collect();
        // Only one ALB can carry the stack's name, so the logical id is fixed.
        let mut o = Observed::new(LogicalId::new(ID), Kind::LoadBalancer, arn)
            .with("name", lb.load_balancer_name().unwrap_or_default())
            .with(
                "scheme",
                lb.scheme().map(|s| s.as_str()).unwrap_or_default(),
            )
            .with("subnet_ids", subnets)
            .with("security_group_ids", lb.security_groups().to_vec())
            .with("tags", super::tags_json(tags));
        o.outputs = outputs(arn, lb.dns_name().unwrap_or_default());
        o.unowned = !owned(tags, snap.stack());
        let state = lb.state();
        if state.and_then(|s| s.code()) == Some(&LoadBalancerStateEnum::Provisioning) {
            o.pending = Some("still provisioning: apply waits until it is active".into());
        }
        if state.and_then(|s| s.code()) == Some(&LoadBalancerStateEnum::Failed) {
            o.broken = Some(format!(
                "load balancer failed: {}",
                state.and_then(|s| s.reason()).unwrap_or("no reason given")
            ));
        }
        Ok(vec![o])
    }

    async fn create(&self, cx: &StepCtx<'_>, spec: &Spec) -> Result<Outputs> {
        let name = spec.str("name")?;
        let scheme = LoadBalancerSchemeEnum::from(spec.str("scheme")?);
        let (subnets, groups) = (
            str_list(spec, "subnet_ids"),
            str_list(spec, "security_group_ids"),
        );
        // CreateLoadBalancer is idempotent for identical settings, so SDK retries are safe.
        let out = eventually(
            Budget::FRESH_ID,
            // Subnets and groups created a moment ago may not be visible to ELB yet.
            |e| e.is("SubnetNotFound") || e.is("InvalidSecurityGroup"),
            || async {
                cx.aws
                    .elb
                    .create_load_balancer()
                    .name(name)
                    .set_subnets(Some(subnets.clone()))
                    .set_security_groups(Some(groups.clone()))
                    .scheme(scheme.clone())
                    .r#type(LoadBalancerTypeEnum::Application)
                    .ip_address_type(IpAddressType::Ipv4)
                    .set_tags(Some(spec_tags(spec)))
                    .send()
                    .await
                    .aws("CreateLoadBalancer")
            },
        )
        .await?;
        let lb = out
            .load_balancers()
            .first()
            .context("CreateLoadBalancer returned no load balancer")?;
        let arn = lb
            .load_balancer_arn()
            .context("CreateLoadBalancer returned no ARN")?
            .to_string();
        let dns = lb.dns_name().unwrap_or_default().to_string();
        wait_active(cx, name, &arn).await?;
        Ok(outputs(&arn, &dns))
    }

    async fn update(
        &self,
        cx: &StepCtx<'_>,
        current: &Observed,
        spec: &Spec,
        changed: &[String],
    ) -> Result<Outputs> {
        let arn = &current.physical_id;
        if current.pending.is_some() {
            let name = spec.str("name")?;
            wait_active(cx, name, arn).await?;
        }
        let changed = |a: &str| changed.iter().any(|c| c == a);
        if changed("subnet_ids") {
            cx.aws
                .elb
                .set_subnets()
                .load_balancer_arn(arn)
                .set_subnets(Some(str_list(spec, "subnet_ids")))
                .send()
                .await
                .aws("SetSubnets")?;
        }
        if changed("security_group_ids") {
            cx.aws
                .elb
                .set_security_groups()
                .load_balancer_arn(arn)
                .set_security_groups(Some(str_list(spec, "security_group_ids")))
                .send()
                .await
                .aws("SetSecurityGroups")?;
        }
        if changed("tags") {
            super::update_tags(cx.aws, arn, current.attrs.get("tags"), spec).await?;
        }
        let dns = current
            .outputs
            .get("dns_name")
            .map(String::as_str)
            .unwrap_or_default();
        Ok(outputs(arn, dns))
    }

    async fn delete(&self, cx: &StepCtx<'_>, current: &Observed) -> Result<()> {
        let arn = &current.physical_id;
        gone_ok(
            cx.aws
                .elb
                .delete_load_balancer()
                .load_balancer_arn(arn)
                .send()
                .await
                .map(|_| ())
                .aws("DeleteLoadBalancer"),
        )?;
        // Deletion is asynchronous; its subnets and security group stay in use until it is gone.
        cx.note(&format!("waiting for {arn} to be deleted"));
        poll_until(
            &format!("load balancer {arn} to be deleted"),
            TIMEOUT,
            || async { Ok(describe(cx.aws, arn).await?.is_none().then_some(())) },
        )
        .await
    }
}
