//! Node launch template: EKS puts security groups on a managed node group's nodes only through
//! a launch template, and the nodes need the stack's node group (which admits the ALB on the
//! NodePort) besides the cluster's own.

use super::request_token;
use crate::aws::{absent_ok, delete_once, AwsResultExt};
use crate::kinds::{
    attrs, created, differs, enum_text, Change, Current, Found, Outputs, Resource, Snapshot,
    StepCtx,
};
use crate::model::VERSION_OUTPUT;
use crate::naming;
use crate::retry::{not_found_yet, send_eventually, Budget};
use crate::tags::{Tagged, Tags};
use anyhow::{Context, Result};
use aws_sdk_ec2::types::{
    LaunchTemplate as Ec2LaunchTemplate, LaunchTemplateBlockDeviceMappingRequest,
    LaunchTemplateEbsBlockDeviceRequest, LaunchTemplateHttpTokensState,
    LaunchTemplateInstanceMetadataOptionsRequest, RequestLaunchTemplateData, ResourceType,
    ResponseLaunchTemplateData, VolumeType,
};
use serde::{Deserialize, Serialize};

/// Node launch template.
pub struct LaunchTemplate;

attrs! {
    /// What the node launch template is made of. Everything but the name and the tags is its
    /// default version's data: a change is a new version, which the node group rolls out.
    pub struct LaunchTemplateAttrs {
        /// Its name (the node group's).
        name: String => ForceNew,
        /// The security groups its default version puts on the nodes.
        security_group_ids: Vec<String> => NewVersion,
        /// How the nodes' instance metadata service answers.
        metadata: Metadata => NewVersion,
        /// The nodes' root volume.
        root_volume: RootVolume => NewVersion,
        /// Its tags.
        tags: Tags,
    }
}

/// Instance metadata options of the nodes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// `required`: IMDSv2 only (session tokens), `optional` also answers IMDSv1.
    pub http_tokens: String,
    /// How many network hops a metadata response may travel: 1 reaches the node but not its
    /// pods, so no pod can take the node role's credentials.
    pub hop_limit: i32,
}

/// The nodes' root EBS volume.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootVolume {
    /// The AMI's root device (`/dev/xvda` on the EKS AMIs).
    pub device_name: String,
    /// Size in GiB.
    pub size_gib: i32,
    /// EBS volume type.
    pub volume_type: String,
    /// Whether EBS encrypts it.
    pub encrypted: bool,
    /// The KMS key it is encrypted with; absent for the account's default EBS key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
}

/// The id a template found by name has when it carries no `infra:id` tag.
const LOGICAL_ID: &str = "lt/nodes";

fn outputs(id: &str, name: &str, version: Option<i64>) -> Outputs {
    let mut out = Outputs::from([
        ("id".to_string(), id.to_string()),
        ("name".to_string(), name.to_string()),
    ]);
    if let Some(v) = version {
        out.insert(VERSION_OUTPUT.to_string(), v.to_string());
    }
    out
}

/// What the nodes get: the security groups, IMDSv2 with its hop limit, and the root volume.
fn template_data(want: &LaunchTemplateAttrs) -> RequestLaunchTemplateData {
    let (m, v) = (&want.metadata, &want.root_volume);
    let ebs = LaunchTemplateEbsBlockDeviceRequest::builder()
        .volume_size(v.size_gib)
        .volume_type(VolumeType::from(v.volume_type.as_str()))
        .encrypted(v.encrypted)
        .set_kms_key_id(v.kms_key_id.clone())
        .delete_on_termination(true)
        .build();
    RequestLaunchTemplateData::builder()
        .set_security_group_ids(Some(want.security_group_ids.clone()))
        .metadata_options(
            LaunchTemplateInstanceMetadataOptionsRequest::builder()
                .http_tokens(LaunchTemplateHttpTokensState::from(m.http_tokens.as_str()))
                .http_put_response_hop_limit(m.hop_limit)
                .build(),
        )
        .block_device_mappings(
            LaunchTemplateBlockDeviceMappingRequest::builder()
                .device_name(&v.device_name)
                .ebs(ebs)
                .build(),
        )
        .build()
}

impl Resource for LaunchTemplate {
    type Attrs = LaunchTemplateAttrs;

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Found<Self::Attrs>>> {
        let aws = snap.aws();
        let name = naming::node_group(snap.stack());
        let r = aws
            .ec2
            .describe_launch_templates()
            .launch_template_names(&name)
            .send()
            .await
            .aws("DescribeLaunchTemplates");
        let Some(out) = absent_ok(r)? else {
            return Ok(Vec::new());
        };
        let Some(t) = out.launch_templates().first() else {
            return Ok(Vec::new());
        };
        let id = t.launch_template_id().unwrap_or_default();
        let versions = aws
            .ec2
            .describe_launch_template_versions()
            .launch_template_id(id)
            .versions("$Default")
            .send()
            .await
            .aws("DescribeLaunchTemplateVersions")?;
        let data = versions
            .launch_template_versions()
            .first()
            .and_then(|v| v.launch_template_data());
        let attrs = attrs_of(t, data);
        let mut found = Found::by_tags(snap.stack(), LOGICAL_ID, id, attrs);
        let name = t.launch_template_name().unwrap_or_default();
        found.outputs = outputs(id, name, t.default_version_number());
        Ok(vec![found])
    }

    async fn create(&self, cx: &StepCtx<'_>, want: &Self::Attrs) -> Result<Outputs> {
        let tags = want.tags.ec2_spec(ResourceType::LaunchTemplate);
        let data = template_data(want);
        // The token makes the SDK's own retries of this call idempotent.
        let token = request_token();
        // A security group created a moment ago may not be visible to EC2 yet.
        let out = send_eventually(
            Budget::FRESH_ID,
            not_found_yet,
            "CreateLaunchTemplate",
            || {
                cx.aws
                    .ec2
                    .create_launch_template()
                    .launch_template_name(&want.name)
                    .launch_template_data(data.clone())
                    .tag_specifications(tags.clone())
                    .client_token(&token)
                    .send()
            },
        )
        .await?;
        let t = created("CreateLaunchTemplate", out.launch_template())?;
        let id = created("CreateLaunchTemplate", t.launch_template_id())?;
        Ok(outputs(id, &want.name, t.default_version_number()))
    }

    async fn update(&self, cx: &StepCtx<'_>, c: &Change<Self::Attrs>) -> Result<Outputs> {
        let (have, want) = (&c.have, &c.want);
        let data_changed = differs(&have.security_group_ids, &want.security_group_ids)
            || differs(&have.metadata, &want.metadata)
            || differs(&have.root_volume, &want.root_volume);
        if !data_changed {
            return c.retag(cx.aws, Tagged::Ec2(&c.physical_id)).await;
        }
        // A template's versions are immutable: the change is a new version, made the default,
        // which the node group then rolls out node by node. The whole data is sent, not a
        // diff against the old version, so nothing set by hand survives.
        let ec2 = &cx.aws.ec2;
        let token = request_token();
        let out = ec2
            .create_launch_template_version()
            .launch_template_id(&c.physical_id)
            .launch_template_data(template_data(want))
            .client_token(&token)
            .send()
            .await
            .aws("CreateLaunchTemplateVersion")?;
        let version = out
            .launch_template_version()
            .and_then(|v| v.version_number())
            .context("CreateLaunchTemplateVersion answered without the new version's number")?;
        ec2.modify_launch_template()
            .launch_template_id(&c.physical_id)
            .default_version(version.to_string())
            .send()
            .await
            .aws("ModifyLaunchTemplate")?;
        c.sync_tags(cx.aws, Tagged::Ec2(&c.physical_id)).await?;
        Ok(outputs(&c.physical_id, &want.name, Some(version)))
    }

    async fn delete(&self, cx: &StepCtx<'_>, c: &Current<Self::Attrs>) -> Result<()> {
        let ec2 = &cx.aws.ec2;
        let req = ec2
            .delete_launch_template()
            .launch_template_id(&c.physical_id);
        delete_once("DeleteLaunchTemplate", req.send()).await
    }
}

/// The template's attributes, from DescribeLaunchTemplates and its default version's data.
fn attrs_of(
    t: &Ec2LaunchTemplate,
    data: Option<&ResponseLaunchTemplateData>,
) -> LaunchTemplateAttrs {
    let m = data.and_then(|d| d.metadata_options());
    // A root volume the template does not describe reads as nothing: it differs from the
    // wanted one and a new version sets it.
    let root = data
        .map(|d| d.block_device_mappings())
        .unwrap_or_default()
        .iter()
        .find_map(|b| Some((b.device_name()?, b.ebs()?)));
    LaunchTemplateAttrs {
        name: t.launch_template_name().unwrap_or_default().to_string(),
        security_group_ids: data
            .map(|d| d.security_group_ids().to_vec())
            .unwrap_or_default(),
        metadata: Metadata {
            // EC2's defaults when the template leaves them out: IMDSv1 allowed, one hop.
            http_tokens: m
                .and_then(|m| m.http_tokens())
                .map_or("optional", |t| t.as_str())
                .to_string(),
            hop_limit: m.and_then(|m| m.http_put_response_hop_limit()).unwrap_or(1),
        },
        root_volume: RootVolume {
            device_name: root.map(|r| r.0).unwrap_or_default().to_string(),
            size_gib: root.and_then(|r| r.1.volume_size()).unwrap_or_default(),
            volume_type: enum_text(root.and_then(|r| r.1.volume_type())),
            encrypted: root.and_then(|r| r.1.encrypted()).unwrap_or(false),
            kms_key_id: root.and_then(|r| r.1.kms_key_id()).map(str::to_string),
        },
        tags: Tags::from(t.tags()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests_typed::desired;
    use crate::kinds::Attributes;
    use crate::model::{AttrRule, ID_TAG, STACK_TAG};
    use aws_sdk_ec2::types::{
        LaunchTemplateBlockDeviceMapping, LaunchTemplateEbsBlockDevice,
        LaunchTemplateInstanceMetadataEndpointState, LaunchTemplateInstanceMetadataOptions, Tag,
    };

    #[test]
    fn nodes_get_imdsv2_one_hop_and_an_encrypted_gp3_root_volume() {
        let want: LaunchTemplateAttrs = desired("lt/nodes");
        let d = template_data(&want);
        assert_eq!(
            d.security_group_ids(),
            ["sg/nodes.id", "eks/cluster.cluster_security_group_id"]
        );
        let m = d.metadata_options().unwrap();
        assert_eq!(
            m.http_tokens(),
            Some(&LaunchTemplateHttpTokensState::Required)
        );
        assert_eq!(m.http_put_response_hop_limit(), Some(1));
        let root = &d.block_device_mappings()[0];
        assert_eq!(root.device_name(), Some("/dev/xvda"));
        let ebs = root.ebs().unwrap();
        assert_eq!(ebs.volume_type(), Some(&VolumeType::Gp3));
        assert_eq!(ebs.encrypted(), Some(true));
        assert_eq!(ebs.volume_size(), Some(20));
        assert_eq!(ebs.kms_key_id(), None, "the default config uses aws/ebs");
    }

    #[test]
    fn a_template_set_back_by_hand_differs_only_in_its_versioned_data() {
        let want: LaunchTemplateAttrs = desired("lt/nodes");
        // IMDSv1 allowed again and no root volume: EC2's defaults.
        let data = with_groups().build();
        let have = attrs_of(&template(want.tags.0.clone()), Some(&data));
        assert_eq!(have.metadata.http_tokens, "optional");
        assert_eq!(have.metadata.hop_limit, 1);
        assert_ne!(have.root_volume, want.root_volume);
        for (attr, rule) in [
            ("metadata", AttrRule::NewVersion),
            ("root_volume", AttrRule::NewVersion),
            ("security_group_ids", AttrRule::NewVersion),
            ("name", AttrRule::ForceNew),
        ] {
            assert_eq!(LaunchTemplateAttrs::rule(attr), rule, "{attr}");
        }
    }

    /// A default version's data with the desired groups (as placeholders) and nothing else.
    fn with_groups() -> aws_sdk_ec2::types::builders::ResponseLaunchTemplateDataBuilder {
        ResponseLaunchTemplateData::builder()
            .security_group_ids("sg/nodes.id")
            .security_group_ids("eks/cluster.cluster_security_group_id")
    }

    fn template(tags: impl IntoIterator<Item = (String, String)>) -> Ec2LaunchTemplate {
        let tags = tags
            .into_iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build());
        Ec2LaunchTemplate::builder()
            .launch_template_id("lt-0a1b2c3d")
            .launch_template_name("grpc-eks-nodes")
            .default_version_number(1)
            .latest_version_number(1)
            .set_tags(Some(tags.collect()))
            .build()
    }

    #[test]
    fn observed_attributes_equal_the_desired_ones() {
        let want: LaunchTemplateAttrs = desired("lt/nodes");
        // As DescribeLaunchTemplates and DescribeLaunchTemplateVersions ($Default) return it.
        let t = template(want.tags.0.clone());
        let data = with_groups()
            .metadata_options(
                LaunchTemplateInstanceMetadataOptions::builder()
                    .http_tokens(LaunchTemplateHttpTokensState::Required)
                    .http_put_response_hop_limit(1)
                    .http_endpoint(LaunchTemplateInstanceMetadataEndpointState::Enabled)
                    .build(),
            )
            .block_device_mappings(
                LaunchTemplateBlockDeviceMapping::builder()
                    .device_name("/dev/xvda")
                    .ebs(
                        LaunchTemplateEbsBlockDevice::builder()
                            .volume_size(20)
                            .volume_type(VolumeType::Gp3)
                            .encrypted(true)
                            .delete_on_termination(true)
                            .iops(3000)
                            .throughput(125)
                            .build(),
                    )
                    .build(),
            )
            .build();
        assert_eq!(attrs_of(&t, Some(&data)), want);
    }

    #[test]
    fn aws_tags_are_dropped_and_a_template_without_data_has_no_groups() {
        let t = template([
            ("aws:ec2launchtemplate:x".to_string(), "1".to_string()),
            (STACK_TAG.to_string(), "s".to_string()),
        ]);
        let a = attrs_of(&t, None);
        assert_eq!(a.tags, Tags::from_pairs([(STACK_TAG, "s")]));
        assert!(a.security_group_ids.is_empty());
        // Without its `infra:id` tag it is the template the stack would have by that name.
        assert_eq!(a.tags.identity("s", LOGICAL_ID).id.as_str(), LOGICAL_ID);
        assert_eq!(a.tags.get(ID_TAG), None);
    }
}
