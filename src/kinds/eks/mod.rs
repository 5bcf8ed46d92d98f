//! EKS kinds, and the waiters and retry rules they share (reads go through the snapshot).

pub mod access_entry;
pub mod cluster;
pub mod launch_template;
pub mod namespace;
pub mod node_group;
pub mod versions;

use crate::aws::{absent_ok, Aws, AwsError, AwsResultExt};
use crate::kinds::StepCtx;
use crate::retry::{not_found_yet, poll_until, send_eventually, Budget};
use anyhow::{anyhow, bail, Context, Result};
use aws_sdk_eks::types::{Cluster as EksCluster, ClusterStatus, Update, UpdateStatus};
use std::time::Duration;

/// AWS documents 8 to 15 minutes for a cluster to come up and 5 to go; allow far more.
pub(crate) const CLUSTER_TIMEOUT: Duration = Duration::from_secs(40 * 60);

/// A fresh idempotency token, so the SDK's own retries of a call cannot act twice.
pub(crate) fn request_token() -> String {
    format!("{:032x}", fastrand::u128(..))
}

/// The errors EKS gives for a role, its trust policy or its managed policies IAM has not
/// propagated yet: "Role with arn: ..., could not be assumed because it does not exist or the
/// trusted entity is not correct"; for a node group's role, "Following required service
/// principals [ec2.amazonaws.com] were not found in the trust relationships of nodeRole ..."
/// (eksctl#3290) and "The provided role doesn't have the Amazon EKS Managed Policies associated
/// with it" (containers-roadmap#1610). The stack creates the trust and the attachments before
/// the node group, so these pass within IAM's propagation delay; past the budget they are real.
pub(crate) fn role_not_assumable_yet(e: &AwsError) -> bool {
    e.is("InvalidParameterException")
        && [
            "could not be assumed",
            "does not exist",
            "were not found in the trust relationships",
            "doesn't have the Amazon EKS Managed Policies",
        ]
        .iter()
        .any(|m| e.detail.contains(m))
}

/// Budget for IAM propagation errors: seconds in practice, two minutes at worst.
pub(crate) const IAM_PROPAGATION: Budget = Budget {
    total: Duration::from_secs(120),
};

/// The cluster as DescribeCluster shows it now (not cached); `None` once it is gone.
pub(crate) async fn cluster_now(aws: &Aws, name: &str) -> Result<Option<EksCluster>> {
    let r = aws
        .eks
        .describe_cluster()
        .name(name)
        .send()
        .await
        .aws("DescribeCluster");
    Ok(absent_ok(r)?.and_then(|out| out.cluster))
}

/// An EKS health issue: clusters and node groups report them in two types of the same shape.
pub(crate) trait HealthIssue {
    /// `code: message`.
    fn text(&self) -> String;
}

macro_rules! health_issue {
    ($($ty:ty),*) => {$(
        impl HealthIssue for $ty {
            fn text(&self) -> String {
                let code = self.code().map(|c| c.as_str()).unwrap_or("issue");
                format!("{code}: {}", self.message().unwrap_or("no detail"))
            }
        }
    )*};
}
health_issue!(aws_sdk_eks::types::ClusterIssue, aws_sdk_eks::types::Issue);

/// Health issues as `code: message` joined by `; `; empty when there are none.
pub(crate) fn issues_text<I: HealthIssue>(issues: &[I]) -> String {
    let text: Vec<String> = issues.iter().map(HealthIssue::text).collect();
    text.join("; ")
}

/// Why a cluster is unusable, from its health issues.
pub(crate) fn cluster_failure(c: &EksCluster) -> String {
    let issues = issues_text(c.health().map(|h| h.issues()).unwrap_or_default());
    if issues.is_empty() {
        "cluster is FAILED (no health issue given)".to_string()
    } else {
        format!("cluster is FAILED: {issues}")
    }
}

/// Waits until cluster `name` is ACTIVE (a previous, interrupted run may have left it CREATING
/// or UPDATING); returns it as it then is.
pub(crate) async fn wait_cluster_active(cx: &StepCtx<'_>, name: &str) -> Result<EksCluster> {
    let mut noted = false;
    poll_until(
        &format!("EKS cluster {name} to become ACTIVE"),
        CLUSTER_TIMEOUT,
        || {
            let first = !noted;
            noted = true;
            async move {
                // Right after CreateCluster the name may not be readable yet.
                let c = send_eventually(Budget::FRESH_ID, not_found_yet, "DescribeCluster", || {
                    cx.aws.eks.describe_cluster().name(name).send()
                })
                .await?
                .cluster
                .ok_or_else(|| anyhow!("DescribeCluster returned no cluster for {name}"))?;
                match c.status() {
                    Some(ClusterStatus::Active) => Ok(Some(c)),
                    Some(ClusterStatus::Failed) => {
                        bail!("EKS cluster {name}: {}", cluster_failure(&c))
                    }
                    Some(ClusterStatus::Deleting) => bail!("EKS cluster {name} is being deleted"),
                    status => {
                        if first {
                            cx.note(&format!(
                                "waiting for EKS cluster {name} to become ACTIVE (now {})",
                                status.map(|s| s.as_str()).unwrap_or("unknown")
                            ));
                        }
                        Ok(None)
                    }
                }
            }
        },
    )
    .await
}

/// Waits until the update `id` of the cluster (or of its node group) has finished, and fails
/// with AWS's reasons when it did not succeed.
pub(crate) async fn wait_update(
    cx: &StepCtx<'_>,
    cluster: &str,
    nodegroup: Option<&str>,
    started: Option<&Update>,
    what: &str,
    timeout: Duration,
) -> Result<()> {
    let id = started
        .and_then(|u| u.id())
        .with_context(|| format!("EKS started no trackable update for {what}"))?;
    cx.note(&format!("waiting for {what}"));
    poll_until(what, timeout, || async {
        let out = send_eventually(Budget::FRESH_ID, not_found_yet, "DescribeUpdate", || {
            cx.aws
                .eks
                .describe_update()
                .name(cluster)
                .set_nodegroup_name(nodegroup.map(str::to_string))
                .update_id(id)
                .send()
        })
        .await?;
        let Some(u) = out.update else {
            bail!("DescribeUpdate returned no update {id}");
        };
        match u.status() {
            Some(UpdateStatus::Successful) => Ok(Some(())),
            Some(UpdateStatus::InProgress) | None => Ok(None),
            Some(s) => {
                let errors: Vec<String> = u
                    .errors()
                    .iter()
                    .map(|e| e.error_message().unwrap_or("no detail").to_string())
                    .collect();
                bail!(
                    "{what}: update {id} ended {}: {}",
                    s.as_str(),
                    if errors.is_empty() {
                        "no reason given".to_string()
                    } else {
                        errors.join("; ")
                    }
                )
            }
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: &str, msg: &str) -> AwsError {
        AwsError {
            op: "CreateCluster",
            code: Some(code.to_string()),
            detail: format!("{code}: {msg}"),
        }
    }

    #[test]
    fn only_the_role_propagation_error_is_retried() {
        assert!(role_not_assumable_yet(&err(
            "InvalidParameterException",
            "Role with arn: arn:aws:iam::1:role/x, could not be assumed because it does not \
             exist or the trusted entity is not correct"
        )));
        // CreateNodegroup's words for a node role IAM has not propagated yet.
        assert!(role_not_assumable_yet(&err(
            "InvalidParameterException",
            "Following required service principals [ec2.amazonaws.com] were not found in the \
             trust relationships of nodeRole arn:aws:iam::1:role/grpc-eks-node"
        )));
        assert!(role_not_assumable_yet(&err(
            "InvalidParameterException",
            "The provided role doesn't have the Amazon EKS Managed Policies associated with it. \
             Please ensure the following policies [arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy, \
             arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly] are attached"
        )));
        assert!(!role_not_assumable_yet(&err(
            "InvalidParameterException",
            "Subnets specified must be in at least two different AZs"
        )));
        assert!(!role_not_assumable_yet(&err(
            "ResourceInUseException",
            "could not be assumed"
        )));
    }
}
