//! iam kinds: the stack's roles and what hangs off them (trust policies, inline policies,
//! managed policy attachments), all observed through one shared read of the account's roles.

pub mod inline_policy;
pub mod policy_attachment;
pub mod role;
pub mod trust_policy;

use crate::aws::{Aws, AwsError, AwsResultExt};
use crate::kinds::{Outputs, Spec};
use crate::model::{LogicalId, ID_TAG, STACK_TAG};
use crate::naming;
use crate::snapshot::Snapshot;
use anyhow::{anyhow, Result};
use aws_sdk_iam::types::{EntityType, Tag};
use serde_json::{Map, Value as Json};
use std::collections::HashMap;
use std::sync::Arc;

pub use crate::snapshot::{decode_document, RoleDetail, ROLES};

/// A policy attribute of `spec` as the text IAM takes (a string attribute is sent as it is).
pub fn document_text(spec: &Spec, key: &str) -> Result<String> {
    match spec.get(key) {
        Some(Json::String(s)) => Ok(s.clone()),
        Some(doc @ Json::Object(_)) => Ok(doc.to_string()),
        _ => Err(anyhow!("spec has no policy document {key:?}")),
    }
}

/// Tags as a JSON object, without the `aws:` ones AWS adds itself.
pub fn tags_json(tags: &[Tag]) -> Json {
    let map: Map<String, Json> = tags
        .iter()
        .filter(|t| !t.key().starts_with("aws:"))
        .map(|t| (t.key().to_string(), Json::String(t.value().to_string())))
        .collect();
    Json::Object(map)
}

/// The trust policy's logical id for a role's logical id (`role/node` -> `trust/node`).
pub fn trust_id(role: &LogicalId) -> LogicalId {
    let s = role.as_str();
    LogicalId::new(format!("trust/{}", s.strip_prefix("role/").unwrap_or(s)))
}

/// An inline policy's logical id: `policy/<role suffix>/<policy name>`.
pub fn inline_id(role_suffix: &str, policy_name: &str) -> LogicalId {
    LogicalId::new(format!("policy/{role_suffix}/{policy_name}"))
}

/// A managed policy attachment's logical id: `attach/<role suffix>/<last segment of the ARN>`.
pub fn attach_id(role_suffix: &str, policy_arn: &str) -> LogicalId {
    let name = policy_arn.rsplit('/').next().unwrap_or(policy_arn);
    LogicalId::new(format!("attach/{role_suffix}/{name}"))
}

/// Outputs holding just the id.
pub fn id_output(id: &str) -> Outputs {
    Outputs::from([("id".to_string(), id.to_string())])
}

/// Treats IAM's NoSuchEntity as already gone, for idempotent deletes.
pub fn gone(result: Result<(), AwsError>) -> Result<(), AwsError> {
    match result {
        Err(e) if e.is("NoSuchEntity") => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn spec_documents_are_sent_as_json_text() {
        let mut spec = Spec::default();
        spec.0
            .insert("document".into(), json!({"Version": "2012-10-17"}));
        spec.0
            .insert("raw".into(), json!("{\"Version\":\"2012-10-17\"}"));
        assert_eq!(
            document_text(&spec, "document").unwrap(),
            r#"{"Version":"2012-10-17"}"#
        );
        assert_eq!(
            document_text(&spec, "raw").unwrap(),
            r#"{"Version":"2012-10-17"}"#
        );
        assert!(document_text(&spec, "missing").is_err());
    }

    #[test]
    fn sub_resource_ids_derive_from_the_role() {
        let role = LogicalId::new("role/codebuild");
        assert_eq!(trust_id(&role).as_str(), "trust/codebuild");
        assert_eq!(
            inline_id("codebuild", "deploy").as_str(),
            "policy/codebuild/deploy"
        );
        assert_eq!(
            attach_id("cluster", "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy").as_str(),
            "attach/cluster/AmazonEKSClusterPolicy"
        );
        // Managed policies may live under a path; only the name counts.
        assert_eq!(
            attach_id(
                "node",
                "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
            )
            .as_str(),
            "attach/node/AmazonEBSCSIDriverPolicy"
        );
    }

    #[test]
    fn nosuchentity_counts_as_gone() {
        let err = |code: &str| AwsError {
            op: "DeleteRole",
            code: Some(code.to_string()),
            detail: code.to_string(),
        };
        assert!(gone(Err(err("NoSuchEntity"))).is_ok());
        assert!(gone(Err(err("DeleteConflict"))).is_err());
    }
}
