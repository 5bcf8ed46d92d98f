//! A table's default route (0.0.0.0/0) to the internet or NAT gateway; found through the
//! tagged route table, and named after it (`rt/public` holds `route/public`).

use super::ec2::{id_output, logical_id};
use crate::aws::{gone_ok, Aws, AwsError, AwsResultExt};
use crate::kinds::{Outputs, ResourceKind, Spec, StepCtx};
use crate::model::{Kind, LogicalId, Observed};
use crate::retry::{eventually, not_found_yet, Budget};
use crate::snapshot::Snapshot;
use anyhow::Result;
use async_trait::async_trait;
use aws_sdk_ec2::types::RouteOrigin;

/// One route of a route table (untaggable).
pub struct Route;

/// The targets a route may have, as attribute names.
const TARGETS: [&str; 2] = ["gateway_id", "nat_gateway_id"];

fn route_id(table: &LogicalId) -> LogicalId {
    let name = table.as_str();
    LogicalId::new(match name.strip_prefix("rt/") {
        Some(rest) => format!("route/{rest}"),
        None => format!("route/{name}"),
    })
}

/// Creates or replaces the route so it points at the spec's target.
async fn put(aws: &Aws, spec: &Spec, replace: bool) -> Result<(), AwsError> {
    let table = spec.str("route_table_id").unwrap_or_default();
    let dest = spec.str("destination").unwrap_or_default();
    let gateway = spec.str("gateway_id").ok();
    let nat = spec.str("nat_gateway_id").ok();
    eventually(Budget::FRESH_ID, not_found_yet, || async {
        if replace {
            aws.ec2
                .replace_route()
                .route_table_id(table)
                .destination_cidr_block(dest)
                .set_gateway_id(gateway.map(str::to_string))
                .set_nat_gateway_id(nat.map(str::to_string))
                .send()
                .await
                .map(|_| ())
                .aws("ReplaceRoute")
        } else {
            aws.ec2
                .create_route()
                .route_table_id(table)
                .destination_cidr_block(dest)
                .set_gateway_id(gateway.map(str::to_string))
                .set_nat_gateway_id(nat.map(str::to_string))
                .send()
                .await
                .map(|_| ())
                .aws("CreateRoute")
        }
    })
    .await
}

#[async_trait]
impl ResourceKind for Route {
    fn force_new(&self) -> &'static [&'static str] {
        &["route_table_id", "destination"]
    }

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Observed>> {
        let mut out = Vec::new();
        for t in snap.route_tables().await? {
            let table = t.route_table_id().unwrap_or_default();
            let parent = logical_id(t.tags(), table);
            for r in t.routes() {
                // The VPC's local route is AWS's own; only routes someone created are managed.
                if r.gateway_id() == Some("local")
                    || r.origin() == Some(&RouteOrigin::CreateRouteTable)
                {
                    continue;
                }
                let Some(dest) = r.destination_cidr_block() else {
                    continue;
                };
                let mut o =
                    Observed::new(route_id(&parent), Kind::Route, format!("{table}|{dest}"))
                        .with("route_table_id", table)
                        .with("destination", dest);
                if let Some(nat) = r.nat_gateway_id() {
                    o = o.with("nat_gateway_id", nat);
                } else if let Some(gw) = r.gateway_id() {
                    o = o.with("gateway_id", gw);
                }
                if dest != "0.0.0.0/0" {
                    o.id = LogicalId::new(format!("{}:{dest}", o.id));
                }
                out.push(o);
            }
        }
        Ok(out)
    }

    async fn create(&self, cx: &StepCtx<'_>, spec: &Spec) -> Result<Outputs> {
        match put(cx.aws, spec, false).await {
            // Left behind by an interrupted run, or made by hand: point it where it should go.
            Err(e) if e.is("RouteAlreadyExists") => put(cx.aws, spec, true).await?,
            other => other?,
        }
        Ok(id_output(&format!(
            "{}|{}",
            spec.str("route_table_id")?,
            spec.str("destination")?
        )))
    }

    async fn update(
        &self,
        cx: &StepCtx<'_>,
        current: &Observed,
        spec: &Spec,
        changed: &[String],
    ) -> Result<Outputs> {
        if changed.iter().any(|c| TARGETS.contains(&c.as_str())) {
            put(cx.aws, spec, true).await?;
        }
        Ok(id_output(&current.physical_id))
    }

    async fn delete(&self, cx: &StepCtx<'_>, current: &Observed) -> Result<()> {
        let table = current
            .attrs
            .get("route_table_id")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        let dest = current
            .attrs
            .get("destination")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        let r = cx
            .aws
            .ec2
            .delete_route()
            .route_table_id(table)
            .destination_cidr_block(dest)
            .send()
            .await
            .map(|_| ())
            .aws("DeleteRoute");
        gone_ok(r)?;
        Ok(())
    }
}
