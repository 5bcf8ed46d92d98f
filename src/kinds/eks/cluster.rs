//! EKS cluster: created in the private-app subnets with access entries enabled; it takes minutes
//! to come up and to go, and refuses to go while node groups remain.

use super::{
    cluster_failure, cluster_now, describe_cluster, logical_id, owned, request_token,
    role_not_assumable_yet, spec_tags, string_list, tags_json, update_tags, wait_cluster_active,
    wait_update, CLUSTER_TIMEOUT, IAM_PROPAGATION,
};
use crate::aws::AwsResultExt;
use crate::kinds::{Outputs, ResourceKind, Spec, StepCtx};
use crate::model::{Kind, Observed};
use crate::retry::{eventually, poll_until, Budget};
use crate::snapshot::Snapshot;
use anyhow::{Context, Result};
use async_trait::async_trait;
use aws_sdk_eks::types::{
    AuthenticationMode, Cluster as EksCluster, ClusterStatus, CreateAccessConfigRequest,
    UpdateAccessConfigRequest, VpcConfigRequest,
};
use std::time::Duration;

/// EKS cluster.
pub struct Cluster;

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

#[async_trait]
impl ResourceKind for Cluster {
    fn force_new(&self) -> &'static [&'static str] {
        &["name", "role_arn", "subnet_ids"]
    }

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Observed>> {
        let cluster = describe_cluster(snap).await?;
        let Some(c) = cluster.as_ref() else {
            return Ok(Vec::new());
        };
        // A deleting cluster is on its way out; the plan treats it as gone.
        if c.status() == Some(&ClusterStatus::Deleting) {
            return Ok(Vec::new());
        }
        let name = c.name().unwrap_or_default();
        let mut o = Observed::new(logical_id(c.tags(), LOGICAL_ID), Kind::EksCluster, name)
            .with("name", name)
            .with("version", c.version().unwrap_or_default())
            .with("role_arn", c.role_arn().unwrap_or_default())
            .with(
                "subnet_ids",
                c.resources_vpc_config()
                    .map(|v| v.subnet_ids().to_vec())
                    .unwrap_or_default(),
            )
            .with(
                "authentication_mode",
                c.access_config()
                    .and_then(|a| a.authentication_mode())
                    .map(|m| m.as_str())
                    .unwrap_or_default(),
            )
            .with("tags", tags_json(c.tags()));
        o.outputs = outputs(c);
        o.unowned = !owned(c.tags(), snap.stack());
        if c.status() == Some(&ClusterStatus::Failed) {
            o.broken = Some(cluster_failure(c));
        }
        if let Some(s @ (ClusterStatus::Creating | ClusterStatus::Updating)) = c.status() {
            o.pending = Some(format!(
                "still {}: apply waits until it is ACTIVE",
                s.as_str()
            ));
        }
        Ok(vec![o])
    }

    async fn create(&self, cx: &StepCtx<'_>, spec: &Spec) -> Result<Outputs> {
        let (name, version, role) = (
            spec.str("name")?,
            spec.str("version")?,
            spec.str("role_arn")?,
        );
        let vpc = VpcConfigRequest::builder()
            .set_subnet_ids(Some(string_list(spec, "subnet_ids")?))
            .endpoint_public_access(true)
            .endpoint_private_access(true)
            .build();
        let access = CreateAccessConfigRequest::builder()
            .authentication_mode(AuthenticationMode::from(spec.str("authentication_mode")?))
            .bootstrap_cluster_creator_admin_permissions(true)
            .build();
        let token = request_token();
        eventually(IAM_PROPAGATION, role_not_assumable_yet, || async {
            cx.aws
                .eks
                .create_cluster()
                .name(name)
                .version(version)
                .role_arn(role)
                .resources_vpc_config(vpc.clone())
                .access_config(access.clone())
                .client_request_token(&token)
                .set_tags(spec_tags(spec))
                .send()
                .await
                .aws("CreateCluster")
        })
        .await?;
        let c = wait_cluster_active(cx, name).await?;
        Ok(outputs(&c))
    }

    async fn update(
        &self,
        cx: &StepCtx<'_>,
        current: &Observed,
        spec: &Spec,
        changed: &[String],
    ) -> Result<Outputs> {
        let name = current.physical_id.as_str();
        let changes = |attr: &str| changed.iter().any(|c| c == attr);
        // Left CREATING by an interrupted run: its outputs (endpoint, certificate) come with
        // ACTIVE. EKS also refuses an update while another is in progress.
        let mut ready = None;
        if current.pending.is_some() || changes("version") || changes("authentication_mode") {
            ready = Some(wait_cluster_active(cx, name).await?);
        }
        if changes("version") {
            let version = spec.str("version")?;
            let out = cx
                .aws
                .eks
                .update_cluster_version()
                .name(name)
                .version(version)
                .client_request_token(request_token())
                .send()
                .await
                .aws("UpdateClusterVersion")?;
            wait_update(
                cx,
                name,
                None,
                out.update(),
                &format!("EKS cluster {name} to reach version {version}"),
                CLUSTER_TIMEOUT,
            )
            .await?;
        }
        if changes("authentication_mode") {
            let mode = spec.str("authentication_mode")?;
            let out = cx
                .aws
                .eks
                .update_cluster_config()
                .name(name)
                .access_config(
                    UpdateAccessConfigRequest::builder()
                        .authentication_mode(AuthenticationMode::from(mode))
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
                &format!("EKS cluster {name} to switch to authentication mode {mode}"),
                CLUSTER_TIMEOUT,
            )
            .await?;
        }
        if changes("tags") {
            let arn = current
                .outputs
                .get("arn")
                .context("the observed cluster has no ARN")?;
            update_tags(cx.aws, arn, current.attrs.get("tags"), spec).await?;
        }
        if changes("version") || changes("authentication_mode") {
            let c = wait_cluster_active(cx, name).await?;
            return Ok(outputs(&c));
        }
        Ok(ready
            .as_ref()
            .map(outputs)
            .unwrap_or_else(|| current.outputs.clone()))
    }

    async fn delete(&self, cx: &StepCtx<'_>, current: &Observed) -> Result<()> {
        let name = current.physical_id.as_str();
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
        match r {
            Err(e) if e.is_not_found() => return Ok(()),
            other => other?,
        };
        cx.note(&format!("waiting for EKS cluster {name} to be deleted"));
        poll_until(
            &format!("EKS cluster {name} to be deleted"),
            CLUSTER_TIMEOUT,
            || async { Ok(cluster_now(cx.aws, name).await?.is_none().then_some(())) },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_eks::types::{Certificate, VpcConfigResponse};

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
}
