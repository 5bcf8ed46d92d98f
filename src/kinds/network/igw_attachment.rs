//! Attachment of the internet gateway to the VPC; found through the tagged gateway.

use super::ec2::{id_output, logical_id};
use crate::aws::{gone_ok, AwsResultExt};
use crate::kinds::{Outputs, ResourceKind, Spec, StepCtx};
use crate::model::{Kind, LogicalId, Observed};
use crate::retry::{eventually, not_found_yet, still_in_use, Budget};
use crate::snapshot::Snapshot;
use anyhow::{bail, Result};
use async_trait::async_trait;
use aws_sdk_ec2::types::AttachmentStatus;

/// Internet gateway attachment (untaggable).
pub struct IgwAttachment;

#[async_trait]
impl ResourceKind for IgwAttachment {
    fn force_new(&self) -> &'static [&'static str] {
        &["internet_gateway_id", "vpc_id"]
    }

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Observed>> {
        let mut out = Vec::new();
        for g in snap.internet_gateways().await? {
            let igw = g.internet_gateway_id().unwrap_or_default();
            let parent = logical_id(g.tags(), igw);
            for a in g.attachments() {
                if matches!(a.state(), Some(AttachmentStatus::Detached)) {
                    continue;
                }
                let vpc = a.vpc_id().unwrap_or_default();
                out.push(
                    Observed::new(
                        LogicalId::new(format!("{parent}-attachment")),
                        Kind::IgwAttachment,
                        format!("{igw}|{vpc}"),
                    )
                    .with("internet_gateway_id", igw)
                    .with("vpc_id", vpc),
                );
            }
        }
        Ok(out)
    }

    async fn create(&self, cx: &StepCtx<'_>, spec: &Spec) -> Result<Outputs> {
        let (igw, vpc) = (spec.str("internet_gateway_id")?, spec.str("vpc_id")?);
        eventually(Budget::FRESH_ID, not_found_yet, || async {
            cx.aws
                .ec2
                .attach_internet_gateway()
                .internet_gateway_id(igw)
                .vpc_id(vpc)
                .send()
                .await
                .aws("AttachInternetGateway")
        })
        .await?;
        Ok(id_output(&format!("{igw}|{vpc}")))
    }

    async fn update(
        &self,
        _cx: &StepCtx<'_>,
        current: &Observed,
        _spec: &Spec,
        changed: &[String],
    ) -> Result<Outputs> {
        bail!(
            "{} has no attribute that changes in place (asked to change {changed:?})",
            current.id
        )
    }

    async fn delete(&self, cx: &StepCtx<'_>, current: &Observed) -> Result<()> {
        let igw = current
            .attrs
            .get("internet_gateway_id")
            .and_then(|v| v.as_str());
        let vpc = current.attrs.get("vpc_id").and_then(|v| v.as_str());
        let (Some(igw), Some(vpc)) = (igw, vpc) else {
            bail!(
                "attachment {} lacks its gateway or VPC id",
                current.physical_id
            );
        };
        // Detaching fails while public addresses are still mapped in the VPC; NAT gateways
        // and load balancers release theirs asynchronously.
        let r = eventually(Budget::RELEASE, still_in_use, || async {
            cx.aws
                .ec2
                .detach_internet_gateway()
                .internet_gateway_id(igw)
                .vpc_id(vpc)
                .send()
                .await
                .map(|_| ())
                .aws("DetachInternetGateway")
        })
        .await;
        match r {
            Err(e) if e.is("Gateway.NotAttached") => Ok(()),
            other => Ok(gone_ok(other)?),
        }
    }
}
