//! ALB kinds, and the reads they share: the load balancer, the target groups and the listeners
//! are each described once per run, and all their tags come from a single DescribeTags.

pub mod listener;
pub mod load_balancer;
pub mod target_group;
pub mod target_group_attachment;

use crate::aws::{Aws, AwsResultExt};
use crate::kinds::Spec;
use crate::kinds::{tag_delta, TagDelta};
use crate::model::{LogicalId, ID_TAG, STACK_TAG};
use crate::naming;
use crate::retry::{eventually, not_found_yet, Budget};
use crate::snapshot::Snapshot;
use anyhow::Result;
use aws_sdk_elasticloadbalancingv2::types::{
    Listener as ElbListener, LoadBalancer as ElbLoadBalancer, Tag, TargetGroup as ElbTargetGroup,
};
use serde_json::{Map, Value as Json};
use std::collections::HashMap;
use std::sync::Arc;

pub use crate::snapshot::target_group_names;

/// The stack's ALB.
pub async fn describe_load_balancer(snap: &Snapshot) -> Result<Option<&ElbLoadBalancer>> {
    Ok(snap.load_balancer().await?)
}

/// The stack's target groups.
pub async fn describe_target_groups(snap: &Snapshot) -> Result<&[ElbTargetGroup]> {
    Ok(snap.target_groups().await?)
}

/// The stack's listeners.
pub async fn describe_listeners(snap: &Snapshot) -> Result<&[ElbListener]> {
    Ok(snap.listeners().await?)
}

/// Tags of every ALB resource found.
pub async fn describe_tags(snap: &Snapshot) -> Result<&HashMap<String, Vec<Tag>>> {
    Ok(snap.elb_tags().await?)
}

/// Tags as a JSON object, without the `aws:` ones AWS adds itself.
pub fn tags_json(tags: &[Tag]) -> Json {
    let map: Map<String, Json> = tags
        .iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default())))
        .filter(|(k, _)| !k.starts_with("aws:"))
        .map(|(k, v)| (k, Json::String(v.to_string())))
        .collect();
    Json::Object(map)
}

/// The value of tag `key`, if set.
pub fn tag<'a>(tags: &'a [Tag], key: &str) -> Option<&'a str> {
    tags.iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
}

/// Whether the resource carries this stack's ownership tag.
pub fn owned(tags: &[Tag], stack: &str) -> bool {
    tag(tags, STACK_TAG) == Some(stack)
}

/// The logical id from the `infra:id` tag of an owned resource; `fallback` (the id it would
/// have) otherwise.
pub fn logical_id(tags: &[Tag], stack: &str, fallback: &str) -> LogicalId {
    match tag(tags, ID_TAG) {
        Some(id) if owned(tags, stack) => LogicalId::new(id),
        _ => LogicalId::new(fallback),
    }
}

/// The spec's tags in the form create calls take.
pub fn spec_tags(spec: &Spec) -> Vec<Tag> {
    spec.tags()
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// Brings the resource's tags from `current` to the spec's: add what differs, remove what is gone.
pub async fn update_tags(aws: &Aws, arn: &str, current: Option<&Json>, spec: &Spec) -> Result<()> {
    let TagDelta { set, remove } = tag_delta(current, spec);
    let set: Vec<Tag> = set
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    if !set.is_empty() {
        eventually(Budget::FRESH_ID, not_found_yet, || async {
            aws.elb
                .add_tags()
                .resource_arns(arn)
                .set_tags(Some(set.clone()))
                .send()
                .await
                .aws("AddTags")
        })
        .await?;
    }
    if !remove.is_empty() {
        aws.elb
            .remove_tags()
            .resource_arns(arn)
            .set_tag_keys(Some(remove))
            .send()
            .await
            .aws("RemoveTags")?;
    }
    Ok(())
}

/// Outputs holding the ARN as both `id` and `arn`.
pub fn arn_outputs(arn: &str) -> crate::kinds::Outputs {
    crate::kinds::Outputs::from([
        ("id".to_string(), arn.to_string()),
        ("arn".to_string(), arn.to_string()),
    ])
}

/// A list of strings from the spec (subnet or security group ids).
pub fn str_list(spec: &Spec, key: &str) -> Vec<String> {
    spec.get(key)
        .and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(k: &str, v: &str) -> Tag {
        Tag::builder().key(k).value(v).build()
    }

    #[test]
    fn aws_tags_are_left_out() {
        let j = tags_json(&[t("aws:cloudformation:stack-name", "x"), t("Name", "s/alb")]);
        assert_eq!(j, serde_json::json!({"Name": "s/alb"}));
    }

    #[test]
    fn logical_id_is_trusted_only_on_owned_resources() {
        let ours = [t(STACK_TAG, "s"), t(ID_TAG, "tg/http")];
        assert_eq!(logical_id(&ours, "s", "x").as_str(), "tg/http");
        let other = [t(STACK_TAG, "other"), t(ID_TAG, "tg/grpc")];
        assert!(!owned(&other, "s"));
        assert_eq!(logical_id(&other, "s", "tg/http").as_str(), "tg/http");
        assert_eq!(logical_id(&[], "s", "alb").as_str(), "alb");
    }
}
