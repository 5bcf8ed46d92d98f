//! NAT gateways: created in a public subnet with an Elastic IP; they take minutes either way.

use super::ec2::{id_output, logical_id, tag_spec, tags_json, update_tags};
use crate::aws::{gone_ok, Aws, AwsResultExt};
use crate::kinds::{Outputs, ResourceKind, Spec, StepCtx};
use crate::model::{Kind, Observed};
use crate::retry::{eventually, not_found_yet, poll_until, Budget};
use crate::snapshot::Snapshot;
use anyhow::{bail, Context, Result};
use async_trait::async_trait;
use aws_sdk_ec2::types::{NatGatewayState, ResourceType};
use std::time::Duration;

/// NAT gateway.
pub struct NatGateway;

/// AWS documents 1 to 3 minutes; allow far more before calling it stuck.
const TIMEOUT: Duration = Duration::from_secs(20 * 60);

async fn state(aws: &Aws, id: &str) -> Result<(Option<NatGatewayState>, Option<String>)> {
    let out = eventually(Budget::FRESH_ID, not_found_yet, || async {
        aws.ec2
            .describe_nat_gateways()
            .nat_gateway_ids(id)
            .send()
            .await
            .aws("DescribeNatGateways")
    })
    .await;
    let out = match out {
        Err(e) if e.is_not_found() => return Ok((Some(NatGatewayState::Deleted), None)),
        other => other?,
    };
    let g = out.nat_gateways().first();
    Ok((
        g.and_then(|g| g.state().cloned()),
        g.and_then(|g| g.failure_message().map(str::to_string)),
    ))
}

/// Waits until the gateway `id` is available; fails with AWS's reason if it failed.
async fn wait_available(cx: &StepCtx<'_>, id: &str) -> Result<()> {
    cx.note(&format!("waiting for {id} to become available"));
    poll_until(
        &format!("NAT gateway {id} to become available"),
        TIMEOUT,
        || async {
            match state(cx.aws, id).await? {
                (Some(NatGatewayState::Available), _) => Ok(Some(())),
                (Some(NatGatewayState::Failed), msg) => bail!(
                    "NAT gateway {id} failed: {}",
                    msg.unwrap_or_else(|| "no reason given".into())
                ),
                (Some(NatGatewayState::Deleted | NatGatewayState::Deleting), _) => {
                    bail!("NAT gateway {id} was deleted while being created")
                }
                _ => Ok(None),
            }
        },
    )
    .await
}

#[async_trait]
impl ResourceKind for NatGateway {
    fn force_new(&self) -> &'static [&'static str] {
        &["subnet_id", "allocation_id"]
    }

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Observed>> {
        let mut out = Vec::new();
        for g in snap.nat_gateways().await? {
            // Deleted gateways stay listed for about an hour; deleting ones are on their way out.
            if matches!(
                g.state(),
                Some(NatGatewayState::Deleted | NatGatewayState::Deleting)
            ) {
                continue;
            }
            let id = g.nat_gateway_id().unwrap_or_default();
            let allocation = g
                .nat_gateway_addresses()
                .first()
                .and_then(|a| a.allocation_id())
                .unwrap_or_default();
            let mut o = Observed::new(logical_id(g.tags(), id), Kind::NatGateway, id)
                .with("subnet_id", g.subnet_id().unwrap_or_default())
                .with("allocation_id", allocation)
                .with("tags", tags_json(g.tags()));
            if g.state() == Some(&NatGatewayState::Pending) {
                o.pending = Some("still pending: apply waits until it is available".into());
            }
            if g.state() == Some(&NatGatewayState::Failed) {
                o.broken = Some(format!(
                    "NAT gateway failed: {}",
                    g.failure_message().unwrap_or("no reason given")
                ));
            }
            out.push(o);
        }
        Ok(out)
    }

    async fn create(&self, cx: &StepCtx<'_>, spec: &Spec) -> Result<Outputs> {
        let (subnet, allocation) = (spec.str("subnet_id")?, spec.str("allocation_id")?);
        // The token makes the SDK's own retries of this call idempotent.
        let token = format!("{:032x}", fastrand::u128(..));
        let out = eventually(Budget::FRESH_ID, not_found_yet, || async {
            cx.aws
                .ec2
                .create_nat_gateway()
                .subnet_id(subnet)
                .allocation_id(allocation)
                .client_token(&token)
                .tag_specifications(tag_spec(ResourceType::Natgateway, spec))
                .send()
                .await
                .aws("CreateNatGateway")
        })
        .await?;
        let id = out
            .nat_gateway()
            .and_then(|g| g.nat_gateway_id())
            .context("CreateNatGateway returned no id")?
            .to_string();
        wait_available(cx, &id).await?;
        Ok(id_output(&id))
    }

    async fn update(
        &self,
        cx: &StepCtx<'_>,
        current: &Observed,
        spec: &Spec,
        _changed: &[String],
    ) -> Result<Outputs> {
        if current.pending.is_some() {
            wait_available(cx, &current.physical_id).await?;
        }
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
        let id = &current.physical_id;
        let r = cx
            .aws
            .ec2
            .delete_nat_gateway()
            .nat_gateway_id(id)
            .send()
            .await
            .map(|_| ())
            .aws("DeleteNatGateway");
        match r {
            Err(e) if e.is("NatGatewayNotFound") => return Ok(()),
            other => gone_ok(other)?,
        }
        // Its Elastic IP and the internet gateway stay in use until it is fully deleted.
        cx.note(&format!("waiting for {id} to be deleted"));
        poll_until(
            &format!("NAT gateway {id} to be deleted"),
            TIMEOUT,
            || async {
                Ok(matches!(
                    state(cx.aws, id).await?.0,
                    Some(NatGatewayState::Deleted) | None
                )
                .then_some(()))
            },
        )
        .await
    }
}
