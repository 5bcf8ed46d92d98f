//! A network interface the VPC CNI left `available` in a stack subnet (its node is gone).

use super::delete_only;
use crate::aws::delete_once;
use crate::kinds::{attrs, Current, StepCtx};
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

delete_only!(
    CniEni,
    CniEniAttrs,
    "network interface left by the VPC CNI",
    delete
);

async fn delete(cx: &StepCtx<'_>, c: &Current<CniEniAttrs>) -> Result<()> {
    let req = cx.aws.ec2.delete_network_interface();
    delete_once(
        "DeleteNetworkInterface",
        req.network_interface_id(&c.physical_id).send(),
    )
    .await
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
