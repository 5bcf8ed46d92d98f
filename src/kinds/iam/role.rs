//! IAM role. Created with a trust policy naming only services (a role cannot name itself, or
//! any role not yet created, in the policy it is created with); the full trust policy is the
//! separate `TrustPolicy` resource, written once every role it names exists.

use super::{document_text, gone};
use crate::aws::{Aws, AwsResultExt};
use crate::kinds::{tag_delta, TagDelta};
use crate::kinds::{Outputs, ResourceKind, Spec, StepCtx};
use crate::model::{Kind, Observed};
use crate::retry::{eventually, Budget};
use crate::snapshot::Snapshot;
use anyhow::{Context, Result};
use async_trait::async_trait;
use aws_sdk_iam::types::Tag;
use serde_json::Value as Json;
use std::time::Duration;

/// IAM role.
pub struct Role;

/// The steps detaching the role's policies run just before its deletion and IAM takes a moment
/// to see them gone.
const DETACH: Budget = Budget {
    total: Duration::from_secs(60),
};

fn outputs(name: &str, arn: &str) -> Outputs {
    Outputs::from([
        ("id".to_string(), name.to_string()),
        ("name".to_string(), name.to_string()),
        ("arn".to_string(), arn.to_string()),
    ])
}

fn iam_tags(tags: impl IntoIterator<Item = (String, String)>) -> Result<Vec<Tag>> {
    tags.into_iter()
        .map(|(k, v)| Ok(Tag::builder().key(k).value(v).build()?))
        .collect()
}

/// Brings the role's tags from `current` to the spec's: set what differs, remove what is gone.
async fn update_tags(aws: &Aws, role: &str, current: Option<&Json>, spec: &Spec) -> Result<()> {
    let TagDelta { set, remove } = tag_delta(current, spec);
    let set = iam_tags(set)?;
    if !set.is_empty() {
        aws.iam
            .tag_role()
            .role_name(role)
            .set_tags(Some(set))
            .send()
            .await
            .aws("TagRole")?;
    }
    if !remove.is_empty() {
        aws.iam
            .untag_role()
            .role_name(role)
            .set_tag_keys(Some(remove))
            .send()
            .await
            .aws("UntagRole")?;
    }
    Ok(())
}

#[async_trait]
impl ResourceKind for Role {
    fn force_new(&self) -> &'static [&'static str] {
        &["name"]
    }

    fn create_only(&self) -> &'static [&'static str] {
        &["initial_trust_policy"]
    }

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Observed>> {
        Ok(snap
            .roles()
            .await?
            .iter()
            .map(|r| {
                let mut o = Observed::new(r.logical_id.clone(), Kind::IamRole, &r.name)
                    .with("name", r.name.as_str())
                    .with("description", r.description.as_str())
                    .with("tags", serde_json::json!(r.tags.0));
                o.outputs.extend(outputs(&r.name, &r.arn));
                o.unowned = r.unowned;
                o
            })
            .collect())
    }

    async fn create(&self, cx: &StepCtx<'_>, spec: &Spec) -> Result<Outputs> {
        let name = spec.str("name")?;
        let trust = document_text(spec, "initial_trust_policy")?;
        let description = spec
            .get("description")
            .and_then(Json::as_str)
            .filter(|d| !d.is_empty());
        let out = cx
            .aws
            .iam
            .create_role()
            .role_name(name)
            .assume_role_policy_document(trust)
            .set_description(description.map(str::to_string))
            .set_tags(Some(iam_tags(spec.tags())?))
            .send()
            .await
            .aws("CreateRole")?;
        let arn = out
            .role()
            .map(|r| r.arn())
            .filter(|a| !a.is_empty())
            .context("CreateRole returned no role ARN")?;
        Ok(outputs(name, arn))
    }

    async fn update(
        &self,
        cx: &StepCtx<'_>,
        current: &Observed,
        spec: &Spec,
        changed: &[String],
    ) -> Result<Outputs> {
        let name = &current.physical_id;
        if changed.iter().any(|c| c == "description") {
            cx.aws
                .iam
                .update_role()
                .role_name(name)
                .description(spec.get("description").and_then(Json::as_str).unwrap_or(""))
                .send()
                .await
                .aws("UpdateRole")?;
        }
        if changed.iter().any(|c| c == "tags") {
            update_tags(cx.aws, name, current.attrs.get("tags"), spec).await?;
        }
        let arn = current.outputs.get("arn").map(String::as_str).unwrap_or("");
        Ok(outputs(name, arn))
    }

    async fn delete(&self, cx: &StepCtx<'_>, current: &Observed) -> Result<()> {
        let name = &current.physical_id;
        let r = eventually(
            DETACH,
            |e| e.is("DeleteConflict"),
            || async {
                cx.aws
                    .iam
                    .delete_role()
                    .role_name(name)
                    .send()
                    .await
                    .map(|_| ())
                    .aws("DeleteRole")
            },
        )
        .await;
        gone(r)?;
        Ok(())
    }
}
