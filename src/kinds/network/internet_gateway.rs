//! The internet gateway (its attachment to the VPC is a kind of its own).

use crate::aws::{gone_ok, AwsResultExt};
use crate::kinds::{attrs, Current, Found, Outputs, Resource, Snapshot, StepCtx};
use crate::tags::{self, untracked, Tagged, Tags};
use anyhow::{Context, Result};
use async_trait::async_trait;
use aws_sdk_ec2::types::ResourceType;

/// EC2 internet gateway.
pub struct InternetGateway;

attrs! {
    /// What an internet gateway is made of: only its tags.
    pub struct InternetGatewayAttrs {
        /// Its tags.
        tags: Tags,
    }
}

/// The gateway's attributes as EC2 describes them.
fn attrs_of(g: &aws_sdk_ec2::types::InternetGateway) -> InternetGatewayAttrs {
    InternetGatewayAttrs {
        tags: Tags::from(g.tags()),
    }
}

#[async_trait]
impl Resource for InternetGateway {
    type Attrs = InternetGatewayAttrs;

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Found<InternetGatewayAttrs>>> {
        Ok(snap
            .internet_gateways()
            .await?
            .iter()
            .map(|g| {
                let id = g.internet_gateway_id().unwrap_or_default();
                let attrs = attrs_of(g);
                let who = attrs.tags.identity(snap.stack(), &untracked(id));
                Found::identified(who, id, attrs)
            })
            .collect())
    }

    async fn create(&self, cx: &StepCtx<'_>, want: &InternetGatewayAttrs) -> Result<Outputs> {
        let out = cx
            .aws
            .ec2
            .create_internet_gateway()
            .tag_specifications(want.tags.ec2_spec(ResourceType::InternetGateway))
            .send()
            .await
            .aws("CreateInternetGateway")?;
        let id = out
            .internet_gateway()
            .and_then(|g| g.internet_gateway_id())
            .context("CreateInternetGateway returned no id")?;
        Ok(Outputs::from([("id".to_string(), id.to_string())]))
    }

    async fn update(
        &self,
        cx: &StepCtx<'_>,
        current: &Current<InternetGatewayAttrs>,
        want: &InternetGatewayAttrs,
    ) -> Result<Outputs> {
        let have = &current.attrs;
        tags::sync(
            cx.aws,
            Tagged::Ec2(&current.physical_id),
            &have.tags,
            &want.tags,
        )
        .await?;
        Ok(current.outputs.clone())
    }

    async fn delete(
        &self,
        cx: &StepCtx<'_>,
        current: &Current<InternetGatewayAttrs>,
    ) -> Result<()> {
        let r = cx
            .aws
            .ec2
            .delete_internet_gateway()
            .internet_gateway_id(&current.physical_id)
            .send()
            .await
            .aws("DeleteInternetGateway");
        Ok(gone_ok(r)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests_typed::desired;
    use aws_sdk_ec2::types::InternetGatewayAttachment;
    use aws_sdk_ec2::types::{AttachmentStatus, InternetGateway as Ec2Gateway};

    #[test]
    fn observed_attributes_equal_the_desired_ones() {
        let want: InternetGatewayAttrs = desired("igw");
        // As DescribeInternetGateways returns the stack's gateway, attached to its VPC.
        let g = Ec2Gateway::builder()
            .internet_gateway_id("igw-0a1b2c3d")
            .attachments(
                InternetGatewayAttachment::builder()
                    .vpc_id("vpc.id")
                    .state(AttachmentStatus::from("available"))
                    .build(),
            )
            .set_tags(Some(want.tags.to_ec2()))
            .build();
        assert_eq!(attrs_of(&g), want);
    }
}
