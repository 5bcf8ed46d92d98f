//! The VPC, with DNS support and hostnames (EKS needs both for private endpoint resolution).

use crate::aws::{Aws, AwsResultExt};
use crate::kinds::network::blockers::{delete_unblocked, Held};
use crate::kinds::{
    attrs, created, id_outputs, Change, Current, Found, Outputs, Resource, Snapshot, StepCtx,
};
use crate::retry::{eventually, not_found_yet, Budget};
use crate::tags::{Tagged, Tags};
use anyhow::Result;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, VpcAttributeName};

/// EC2 VPC.
pub struct Vpc;

attrs! {
    /// What a VPC is made of.
    pub struct VpcAttrs {
        /// Its IPv4 range.
        cidr_block: String => ForceNew,
        /// Whether the Amazon DNS server answers in the VPC.
        enable_dns_support: bool,
        /// Whether instances get public DNS names.
        enable_dns_hostnames: bool,
        /// Its tags.
        tags: Tags,
    }
}

async fn dns_attribute(aws: &Aws, vpc: &str, name: VpcAttributeName) -> Result<bool> {
    let out = aws
        .ec2
        .describe_vpc_attribute()
        .vpc_id(vpc)
        .attribute(name.clone())
        .send()
        .await
        .aws("DescribeVpcAttribute")?;
    let value = match name {
        VpcAttributeName::EnableDnsSupport => out.enable_dns_support(),
        _ => out.enable_dns_hostnames(),
    };
    Ok(value.and_then(|v| v.value()).unwrap_or(false))
}

/// ModifyVpcAttribute takes one attribute per call.
async fn set_dns(aws: &Aws, vpc: &str, name: VpcAttributeName, on: bool) -> Result<()> {
    let value = AttributeBooleanValue::builder().value(on).build();
    eventually(Budget::FRESH_ID, not_found_yet, || async {
        let call = aws.ec2.modify_vpc_attribute().vpc_id(vpc);
        let call = match name {
            VpcAttributeName::EnableDnsSupport => call.enable_dns_support(value.clone()),
            _ => call.enable_dns_hostnames(value.clone()),
        };
        call.send().await.aws("ModifyVpcAttribute")
    })
    .await?;
    Ok(())
}

/// The DNS flags of `a`, as ModifyVpcAttribute names them (it takes one per call).
fn dns_flags(a: &VpcAttrs) -> [(VpcAttributeName, bool); 2] {
    [
        (VpcAttributeName::EnableDnsSupport, a.enable_dns_support),
        (VpcAttributeName::EnableDnsHostnames, a.enable_dns_hostnames),
    ]
}

impl Resource for Vpc {
    type Attrs = VpcAttrs;

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Found<Self::Attrs>>> {
        let mut out = Vec::new();
        for v in snap.vpcs().await? {
            let id = v.vpc_id().unwrap_or_default();
            let (support, hostnames) = tokio::try_join!(
                dns_attribute(snap.aws(), id, VpcAttributeName::EnableDnsSupport),
                dns_attribute(snap.aws(), id, VpcAttributeName::EnableDnsHostnames),
            )?;
            let attrs = attrs_of(v, support, hostnames);
            out.push(Found::tagged(snap.stack(), id, attrs));
        }
        Ok(out)
    }

    async fn create(&self, cx: &StepCtx<'_>, want: &Self::Attrs) -> Result<Outputs> {
        let out = cx
            .aws
            .ec2
            .create_vpc()
            .cidr_block(&want.cidr_block)
            .tag_specifications(want.tags.ec2_spec(ResourceType::Vpc))
            .send()
            .await
            .aws("CreateVpc")?;
        let id = created("CreateVpc", out.vpc().and_then(|v| v.vpc_id()))?;
        // AWS's defaults are support on, hostnames off; set both so the result never depends
        // on defaults.
        for (name, on) in dns_flags(want) {
            set_dns(cx.aws, id, name, on).await?;
        }
        Ok(id_outputs(id))
    }

    async fn update(&self, cx: &StepCtx<'_>, c: &Change<Self::Attrs>) -> Result<Outputs> {
        let (id, have) = (&c.physical_id, &c.have);
        for ((name, on), (_, was)) in dns_flags(&c.want).into_iter().zip(dns_flags(have)) {
            if on != was {
                set_dns(cx.aws, id, name, on).await?;
            }
        }
        c.retag(cx.aws, Tagged::Ec2(id)).await
    }

    async fn delete(&self, cx: &StepCtx<'_>, c: &Current<Self::Attrs>) -> Result<()> {
        // What holds it is looked at on the first refusal: Kubernetes' leftovers are cleared,
        // what lets go by itself (a deleted load balancer's interfaces) is waited for.
        let id = &c.physical_id;
        delete_unblocked(cx, Held::Vpc(id), || async {
            cx.aws
                .ec2
                .delete_vpc()
                .vpc_id(id)
                .send()
                .await
                .aws("DeleteVpc")
        })
        .await
    }
}

/// The VPC's attributes as EC2 describes them (the DNS flags come from separate calls).
fn attrs_of(v: &aws_sdk_ec2::types::Vpc, support: bool, hostnames: bool) -> VpcAttrs {
    VpcAttrs {
        cidr_block: v.cidr_block().unwrap_or_default().to_string(),
        enable_dns_support: support,
        enable_dns_hostnames: hostnames,
        tags: Tags::from(v.tags()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests_typed::desired;
    use aws_sdk_ec2::types::{Tag, Vpc as Ec2Vpc};

    #[test]
    fn observed_attributes_equal_the_desired_ones() {
        let want: VpcAttrs = desired("vpc");
        // As DescribeVpcs returns the stack's VPC (moto 5, same shape as AWS).
        let tags = want
            .tags
            .0
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build());
        let v = Ec2Vpc::builder()
            .vpc_id("vpc-0a1b2c3d")
            .cidr_block("10.0.0.0/16")
            .set_tags(Some(tags.collect()))
            .build();
        assert_eq!(attrs_of(&v, true, true), want);
    }
}
