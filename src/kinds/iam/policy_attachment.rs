//! A managed policy attachment, found through its role. Every policy attached to an owned role
//! is observed, so one attached by hand is detached and one detached by hand is re-attached.

use super::{attach_id, per_owned_role};
use crate::aws::{delete_once, AwsResultExt};
use crate::kinds::{attrs, Change, Current, Found, Outputs, Resource, Snapshot, StepCtx};
use crate::snapshot::RoleDetail;
use anyhow::Result;

/// A managed policy attachment.
pub struct PolicyAttachment;

attrs! {
    /// An attachment: which managed policy on which role. Both force replacement.
    pub struct PolicyAttachmentAttrs {
        /// Name of the role.
        role_name: String => ForceNew,
        /// ARN of the managed policy.
        policy_arn: String => ForceNew,
    }
}

/// Physical id `<role name>|<policy arn>`; neither role names nor ARNs contain `|`.
fn physical_id(role: &str, arn: &str) -> String {
    format!("{role}|{arn}")
}

impl Resource for PolicyAttachment {
    type Attrs = PolicyAttachmentAttrs;

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Found<Self::Attrs>>> {
        let found = |r: &RoleDetail, arn: &String| {
            let (id, physical) = (attach_id(r.suffix(), arn), physical_id(&r.name, arn));
            Found::new(id, physical, attrs_of(&r.name, arn))
        };
        Ok(per_owned_role(snap.roles().await?, |r| &r.attached, found))
    }

    async fn create(&self, cx: &StepCtx<'_>, want: &Self::Attrs) -> Result<Outputs> {
        cx.aws
            .iam
            .attach_role_policy()
            .role_name(&want.role_name)
            .policy_arn(&want.policy_arn)
            .send()
            .await
            .aws("AttachRolePolicy")?;
        let id = physical_id(&want.role_name, &want.policy_arn);
        Ok(Outputs::from([("id".to_string(), id)]))
    }

    async fn update(&self, _cx: &StepCtx<'_>, c: &Change<Self::Attrs>) -> Result<Outputs> {
        // Both attributes force replacement: nothing changes in place.
        Ok(c.outputs.clone())
    }

    async fn delete(&self, cx: &StepCtx<'_>, c: &Current<Self::Attrs>) -> Result<()> {
        let have = &c.attrs;
        let iam = &cx.aws.iam;
        let req = iam
            .detach_role_policy()
            .role_name(&have.role_name)
            .policy_arn(&have.policy_arn);
        delete_once("DetachRolePolicy", req.send()).await
    }
}

/// An attachment's attributes as the snapshot read them with its role.
fn attrs_of(role_name: &str, policy_arn: &str) -> PolicyAttachmentAttrs {
    PolicyAttachmentAttrs {
        role_name: role_name.to_string(),
        policy_arn: policy_arn.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::iam::test_support::{observed_role, owned};
    use crate::kinds::tests_typed::{default_config, resolved};
    use crate::model::Kind;

    #[test]
    fn observed_attributes_equal_the_desired_ones() {
        let graph = crate::stack::build(&default_config(), "123456789012");
        let ids: Vec<_> = graph
            .resources
            .iter()
            .filter(|(_, d)| d.kind == Kind::IamPolicyAttachment)
            .map(|(id, _)| id.as_str().to_string())
            .collect();
        assert_eq!(ids.len(), 4, "{ids:?}");
        for id in ids {
            let want: PolicyAttachmentAttrs = resolved(&graph, &id).typed().unwrap();
            let which = id.split('/').nth(1).unwrap();
            // As the snapshot reads the role with the policy attached (the
            // role name as its placeholder).
            let r = observed_role(
                &want.role_name,
                which,
                &owned("grpc-eks", &format!("role/{which}")),
                &serde_json::json!({}),
                &[],
                &[&want.policy_arn],
                None,
            );
            let [arn] = &r.attached[..] else {
                panic!("one attached policy: {:?}", r.attached);
            };
            assert_eq!(attach_id(r.suffix(), arn).as_str(), id);
            assert_eq!(attrs_of(&r.name, arn), want, "{id}");
        }
    }
}
