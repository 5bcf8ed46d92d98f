//! EKS kinds, and the cluster and node group reads they (and the ALB attachment) share.

pub mod access_entry;
pub mod cluster;
pub mod launch_template;
pub mod node_group;

use crate::aws::{Aws, AwsError, AwsResultExt};
use crate::kinds::{tag_delta, TagDelta};
use crate::kinds::{Spec, StepCtx};
use crate::model::{LogicalId, ID_TAG, STACK_TAG};
use crate::naming;
use crate::retry::{eventually, not_found_yet, poll_until, Budget};
use crate::snapshot::Snapshot;
use anyhow::{anyhow, bail, Context, Result};
use aws_sdk_eks::types::{Cluster as EksCluster, ClusterStatus, Nodegroup, Update, UpdateStatus};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// The stack's cluster.
pub async fn describe_cluster(snap: &Snapshot) -> Result<Option<&EksCluster>> {
    Ok(snap.cluster().await?)
}

/// The stack's node group.
pub async fn describe_node_group(snap: &Snapshot) -> Result<Option<&Nodegroup>> {
    Ok(snap.node_group().await?)
}

/// AWS documents 8 to 15 minutes for a cluster to come up and 5 to go; allow far more.
pub(crate) const CLUSTER_TIMEOUT: Duration = Duration::from_secs(40 * 60);

/// Tags as a JSON object, without the `aws:` ones AWS adds itself.
pub(crate) fn tags_json(tags: Option<&HashMap<String, String>>) -> Json {
    let map: serde_json::Map<String, Json> = tags
        .into_iter()
        .flatten()
        .filter(|(k, _)| !k.starts_with("aws:"))
        .map(|(k, v)| (k.clone(), Json::String(v.clone())))
        .collect();
    Json::Object(map)
}

/// True when the tags say the stack owns the resource.
pub(crate) fn owned(tags: Option<&HashMap<String, String>>, stack: &str) -> bool {
    tags.and_then(|t| t.get(STACK_TAG))
        .is_some_and(|v| v == stack)
}

/// The logical id in the `infra:id` tag, or `default`, the id the resource would have.
pub(crate) fn logical_id(tags: Option<&HashMap<String, String>>, default: &str) -> LogicalId {
    LogicalId::new(
        tags.and_then(|t| t.get(ID_TAG))
            .map(String::as_str)
            .unwrap_or(default),
    )
}

/// The spec's tags in the shape EKS create calls take.
pub(crate) fn spec_tags(spec: &Spec) -> Option<HashMap<String, String>> {
    Some(spec.tags().into_iter().collect())
}

/// A list-of-strings attribute of the spec (subnet ids, instance types, security groups).
pub(crate) fn string_list(spec: &Spec, key: &str) -> Result<Vec<String>> {
    spec.get(key)
        .and_then(Json::as_array)
        .ok_or_else(|| anyhow!("spec has no list attribute {key:?}"))?
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| anyhow!("{key} holds a non-string item"))
        })
        .collect()
}

/// A fresh idempotency token, so the SDK's own retries of a call cannot act twice.
pub(crate) fn request_token() -> String {
    format!("{:032x}", fastrand::u128(..))
}

/// The error EKS gives for a role IAM has not propagated yet (or whose trust is not readable
/// yet): "Role with arn: ..., could not be assumed because it does not exist or the trusted
/// entity is not correct".
pub(crate) fn role_not_assumable_yet(e: &AwsError) -> bool {
    e.is("InvalidParameterException")
        && (e.detail.contains("could not be assumed") || e.detail.contains("does not exist"))
}

/// Budget for IAM propagation errors: seconds in practice, two minutes at worst.
pub(crate) const IAM_PROPAGATION: Budget = Budget {
    total: Duration::from_secs(120),
};

/// Brings the tags of the EKS resource `arn` from `current` to the spec's.
pub(crate) async fn update_tags(
    aws: &Aws,
    arn: &str,
    current: Option<&Json>,
    spec: &Spec,
) -> Result<()> {
    let TagDelta { set, remove } = tag_delta(current, spec);
    let set: HashMap<String, String> = set.into_iter().collect();
    if !set.is_empty() {
        aws.eks
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(set))
            .send()
            .await
            .aws("TagResource")?;
    }
    if !remove.is_empty() {
        aws.eks
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(remove))
            .send()
            .await
            .aws("UntagResource")?;
    }
    Ok(())
}

/// The cluster as DescribeCluster shows it now (not cached); `None` once it is gone.
pub(crate) async fn cluster_now(aws: &Aws, name: &str) -> Result<Option<EksCluster>> {
    match aws
        .eks
        .describe_cluster()
        .name(name)
        .send()
        .await
        .aws("DescribeCluster")
    {
        Ok(out) => Ok(out.cluster),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Why a cluster is unusable, from its health issues.
pub(crate) fn cluster_failure(c: &EksCluster) -> String {
    let issues: Vec<String> = c
        .health()
        .map(|h| h.issues())
        .unwrap_or_default()
        .iter()
        .map(|i| {
            format!(
                "{}: {}",
                i.code().map(|c| c.as_str()).unwrap_or("issue"),
                i.message().unwrap_or("no detail")
            )
        })
        .collect();
    if issues.is_empty() {
        "cluster is FAILED (no health issue given)".to_string()
    } else {
        format!("cluster is FAILED: {}", issues.join("; "))
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
                let c = eventually(Budget::FRESH_ID, not_found_yet, || async {
                    cx.aws
                        .eks
                        .describe_cluster()
                        .name(name)
                        .send()
                        .await
                        .aws("DescribeCluster")
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
        let out = eventually(Budget::FRESH_ID, not_found_yet, || async {
            cx.aws
                .eks
                .describe_update()
                .name(cluster)
                .set_nodegroup_name(nodegroup.map(str::to_string))
                .update_id(id)
                .send()
                .await
                .aws("DescribeUpdate")
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
        assert!(!role_not_assumable_yet(&err(
            "InvalidParameterException",
            "Subnets specified must be in at least two different AZs"
        )));
        assert!(!role_not_assumable_yet(&err(
            "ResourceInUseException",
            "could not be assumed"
        )));
    }

    #[test]
    fn string_lists_must_hold_strings() {
        let spec = |v: Json| Spec([("ids".to_string(), v)].into_iter().collect());
        assert_eq!(
            string_list(&spec(serde_json::json!(["a", "b"])), "ids").unwrap(),
            vec!["a", "b"]
        );
        assert!(string_list(&spec(serde_json::json!(["a", 1])), "ids").is_err());
        assert!(string_list(&spec(serde_json::json!(["a"])), "missing").is_err());
    }

    #[test]
    fn tags_drop_aws_keys_and_ownership_needs_the_stack() {
        let tags: HashMap<String, String> = [
            ("aws:cloudformation:stack-name", "x"),
            (STACK_TAG, "s"),
            (ID_TAG, "eks/cluster"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let j = tags_json(Some(&tags));
        assert_eq!(j.as_object().map(|m| m.len()), Some(2));
        assert!(owned(Some(&tags), "s"));
        assert!(!owned(Some(&tags), "other"));
        assert!(!owned(None, "s"));
        assert_eq!(logical_id(Some(&tags), "x").as_str(), "eks/cluster");
        assert_eq!(logical_id(None, "eks/cluster").as_str(), "eks/cluster");
        assert_eq!(tags_json(None), Json::Object(Default::default()));
    }
}
