//! One read of each describe call a run needs, shared by every kind that reads from it.

use crate::aws::{Aws, AwsError, AwsResultExt};
use crate::model::STACK_TAG;
use aws_sdk_ec2::types::{
    Address, Filter, InternetGateway, NatGateway, RouteTable, SecurityGroup, Subnet, Vpc,
};
use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

type Shared = Arc<dyn Any + Send + Sync>;

/// A method returning every item of a paginated, stack-filtered describe call, read once.
macro_rules! paged {
    ($(#[$doc:meta])* $name:ident, $cell:ident, $ty:ty, $call:ident, $filter:ident, $op:literal) => {
        $(#[$doc])*
        pub async fn $name(&self) -> Result<&[$ty], AwsError> {
            let v = self
                .$cell
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
    };
}

/// Lazily fetched, shared results of the batched describe calls, filtered by the stack tag.
pub struct Snapshot {
    aws: Aws,
    stack: String,
    account: String,
    cache: Mutex<HashMap<&'static str, Arc<OnceCell<Shared>>>>,
    vpcs: OnceCell<Vec<Vpc>>,
    subnets: OnceCell<Vec<Subnet>>,
    igws: OnceCell<Vec<InternetGateway>>,
    route_tables: OnceCell<Vec<RouteTable>>,
    nat_gateways: OnceCell<Vec<NatGateway>>,
    addresses: OnceCell<Vec<Address>>,
    security_groups: OnceCell<Vec<SecurityGroup>>,
}

impl Snapshot {
    /// An empty snapshot; nothing is read until a kind asks.
    pub fn new(aws: Aws, stack: &str, account: &str) -> Self {
        Snapshot {
            aws,
            stack: stack.to_string(),
            account: account.to_string(),
            cache: Mutex::new(HashMap::new()),
            vpcs: OnceCell::new(),
            subnets: OnceCell::new(),
            igws: OnceCell::new(),
            route_tables: OnceCell::new(),
            nat_gateways: OnceCell::new(),
            addresses: OnceCell::new(),
            security_groups: OnceCell::new(),
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

    /// The result of `read`, run at most once per snapshot under `key`, shared by every kind
    /// that asks for the same key (one DescribeCluster serves the cluster and its node group).
    pub async fn cached<T, F, Fut>(&self, key: &'static str, read: F) -> anyhow::Result<Arc<T>>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = anyhow::Result<T>>,
    {
        let cell = {
            let mut cache = self
                .cache
                .lock()
                .map_err(|_| anyhow::anyhow!("snapshot cache poisoned"))?;
            cache.entry(key).or_default().clone()
        };
        let value = cell
            .get_or_try_init(|| async { read().await.map(|v| Arc::new(v) as Shared) })
            .await?
            .clone();
        value
            .downcast::<T>()
            .map_err(|_| anyhow::anyhow!("snapshot key {key} read with two different types"))
    }

    fn owned(&self) -> Filter {
        Filter::builder()
            .name(format!("tag:{STACK_TAG}"))
            .values(&self.stack)
            .build()
    }

    paged!(
        /// The stack's VPCs.
        vpcs, vpcs, Vpc, describe_vpcs, filters, "DescribeVpcs"
    );
    paged!(
        /// The stack's subnets.
        subnets, subnets, Subnet, describe_subnets, filters, "DescribeSubnets"
    );
    paged!(
        /// The stack's internet gateways, with their attachments.
        internet_gateways, igws, InternetGateway, describe_internet_gateways, filters,
        "DescribeInternetGateways"
    );
    paged!(
        /// The stack's route tables, with their routes and associations.
        route_tables, route_tables, RouteTable, describe_route_tables, filters,
        "DescribeRouteTables"
    );
    paged!(
        /// The stack's NAT gateways in any state.
        nat_gateways, nat_gateways, NatGateway, describe_nat_gateways, filter,
        "DescribeNatGateways"
    );
    paged!(
        /// The stack's security groups, with their rules.
        security_groups, security_groups, SecurityGroup, describe_security_groups, filters,
        "DescribeSecurityGroups"
    );

    /// The stack's Elastic IPs.
    pub async fn addresses(&self) -> Result<&[Address], AwsError> {
        let v = self
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
