//! A role's trust policy. Kept apart from the role so that it can name roles (the role itself
//! included) that only exist once the role step has run: this is what makes one apply enough.

use super::{document_text, trust_id};
use crate::aws::AwsError;
use crate::kinds::{attrs, differs, Change, Current, Found, Outputs, Resource, Snapshot, StepCtx};
use crate::retry::{send_eventually, Budget};
use crate::snapshot::RoleDetail;
use anyhow::Result;
use serde_json::Value as Json;
use std::time::Duration;

/// A role's trust policy.
pub struct TrustPolicy;

attrs! {
    /// A trust policy: the role it belongs to and the document.
    pub struct TrustPolicyAttrs {
        /// Name of the role.
        role_name: String => ForceNew,
        /// The policy document (free-form JSON; a string is sent as it is).
        document: Json,
    }
}

/// IAM rejects a principal naming a role created moments ago until the role has propagated.
const PROPAGATION: Budget = Budget {
    total: Duration::from_secs(120),
};

/// The error IAM gives for a principal it cannot resolve (yet).
fn invalid_principal(e: &AwsError) -> bool {
    e.is("MalformedPolicyDocument") && e.detail.contains("Invalid principal")
}

async fn put(cx: &StepCtx<'_>, want: &TrustPolicyAttrs) -> Result<()> {
    let document = document_text(&want.document)?;
    send_eventually(
        PROPAGATION,
        invalid_principal,
        "UpdateAssumeRolePolicy",
        || {
            cx.aws
                .iam
                .update_assume_role_policy()
                .role_name(&want.role_name)
                .policy_document(&document)
                .send()
        },
    )
    .await?;
    Ok(())
}

impl Resource for TrustPolicy {
    type Attrs = TrustPolicyAttrs;

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Found<Self::Attrs>>> {
        // Only the stack's own roles: someone else's role under a stack name is the role's
        // conflict, not its policies'.
        let owned = snap.roles().await?.iter().filter(|r| !r.unowned);
        Ok(owned
            .map(|r| Found::new(trust_id(&r.logical_id), &r.name, attrs_of(r)))
            .collect())
    }

    async fn create(&self, cx: &StepCtx<'_>, want: &Self::Attrs) -> Result<Outputs> {
        put(cx, want).await?;
        Ok(Outputs::from([("id".to_string(), want.role_name.clone())]))
    }

    async fn update(&self, cx: &StepCtx<'_>, c: &Change<Self::Attrs>) -> Result<Outputs> {
        if differs(&c.have.document, &c.want.document) {
            put(cx, &c.want).await?;
        }
        Ok(c.outputs.clone())
    }

    async fn delete(&self, _cx: &StepCtx<'_>, _c: &Current<Self::Attrs>) -> Result<()> {
        // A role always has a trust policy; it goes when the role goes.
        Ok(())
    }
}

/// The trust policy's attributes as the snapshot read them with its role.
fn attrs_of(r: &RoleDetail) -> TrustPolicyAttrs {
    TrustPolicyAttrs {
        role_name: r.name.clone(),
        document: r.trust.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::iam::test_support::{observed_role, owned};
    use crate::kinds::tests_typed::desired;
    use crate::snapshot::ROLES;

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

    #[test]
    fn observed_attributes_equal_the_desired_ones() {
        for which in ROLES {
            let want: TrustPolicyAttrs = desired(&format!("trust/{which}"));
            // As the snapshot reads the role once the trust policy is
            // written (its name and the CodeBuild role's own ARN as placeholders).
            let role_id = format!("role/{which}");
            let r = observed_role(
                &want.role_name,
                which,
                &owned("grpc-eks", &role_id),
                &want.document,
                &[],
                &[],
                None,
            );
            assert_eq!(trust_id(&r.logical_id).as_str(), format!("trust/{which}"));
            assert_eq!(attrs_of(&r), want, "{which}");
        }
    }

    #[test]
    fn the_codebuild_role_trusts_itself() {
        let want: TrustPolicyAttrs = desired("trust/codebuild");
        assert_eq!(want.role_name, "role/codebuild.name");
        assert_eq!(
            want.document["Statement"][1]["Principal"]["AWS"],
            "role/codebuild.arn"
        );
    }
}
