//! ALB target group: HTTP/1.1 to the service's NodePort, or gRPC (only usable behind HTTPS).

use super::{arn_outputs, found_by_arn};
use crate::aws::AwsResultExt;
use crate::kinds::{
    attrs, created, enum_text, Change, Current, Found, Outputs, Resource, Snapshot, StepCtx,
};
use crate::retry::{delete_eventually, not_found_yet, send_eventually, Budget};
use crate::snapshot::target_group_names;
use crate::tags::{Identity, Tagged, Tags};
use anyhow::Result;
use aws_sdk_elasticloadbalancingv2::types::{
    Matcher, ProtocolEnum, TargetGroup as ElbTargetGroup, TargetTypeEnum,
};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// ALB target group.
pub struct TargetGroup;

attrs! {
    /// What a target group is made of.
    pub struct TargetGroupAttrs {
        /// Its name, unique in the account and region.
        name: String => ForceNew,
        /// The protocol to the targets (`HTTP`).
        protocol: String => ForceNew,
        /// `HTTP1` or `GRPC`.
        protocol_version: String => ForceNew,
        /// The port traffic goes to on the targets (the service's NodePort).
        port: i32 => ForceNew,
        /// The VPC of its targets.
        vpc_id: String => ForceNew,
        /// `instance`: the nodes are the targets.
        target_type: String => ForceNew,
        /// How the ALB checks a target.
        health_check: HealthCheck,
        /// Its tags.
        tags: Tags,
    }
}

/// A target group's health check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthCheck {
    /// The path (gRPC: the health service's method) requested.
    pub path: String,
    /// The protocol of the check (`HTTP`).
    pub protocol: String,
    /// The port, or `traffic-port`.
    pub port: String,
    /// The healthy HTTP code, or the gRPC status code for a GRPC target group.
    pub matcher: String,
}

/// The protocol version whose health check matcher is a gRPC status code.
const GRPC: &str = "GRPC";

/// The health check as AWS reports it: `matcher` is the HTTP code, or the gRPC code for a GRPC
/// target group.
fn health_check_of(tg: &ElbTargetGroup) -> HealthCheck {
    let m = tg.matcher();
    let matcher = if tg.protocol_version() == Some(GRPC) {
        m.and_then(Matcher::grpc_code)
    } else {
        m.and_then(Matcher::http_code)
    };
    HealthCheck {
        path: tg.health_check_path().unwrap_or_default().to_string(),
        protocol: enum_text(tg.health_check_protocol()),
        port: tg.health_check_port().unwrap_or_default().to_string(),
        matcher: matcher.unwrap_or_default().to_string(),
    }
}

/// The matcher for `version`: a gRPC status code for GRPC, an HTTP code otherwise.
fn matcher(version: &str, code: &str) -> Matcher {
    if version == GRPC {
        Matcher::builder().grpc_code(code).build()
    } else {
        Matcher::builder().http_code(code).build()
    }
}

/// Who a target group found under one of the stack's names belongs to: the id it would have
/// is `tg/<http|grpc>` after its name. `None` for a group with none of the stack's names.
pub(super) fn identity(tg: &ElbTargetGroup, tags: &Tags, stack: &str) -> Option<Identity> {
    let name = tg.target_group_name()?;
    let (which, _) = target_group_names(stack)
        .into_iter()
        .find(|(_, n)| n == name)?;
    Some(tags.identity(stack, &format!("tg/{which}")))
}

impl Resource for TargetGroup {
    type Attrs = TargetGroupAttrs;

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Found<Self::Attrs>>> {
        let read = |tg: &ElbTargetGroup, _: &str, tags| {
            let attrs = attrs_of(tg, tags);
            Some((identity(tg, &attrs.tags, snap.stack())?, attrs))
        };
        let tgs = snap.target_groups().await?;
        found_by_arn(snap, tgs, |tg| tg.target_group_arn(), read).await
    }

    async fn create(&self, cx: &StepCtx<'_>, want: &Self::Attrs) -> Result<Outputs> {
        let hc = &want.health_check;
        // CreateTargetGroup is idempotent for identical settings, so SDK retries are safe; the
        // VPC may have been created a moment ago.
        let out = send_eventually(Budget::FRESH_ID, not_found_yet, "CreateTargetGroup", || {
            cx.aws
                .elb
                .create_target_group()
                .name(&want.name)
                .protocol(ProtocolEnum::from(want.protocol.as_str()))
                .protocol_version(&want.protocol_version)
                .port(want.port)
                .vpc_id(&want.vpc_id)
                .target_type(TargetTypeEnum::from(want.target_type.as_str()))
                .health_check_enabled(true)
                .health_check_path(&hc.path)
                .health_check_protocol(ProtocolEnum::from(hc.protocol.as_str()))
                .health_check_port(&hc.port)
                .matcher(matcher(&want.protocol_version, &hc.matcher))
                .set_tags(Some(want.tags.to_elb()))
                .send()
        })
        .await?;
        let arn = created(
            "CreateTargetGroup",
            out.target_groups()
                .first()
                .and_then(|t| t.target_group_arn()),
        )?;
        Ok(arn_outputs(arn))
    }

    async fn update(&self, cx: &StepCtx<'_>, c: &Change<Self::Attrs>) -> Result<Outputs> {
        let (arn, have) = (&c.physical_id, &c.have);
        if have.health_check != c.want.health_check {
            let hc = &c.want.health_check;
            cx.aws
                .elb
                .modify_target_group()
                .target_group_arn(arn)
                .health_check_enabled(true)
                .health_check_path(&hc.path)
                .health_check_protocol(ProtocolEnum::from(hc.protocol.as_str()))
                .health_check_port(&hc.port)
                .matcher(matcher(&c.want.protocol_version, &hc.matcher))
                .send()
                .await
                .aws("ModifyTargetGroup")?;
        }
        c.sync_tags(cx.aws, Tagged::Elb(arn)).await?;
        Ok(arn_outputs(arn))
    }

    async fn delete(&self, cx: &StepCtx<'_>, c: &Current<Self::Attrs>) -> Result<()> {
        delete_target_group(cx, &c.physical_id).await
    }
}

/// Deletes target group `arn`, waiting out a listener deleted a moment ago that still holds it.
pub async fn delete_target_group(cx: &StepCtx<'_>, arn: &str) -> Result<()> {
    let budget = Budget {
        total: Duration::from_secs(120),
    };
    delete_eventually(
        budget,
        |e| e.is("ResourceInUse"),
        "DeleteTargetGroup",
        || {
            cx.aws
                .elb
                .delete_target_group()
                .target_group_arn(arn)
                .send()
        },
    )
    .await
}

/// The target group's attributes as DescribeTargetGroups shows it (tags come from DescribeTags).
fn attrs_of(tg: &ElbTargetGroup, tags: Tags) -> TargetGroupAttrs {
    TargetGroupAttrs {
        name: tg.target_group_name().unwrap_or_default().to_string(),
        protocol: enum_text(tg.protocol()),
        protocol_version: tg.protocol_version().unwrap_or_default().to_string(),
        port: tg.port().unwrap_or_default(),
        vpc_id: tg.vpc_id().unwrap_or_default().to_string(),
        target_type: enum_text(tg.target_type()),
        health_check: health_check_of(tg),
        tags,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests_typed::{desired, resolved, richest_config};
    use crate::model::{ID_TAG, STACK_TAG};

    fn tg(version: &str, m: Matcher) -> ElbTargetGroup {
        ElbTargetGroup::builder()
            .protocol_version(version)
            .health_check_path("/healthz")
            .health_check_protocol(ProtocolEnum::Http)
            .health_check_port("traffic-port")
            .matcher(m)
            .build()
    }

    /// A target group as DescribeTargetGroups returns the stack's (moto 5, same shape as AWS).
    fn described(name: &str, version: &str, port: i32, path: &str, code: &str) -> ElbTargetGroup {
        ElbTargetGroup::builder()
            .target_group_arn(format!(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/{name}/73e2d6bc24d8a067"
            ))
            .target_group_name(name)
            .protocol(ProtocolEnum::Http)
            .protocol_version(version)
            .port(port)
            .vpc_id("vpc.id")
            .target_type(TargetTypeEnum::Instance)
            .health_check_enabled(true)
            .health_check_path(path)
            .health_check_protocol(ProtocolEnum::Http)
            .health_check_port("traffic-port")
            .matcher(matcher(version, code))
            .build()
    }

    #[test]
    fn http_matcher_is_the_http_code() {
        let hc = health_check_of(&tg("HTTP1", matcher("HTTP1", "200")));
        assert_eq!(
            hc,
            HealthCheck {
                path: "/healthz".into(),
                protocol: "HTTP".into(),
                port: "traffic-port".into(),
                matcher: "200".into(),
            }
        );
    }

    #[test]
    fn grpc_matcher_is_the_grpc_code() {
        let m = matcher("GRPC", "0");
        assert_eq!(m.grpc_code(), Some("0"));
        assert_eq!(m.http_code(), None);
        assert_eq!(health_check_of(&tg("GRPC", m)).matcher, "0");
    }

    #[test]
    fn observed_attributes_equal_the_desired_ones() {
        let want: TargetGroupAttrs = desired("tg/http");
        let got = described("grpc-eks-http", "HTTP1", 30080, "/healthz", "200");
        assert_eq!(attrs_of(&got, want.tags.clone()), want);
    }

    #[test]
    fn observed_grpc_attributes_equal_the_desired_ones() {
        // The gRPC target group exists only with a certificate.
        let graph = crate::stack::build(&richest_config(), "123456789012");
        let want: TargetGroupAttrs = resolved(&graph, "tg/grpc").typed().unwrap();
        let got = described(
            "grpc-eks-grpc",
            "GRPC",
            30090,
            "/grpc.health.v1.Health/Check",
            "0",
        );
        assert_eq!(attrs_of(&got, want.tags.clone()), want);
    }

    #[test]
    fn identity_comes_from_the_name_and_the_tags() {
        let ours = Tags::from_pairs([(STACK_TAG, "grpc-eks"), (ID_TAG, "tg/http")]);
        let http = described("grpc-eks-http", "HTTP1", 30080, "/healthz", "200");
        let who = identity(&http, &ours, "grpc-eks").unwrap();
        assert_eq!((who.id.as_str(), who.owned), ("tg/http", true));
        // Someone else's group under the stack's gRPC name is a conflict at tg/grpc.
        let grpc = described("grpc-eks-grpc", "GRPC", 30090, "/x", "0");
        let who = identity(&grpc, &Tags::default(), "grpc-eks").unwrap();
        assert_eq!((who.id.as_str(), who.owned), ("tg/grpc", false));
        let other = described("other-http", "HTTP1", 80, "/", "200");
        assert_eq!(identity(&other, &ours, "grpc-eks"), None);
    }
}
