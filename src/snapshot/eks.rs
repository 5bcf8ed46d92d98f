//! EKS reads: the stack's cluster and node group, each described once per run.

use super::{read_once, Snapshot};
use crate::aws::AwsError;
use crate::naming;
use aws_sdk_eks::types::{Cluster, Nodegroup};

impl Snapshot {
    /// The stack's cluster as DescribeCluster shows it; `None` when absent.
    pub async fn cluster(&self) -> Result<Option<&Cluster>, AwsError> {
        let req = self.aws.eks.describe_cluster();
        let send = req.name(naming::cluster(&self.stack)).send();
        read_once(&self.cells.cluster, "DescribeCluster", send, |out| {
            out.cluster
        })
        .await
    }

    /// The stack's node group as DescribeNodegroup shows it; `None` when absent (or when its
    /// cluster is).
    pub async fn node_group(&self) -> Result<Option<&Nodegroup>, AwsError> {
        let req = self.aws.eks.describe_nodegroup();
        let send = req
            .cluster_name(naming::cluster(&self.stack))
            .nodegroup_name(naming::node_group(&self.stack))
            .send();
        read_once(&self.cells.node_group, "DescribeNodegroup", send, |out| {
            out.nodegroup
        })
        .await
    }
}
