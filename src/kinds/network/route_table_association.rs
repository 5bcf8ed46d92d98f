//! Subnet-to-route-table associations; found through the tagged route table and named after
//! the subnet (`subnet/public/a` is associated by `rta/public/a`).

use crate::aws::delete_once;
use crate::kinds::{
    attrs, created, id_outputs, Change, Current, Found, Outputs, Resource, Snapshot, StepCtx,
};
use crate::model::LogicalId;
use crate::retry::{not_found_yet, send_eventually, Budget};
use crate::tags::{untracked, Tags};
use anyhow::Result;
use aws_sdk_ec2::types::{RouteTable, Subnet};
use std::collections::HashMap;

/// Route table association (untaggable).
pub struct RouteTableAssociation;

attrs! {
    /// Which subnet takes its routes from which table.
    pub struct RouteTableAssociationAttrs {
        /// The table; changing it moves the subnet in place.
        route_table_id: String,
        /// The subnet.
        subnet_id: String => ForceNew,
    }
}

/// The logical ids of the stack's subnets, by subnet id.
fn subnet_ids<'a>(subnets: &'a [Subnet], stack: &str) -> HashMap<&'a str, LogicalId> {
    subnets
        .iter()
        .filter_map(|s| {
            let id = s.subnet_id()?;
            let who = Tags::from(s.tags()).identity(stack, &untracked(id));
            Some((id, who.id))
        })
        .collect()
}

/// The subnet associations of table `t`, named after their subnets (`subnets` from
/// [`subnet_ids`]); the table's main association has no subnet and is AWS's own.
fn found_in(
    t: &RouteTable,
    stack: &str,
    subnets: &HashMap<&str, LogicalId>,
) -> Vec<Found<RouteTableAssociationAttrs>> {
    let table = t.route_table_id().unwrap_or_default();
    let owned = Tags::from(t.tags())
        .identity(stack, &untracked(table))
        .owned;
    t.associations()
        .iter()
        .filter_map(|a| {
            let (assoc, subnet) = (a.route_table_association_id()?, a.subnet_id()?);
            let id = match subnets.get(subnet) {
                Some(l) => LogicalId::new(l.as_str().replacen("subnet/", "rta/", 1)),
                None => LogicalId::new(format!("rta/foreign/{subnet}")),
            };
            let attrs = RouteTableAssociationAttrs {
                route_table_id: table.to_string(),
                subnet_id: subnet.to_string(),
            };
            let mut found = Found::new(id, assoc, attrs);
            found.unowned = !owned;
            Some(found)
        })
        .collect()
}

impl Resource for RouteTableAssociation {
    type Attrs = RouteTableAssociationAttrs;

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Found<Self::Attrs>>> {
        let (tables, subnets) = tokio::try_join!(snap.route_tables(), snap.subnets())?;
        let subnets = subnet_ids(subnets, snap.stack());
        Ok(tables
            .iter()
            .flat_map(|t| found_in(t, snap.stack(), &subnets))
            .collect())
    }

    async fn create(&self, cx: &StepCtx<'_>, want: &Self::Attrs) -> Result<Outputs> {
        let out = send_eventually(
            Budget::FRESH_ID,
            not_found_yet,
            "AssociateRouteTable",
            || {
                cx.aws
                    .ec2
                    .associate_route_table()
                    .route_table_id(&want.route_table_id)
                    .subnet_id(&want.subnet_id)
                    .send()
            },
        )
        .await?;
        let id = created("AssociateRouteTable", out.association_id())?;
        Ok(id_outputs(id))
    }

    async fn update(&self, cx: &StepCtx<'_>, c: &Change<Self::Attrs>) -> Result<Outputs> {
        if c.have.route_table_id == c.want.route_table_id {
            return Ok(c.outputs.clone());
        }
        // Moving a subnet to another table is atomic: it is never left without routes.
        let out = send_eventually(
            Budget::FRESH_ID,
            not_found_yet,
            "ReplaceRouteTableAssociation",
            || {
                cx.aws
                    .ec2
                    .replace_route_table_association()
                    .association_id(&c.physical_id)
                    .route_table_id(&c.want.route_table_id)
                    .send()
            },
        )
        .await?;
        let id = created("ReplaceRouteTableAssociation", out.new_association_id())?;
        Ok(id_outputs(id))
    }

    async fn delete(&self, cx: &StepCtx<'_>, c: &Current<Self::Attrs>) -> Result<()> {
        let ec2 = &cx.aws.ec2;
        let req = ec2
            .disassociate_route_table()
            .association_id(&c.physical_id);
        delete_once("DisassociateRouteTable", req.send()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::network::route_table::RouteTableAttrs;
    use crate::kinds::network::subnet::SubnetAttrs;
    use crate::kinds::tests_typed::{default_config, desired};
    use aws_sdk_ec2::types::RouteTableAssociation as Association;

    /// The stack's public subnet in zone a and public table, as DescribeSubnets and
    /// DescribeRouteTables return them, the table associated with `subnet` too.
    fn described(subnet: &str) -> (Vec<Subnet>, RouteTable) {
        let subnets = vec![Subnet::builder()
            .subnet_id("subnet/public/a.id")
            .set_tags(Some(
                desired::<SubnetAttrs>("subnet/public/a").tags.to_ec2(),
            ))
            .build()];
        let main = Association::builder()
            .route_table_association_id("rtbassoc-main")
            .route_table_id("rt/public.id")
            .main(true)
            .build();
        let other = Association::builder()
            .route_table_association_id("rtbassoc-0a1b2c3d")
            .route_table_id("rt/public.id")
            .subnet_id(subnet)
            .main(false)
            .build();
        let table = RouteTable::builder()
            .route_table_id("rt/public.id")
            .vpc_id("vpc.id")
            .associations(main)
            .associations(other)
            .set_tags(Some(desired::<RouteTableAttrs>("rt/public").tags.to_ec2()))
            .build();
        (subnets, table)
    }

    #[test]
    fn observed_attributes_equal_the_desired_ones() {
        let stack = default_config().stack;
        let (subnets, table) = described("subnet/public/a.id");
        let found = found_in(&table, &stack, &subnet_ids(&subnets, &stack));
        assert_eq!(found.len(), 1, "the main association is AWS's own");
        assert_eq!(found[0].id.as_str(), "rta/public/a");
        assert_eq!(found[0].physical_id, "rtbassoc-0a1b2c3d");
        assert_eq!(
            found[0].attrs,
            desired::<RouteTableAssociationAttrs>("rta/public/a")
        );
    }

    #[test]
    fn a_subnet_outside_the_stack_is_foreign() {
        let stack = default_config().stack;
        let (subnets, table) = described("subnet-0ther");
        let found = found_in(&table, &stack, &subnet_ids(&subnets, &stack));
        assert_eq!(found[0].id.as_str(), "rta/foreign/subnet-0ther");
    }
}
