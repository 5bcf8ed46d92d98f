//! An inline role policy, found through its role (inline policies cannot be tagged).

use super::{document_text, inline_id, per_owned_role};
use crate::aws::{delete_once, AwsResultExt};
use crate::kinds::{attrs, differs, Change, Current, Found, Outputs, Resource, Snapshot, StepCtx};
use crate::snapshot::RoleDetail;
use anyhow::Result;
use serde_json::Value as Json;

/// An inline role policy.
pub struct InlinePolicy;

attrs! {
    /// An inline policy: the role it is in, its name and its document.
    pub struct InlinePolicyAttrs {
        /// Name of the role.
        role_name: String => ForceNew,
        /// Name of the policy within the role.
        policy_name: String => ForceNew,
        /// The policy document (free-form JSON; a string is sent as it is).
        document: Json,
    }
}

/// Physical id `<role name>:<policy name>`; role names cannot contain `:`.
fn physical_id(role: &str, policy: &str) -> String {
    format!("{role}:{policy}")
}

async fn put(cx: &StepCtx<'_>, want: &InlinePolicyAttrs) -> Result<Outputs> {
    cx.aws
        .iam
        .put_role_policy()
        .role_name(&want.role_name)
        .policy_name(&want.policy_name)
        .policy_document(document_text(&want.document)?)
        .send()
        .await
        .aws("PutRolePolicy")?;
    let id = physical_id(&want.role_name, &want.policy_name);
    Ok(Outputs::from([("id".to_string(), id)]))
}

impl Resource for InlinePolicy {
    type Attrs = InlinePolicyAttrs;

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Found<Self::Attrs>>> {
        // Every inline policy of the stack's own roles: one added by hand is deleted.
        let found = |r: &RoleDetail, (policy, document): &(String, Json)| {
            let (id, physical) = (inline_id(r.suffix(), policy), physical_id(&r.name, policy));
            Found::new(id, physical, attrs_of(&r.name, policy, document))
        };
        Ok(per_owned_role(snap.roles().await?, |r| &r.inline, found))
    }

    async fn create(&self, cx: &StepCtx<'_>, want: &Self::Attrs) -> Result<Outputs> {
        put(cx, want).await
    }

    async fn update(&self, cx: &StepCtx<'_>, c: &Change<Self::Attrs>) -> Result<Outputs> {
        // The role and the policy name force replacement: only the document changes in place.
        if differs(&c.have.document, &c.want.document) {
            return put(cx, &c.want).await;
        }
        Ok(c.outputs.clone())
    }

    async fn delete(&self, cx: &StepCtx<'_>, c: &Current<Self::Attrs>) -> Result<()> {
        let have = &c.attrs;
        let iam = &cx.aws.iam;
        let req = iam
            .delete_role_policy()
            .role_name(&have.role_name)
            .policy_name(&have.policy_name);
        delete_once("DeleteRolePolicy", req.send()).await
    }
}

/// An inline policy's attributes as the snapshot read them with its role.
fn attrs_of(role_name: &str, policy_name: &str, document: &Json) -> InlinePolicyAttrs {
    InlinePolicyAttrs {
        role_name: role_name.to_string(),
        policy_name: policy_name.to_string(),
        document: document.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::iam::test_support::{observed_role, owned};
    use crate::kinds::tests_typed::desired;

    #[test]
    fn observed_attributes_equal_the_desired_ones() {
        let want: InlinePolicyAttrs = desired("policy/codebuild/deploy");
        // As the snapshot reads the CodeBuild role with its policy (the
        // role name and the repository and cluster ARNs as placeholders).
        let r = observed_role(
            &want.role_name,
            "codebuild",
            &owned("grpc-eks", "role/codebuild"),
            &serde_json::json!({}),
            &[("deploy", &want.document)],
            &[],
            None,
        );
        let [(policy, document)] = &r.inline[..] else {
            panic!("one inline policy: {:?}", r.inline);
        };
        assert_eq!(
            inline_id(r.suffix(), policy).as_str(),
            "policy/codebuild/deploy"
        );
        assert_eq!(physical_id(&r.name, policy), "role/codebuild.name:deploy");
        assert_eq!(attrs_of(&r.name, policy, document), want);
    }
}
