//! Attachment of the internet gateway to the VPC; found through the tagged gateway.

use crate::aws::AwsResultExt;
use crate::kinds::network::blockers::{delete_unblocked, Held};
use crate::kinds::{attrs, Change, Current, Found, Outputs, Resource, Snapshot, StepCtx};
use crate::model::LogicalId;
use crate::retry::{not_found_yet, send_eventually, Budget};
use crate::tags::{untracked, Tags};
use anyhow::{bail, Result};
use aws_sdk_ec2::types::{AttachmentStatus, InternetGateway};

/// Internet gateway attachment (untaggable).
pub struct IgwAttachment;

attrs! {
    /// What attaches which gateway to which VPC.
    pub struct IgwAttachmentAttrs {
        /// The internet gateway.
        internet_gateway_id: String => ForceNew,
        /// The VPC it is attached to.
        vpc_id: String => ForceNew,
    }
}

/// The attachments of gateway `g`, named after the gateway (`igw` has `igw-attachment`).
fn found_in(g: &InternetGateway, stack: &str) -> Vec<Found<IgwAttachmentAttrs>> {
    let igw = g.internet_gateway_id().unwrap_or_default();
    let parent = Tags::from(g.tags()).identity(stack, &untracked(igw));
    g.attachments()
        .iter()
        .filter(|a| !matches!(a.state(), Some(AttachmentStatus::Detached)))
        .map(|a| {
            let vpc = a.vpc_id().unwrap_or_default();
            let attrs = IgwAttachmentAttrs {
                internet_gateway_id: igw.to_string(),
                vpc_id: vpc.to_string(),
            };
            let id = LogicalId::new(format!("{}-attachment", parent.id));
            let mut found = Found::new(id, format!("{igw}|{vpc}"), attrs);
            found.unowned = !parent.owned;
            found
        })
        .collect()
}

impl Resource for IgwAttachment {
    type Attrs = IgwAttachmentAttrs;

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Found<Self::Attrs>>> {
        let all = snap.internet_gateways().await?;
        Ok(all.iter().flat_map(|g| found_in(g, snap.stack())).collect())
    }

    async fn create(&self, cx: &StepCtx<'_>, want: &Self::Attrs) -> Result<Outputs> {
        let (igw, vpc) = (&want.internet_gateway_id, &want.vpc_id);
        send_eventually(
            Budget::FRESH_ID,
            not_found_yet,
            "AttachInternetGateway",
            || {
                cx.aws
                    .ec2
                    .attach_internet_gateway()
                    .internet_gateway_id(igw)
                    .vpc_id(vpc)
                    .send()
            },
        )
        .await?;
        Ok(Outputs::from([("id".to_string(), format!("{igw}|{vpc}"))]))
    }

    async fn update(&self, _cx: &StepCtx<'_>, c: &Change<Self::Attrs>) -> Result<Outputs> {
        bail!(
            "attachment {} has no attribute that changes in place (asked to go from {:?} to {:?})",
            c.physical_id,
            c.have,
            c.want
        )
    }

    async fn delete(&self, cx: &StepCtx<'_>, c: &Current<Self::Attrs>) -> Result<()> {
        let (igw, vpc) = (&c.attrs.internet_gateway_id, &c.attrs.vpc_id);
        // Detaching fails while public addresses are still mapped in the VPC; NAT gateways
        // and load balancers release theirs asynchronously, anyone else's are named.
        delete_unblocked(cx, Held::Gateway { igw, vpc }, || async {
            let req = cx.aws.ec2.detach_internet_gateway();
            let r = req.internet_gateway_id(igw).vpc_id(vpc).send().await;
            match r.aws("DetachInternetGateway") {
                Err(e) if e.is("Gateway.NotAttached") => Ok(()),
                other => other.map(|_| ()),
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::network::internet_gateway::InternetGatewayAttrs;
    use crate::kinds::tests_typed::{default_config, desired};
    use aws_sdk_ec2::types::InternetGatewayAttachment;

    /// The stack's gateway as DescribeInternetGateways returns it, with attachments in `states`.
    fn gateway(states: &[&str]) -> InternetGateway {
        let tags = desired::<InternetGatewayAttrs>("igw").tags;
        let attachments = states.iter().map(|s| {
            InternetGatewayAttachment::builder()
                .vpc_id("vpc.id")
                .state(AttachmentStatus::from(*s))
                .build()
        });
        InternetGateway::builder()
            // The placeholder the desired spec resolves the gateway reference to.
            .internet_gateway_id("igw.id")
            .set_attachments(Some(attachments.collect()))
            .set_tags(Some(tags.to_ec2()))
            .build()
    }

    #[test]
    fn observed_attributes_equal_the_desired_ones() {
        let want: IgwAttachmentAttrs = desired("igw-attachment");
        // "available" is what EC2 reports for an attached internet gateway.
        let found = found_in(&gateway(&["available"]), &default_config().stack);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id.as_str(), "igw-attachment");
        assert_eq!(found[0].physical_id, "igw.id|vpc.id");
        assert!(!found[0].unowned);
        assert_eq!(found[0].attrs, want);
    }

    #[test]
    fn detached_attachments_are_not_reported() {
        assert!(found_in(&gateway(&["detached"]), &default_config().stack).is_empty());
    }
}
