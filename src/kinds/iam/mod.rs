//! iam kinds: the stack's roles and what hangs off them (trust policies, inline policies,
//! managed policy attachments), all observed through one shared read of the account's roles
//! (`Snapshot::roles`).

pub mod inline_policy;
pub mod policy_attachment;
pub mod role;
pub mod trust_policy;

use crate::kinds::Found;
use crate::model::LogicalId;
use crate::snapshot::RoleDetail;
use anyhow::{bail, Result};
use serde_json::Value as Json;

/// A policy document as the text IAM takes: a string is sent as it is, an object as JSON text.
pub fn document_text(document: &Json) -> Result<String> {
    match document {
        Json::String(s) => Ok(s.clone()),
        doc @ Json::Object(_) => Ok(doc.to_string()),
        other => bail!("a policy document is a JSON object or its text, not {other}"),
    }
}

/// What `found` makes of each item `items` lists for each of the stack's own roles (someone
/// else's role under a stack name is the role's conflict, not its policies').
pub fn per_owned_role<'r, T: 'r, A, I: IntoIterator<Item = T>>(
    roles: &'r [RoleDetail],
    items: impl Fn(&'r RoleDetail) -> I,
    found: impl Fn(&RoleDetail, T) -> Found<A>,
) -> Vec<Found<A>> {
    let owned = roles.iter().filter(|r| !r.unowned);
    owned
        .flat_map(|r| items(r).into_iter().map(move |item| (r, item)))
        .map(|(r, item)| found(r, item))
        .collect()
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

/// Test helpers shared by the IAM kinds' tests.
#[cfg(test)]
pub(crate) mod test_support {
    use crate::model::{ID_TAG, STACK_TAG};
    use crate::snapshot::decode_document;
    use crate::tags::Tags;
    use aws_sdk_iam::types::{Role, Tag};
    use serde_json::Value as Json;

    /// `document` as IAM returns policy documents: JSON text, URL-encoded (RFC 3986).
    pub fn url_encoded(document: &Json) -> String {
        document
            .to_string()
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    }

    /// A role of stack `grpc-eks` as the snapshot reads it: GetRole's answer with `tags`, trust
    /// policy `trust` and `description`, its inline policies as GetRolePolicy returns them (URL-
    /// encoded), and its attached managed policy ARNs; `which` is the stack role it stands for.
    pub fn observed_role(
        name: &str,
        which: &str,
        tags: &Tags,
        trust: &Json,
        inline: &[(&str, &Json)],
        attached: &[&str],
        description: Option<&str>,
    ) -> crate::snapshot::RoleDetail {
        let tags = tags
            .0
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build().unwrap());
        let role = Role::builder()
            .role_name(name)
            .role_id("AROAEXAMPLEID")
            .arn(format!("arn:aws:iam::123456789012:role/{name}"))
            .path("/")
            .create_date(aws_smithy_types::DateTime::from_secs(0))
            .assume_role_policy_document(url_encoded(trust))
            .set_description(description.map(str::to_string))
            .set_tags(Some(tags.collect()))
            .build()
            .unwrap();
        let inline = inline
            .iter()
            .map(|(p, d)| (p.to_string(), decode_document(&url_encoded(d))))
            .collect();
        let attached = attached.iter().map(|a| a.to_string()).collect();
        crate::snapshot::role_detail(&role, inline, attached, which, "grpc-eks")
    }

    /// Tags marking a resource as `id` of stack `stack`.
    pub fn owned(stack: &str, id: &str) -> Tags {
        Tags::from_pairs([(STACK_TAG, stack), (ID_TAG, id)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::{absent_ok, gone_ok, AwsError};
    use serde_json::json;

    #[test]
    fn spec_documents_are_sent_as_json_text() {
        assert_eq!(
            document_text(&json!({"Version": "2012-10-17"})).unwrap(),
            r#"{"Version":"2012-10-17"}"#
        );
        // A string is sent as it is, not quoted again.
        assert_eq!(
            document_text(&json!("{\"Version\":\"2012-10-17\"}")).unwrap(),
            r#"{"Version":"2012-10-17"}"#
        );
        assert!(document_text(&json!(["not", "a", "policy"])).is_err());
        assert!(document_text(&Json::Null).is_err());
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
        assert!(gone_ok(Err::<(), _>(err("NoSuchEntity"))).is_ok());
        assert!(matches!(
            absent_ok(Err::<(), _>(err("NoSuchEntity"))),
            Ok(None)
        ));
        assert!(gone_ok(Err::<(), _>(err("DeleteConflict"))).is_err());
    }

    #[test]
    fn url_encoding_round_trips_through_the_snapshot_decoder() {
        let doc = json!({"Statement": [{"Resource": "arn:aws:s3:::x y+z%41"}]});
        let encoded = test_support::url_encoded(&doc);
        assert!(!encoded.contains('{'));
        assert_eq!(crate::snapshot::decode_document(&encoded), doc);
    }
}
