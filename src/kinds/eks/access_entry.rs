//! EKS access entry: lets a stack role (CodeBuild's) act on the cluster, with one access policy
//! associated at a cluster or namespace scope.

use super::{request_token, wait_cluster_active, IAM_PROPAGATION};
use crate::aws::{absent_ok, delete_once, AwsError, AwsResultExt};
use crate::kinds::{
    attrs, differs, enum_text, Change, Current, Found, Outputs, Resource, Snapshot, StepCtx,
};
use crate::retry::send_eventually;
use crate::tags::{Tagged, Tags};
use anyhow::{bail, Result};
use aws_sdk_eks::types::{
    AccessEntry as EksAccessEntry, AccessScope, AccessScopeType, AssociatedAccessPolicy,
    ClusterStatus,
};
use serde::{Deserialize, Serialize};

/// EKS access entry.
pub struct AccessEntry;

attrs! {
    /// What an access entry is made of.
    pub struct AccessEntryAttrs {
        /// The cluster it is on.
        cluster_name: String => ForceNew,
        /// The IAM principal it lets in.
        principal_arn: String => ForceNew,
        /// The access policy associated with it.
        policy_arn: PolicyArn,
        /// The scope of that association: the cluster, or some namespaces.
        access_scope: Scope,
        /// Its tags.
        tags: Tags,
    }
}

/// The access policy of an entry. The stack grants exactly one; observed, it is "" for none and
/// the sorted list when several are associated (so that it differs from any single desired
/// policy and gets repaired).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PolicyArn {
    /// One policy ("" for none).
    One(String),
    /// Several policies, sorted.
    Several(Vec<String>),
}

impl PolicyArn {
    /// The observed value for the associated policies `arns`.
    fn of(mut arns: Vec<String>) -> Self {
        arns.sort();
        match arns.len() {
            0 => PolicyArn::One(String::new()),
            1 => PolicyArn::One(arns.remove(0)),
            _ => PolicyArn::Several(arns),
        }
    }

    /// The one policy the stack wants associated.
    fn single(&self) -> Result<&str> {
        match self {
            PolicyArn::One(arn) if !arn.is_empty() => Ok(arn),
            other => bail!("an access entry grants exactly one access policy, not {other:?}"),
        }
    }
}

/// Where an access policy applies, as AssociateAccessPolicy takes it and
/// ListAssociatedAccessPolicies reports it: `{"type": "cluster", "namespaces": []}`, or
/// `{"type": "namespace", "namespaces": [...]}`. Observed with no policy, the type is "".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// `cluster` or `namespace`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The namespaces of a `namespace` scope, sorted; empty for `cluster`.
    pub namespaces: Vec<String>,
}

impl Scope {
    /// The scope of an association as EKS reports it.
    fn of(scope: Option<&AccessScope>) -> Self {
        let mut namespaces = scope.map(|s| s.namespaces().to_vec()).unwrap_or_default();
        namespaces.sort();
        Scope {
            kind: enum_text(scope.and_then(|s| s.r#type())),
            namespaces,
        }
    }

    /// As AssociateAccessPolicy takes it.
    fn to_sdk(&self) -> AccessScope {
        AccessScope::builder()
            .r#type(AccessScopeType::from(self.kind.as_str()))
            .set_namespaces((!self.namespaces.is_empty()).then(|| self.namespaces.clone()))
            .build()
    }
}

/// The id an entry found by principal has when it carries no `infra:id` tag.
const LOGICAL_ID: &str = "eks/access/codebuild";

/// EKS checks the principal against IAM; a role created seconds ago may not be visible yet:
/// "The specified principalArn is invalid: invalid principal ...".
fn principal_not_visible_yet(e: &AwsError) -> bool {
    e.is("InvalidParameterException") && e.detail.contains("principal")
}

/// An entry is one principal's on one cluster; the principal's ARN alone would also be the
/// value of the role's `arn` and of every policy naming the role.
fn physical_id(cluster: &str, principal: &str) -> String {
    format!("{cluster}|{principal}")
}

impl Resource for AccessEntry {
    type Attrs = AccessEntryAttrs;

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Found<Self::Attrs>>> {
        let Some(c) = snap.cluster().await? else {
            return Ok(Vec::new());
        };
        // Entries cannot be read before the cluster is up and go with it.
        if matches!(
            c.status(),
            Some(ClusterStatus::Creating) | Some(ClusterStatus::Deleting)
        ) {
            return Ok(Vec::new());
        }
        let cluster_name = c.name().unwrap_or_default();
        let eks = &snap.aws().eks;
        let listed = eks
            .list_access_entries()
            .cluster_name(cluster_name)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<String>, _>>()
            .await
            .aws("ListAccessEntries")?;
        // Only the stack's own roles can hold one of its entries; the cluster creator's
        // bootstrap entry and the nodes' entry belong to EKS.
        let prefix = format!("arn:aws:iam::{}:role/{}-", snap.account(), snap.stack());
        let mut found = Vec::new();
        for principal in listed.iter().filter(|p| p.starts_with(&prefix)) {
            // The entry and its policies at once: one round trip, not two in a row.
            let entry = eks.describe_access_entry().cluster_name(cluster_name);
            let policies = eks
                .list_associated_access_policies()
                .cluster_name(cluster_name);
            let (entry, policies) = tokio::join!(
                entry.principal_arn(principal).send(),
                policies.principal_arn(principal).send()
            );
            let entry = absent_ok(entry.aws("DescribeAccessEntry"))?;
            let Some(entry) = entry.and_then(|out| out.access_entry) else {
                continue;
            };
            if entry.r#type().is_some_and(|t| t != "STANDARD") {
                continue;
            }
            // Deleted between the two reads: gone.
            let Some(policies) = absent_ok(policies.aws("ListAssociatedAccessPolicies"))? else {
                continue;
            };
            let attrs = attrs_of(
                cluster_name,
                principal,
                &entry,
                policies.associated_access_policies(),
            );
            let id = physical_id(cluster_name, principal);
            let mut f = Found::by_tags(snap.stack(), LOGICAL_ID, id, attrs);
            if let Some(arn) = entry.access_entry_arn() {
                f = f.output("arn", arn);
            }
            found.push(f);
        }
        Ok(found)
    }

    async fn create(&self, cx: &StepCtx<'_>, want: &Self::Attrs) -> Result<Outputs> {
        let (cluster, principal) = (want.cluster_name.as_str(), want.principal_arn.as_str());
        // Refuse a wrong policy before anything is created.
        want.policy_arn.single()?;
        // A run killed while the cluster was CREATING leaves it so for the next run, and EKS
        // answers ResourceInUseException for entries on a cluster that is not ACTIVE: the same
        // code as for an existing entry, which the match below must be able to trust.
        wait_cluster_active(cx, cluster).await?;
        let created = send_eventually(
            IAM_PROPAGATION,
            principal_not_visible_yet,
            "CreateAccessEntry",
            || {
                cx.aws
                    .eks
                    .create_access_entry()
                    .cluster_name(cluster)
                    .principal_arn(principal)
                    .set_tags(Some(want.tags.to_map()))
                    .client_request_token(request_token())
                    .send()
            },
        )
        .await;
        let arn = match created {
            Ok(out) => out
                .access_entry
                .and_then(|e| e.access_entry_arn)
                .unwrap_or_default(),
            // An interrupted run may have created the entry without its policy: carry on.
            Err(e) if e.is("ResourceInUseException") => cx
                .aws
                .eks
                .describe_access_entry()
                .cluster_name(cluster)
                .principal_arn(principal)
                .send()
                .await
                .aws("DescribeAccessEntry")?
                .access_entry
                .and_then(|e| e.access_entry_arn)
                .unwrap_or_default(),
            Err(e) => return Err(e.into()),
        };
        associate(cx, want).await?;
        let mut out = Outputs::new();
        out.insert("id".into(), physical_id(cluster, principal));
        if !arn.is_empty() {
            out.insert("arn".into(), arn);
        }
        Ok(out)
    }

    async fn update(&self, cx: &StepCtx<'_>, c: &Change<Self::Attrs>) -> Result<Outputs> {
        let have = &c.have;
        let (cluster, principal) = (c.want.cluster_name.as_str(), c.want.principal_arn.as_str());
        if differs(&have.policy_arn, &c.want.policy_arn)
            || differs(&have.access_scope, &c.want.access_scope)
        {
            // Associating a policy again with another scope replaces its scope.
            associate(cx, &c.want).await?;
            // Whatever else was associated by hand is drift: the stack grants one policy.
            let keep = c.want.policy_arn.single()?;
            let listed = cx
                .aws
                .eks
                .list_associated_access_policies()
                .cluster_name(cluster)
                .principal_arn(principal)
                .send()
                .await
                .aws("ListAssociatedAccessPolicies")?;
            for p in listed.associated_access_policies() {
                let Some(arn) = p.policy_arn().filter(|a| *a != keep) else {
                    continue;
                };
                cx.aws
                    .eks
                    .disassociate_access_policy()
                    .cluster_name(cluster)
                    .principal_arn(principal)
                    .policy_arn(arn)
                    .send()
                    .await
                    .aws("DisassociateAccessPolicy")?;
            }
        }
        c.retag(cx.aws, Tagged::Eks(c.output("arn")?)).await
    }

    async fn delete(&self, cx: &StepCtx<'_>, c: &Current<Self::Attrs>) -> Result<()> {
        let have = &c.attrs;
        // Deleting the entry drops its policy associations with it.
        let eks = &cx.aws.eks;
        let req = eks
            .delete_access_entry()
            .cluster_name(&have.cluster_name)
            .principal_arn(&have.principal_arn);
        delete_once("DeleteAccessEntry", req.send()).await
    }
}

/// The entry's attributes, from DescribeAccessEntry and ListAssociatedAccessPolicies.
fn attrs_of(
    cluster: &str,
    principal: &str,
    entry: &EksAccessEntry,
    associated: &[AssociatedAccessPolicy],
) -> AccessEntryAttrs {
    let scope = Scope::of(associated.first().and_then(|p| p.access_scope()));
    let arns = associated
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_string))
        .collect();
    AccessEntryAttrs {
        cluster_name: cluster.to_string(),
        principal_arn: principal.to_string(),
        policy_arn: PolicyArn::of(arns),
        access_scope: scope,
        tags: Tags::from(entry.tags()),
    }
}

/// Associates the wanted access policy with the entry (AWS treats a repeat as an update).
async fn associate(cx: &StepCtx<'_>, want: &AccessEntryAttrs) -> Result<()> {
    cx.aws
        .eks
        .associate_access_policy()
        .cluster_name(&want.cluster_name)
        .principal_arn(&want.principal_arn)
        .policy_arn(want.policy_arn.single()?)
        .access_scope(want.access_scope.to_sdk())
        .send()
        .await
        .aws("AssociateAccessPolicy")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests_typed::desired;
    use serde_json::json;

    const EDIT: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy";

    #[test]
    fn several_policies_never_equal_one() {
        let json_of = |p: PolicyArn| serde_json::to_value(p).unwrap();
        assert_eq!(json_of(PolicyArn::of(vec![])), json!(""));
        assert_eq!(json_of(PolicyArn::of(vec!["a".into()])), json!("a"));
        assert_eq!(
            json_of(PolicyArn::of(vec!["b".into(), "a".into()])),
            json!(["a", "b"])
        );
        // The observed shapes read back as they were written.
        let back: PolicyArn = serde_json::from_value(json!(["a", "b"])).unwrap();
        assert_eq!(back, PolicyArn::Several(vec!["a".into(), "b".into()]));
        assert!(PolicyArn::of(vec![]).single().is_err());
        assert!(back.single().is_err());
        assert_eq!(PolicyArn::of(vec!["a".into()]).single().unwrap(), "a");
    }

    #[test]
    fn principal_errors_are_retried_others_not() {
        let e = |code: &str, msg: &str| AwsError {
            op: "CreateAccessEntry",
            code: Some(code.into()),
            detail: msg.into(),
        };
        assert!(principal_not_visible_yet(&e(
            "InvalidParameterException",
            "The specified principalArn is invalid: invalid principal arn:aws:iam::1:role/x"
        )));
        assert!(!principal_not_visible_yet(&e(
            "InvalidRequestException",
            "principal"
        )));
    }

    #[test]
    fn observed_attributes_equal_the_desired_ones() {
        let want: AccessEntryAttrs = desired("eks/access/codebuild");
        // As DescribeAccessEntry and ListAssociatedAccessPolicies return the stack's entry.
        let entry = EksAccessEntry::builder()
            .cluster_name("eks/cluster.name")
            .principal_arn("role/codebuild.arn")
            .access_entry_arn("arn:aws:eks:us-east-1:123456789012:access-entry/grpc-eks/x")
            .r#type("STANDARD")
            .set_tags(Some(want.tags.to_map()))
            .build();
        let policy = AssociatedAccessPolicy::builder()
            .policy_arn(EDIT)
            .access_scope(
                AccessScope::builder()
                    .r#type(AccessScopeType::Namespace)
                    .namespaces("grpc-app")
                    .build(),
            )
            .build();
        let got = attrs_of("eks/cluster.name", "role/codebuild.arn", &entry, &[policy]);
        assert_eq!(got, want);
    }

    #[test]
    fn scopes_read_back_as_they_are_sent() {
        let namespaced = Scope {
            kind: "namespace".into(),
            namespaces: vec!["a".into(), "b".into()],
        };
        let sdk = namespaced.to_sdk();
        assert_eq!(sdk.r#type(), Some(&AccessScopeType::Namespace));
        assert_eq!(Scope::of(Some(&sdk)), namespaced);
        // AWS reports a cluster scope with an empty list; none at all when nothing is associated.
        let cluster = AccessScope::builder()
            .r#type(AccessScopeType::Cluster)
            .set_namespaces(Some(vec![]))
            .build();
        assert_eq!(
            serde_json::to_value(Scope::of(Some(&cluster))).unwrap(),
            json!({"type": "cluster", "namespaces": []})
        );
        assert!(Scope::of(Some(&cluster)).to_sdk().namespaces().is_empty());
        assert_eq!(Scope::of(None).kind, "");
        // A scope that differs only in the order of its namespaces does not differ.
        let reordered = Scope {
            kind: "namespace".into(),
            namespaces: vec!["b".into(), "a".into()],
        };
        assert!(!differs(&namespaced, &reordered));
    }
}
