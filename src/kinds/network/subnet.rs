//! Subnets: public ones map public IPs on launch, private ones do not.

use crate::aws::{gone_ok, Aws, AwsResultExt};
use crate::kinds::{attrs, Current, Found, Outputs, Resource, Snapshot, StepCtx};
use crate::retry::{eventually, not_found_yet, still_in_use, Budget};
use crate::tags::{self, untracked, Tagged, Tags};
use anyhow::{Context, Result};
use async_trait::async_trait;
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

#[async_trait]
impl Resource for Subnet {
    type Attrs = SubnetAttrs;

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Found<SubnetAttrs>>> {
        Ok(snap
            .subnets()
            .await?
            .iter()
            .map(|s| {
                let id = s.subnet_id().unwrap_or_default();
                let attrs = attrs_of(s);
                let who = attrs.tags.identity(snap.stack(), &untracked(id));
                Found::identified(who, id, attrs)
            })
            .collect())
    }

    async fn create(&self, cx: &StepCtx<'_>, want: &SubnetAttrs) -> Result<Outputs> {
        let out = eventually(Budget::FRESH_ID, not_found_yet, || async {
            cx.aws
                .ec2
                .create_subnet()
                .vpc_id(&want.vpc_id)
                .cidr_block(&want.cidr_block)
                .availability_zone(&want.availability_zone)
                .tag_specifications(want.tags.ec2_spec(ResourceType::Subnet))
                .send()
                .await
                .aws("CreateSubnet")
        })
        .await?;
        let id = out
            .subnet()
            .and_then(|s| s.subnet_id())
            .context("CreateSubnet returned no subnet id")?;
        // Off is AWS's default for a new subnet.
        if want.map_public_ip_on_launch {
            set_public_ip(cx.aws, id, true).await?;
        }
        Ok(Outputs::from([("id".to_string(), id.to_string())]))
    }

    async fn update(
        &self,
        cx: &StepCtx<'_>,
        current: &Current<SubnetAttrs>,
        want: &SubnetAttrs,
    ) -> Result<Outputs> {
        let (id, have) = (&current.physical_id, &current.attrs);
        if have.map_public_ip_on_launch != want.map_public_ip_on_launch {
            set_public_ip(cx.aws, id, want.map_public_ip_on_launch).await?;
        }
        tags::sync(cx.aws, Tagged::Ec2(id), &have.tags, &want.tags).await?;
        Ok(current.outputs.clone())
    }

    async fn delete(&self, cx: &StepCtx<'_>, current: &Current<SubnetAttrs>) -> Result<()> {
        let r = eventually(Budget::RELEASE, still_in_use, || async {
            cx.aws
                .ec2
                .delete_subnet()
                .subnet_id(&current.physical_id)
                .send()
                .await
                .aws("DeleteSubnet")
        })
        .await;
        Ok(gone_ok(r)?)
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
