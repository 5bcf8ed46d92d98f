//! ALB listener rule: on the HTTPS listener, requests whose `content-type` header matches go to
//! their own target group (gRPC to the server), the rest to the listener's default.

use super::{arn_outputs, forward, found_by_arn};
use crate::aws::{delete_once, AwsResultExt};
use crate::kinds::{attrs, created, Change, Current, Found, Outputs, Resource, Snapshot, StepCtx};
use crate::retry::{not_found_yet, send_eventually, Budget};
use crate::tags::{untracked, Tagged, Tags};
use anyhow::Result;
use aws_sdk_elasticloadbalancingv2::types::{
    ActionTypeEnum, HttpHeaderConditionConfig, Rule, RuleCondition,
};
use serde::{Deserialize, Serialize};

/// ALB listener rule.
pub struct ListenerRule;

attrs! {
    /// What a listener rule is made of.
    pub struct ListenerRuleAttrs {
        /// The listener it belongs to.
        listener_arn: String => ForceNew,
        /// Its priority among the listener's rules (lowest first).
        priority: i32 => ForceNew,
        /// The request header it matches.
        header: HeaderMatch,
        /// The target group matching requests are forwarded to.
        target_group_arn: String,
        /// Its tags.
        tags: Tags,
    }
}

/// A match on one request header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderMatch {
    /// The header's name.
    pub name: String,
    /// Values that match (`*` and `?` wildcards), any of them.
    pub values: Vec<String>,
}

fn condition(h: &HeaderMatch) -> RuleCondition {
    RuleCondition::builder()
        .field("http-header")
        .http_header_config(
            HttpHeaderConditionConfig::builder()
                .http_header_name(&h.name)
                .set_values(Some(h.values.clone()))
                .build(),
        )
        .build()
}

impl Resource for ListenerRule {
    type Attrs = ListenerRuleAttrs;

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Found<Self::Attrs>>> {
        let read = |(listener, r): &(String, Rule), arn: &str, tags| {
            let attrs = attrs_of(listener, r, tags);
            // A rule has no name: one without the stack's tags is someone else's.
            Some((attrs.tags.identity(snap.stack(), &untracked(arn)), attrs))
        };
        let rules = snap.listener_rules().await?;
        found_by_arn(snap, rules, |(_, r)| r.rule_arn(), read).await
    }

    async fn create(&self, cx: &StepCtx<'_>, want: &Self::Attrs) -> Result<Outputs> {
        // A target group or listener created a moment ago may not be visible yet.
        let out = send_eventually(Budget::FRESH_ID, not_found_yet, "CreateRule", || {
            cx.aws
                .elb
                .create_rule()
                .listener_arn(&want.listener_arn)
                .priority(want.priority)
                .conditions(condition(&want.header))
                .actions(forward(&want.target_group_arn))
                .set_tags(Some(want.tags.to_elb()))
                .send()
        })
        .await?;
        let arn = created("CreateRule", out.rules().first().and_then(|r| r.rule_arn()))?;
        Ok(arn_outputs(arn))
    }

    async fn update(&self, cx: &StepCtx<'_>, c: &Change<Self::Attrs>) -> Result<Outputs> {
        let (have, want) = (&c.have, &c.want);
        if have.header != want.header || have.target_group_arn != want.target_group_arn {
            cx.aws
                .elb
                .modify_rule()
                .rule_arn(&c.physical_id)
                .conditions(condition(&want.header))
                .actions(forward(&want.target_group_arn))
                .send()
                .await
                .aws("ModifyRule")?;
        }
        c.retag(cx.aws, Tagged::Elb(&c.physical_id)).await
    }

    async fn delete(&self, cx: &StepCtx<'_>, c: &Current<Self::Attrs>) -> Result<()> {
        let req = cx.aws.elb.delete_rule().rule_arn(&c.physical_id);
        delete_once("DeleteRule", req.send()).await
    }
}

/// The rule's attributes as DescribeRules shows it (tags come from DescribeTags).
fn attrs_of(listener: &str, r: &Rule, tags: Tags) -> ListenerRuleAttrs {
    let header = r
        .conditions()
        .iter()
        .find_map(|c| c.http_header_config())
        .map(|h| HeaderMatch {
            name: h.http_header_name().unwrap_or_default().to_string(),
            values: h.values().to_vec(),
        });
    let target = r
        .actions()
        .iter()
        .find(|a| a.r#type() == Some(&ActionTypeEnum::Forward))
        .and_then(|a| a.target_group_arn());
    ListenerRuleAttrs {
        listener_arn: listener.to_string(),
        // "default" is the listener's own rule, which the snapshot leaves out.
        priority: r
            .priority()
            .and_then(|p| p.parse().ok())
            .unwrap_or_default(),
        header: header.unwrap_or(HeaderMatch {
            name: String::new(),
            values: Vec::new(),
        }),
        target_group_arn: target.unwrap_or_default().to_string(),
        tags,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests_typed::{resolved, richest_config};

    #[test]
    fn observed_attributes_equal_the_desired_ones() {
        // The rule exists only with a certificate, on the HTTPS listener.
        let graph = crate::stack::build(&richest_config(), "123456789012");
        let want: ListenerRuleAttrs = resolved(&graph, "rule/grpc").typed().unwrap();
        // As DescribeRules returns it.
        let r = Rule::builder()
            .rule_arn("arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/grpc-eks-alb/1/2/3")
            .priority("10")
            .conditions(condition(&want.header))
            .actions(forward("tg/grpc.arn"))
            .is_default(false)
            .build();
        assert_eq!(attrs_of("listener/https.arn", &r, want.tags.clone()), want);
        assert_eq!(want.header.values, ["application/grpc*"]);
    }
}
