//! Node launch template: EKS puts security groups on a managed node group's nodes only through
//! a launch template, and the nodes need the stack's node group (which admits the ALB on the
//! NodePort) besides the cluster's own.

use super::request_token;
use crate::aws::{absent_ok, delete_once, AwsResultExt};
use crate::kinds::{
    attrs, created, differs, Change, Current, Found, Outputs, Resource, Snapshot, StepCtx,
};
use crate::naming;
use crate::retry::{not_found_yet, send_eventually, Budget};
use crate::tags::{Tagged, Tags};
use anyhow::Result;
use aws_sdk_ec2::types::{
    LaunchTemplate as Ec2LaunchTemplate, LaunchTemplateHttpTokensState,
    LaunchTemplateInstanceMetadataOptionsRequest, RequestLaunchTemplateData, ResourceType,
    ResponseLaunchTemplateData,
};

/// Node launch template.
pub struct LaunchTemplate;

attrs! {
    /// What the node launch template is made of.
    pub struct LaunchTemplateAttrs {
        /// Its name (the node group's).
        name: String => ForceNew,
        /// The security groups its default version puts on the nodes.
        security_group_ids: Vec<String> => ForceNew,
        /// Its tags.
        tags: Tags,
    }
}

/// The id a template found by name has when it carries no `infra:id` tag.
const LOGICAL_ID: &str = "lt/nodes";

fn outputs(id: &str, name: &str) -> Outputs {
    Outputs::from([
        ("id".to_string(), id.to_string()),
        ("name".to_string(), name.to_string()),
    ])
}

/// What the nodes get: the security groups, and IMDSv2 only, with a hop limit of 2 so that
/// pods (one hop further than the node) can still reach the instance metadata.
fn template_data(security_groups: Vec<String>) -> RequestLaunchTemplateData {
    RequestLaunchTemplateData::builder()
        .set_security_group_ids(Some(security_groups))
        .metadata_options(
            LaunchTemplateInstanceMetadataOptionsRequest::builder()
                .http_tokens(LaunchTemplateHttpTokensState::Required)
                .http_put_response_hop_limit(2)
                .build(),
        )
        .build()
}

/// The template's attributes, from DescribeLaunchTemplates and its default version's data.
fn attrs_of(
    t: &Ec2LaunchTemplate,
    data: Option<&ResponseLaunchTemplateData>,
) -> LaunchTemplateAttrs {
    LaunchTemplateAttrs {
        name: t.launch_template_name().unwrap_or_default().to_string(),
        security_group_ids: data
            .map(|d| d.security_group_ids().to_vec())
            .unwrap_or_default(),
        tags: Tags::from(t.tags()),
    }
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
        let who = attrs.tags.identity(snap.stack(), LOGICAL_ID);
        let mut found = Found::identified(who, id, attrs);
        found.outputs = outputs(id, t.launch_template_name().unwrap_or_default());
        Ok(vec![found])
    }

    async fn create(&self, cx: &StepCtx<'_>, want: &Self::Attrs) -> Result<Outputs> {
        let tags = want.tags.ec2_spec(ResourceType::LaunchTemplate);
        let data = template_data(want.security_group_ids.clone());
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
        let id = created(
            "CreateLaunchTemplate",
            out.launch_template().and_then(|t| t.launch_template_id()),
        )?;
        Ok(outputs(id, &want.name))
    }

    async fn update(&self, cx: &StepCtx<'_>, c: &Change<Self::Attrs>) -> Result<Outputs> {
        let have = &c.have;
        // Only the tags change in place; launch templates take EC2's tag calls.
        if differs(&have.tags, &c.want.tags) {
            let id = Tagged::Ec2(&c.physical_id);
            c.sync_tags(cx.aws, id).await?;
        }
        Ok(c.outputs.clone())
    }

    async fn delete(&self, cx: &StepCtx<'_>, c: &Current<Self::Attrs>) -> Result<()> {
        let ec2 = &cx.aws.ec2;
        let req = ec2
            .delete_launch_template()
            .launch_template_id(&c.physical_id);
        delete_once("DeleteLaunchTemplate", req.send()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests_typed::desired;
    use crate::model::{ID_TAG, STACK_TAG};
    use aws_sdk_ec2::types::Tag;

    #[test]
    fn nodes_get_imdsv2_with_room_for_pods() {
        let d = template_data(vec!["sg-1".into(), "sg-2".into()]);
        assert_eq!(d.security_group_ids(), ["sg-1", "sg-2"]);
        let m = d.metadata_options().unwrap();
        assert_eq!(
            m.http_tokens(),
            Some(&LaunchTemplateHttpTokensState::Required)
        );
        assert_eq!(m.http_put_response_hop_limit(), Some(2));
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
        let data = ResponseLaunchTemplateData::builder()
            .security_group_ids("sg/nodes.id")
            .security_group_ids("eks/cluster.cluster_security_group_id")
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
