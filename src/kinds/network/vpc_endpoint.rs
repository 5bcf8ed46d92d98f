//! VPC endpoints, gateway and interface: how private subnets without a NAT gateway reach the
//! AWS services nodes and builds need. A gateway endpoint (S3) is a prefix-list route in the
//! route tables it names; an interface endpoint is a network interface per subnet with a
//! private DNS name that shadows the service's public one. Interface endpoints take a minute or
//! two to come up and to go away.

use crate::aws::{absent_ok, Aws, AwsResultExt};
use crate::kinds::{
    attrs, created, differs, id_outputs, Change, Current, Found, Outputs, Resource, Snapshot,
    StepCtx,
};
use crate::retry::{not_found_yet, poll_until, send_eventually, Budget};
use crate::tags::{untracked, Tagged, Tags};
use anyhow::{bail, Result};
use aws_sdk_ec2::types::{ResourceType, VpcEndpoint as Ec2VpcEndpoint, VpcEndpointType};
use std::time::Duration;

/// VPC endpoint (gateway or interface).
pub struct VpcEndpoint;

/// `endpoint_type` of a gateway endpoint, as EC2 spells it.
pub const GATEWAY: &str = "Gateway";
/// `endpoint_type` of an interface endpoint, as EC2 spells it.
pub const INTERFACE: &str = "Interface";

attrs! {
    /// What a VPC endpoint is made of.
    pub struct VpcEndpointAttrs {
        /// The VPC it serves.
        vpc_id: String => ForceNew,
        /// The service (`com.amazonaws.<region>.ecr.api`).
        service_name: String => ForceNew,
        /// `Gateway` or `Interface`.
        endpoint_type: String => ForceNew,
        /// Gateway: the route tables that get the service's prefix-list route.
        route_table_ids: Vec<String>,
        /// Interface: one subnet per zone, each getting a network interface.
        subnet_ids: Vec<String>,
        /// Interface: the groups on its network interfaces.
        security_group_ids: Vec<String>,
        /// Interface: whether the service's public DNS name resolves to it inside the VPC
        /// (always false for a gateway endpoint).
        private_dns_enabled: bool,
        /// Its tags.
        tags: Tags,
    }
}

/// AWS gives no figure; interface endpoints typically take 1-3 minutes. Allow far more before
/// calling one stuck.
const TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// The endpoint's state in lower case. The SDK's `State` enum spells its values `Available`,
/// `Pending`, ..., but EC2 answers `available`, `pending` (API reference, DescribeVpcEndpoints
/// example), which the enum keeps as unknown values: compare the text.
fn state_of(e: &Ec2VpcEndpoint) -> String {
    e.state()
        .map(|s| s.as_str().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Why the endpoint failed, as EC2 says it.
fn failure_of(e: &Ec2VpcEndpoint) -> Option<String> {
    e.failure_reason()
        .or_else(|| e.last_error().and_then(|l| l.message()))
        .map(str::to_string)
}

/// States an endpoint that will never become available is in.
const FAILED: &[&str] = &["failed", "rejected", "expired"];
/// States of an endpoint on its way out, or gone.
const GOING: &[&str] = &["deleting", "deleted"];

/// What DescribeVpcEndpoints says of endpoint `id`: its state (lower case) and failure reason,
/// or none once it is gone.
async fn state(aws: &Aws, id: &str) -> Result<Option<(String, Option<String>)>> {
    let out = send_eventually(
        Budget::FRESH_ID,
        not_found_yet,
        "DescribeVpcEndpoints",
        || aws.ec2.describe_vpc_endpoints().vpc_endpoint_ids(id).send(),
    )
    .await;
    let Some(out) = absent_ok(out)? else {
        return Ok(None);
    };
    Ok(out
        .vpc_endpoints()
        .iter()
        .find(|e| e.vpc_endpoint_id() == Some(id))
        .map(|e| (state_of(e), failure_of(e))))
}

/// Waits until endpoint `id` is available; fails with AWS's reason if it failed.
async fn wait_available(cx: &StepCtx<'_>, id: &str) -> Result<()> {
    cx.note(&format!("waiting for {id} to become available"));
    poll_until(
        &format!("VPC endpoint {id} to become available"),
        TIMEOUT,
        || async {
            let Some((state, reason)) = state(cx.aws, id).await? else {
                bail!("VPC endpoint {id} was deleted while being created")
            };
            match state.as_str() {
                "available" => Ok(Some(())),
                s if FAILED.contains(&s) => bail!(
                    "VPC endpoint {id} is {s}: {}",
                    reason.unwrap_or_else(|| "no reason given".into())
                ),
                s if GOING.contains(&s) => {
                    bail!("VPC endpoint {id} was deleted while being created")
                }
                _ => Ok(None),
            }
        },
    )
    .await
}

/// The endpoint as observe reports it: none once deleted or deleting, pending while it comes
/// up, broken when it failed.
fn found(e: &Ec2VpcEndpoint, stack: &str) -> Option<Found<VpcEndpointAttrs>> {
    // Deleted endpoints stay listed a while; deleting ones are on their way out.
    let state = state_of(e);
    if GOING.contains(&state.as_str()) {
        return None;
    }
    let id = e.vpc_endpoint_id()?;
    let mut found = Found::by_tags(stack, &untracked(id), id, attrs_of(e));
    if state.starts_with("pending") {
        found.coming_up(&state, "available");
    }
    if FAILED.contains(&state.as_str()) {
        let reason = failure_of(e).unwrap_or_else(|| "no reason given".into());
        found.broken = Some(format!("VPC endpoint {state}: {reason}"));
    }
    Some(found)
}

/// The endpoint's attributes as EC2 describes them.
fn attrs_of(e: &Ec2VpcEndpoint) -> VpcEndpointAttrs {
    let gateway = e.vpc_endpoint_type() == Some(&VpcEndpointType::Gateway);
    let mut groups: Vec<String> = e
        .groups()
        .iter()
        .filter_map(|g| g.group_id().map(str::to_string))
        .collect();
    groups.sort();
    let sorted = |ids: &[String]| {
        let mut ids = ids.to_vec();
        ids.sort();
        ids
    };
    VpcEndpointAttrs {
        vpc_id: e.vpc_id().unwrap_or_default().to_string(),
        service_name: e.service_name().unwrap_or_default().to_string(),
        endpoint_type: e
            .vpc_endpoint_type()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        route_table_ids: sorted(e.route_table_ids()),
        subnet_ids: sorted(e.subnet_ids()),
        security_group_ids: groups,
        // A gateway endpoint has no DNS name of its own; what EC2 echoes for it means nothing.
        private_dns_enabled: !gateway && e.private_dns_enabled().unwrap_or(false),
        tags: Tags::from(e.tags()),
    }
}

/// `want` minus `have`, and `have` minus `want`.
fn delta(have: &[String], want: &[String]) -> (Vec<String>, Vec<String>) {
    let add = want.iter().filter(|w| !have.contains(w)).cloned().collect();
    let remove = have.iter().filter(|h| !want.contains(h)).cloned().collect();
    (add, remove)
}

/// The ModifyVpcEndpoint members that bring `have` to `want`, or none when nothing but the tags
/// differ.
fn modification(have: &VpcEndpointAttrs, want: &VpcEndpointAttrs) -> Option<Modification> {
    let m = Modification {
        route_tables: delta(&have.route_table_ids, &want.route_table_ids),
        subnets: delta(&have.subnet_ids, &want.subnet_ids),
        groups: delta(&have.security_group_ids, &want.security_group_ids),
        private_dns: (have.private_dns_enabled != want.private_dns_enabled)
            .then_some(want.private_dns_enabled),
    };
    let empty = |d: &(Vec<String>, Vec<String>)| d.0.is_empty() && d.1.is_empty();
    let nothing =
        empty(&m.route_tables) && empty(&m.subnets) && empty(&m.groups) && m.private_dns.is_none();
    (!nothing).then_some(m)
}

/// What one ModifyVpcEndpoint call changes: (add, remove) per list.
#[derive(Debug, PartialEq)]
struct Modification {
    route_tables: (Vec<String>, Vec<String>),
    subnets: (Vec<String>, Vec<String>),
    groups: (Vec<String>, Vec<String>),
    private_dns: Option<bool>,
}

/// Sets only what is non-empty: ModifyVpcEndpoint refuses members a type does not have.
fn non_empty(v: &[String]) -> Option<Vec<String>> {
    (!v.is_empty()).then(|| v.to_vec())
}

impl Resource for VpcEndpoint {
    type Attrs = VpcEndpointAttrs;

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Found<Self::Attrs>>> {
        let all = snap.vpc_endpoints().await?;
        Ok(all.iter().filter_map(|e| found(e, snap.stack())).collect())
    }

    async fn create(&self, cx: &StepCtx<'_>, want: &Self::Attrs) -> Result<Outputs> {
        // The token makes the SDK's own retries of this call idempotent.
        let token = format!("{:032x}", fastrand::u128(..));
        let interface = want.endpoint_type == INTERFACE;
        let out = send_eventually(Budget::FRESH_ID, not_found_yet, "CreateVpcEndpoint", || {
            let mut req = cx
                .aws
                .ec2
                .create_vpc_endpoint()
                .vpc_id(&want.vpc_id)
                .service_name(&want.service_name)
                .vpc_endpoint_type(VpcEndpointType::from(want.endpoint_type.as_str()))
                .set_route_table_ids(non_empty(&want.route_table_ids))
                .set_subnet_ids(non_empty(&want.subnet_ids))
                .set_security_group_ids(non_empty(&want.security_group_ids))
                .client_token(&token)
                .tag_specifications(want.tags.ec2_spec(ResourceType::VpcEndpoint));
            // Private DNS is an interface endpoint's setting only.
            if interface {
                req = req.private_dns_enabled(want.private_dns_enabled);
            }
            req.send()
        })
        .await?;
        let id = created(
            "CreateVpcEndpoint",
            out.vpc_endpoint().and_then(|e| e.vpc_endpoint_id()),
        )?
        .to_string();
        wait_available(cx, &id).await?;
        Ok(id_outputs(&id))
    }

    async fn update(&self, cx: &StepCtx<'_>, c: &Change<Self::Attrs>) -> Result<Outputs> {
        let id = &c.physical_id;
        if c.pending.is_some() {
            wait_available(cx, id).await?;
        }
        if let Some(m) = modification(&c.have, &c.want) {
            let req = cx
                .aws
                .ec2
                .modify_vpc_endpoint()
                .vpc_endpoint_id(id)
                .set_add_route_table_ids(non_empty(&m.route_tables.0))
                .set_remove_route_table_ids(non_empty(&m.route_tables.1))
                .set_add_subnet_ids(non_empty(&m.subnets.0))
                .set_remove_subnet_ids(non_empty(&m.subnets.1))
                .set_add_security_group_ids(non_empty(&m.groups.0))
                .set_remove_security_group_ids(non_empty(&m.groups.1))
                .set_private_dns_enabled(m.private_dns);
            req.send().await.aws("ModifyVpcEndpoint")?;
            // New subnets mean new network interfaces: the endpoint is pending until they are up.
            wait_available(cx, id).await?;
        }
        if differs(&c.have.tags, &c.want.tags) {
            c.sync_tags(cx.aws, Tagged::Ec2(id)).await?;
        }
        Ok(c.outputs.clone())
    }

    async fn delete(&self, cx: &StepCtx<'_>, c: &Current<Self::Attrs>) -> Result<()> {
        let id = &c.physical_id;
        let out = cx
            .aws
            .ec2
            .delete_vpc_endpoints()
            .vpc_endpoint_ids(id)
            .send()
            .await
            .aws("DeleteVpcEndpoints");
        let Some(out) = absent_ok(out)? else {
            return Ok(());
        };
        // The call succeeds as a whole and reports the endpoint if it could not delete it.
        if let Some(item) = out.unsuccessful().first() {
            let error = item.error();
            let code = error.and_then(|e| e.code()).unwrap_or_default();
            if code.ends_with("NotFound") {
                return Ok(());
            }
            bail!(
                "DeleteVpcEndpoints refused {id}: {code} {}",
                error.and_then(|e| e.message()).unwrap_or_default()
            );
        }
        // Its network interfaces hold the subnets and the security group until it is gone.
        let gone = || async {
            Ok(match state(cx.aws, id).await? {
                None => true,
                Some((state, _)) => state == "deleted",
            })
        };
        cx.wait_deleted(&format!("VPC endpoint {id}"), TIMEOUT, gone)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests_typed::{default_config, resolved};
    use aws_sdk_ec2::types::{SecurityGroupIdentifier, State};

    /// The desired attributes of `id` in the default stack with `nat: none`.
    fn desired(id: &str) -> VpcEndpointAttrs {
        let mut c = default_config();
        c.network.nat = crate::config::NatMode::None;
        let graph = crate::stack::build(&c, "123456789012");
        resolved(&graph, id).typed().expect("the spec fits")
    }

    /// The stack's ECR API endpoint as DescribeVpcEndpoints returns it, in `state`.
    fn interface(state: &str) -> Ec2VpcEndpoint {
        described(state).build()
    }

    fn described(state: &str) -> aws_sdk_ec2::types::builders::VpcEndpointBuilder {
        Ec2VpcEndpoint::builder()
            .vpc_endpoint_id("vpce-0a1b2c3d")
            .vpc_endpoint_type(VpcEndpointType::Interface)
            .vpc_id("vpc.id")
            .service_name("com.amazonaws.us-east-1.ecr.api")
            .state(State::from(state))
            // EC2 lists them in its own order.
            .subnet_ids("subnet/private-app/b.id")
            .subnet_ids("subnet/private-app/a.id")
            .groups(
                SecurityGroupIdentifier::builder()
                    .group_id("sg/endpoints.id")
                    .group_name("grpc-eks-endpoints")
                    .build(),
            )
            .private_dns_enabled(true)
            .set_tags(Some(desired("vpce/ecr.api").tags.to_ec2()))
    }

    #[test]
    fn observed_interface_attributes_equal_the_desired_ones() {
        let want = desired("vpce/ecr.api");
        assert_eq!(attrs_of(&interface("available")), want);
        let stack = default_config().stack;
        let found = found(&interface("available"), &stack).expect("listed");
        assert_eq!(found.id.as_str(), "vpce/ecr.api");
        assert_eq!((found.pending, found.broken), (None, None));
    }

    #[test]
    fn observed_gateway_attributes_equal_the_desired_ones() {
        let want = desired("vpce/s3");
        let described = Ec2VpcEndpoint::builder()
            .vpc_endpoint_id("vpce-0s3")
            .vpc_endpoint_type(VpcEndpointType::Gateway)
            .vpc_id("vpc.id")
            .service_name("com.amazonaws.us-east-1.s3")
            .state(State::from("available"))
            .route_table_ids("rt/private.id")
            // What EC2 echoes here for a gateway endpoint is not a setting of it.
            .private_dns_enabled(true)
            .set_tags(Some(want.tags.to_ec2()))
            .build();
        assert_eq!(attrs_of(&described), want);
    }

    #[test]
    fn states_decide_pending_broken_and_gone() {
        let stack = default_config().stack;
        // EC2 answers in lower case, whatever the SDK's enum spells.
        for state in ["pending", "Pending"] {
            let pending = found(&interface(state), &stack).expect("listed");
            assert!(pending.pending.is_some() && pending.broken.is_none());
        }
        let failed = described("failed")
            .failure_reason("subnet has no free addresses")
            .build();
        let failed = found(&failed, &stack).expect("listed");
        assert_eq!(
            failed.broken.as_deref(),
            Some("VPC endpoint failed: subnet has no free addresses")
        );
        for gone in ["deleting", "deleted", "Deleted"] {
            assert!(found(&interface(gone), &stack).is_none());
        }
    }

    #[test]
    fn modifications_name_only_what_changed() {
        let have = desired("vpce/ecr.api");
        assert_eq!(modification(&have, &have), None, "tags alone are not one");
        let mut want = have.clone();
        want.subnet_ids = vec!["subnet/private-app/a.id".into(), "subnet-c".into()];
        want.private_dns_enabled = false;
        let m = modification(&have, &want).expect("a change");
        assert_eq!(
            m.subnets,
            (
                vec!["subnet-c".to_string()],
                vec!["subnet/private-app/b.id".to_string()]
            )
        );
        assert_eq!(m.private_dns, Some(false));
        assert_eq!(m.groups, (vec![], vec![]));
        assert_eq!(m.route_tables, (vec![], vec![]));
    }
}
