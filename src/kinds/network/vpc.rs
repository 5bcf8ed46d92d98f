//! The VPC, with DNS support and hostnames (EKS needs both for private endpoint resolution).

use super::ec2::{id_output, logical_id, tag_spec, tags_json, update_tags};
use crate::aws::{gone_ok, Aws, AwsResultExt};
use crate::kinds::{Outputs, ResourceKind, Spec, StepCtx};
use crate::model::{Kind, Observed};
use crate::observe::Snapshot;
use crate::retry::{eventually, not_found_yet, still_in_use, Budget};
use anyhow::{Context, Result};
use async_trait::async_trait;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, VpcAttributeName};

/// EC2 VPC.
pub struct Vpc;

async fn dns_attribute(aws: &Aws, vpc: &str, name: VpcAttributeName) -> Result<bool> {
    let out = aws
        .ec2
        .describe_vpc_attribute()
        .vpc_id(vpc)
        .attribute(name.clone())
        .send()
        .await
        .aws("DescribeVpcAttribute")?;
    let value = match name {
        VpcAttributeName::EnableDnsSupport => out.enable_dns_support(),
        _ => out.enable_dns_hostnames(),
    };
    Ok(value.and_then(|v| v.value()).unwrap_or(false))
}

/// ModifyVpcAttribute takes one attribute per call.
async fn set_dns(aws: &Aws, vpc: &str, attr: &str, on: bool) -> Result<()> {
    let value = AttributeBooleanValue::builder().value(on).build();
    eventually(Budget::FRESH_ID, not_found_yet, || async {
        let call = aws.ec2.modify_vpc_attribute().vpc_id(vpc);
        let call = if attr == "enable_dns_support" {
            call.enable_dns_support(value.clone())
        } else {
            call.enable_dns_hostnames(value.clone())
        };
        call.send().await.aws("ModifyVpcAttribute")
    })
    .await?;
    Ok(())
}

const DNS_ATTRS: [&str; 2] = ["enable_dns_support", "enable_dns_hostnames"];

#[async_trait]
impl ResourceKind for Vpc {
    fn force_new(&self) -> &'static [&'static str] {
        &["cidr_block"]
    }

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Observed>> {
        let mut out = Vec::new();
        for v in snap.vpcs().await? {
            let id = v.vpc_id().unwrap_or_default();
            let (support, hostnames) = tokio::try_join!(
                dns_attribute(snap.aws(), id, VpcAttributeName::EnableDnsSupport),
                dns_attribute(snap.aws(), id, VpcAttributeName::EnableDnsHostnames),
            )?;
            out.push(
                Observed::new(logical_id(v.tags(), id), Kind::Vpc, id)
                    .with("cidr_block", v.cidr_block().unwrap_or_default())
                    .with("enable_dns_support", support)
                    .with("enable_dns_hostnames", hostnames)
                    .with("tags", tags_json(v.tags())),
            );
        }
        Ok(out)
    }

    async fn create(&self, cx: &StepCtx<'_>, spec: &Spec) -> Result<Outputs> {
        let out = cx
            .aws
            .ec2
            .create_vpc()
            .cidr_block(spec.str("cidr_block")?)
            .tag_specifications(tag_spec(ResourceType::Vpc, spec))
            .send()
            .await
            .aws("CreateVpc")?;
        let id = out
            .vpc()
            .and_then(|v| v.vpc_id())
            .context("CreateVpc returned no VPC id")?;
        for attr in DNS_ATTRS {
            // AWS's defaults are support on, hostnames off; set both so the result never
            // depends on defaults.
            set_dns(cx.aws, id, attr, spec.flag(attr)).await?;
        }
        Ok(id_output(id))
    }

    async fn update(
        &self,
        cx: &StepCtx<'_>,
        current: &Observed,
        spec: &Spec,
        changed: &[String],
    ) -> Result<Outputs> {
        let id = &current.physical_id;
        for attr in DNS_ATTRS {
            if changed.iter().any(|c| c == attr) {
                set_dns(cx.aws, id, attr, spec.flag(attr)).await?;
            }
        }
        if changed.iter().any(|c| c == "tags") {
            update_tags(cx.aws, id, current.attrs.get("tags"), spec).await?;
        }
        Ok(id_output(id))
    }

    async fn delete(&self, cx: &StepCtx<'_>, current: &Observed) -> Result<()> {
        // ENIs of just-deleted NAT gateways and load balancers take a while to go away.
        let r = eventually(Budget::RELEASE, still_in_use, || async {
            cx.aws
                .ec2
                .delete_vpc()
                .vpc_id(&current.physical_id)
                .send()
                .await
                .map(|_| ())
                .aws("DeleteVpc")
        })
        .await;
        gone_ok(r)?;
        Ok(())
    }
}
