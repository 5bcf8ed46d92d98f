//! NAT gateways: created in a public subnet with an Elastic IP; they take minutes either way.

use crate::aws::{absent_ok, Aws, AwsResultExt};
use crate::kinds::{attrs, Change, Current, Found, Outputs, Resource, Snapshot, StepCtx};
use crate::retry::{not_found_yet, poll_until, send_eventually, Budget};
use crate::tags::{untracked, Tagged, Tags};
use anyhow::{bail, Context, Result};
use aws_sdk_ec2::types::{NatGatewayState, ResourceType};
use std::time::Duration;

/// NAT gateway.
pub struct NatGateway;

attrs! {
    /// What a NAT gateway is made of.
    pub struct NatGatewayAttrs {
        /// The public subnet it lives in.
        subnet_id: String => ForceNew,
        /// The allocation id of its Elastic IP.
        allocation_id: String => ForceNew,
        /// Its tags.
        tags: Tags,
    }
}

/// AWS documents 1 to 3 minutes; allow far more before calling it stuck.
const TIMEOUT: Duration = Duration::from_secs(20 * 60);

async fn state(aws: &Aws, id: &str) -> Result<(Option<NatGatewayState>, Option<String>)> {
    let out = send_eventually(
        Budget::FRESH_ID,
        not_found_yet,
        "DescribeNatGateways",
        || aws.ec2.describe_nat_gateways().nat_gateway_ids(id).send(),
    )
    .await;
    let Some(out) = absent_ok(out)? else {
        return Ok((Some(NatGatewayState::Deleted), None));
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

/// The gateway as observe reports it: none once deleted or deleting, pending while it comes
/// up, broken when it failed.
fn found(g: &aws_sdk_ec2::types::NatGateway, stack: &str) -> Option<Found<NatGatewayAttrs>> {
    // Deleted gateways stay listed for about an hour; deleting ones are on their way out.
    if matches!(
        g.state(),
        Some(NatGatewayState::Deleted | NatGatewayState::Deleting)
    ) {
        return None;
    }
    let id = g.nat_gateway_id().unwrap_or_default();
    let attrs = attrs_of(g);
    let mut found = Found::by_tags(stack, &untracked(id), id, attrs);
    if g.state() == Some(&NatGatewayState::Pending) {
        found.coming_up("pending", "available");
    }
    if g.state() == Some(&NatGatewayState::Failed) {
        found.broken = Some(format!(
            "NAT gateway failed: {}",
            g.failure_message().unwrap_or("no reason given")
        ));
    }
    Some(found)
}

impl Resource for NatGateway {
    type Attrs = NatGatewayAttrs;

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Found<Self::Attrs>>> {
        let all = snap.nat_gateways().await?;
        Ok(all.iter().filter_map(|g| found(g, snap.stack())).collect())
    }

    async fn create(&self, cx: &StepCtx<'_>, want: &Self::Attrs) -> Result<Outputs> {
        // The token makes the SDK's own retries of this call idempotent.
        let token = format!("{:032x}", fastrand::u128(..));
        let out = send_eventually(Budget::FRESH_ID, not_found_yet, "CreateNatGateway", || {
            cx.aws
                .ec2
                .create_nat_gateway()
                .subnet_id(&want.subnet_id)
                .allocation_id(&want.allocation_id)
                .client_token(&token)
                .tag_specifications(want.tags.ec2_spec(ResourceType::Natgateway))
                .send()
        })
        .await?;
        let id = out
            .nat_gateway()
            .and_then(|g| g.nat_gateway_id())
            .context("CreateNatGateway returned no id")?
            .to_string();
        wait_available(cx, &id).await?;
        Ok(Outputs::from([("id".to_string(), id)]))
    }

    async fn update(&self, cx: &StepCtx<'_>, c: &Change<Self::Attrs>) -> Result<Outputs> {
        let (id, _have) = (&c.physical_id, &c.have);
        if c.pending.is_some() {
            wait_available(cx, id).await?;
        }
        c.retag(cx.aws, Tagged::Ec2(id)).await
    }

    async fn delete(&self, cx: &StepCtx<'_>, c: &Current<Self::Attrs>) -> Result<()> {
        let id = &c.physical_id;
        let r = cx
            .aws
            .ec2
            .delete_nat_gateway()
            .nat_gateway_id(id)
            .send()
            .await
            .aws("DeleteNatGateway");
        if absent_ok(r)?.is_none() {
            return Ok(());
        }
        // Its Elastic IP and the internet gateway stay in use until it is fully deleted.
        let gone = || async {
            let (state, _) = state(cx.aws, id).await?;
            Ok(matches!(state, Some(NatGatewayState::Deleted) | None))
        };
        cx.wait_deleted(&format!("NAT gateway {id}"), TIMEOUT, gone)
            .await
    }
}

/// The gateway's attributes as EC2 describes them.
fn attrs_of(g: &aws_sdk_ec2::types::NatGateway) -> NatGatewayAttrs {
    let allocation = g
        .nat_gateway_addresses()
        .first()
        .and_then(|a| a.allocation_id())
        .unwrap_or_default();
    NatGatewayAttrs {
        subnet_id: g.subnet_id().unwrap_or_default().to_string(),
        allocation_id: allocation.to_string(),
        tags: Tags::from(g.tags()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests_typed::{default_config, desired};
    use aws_sdk_ec2::types::{NatGateway as Ec2NatGateway, NatGatewayAddress};

    /// The stack's gateway in zone a as DescribeNatGateways returns it, in `state`.
    fn described(state: NatGatewayState) -> Ec2NatGateway {
        Ec2NatGateway::builder()
            .nat_gateway_id("nat-0a1b2c3d")
            .subnet_id("subnet/public/a.id")
            .vpc_id("vpc.id")
            .state(state)
            .nat_gateway_addresses(
                NatGatewayAddress::builder()
                    .allocation_id("eip/a.id")
                    .public_ip("198.51.100.7")
                    .build(),
            )
            .set_tags(Some(desired::<NatGatewayAttrs>("nat/a").tags.to_ec2()))
            .build()
    }

    #[test]
    fn observed_attributes_equal_the_desired_ones() {
        let want: NatGatewayAttrs = desired("nat/a");
        assert_eq!(attrs_of(&described(NatGatewayState::Available)), want);
        let found = found(
            &described(NatGatewayState::Available),
            &default_config().stack,
        );
        let found = found.unwrap();
        assert_eq!(found.id.as_str(), "nat/a");
        assert_eq!((found.pending, found.broken), (None, None));
    }

    #[test]
    fn states_decide_pending_broken_and_gone() {
        let stack = default_config().stack;
        let pending = found(&described(NatGatewayState::Pending), &stack).unwrap();
        assert!(pending.pending.is_some() && pending.broken.is_none());
        let failed = Ec2NatGateway::builder()
            .failure_message("no capacity")
            .state(NatGatewayState::Failed)
            .set_tags(Some(desired::<NatGatewayAttrs>("nat/a").tags.to_ec2()))
            .build();
        let failed = found(&failed, &stack).unwrap();
        assert_eq!(
            failed.broken.as_deref(),
            Some("NAT gateway failed: no capacity")
        );
        for gone in [NatGatewayState::Deleting, NatGatewayState::Deleted] {
            assert!(found(&described(gone), &stack).is_none());
        }
    }
}
