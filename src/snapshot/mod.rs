//! The read layer: one read of each describe call a run needs, shared by every kind that reads
//! from it. Kinds read the account only through here, so each call is made once per run and no
//! kind depends on another. Reads are grouped by service: EC2 here, the rest in submodules.

mod eks;
mod elb;
mod iam;
mod logs;

pub use elb::{tags_of as elb_tags_of, target_group_names};
pub use iam::RoleDetail;
#[cfg(test)]
pub(crate) use iam::{decode_document, role_detail, ROLES};
pub use logs::LogGroupDetail;

use crate::aws::{absent_ok, Aws, AwsError, AwsResultExt};
use crate::model::STACK_TAG;
use aws_sdk_ec2::types::{
    Address, Filter, InternetGateway, NatGateway, RouteTable, SecurityGroup, Subnet, Vpc,
    VpcEndpoint,
};
use aws_sdk_eks::types::{Cluster, Nodegroup};
use aws_sdk_elasticloadbalancingv2::types::{
    Listener, LoadBalancer, Rule, Tag as ElbTag, TargetGroup,
};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::collections::HashMap;
use std::future::Future;
use tokio::sync::OnceCell;

/// One method per row, returning every item of a paginated, stack-filtered EC2 describe call,
/// read once into its cell of [`PagedCells`].
macro_rules! paged {
    ($($(#[$doc:meta])* $name:ident: $ty:ty = $call:ident($filter:ident), $op:literal;)*) => {
        /// The paged reads' results, kept once they are made.
        #[derive(Default)]
        struct PagedCells {
            $($name: OnceCell<Vec<$ty>>,)*
        }

        impl Snapshot {$(
            $(#[$doc])*
            pub async fn $name(&self) -> Result<&[$ty], AwsError> {
                let v = self
                    .cells
                    .paged
                    .$name
                    .get_or_try_init(|| async {
                        let mut pages = self
                            .aws
                            .ec2
                            .$call()
                            .$filter(self.owned())
                            .into_paginator()
                            .items()
                            .send();
                        let mut out = Vec::new();
                        while let Some(item) = pages.next().await {
                            out.push(item.aws($op)?);
                        }
                        Ok::<_, AwsError>(out)
                    })
                    .await?;
                Ok(v)
            }
        )*}
    };
}

/// Lazily fetched, shared results of the batched describe calls, filtered by the stack tag.
pub struct Snapshot {
    aws: Aws,
    stack: String,
    account: String,
    cells: Cells,
}

/// Each read's result, kept once it is made.
#[derive(Default)]
struct Cells {
    paged: PagedCells,
    addresses: OnceCell<Vec<Address>>,
    roles: OnceCell<Vec<RoleDetail>>,
    cluster: OnceCell<Option<Cluster>>,
    node_groups: OnceCell<Vec<Nodegroup>>,
    load_balancer: OnceCell<Option<LoadBalancer>>,
    target_groups: OnceCell<Vec<TargetGroup>>,
    listeners: OnceCell<Vec<Listener>>,
    listener_rules: OnceCell<Vec<(String, Rule)>>,
    log_groups: OnceCell<Vec<LogGroupDetail>>,
    elb_tags: OnceCell<HashMap<String, Vec<ElbTag>>>,
}

paged! {
    /// The stack's VPCs.
    vpcs: Vpc = describe_vpcs(filters), "DescribeVpcs";
    /// The stack's subnets.
    subnets: Subnet = describe_subnets(filters), "DescribeSubnets";
    /// The stack's internet gateways, with their attachments.
    internet_gateways: InternetGateway = describe_internet_gateways(filters),
        "DescribeInternetGateways";
    /// The stack's route tables, with their routes and associations.
    route_tables: RouteTable = describe_route_tables(filters), "DescribeRouteTables";
    /// The stack's NAT gateways in any state.
    nat_gateways: NatGateway = describe_nat_gateways(filter), "DescribeNatGateways";
    /// The stack's security groups, with their rules.
    security_groups: SecurityGroup = describe_security_groups(filters),
        "DescribeSecurityGroups";
    /// The stack's VPC endpoints in any state, with their subnets, route tables and groups.
    vpc_endpoints: VpcEndpoint = describe_vpc_endpoints(filters), "DescribeVpcEndpoints";
}

impl Snapshot {
    /// An empty snapshot; nothing is read until a kind asks.
    pub fn new(aws: Aws, stack: &str, account: &str) -> Self {
        Snapshot {
            aws,
            stack: stack.to_string(),
            account: account.to_string(),
            cells: Cells::default(),
        }
    }

    /// AWS clients.
    pub fn aws(&self) -> &Aws {
        &self.aws
    }

    /// The stack name.
    pub fn stack(&self) -> &str {
        &self.stack
    }

    /// The account id.
    pub fn account(&self) -> &str {
        &self.account
    }

    fn owned(&self) -> Filter {
        Filter::builder()
            .name(format!("tag:{STACK_TAG}"))
            .values(&self.stack)
            .build()
    }

    /// The stack's Elastic IPs.
    pub async fn addresses(&self) -> Result<&[Address], AwsError> {
        let v = self
            .cells
            .addresses
            .get_or_try_init(|| async {
                // DescribeAddresses is not paginated.
                let out = self
                    .aws
                    .ec2
                    .describe_addresses()
                    .filters(self.owned())
                    .send()
                    .await
                    .aws("DescribeAddresses")?;
                Ok::<_, AwsError>(out.addresses.unwrap_or_default())
            })
            .await?;
        Ok(v)
    }
}

/// What `cell` caches for a resource read by name: the first caller sends `send` (`op` in
/// errors), "not found" is `None`, and `pick` takes the resource out of the answer.
async fn read_once<'a, T, O, E, R>(
    cell: &'a OnceCell<Option<T>>,
    op: &'static str,
    send: impl Future<Output = Result<O, SdkError<E, R>>>,
    pick: impl FnOnce(O) -> Option<T>,
) -> Result<Option<&'a T>, AwsError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let read = || async { Ok::<_, AwsError>(absent_ok(send.await.aws(op))?.and_then(pick)) };
    Ok(cell.get_or_try_init(read).await?.as_ref())
}
