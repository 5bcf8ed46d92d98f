//! Subnets: public ones map public IPs on launch, private ones do not.

use super::ec2::{id_output, logical_id, tag_spec, tags_json, update_tags};
use crate::aws::{gone_ok, Aws, AwsResultExt};
use crate::kinds::{Outputs, ResourceKind, Spec, StepCtx};
use crate::model::{Kind, Observed};
use crate::retry::{eventually, not_found_yet, still_in_use, Budget};
use crate::snapshot::Snapshot;
use anyhow::{Context, Result};
use async_trait::async_trait;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType};

/// EC2 subnet.
pub struct Subnet;

async fn set_public_ip(aws: &Aws, subnet: &str, on: bool) -> Result<()> {
    let value = AttributeBooleanValue::builder().value(on).build();
    eventually(Budget::FRESH_ID, not_found_yet, || async {
        aws.ec2
            .modify_subnet_attribute()
            .subnet_id(subnet)
            .map_public_ip_on_launch(value.clone())
            .send()
            .await
            .aws("ModifySubnetAttribute")
    })
    .await?;
    Ok(())
}

#[async_trait]
impl ResourceKind for Subnet {
    fn force_new(&self) -> &'static [&'static str] {
        &["vpc_id", "cidr_block", "availability_zone"]
    }

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Observed>> {
        Ok(snap
            .subnets()
            .await?
            .iter()
            .map(|s| {
                let id = s.subnet_id().unwrap_or_default();
                Observed::new(logical_id(s.tags(), id), Kind::Subnet, id)
                    .with("vpc_id", s.vpc_id().unwrap_or_default())
                    .with("cidr_block", s.cidr_block().unwrap_or_default())
                    .with(
                        "availability_zone",
                        s.availability_zone().unwrap_or_default(),
                    )
                    .with(
                        "map_public_ip_on_launch",
                        s.map_public_ip_on_launch().unwrap_or(false),
                    )
                    .with("tags", tags_json(s.tags()))
            })
            .collect())
    }

    async fn create(&self, cx: &StepCtx<'_>, spec: &Spec) -> Result<Outputs> {
        let out = eventually(Budget::FRESH_ID, not_found_yet, || async {
            cx.aws
                .ec2
                .create_subnet()
                .vpc_id(spec.str("vpc_id").unwrap_or_default())
                .cidr_block(spec.str("cidr_block").unwrap_or_default())
                .availability_zone(spec.str("availability_zone").unwrap_or_default())
                .tag_specifications(tag_spec(ResourceType::Subnet, spec))
                .send()
                .await
                .aws("CreateSubnet")
        })
        .await?;
        let id = out
            .subnet()
            .and_then(|s| s.subnet_id())
            .context("CreateSubnet returned no subnet id")?;
        if spec.flag("map_public_ip_on_launch") {
            set_public_ip(cx.aws, id, true).await?;
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
        if changed.iter().any(|c| c == "map_public_ip_on_launch") {
            set_public_ip(cx.aws, id, spec.flag("map_public_ip_on_launch")).await?;
        }
        if changed.iter().any(|c| c == "tags") {
            update_tags(cx.aws, id, current.attrs.get("tags"), spec).await?;
        }
        Ok(id_output(id))
    }

    async fn delete(&self, cx: &StepCtx<'_>, current: &Observed) -> Result<()> {
        let r = eventually(Budget::RELEASE, still_in_use, || async {
            cx.aws
                .ec2
                .delete_subnet()
                .subnet_id(&current.physical_id)
                .send()
                .await
                .map(|_| ())
                .aws("DeleteSubnet")
        })
        .await;
        gone_ok(r)?;
        Ok(())
    }
}
