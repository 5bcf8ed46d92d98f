//! Target group attached to the node ASG: the node group's Auto Scaling group registers every
//! node it launches with the target group, so replaced nodes receive traffic without help.

use super::target_group::TargetGroup;
use crate::aws::{AwsError, AwsResultExt};
use crate::kinds::{Outputs, ResourceKind, Spec, StepCtx};
use crate::model::{Kind, LogicalId, Observed};
use crate::retry::{eventually, Budget};
use crate::snapshot::Snapshot;
use anyhow::Result;
use async_trait::async_trait;
use aws_sdk_autoscaling::types::TrafficSourceIdentifier;

/// Target group attached to the node ASG.
pub struct TargetGroupAttachment;

/// The traffic source type of an ELBv2 target group.
const ELBV2: &str = "elbv2";

/// The physical id: the pair, since the attachment has no id of its own.
fn physical_id(asg: &str, tg: &str) -> String {
    format!("{asg}|{tg}")
}

/// The inverse of [`physical_id`]; ARNs hold no `|`.
fn split_id(id: &str) -> Option<(&str, &str)> {
    id.split_once('|')
}

/// Auto Scaling answers a missing group with a ValidationError naming it.
fn group_gone(e: &AwsError) -> bool {
    e.is("ValidationError") && e.detail.contains("not found")
}

/// Another update of the group is in progress; it clears by itself.
fn contention(e: &AwsError) -> bool {
    e.is("ResourceContention")
}

fn source(tg: &str) -> TrafficSourceIdentifier {
    TrafficSourceIdentifier::builder()
        .identifier(tg)
        .r#type(ELBV2)
        .build()
}

#[async_trait]
impl ResourceKind for TargetGroupAttachment {
    fn force_new(&self) -> &'static [&'static str] {
        &["asg_name", "target_group_arn"]
    }

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Observed>> {
        let ng = snap.node_group().await?;
        let Some(asg) = ng
            .as_ref()
            .as_ref()
            .and_then(|ng| ng.resources())
            .and_then(|r| r.auto_scaling_groups().first())
            .and_then(|g| g.name())
        else {
            return Ok(Vec::new());
        };
        // Only attachments to the stack's own target groups are ours.
        let groups: Vec<Observed> = TargetGroup
            .observe(snap)
            .await?
            .into_iter()
            .filter(|tg| !tg.unowned)
            .collect();
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        let mut sources = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let r = snap
                .aws()
                .autoscaling
                .describe_traffic_sources()
                .auto_scaling_group_name(asg)
                .traffic_source_type(ELBV2)
                .set_next_token(token.take())
                .send()
                .await
                .aws("DescribeTrafficSources");
            let page = match r {
                Ok(page) => page,
                Err(e) if group_gone(&e) => return Ok(Vec::new()),
                Err(e) => return Err(e.into()),
            };
            sources.extend(page.traffic_sources.unwrap_or_default());
            match page.next_token {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => break,
            }
        }
        let mut out = Vec::new();
        for s in &sources {
            // On its way out: as good as detached.
            if matches!(s.state(), Some("Removing" | "Removed")) {
                continue;
            }
            let Some(arn) = s.identifier() else { continue };
            let Some(tg) = groups.iter().find(|g| g.physical_id == arn) else {
                continue;
            };
            let which = tg.id.as_str().strip_prefix("tg/").unwrap_or(tg.id.as_str());
            out.push(
                Observed::new(
                    LogicalId::new(format!("tg-attachment/{which}")),
                    Kind::TargetGroupAttachment,
                    physical_id(asg, arn),
                )
                .with("asg_name", asg)
                .with("target_group_arn", arn),
            );
        }
        Ok(out)
    }

    async fn create(&self, cx: &StepCtx<'_>, spec: &Spec) -> Result<Outputs> {
        let (asg, tg) = (spec.str("asg_name")?, spec.str("target_group_arn")?);
        // Attaching an already attached source succeeds, so retries are safe; the node group's
        // own scaling activity can briefly hold the group.
        eventually(Budget::FRESH_ID, contention, || async {
            cx.aws
                .autoscaling
                .attach_traffic_sources()
                .auto_scaling_group_name(asg)
                .traffic_sources(source(tg))
                .send()
                .await
                .map(|_| ())
                .aws("AttachTrafficSources")
        })
        .await?;
        Ok(Outputs::from([("id".to_string(), physical_id(asg, tg))]))
    }

    async fn update(
        &self,
        _cx: &StepCtx<'_>,
        current: &Observed,
        _spec: &Spec,
        _changed: &[String],
    ) -> Result<Outputs> {
        // Both attributes force replacement: there is nothing to change in place.
        Ok(Outputs::from([(
            "id".to_string(),
            current.physical_id.clone(),
        )]))
    }

    async fn delete(&self, cx: &StepCtx<'_>, current: &Observed) -> Result<()> {
        let Some((asg, tg)) = split_id(&current.physical_id) else {
            anyhow::bail!(
                "target group attachment id {:?} is not <asg>|<target group arn>",
                current.physical_id
            );
        };
        let r = eventually(Budget::FRESH_ID, contention, || async {
            cx.aws
                .autoscaling
                .detach_traffic_sources()
                .auto_scaling_group_name(asg)
                .traffic_sources(source(tg))
                .send()
                .await
                .map(|_| ())
                .aws("DetachTrafficSources")
        })
        .await;
        match r {
            Err(e) if group_gone(&e) || e.is_not_found() => Ok(()),
            other => Ok(other?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn physical_id_round_trips() {
        let tg = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/s-http/abc";
        let id = physical_id("eks-nodes-123", tg);
        assert_eq!(split_id(&id), Some(("eks-nodes-123", tg)));
    }

    #[test]
    fn missing_group_counts_as_gone() {
        let e = AwsError {
            op: "DetachTrafficSources",
            code: Some("ValidationError".into()),
            detail:
                "ValidationError: AutoScalingGroup name not found - AutoScalingGroup 'x' not found"
                    .into(),
        };
        assert!(group_gone(&e));
    }
}
