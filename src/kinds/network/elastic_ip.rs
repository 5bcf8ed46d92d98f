//! Elastic IPs for the NAT gateways.

use super::ec2::{logical_id, tag_spec, tags_json, update_tags};
use crate::aws::{gone_ok, AwsResultExt};
use crate::kinds::{Outputs, ResourceKind, Spec, StepCtx};
use crate::model::{Kind, Observed};
use crate::retry::{eventually, still_in_use, Budget};
use crate::snapshot::Snapshot;
use anyhow::{Context, Result};
use async_trait::async_trait;
use aws_sdk_ec2::types::{DomainType, ResourceType};

/// Elastic IP address.
pub struct ElasticIp;

fn outputs(allocation: &str, public_ip: Option<&str>) -> Outputs {
    let mut out = Outputs::from([("id".to_string(), allocation.to_string())]);
    if let Some(ip) = public_ip {
        out.insert("public_ip".to_string(), ip.to_string());
    }
    out
}

#[async_trait]
impl ResourceKind for ElasticIp {
    fn force_new(&self) -> &'static [&'static str] {
        &["domain"]
    }

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Observed>> {
        Ok(snap
            .addresses()
            .await?
            .iter()
            .filter_map(|a| {
                let id = a.allocation_id()?;
                let mut o = Observed::new(logical_id(a.tags(), id), Kind::ElasticIp, id)
                    .with("domain", a.domain().map(|d| d.as_str()).unwrap_or("vpc"))
                    .with("tags", tags_json(a.tags()));
                o.outputs = outputs(id, a.public_ip());
                Some(o)
            })
            .collect())
    }

    async fn create(&self, cx: &StepCtx<'_>, spec: &Spec) -> Result<Outputs> {
        let out = cx
            .aws
            .ec2
            .allocate_address()
            .domain(DomainType::Vpc)
            .tag_specifications(tag_spec(ResourceType::ElasticIp, spec))
            .send()
            .await
            .aws("AllocateAddress")?;
        let id = out
            .allocation_id()
            .context("AllocateAddress returned no allocation id")?;
        Ok(outputs(id, out.public_ip()))
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
        Ok(current.outputs.clone())
    }

    async fn delete(&self, cx: &StepCtx<'_>, current: &Observed) -> Result<()> {
        // A NAT gateway keeps its address until it is fully deleted.
        let r = eventually(
            Budget::RELEASE,
            |e| still_in_use(e) || e.is("AuthFailure"),
            || async {
                cx.aws
                    .ec2
                    .release_address()
                    .allocation_id(&current.physical_id)
                    .send()
                    .await
                    .map(|_| ())
                    .aws("ReleaseAddress")
            },
        )
        .await;
        gone_ok(r)?;
        Ok(())
    }
}
