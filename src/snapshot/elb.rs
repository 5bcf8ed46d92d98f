//! Elastic Load Balancing reads: the load balancer, the target groups, the listeners and the
//! HTTPS listener's rules are each described once per run, and all their tags come from a single
//! DescribeTags.

use super::{read_once, Snapshot};
use crate::aws::{absent_ok, Aws, AwsError, AwsResultExt};
use crate::naming;
use aws_sdk_elasticloadbalancingv2::operation::describe_load_balancers::DescribeLoadBalancersOutput;
use aws_sdk_elasticloadbalancingv2::types::{
    Listener, LoadBalancer, ProtocolEnum, Rule, Tag, TargetGroup,
};
use std::collections::HashMap;

/// The two target groups the stack may have, as `(which, name)`.
pub fn target_group_names(stack: &str) -> [(&'static str, String); 2] {
    [
        ("http", naming::target_group(stack, "http")),
        ("grpc", naming::target_group(stack, "grpc")),
    ]
}

impl Snapshot {
    /// The stack's ALB as DescribeLoadBalancers shows it; `None` when absent.
    pub async fn load_balancer(&self) -> Result<Option<&LoadBalancer>, AwsError> {
        let req = self.aws.elb.describe_load_balancers();
        let send = req.names(naming::load_balancer(&self.stack)).send();
        let first = |out: DescribeLoadBalancersOutput| out.load_balancers?.into_iter().next();
        read_once(
            &self.cells.load_balancer,
            "DescribeLoadBalancers",
            send,
            first,
        )
        .await
    }

    /// The stack's target groups, asked for by name, one call per name (a missing name fails
    /// the whole call, and the gRPC group exists only with a certificate): the calls do not grow
    /// with the target groups of the account.
    pub async fn target_groups(&self) -> Result<&[TargetGroup], AwsError> {
        let tgs = self
            .cells
            .target_groups
            .get_or_try_init(|| async {
                let reads = target_group_names(&self.stack).map(|(_, name)| async move {
                    let r = self
                        .aws
                        .elb
                        .describe_target_groups()
                        .names(name)
                        .send()
                        .await
                        .aws("DescribeTargetGroups");
                    Ok::<_, AwsError>(absent_ok(r)?.and_then(|out| out.target_groups))
                });
                let found = futures::future::try_join_all(reads).await?;
                Ok::<_, AwsError>(found.into_iter().flatten().flatten().collect())
            })
            .await?;
        Ok(tgs)
    }

    /// The listeners of the stack's ALB; empty when there is no ALB.
    pub async fn listeners(&self) -> Result<&[Listener], AwsError> {
        let listeners = self
            .cells
            .listeners
            .get_or_try_init(|| async {
                let Some(arn) = self
                    .load_balancer()
                    .await?
                    .and_then(|lb| lb.load_balancer_arn())
                else {
                    return Ok(Vec::new());
                };
                let mut pages = self
                    .aws
                    .elb
                    .describe_listeners()
                    .load_balancer_arn(arn)
                    .into_paginator()
                    .items()
                    .send();
                let mut out = Vec::new();
                while let Some(item) = pages.next().await {
                    match absent_ok(item.aws("DescribeListeners"))? {
                        Some(l) => out.push(l),
                        // Deleted between the two reads: no listeners either.
                        None => return Ok(Vec::new()),
                    }
                }
                Ok::<_, AwsError>(out)
            })
            .await?;
        Ok(listeners)
    }

    /// The rules other than the default of the stack's HTTPS listeners (the stack puts rules only
    /// there), as `(listener ARN, rule)`; empty without one.
    pub async fn listener_rules(&self) -> Result<&[(String, Rule)], AwsError> {
        let rules = self
            .cells
            .listener_rules
            .get_or_try_init(|| async {
                let https = self.listeners().await?.iter().filter_map(|l| {
                    let arn = l.listener_arn()?;
                    (l.protocol() == Some(&ProtocolEnum::Https)).then_some(arn)
                });
                let reads = https.map(|arn| async move {
                    let req = self.aws.elb.describe_rules().listener_arn(arn);
                    let r = req.send().await.aws("DescribeRules");
                    // A listener deleted since it was listed has no rules either.
                    let rules = absent_ok(r)?.and_then(|out| out.rules).unwrap_or_default();
                    Ok::<_, AwsError>(rules.into_iter().map(move |r| (arn.to_string(), r)))
                });
                let found = futures::future::try_join_all(reads).await?;
                let not_default = |(_, r): &(String, Rule)| r.is_default() != Some(true);
                Ok::<_, AwsError>(found.into_iter().flatten().filter(not_default).collect())
            })
            .await?;
        Ok(rules)
    }

    /// Tags of every ALB resource found (ALB, target groups, listeners, rules), by ARN.
    pub async fn elb_tags(&self) -> Result<&HashMap<String, Vec<Tag>>, AwsError> {
        self.cells
            .elb_tags
            .get_or_try_init(|| async {
                let (lb, tgs, listeners, rules) = tokio::try_join!(
                    self.load_balancer(),
                    self.target_groups(),
                    self.listeners(),
                    self.listener_rules()
                )?;
                let arns: Vec<String> = lb
                    .iter()
                    .filter_map(|lb| lb.load_balancer_arn())
                    .chain(tgs.iter().filter_map(|t| t.target_group_arn()))
                    .chain(listeners.iter().filter_map(|l| l.listener_arn()))
                    .chain(rules.iter().filter_map(|(_, r)| r.rule_arn()))
                    .map(str::to_string)
                    .collect();
                // The stack has at most 6.
                tags_of(&self.aws, &arns).await
            })
            .await
    }
}

/// The tags of every ELB resource in `arns`, by ARN: one DescribeTags per 20 ARNs, its limit.
pub async fn tags_of(aws: &Aws, arns: &[String]) -> Result<HashMap<String, Vec<Tag>>, AwsError> {
    let mut out = HashMap::new();
    for chunk in arns.chunks(20) {
        let r = aws
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
}
