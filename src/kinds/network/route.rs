//! A table's default route (0.0.0.0/0) to the internet or NAT gateway; found through the
//! tagged route table, and named after it (`rt/public` holds `route/public`).

use crate::aws::{delete_once, Aws, AwsError, AwsResultExt};
use crate::kinds::{attrs, Change, Current, Found, Outputs, Resource, Snapshot, StepCtx};
use crate::model::LogicalId;
use crate::retry::{eventually, not_found_yet, Budget};
use crate::tags::{untracked, Tags};
use anyhow::Result;
use aws_sdk_ec2::types::{RouteOrigin, RouteTable};

/// One route of a route table (untaggable).
pub struct Route;

attrs! {
    /// Where a route sends which traffic: to an internet gateway or to a NAT gateway.
    pub struct RouteAttrs {
        /// The table it is in.
        route_table_id: String => ForceNew,
        /// The destination range (`0.0.0.0/0`).
        destination: String => ForceNew,
        /// The internet gateway it points at, for a public route.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gateway_id: Option<String>,
        /// The NAT gateway it points at, for a private route.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nat_gateway_id: Option<String>,
    }
}

fn route_id(table: &LogicalId) -> LogicalId {
    let name = table.as_str();
    LogicalId::new(match name.strip_prefix("rt/") {
        Some(rest) => format!("route/{rest}"),
        None => format!("route/{name}"),
    })
}

/// The routes of table `t` that someone created, named after the table.
fn found_in(t: &RouteTable, stack: &str) -> Vec<Found<RouteAttrs>> {
    let table = t.route_table_id().unwrap_or_default();
    let parent = Tags::from(t.tags()).identity(stack, &untracked(table));
    let mut out = Vec::new();
    for r in t.routes() {
        // The VPC's local route is AWS's own; only routes someone created are managed.
        if r.gateway_id() == Some("local") || r.origin() == Some(&RouteOrigin::CreateRouteTable) {
            continue;
        }
        let Some(dest) = r.destination_cidr_block() else {
            continue;
        };
        let (gateway_id, nat_gateway_id) = match (r.nat_gateway_id(), r.gateway_id()) {
            (Some(nat), _) => (None, Some(nat.to_string())),
            (None, gw) => (gw.map(str::to_string), None),
        };
        let attrs = RouteAttrs {
            route_table_id: table.to_string(),
            destination: dest.to_string(),
            gateway_id,
            nat_gateway_id,
        };
        let mut id = route_id(&parent.id);
        if dest != "0.0.0.0/0" {
            id = LogicalId::new(format!("{id}:{dest}"));
        }
        let mut found = Found::new(id, format!("{table}|{dest}"), attrs);
        found.unowned = !parent.owned;
        out.push(found);
    }
    out
}

/// Creates or replaces the route so it points at `want`'s target.
async fn put(aws: &Aws, want: &RouteAttrs, replace: bool) -> Result<(), AwsError> {
    let (table, dest) = (&want.route_table_id, &want.destination);
    let (gateway, nat) = (&want.gateway_id, &want.nat_gateway_id);
    // ReplaceRoute and CreateRoute take the same members but are different builder types.
    macro_rules! route_call {
        ($builder:expr, $op:literal) => {
            $builder
                .route_table_id(table)
                .destination_cidr_block(dest)
                .set_gateway_id(gateway.clone())
                .set_nat_gateway_id(nat.clone())
                .send()
                .await
                .map(|_| ())
                .aws($op)
        };
    }
    eventually(Budget::FRESH_ID, not_found_yet, || async {
        if replace {
            route_call!(aws.ec2.replace_route(), "ReplaceRoute")
        } else {
            route_call!(aws.ec2.create_route(), "CreateRoute")
        }
    })
    .await
}

impl Resource for Route {
    type Attrs = RouteAttrs;

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Found<Self::Attrs>>> {
        let all = snap.route_tables().await?;
        Ok(all.iter().flat_map(|t| found_in(t, snap.stack())).collect())
    }

    async fn create(&self, cx: &StepCtx<'_>, want: &Self::Attrs) -> Result<Outputs> {
        match put(cx.aws, want, false).await {
            // Left behind by an interrupted run, or made by hand: point it where it should go.
            Err(e) if e.is("RouteAlreadyExists") => put(cx.aws, want, true).await?,
            other => other?,
        }
        Ok(Outputs::from([(
            "id".to_string(),
            format!("{}|{}", want.route_table_id, want.destination),
        )]))
    }

    async fn update(&self, cx: &StepCtx<'_>, c: &Change<Self::Attrs>) -> Result<Outputs> {
        let have = &c.have;
        if have.gateway_id != c.want.gateway_id || have.nat_gateway_id != c.want.nat_gateway_id {
            put(cx.aws, &c.want, true).await?;
        }
        Ok(c.outputs.clone())
    }

    async fn delete(&self, cx: &StepCtx<'_>, c: &Current<Self::Attrs>) -> Result<()> {
        let ec2 = &cx.aws.ec2;
        let req = ec2
            .delete_route()
            .route_table_id(&c.attrs.route_table_id)
            .destination_cidr_block(&c.attrs.destination);
        delete_once("DeleteRoute", req.send()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::network::route_table::RouteTableAttrs;
    use crate::kinds::tests_typed::{default_config, desired};
    use aws_sdk_ec2::types::{Route as Ec2Route, RouteState};

    /// Table `table` as DescribeRouteTables returns it: the VPC's local route, then `routes`.
    fn table(table: &str, routes: Vec<Ec2Route>) -> RouteTable {
        let local = Ec2Route::builder()
            .destination_cidr_block("10.0.0.0/16")
            .gateway_id("local")
            .origin(RouteOrigin::CreateRouteTable)
            .state(RouteState::Active)
            .build();
        RouteTable::builder()
            .route_table_id(format!("{table}.id"))
            .vpc_id("vpc.id")
            .set_routes(Some(std::iter::once(local).chain(routes).collect()))
            .set_tags(Some(desired::<RouteTableAttrs>(table).tags.to_ec2()))
            .build()
    }

    fn default_route() -> aws_sdk_ec2::types::builders::RouteBuilder {
        Ec2Route::builder()
            .destination_cidr_block("0.0.0.0/0")
            .origin(RouteOrigin::CreateRoute)
            .state(RouteState::Active)
    }

    #[test]
    fn observed_attributes_equal_the_desired_ones() {
        let stack = default_config().stack;
        let public = table(
            "rt/public",
            vec![default_route().gateway_id("igw.id").build()],
        );
        let found = found_in(&public, &stack);
        assert_eq!(found.len(), 1, "the local route is AWS's own");
        assert_eq!(found[0].id.as_str(), "route/public");
        assert_eq!(found[0].attrs, desired::<RouteAttrs>("route/public"));

        let private = table(
            "rt/private",
            vec![default_route().nat_gateway_id("nat/a.id").build()],
        );
        let found = found_in(&private, &stack);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id.as_str(), "route/private");
        assert_eq!(found[0].attrs, desired::<RouteAttrs>("route/private"));
    }

    #[test]
    fn other_destinations_get_their_own_id() {
        let t = table(
            "rt/public",
            vec![default_route()
                .destination_cidr_block("192.168.0.0/16")
                .gateway_id("igw.id")
                .build()],
        );
        let found = found_in(&t, &default_config().stack);
        assert_eq!(found[0].id.as_str(), "route/public:192.168.0.0/16");
        assert_eq!(found[0].physical_id, "rt/public.id|192.168.0.0/16");
    }

    #[test]
    fn the_target_that_is_absent_is_not_in_the_attributes() {
        let want: RouteAttrs = desired("route/public");
        let json = serde_json::to_value(&want).unwrap();
        assert!(json.get("nat_gateway_id").is_none());
        assert_eq!(json["gateway_id"], "igw.id");
    }
}
