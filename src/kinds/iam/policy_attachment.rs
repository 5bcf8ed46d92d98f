//! A managed policy attachment, found through its role. Every policy attached to an owned role
//! is observed, so one attached by hand is detached and one detached by hand is re-attached.

use super::{attach_id, gone, id_output};
use crate::aws::AwsResultExt;
use crate::kinds::{Outputs, ResourceKind, Spec, StepCtx};
use crate::model::{Kind, Observed};
use crate::snapshot::Snapshot;
use anyhow::{Context, Result};
use async_trait::async_trait;

/// A managed policy attachment.
pub struct PolicyAttachment;

/// Physical id `<role name>|<policy arn>`; neither role names nor ARNs contain `|`.
fn physical_id(role: &str, arn: &str) -> String {
    format!("{role}|{arn}")
}

#[async_trait]
impl ResourceKind for PolicyAttachment {
    fn force_new(&self) -> &'static [&'static str] {
        &["role_name", "policy_arn"]
    }

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Observed>> {
        let roles = snap.roles().await?;
        Ok(roles
            .iter()
            .filter(|r| !r.unowned)
            .flat_map(|r| {
                r.attached.iter().map(|arn| {
                    Observed::new(
                        attach_id(r.suffix(), arn),
                        Kind::IamPolicyAttachment,
                        physical_id(&r.name, arn),
                    )
                    .with("role_name", r.name.as_str())
                    .with("policy_arn", arn.as_str())
                })
            })
            .collect())
    }

    async fn create(&self, cx: &StepCtx<'_>, spec: &Spec) -> Result<Outputs> {
        let (role, arn) = (spec.str("role_name")?, spec.str("policy_arn")?);
        cx.aws
            .iam
            .attach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
            .aws("AttachRolePolicy")?;
        Ok(id_output(&physical_id(role, arn)))
    }

    async fn update(
        &self,
        _cx: &StepCtx<'_>,
        current: &Observed,
        _spec: &Spec,
        _changed: &[String],
    ) -> Result<Outputs> {
        // Both attributes force replacement: nothing changes in place.
        Ok(id_output(&current.physical_id))
    }

    async fn delete(&self, cx: &StepCtx<'_>, current: &Observed) -> Result<()> {
        let (role, arn) = current
            .physical_id
            .split_once('|')
            .context("policy attachment id is not <role>|<policy arn>")?;
        gone(
            cx.aws
                .iam
                .detach_role_policy()
                .role_name(role)
                .policy_arn(arn)
                .send()
                .await
                .map(|_| ())
                .aws("DetachRolePolicy"),
        )?;
        Ok(())
    }
}
