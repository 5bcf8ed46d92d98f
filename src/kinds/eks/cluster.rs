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
use aws_sdk_eks::operation::update_cluster_config::builders::UpdateClusterConfigFluentBuilder;
use aws_sdk_eks::types::{
    AuthenticationMode, Cluster as EksCluster, ClusterStatus, CreateAccessConfigRequest, LogSetup,
    LogType, Logging, SupportType, UpdateAccessConfigRequest, UpgradePolicyRequest,
    VpcConfigRequest,
};
use serde::{Deserialize, Serialize};
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
        /// What EKS does when the version's standard support ends: `STANDARD` (upgrade it) or
        /// `EXTENDED` (keep it, at the extended-support price).
        upgrade_policy: String,
        /// The role the control plane acts as.
        role_arn: String => ForceNew,
        /// The subnets its control plane network interfaces go in.
        subnet_ids: Vec<String> => ForceNew,
        /// Security groups its control plane network interfaces get besides the one EKS makes.
        security_group_ids: Vec<String>,
        /// How principals authenticate: `API_AND_CONFIG_MAP` keeps both access entries and the
        /// aws-auth ConfigMap ("" when AWS reports none).
        authentication_mode: String,
        /// Where its Kubernetes API endpoint can be reached from.
        endpoint: Endpoint,
        /// The control-plane log types it sends to CloudWatch Logs, sorted.
        logging: Vec<String>,
        /// Its tags.
        tags: Tags,
    }
}

/// Who can reach the cluster's API endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// Reachable from the internet, within `public_access_cidrs`.
    pub public: bool,
    /// Reachable from inside the VPC.
    pub private: bool,
    /// Who may reach the public endpoint; empty when it is off (AWS then still reports its
    /// default, which means nothing).
    pub public_access_cidrs: Vec<String>,
}

/// The control-plane log types EKS has, to say which ones are off.
const LOG_TYPES: [&str; 5] = [
    "api",
    "audit",
    "authenticator",
    "controllerManager",
    "scheduler",
];

/// EKS's logging setting for the wanted types: all five listed, each on or off, so that an
/// update also turns off what is no longer wanted.
fn logging(wanted: &[String]) -> Logging {
    let (on, off): (Vec<&str>, Vec<&str>) = LOG_TYPES
        .iter()
        .partition(|t| wanted.iter().any(|w| w == *t));
    let setup = |types: Vec<&str>, enabled: bool| {
        let types = types.into_iter().map(LogType::from).collect();
        LogSetup::builder()
            .set_types(Some(types))
            .enabled(enabled)
            .build()
    };
    let setups = [(on, true), (off, false)]
        .into_iter()
        .filter(|(types, _)| !types.is_empty())
        .map(|(types, enabled)| setup(types, enabled));
    Logging::builder()
        .set_cluster_logging(Some(setups.collect()))
        .build()
}

/// EKS's endpoint setting for what the spec wants, with the subnets and groups when creating.
fn endpoint_request(
    e: &Endpoint,
    subnets: Option<Vec<String>>,
    groups: Option<Vec<String>>,
) -> VpcConfigRequest {
    VpcConfigRequest::builder()
        .set_subnet_ids(subnets)
        .set_security_group_ids(groups)
        .endpoint_public_access(e.public)
        .endpoint_private_access(e.private)
        .set_public_access_cidrs(e.public.then(|| e.public_access_cidrs.clone()))
        .build()
}

/// Sends one UpdateClusterConfig and waits for it: EKS takes one kind of change per call and
/// refuses the next while one is in progress.
async fn reconfigure(
    cx: &StepCtx<'_>,
    name: &str,
    what: &str,
    req: UpdateClusterConfigFluentBuilder,
) -> Result<()> {
    let out = req
        .name(name)
        .client_request_token(request_token())
        .send()
        .await
        .aws("UpdateClusterConfig")?;
    let what = format!("EKS cluster {name} to {what}");
    wait_update(cx, name, None, out.update(), &what, CLUSTER_TIMEOUT).await
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
        let vpc = endpoint_request(
            &want.endpoint,
            Some(want.subnet_ids.clone()),
            Some(want.security_group_ids.clone()),
        );
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
                    // Unsent, EKS picks EXTENDED: paid support nobody asked for.
                    .upgrade_policy(upgrade_policy(&want.upgrade_policy))
                    .role_arn(&want.role_arn)
                    .resources_vpc_config(vpc.clone())
                    .access_config(access.clone())
                    .logging(logging(&want.logging))
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
        let endpoint = have.endpoint != c.want.endpoint;
        let groups = differs(&have.security_group_ids, &c.want.security_group_ids);
        let logs = differs(&have.logging, &c.want.logging);
        let policy = have.upgrade_policy != c.want.upgrade_policy;
        let reconfigured = version || mode || endpoint || groups || logs || policy;
        // Left CREATING by an interrupted run: its outputs (endpoint, certificate) come with
        // ACTIVE. EKS also refuses an update while another is in progress.
        let mut ready = None;
        if c.pending.is_some() || reconfigured {
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
            let what = format!("EKS cluster {name} to reach version {}", c.want.version);
            wait_update(cx, name, None, out.update(), &what, CLUSTER_TIMEOUT).await?;
        }
        let eks = &cx.aws.eks;
        if mode {
            let m = AuthenticationMode::from(c.want.authentication_mode.as_str());
            let access = UpdateAccessConfigRequest::builder()
                .authentication_mode(m)
                .build();
            let what = format!(
                "switch to authentication mode {}",
                c.want.authentication_mode
            );
            let req = eks.update_cluster_config().access_config(access);
            reconfigure(cx, name, &what, req).await?;
        }
        // The groups first: a private endpoint is reachable only once they admit the builds.
        if groups {
            let vpc = VpcConfigRequest::builder()
                .set_security_group_ids(Some(c.want.security_group_ids.clone()))
                .build();
            let req = eks.update_cluster_config().resources_vpc_config(vpc);
            reconfigure(cx, name, "change its security groups", req).await?;
        }
        if endpoint {
            let vpc = endpoint_request(&c.want.endpoint, None, None);
            let req = eks.update_cluster_config().resources_vpc_config(vpc);
            reconfigure(cx, name, "change who can reach its endpoint", req).await?;
        }
        if logs {
            let req = eks
                .update_cluster_config()
                .logging(logging(&c.want.logging));
            reconfigure(cx, name, "change its control-plane logging", req).await?;
        }
        if policy {
            let req = eks
                .update_cluster_config()
                .upgrade_policy(upgrade_policy(&c.want.upgrade_policy));
            let what = format!("set its upgrade policy to {}", c.want.upgrade_policy);
            reconfigure(cx, name, &what, req).await?;
        }
        c.sync_tags(cx.aws, Tagged::Eks(c.output("arn")?)).await?;
        if reconfigured {
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

/// Who can reach the endpoint, as DescribeCluster shows it (AWS's defaults when it omits them).
fn endpoint_of(c: &EksCluster) -> Endpoint {
    let vpc = c.resources_vpc_config();
    let public = vpc.is_none_or(|v| v.endpoint_public_access());
    Endpoint {
        public,
        private: vpc.is_some_and(|v| v.endpoint_private_access()),
        public_access_cidrs: match vpc {
            Some(v) if public => v.public_access_cidrs().to_vec(),
            _ => Vec::new(),
        },
    }
}

/// The enabled control-plane log types, sorted.
fn logging_of(c: &EksCluster) -> Vec<String> {
    let setups = c.logging().map(|l| l.cluster_logging()).unwrap_or_default();
    let mut on: Vec<String> = setups
        .iter()
        .filter(|s| s.enabled() == Some(true))
        .flat_map(|s| s.types().iter().map(|t| t.as_str().to_string()))
        .collect();
    on.sort();
    on.dedup();
    on
}

/// The upgrade policy as EKS takes it.
fn upgrade_policy(support: &str) -> UpgradePolicyRequest {
    UpgradePolicyRequest::builder()
        .support_type(SupportType::from(support))
        .build()
}

/// The cluster's attributes as DescribeCluster shows them.
fn attrs_of(c: &EksCluster) -> ClusterAttrs {
    ClusterAttrs {
        name: c.name().unwrap_or_default().to_string(),
        version: c.version().unwrap_or_default().to_string(),
        upgrade_policy: c
            .upgrade_policy()
            .and_then(|p| p.support_type())
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        role_arn: c.role_arn().unwrap_or_default().to_string(),
        subnet_ids: c
            .resources_vpc_config()
            .map(|v| v.subnet_ids().to_vec())
            .unwrap_or_default(),
        security_group_ids: c
            .resources_vpc_config()
            .map(|v| v.security_group_ids().to_vec())
            .unwrap_or_default(),
        authentication_mode: c
            .access_config()
            .and_then(|a| a.authentication_mode())
            .map(|m| m.as_str().to_string())
            .unwrap_or_default(),
        endpoint: endpoint_of(c),
        logging: logging_of(c),
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
            .upgrade_policy(
                aws_sdk_eks::types::UpgradePolicyResponse::builder()
                    .support_type(SupportType::Standard)
                    .build(),
            )
            .role_arn("role/cluster.arn")
            .status(ClusterStatus::Active)
            .resources_vpc_config(
                VpcConfigResponse::builder()
                    .subnet_ids("subnet/private-app/a.id")
                    .subnet_ids("subnet/private-app/b.id")
                    .cluster_security_group_id("sg-0eks")
                    .endpoint_public_access(true)
                    .endpoint_private_access(true)
                    .public_access_cidrs("0.0.0.0/0")
                    .build(),
            )
            .access_config(
                AccessConfigResponse::builder()
                    .authentication_mode(AuthenticationMode::ApiAndConfigMap)
                    .build(),
            )
            // As AWS reports logging: what is on, and what is off.
            .logging(logging(&want.logging))
            .set_tags(Some(tags))
            .build();
        assert_eq!(attrs_of(&c), want);
        assert_eq!(want.logging, ["api", "audit", "authenticator"]);
    }
}
