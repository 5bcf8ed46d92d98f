//! IAM reads: the stack's roles, each with its trust policy, inline policies, attached
//! managed policies and tags, read once for the four IAM kinds.

use super::Snapshot;
use crate::aws::{Aws, AwsError, AwsResultExt};
use crate::model::LogicalId;
use crate::naming;
use crate::tags::Tags;
use anyhow::Result;
use aws_sdk_iam::types::EntityType;
use serde_json::Value as Json;
use std::collections::HashMap;

/// The roles a stack has, by the suffix of their logical id (`role/<suffix>`).
pub const ROLES: [&str; 3] = ["cluster", "node", "codebuild"];

/// One of the stack's roles as IAM reports it, with everything attached to it.
#[derive(Clone, Debug, PartialEq)]
pub struct RoleDetail {
    /// Role name.
    pub name: String,
    /// Role ARN.
    pub arn: String,
    /// Description, empty when the role has none.
    pub description: String,
    /// Logical id: the `infra:id` tag, or `role/<suffix>` when the role is not tagged with one.
    pub logical_id: LogicalId,
    /// Decoded trust policy.
    pub trust: Json,
    /// Inline policies: name and decoded document.
    pub inline: Vec<(String, Json)>,
    /// ARNs of the attached managed policies.
    pub attached: Vec<String>,
    /// Tags, without `aws:` ones.
    pub tags: Tags,
    /// Has a stack role's name but not the stack's tag: someone else's.
    pub unowned: bool,
}

impl RoleDetail {
    /// The role's part of its sub-resources' logical ids (`codebuild` in `policy/codebuild/deploy`).
    pub fn suffix(&self) -> &str {
        self.logical_id
            .as_str()
            .strip_prefix("role/")
            .unwrap_or(self.logical_id.as_str())
    }
}

impl Snapshot {
    /// The stack's roles (owned or not), read once per snapshot for all four IAM kinds.
    pub async fn roles(&self) -> Result<&[RoleDetail]> {
        let roles = self
            .roles
            .get_or_try_init(|| read_roles(&self.aws, &self.stack))
            .await?;
        Ok(roles)
    }
}

/// GetAccountAuthorizationDetails (Filter=Role, paginated) for trust, policies and tags, and
/// ListRoles (paginated) for descriptions, which the former does not carry.
async fn read_roles(aws: &Aws, stack: &str) -> Result<Vec<RoleDetail>> {
    let wanted: HashMap<String, &'static str> = ROLES
        .iter()
        .map(|which| (naming::role(stack, which), *which))
        .collect();
    let details = async {
        let mut pages = aws
            .iam
            .get_account_authorization_details()
            .filter(EntityType::Role)
            .into_paginator()
            .send();
        let mut found = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.aws("GetAccountAuthorizationDetails")?;
            found.extend(
                page.role_detail_list()
                    .iter()
                    .filter(|r| r.role_name().is_some_and(|n| wanted.contains_key(n)))
                    .cloned(),
            );
        }
        Ok::<_, AwsError>(found)
    };
    let descriptions = async {
        let mut items = aws.iam.list_roles().into_paginator().items().send();
        let mut found = HashMap::new();
        while let Some(role) = items.next().await {
            let role = role.aws("ListRoles")?;
            if wanted.contains_key(role.role_name()) {
                found.insert(
                    role.role_name().to_string(),
                    role.description().unwrap_or_default().to_string(),
                );
            }
        }
        Ok::<_, AwsError>(found)
    };
    let (details, descriptions) = tokio::try_join!(details, descriptions)?;
    Ok(details
        .iter()
        .filter_map(|d| {
            let name = d.role_name()?;
            let which = wanted.get(name)?;
            let description = descriptions.get(name).map(String::as_str);
            Some(role_detail(d, which, stack, description))
        })
        .collect())
}

/// Our view of one IAM role detail; `which` is the stack role its name matched.
pub(crate) fn role_detail(
    d: &aws_sdk_iam::types::RoleDetail,
    which: &str,
    stack: &str,
    description: Option<&str>,
) -> RoleDetail {
    let tags = Tags::from(d.tags());
    let who = tags.identity(stack, &format!("role/{which}"));
    RoleDetail {
        name: d.role_name().unwrap_or_default().to_string(),
        arn: d.arn().unwrap_or_default().to_string(),
        description: description.unwrap_or_default().to_string(),
        logical_id: who.id,
        trust: decode_document(d.assume_role_policy_document().unwrap_or_default()),
        inline: d
            .role_policy_list()
            .iter()
            .map(|p| {
                (
                    p.policy_name().unwrap_or_default().to_string(),
                    decode_document(p.policy_document().unwrap_or_default()),
                )
            })
            .collect(),
        attached: d
            .attached_managed_policies()
            .iter()
            .filter_map(|p| p.policy_arn().map(str::to_string))
            .collect(),
        tags,
        unowned: !who.owned,
    }
}

/// A policy document as IAM returns it, as JSON. IAM URL-encodes documents (RFC 3986, so `+`
/// is a plus sign); some emulators return the trust policy raw, so raw JSON is accepted too.
/// Parsing makes whitespace and key order irrelevant; a document that is not JSON stays a
/// string, so it shows up as a change instead of failing the whole read.
pub fn decode_document(raw: &str) -> Json {
    let text = if raw.trim_start().starts_with('{') {
        raw.to_string()
    } else {
        percent_decode(raw)
    };
    serde_json::from_str(&text).unwrap_or(Json::String(text))
}

/// Decodes `%XX` escapes; malformed escapes are kept as they are.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let hex = |b: u8| (b as char).to_digit(16);
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ID_TAG, STACK_TAG};
    use aws_sdk_iam::types::{AttachedPolicy, PolicyDetail, Tag};
    use serde_json::json;

    // Verbatim from GetAccountAuthorizationDetails (moto 5.2.5, the same encoding as AWS).
    const ENCODED: &str = "%7B%22Version%22%3A%20%222012-10-17%22%2C%20%22Statement%22%3A%20%5B%7B%22Effect%22%3A%20%22Allow%22%2C%20%22Action%22%3A%20%5B%22ecr%3A%2A%22%5D%2C%20%22Resource%22%3A%20%22arn%3Aaws%3Aecr%3Aus-east-1%3A123456789012%3Arepository/x%20y%2Bz%22%7D%5D%7D";

    #[test]
    fn url_encoded_documents_are_decoded_and_parsed() {
        assert_eq!(
            decode_document(ENCODED),
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Action": ["ecr:*"],
                "Resource": "arn:aws:ecr:us-east-1:123456789012:repository/x y+z"}]})
        );
    }

    #[test]
    fn raw_json_documents_are_parsed_as_they_are() {
        // A raw document may hold a literal `%41`: it must not be decoded a second time.
        let raw =
            r#"{"Statement": [{"Sid": "a%41+b", "Effect": "Allow"}], "Version": "2012-10-17"}"#;
        assert_eq!(
            decode_document(raw),
            json!({"Version": "2012-10-17", "Statement": [{"Sid": "a%41+b", "Effect": "Allow"}]})
        );
    }

    #[test]
    fn whitespace_and_key_order_do_not_matter() {
        let a = decode_document(
            "%7B%0A%20%20%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D",
        );
        let b = decode_document(r#"{"Statement":[],"Version":"2012-10-17"}"#);
        assert_eq!(a, b);
    }

    #[test]
    fn percent_decoding_handles_utf8_and_malformed_escapes() {
        assert_eq!(percent_decode("caf%C3%A9"), "café");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
        assert_eq!(percent_decode("a+b"), "a+b");
    }

    #[test]
    fn a_document_that_is_not_json_stays_a_string() {
        assert_eq!(decode_document("not%20json"), json!("not json"));
    }

    fn tag(k: &str, v: &str) -> Tag {
        Tag::builder().key(k).value(v).build().unwrap()
    }

    fn detail(tags: Vec<Tag>) -> aws_sdk_iam::types::RoleDetail {
        aws_sdk_iam::types::RoleDetail::builder()
            .role_name("s-codebuild")
            .arn("arn:aws:iam::123456789012:role/s-codebuild")
            .assume_role_policy_document(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
            )
            .role_policy_list(
                PolicyDetail::builder()
                    .policy_name("deploy")
                    .policy_document("%7B%22Version%22%3A%222012-10-17%22%7D")
                    .build(),
            )
            .attached_managed_policies(
                AttachedPolicy::builder()
                    .policy_name("P")
                    .policy_arn("arn:aws:iam::aws:policy/P")
                    .build(),
            )
            .set_tags(Some(tags))
            .build()
    }

    #[test]
    fn owned_role_takes_its_id_from_its_tag() {
        let d = detail(vec![
            tag(STACK_TAG, "s"),
            tag(ID_TAG, "role/codebuild"),
            tag("aws:cloudformation:stack-name", "x"),
            tag("team", "a"),
        ]);
        let r = role_detail(&d, "codebuild", "s", Some("builds"));
        assert!(!r.unowned);
        assert_eq!(r.logical_id.as_str(), "role/codebuild");
        assert_eq!(r.suffix(), "codebuild");
        assert_eq!(r.description, "builds");
        assert_eq!(
            r.trust["Statement"][0]["Principal"]["Service"],
            "codebuild.amazonaws.com"
        );
        assert_eq!(
            r.inline,
            vec![("deploy".to_string(), json!({"Version": "2012-10-17"}))]
        );
        assert_eq!(r.attached, vec!["arn:aws:iam::aws:policy/P".to_string()]);
        assert_eq!(
            r.tags,
            Tags::from_pairs([(STACK_TAG, "s"), (ID_TAG, "role/codebuild"), ("team", "a")])
        );
    }

    #[test]
    fn role_of_another_stack_or_untagged_is_unowned_under_the_id_it_would_have() {
        for tags in [
            vec![],
            vec![tag(STACK_TAG, "other"), tag(ID_TAG, "role/elsewhere")],
        ] {
            let r = role_detail(&detail(tags), "codebuild", "s", None);
            assert!(r.unowned);
            assert_eq!(r.logical_id.as_str(), "role/codebuild");
            assert_eq!(r.description, "");
        }
    }
}
