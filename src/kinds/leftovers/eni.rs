//! A network interface the VPC CNI left `available` in a stack subnet (its node is gone).

use super::never_made;
use crate::aws::delete_once;
use crate::kinds::{attrs, Change, Current, Found, Outputs, Resource, Snapshot, StepCtx};
use anyhow::Result;
use aws_sdk_ec2::types::NetworkInterface;

/// Interface left by the VPC CNI.
pub struct CniEni;

attrs! {
    /// Where it sits: referencing its subnet and groups orders it before their deletion.
    pub struct CniEniAttrs {
        /// Its subnet.
        subnet_id: String,
        /// Its security groups.
        security_groups: Vec<String>,
        /// What the CNI wrote on it (`aws-K8S-<instance>`).
        description: String,
    }
}

impl Resource for CniEni {
    type Attrs = CniEniAttrs;

    async fn observe(&self, _snap: &Snapshot) -> Result<Vec<Found<Self::Attrs>>> {
        Ok(Vec::new()) // found by destroy alone (see `leftovers::find`)
    }

    async fn create(&self, _cx: &StepCtx<'_>, _want: &Self::Attrs) -> Result<Outputs> {
        never_made("network interface left by the VPC CNI")
    }

    async fn update(&self, _cx: &StepCtx<'_>, _c: &Change<Self::Attrs>) -> Result<Outputs> {
        never_made("network interface left by the VPC CNI")
    }

    async fn delete(&self, cx: &StepCtx<'_>, c: &Current<Self::Attrs>) -> Result<()> {
        let req = cx.aws.ec2.delete_network_interface();
        delete_once(
            "DeleteNetworkInterface",
            req.network_interface_id(&c.physical_id).send(),
        )
        .await
    }
}

/// The interface's attributes as EC2 describes it.
pub fn attrs_of(eni: &NetworkInterface) -> CniEniAttrs {
    CniEniAttrs {
        subnet_id: eni.subnet_id().unwrap_or_default().to_string(),
        security_groups: eni
            .groups()
            .iter()
            .filter_map(|g| g.group_id())
            .map(str::to_string)
            .collect(),
        description: eni.description().unwrap_or_default().to_string(),
    }
}
