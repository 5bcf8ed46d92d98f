//! ALB kinds. Their reads (the load balancer, the target groups, the listeners, and all their
//! tags in one DescribeTags) come from the snapshot.

pub mod listener;
pub mod load_balancer;
pub mod target_group;
pub mod target_group_attachment;

use crate::kinds::Outputs;
use crate::tags::Tags;
use aws_sdk_elasticloadbalancingv2::types::Tag;
use std::collections::HashMap;

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
