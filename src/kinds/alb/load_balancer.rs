//! Application Load Balancer: internet-facing, in the public subnets; provisioning takes minutes.

use super::{arn_outputs, tags_of};
use crate::aws::{absent_ok, gone_ok, Aws, AwsError, AwsResultExt};
use crate::kinds::{
    attrs, created, differs, enum_text, Change, Current, Found, Outputs, Resource, Snapshot,
    StepCtx,
};
use crate::retry::{poll_until, send_eventually, Budget};
use crate::tags::{Tagged, Tags};
use anyhow::{bail, Context, Result};
use aws_sdk_elasticloadbalancingv2::types::{
    IpAddressType, LoadBalancer as ElbLoadBalancer, LoadBalancerSchemeEnum, LoadBalancerStateEnum,
    LoadBalancerTypeEnum,
};
use std::time::Duration;

/// Application Load Balancer.
pub struct LoadBalancer;

attrs! {
    /// What the ALB is made of.
    pub struct LoadBalancerAttrs {
        /// Its name, unique in the account and region.
        name: String => ForceNew,
        /// `internet-facing` or `internal`.
        scheme: String => ForceNew,
        /// The subnets it has a node in, one per zone.
        subnet_ids: Vec<String>,
        /// Its security groups.
        security_group_ids: Vec<String>,
        /// Its tags.
        tags: Tags,
    }
}

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
    Ok(absent_ok(r)?
        .and_then(|out| out.load_balancers)
        .and_then(|lbs| lbs.into_iter().next()))
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

impl Resource for LoadBalancer {
    type Attrs = LoadBalancerAttrs;

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Found<Self::Attrs>>> {
        let Some(lb) = snap.load_balancer().await? else {
            return Ok(Vec::new());
        };
        let arn = lb.load_balancer_arn().unwrap_or_default();
        let attrs = attrs_of(lb, tags_of(snap.elb_tags().await?, arn));
        // Only one ALB can carry the stack's name, so the id it would have is fixed.
        let mut found = Found::by_tags(snap.stack(), ID, arn, attrs)
            .output("arn", arn)
            .output("dns_name", lb.dns_name().unwrap_or_default());
        let state = lb.state();
        if state.and_then(|s| s.code()) == Some(&LoadBalancerStateEnum::Provisioning) {
            found.coming_up("provisioning", "active");
        }
        if state.and_then(|s| s.code()) == Some(&LoadBalancerStateEnum::Failed) {
            found.broken = Some(format!(
                "load balancer failed: {}",
                state.and_then(|s| s.reason()).unwrap_or("no reason given")
            ));
        }
        Ok(vec![found])
    }

    async fn create(&self, cx: &StepCtx<'_>, want: &Self::Attrs) -> Result<Outputs> {
        let name = &want.name;
        let scheme = LoadBalancerSchemeEnum::from(want.scheme.as_str());
        // CreateLoadBalancer is idempotent for identical settings, so SDK retries are safe.
        // Subnets and groups created a moment ago may not be visible to ELB yet.
        let fresh = |e: &AwsError| e.is("SubnetNotFound") || e.is("InvalidSecurityGroup");
        let out = send_eventually(Budget::FRESH_ID, fresh, "CreateLoadBalancer", || {
            cx.aws
                .elb
                .create_load_balancer()
                .name(name)
                .set_subnets(Some(want.subnet_ids.clone()))
                .set_security_groups(Some(want.security_group_ids.clone()))
                .scheme(scheme.clone())
                .r#type(LoadBalancerTypeEnum::Application)
                .ip_address_type(IpAddressType::Ipv4)
                .set_tags(Some(want.tags.to_elb()))
                .send()
        })
        .await?;
        let lb = created("CreateLoadBalancer", out.load_balancers().first())?;
        let arn = lb
            .load_balancer_arn()
            .context("CreateLoadBalancer returned no ARN")?
            .to_string();
        let dns = lb.dns_name().unwrap_or_default().to_string();
        wait_active(cx, name, &arn).await?;
        Ok(outputs(&arn, &dns))
    }

    async fn update(&self, cx: &StepCtx<'_>, c: &Change<Self::Attrs>) -> Result<Outputs> {
        let (arn, have) = (&c.physical_id, &c.have);
        if c.pending.is_some() {
            wait_active(cx, &c.want.name, arn).await?;
        }
        let elb = &cx.aws.elb;
        if differs(&have.subnet_ids, &c.want.subnet_ids) {
            let subnets = Some(c.want.subnet_ids.clone());
            let req = elb.set_subnets().load_balancer_arn(arn);
            req.set_subnets(subnets).send().await.aws("SetSubnets")?;
        }
        if differs(&have.security_group_ids, &c.want.security_group_ids) {
            let groups = Some(c.want.security_group_ids.clone());
            let req = elb.set_security_groups().load_balancer_arn(arn);
            req.set_security_groups(groups)
                .send()
                .await
                .aws("SetSecurityGroups")?;
        }
        // Neither call changes the ARN or the DNS name.
        c.retag(cx.aws, Tagged::Elb(arn)).await
    }

    async fn delete(&self, cx: &StepCtx<'_>, c: &Current<Self::Attrs>) -> Result<()> {
        let arn = &c.physical_id;
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
        let gone = || async { Ok(describe(cx.aws, arn).await?.is_none()) };
        cx.wait_deleted(&format!("load balancer {arn}"), TIMEOUT, gone)
            .await
    }
}

/// The ALB's attributes as DescribeLoadBalancers shows it (tags come from DescribeTags).
fn attrs_of(lb: &ElbLoadBalancer, tags: Tags) -> LoadBalancerAttrs {
    LoadBalancerAttrs {
        name: lb.load_balancer_name().unwrap_or_default().to_string(),
        scheme: enum_text(lb.scheme()),
        subnet_ids: lb
            .availability_zones()
            .iter()
            .filter_map(|z| z.subnet_id())
            .map(str::to_string)
            .collect(),
        security_group_ids: lb.security_groups().to_vec(),
        tags,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests_typed::desired;
    use aws_sdk_elasticloadbalancingv2::types::AvailabilityZone;

    #[test]
    fn observed_attributes_equal_the_desired_ones() {
        let want: LoadBalancerAttrs = desired("alb");
        // As DescribeLoadBalancers returns the stack's ALB: one zone per public subnet.
        let zone = |az: &str, subnet: &str| {
            AvailabilityZone::builder()
                .zone_name(az)
                .subnet_id(subnet)
                .build()
        };
        let lb = ElbLoadBalancer::builder()
            .load_balancer_arn(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/grpc-eks-alb/50dc6c495c0c9188",
            )
            .load_balancer_name("grpc-eks-alb")
            .dns_name("grpc-eks-alb-1234567890.us-east-1.elb.amazonaws.com")
            .scheme(LoadBalancerSchemeEnum::InternetFacing)
            .r#type(LoadBalancerTypeEnum::Application)
            .availability_zones(zone("us-east-1a", "subnet/public/a.id"))
            .availability_zones(zone("us-east-1b", "subnet/public/b.id"))
            .security_groups("sg/alb.id")
            .build();
        assert_eq!(attrs_of(&lb, want.tags.clone()), want);
    }
}
