//! IAM role. Created with a trust policy naming only services (a role cannot name itself, or
//! any role not yet created, in the policy it is created with); the full trust policy is the
//! separate `TrustPolicy` resource, written once every role it names exists.

use super::document_text;
use crate::aws::AwsResultExt;
use crate::kinds::{
    attrs, created, named_outputs, Change, Current, Found, Outputs, Resource, Snapshot, StepCtx,
};
use crate::retry::{delete_eventually, Budget};
use crate::snapshot::RoleDetail;
use crate::tags::{Tagged, Tags};
use anyhow::{Context, Result};
use serde_json::Value as Json;
use std::time::Duration;

/// IAM role.
pub struct Role;

attrs! {
    /// What a role is made of (its policies are separate resources).
    pub struct RoleAttrs {
        /// Role name.
        name: String => ForceNew,
        /// Description; empty when it has none.
        description: String,
        /// The trust policy the role is created with. Never observed nor compared: the
        /// `TrustPolicy` resource owns the trust policy once the role exists.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        initial_trust_policy: Option<Json> => CreateOnly,
        /// Its tags.
        tags: Tags,
    }
}

/// The steps detaching the role's policies run just before its deletion and IAM takes a moment
/// to see them gone.
const DETACH: Budget = Budget {
    total: Duration::from_secs(60),
};

impl Resource for Role {
    type Attrs = RoleAttrs;

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Found<Self::Attrs>>> {
        // The snapshot gives each role its identity from its tags (`Tags::identity`, falling
        // back to `role/<suffix>`, the id a role of that name would have).
        let found = |r: &RoleDetail| {
            let mut found = Found::new(r.logical_id.clone(), &r.name, attrs_of(r))
                .output("name", &r.name)
                .output("arn", &r.arn);
            found.unowned = r.unowned;
            found
        };
        Ok(snap.roles().await?.iter().map(found).collect())
    }

    async fn create(&self, cx: &StepCtx<'_>, want: &Self::Attrs) -> Result<Outputs> {
        let trust = want
            .initial_trust_policy
            .as_ref()
            .context("a role is created with an initial trust policy")?;
        let out = cx
            .aws
            .iam
            .create_role()
            .role_name(&want.name)
            .assume_role_policy_document(document_text(trust)?)
            .set_description(Some(want.description.clone()).filter(|d| !d.is_empty()))
            .set_tags(Some(want.tags.to_iam()?))
            .send()
            .await
            .aws("CreateRole")?;
        let arn = created(
            "CreateRole",
            out.role().map(|r| r.arn()).filter(|a| !a.is_empty()),
        )?;
        Ok(named_outputs(&want.name, arn))
    }

    async fn update(&self, cx: &StepCtx<'_>, c: &Change<Self::Attrs>) -> Result<Outputs> {
        let (name, have) = (&c.physical_id, &c.have);
        if have.description != c.want.description {
            cx.aws
                .iam
                .update_role()
                .role_name(name)
                .description(&c.want.description)
                .send()
                .await
                .aws("UpdateRole")?;
        }
        c.retag(cx.aws, Tagged::IamRole(name)).await
    }

    async fn delete(&self, cx: &StepCtx<'_>, c: &Current<Self::Attrs>) -> Result<()> {
        delete_eventually(
            DETACH,
            |e| e.is("DeleteConflict"),
            "DeleteRole",
            || cx.aws.iam.delete_role().role_name(&c.physical_id).send(),
        )
        .await
    }
}

/// The role's attributes as the snapshot read them.
fn attrs_of(r: &RoleDetail) -> RoleAttrs {
    RoleAttrs {
        name: r.name.clone(),
        description: r.description.clone(),
        initial_trust_policy: None,
        tags: r.tags.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::iam::test_support::{observed_role, owned};
    use crate::kinds::tests_typed::desired;
    use crate::kinds::Attributes;
    use crate::model::{AttrRule, ID_TAG, STACK_TAG};
    use crate::snapshot::ROLES;
    use serde_json::json;

    #[test]
    fn observed_attributes_equal_the_desired_ones() {
        for which in ROLES {
            let want: RoleAttrs = desired(&format!("role/{which}"));
            assert!(want.initial_trust_policy.is_some(), "{which}");
            // As GetRole returns the stack's role; the
            // trust policy AWS holds by then is the full one, which is not a role attribute.
            let trust = json!({"Version": "2012-10-17", "Statement": []});
            let r = observed_role(
                &want.name,
                which,
                &want.tags,
                &trust,
                &[],
                &[],
                Some(&want.description),
            );
            assert!(!r.unowned, "{which}");
            assert_eq!(r.logical_id.as_str(), format!("role/{which}"));
            // The initial trust policy is create-only: never observed, never compared.
            let expected = RoleAttrs {
                initial_trust_policy: None,
                ..want
            };
            assert_eq!(attrs_of(&r), expected, "{which}");
        }
    }

    #[test]
    fn the_initial_trust_policy_is_create_only_and_never_observed() {
        assert_eq!(
            RoleAttrs::rule("initial_trust_policy"),
            AttrRule::CreateOnly
        );
        assert_eq!(RoleAttrs::rule("name"), AttrRule::ForceNew);
        assert_eq!(RoleAttrs::rule("description"), AttrRule::Update);
        assert_eq!(RoleAttrs::rule("tags"), AttrRule::Update);
        // Observed attributes (the plan's data) have no initial_trust_policy, and read back.
        let tags = owned("grpc-eks", "role/node");
        let r = observed_role("grpc-eks-node", "node", &tags, &json!({}), &[], &[], None);
        let observed = attrs_of(&r);
        let j = serde_json::to_value(&observed).unwrap();
        assert_eq!(
            j,
            json!({"name": "grpc-eks-node", "description": "",
                   "tags": {STACK_TAG: "grpc-eks", ID_TAG: "role/node"}})
        );
        assert_eq!(serde_json::from_value::<RoleAttrs>(j).unwrap(), observed);
    }
}
