//! Elastic IPs for the NAT gateways.

use crate::aws::AwsResultExt;
use crate::kinds::{attrs, created, Change, Current, Found, Outputs, Resource, Snapshot, StepCtx};
use crate::retry::{delete_eventually, still_in_use, Budget};
use crate::tags::{Tagged, Tags};
use anyhow::Result;
use aws_sdk_ec2::types::{Address, DomainType, ResourceType};

/// Elastic IP address.
pub struct ElasticIp;

attrs! {
    /// What an Elastic IP is made of.
    pub struct ElasticIpAttrs {
        /// Where it can be used: always `vpc` (create allocates nothing else).
        domain: String => ForceNew,
        /// Its tags.
        tags: Tags,
    }
}

fn outputs(allocation: &str, public_ip: Option<&str>) -> Outputs {
    let mut out = Outputs::from([("id".to_string(), allocation.to_string())]);
    if let Some(ip) = public_ip {
        out.insert("public_ip".to_string(), ip.to_string());
    }
    out
}

impl Resource for ElasticIp {
    type Attrs = ElasticIpAttrs;

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Found<Self::Attrs>>> {
        let found = |a: &Address| {
            let id = a.allocation_id()?;
            let mut found = Found::tagged(snap.stack(), id, attrs_of(a));
            found.outputs = outputs(id, a.public_ip());
            Some(found)
        };
        Ok(snap.addresses().await?.iter().filter_map(found).collect())
    }

    async fn create(&self, cx: &StepCtx<'_>, want: &Self::Attrs) -> Result<Outputs> {
        let out = cx
            .aws
            .ec2
            .allocate_address()
            .domain(DomainType::Vpc)
            .tag_specifications(want.tags.ec2_spec(ResourceType::ElasticIp))
            .send()
            .await
            .aws("AllocateAddress")?;
        let id = created("AllocateAddress", out.allocation_id())?;
        Ok(outputs(id, out.public_ip()))
    }

    async fn update(&self, cx: &StepCtx<'_>, c: &Change<Self::Attrs>) -> Result<Outputs> {
        c.retag(cx.aws, Tagged::Ec2(&c.physical_id)).await
    }

    async fn delete(&self, cx: &StepCtx<'_>, c: &Current<Self::Attrs>) -> Result<()> {
        // A NAT gateway keeps its address until it is fully deleted.
        delete_eventually(
            Budget::RELEASE,
            |e| still_in_use(e) || e.is("AuthFailure"),
            "ReleaseAddress",
            || {
                cx.aws
                    .ec2
                    .release_address()
                    .allocation_id(&c.physical_id)
                    .send()
            },
        )
        .await
    }
}

/// The address's attributes as EC2 describes them.
fn attrs_of(a: &Address) -> ElasticIpAttrs {
    ElasticIpAttrs {
        domain: a.domain().map(|d| d.as_str()).unwrap_or("vpc").to_string(),
        tags: Tags::from(a.tags()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests_typed::desired;

    #[test]
    fn observed_attributes_equal_the_desired_ones() {
        let want: ElasticIpAttrs = desired("eip/a");
        // As DescribeAddresses returns the stack's address.
        let a = Address::builder()
            .allocation_id("eipalloc-0a1b2c3d")
            .public_ip("198.51.100.7")
            .domain(DomainType::Vpc)
            .set_tags(Some(want.tags.to_ec2()))
            .build();
        assert_eq!(attrs_of(&a), want);
    }

    #[test]
    fn the_public_ip_is_an_output_when_known() {
        let out = outputs("eipalloc-1", Some("198.51.100.7"));
        assert_eq!(out["id"], "eipalloc-1");
        assert_eq!(out["public_ip"], "198.51.100.7");
        assert!(!outputs("eipalloc-1", None).contains_key("public_ip"));
    }
}
