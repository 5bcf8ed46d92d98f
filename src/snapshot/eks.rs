//! EKS reads: the stack's cluster and node group, each described once per run.

use super::Snapshot;
use crate::aws::{absent_ok, AwsError, AwsResultExt};
use crate::naming;
use aws_sdk_eks::types::{Cluster, Nodegroup};

impl Snapshot {
    /// The stack's cluster as DescribeCluster shows it; `None` when absent.
    pub async fn cluster(&self) -> Result<Option<&Cluster>, AwsError> {
        let c = self
            .cluster
            .get_or_try_init(|| async {
                let r = self
                    .aws
                    .eks
                    .describe_cluster()
                    .name(naming::cluster(&self.stack))
                    .send()
                    .await
                    .aws("DescribeCluster");
                Ok::<_, AwsError>(absent_ok(r)?.and_then(|out| out.cluster))
            })
            .await?;
        Ok(c.as_ref())
    }

    /// The stack's node group as DescribeNodegroup shows it; `None` when absent (or when its
    /// cluster is).
    pub async fn node_group(&self) -> Result<Option<&Nodegroup>, AwsError> {
        let ng = self
            .node_group
            .get_or_try_init(|| async {
                let r = self
                    .aws
                    .eks
                    .describe_nodegroup()
                    .cluster_name(naming::cluster(&self.stack))
                    .nodegroup_name(naming::node_group(&self.stack))
                    .send()
                    .await
                    .aws("DescribeNodegroup");
                Ok::<_, AwsError>(absent_ok(r)?.and_then(|out| out.nodegroup))
            })
            .await?;
        Ok(ng.as_ref())
    }
}
