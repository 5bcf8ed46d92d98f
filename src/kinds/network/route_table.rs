//! Route tables (their routes and subnet associations are kinds of their own).

use crate::aws::{gone_ok, AwsResultExt};
use crate::kinds::{attrs, Current, Found, Outputs, Resource, Snapshot, StepCtx};
use crate::retry::{eventually, not_found_yet, still_in_use, Budget};
use crate::tags::{self, untracked, Tagged, Tags};
use anyhow::{Context, Result};
use async_trait::async_trait;
use aws_sdk_ec2::types::ResourceType;

/// EC2 route table.
pub struct RouteTable;

attrs! {
    /// What a route table is made of.
    pub struct RouteTableAttrs {
        /// The VPC it is in.
        vpc_id: String => ForceNew,
        /// Its tags.
        tags: Tags,
    }
}

/// The table's attributes as EC2 describes them.
fn attrs_of(t: &aws_sdk_ec2::types::RouteTable) -> RouteTableAttrs {
    RouteTableAttrs {
        vpc_id: t.vpc_id().unwrap_or_default().to_string(),
        tags: Tags::from(t.tags()),
    }
}

#[async_trait]
impl Resource for RouteTable {
    type Attrs = RouteTableAttrs;

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Found<RouteTableAttrs>>> {
        Ok(snap
            .route_tables()
            .await?
            .iter()
            .map(|t| {
                let id = t.route_table_id().unwrap_or_default();
                let attrs = attrs_of(t);
                let who = attrs.tags.identity(snap.stack(), &untracked(id));
                Found::identified(who, id, attrs)
            })
            .collect())
    }

    async fn create(&self, cx: &StepCtx<'_>, want: &RouteTableAttrs) -> Result<Outputs> {
        let out = eventually(Budget::FRESH_ID, not_found_yet, || async {
            cx.aws
                .ec2
                .create_route_table()
                .vpc_id(&want.vpc_id)
                .tag_specifications(want.tags.ec2_spec(ResourceType::RouteTable))
                .send()
                .await
                .aws("CreateRouteTable")
        })
        .await?;
        let id = out
            .route_table()
            .and_then(|t| t.route_table_id())
            .context("CreateRouteTable returned no id")?;
        Ok(Outputs::from([("id".to_string(), id.to_string())]))
    }

    async fn update(
        &self,
        cx: &StepCtx<'_>,
        current: &Current<RouteTableAttrs>,
        want: &RouteTableAttrs,
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

    async fn delete(&self, cx: &StepCtx<'_>, current: &Current<RouteTableAttrs>) -> Result<()> {
        let r = eventually(Budget::FRESH_ID, still_in_use, || async {
            cx.aws
                .ec2
                .delete_route_table()
                .route_table_id(&current.physical_id)
                .send()
                .await
                .aws("DeleteRouteTable")
        })
        .await;
        Ok(gone_ok(r)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests_typed::desired;
    use aws_sdk_ec2::types::RouteTable as Ec2RouteTable;

    #[test]
    fn observed_attributes_equal_the_desired_ones() {
        for id in ["rt/public", "rt/private"] {
            let want: RouteTableAttrs = desired(id);
            // As DescribeRouteTables returns the stack's table.
            let t = Ec2RouteTable::builder()
                .route_table_id("rtb-0a1b2c3d")
                .vpc_id("vpc.id")
                .set_tags(Some(want.tags.to_ec2()))
                .build();
            assert_eq!(attrs_of(&t), want, "{id}");
        }
    }
}
