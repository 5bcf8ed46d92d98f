//! IAM reads: the stack's roles, each with its trust policy, inline policies, attached
//! managed policies and tags, read once for the four IAM kinds.

use super::Snapshot;
use crate::aws::{absent_ok, Aws, AwsError, AwsResultExt};
use crate::model::LogicalId;
use crate::naming;
use crate::tags::Tags;
use anyhow::Result;
use serde_json::Value as Json;
use std::future::Future;

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
            .cells
            .roles
            .get_or_try_init(|| read_roles(&self.aws, &self.stack))
            .await?;
        Ok(roles)
    }
}

/// Each of the stack's roles by name, concurrently: GetRole (trust, description, tags) with
/// ListRolePolicies and ListAttachedRolePolicies, then GetRolePolicy for each inline policy. The
/// calls are bounded by the stack's three roles, however many roles the account holds.
async fn read_roles(aws: &Aws, stack: &str) -> Result<Vec<RoleDetail>> {
    let reads = ROLES.iter().map(|which| read_role(aws, stack, which));
    let found = futures::future::try_join_all(reads).await?;
    Ok(found.into_iter().flatten().collect())
}

/// One stack role, `None` when no role has its name.
async fn read_role(aws: &Aws, stack: &str, which: &str) -> Result<Option<RoleDetail>> {
    let name = naming::role(stack, which);
    let role = async {
        let r = aws.iam.get_role().role_name(&name).send().await;
        Ok::<_, AwsError>(absent_ok(r.aws("GetRole"))?.and_then(|out| out.role))
    };
    let inline_names = async {
        let pages = aws.iam.list_role_policies().role_name(&name);
        let names = pages.into_paginator().items().send().try_collect().await;
        names.aws("ListRolePolicies")
    };
    let attached = async {
        let pages = aws.iam.list_attached_role_policies().role_name(&name);
        let policies = pages.into_paginator().items().send().try_collect().await;
        let policies = policies.aws("ListAttachedRolePolicies")?;
        let arns: Vec<String> = policies.into_iter().filter_map(|p| p.policy_arn).collect();
        Ok::<_, AwsError>(arns)
    };
    // The two lists fail with NoSuchEntity exactly when the role is absent.
    let (role, inline_names, attached) =
        tokio::try_join!(role, absent(inline_names), absent(attached))?;
    let Some(role) = role else {
        return Ok(None);
    };
    let documents = inline_names.unwrap_or_default().into_iter().map(|policy| {
        let name = &name;
        async move {
            let out = aws
                .iam
                .get_role_policy()
                .role_name(name)
                .policy_name(&policy)
                .send()
                .await;
            let document = out.aws("GetRolePolicy")?.policy_document;
            Ok::<_, AwsError>((policy, decode_document(&document)))
        }
    });
    let inline = futures::future::try_join_all(documents).await?;
    Ok(Some(role_detail(
        &role,
        inline,
        attached.unwrap_or_default(),
        which,
        stack,
    )))
}

/// The result of `read`, `None` when what it lists belongs to a role that does not exist.
async fn absent<T>(read: impl Future<Output = Result<T, AwsError>>) -> Result<Option<T>, AwsError> {
    absent_ok(read.await)
}

/// Our view of one IAM role; `which` is the stack role its name matched.
pub(crate) fn role_detail(
    role: &aws_sdk_iam::types::Role,
    inline: Vec<(String, Json)>,
    attached: Vec<String>,
    which: &str,
    stack: &str,
) -> RoleDetail {
    let tags = Tags::from(role.tags());
    let who = tags.identity(stack, &format!("role/{which}"));
    RoleDetail {
        name: role.role_name().to_string(),
        arn: role.arn().to_string(),
        description: role.description().unwrap_or_default().to_string(),
        logical_id: who.id,
        trust: decode_document(role.assume_role_policy_document().unwrap_or_default()),
        inline,
        attached,
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
    use aws_sdk_iam::types::{Role, Tag};
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

    /// As GetRole returns the stack's CodeBuild role (moto 5, same shape as AWS).
    fn role(tags: Vec<Tag>, description: Option<&str>) -> Role {
        Role::builder()
            .path("/")
            .role_name("s-codebuild")
            .role_id("AROA000000000000000")
            .arn("arn:aws:iam::123456789012:role/s-codebuild")
            .create_date(aws_smithy_types::DateTime::from_secs(0))
            .assume_role_policy_document(
                "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22codebuild.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D",
            )
            .set_description(description.map(str::to_string))
            .set_tags(Some(tags))
            .build()
            .unwrap()
    }

    fn inline() -> Vec<(String, Json)> {
        vec![(
            "deploy".to_string(),
            decode_document("%7B%22Version%22%3A%222012-10-17%22%7D"),
        )]
    }

    #[test]
    fn owned_role_takes_its_id_from_its_tag() {
        let tags = vec![
            tag(STACK_TAG, "s"),
            tag(ID_TAG, "role/codebuild"),
            tag("aws:cloudformation:stack-name", "x"),
            tag("team", "a"),
        ];
        let attached = vec!["arn:aws:iam::aws:policy/P".to_string()];
        let r = role_detail(
            &role(tags, Some("builds")),
            inline(),
            attached,
            "codebuild",
            "s",
        );
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
            let r = role_detail(&role(tags, None), inline(), vec![], "codebuild", "s");
            assert!(r.unowned);
            assert_eq!(r.logical_id.as_str(), "role/codebuild");
            assert_eq!(r.description, "");
        }
    }
}
