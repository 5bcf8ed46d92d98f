//! An inline role policy, found through its role (inline policies cannot be tagged).

use super::{document_text, gone, id_output, inline_id};
use crate::aws::AwsResultExt;
use crate::kinds::{Outputs, ResourceKind, Spec, StepCtx};
use crate::model::{Kind, Observed};
use crate::snapshot::Snapshot;
use anyhow::{Context, Result};
use async_trait::async_trait;

/// An inline role policy.
pub struct InlinePolicy;

/// Physical id `<role name>:<policy name>`; role names cannot contain `:`.
fn physical_id(role: &str, policy: &str) -> String {
    format!("{role}:{policy}")
}

async fn put(cx: &StepCtx<'_>, spec: &Spec) -> Result<Outputs> {
    let (role, policy) = (spec.str("role_name")?, spec.str("policy_name")?);
    cx.aws
        .iam
        .put_role_policy()
        .role_name(role)
        .policy_name(policy)
        .policy_document(document_text(spec, "document")?)
        .send()
        .await
        .aws("PutRolePolicy")?;
    Ok(id_output(&physical_id(role, policy)))
}

#[async_trait]
impl ResourceKind for InlinePolicy {
    fn force_new(&self) -> &'static [&'static str] {
        &["role_name", "policy_name"]
    }

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Observed>> {
        let roles = snap.roles().await?;
        Ok(roles
            .iter()
            .filter(|r| !r.unowned)
            .flat_map(|r| {
                r.inline.iter().map(|(policy, document)| {
                    Observed::new(
                        inline_id(r.suffix(), policy),
                        Kind::IamInlinePolicy,
                        physical_id(&r.name, policy),
                    )
                    .with("role_name", r.name.as_str())
                    .with("policy_name", policy.as_str())
                    .with("document", document.clone())
                })
            })
            .collect())
    }

    async fn create(&self, cx: &StepCtx<'_>, spec: &Spec) -> Result<Outputs> {
        put(cx, spec).await
    }

    async fn update(
        &self,
        cx: &StepCtx<'_>,
        _current: &Observed,
        spec: &Spec,
        _changed: &[String],
    ) -> Result<Outputs> {
        put(cx, spec).await
    }

    async fn delete(&self, cx: &StepCtx<'_>, current: &Observed) -> Result<()> {
        let (role, policy) = current
            .physical_id
            .split_once(':')
            .context("inline policy id is not <role>:<policy>")?;
        gone(
            cx.aws
                .iam
                .delete_role_policy()
                .role_name(role)
                .policy_name(policy)
                .send()
                .await
                .map(|_| ())
                .aws("DeleteRolePolicy"),
        )?;
        Ok(())
    }
}
