//! A role's trust policy. Kept apart from the role so that it can name roles (the role itself
//! included) that only exist once the role step has run: this is what makes one apply enough.

use super::{document_text, id_output, trust_id};
use crate::aws::{AwsError, AwsResultExt};
use crate::kinds::{Outputs, ResourceKind, Spec, StepCtx};
use crate::model::{Kind, Observed};
use crate::retry::{eventually, Budget};
use crate::snapshot::Snapshot;
use anyhow::Result;
use async_trait::async_trait;
use std::time::Duration;

/// A role's trust policy.
pub struct TrustPolicy;

/// IAM rejects a principal naming a role created moments ago until the role has propagated.
const PROPAGATION: Budget = Budget {
    total: Duration::from_secs(120),
};

/// The error IAM gives for a principal it cannot resolve (yet).
fn invalid_principal(e: &AwsError) -> bool {
    e.is("MalformedPolicyDocument") && e.detail.contains("Invalid principal")
}

async fn put(cx: &StepCtx<'_>, spec: &Spec) -> Result<Outputs> {
    let role = spec.str("role_name")?;
    let document = document_text(spec, "document")?;
    eventually(PROPAGATION, invalid_principal, || async {
        cx.aws
            .iam
            .update_assume_role_policy()
            .role_name(role)
            .policy_document(&document)
            .send()
            .await
            .aws("UpdateAssumeRolePolicy")
    })
    .await?;
    Ok(id_output(role))
}

#[async_trait]
impl ResourceKind for TrustPolicy {
    fn force_new(&self) -> &'static [&'static str] {
        &["role_name"]
    }

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Observed>> {
        Ok(snap
            .roles()
            .await?
            .iter()
            .filter(|r| !r.unowned)
            .map(|r| {
                Observed::new(trust_id(&r.logical_id), Kind::IamTrustPolicy, &r.name)
                    .with("role_name", r.name.as_str())
                    .with("document", r.trust.clone())
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

    async fn delete(&self, _cx: &StepCtx<'_>, _current: &Observed) -> Result<()> {
        // A role always has a trust policy; it goes when the role goes.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: &str, detail: &str) -> AwsError {
        AwsError {
            op: "UpdateAssumeRolePolicy",
            code: Some(code.to_string()),
            detail: detail.to_string(),
        }
    }

    #[test]
    fn only_unresolved_principals_are_retried() {
        assert!(invalid_principal(&err(
            "MalformedPolicyDocument",
            "MalformedPolicyDocument: Invalid principal in policy: \"AWS\":\"arn:aws:iam::1:role/x\""
        )));
        assert!(!invalid_principal(&err(
            "MalformedPolicyDocument",
            "MalformedPolicyDocument: Syntax errors in policy."
        )));
        assert!(!invalid_principal(&err(
            "NoSuchEntity",
            "Invalid principal"
        )));
    }
}
