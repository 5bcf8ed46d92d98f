//! EKS reads: the stack's cluster and node groups, each described once per run.

use super::{read_once, Snapshot};
use crate::aws::{absent_ok, AwsError, AwsResultExt};
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

    /// The stack's node groups as DescribeNodegroup shows them, under both of the names they
    /// take in turn (two exist while one replaces the other); empty without a cluster.
    pub async fn node_groups(&self) -> Result<&[Nodegroup], AwsError> {
        let read = || async {
            let cluster = naming::cluster(&self.stack);
            // Both names at once: one round trip, as the single read was.
            let reads = naming::node_groups(&self.stack).map(|name| {
                let send = self
                    .aws
                    .eks
                    .describe_nodegroup()
                    .cluster_name(&cluster)
                    .nodegroup_name(name)
                    .send();
                async move { absent_ok(send.await.aws("DescribeNodegroup")) }
            });
            let found = futures::future::try_join_all(reads).await?;
            Ok::<_, AwsError>(
                found
                    .into_iter()
                    .flatten()
                    .filter_map(|o| o.nodegroup)
                    .collect(),
            )
        };
        Ok(self.cells.node_groups.get_or_try_init(read).await?)
    }
}
