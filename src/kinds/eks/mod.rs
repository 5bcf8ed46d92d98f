//! EKS kinds, and the cluster and node group reads they (and the ALB attachment) share.

pub mod access_entry;
pub mod cluster;
pub mod launch_template;
pub mod node_group;

use crate::aws::AwsResultExt;
use crate::naming;
use crate::observe::Snapshot;
use anyhow::Result;
use aws_sdk_eks::types::{Cluster as EksCluster, Nodegroup};
use std::sync::Arc;

/// The stack's cluster as DescribeCluster shows it, read once per run; `None` when absent.
pub async fn describe_cluster(snap: &Snapshot) -> Result<Arc<Option<EksCluster>>> {
    snap.cached("eks.cluster", || async {
        let r = snap
            .aws()
            .eks
            .describe_cluster()
            .name(naming::cluster(snap.stack()))
            .send()
            .await
            .aws("DescribeCluster");
        match r {
            Ok(out) => Ok(out.cluster),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    })
    .await
}

/// The stack's node group as DescribeNodegroup shows it, read once per run; `None` when absent.
pub async fn describe_node_group(snap: &Snapshot) -> Result<Arc<Option<Nodegroup>>> {
    snap.cached("eks.nodegroup", || async {
        let r = snap
            .aws()
            .eks
            .describe_nodegroup()
            .cluster_name(naming::cluster(snap.stack()))
            .nodegroup_name(naming::node_group(snap.stack()))
            .send()
            .await
            .aws("DescribeNodegroup");
        match r {
            Ok(out) => Ok(out.nodegroup),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    })
    .await
}
