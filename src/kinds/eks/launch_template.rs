//! Node launch template: EKS puts security groups on a managed node group's nodes only through
//! a launch template, and the nodes need the stack's node group (which admits the ALB on the
//! NodePort) besides the cluster's own.

use super::string_list;
use crate::aws::{gone_ok, AwsResultExt};
use crate::kinds::{Outputs, ResourceKind, Spec, StepCtx};
use crate::model::{Kind, LogicalId, Observed, ID_TAG, STACK_TAG};
use crate::naming;
use crate::retry::{eventually, not_found_yet, Budget};
use crate::snapshot::Snapshot;
use anyhow::{Context, Result};
use async_trait::async_trait;
use aws_sdk_ec2::types::{
    LaunchTemplateHttpTokensState, LaunchTemplateInstanceMetadataOptionsRequest,
    RequestLaunchTemplateData, ResourceType, Tag, TagSpecification,
};
use serde_json::{Map, Value as Json};

/// Node launch template.
pub struct LaunchTemplate;

/// The id a template found by name has when it carries no `infra:id` tag.
const LOGICAL_ID: &str = "lt/nodes";

fn tags_json(tags: &[Tag]) -> Json {
    let map: Map<String, Json> = tags
        .iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default())))
        .filter(|(k, _)| !k.starts_with("aws:"))
        .map(|(k, v)| (k, Json::String(v.to_string())))
        .collect();
    Json::Object(map)
}

fn tag_value<'a>(tags: &'a [Tag], key: &str) -> Option<&'a str> {
    tags.iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
}

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

#[async_trait]
impl ResourceKind for LaunchTemplate {
    fn force_new(&self) -> &'static [&'static str] {
        &["name", "security_group_ids"]
    }

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Observed>> {
        let aws = snap.aws();
        let name = naming::node_group(snap.stack());
        let r = aws
            .ec2
            .describe_launch_templates()
            .launch_template_names(&name)
            .send()
            .await
            .aws("DescribeLaunchTemplates");
        let out = match r {
            Err(e) if e.is_not_found() => return Ok(Vec::new()),
            other => other?,
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
        let groups: Vec<String> = versions
            .launch_template_versions()
            .first()
            .and_then(|v| v.launch_template_data())
            .map(|d| d.security_group_ids().to_vec())
            .unwrap_or_default();
        let logical = LogicalId::new(tag_value(t.tags(), ID_TAG).unwrap_or(LOGICAL_ID));
        let mut o = Observed::new(logical, Kind::LaunchTemplate, id)
            .with("name", t.launch_template_name().unwrap_or_default())
            .with("security_group_ids", groups)
            .with("tags", tags_json(t.tags()));
        o.outputs = outputs(id, t.launch_template_name().unwrap_or_default());
        o.unowned = tag_value(t.tags(), STACK_TAG) != Some(snap.stack());
        Ok(vec![o])
    }

    async fn create(&self, cx: &StepCtx<'_>, spec: &Spec) -> Result<Outputs> {
        let name = spec.str("name")?;
        let tags = TagSpecification::builder()
            .resource_type(ResourceType::LaunchTemplate)
            .set_tags(Some(
                spec.tags()
                    .into_iter()
                    .map(|(k, v)| Tag::builder().key(k).value(v).build())
                    .collect(),
            ))
            .build();
        let data = template_data(string_list(spec, "security_group_ids")?);
        // The token makes the SDK's own retries of this call idempotent.
        let token = format!("{:032x}", fastrand::u128(..));
        // A security group created a moment ago may not be visible to EC2 yet.
        let out = eventually(Budget::FRESH_ID, not_found_yet, || async {
            cx.aws
                .ec2
                .create_launch_template()
                .launch_template_name(name)
                .launch_template_data(data.clone())
                .tag_specifications(tags.clone())
                .client_token(&token)
                .send()
                .await
                .aws("CreateLaunchTemplate")
        })
        .await?;
        let id = out
            .launch_template()
            .and_then(|t| t.launch_template_id())
            .context("CreateLaunchTemplate returned no id")?;
        Ok(outputs(id, name))
    }

    async fn update(
        &self,
        cx: &StepCtx<'_>,
        current: &Observed,
        spec: &Spec,
        _changed: &[String],
    ) -> Result<Outputs> {
        // Launch templates take EC2's tag calls, like the network resources.
        crate::tags::sync(
            cx.aws,
            crate::tags::Tagged::Ec2(&current.physical_id),
            &crate::tags::Tags(crate::kinds::json_tags(current.attrs.get("tags"))),
            &crate::tags::Tags(spec.tags()),
        )
        .await?;
        Ok(current.outputs.clone())
    }

    async fn delete(&self, cx: &StepCtx<'_>, current: &Observed) -> Result<()> {
        let r = cx
            .aws
            .ec2
            .delete_launch_template()
            .launch_template_id(&current.physical_id)
            .send()
            .await
            .map(|_| ())
            .aws("DeleteLaunchTemplate");
        Ok(gone_ok(r)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_drop_aws_keys() {
        let tags = vec![
            Tag::builder()
                .key("aws:ec2launchtemplate:x")
                .value("1")
                .build(),
            Tag::builder().key(STACK_TAG).value("s").build(),
        ];
        assert_eq!(tags_json(&tags), serde_json::json!({ STACK_TAG: "s" }));
        assert_eq!(tag_value(&tags, STACK_TAG), Some("s"));
        assert_eq!(tag_value(&tags, ID_TAG), None);
    }

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
}
