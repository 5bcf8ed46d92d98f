//! EKS cluster: created in the private-app subnets with access entries enabled; it takes minutes
//! to come up and to go, and refuses to go while node groups remain.

use super::{
    cluster_failure, cluster_now, request_token, role_not_assumable_yet, wait_cluster_active,
    wait_update, CLUSTER_TIMEOUT, IAM_PROPAGATION,
};
use crate::aws::{absent_ok, AwsResultExt};
use crate::kinds::{attrs, differs, Change, Current, Found, Outputs, Resource, Snapshot, StepCtx};
use crate::retry::{eventually, send_eventually, Budget};
use crate::tags::{Tagged, Tags};
use anyhow::Result;
use aws_sdk_eks::types::{
    AuthenticationMode, Cluster as EksCluster, ClusterStatus, CreateAccessConfigRequest,
    UpdateAccessConfigRequest, VpcConfigRequest,
};
use std::time::Duration;

/// EKS cluster.
pub struct Cluster;

attrs! {
    /// What a cluster is made of.
    pub struct ClusterAttrs {
        /// Its name (the stack's).
        name: String => ForceNew,
        /// Its Kubernetes version.
        version: String,
        /// The role the control plane acts as.
        role_arn: String => ForceNew,
        /// The subnets its control plane network interfaces go in.
        subnet_ids: Vec<String> => ForceNew,
        /// How principals authenticate: `API_AND_CONFIG_MAP` keeps both access entries and the
        /// aws-auth ConfigMap ("" when AWS reports none).
        authentication_mode: String,
        /// Its tags.
        tags: Tags,
    }
}

/// The id a cluster found by name has when it carries no `infra:id` tag.
const LOGICAL_ID: &str = "eks/cluster";

/// How long DeleteCluster keeps being retried while the node group is still going away (AWS
/// documents 5 to 10 minutes for a node group deletion).
const NODE_GROUPS_GONE: Budget = Budget {
    total: Duration::from_secs(20 * 60),
};

/// Outputs other resources reference; values AWS has not filled in yet are left out.
fn outputs(c: &EksCluster) -> Outputs {
    let vpc = c.resources_vpc_config();
    [
        ("id", c.name()),
        ("name", c.name()),
        ("arn", c.arn()),
        ("endpoint", c.endpoint()),
        (
            "cluster_security_group_id",
            vpc.and_then(|v| v.cluster_security_group_id()),
        ),
        (
            "certificate_authority",
            c.certificate_authority().and_then(|ca| ca.data()),
        ),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k.to_string(), v.to_string())))
    .collect()
}

impl Resource for Cluster {
    type Attrs = ClusterAttrs;

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Found<Self::Attrs>>> {
        let Some(c) = snap.cluster().await? else {
            return Ok(Vec::new());
        };
        // A deleting cluster is on its way out; the plan treats it as gone.
        if c.status() == Some(&ClusterStatus::Deleting) {
            return Ok(Vec::new());
        }
        let attrs = attrs_of(c);
        let mut found = Found::by_tags(snap.stack(), LOGICAL_ID, attrs.name.clone(), attrs);
        found.outputs = outputs(c);
        if c.status() == Some(&ClusterStatus::Failed) {
            found.broken = Some(cluster_failure(c));
        }
        if let Some(s @ (ClusterStatus::Creating | ClusterStatus::Updating)) = c.status() {
            found.coming_up(s.as_str(), "ACTIVE");
        }
        Ok(vec![found])
    }

    async fn create(&self, cx: &StepCtx<'_>, want: &Self::Attrs) -> Result<Outputs> {
        let vpc = VpcConfigRequest::builder()
            .set_subnet_ids(Some(want.subnet_ids.clone()))
            .endpoint_public_access(true)
            .endpoint_private_access(true)
            .build();
        let access = CreateAccessConfigRequest::builder()
            .authentication_mode(AuthenticationMode::from(want.authentication_mode.as_str()))
            .bootstrap_cluster_creator_admin_permissions(true)
            .build();
        let token = request_token();
        send_eventually(
            IAM_PROPAGATION,
            role_not_assumable_yet,
            "CreateCluster",
            || {
                cx.aws
                    .eks
                    .create_cluster()
                    .name(&want.name)
                    .version(&want.version)
                    .role_arn(&want.role_arn)
                    .resources_vpc_config(vpc.clone())
                    .access_config(access.clone())
                    .client_request_token(&token)
                    .set_tags(Some(want.tags.to_map()))
                    .send()
            },
        )
        .await?;
        let c = wait_cluster_active(cx, &want.name).await?;
        Ok(outputs(&c))
    }

    async fn update(&self, cx: &StepCtx<'_>, c: &Change<Self::Attrs>) -> Result<Outputs> {
        let (name, have) = (c.physical_id.as_str(), &c.have);
        let version = have.version != c.want.version;
        let mode = have.authentication_mode != c.want.authentication_mode;
        // Left CREATING by an interrupted run: its outputs (endpoint, certificate) come with
        // ACTIVE. EKS also refuses an update while another is in progress.
        let mut ready = None;
        if c.pending.is_some() || version || mode {
            ready = Some(wait_cluster_active(cx, name).await?);
        }
        if version {
            let out = cx
                .aws
                .eks
                .update_cluster_version()
                .name(name)
                .version(&c.want.version)
                .client_request_token(request_token())
                .send()
                .await
                .aws("UpdateClusterVersion")?;
            wait_update(
                cx,
                name,
                None,
                out.update(),
                &format!("EKS cluster {name} to reach version {}", c.want.version),
                CLUSTER_TIMEOUT,
            )
            .await?;
        }
        if mode {
            let out = cx
                .aws
                .eks
                .update_cluster_config()
                .name(name)
                .access_config(
                    UpdateAccessConfigRequest::builder()
                        .authentication_mode(AuthenticationMode::from(
                            c.want.authentication_mode.as_str(),
                        ))
                        .build(),
                )
                .client_request_token(request_token())
                .send()
                .await
                .aws("UpdateClusterConfig")?;
            wait_update(
                cx,
                name,
                None,
                out.update(),
                &format!(
                    "EKS cluster {name} to switch to authentication mode {}",
                    c.want.authentication_mode
                ),
                CLUSTER_TIMEOUT,
            )
            .await?;
        }
        if differs(&have.tags, &c.want.tags) {
            let arn = c.output("arn")?;
            c.sync_tags(cx.aws, Tagged::Eks(arn)).await?;
        }
        if version || mode {
            let c = wait_cluster_active(cx, name).await?;
            return Ok(outputs(&c));
        }
        Ok(ready
            .as_ref()
            .map(outputs)
            .unwrap_or_else(|| c.outputs.clone()))
    }

    async fn delete(&self, cx: &StepCtx<'_>, c: &Current<Self::Attrs>) -> Result<()> {
        let name = c.physical_id.as_str();
        let mut noted = false;
        let r = eventually(
            NODE_GROUPS_GONE,
            |e| e.is("ResourceInUseException"),
            || {
                if !noted {
                    noted = true;
                } else {
                    cx.note(&format!(
                        "EKS cluster {name} still has node groups; waiting for them to go"
                    ));
                }
                async move {
                    cx.aws
                        .eks
                        .delete_cluster()
                        .name(name)
                        .send()
                        .await
                        .aws("DeleteCluster")
                }
            },
        )
        .await;
        if absent_ok(r)?.is_none() {
            return Ok(());
        }
        let gone = || async { Ok(cluster_now(cx.aws, name).await?.is_none()) };
        cx.wait_deleted(&format!("EKS cluster {name}"), CLUSTER_TIMEOUT, gone)
            .await
    }
}

/// The cluster's attributes as DescribeCluster shows them.
fn attrs_of(c: &EksCluster) -> ClusterAttrs {
    ClusterAttrs {
        name: c.name().unwrap_or_default().to_string(),
        version: c.version().unwrap_or_default().to_string(),
        role_arn: c.role_arn().unwrap_or_default().to_string(),
        subnet_ids: c
            .resources_vpc_config()
            .map(|v| v.subnet_ids().to_vec())
            .unwrap_or_default(),
        authentication_mode: c
            .access_config()
            .and_then(|a| a.authentication_mode())
            .map(|m| m.as_str().to_string())
            .unwrap_or_default(),
        tags: Tags::from(c.tags()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests_typed::desired;
    use aws_sdk_eks::types::{AccessConfigResponse, Certificate, VpcConfigResponse};
    use std::collections::HashMap;

    #[test]
    fn outputs_leave_out_what_aws_has_not_filled_in() {
        let c = EksCluster::builder()
            .name("s")
            .arn("arn:aws:eks:r:1:cluster/s")
            .endpoint("https://x")
            .certificate_authority(Certificate::builder().data("ca").build())
            .resources_vpc_config(VpcConfigResponse::builder().subnet_ids("subnet-1").build())
            .build();
        let o = outputs(&c);
        assert_eq!(o.get("id").map(String::as_str), Some("s"));
        assert_eq!(
            o.get("certificate_authority").map(String::as_str),
            Some("ca")
        );
        assert!(!o.contains_key("cluster_security_group_id"));
    }

    #[test]
    fn observed_attributes_equal_the_desired_ones() {
        let want: ClusterAttrs = desired("eks/cluster");
        // As DescribeCluster returns the stack's cluster; EKS adds tags of its own.
        let mut tags: HashMap<String, String> = want.tags.to_map();
        tags.insert("aws:eks:cluster-name".into(), "grpc-eks".into());
        let c = EksCluster::builder()
            .name("grpc-eks")
            .arn("arn:aws:eks:us-east-1:123456789012:cluster/grpc-eks")
            .version("1.31")
            .role_arn("role/cluster.arn")
            .status(ClusterStatus::Active)
            .resources_vpc_config(
                VpcConfigResponse::builder()
                    .subnet_ids("subnet/private-app/a.id")
                    .subnet_ids("subnet/private-app/b.id")
                    .cluster_security_group_id("sg-0eks")
                    .endpoint_public_access(true)
                    .endpoint_private_access(true)
                    .build(),
            )
            .access_config(
                AccessConfigResponse::builder()
                    .authentication_mode(AuthenticationMode::ApiAndConfigMap)
                    .build(),
            )
            .set_tags(Some(tags))
            .build();
        assert_eq!(attrs_of(&c), want);
    }
}
