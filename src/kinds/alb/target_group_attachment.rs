//! Target group attached to the node ASG: the node group's Auto Scaling group registers every
//! node it launches with the target group, so replaced nodes receive traffic without help.

use super::{tags_of, target_group};
use crate::aws::{gone_ok, Aws, AwsError, AwsResultExt};
use crate::kinds::{attrs, Change, Current, Found, Outputs, Resource, Snapshot, StepCtx};
use crate::model::LogicalId;
use crate::retry::{poll_until, send_eventually, Budget};
use anyhow::Result;
use aws_sdk_autoscaling::types::{TrafficSourceIdentifier, TrafficSourceState};
use std::time::Duration;

/// Target group attached to the node ASG.
pub struct TargetGroupAttachment;

attrs! {
    /// What an attachment joins.
    pub struct TargetGroupAttachmentAttrs {
        /// The node group's Auto Scaling group.
        asg_name: String => ForceNew,
        /// The target group its nodes register with.
        target_group_arn: String => ForceNew,
    }
}

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

/// The attachments among the group's traffic sources, to the stack's own target groups given
/// as `(logical id, ARN)`.
fn attachments(
    asg: &str,
    sources: &[TrafficSourceState],
    groups: &[(LogicalId, String)],
) -> Vec<Found<TargetGroupAttachmentAttrs>> {
    let mut out = Vec::new();
    for s in sources {
        // On its way out: as good as detached.
        if matches!(s.state(), Some("Removing" | "Removed")) {
            continue;
        }
        let Some(arn) = s.identifier() else { continue };
        let Some((tg, _)) = groups.iter().find(|(_, a)| a == arn) else {
            continue;
        };
        let which = tg.as_str().strip_prefix("tg/").unwrap_or(tg.as_str());
        let mut found = Found::new(
            LogicalId::new(format!("tg-attachment/{which}")),
            physical_id(asg, arn),
            TargetGroupAttachmentAttrs {
                asg_name: asg.to_string(),
                target_group_arn: arn.to_string(),
            },
        );
        // Left registering by an interrupted run: the group it replaces goes only once it is
        // registered.
        if s.state() == Some("Adding") {
            found.coming_up("Adding", "Added");
        }
        out.push(found);
    }
    out
}

/// The target groups attached to Auto Scaling group `asg`, with their state; none when the
/// group is gone (a node group read a moment ago may have been deleted since).
async fn traffic_sources(aws: &Aws, asg: &str) -> Result<Vec<TrafficSourceState>> {
    let mut pages = aws
        .autoscaling
        .describe_traffic_sources()
        .auto_scaling_group_name(asg)
        .traffic_source_type(ELBV2)
        .into_paginator()
        .send();
    let mut sources = Vec::new();
    while let Some(page) = pages.next().await {
        match page.aws("DescribeTrafficSources") {
            Ok(page) => sources.extend(page.traffic_sources.unwrap_or_default()),
            Err(e) if group_gone(&e) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(sources)
}

/// The state of target group `tg` among `sources` (`Adding`, `Added`, `InService`, ...).
fn state_of<'a>(sources: &'a [TrafficSourceState], tg: &str) -> Option<&'a str> {
    sources
        .iter()
        .find(|s| s.identifier() == Some(tg))
        .and_then(|s| s.state())
}

/// True when a source in `state` takes traffic as well as one `before` did: registered, and in
/// service (an instance passed the target group's health check) if that one was.
fn takes_over(state: Option<&str>, before: Option<&str>) -> bool {
    match (state, before) {
        (Some("InService"), _) => true,
        (Some("Added"), Some("InService")) => false,
        (Some("Added"), _) => true,
        _ => false,
    }
}

/// How long a new node group's instances may take to register and pass the health check
/// (the default check needs 5 passes 30 s apart, after the instance has booted).
const TAKEOVER: Duration = Duration::from_secs(15 * 60);

/// Waits until `asg`'s instances are registered with target group `tg`, and in service too when
/// the group it takes over from was (`before`, that group's state).
async fn wait_taking_over(
    cx: &StepCtx<'_>,
    asg: &str,
    tg: &str,
    before: Option<&str>,
) -> Result<()> {
    let healthy = before == Some("InService");
    let ready = || async {
        let now = traffic_sources(cx.aws, asg).await?;
        Ok(takes_over(state_of(&now, tg), before).then_some(()))
    };
    // Registration is usually done by the first look: say nothing unless it is not.
    if ready().await?.is_some() {
        return Ok(());
    }
    let check = if healthy {
        " and pass the health check"
    } else {
        ""
    };
    cx.note(&format!("waiting for {asg}'s instances to register{check}"));
    poll_until(&format!("{asg} to take traffic from {tg}"), TAKEOVER, ready).await
}

/// Attaches the target group and waits until the group's instances take over from a source in
/// state `before` (see [`takes_over`]).
async fn attach(
    cx: &StepCtx<'_>,
    want: &TargetGroupAttachmentAttrs,
    before: Option<&str>,
) -> Result<Outputs> {
    let (asg, tg) = (&want.asg_name, &want.target_group_arn);
    // Attaching an already attached source succeeds, so retries are safe; the node group's own
    // scaling activity can briefly hold the group.
    send_eventually(Budget::FRESH_ID, contention, "AttachTrafficSources", || {
        cx.aws
            .autoscaling
            .attach_traffic_sources()
            .auto_scaling_group_name(asg)
            .traffic_sources(source(tg))
            .send()
    })
    .await?;
    wait_taking_over(cx, asg, tg, before).await?;
    Ok(Outputs::from([("id".to_string(), physical_id(asg, tg))]))
}

impl Resource for TargetGroupAttachment {
    type Attrs = TargetGroupAttachmentAttrs;

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Found<Self::Attrs>>> {
        // Two node groups exist while one replaces the other: each group's attachments count.
        let asgs: Vec<&str> = snap
            .node_groups()
            .await?
            .iter()
            .filter_map(|ng| ng.resources()?.auto_scaling_groups().first()?.name())
            .collect();
        if asgs.is_empty() {
            return Ok(Vec::new());
        }
        // Only attachments to the stack's own target groups are ours.
        let all_tags = snap.elb_tags().await?;
        let groups: Vec<(LogicalId, String)> = snap
            .target_groups()
            .await?
            .iter()
            .filter_map(|tg| {
                let arn = tg.target_group_arn()?;
                let who = target_group::identity(tg, &tags_of(all_tags, arn), snap.stack())?;
                who.owned.then(|| (who.id, arn.to_string()))
            })
            .collect();
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        let reads = asgs.iter().map(|asg| async {
            let sources = traffic_sources(snap.aws(), asg).await?;
            Ok::<_, anyhow::Error>(attachments(asg, &sources, &groups))
        });
        let found = futures::future::try_join_all(reads).await?;
        Ok(found.into_iter().flatten().collect())
    }

    async fn create(&self, cx: &StepCtx<'_>, want: &Self::Attrs) -> Result<Outputs> {
        // Complete means the nodes are registered (the next plan sees nothing left to do).
        attach(cx, want, None).await
    }

    async fn create_replacement(
        &self,
        cx: &StepCtx<'_>,
        want: &Self::Attrs,
        old: &Current<Self::Attrs>,
    ) -> Result<Outputs> {
        // The old group is detached once this returns: its successor must take the traffic
        // as well as it does, or the target group is left with nothing healthy behind it.
        let before = traffic_sources(cx.aws, &old.attrs.asg_name).await?;
        let before = state_of(&before, &old.attrs.target_group_arn);
        attach(cx, want, before).await
    }

    async fn update(&self, cx: &StepCtx<'_>, c: &Change<Self::Attrs>) -> Result<Outputs> {
        // Both attributes force replacement: an update only waits for one still registering.
        if c.pending.is_some() {
            wait_taking_over(cx, &c.have.asg_name, &c.have.target_group_arn, None).await?;
        }
        Ok(Outputs::from([("id".to_string(), c.physical_id.clone())]))
    }

    async fn delete(&self, cx: &StepCtx<'_>, c: &Current<Self::Attrs>) -> Result<()> {
        let Some((asg, tg)) = split_id(&c.physical_id) else {
            anyhow::bail!(
                "target group attachment id {:?} is not <asg>|<target group arn>",
                c.physical_id
            );
        };
        let r = send_eventually(Budget::FRESH_ID, contention, "DetachTrafficSources", || {
            cx.aws
                .autoscaling
                .detach_traffic_sources()
                .auto_scaling_group_name(asg)
                .traffic_sources(source(tg))
                .send()
        })
        .await;
        match r {
            Err(e) if group_gone(&e) => Ok(()),
            other => Ok(gone_ok(other)?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests_typed::desired;

    #[test]
    fn observed_attributes_equal_the_desired_ones() {
        let want: TargetGroupAttachmentAttrs = desired("tg-attachment/http");
        // As DescribeTrafficSources returns the node group's attached target group.
        let state = |arn: &str, state: &str| {
            TrafficSourceState::builder()
                .identifier(arn)
                .r#type(ELBV2)
                .state(state)
                .build()
        };
        let sources = [
            state("tg/http.arn", "InService"),
            // Leaving, or not the stack's: not an attachment of the stack.
            state("tg/grpc.arn", "Removing"),
            state("arn:someone-elses", "InService"),
        ];
        let groups = [
            (LogicalId::new("tg/http"), "tg/http.arn".to_string()),
            (LogicalId::new("tg/grpc"), "tg/grpc.arn".to_string()),
        ];
        let found = attachments("eks/nodegroup.asg_name", &sources, &groups);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id.as_str(), "tg-attachment/http");
        assert_eq!(found[0].physical_id, "eks/nodegroup.asg_name|tg/http.arn");
        assert_eq!(found[0].attrs, want);
    }

    #[test]
    fn a_successor_takes_over_once_registered_and_in_service_if_its_predecessor_was() {
        assert!(!takes_over(Some("Adding"), None));
        assert!(takes_over(Some("Added"), None));
        assert!(takes_over(Some("Added"), Some("Added")));
        assert!(!takes_over(Some("Added"), Some("InService")));
        assert!(takes_over(Some("InService"), Some("InService")));
        assert!(!takes_over(None, Some("InService")));
        assert!(!takes_over(Some("Removing"), None));
    }

    #[test]
    fn an_attachment_still_registering_is_waited_for() {
        let sources = [TrafficSourceState::builder()
            .identifier("tg/http.arn")
            .r#type(ELBV2)
            .state("Adding")
            .build()];
        let groups = [(LogicalId::new("tg/http"), "tg/http.arn".to_string())];
        let found = attachments("asg", &sources, &groups);
        assert!(found[0].pending.is_some());
    }

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
