//! The internet gateway (its attachment to the VPC is a kind of its own).

use super::ec2::{id_output, logical_id, tag_spec, tags_json, update_tags};
use crate::aws::{gone_ok, AwsResultExt};
use crate::kinds::{Outputs, ResourceKind, Spec, StepCtx};
use crate::model::{Kind, Observed};
use crate::snapshot::Snapshot;
use anyhow::{Context, Result};
use async_trait::async_trait;
use aws_sdk_ec2::types::ResourceType;

/// EC2 internet gateway.
pub struct InternetGateway;

#[async_trait]
impl ResourceKind for InternetGateway {
    fn force_new(&self) -> &'static [&'static str] {
        &[]
    }

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Observed>> {
        Ok(snap
            .internet_gateways()
            .await?
            .iter()
            .map(|g| {
                let id = g.internet_gateway_id().unwrap_or_default();
                Observed::new(logical_id(g.tags(), id), Kind::InternetGateway, id)
                    .with("tags", tags_json(g.tags()))
            })
            .collect())
    }

    async fn create(&self, cx: &StepCtx<'_>, spec: &Spec) -> Result<Outputs> {
        let out = cx
            .aws
            .ec2
            .create_internet_gateway()
            .tag_specifications(tag_spec(ResourceType::InternetGateway, spec))
            .send()
            .await
            .aws("CreateInternetGateway")?;
        let id = out
            .internet_gateway()
            .and_then(|g| g.internet_gateway_id())
            .context("CreateInternetGateway returned no id")?;
        Ok(id_output(id))
    }

    async fn update(
        &self,
        cx: &StepCtx<'_>,
        current: &Observed,
        spec: &Spec,
        _changed: &[String],
    ) -> Result<Outputs> {
        update_tags(
            cx.aws,
            &current.physical_id,
            current.attrs.get("tags"),
            spec,
        )
        .await?;
        Ok(id_output(&current.physical_id))
    }

    async fn delete(&self, cx: &StepCtx<'_>, current: &Observed) -> Result<()> {
        let r = cx
            .aws
            .ec2
            .delete_internet_gateway()
            .internet_gateway_id(&current.physical_id)
            .send()
            .await
            .map(|_| ())
            .aws("DeleteInternetGateway");
        gone_ok(r)?;
        Ok(())
    }
}
