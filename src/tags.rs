//! Tags: one type for every service's tag shape, the one rule that reads ownership and logical
//! id from them, and the one way to bring a resource's tags to what its spec wants.

use crate::aws::{Aws, AwsError, AwsResultExt};
use crate::model::{LogicalId, ID_TAG, STACK_TAG};
use crate::retry::{not_found_yet, send_eventually, Budget};
use anyhow::Result;
use aws_sdk_ec2::types::Tag as Ec2Tag;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// A resource's tags, without the `aws:` ones AWS adds itself (nobody may write those).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Tags(pub BTreeMap<String, String>);

/// Who a resource belongs to, as its tags say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The logical id it has in the stack.
    pub id: LogicalId,
    /// False when it has a name the stack uses but not the stack's tag: someone else's.
    pub owned: bool,
}

/// `to_<service>` methods building each SDK's tag list: key and value are optional in EC2, ELB
/// and CodeBuild, required (so the builder can fail) in IAM and ECR.
macro_rules! tags_to {
    (optional: $($(#[$doc:meta])* $name:ident -> $ty:ty;)*) => {$(
        $(#[$doc])*
        pub fn $name(&self) -> Vec<$ty> {
            let tag = |(k, v): (&String, &String)| <$ty>::builder().key(k).value(v).build();
            self.0.iter().map(tag).collect()
        }
    )*};
    (required: $($(#[$doc:meta])* $name:ident -> $ty:ty;)*) => {$(
        $(#[$doc])*
        pub fn $name(&self) -> Result<Vec<$ty>> {
            let tag = |(k, v): (&String, &String)| <$ty>::builder().key(k).value(v).build();
            Ok(self.0.iter().map(tag).collect::<Result<_, _>>()?)
        }
    )*};
}

impl Tags {
    /// Tags from `(key, value)` pairs, dropping the `aws:` ones.
    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Tags(
            pairs
                .into_iter()
                .filter(|(k, _)| !k.as_ref().starts_with("aws:"))
                .map(|(k, v)| (k.as_ref().to_string(), v.as_ref().to_string()))
                .collect(),
        )
    }

    /// The value of tag `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// The one ownership rule, the same for every service: a resource is the stack's when its
    /// `infra:stack` tag names the stack; its logical id is then its `infra:id` tag. Anything
    /// else gets `fallback`, the id the resource would have (so someone else's resource under
    /// the stack's name shows up as a conflict at that id).
    pub fn identity(&self, stack: &str, fallback: &str) -> Identity {
        let owned = self.get(STACK_TAG) == Some(stack);
        let id = match self.get(ID_TAG) {
            Some(id) if owned => id,
            _ => fallback,
        };
        Identity {
            id: LogicalId::new(id),
            owned,
        }
    }

    /// What must be set and removed to go from these tags to `want`.
    pub fn delta_to(&self, want: &Tags) -> TagDelta {
        TagDelta {
            set: Tags(
                want.0
                    .iter()
                    .filter(|(k, v)| self.0.get(*k) != Some(*v))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            remove: self
                .0
                .keys()
                .filter(|k| !want.0.contains_key(*k))
                .cloned()
                .collect(),
        }
    }

    /// As an EC2 create call takes them, so no untagged resource can exist even briefly.
    pub fn ec2_spec(
        &self,
        resource: aws_sdk_ec2::types::ResourceType,
    ) -> aws_sdk_ec2::types::TagSpecification {
        aws_sdk_ec2::types::TagSpecification::builder()
            .resource_type(resource)
            .set_tags(Some(self.to_ec2()))
            .build()
    }

    tags_to!(
        optional:
        /// As EC2 takes them.
        to_ec2 -> aws_sdk_ec2::types::Tag;
        /// As Elastic Load Balancing takes them.
        to_elb -> aws_sdk_elasticloadbalancingv2::types::Tag;
        /// As CodeBuild takes them.
        to_codebuild -> aws_sdk_codebuild::types::Tag;
    );
    tags_to!(
        required:
        /// As IAM takes them.
        to_iam -> aws_sdk_iam::types::Tag;
        /// As ECR takes them.
        to_ecr -> aws_sdk_ecr::types::Tag;
    );

    /// As EKS takes them (a plain map).
    pub fn to_map(&self) -> HashMap<String, String> {
        self.0.clone().into_iter().collect()
    }
}

/// `From` for SDK tag types, by the shape of their key and value: optional in EC2, ELB and
/// CodeBuild (a tag without a key is skipped), required in IAM and ECR.
macro_rules! tags_from {
    (optional: $($ty:ty),*) => {$(
        impl From<&[$ty]> for Tags {
            fn from(tags: &[$ty]) -> Self {
                Tags::from_pairs(
                    tags.iter()
                        .filter_map(|t| Some((t.key()?, t.value().unwrap_or_default()))),
                )
            }
        }
    )*};
    (required: $($ty:ty),*) => {$(
        impl From<&[$ty]> for Tags {
            fn from(tags: &[$ty]) -> Self {
                Tags::from_pairs(tags.iter().map(|t| (t.key(), t.value())))
            }
        }
    )*};
}
tags_from!(
    optional: aws_sdk_ec2::types::Tag,
    aws_sdk_elasticloadbalancingv2::types::Tag,
    aws_sdk_codebuild::types::Tag
);
tags_from!(required: aws_sdk_iam::types::Tag, aws_sdk_ecr::types::Tag);

impl From<Option<&HashMap<String, String>>> for Tags {
    fn from(tags: Option<&HashMap<String, String>>) -> Self {
        Tags::from_pairs(tags.into_iter().flatten())
    }
}

/// The logical id of a resource found by the stack tag that carries no `infra:id`: unique, and
/// never one the stack wants, so the plan shows it as not wanted.
pub fn untracked(physical_id: &str) -> String {
    format!("untracked/{physical_id}")
}

/// The tag calls that bring a resource's tags from what it has to what the spec wants.
#[derive(Debug, Default, PartialEq)]
pub struct TagDelta {
    /// Tags to add or overwrite.
    pub set: Tags,
    /// Keys to remove.
    pub remove: Vec<String>,
}

/// A resource whose tags are written with its service's own tag calls.
#[derive(Clone, Copy, Debug)]
pub enum Tagged<'a> {
    /// An EC2 resource, by id.
    Ec2(&'a str),
    /// An IAM role, by name.
    IamRole(&'a str),
    /// An EKS resource, by ARN.
    Eks(&'a str),
    /// An Elastic Load Balancing resource, by ARN.
    Elb(&'a str),
    /// An ECR repository, by ARN.
    Ecr(&'a str),
    /// A CloudWatch Logs log group, by ARN (without the `:*` DescribeLogGroups adds to `arn`).
    Logs(&'a str),
}

/// Brings the tags of `target` from `have` to `want`: sets what differs, removes what is gone,
/// and makes no call at all when they already match.
/// CodeBuild is not here: it replaces a project's tags whole in UpdateProject.
pub async fn sync(aws: &Aws, target: Tagged<'_>, have: &Tags, want: &Tags) -> Result<()> {
    let TagDelta { set, remove } = have.delta_to(want);
    if !set.0.is_empty() {
        add(aws, target, &set).await?;
    }
    if !remove.is_empty() {
        drop_keys(aws, target, remove).await?;
    }
    Ok(())
}

/// Adds or overwrites `set` on `target`.
async fn add(aws: &Aws, target: Tagged<'_>, set: &Tags) -> Result<()> {
    match target {
        // EC2 and ELB ids are eventually consistent right after a create.
        Tagged::Ec2(id) => {
            let tags = Some(set.to_ec2());
            let req = aws.ec2.create_tags().resources(id).set_tags(tags);
            fresh("CreateTags", || req.clone().send()).await?;
        }
        Tagged::Elb(arn) => {
            let tags = Some(set.to_elb());
            let req = aws.elb.add_tags().resource_arns(arn).set_tags(tags);
            fresh("AddTags", || req.clone().send()).await?;
        }
        Tagged::IamRole(name) => {
            let tags = Some(set.to_iam()?);
            let req = aws.iam.tag_role().role_name(name).set_tags(tags);
            req.send().await.aws("TagRole")?;
        }
        Tagged::Eks(arn) => {
            let req = aws.eks.tag_resource().resource_arn(arn);
            req.set_tags(Some(set.to_map()))
                .send()
                .await
                .aws("TagResource")?;
        }
        Tagged::Ecr(arn) => {
            let tags = Some(set.to_ecr()?);
            let req = aws.ecr.tag_resource().resource_arn(arn).set_tags(tags);
            req.send().await.aws("TagResource")?;
        }
        Tagged::Logs(arn) => {
            let tags = Some(set.to_map());
            let req = aws.logs.tag_resource().resource_arn(arn).set_tags(tags);
            req.send().await.aws("TagResource")?;
        }
    }
    Ok(())
}

/// Sends a tag call for a resource that may have been created a moment ago.
async fn fresh<T, E, R, Fut>(op: &'static str, send: impl Fn() -> Fut) -> Result<T, AwsError>
where
    Fut: std::future::Future<Output = Result<T, SdkError<E, R>>>,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    send_eventually(Budget::FRESH_ID, not_found_yet, op, send).await
}

/// Removes the tags `keys` from `target`.
async fn drop_keys(aws: &Aws, target: Tagged<'_>, keys: Vec<String>) -> Result<()> {
    let some = Some(keys);
    match target {
        Tagged::Ec2(id) => {
            let tags = some
                .into_iter()
                .flatten()
                .map(|k| Ec2Tag::builder().key(k).build());
            let req = aws.ec2.delete_tags().resources(id);
            req.set_tags(Some(tags.collect()))
                .send()
                .await
                .aws("DeleteTags")?;
        }
        Tagged::Elb(arn) => {
            let req = aws.elb.remove_tags().resource_arns(arn).set_tag_keys(some);
            req.send().await.aws("RemoveTags")?;
        }
        Tagged::IamRole(name) => {
            let req = aws.iam.untag_role().role_name(name).set_tag_keys(some);
            req.send().await.aws("UntagRole")?;
        }
        Tagged::Eks(arn) => {
            let req = aws.eks.untag_resource().resource_arn(arn);
            req.set_tag_keys(some).send().await.aws("UntagResource")?;
        }
        Tagged::Ecr(arn) => {
            let req = aws.ecr.untag_resource().resource_arn(arn);
            req.set_tag_keys(some).send().await.aws("UntagResource")?;
        }
        Tagged::Logs(arn) => {
            let req = aws.logs.untag_resource().resource_arn(arn);
            req.set_tag_keys(some).send().await.aws("UntagResource")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        Tags::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn aws_tags_are_dropped_from_every_shape() {
        let ec2 = [aws_sdk_ec2::types::Tag::builder()
            .key("aws:cloudformation:stack-name")
            .value("x")
            .build()];
        assert_eq!(Tags::from(&ec2[..]), Tags::default());
        let eks = HashMap::from([
            ("aws:x".to_string(), "1".to_string()),
            ("team".to_string(), "a".to_string()),
        ]);
        assert_eq!(Tags::from(Some(&eks)), tags(&[("team", "a")]));
        assert_eq!(Tags::from(None), Tags::default());
    }

    #[test]
    fn identity_needs_the_stack_tag_and_falls_back_to_the_expected_id() {
        let owned = tags(&[(STACK_TAG, "s"), (ID_TAG, "eks/cluster")]);
        assert_eq!(
            owned.identity("s", "x"),
            Identity {
                id: LogicalId::new("eks/cluster"),
                owned: true
            }
        );
        let other = owned.identity("t", "eks/cluster");
        assert!(!other.owned);
        let foreign = tags(&[(STACK_TAG, "t"), (ID_TAG, "bogus")]).identity("s", "ecr/repository");
        assert_eq!(foreign.id.as_str(), "ecr/repository");
        assert_eq!(
            tags(&[(STACK_TAG, "s")])
                .identity("s", "role/node")
                .id
                .as_str(),
            "role/node"
        );
    }

    #[test]
    fn delta_sets_what_differs_and_removes_what_is_gone() {
        let have = tags(&[("a", "1"), ("b", "old"), ("gone", "x")]);
        let want = tags(&[("a", "1"), ("b", "new"), ("c", "3")]);
        let d = have.delta_to(&want);
        assert_eq!(d.set, tags(&[("b", "new"), ("c", "3")]));
        assert_eq!(d.remove, vec!["gone".to_string()]);
        assert_eq!(want.delta_to(&want), TagDelta::default());
    }
}
