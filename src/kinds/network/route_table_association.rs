//! Subnet-to-route-table associations; found through the tagged route table and named after
//! the subnet (`subnet/public/a` is associated by `rta/public/a`).

use super::ec2::{id_output, logical_id};
use crate::aws::{gone_ok, AwsResultExt};
use crate::kinds::{Outputs, ResourceKind, Spec, StepCtx};
use crate::model::{Kind, LogicalId, Observed};
use crate::retry::{eventually, not_found_yet, Budget};
use crate::snapshot::Snapshot;
use anyhow::{Context, Result};
use async_trait::async_trait;
use std::collections::HashMap;

/// Route table association (untaggable).
pub struct RouteTableAssociation;

#[async_trait]
impl ResourceKind for RouteTableAssociation {
    fn force_new(&self) -> &'static [&'static str] {
        &["subnet_id"]
    }

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Observed>> {
        let (tables, subnets) = tokio::try_join!(snap.route_tables(), snap.subnets())?;
        let subnet_ids: HashMap<&str, LogicalId> = subnets
            .iter()
            .filter_map(|s| {
                let id = s.subnet_id()?;
                Some((id, logical_id(s.tags(), id)))
            })
            .collect();
        let mut out = Vec::new();
        for t in tables {
            let table = t.route_table_id().unwrap_or_default();
            for a in t.associations() {
                let (Some(assoc), Some(subnet)) = (a.route_table_association_id(), a.subnet_id())
                else {
                    continue;
                };
                let id = match subnet_ids.get(subnet) {
                    Some(l) => LogicalId::new(l.as_str().replacen("subnet/", "rta/", 1)),
                    None => LogicalId::new(format!("rta/foreign/{subnet}")),
                };
                out.push(
                    Observed::new(id, Kind::RouteTableAssociation, assoc)
                        .with("route_table_id", table)
                        .with("subnet_id", subnet),
                );
            }
        }
        Ok(out)
    }

    async fn create(&self, cx: &StepCtx<'_>, spec: &Spec) -> Result<Outputs> {
        let (table, subnet) = (spec.str("route_table_id")?, spec.str("subnet_id")?);
        let out = eventually(Budget::FRESH_ID, not_found_yet, || async {
            cx.aws
                .ec2
                .associate_route_table()
                .route_table_id(table)
                .subnet_id(subnet)
                .send()
                .await
                .aws("AssociateRouteTable")
        })
        .await?;
        let id = out
            .association_id()
            .context("AssociateRouteTable returned no association id")?;
        Ok(id_output(id))
    }

    async fn update(
        &self,
        cx: &StepCtx<'_>,
        current: &Observed,
        spec: &Spec,
        _changed: &[String],
    ) -> Result<Outputs> {
        // Moving a subnet to another table is atomic: it is never left without routes.
        let table = spec.str("route_table_id")?;
        let out = eventually(Budget::FRESH_ID, not_found_yet, || async {
            cx.aws
                .ec2
                .replace_route_table_association()
                .association_id(&current.physical_id)
                .route_table_id(table)
                .send()
                .await
                .aws("ReplaceRouteTableAssociation")
        })
        .await?;
        let id = out
            .new_association_id()
            .context("ReplaceRouteTableAssociation returned no association id")?;
        Ok(id_output(id))
    }

    async fn delete(&self, cx: &StepCtx<'_>, current: &Observed) -> Result<()> {
        let r = cx
            .aws
            .ec2
            .disassociate_route_table()
            .association_id(&current.physical_id)
            .send()
            .await
            .map(|_| ())
            .aws("DisassociateRouteTable");
        gone_ok(r)?;
        Ok(())
    }
}
