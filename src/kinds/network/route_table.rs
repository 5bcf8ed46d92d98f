//! Route tables (their routes and subnet associations are kinds of their own).

use super::ec2::{id_output, logical_id, tag_spec, tags_json, update_tags};
use crate::aws::{gone_ok, AwsResultExt};
use crate::kinds::{Outputs, ResourceKind, Spec, StepCtx};
use crate::model::{Kind, Observed};
use crate::retry::{eventually, not_found_yet, still_in_use, Budget};
use crate::snapshot::Snapshot;
use anyhow::{Context, Result};
use async_trait::async_trait;
use aws_sdk_ec2::types::ResourceType;

/// EC2 route table.
pub struct RouteTable;

#[async_trait]
impl ResourceKind for RouteTable {
    fn force_new(&self) -> &'static [&'static str] {
        &["vpc_id"]
    }

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Observed>> {
        Ok(snap
            .route_tables()
            .await?
            .iter()
            .map(|t| {
                let id = t.route_table_id().unwrap_or_default();
                Observed::new(logical_id(t.tags(), id), Kind::RouteTable, id)
                    .with("vpc_id", t.vpc_id().unwrap_or_default())
                    .with("tags", tags_json(t.tags()))
            })
            .collect())
    }

    async fn create(&self, cx: &StepCtx<'_>, spec: &Spec) -> Result<Outputs> {
        let vpc = spec.str("vpc_id")?;
        let out = eventually(Budget::FRESH_ID, not_found_yet, || async {
            cx.aws
                .ec2
                .create_route_table()
                .vpc_id(vpc)
                .tag_specifications(tag_spec(ResourceType::RouteTable, spec))
                .send()
                .await
                .aws("CreateRouteTable")
        })
        .await?;
        let id = out
            .route_table()
            .and_then(|t| t.route_table_id())
            .context("CreateRouteTable returned no id")?;
        Ok(id_output(id))
    }

    async fn update(
        &self,
        cx: &StepCtx<'_>,
        current: &Observed,
        spec: &Spec,
        _changed: &[String],
    ) -> Result<Outputs> {
        update_tags(
            cx.aws,
            &current.physical_id,
            current.attrs.get("tags"),
            spec,
        )
        .await?;
        Ok(id_output(&current.physical_id))
    }

    async fn delete(&self, cx: &StepCtx<'_>, current: &Observed) -> Result<()> {
        let r = eventually(Budget::FRESH_ID, still_in_use, || async {
            cx.aws
                .ec2
                .delete_route_table()
                .route_table_id(&current.physical_id)
                .send()
                .await
                .map(|_| ())
                .aws("DeleteRouteTable")
        })
        .await;
        gone_ok(r)?;
        Ok(())
    }
}
