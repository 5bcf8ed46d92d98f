//! EKS managed node group: runs on the stack's launch template (for the node security group) in
//! the private-app subnets; takes minutes to come up and to go.

use super::{
    issues_text, request_token, role_not_assumable_yet, wait_cluster_active, wait_update,
    IAM_PROPAGATION,
};
use crate::aws::{absent_ok, Aws, AwsResultExt};
use crate::kinds::{attrs, Change, Current, Found, Outputs, Resource, Snapshot, StepCtx};
use crate::naming;
use crate::retry::{not_found_yet, poll_until, send_eventually, Budget};
use crate::tags::{Tagged, Tags};
use anyhow::{anyhow, bail, Context, Result};
use aws_sdk_eks::types::{
    LaunchTemplateSpecification, Nodegroup, NodegroupScalingConfig, NodegroupStatus, Update,
};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// EKS managed node group.
pub struct NodeGroup;

attrs! {
    /// What a node group is made of.
    pub struct NodeGroupAttrs {
        /// The cluster it belongs to.
        cluster_name: String => ForceNew,
        /// Its name: either of the two it takes in turn (`naming::node_groups`), whichever it
        /// was created with.
        name: String => CreateOnly,
        /// The role its nodes act as.
        node_role_arn: String => ForceNew,
        /// The subnets its nodes go in.
        subnet_ids: Vec<String> => ForceNew,
        /// Its EC2 instance types.
        instance_types: Vec<String> => ForceNew,
        /// The launch template its nodes start from. A node group without one cannot carry the
        /// node security group: it then differs from the desired one and is replaced.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        launch_template_id: Option<String> => ForceNew,
        /// The version of the launch template its nodes run; a new one is rolled out node by
        /// node, keeping the group's capacity.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        launch_template_version: Option<String>,
        /// How many nodes it runs.
        scaling: Scaling,
        /// Its Kubernetes version.
        version: String,
        /// Its tags.
        tags: Tags,
    }
}

/// How many nodes a node group runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scaling {
    /// Fewest nodes.
    pub min: i32,
    /// Nodes wanted now.
    pub desired: i32,
    /// Most nodes.
    pub max: i32,
}

impl Scaling {
    /// As EKS reports it. EKS always reports all three sizes (every node group is created
    /// with them).
    fn of(s: Option<&NodegroupScalingConfig>) -> Self {
        Scaling {
            min: s.and_then(|s| s.min_size()).unwrap_or_default(),
            desired: s.and_then(|s| s.desired_size()).unwrap_or_default(),
            max: s.and_then(|s| s.max_size()).unwrap_or_default(),
        }
    }

    /// As EKS takes it.
    fn config(self) -> NodegroupScalingConfig {
        NodegroupScalingConfig::builder()
            .min_size(self.min)
            .desired_size(self.desired)
            .max_size(self.max)
            .build()
    }
}

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

/// The node group as DescribeNodegroup shows it now; `None` once it (or its cluster) is gone.
async fn node_group_now(aws: &Aws, cluster: &str, name: &str) -> Result<Option<Nodegroup>> {
    let r = aws
        .eks
        .describe_nodegroup()
        .cluster_name(cluster)
        .nodegroup_name(name)
        .send()
        .await
        .aws("DescribeNodegroup");
    Ok(absent_ok(r)?.and_then(|out| out.nodegroup))
}

/// Why the node group is unusable, from its health issues.
fn health(ng: &Nodegroup) -> String {
    let text = issues_text(ng.health().map(|h| h.issues()).unwrap_or_default());
    if text.is_empty() {
        "no health issue given".to_string()
    } else {
        text
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
            let ng = send_eventually(Budget::FRESH_ID, not_found_yet, "DescribeNodegroup", || {
                cx.aws
                    .eks
                    .describe_nodegroup()
                    .cluster_name(cluster)
                    .nodegroup_name(name)
                    .send()
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

/// Waits for the update EKS `started` (`what` it does) to finish, then for the node group to be
/// ACTIVE again; returns the group as it then is.
async fn settle(
    cx: &StepCtx<'_>,
    cluster: &str,
    name: &str,
    started: Option<&Update>,
    what: &str,
    timeout: Duration,
) -> Result<Nodegroup> {
    wait_update(cx, cluster, Some(name), started, what, timeout).await?;
    wait_active(cx, cluster, name).await
}

impl Resource for NodeGroup {
    type Attrs = NodeGroupAttrs;

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Found<Self::Attrs>>> {
        let mut all = Vec::new();
        for ng in snap.node_groups().await? {
            // A deleting node group is on its way out; the plan treats it as gone.
            if ng.status() == Some(&NodegroupStatus::Deleting) {
                continue;
            }
            let attrs = attrs_of(ng);
            let mut found = Found::by_tags(snap.stack(), LOGICAL_ID, attrs.name.clone(), attrs);
            found.outputs = outputs(ng);
            if let Some(s @ (NodegroupStatus::CreateFailed | NodegroupStatus::DeleteFailed)) =
                ng.status()
            {
                found.broken = Some(format!("node group is {}: {}", s.as_str(), health(ng)));
            }
            if let Some(s @ (NodegroupStatus::Creating | NodegroupStatus::Updating)) = ng.status() {
                found.coming_up(s.as_str(), "ACTIVE");
            }
            all.push(found);
        }
        Ok(all)
    }

    async fn create(&self, cx: &StepCtx<'_>, want: &Self::Attrs) -> Result<Outputs> {
        let (cluster, name) = (want.cluster_name.as_str(), want.name.as_str());
        let template_id = want
            .launch_template_id
            .as_deref()
            .context("the node group needs its launch template id")?;
        let template = LaunchTemplateSpecification::builder()
            .id(template_id)
            .set_version(want.launch_template_version.clone())
            .build();
        // EKS refuses node groups for a cluster that is not ACTIVE yet.
        wait_cluster_active(cx, cluster).await?;
        let token = request_token();
        send_eventually(
            IAM_PROPAGATION,
            role_not_assumable_yet,
            "CreateNodegroup",
            || {
                cx.aws
                    .eks
                    .create_nodegroup()
                    .cluster_name(cluster)
                    .nodegroup_name(name)
                    .node_role(&want.node_role_arn)
                    .set_subnets(Some(want.subnet_ids.clone()))
                    .set_instance_types(Some(want.instance_types.clone()))
                    .launch_template(template.clone())
                    .scaling_config(want.scaling.config())
                    .version(&want.version)
                    .client_request_token(&token)
                    .set_tags(Some(want.tags.to_map()))
                    .send()
            },
        )
        .await?;
        let ng = wait_active(cx, cluster, name).await?;
        Ok(outputs(&ng))
    }

    async fn create_replacement(
        &self,
        cx: &StepCtx<'_>,
        want: &Self::Attrs,
        old: &Current<Self::Attrs>,
    ) -> Result<Outputs> {
        // EKS names are unique in a cluster, and the old group keeps serving until the new one
        // is up: the new one takes the other name.
        let want = NodeGroupAttrs {
            name: naming::node_group_successor(cx.stack, &old.physical_id),
            ..want.clone()
        };
        self.create(cx, &want).await
    }

    async fn update(&self, cx: &StepCtx<'_>, c: &Change<Self::Attrs>) -> Result<Outputs> {
        let (name, have) = (c.physical_id.as_str(), &c.have);
        let cluster = have.cluster_name.as_str();
        let mut ng = None;
        // Left CREATING by an interrupted run, or UPDATING by a change made by hand: the
        // nodes are not there yet, and EKS refuses another update meanwhile.
        if c.pending.is_some() {
            ng = Some(wait_active(cx, cluster, name).await?);
        }
        if have.scaling != c.want.scaling {
            // EKS refuses an update while another (a scaling done by hand, say) is running.
            wait_active(cx, cluster, name).await?;
            let out = cx
                .aws
                .eks
                .update_nodegroup_config()
                .cluster_name(cluster)
                .nodegroup_name(name)
                .scaling_config(c.want.scaling.config())
                .client_request_token(request_token())
                .send()
                .await
                .aws("UpdateNodegroupConfig")?;
            let what = format!("node group {name} to apply its scaling");
            ng = Some(settle(cx, cluster, name, out.update(), &what, TIMEOUT).await?);
        }
        let template = have.launch_template_version != c.want.launch_template_version;
        if have.version != c.want.version || template {
            // One rolling update brings both the Kubernetes version and the template version.
            let version = c.want.version.as_str();
            let rollout = template.then(|| {
                LaunchTemplateSpecification::builder()
                    .set_id(c.want.launch_template_id.clone())
                    .set_version(c.want.launch_template_version.clone())
                    .build()
            });
            wait_active(cx, cluster, name).await?;
            let out = cx
                .aws
                .eks
                .update_nodegroup_version()
                .cluster_name(cluster)
                .nodegroup_name(name)
                .version(version)
                .set_launch_template(rollout)
                .client_request_token(request_token())
                .send()
                .await
                .aws("UpdateNodegroupVersion")?;
            let what = match &c.want.launch_template_version {
                Some(lt) if template => {
                    format!("node group {name} to roll out launch template version {lt}")
                }
                _ => format!("node group {name} to reach version {version}"),
            };
            ng = Some(settle(cx, cluster, name, out.update(), &what, VERSION_TIMEOUT).await?);
        }
        c.sync_tags(cx.aws, Tagged::Eks(c.output("arn")?)).await?;
        Ok(ng
            .as_ref()
            .map(outputs)
            .unwrap_or_else(|| c.outputs.clone()))
    }

    async fn delete(&self, cx: &StepCtx<'_>, c: &Current<Self::Attrs>) -> Result<()> {
        let name = c.physical_id.as_str();
        let cluster = c.attrs.cluster_name.as_str();
        // A node group still creating or updating refuses deletion until it settles.
        let r = send_eventually(
            BUSY,
            |e| e.is("ResourceInUseException"),
            "DeleteNodegroup",
            || {
                cx.aws
                    .eks
                    .delete_nodegroup()
                    .cluster_name(cluster)
                    .nodegroup_name(name)
                    .send()
            },
        )
        .await;
        if absent_ok(r)?.is_none() {
            return Ok(());
        }
        let gone = || async { Ok(node_group_now(cx.aws, cluster, name).await?.is_none()) };
        cx.wait_deleted(&format!("node group {name}"), TIMEOUT, gone)
            .await
    }
}

/// The node group's attributes as DescribeNodegroup shows them.
fn attrs_of(ng: &Nodegroup) -> NodeGroupAttrs {
    NodeGroupAttrs {
        cluster_name: ng.cluster_name().unwrap_or_default().to_string(),
        name: ng.nodegroup_name().unwrap_or_default().to_string(),
        node_role_arn: ng.node_role().unwrap_or_default().to_string(),
        subnet_ids: ng.subnets().to_vec(),
        instance_types: ng.instance_types().to_vec(),
        launch_template_id: ng
            .launch_template()
            .and_then(|t| t.id())
            .map(str::to_string),
        launch_template_version: ng
            .launch_template()
            .and_then(|t| t.version())
            .map(str::to_string),
        scaling: Scaling::of(ng.scaling_config()),
        version: ng.version().unwrap_or_default().to_string(),
        tags: Tags::from(ng.tags()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests_typed::desired;
    use crate::kinds::Attributes;
    use crate::model::AttrRule;
    use aws_sdk_eks::types::{AutoScalingGroup, NodegroupResources};
    use serde_json::json;

    #[test]
    fn scaling_round_trips_between_eks_and_the_attribute() {
        let s = Scaling {
            min: 1,
            desired: 2,
            max: 3,
        };
        let c = s.config();
        assert_eq!(
            (c.min_size(), c.desired_size(), c.max_size()),
            (Some(1), Some(2), Some(3))
        );
        assert_eq!(Scaling::of(Some(&c)), s);
        assert_eq!(
            serde_json::to_value(s).unwrap(),
            json!({"min": 1, "desired": 2, "max": 3})
        );
    }

    #[test]
    fn scaling_needs_whole_numbers_and_all_three() {
        let parse = |v| serde_json::from_value::<Scaling>(v);
        assert!(parse(json!({"min": 1, "desired": 2, "max": 3})).is_ok());
        assert!(parse(json!({"min": 1, "desired": "2", "max": 3})).is_err());
        assert!(parse(json!({"min": 1, "max": 3})).is_err());
        assert!(parse(json!({"min": 1, "desired": 1.5, "max": 3})).is_err());
        assert!(parse(json!({"min": 1, "desired": 1, "max": 3, "maximum": 4})).is_err());
    }

    #[test]
    fn outputs_name_the_auto_scaling_group() {
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

    /// The stack's node group as DescribeNodegroup returns it.
    fn described(want: &NodeGroupAttrs) -> Nodegroup {
        let mut tags = want.tags.to_map();
        tags.insert("aws:eks:cluster-name".into(), "grpc-eks".into());
        Nodegroup::builder()
            .nodegroup_name("grpc-eks-nodes")
            .nodegroup_arn("arn:aws:eks:us-east-1:123456789012:nodegroup/grpc-eks/grpc-eks-nodes/x")
            .cluster_name("eks/cluster.name")
            .node_role("role/node.arn")
            .subnets("subnet/private-app/a.id")
            .subnets("subnet/private-app/b.id")
            .instance_types("t3.medium")
            .launch_template(
                LaunchTemplateSpecification::builder()
                    .id("lt/nodes.id")
                    .version("lt/nodes.version")
                    .build(),
            )
            .scaling_config(
                NodegroupScalingConfig::builder()
                    .min_size(1)
                    .desired_size(1)
                    .max_size(2)
                    .build(),
            )
            .version("1.31")
            .status(NodegroupStatus::Active)
            .set_tags(Some(tags))
            .build()
    }

    #[test]
    fn observed_attributes_equal_the_desired_ones() {
        let want: NodeGroupAttrs = desired("eks/nodegroup");
        assert_eq!(attrs_of(&described(&want)), want);
    }

    #[test]
    fn a_node_group_without_launch_template_has_no_such_attribute() {
        let want: NodeGroupAttrs = desired("eks/nodegroup");
        let mut ng = described(&want);
        ng.launch_template = None;
        let attrs = attrs_of(&ng);
        assert_eq!(attrs.launch_template_id, None);
        let json = serde_json::to_value(&attrs).unwrap();
        assert!(json.get("launch_template_id").is_none(), "{json}");
        assert_eq!(
            NodeGroupAttrs::rule("launch_template_id"),
            AttrRule::ForceNew
        );
    }
}
