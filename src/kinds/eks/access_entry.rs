//! EKS access entry: lets a stack role (CodeBuild's) act on the cluster, with one access policy
//! associated at cluster scope.

use super::{
    describe_cluster, logical_id, owned, spec_tags, tags_json, update_tags, wait_cluster_active,
    IAM_PROPAGATION,
};
use crate::aws::{AwsError, AwsResultExt};
use crate::kinds::{Outputs, ResourceKind, Spec, StepCtx};
use crate::model::{Kind, Observed};
use crate::retry::eventually;
use crate::snapshot::Snapshot;
use anyhow::{bail, Result};
use async_trait::async_trait;
use aws_sdk_eks::types::{AccessScope, AccessScopeType, ClusterStatus};
use serde_json::Value as Json;

/// EKS access entry.
pub struct AccessEntry;

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

/// The observed `policy_arn`: the one associated policy, "" for none, the sorted list when
/// several are (so that it differs from any single desired policy and gets repaired).
fn policy_attr(mut arns: Vec<String>) -> Json {
    arns.sort();
    match arns.len() {
        0 => Json::String(String::new()),
        1 => Json::String(arns.remove(0)),
        _ => Json::from(arns),
    }
}

#[async_trait]
impl ResourceKind for AccessEntry {
    fn force_new(&self) -> &'static [&'static str] {
        &["cluster_name", "principal_arn"]
    }

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Observed>> {
        let cluster = describe_cluster(snap).await?;
        let Some(c) = cluster.as_ref() else {
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
            let entry = match eks
                .describe_access_entry()
                .cluster_name(cluster_name)
                .principal_arn(principal)
                .send()
                .await
                .aws("DescribeAccessEntry")
            {
                Ok(out) => out.access_entry,
                Err(e) if e.is_not_found() => None,
                Err(e) => return Err(e.into()),
            };
            let Some(entry) = entry else { continue };
            if entry.r#type().is_some_and(|t| t != "STANDARD") {
                continue;
            }
            let policies = eks
                .list_associated_access_policies()
                .cluster_name(cluster_name)
                .principal_arn(principal)
                .send()
                .await
                .aws("ListAssociatedAccessPolicies")?;
            let associated = policies.associated_access_policies();
            let scope = associated
                .first()
                .and_then(|p| p.access_scope())
                .and_then(|s| s.r#type())
                .map(|t| t.as_str().to_string())
                .unwrap_or_default();
            let arns = associated
                .iter()
                .filter_map(|p| p.policy_arn().map(str::to_string))
                .collect();
            let mut o = Observed::new(
                logical_id(entry.tags(), LOGICAL_ID),
                Kind::EksAccessEntry,
                physical_id(cluster_name, principal),
            )
            .with("cluster_name", cluster_name)
            .with("principal_arn", principal.as_str())
            .with("policy_arn", policy_attr(arns))
            .with("access_scope", scope)
            .with("tags", tags_json(entry.tags()));
            o.outputs
                .insert("id".into(), physical_id(cluster_name, principal));
            if let Some(arn) = entry.access_entry_arn() {
                o.outputs.insert("arn".into(), arn.to_string());
            }
            o.unowned = !owned(entry.tags(), snap.stack());
            found.push(o);
        }
        Ok(found)
    }

    async fn create(&self, cx: &StepCtx<'_>, spec: &Spec) -> Result<Outputs> {
        let (cluster, principal) = (spec.str("cluster_name")?, spec.str("principal_arn")?);
        // A run killed while the cluster was CREATING leaves it so for the next run, and EKS
        // answers ResourceInUseException for entries on a cluster that is not ACTIVE: the same
        // code as for an existing entry, which the match below must be able to trust.
        wait_cluster_active(cx, cluster).await?;
        let created = eventually(IAM_PROPAGATION, principal_not_visible_yet, || async {
            cx.aws
                .eks
                .create_access_entry()
                .cluster_name(cluster)
                .principal_arn(principal)
                .set_tags(spec_tags(spec))
                .client_request_token(super::request_token())
                .send()
                .await
                .aws("CreateAccessEntry")
        })
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
        associate(cx, cluster, principal, spec).await?;
        let mut out = Outputs::new();
        out.insert("id".into(), physical_id(cluster, principal));
        if !arn.is_empty() {
            out.insert("arn".into(), arn);
        }
        Ok(out)
    }

    async fn update(
        &self,
        cx: &StepCtx<'_>,
        current: &Observed,
        spec: &Spec,
        changed: &[String],
    ) -> Result<Outputs> {
        let (cluster, principal) = (spec.str("cluster_name")?, spec.str("principal_arn")?);
        if changed
            .iter()
            .any(|c| c == "policy_arn" || c == "access_scope")
        {
            associate(cx, cluster, principal, spec).await?;
            // Whatever else was associated by hand is drift: the stack grants one policy.
            let want = spec.str("policy_arn")?;
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
                let Some(arn) = p.policy_arn().filter(|a| *a != want) else {
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
        if changed.iter().any(|c| c == "tags") {
            let Some(arn) = current.outputs.get("arn") else {
                bail!("the observed access entry for {principal} has no ARN");
            };
            update_tags(cx.aws, arn, current.attrs.get("tags"), spec).await?;
        }
        Ok(current.outputs.clone())
    }

    async fn delete(&self, cx: &StepCtx<'_>, current: &Observed) -> Result<()> {
        let attr = |k: &str| {
            current
                .attrs
                .get(k)
                .and_then(Json::as_str)
                .unwrap_or_default()
        };
        let (cluster, principal) = (attr("cluster_name"), attr("principal_arn"));
        // Deleting the entry drops its policy associations with it.
        match cx
            .aws
            .eks
            .delete_access_entry()
            .cluster_name(cluster)
            .principal_arn(principal)
            .send()
            .await
            .aws("DeleteAccessEntry")
        {
            Err(e) if !e.is_not_found() => Err(e.into()),
            _ => Ok(()),
        }
    }
}

/// Associates the spec's access policy with the entry (AWS treats a repeat as an update).
async fn associate(cx: &StepCtx<'_>, cluster: &str, principal: &str, spec: &Spec) -> Result<()> {
    let scope = AccessScope::builder()
        .r#type(AccessScopeType::from(spec.str("access_scope")?))
        .build();
    cx.aws
        .eks
        .associate_access_policy()
        .cluster_name(cluster)
        .principal_arn(principal)
        .policy_arn(spec.str("policy_arn")?)
        .access_scope(scope)
        .send()
        .await
        .aws("AssociateAccessPolicy")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_policies_never_equal_one() {
        assert_eq!(policy_attr(vec![]), Json::String(String::new()));
        assert_eq!(policy_attr(vec!["a".into()]), Json::String("a".into()));
        assert_eq!(
            policy_attr(vec!["b".into(), "a".into()]),
            serde_json::json!(["a", "b"])
        );
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
}
