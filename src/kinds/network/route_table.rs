//! Route tables (their routes and subnet associations are kinds of their own).

use crate::kinds::{
    attrs, created, id_outputs, Change, Current, Found, Outputs, Resource, Snapshot, StepCtx,
};
use crate::retry::{delete_eventually, not_found_yet, send_eventually, still_in_use, Budget};
use crate::tags::{Tagged, Tags};
use anyhow::Result;
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

impl Resource for RouteTable {
    type Attrs = RouteTableAttrs;

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Found<Self::Attrs>>> {
        let all = snap.route_tables().await?;
        Ok(Found::all_tagged(
            snap,
            all,
            |t| t.route_table_id(),
            attrs_of,
        ))
    }

    async fn create(&self, cx: &StepCtx<'_>, want: &Self::Attrs) -> Result<Outputs> {
        let out = send_eventually(Budget::FRESH_ID, not_found_yet, "CreateRouteTable", || {
            cx.aws
                .ec2
                .create_route_table()
                .vpc_id(&want.vpc_id)
                .tag_specifications(want.tags.ec2_spec(ResourceType::RouteTable))
                .send()
        })
        .await?;
        let id = created(
            "CreateRouteTable",
            out.route_table().and_then(|t| t.route_table_id()),
        )?;
        Ok(id_outputs(id))
    }

    async fn update(&self, cx: &StepCtx<'_>, c: &Change<Self::Attrs>) -> Result<Outputs> {
        c.retag(cx.aws, Tagged::Ec2(&c.physical_id)).await
    }

    async fn delete(&self, cx: &StepCtx<'_>, c: &Current<Self::Attrs>) -> Result<()> {
        delete_eventually(Budget::FRESH_ID, still_in_use, "DeleteRouteTable", || {
            cx.aws
                .ec2
                .delete_route_table()
                .route_table_id(&c.physical_id)
                .send()
        })
        .await
    }
}

/// The table's attributes as EC2 describes them.
fn attrs_of(t: &aws_sdk_ec2::types::RouteTable) -> RouteTableAttrs {
    RouteTableAttrs {
        vpc_id: t.vpc_id().unwrap_or_default().to_string(),
        tags: Tags::from(t.tags()),
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
