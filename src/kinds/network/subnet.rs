//! Subnets: public ones map public IPs on launch, private ones do not.

use crate::aws::{Aws, AwsResultExt};
use crate::kinds::network::blockers::{delete_unblocked, Held};
use crate::kinds::{
    attrs, created, id_outputs, Change, Current, Found, Outputs, Resource, Snapshot, StepCtx,
};
use crate::retry::{not_found_yet, send_eventually, Budget};
use crate::tags::{Tagged, Tags};
use anyhow::Result;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType};

/// EC2 subnet.
pub struct Subnet;

attrs! {
    /// What a subnet is made of.
    pub struct SubnetAttrs {
        /// The VPC it is in.
        vpc_id: String => ForceNew,
        /// Its IPv4 range.
        cidr_block: String => ForceNew,
        /// Its zone, by name (`us-east-1a`).
        availability_zone: String => ForceNew,
        /// Whether instances launched in it get a public IP.
        map_public_ip_on_launch: bool,
        /// Its tags (with the Kubernetes load balancer discovery tags).
        tags: Tags,
    }
}

async fn set_public_ip(aws: &Aws, subnet: &str, on: bool) -> Result<()> {
    let value = AttributeBooleanValue::builder().value(on).build();
    send_eventually(
        Budget::FRESH_ID,
        not_found_yet,
        "ModifySubnetAttribute",
        || {
            aws.ec2
                .modify_subnet_attribute()
                .subnet_id(subnet)
                .map_public_ip_on_launch(value.clone())
                .send()
        },
    )
    .await?;
    Ok(())
}

impl Resource for Subnet {
    type Attrs = SubnetAttrs;

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Found<Self::Attrs>>> {
        // Its ARN is an output too: a private build's role may use exactly these subnets.
        let found = snap.subnets().await?.iter().filter_map(|s| {
            let found = Found::tagged(snap.stack(), s.subnet_id()?, attrs_of(s));
            Some(with_arn(found, s.subnet_arn()))
        });
        Ok(found.collect())
    }

    async fn create(&self, cx: &StepCtx<'_>, want: &Self::Attrs) -> Result<Outputs> {
        let out = send_eventually(Budget::FRESH_ID, not_found_yet, "CreateSubnet", || {
            cx.aws
                .ec2
                .create_subnet()
                .vpc_id(&want.vpc_id)
                .cidr_block(&want.cidr_block)
                .availability_zone(&want.availability_zone)
                .tag_specifications(want.tags.ec2_spec(ResourceType::Subnet))
                .send()
        })
        .await?;
        let subnet = created("CreateSubnet", out.subnet())?;
        let id = created("CreateSubnet", subnet.subnet_id())?;
        // Off is AWS's default for a new subnet.
        if want.map_public_ip_on_launch {
            set_public_ip(cx.aws, id, true).await?;
        }
        let mut outputs = id_outputs(id);
        if let Some(arn) = subnet.subnet_arn() {
            outputs.insert("arn".to_string(), arn.to_string());
        }
        Ok(outputs)
    }

    async fn update(&self, cx: &StepCtx<'_>, c: &Change<Self::Attrs>) -> Result<Outputs> {
        let (id, have) = (&c.physical_id, &c.have);
        if have.map_public_ip_on_launch != c.want.map_public_ip_on_launch {
            set_public_ip(cx.aws, id, c.want.map_public_ip_on_launch).await?;
        }
        c.retag(cx.aws, Tagged::Ec2(id)).await
    }

    async fn delete(&self, cx: &StepCtx<'_>, c: &Current<Self::Attrs>) -> Result<()> {
        // What holds it is looked at on the first refusal: Kubernetes' leftovers are cleared,
        // what lets go by itself (a deleted load balancer's interfaces) is waited for.
        let id = &c.physical_id;
        delete_unblocked(cx, Held::Subnet(id), || async {
            cx.aws
                .ec2
                .delete_subnet()
                .subnet_id(id)
                .send()
                .await
                .aws("DeleteSubnet")
        })
        .await
    }
}

/// `found` with output `arn` when EC2 reported one.
fn with_arn(found: Found<SubnetAttrs>, arn: Option<&str>) -> Found<SubnetAttrs> {
    match arn {
        Some(arn) => found.output("arn", arn),
        None => found,
    }
}

/// The subnet's attributes as EC2 describes them.
fn attrs_of(s: &aws_sdk_ec2::types::Subnet) -> SubnetAttrs {
    SubnetAttrs {
        vpc_id: s.vpc_id().unwrap_or_default().to_string(),
        cidr_block: s.cidr_block().unwrap_or_default().to_string(),
        availability_zone: s.availability_zone().unwrap_or_default().to_string(),
        map_public_ip_on_launch: s.map_public_ip_on_launch().unwrap_or(false),
        tags: Tags::from(s.tags()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests_typed::desired;
    use aws_sdk_ec2::types::Subnet as Ec2Subnet;

    /// The subnet `cidr` in `us-east-1a` as DescribeSubnets returns it for the stack.
    fn described(cidr: &str, public: bool, tags: &Tags) -> Ec2Subnet {
        Ec2Subnet::builder()
            .subnet_id("subnet-0a1b2c3d")
            .vpc_id("vpc.id")
            .cidr_block(cidr)
            .availability_zone("us-east-1a")
            .map_public_ip_on_launch(public)
            .set_tags(Some(tags.to_ec2()))
            .build()
    }

    #[test]
    fn observed_attributes_equal_the_desired_ones() {
        let public: SubnetAttrs = desired("subnet/public/a");
        assert_eq!(
            attrs_of(&described("10.0.0.0/24", true, &public.tags)),
            public
        );
        let private: SubnetAttrs = desired("subnet/private-app/a");
        assert_eq!(
            attrs_of(&described("10.0.2.0/24", false, &private.tags)),
            private
        );
    }

    #[test]
    fn the_kubernetes_discovery_tags_are_kept() {
        let public: SubnetAttrs = desired("subnet/public/a");
        assert_eq!(public.tags.get("kubernetes.io/role/elb"), Some("1"));
        let data: SubnetAttrs = desired("subnet/private-data/a");
        assert!(data.tags.0.keys().all(|k| !k.starts_with("kubernetes.io/")));
    }
}
