//! The internet gateway (its attachment to the VPC is a kind of its own).

use crate::aws::{delete_once, AwsResultExt};
use crate::kinds::{
    attrs, created, id_outputs, Change, Current, Found, Outputs, Resource, Snapshot, StepCtx,
};
use crate::tags::{Tagged, Tags};
use anyhow::Result;
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

impl Resource for InternetGateway {
    type Attrs = InternetGatewayAttrs;

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Found<Self::Attrs>>> {
        let all = snap.internet_gateways().await?;
        Ok(Found::all_tagged(
            snap,
            all,
            |g| g.internet_gateway_id(),
            attrs_of,
        ))
    }

    async fn create(&self, cx: &StepCtx<'_>, want: &Self::Attrs) -> Result<Outputs> {
        let out = cx
            .aws
            .ec2
            .create_internet_gateway()
            .tag_specifications(want.tags.ec2_spec(ResourceType::InternetGateway))
            .send()
            .await
            .aws("CreateInternetGateway")?;
        let id = created(
            "CreateInternetGateway",
            out.internet_gateway().and_then(|g| g.internet_gateway_id()),
        )?;
        Ok(id_outputs(id))
    }

    async fn update(&self, cx: &StepCtx<'_>, c: &Change<Self::Attrs>) -> Result<Outputs> {
        c.retag(cx.aws, Tagged::Ec2(&c.physical_id)).await
    }

    async fn delete(&self, cx: &StepCtx<'_>, c: &Current<Self::Attrs>) -> Result<()> {
        let ec2 = &cx.aws.ec2;
        let req = ec2
            .delete_internet_gateway()
            .internet_gateway_id(&c.physical_id);
        delete_once("DeleteInternetGateway", req.send()).await
    }
}

/// The gateway's attributes as EC2 describes them.
fn attrs_of(g: &aws_sdk_ec2::types::InternetGateway) -> InternetGatewayAttrs {
    InternetGatewayAttrs {
        tags: Tags::from(g.tags()),
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
