//! ALB kinds. Their reads (the load balancer, the target groups, the listeners and their rules,
//! and all their tags in one DescribeTags) come from the snapshot.

pub mod listener;
pub mod listener_rule;
pub mod load_balancer;
pub mod target_group;
pub mod target_group_attachment;

use crate::kinds::{Found, Outputs, Snapshot};
use crate::tags::{Identity, Tags};
use anyhow::Result;
use aws_sdk_elasticloadbalancingv2::types::{Action, ActionTypeEnum, Tag};
use std::collections::HashMap;

/// The resources of `items` that have an ARN, each identified by `read` (`None`: not one the
/// stack tracks) from its tags out of the snapshot's one DescribeTags, with its ARN as physical
/// id and `arn` output. DescribeTags is not needed, so not asked, when there are no items.
async fn found_by_arn<T, A>(
    snap: &Snapshot,
    items: &[T],
    arn: impl Fn(&T) -> Option<&str>,
    read: impl Fn(&T, &str, Tags) -> Option<(Identity, A)>,
) -> Result<Vec<Found<A>>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let all_tags = snap.elb_tags().await?;
    let found = items.iter().filter_map(|item| {
        let arn = arn(item)?;
        let (who, attrs) = read(item, arn, tags_of(all_tags, arn))?;
        Some(Found::identified(who, arn, attrs).output("arn", arn))
    });
    Ok(found.collect())
}

/// The action forwarding to target group `tg`.
fn forward(tg: &str) -> Action {
    Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .target_group_arn(tg)
        .build()
}

/// Outputs holding the ARN as both `id` and `arn`.
pub fn arn_outputs(arn: &str) -> Outputs {
    Outputs::from([
        ("id".to_string(), arn.to_string()),
        ("arn".to_string(), arn.to_string()),
    ])
}

/// The tags of the resource with this ARN, out of the snapshot's one DescribeTags.
fn tags_of(all: &HashMap<String, Vec<Tag>>, arn: &str) -> Tags {
    Tags::from(all.get(arn).map(Vec::as_slice).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_looked_up_by_arn() {
        let t = |k: &str, v: &str| Tag::builder().key(k).value(v).build();
        let all = HashMap::from([(
            "arn:a".to_string(),
            vec![t("aws:cloudformation:stack-name", "x"), t("Name", "s/alb")],
        )]);
        assert_eq!(
            tags_of(&all, "arn:a"),
            Tags::from_pairs([("Name", "s/alb")])
        );
        assert_eq!(tags_of(&all, "arn:b"), Tags::default());
    }
}
