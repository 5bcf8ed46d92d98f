//! EKS managed node group: runs on the stack's launch template (for the node security group) in
//! the private-app subnets; takes minutes to come up and to go.

use super::{
    describe_node_group, logical_id, owned, request_token, role_not_assumable_yet, spec_tags,
    string_list, tags_json, update_tags, wait_cluster_active, wait_update, IAM_PROPAGATION,
};
use crate::aws::{Aws, AwsResultExt};
use crate::kinds::{Outputs, ResourceKind, Spec, StepCtx};
use crate::model::{Kind, Observed};
use crate::retry::{eventually, not_found_yet, poll_until, Budget};
use crate::snapshot::Snapshot;
use anyhow::{anyhow, bail, Context, Result};
use async_trait::async_trait;
use aws_sdk_eks::types::{
    LaunchTemplateSpecification, Nodegroup, NodegroupScalingConfig, NodegroupStatus,
};
use serde_json::{json, Value as Json};
use std::time::Duration;

/// EKS managed node group.
pub struct NodeGroup;

/// The id a node group found by name has when it carries no `infra:id` tag.
const LOGICAL_ID: &str = "eks/nodegroup";

/// AWS documents 2 to 5 minutes up and 5 to 10 down; allow far more.
const TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// A version update replaces every node in turn, which takes longer the more nodes there are.
const VERSION_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// How long a delete keeps being retried while the node group is busy with another operation.
const BUSY: Budget = Budget {
    total: Duration::from_secs(20 * 60),
};

fn outputs(ng: &Nodegroup) -> Outputs {
    let asg = ng
        .resources()
        .and_then(|r| r.auto_scaling_groups().first())
        .and_then(|g| g.name());
    [
        ("id", ng.nodegroup_name()),
        ("name", ng.nodegroup_name()),
        ("arn", ng.nodegroup_arn()),
        ("asg_name", asg),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k.to_string(), v.to_string())))
    .collect()
}

/// The scaling attribute as the desired side writes it.
fn scaling_json(s: Option<&NodegroupScalingConfig>) -> Json {
    json!({
        "min": s.and_then(|s| s.min_size()),
        "desired": s.and_then(|s| s.desired_size()),
        "max": s.and_then(|s| s.max_size()),
    })
}

/// The spec's `scaling` object as EKS takes it.
fn scaling_config(spec: &Spec) -> Result<NodegroupScalingConfig> {
    let s = spec
        .get("scaling")
        .and_then(Json::as_object)
        .context("spec has no scaling object")?;
    let size = |k: &str| -> Result<i32> {
        s.get(k)
            .and_then(Json::as_i64)
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| anyhow!("scaling.{k} must be a whole number"))
    };
    Ok(NodegroupScalingConfig::builder()
        .min_size(size("min")?)
        .desired_size(size("desired")?)
        .max_size(size("max")?)
        .build())
}

/// Why the node group is unusable, from its health issues.
fn health(ng: &Nodegroup) -> String {
    let issues: Vec<String> = ng
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
        "no health issue given".to_string()
    } else {
        issues.join("; ")
    }
}

/// The node group as DescribeNodegroup shows it now; `None` once it (or its cluster) is gone.
async fn node_group_now(aws: &Aws, cluster: &str, name: &str) -> Result<Option<Nodegroup>> {
    match aws
        .eks
        .describe_nodegroup()
        .cluster_name(cluster)
        .nodegroup_name(name)
        .send()
        .await
        .aws("DescribeNodegroup")
    {
        Ok(out) => Ok(out.nodegroup),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Waits until the node group is ACTIVE; a failed creation is an error naming AWS's reasons.
async fn wait_active(cx: &StepCtx<'_>, cluster: &str, name: &str) -> Result<Nodegroup> {
    cx.note(&format!("waiting for node group {name} to become ACTIVE"));
    poll_until(
        &format!("node group {name} to become ACTIVE"),
        TIMEOUT,
        || async {
            // Right after CreateNodegroup the name may not be readable yet.
            let ng = eventually(Budget::FRESH_ID, not_found_yet, || async {
                cx.aws
                    .eks
                    .describe_nodegroup()
                    .cluster_name(cluster)
                    .nodegroup_name(name)
                    .send()
                    .await
                    .aws("DescribeNodegroup")
            })
            .await?
            .nodegroup
            .ok_or_else(|| anyhow!("DescribeNodegroup returned no node group {name}"))?;
            match ng.status() {
                Some(NodegroupStatus::Active) => Ok(Some(ng)),
                Some(s @ (NodegroupStatus::CreateFailed | NodegroupStatus::DeleteFailed)) => {
                    bail!("node group {name} is {}: {}", s.as_str(), health(&ng))
                }
                Some(NodegroupStatus::Deleting) => bail!("node group {name} is being deleted"),
                _ => Ok(None),
            }
        },
    )
    .await
}

#[async_trait]
impl ResourceKind for NodeGroup {
    fn force_new(&self) -> &'static [&'static str] {
        &[
            "cluster_name",
            "name",
            "node_role_arn",
            "subnet_ids",
            "instance_types",
            "launch_template_id",
        ]
    }

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Observed>> {
        let ng = describe_node_group(snap).await?;
        let Some(ng) = ng.as_ref() else {
            return Ok(Vec::new());
        };
        // A deleting node group is on its way out; the plan treats it as gone.
        if ng.status() == Some(&NodegroupStatus::Deleting) {
            return Ok(Vec::new());
        }
        let name = ng.nodegroup_name().unwrap_or_default();
        let mut o = Observed::new(logical_id(ng.tags(), LOGICAL_ID), Kind::EksNodeGroup, name)
            .with("cluster_name", ng.cluster_name().unwrap_or_default())
            .with("name", name)
            .with("node_role_arn", ng.node_role().unwrap_or_default())
            .with("subnet_ids", ng.subnets().to_vec())
            .with("instance_types", ng.instance_types().to_vec())
            .with("scaling", scaling_json(ng.scaling_config()))
            .with("version", ng.version().unwrap_or_default())
            .with("tags", tags_json(ng.tags()));
        // A node group without launch template cannot carry the node security group: it
        // then differs from the desired one and is replaced.
        if let Some(lt) = ng.launch_template().and_then(|t| t.id()) {
            o = o.with("launch_template_id", lt);
        }
        o.outputs = outputs(ng);
        o.unowned = !owned(ng.tags(), snap.stack());
        if let Some(s @ (NodegroupStatus::CreateFailed | NodegroupStatus::DeleteFailed)) =
            ng.status()
        {
            o.broken = Some(format!("node group is {}: {}", s.as_str(), health(ng)));
        }
        if let Some(s @ (NodegroupStatus::Creating | NodegroupStatus::Updating)) = ng.status() {
            o.pending = Some(format!(
                "still {}: apply waits until it is ACTIVE",
                s.as_str()
            ));
        }
        Ok(vec![o])
    }

    async fn create(&self, cx: &StepCtx<'_>, spec: &Spec) -> Result<Outputs> {
        let (cluster, name) = (spec.str("cluster_name")?, spec.str("name")?);
        let (role, version) = (spec.str("node_role_arn")?, spec.str("version")?);
        let template = LaunchTemplateSpecification::builder()
            .id(spec.str("launch_template_id")?)
            .build();
        let scaling = scaling_config(spec)?;
        let subnets = string_list(spec, "subnet_ids")?;
        let instance_types = string_list(spec, "instance_types")?;
        // EKS refuses node groups for a cluster that is not ACTIVE yet.
        wait_cluster_active(cx, cluster).await?;
        let token = request_token();
        eventually(IAM_PROPAGATION, role_not_assumable_yet, || async {
            cx.aws
                .eks
                .create_nodegroup()
                .cluster_name(cluster)
                .nodegroup_name(name)
                .node_role(role)
                .set_subnets(Some(subnets.clone()))
                .set_instance_types(Some(instance_types.clone()))
                .launch_template(template.clone())
                .scaling_config(scaling.clone())
                .version(version)
                .client_request_token(&token)
                .set_tags(spec_tags(spec))
                .send()
                .await
                .aws("CreateNodegroup")
        })
        .await?;
        let ng = wait_active(cx, cluster, name).await?;
        Ok(outputs(&ng))
    }

    async fn update(
        &self,
        cx: &StepCtx<'_>,
        current: &Observed,
        spec: &Spec,
        changed: &[String],
    ) -> Result<Outputs> {
        let name = current.physical_id.as_str();
        let cluster = current
            .attrs
            .get("cluster_name")
            .and_then(Json::as_str)
            .context("the observed node group has no cluster name")?;
        let changes = |attr: &str| changed.iter().any(|c| c == attr);
        let mut ng = None;
        // Left CREATING by an interrupted run, or UPDATING by a change made by hand: the
        // nodes are not there yet, and EKS refuses another update meanwhile.
        if current.pending.is_some() {
            ng = Some(wait_active(cx, cluster, name).await?);
        }
        if changes("scaling") {
            // EKS refuses an update while another (a scaling done by hand, say) is running.
            wait_active(cx, cluster, name).await?;
            let out = cx
                .aws
                .eks
                .update_nodegroup_config()
                .cluster_name(cluster)
                .nodegroup_name(name)
                .scaling_config(scaling_config(spec)?)
                .client_request_token(request_token())
                .send()
                .await
                .aws("UpdateNodegroupConfig")?;
            wait_update(
                cx,
                cluster,
                Some(name),
                out.update(),
                &format!("node group {name} to apply its scaling"),
                TIMEOUT,
            )
            .await?;
            ng = Some(wait_active(cx, cluster, name).await?);
        }
        if changes("version") {
            let version = spec.str("version")?;
            wait_active(cx, cluster, name).await?;
            let out = cx
                .aws
                .eks
                .update_nodegroup_version()
                .cluster_name(cluster)
                .nodegroup_name(name)
                .version(version)
                .client_request_token(request_token())
                .send()
                .await
                .aws("UpdateNodegroupVersion")?;
            wait_update(
                cx,
                cluster,
                Some(name),
                out.update(),
                &format!("node group {name} to reach version {version}"),
                VERSION_TIMEOUT,
            )
            .await?;
            ng = Some(wait_active(cx, cluster, name).await?);
        }
        if changes("tags") {
            let arn = current
                .outputs
                .get("arn")
                .context("the observed node group has no ARN")?;
            update_tags(cx.aws, arn, current.attrs.get("tags"), spec).await?;
        }
        Ok(ng
            .as_ref()
            .map(outputs)
            .unwrap_or_else(|| current.outputs.clone()))
    }

    async fn delete(&self, cx: &StepCtx<'_>, current: &Observed) -> Result<()> {
        let name = current.physical_id.as_str();
        let cluster = current
            .attrs
            .get("cluster_name")
            .and_then(Json::as_str)
            .context("the observed node group has no cluster name")?;
        // A node group still creating or updating refuses deletion until it settles.
        let r = eventually(
            BUSY,
            |e| e.is("ResourceInUseException"),
            || async {
                cx.aws
                    .eks
                    .delete_nodegroup()
                    .cluster_name(cluster)
                    .nodegroup_name(name)
                    .send()
                    .await
                    .aws("DeleteNodegroup")
            },
        )
        .await;
        match r {
            Err(e) if e.is_not_found() => return Ok(()),
            other => other?,
        };
        cx.note(&format!("waiting for node group {name} to be deleted"));
        poll_until(
            &format!("node group {name} to be deleted"),
            TIMEOUT,
            || async {
                Ok(node_group_now(cx.aws, cluster, name)
                    .await?
                    .is_none()
                    .then_some(()))
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(scaling: Json) -> Spec {
        Spec([("scaling".to_string(), scaling)].into_iter().collect())
    }

    #[test]
    fn scaling_round_trips_between_spec_and_observed_shape() {
        let s = scaling_config(&spec(json!({"min": 1, "desired": 2, "max": 3}))).unwrap();
        assert_eq!(
            (s.min_size(), s.desired_size(), s.max_size()),
            (Some(1), Some(2), Some(3))
        );
        assert_eq!(
            scaling_json(Some(&s)),
            json!({"min": 1, "desired": 2, "max": 3})
        );
    }

    #[test]
    fn scaling_needs_whole_numbers() {
        assert!(scaling_config(&spec(json!({"min": 1, "desired": "2", "max": 3}))).is_err());
        assert!(scaling_config(&spec(json!({"min": 1, "max": 3}))).is_err());
        assert!(scaling_config(&spec(json!({"min": -1, "desired": 1.5, "max": 3}))).is_err());
    }

    #[test]
    fn outputs_name_the_auto_scaling_group() {
        use aws_sdk_eks::types::{AutoScalingGroup, NodegroupResources};
        let ng = Nodegroup::builder()
            .nodegroup_name("s-nodes")
            .nodegroup_arn("arn:ng")
            .resources(
                NodegroupResources::builder()
                    .auto_scaling_groups(AutoScalingGroup::builder().name("eks-s-nodes-1").build())
                    .build(),
            )
            .build();
        let o = outputs(&ng);
        assert_eq!(o.get("asg_name").map(String::as_str), Some("eks-s-nodes-1"));
        assert_eq!(o.get("id").map(String::as_str), Some("s-nodes"));
    }
}
