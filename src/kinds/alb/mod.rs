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
use crate::observe::Snapshot;
use crate::retry::{eventually, not_found_yet, Budget};
use anyhow::Result;
use aws_sdk_elasticloadbalancingv2::types::{
    Listener as ElbListener, LoadBalancer as ElbLoadBalancer, Tag, TargetGroup as ElbTargetGroup,
};
use serde_json::{Map, Value as Json};
use std::collections::HashMap;
use std::sync::Arc;

/// The two target groups the stack may have, as `(which, name)`.
pub fn target_group_names(stack: &str) -> [(&'static str, String); 2] {
    [
        ("http", naming::target_group(stack, "http")),
        ("grpc", naming::target_group(stack, "grpc")),
    ]
}

/// The stack's ALB as DescribeLoadBalancers shows it, read once per run; `None` when absent.
pub async fn describe_load_balancer(snap: &Snapshot) -> Result<Arc<Option<ElbLoadBalancer>>> {
    snap.cached("elb.load_balancer", || async {
        let r = snap
            .aws()
            .elb
            .describe_load_balancers()
            .names(naming::load_balancer(snap.stack()))
            .send()
            .await
            .aws("DescribeLoadBalancers");
        match r {
            Ok(out) => Ok(out.load_balancers.unwrap_or_default().into_iter().next()),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    })
    .await
}

/// The stack's target groups (found by name), read once per run.
pub async fn describe_target_groups(snap: &Snapshot) -> Result<Arc<Vec<ElbTargetGroup>>> {
    snap.cached("elb.target_groups", || async {
        let names: Vec<String> = target_group_names(snap.stack())
            .into_iter()
            .map(|(_, n)| n)
            .collect();
        // Asking by name fails the whole call when one name is missing (the gRPC group exists
        // only with a certificate), so list them all: one call per 400 groups, however many of
        // the stack's exist.
        let mut pages = snap
            .aws()
            .elb
            .describe_target_groups()
            .page_size(400)
            .into_paginator()
            .items()
            .send();
        let mut out = Vec::new();
        while let Some(tg) = pages.next().await {
            let tg = tg.aws("DescribeTargetGroups")?;
            if tg
                .target_group_name()
                .is_some_and(|n| names.iter().any(|w| w == n))
            {
                out.push(tg);
            }
        }
        Ok(out)
    })
    .await
}

/// The listeners of the stack's ALB, read once per run; empty when there is no ALB.
pub async fn describe_listeners(snap: &Snapshot) -> Result<Arc<Vec<ElbListener>>> {
    snap.cached("elb.listeners", || async {
        let lb = describe_load_balancer(snap).await?;
        let Some(arn) = lb.as_ref().as_ref().and_then(|lb| lb.load_balancer_arn()) else {
            return Ok(Vec::new());
        };
        let mut pages = snap
            .aws()
            .elb
            .describe_listeners()
            .load_balancer_arn(arn)
            .into_paginator()
            .items()
            .send();
        let mut out = Vec::new();
        while let Some(item) = pages.next().await {
            match item.aws("DescribeListeners") {
                Ok(l) => out.push(l),
                // Deleted between the two reads: no listeners either.
                Err(e) if e.is_not_found() => return Ok(Vec::new()),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(out)
    })
    .await
}

/// Tags of every ALB resource found (ALB, target groups, listeners) by ARN, read once per run.
pub async fn describe_tags(snap: &Snapshot) -> Result<Arc<HashMap<String, Vec<Tag>>>> {
    snap.cached("elb.tags", || async {
        let (lb, tgs, listeners) = tokio::try_join!(
            describe_load_balancer(snap),
            describe_target_groups(snap),
            describe_listeners(snap)
        )?;
        let arns: Vec<String> = lb
            .as_ref()
            .iter()
            .filter_map(|lb| lb.load_balancer_arn())
            .chain(tgs.iter().filter_map(|t| t.target_group_arn()))
            .chain(listeners.iter().filter_map(|l| l.listener_arn()))
            .map(str::to_string)
            .collect();
        let mut out = HashMap::new();
        // DescribeTags takes at most 20 ARNs; the stack has at most 5.
        for chunk in arns.chunks(20) {
            let r = snap
                .aws()
                .elb
                .describe_tags()
                .set_resource_arns(Some(chunk.to_vec()))
                .send()
                .await
                .aws("DescribeTags")?;
            for d in r.tag_descriptions.unwrap_or_default() {
                if let Some(arn) = d.resource_arn {
                    out.insert(arn, d.tags.unwrap_or_default());
                }
            }
        }
        Ok(out)
    })
    .await
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
