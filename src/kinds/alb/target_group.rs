//! ALB target group: HTTP/1.1 to the service's NodePort, or gRPC (only usable behind HTTPS).

use super::{
    arn_outputs, describe_tags, describe_target_groups, logical_id, owned, spec_tags,
    target_group_names,
};
use crate::aws::{gone_ok, AwsResultExt};
use crate::kinds::{Outputs, ResourceKind, Spec, StepCtx};
use crate::model::{Kind, Observed};
use crate::retry::{eventually, not_found_yet, Budget};
use crate::snapshot::Snapshot;
use anyhow::{anyhow, Context, Result};
use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{
    Matcher, ProtocolEnum, TargetGroup as ElbTargetGroup, TargetTypeEnum,
};
use serde_json::{json, Value as Json};
use std::time::Duration;

/// ALB target group.
pub struct TargetGroup;

/// The protocol version whose health check matcher is a gRPC status code.
const GRPC: &str = "GRPC";

/// The `health_check` attribute as AWS reports it: `matcher` is the HTTP code, or the gRPC
/// code for a GRPC target group.
fn health_check_json(tg: &ElbTargetGroup) -> Json {
    let m = tg.matcher();
    let matcher = if tg.protocol_version() == Some(GRPC) {
        m.and_then(Matcher::grpc_code)
    } else {
        m.and_then(Matcher::http_code)
    };
    json!({
        "path": tg.health_check_path().unwrap_or_default(),
        "protocol": tg.health_check_protocol().map(|p| p.as_str()).unwrap_or_default(),
        "port": tg.health_check_port().unwrap_or_default(),
        "matcher": matcher.unwrap_or_default(),
    })
}

/// The wanted health check, read from the spec.
struct HealthCheck {
    path: String,
    protocol: ProtocolEnum,
    port: String,
    matcher: Matcher,
}

fn health_check(spec: &Spec) -> Result<HealthCheck> {
    let hc = spec
        .get("health_check")
        .context("spec has no health_check")?;
    let field = |k: &str| {
        hc.get(k)
            .and_then(Json::as_str)
            .map(str::to_string)
            .ok_or_else(|| anyhow!("health_check has no string {k:?}"))
    };
    Ok(HealthCheck {
        path: field("path")?,
        protocol: ProtocolEnum::from(field("protocol")?.as_str()),
        port: field("port")?,
        matcher: matcher(spec.str("protocol_version")?, &field("matcher")?),
    })
}

/// The matcher for `version`: a gRPC status code for GRPC, an HTTP code otherwise.
fn matcher(version: &str, code: &str) -> Matcher {
    if version == GRPC {
        Matcher::builder().grpc_code(code).build()
    } else {
        Matcher::builder().http_code(code).build()
    }
}

fn port(spec: &Spec) -> Result<i32> {
    spec.get("port")
        .and_then(Json::as_i64)
        .and_then(|p| i32::try_from(p).ok())
        .context("spec has no numeric port")
}

#[async_trait]
impl ResourceKind for TargetGroup {
    fn force_new(&self) -> &'static [&'static str] {
        &[
            "name",
            "protocol",
            "protocol_version",
            "port",
            "vpc_id",
            "target_type",
        ]
    }

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Observed>> {
        let tgs = describe_target_groups(snap).await?;
        if tgs.is_empty() {
            return Ok(Vec::new());
        }
        let all_tags = describe_tags(snap).await?;
        let names = target_group_names(snap.stack());
        let mut out = Vec::new();
        for tg in tgs.iter() {
            let name = tg.target_group_name().unwrap_or_default();
            let Some((which, _)) = names.iter().find(|(_, n)| n == name) else {
                continue;
            };
            let arn = tg.target_group_arn().unwrap_or_default();
            let tags = all_tags.get(arn).map(Vec::as_slice).unwrap_or_default();
            let id = logical_id(tags, snap.stack(), &format!("tg/{which}"));
            let mut o = Observed::new(id, Kind::TargetGroup, arn)
                .with("name", name)
                .with(
                    "protocol",
                    tg.protocol().map(|p| p.as_str()).unwrap_or_default(),
                )
                .with(
                    "protocol_version",
                    tg.protocol_version().unwrap_or_default(),
                )
                .with("port", tg.port().unwrap_or_default())
                .with("vpc_id", tg.vpc_id().unwrap_or_default())
                .with(
                    "target_type",
                    tg.target_type().map(|t| t.as_str()).unwrap_or_default(),
                )
                .with("health_check", health_check_json(tg))
                .with("tags", super::tags_json(tags));
            o.outputs = arn_outputs(arn);
            o.unowned = !owned(tags, snap.stack());
            out.push(o);
        }
        Ok(out)
    }

    async fn create(&self, cx: &StepCtx<'_>, spec: &Spec) -> Result<Outputs> {
        let hc = health_check(spec)?;
        let (name, port) = (spec.str("name")?, port(spec)?);
        let (protocol, version) = (spec.str("protocol")?, spec.str("protocol_version")?);
        let (vpc, target_type) = (spec.str("vpc_id")?, spec.str("target_type")?);
        // CreateTargetGroup is idempotent for identical settings, so SDK retries are safe; the
        // VPC may have been created a moment ago.
        let out = eventually(Budget::FRESH_ID, not_found_yet, || async {
            cx.aws
                .elb
                .create_target_group()
                .name(name)
                .protocol(ProtocolEnum::from(protocol))
                .protocol_version(version)
                .port(port)
                .vpc_id(vpc)
                .target_type(TargetTypeEnum::from(target_type))
                .health_check_enabled(true)
                .health_check_path(&hc.path)
                .health_check_protocol(hc.protocol.clone())
                .health_check_port(&hc.port)
                .matcher(hc.matcher.clone())
                .set_tags(Some(spec_tags(spec)))
                .send()
                .await
                .aws("CreateTargetGroup")
        })
        .await?;
        let arn = out
            .target_groups()
            .first()
            .and_then(|t| t.target_group_arn())
            .context("CreateTargetGroup returned no ARN")?;
        Ok(arn_outputs(arn))
    }

    async fn update(
        &self,
        cx: &StepCtx<'_>,
        current: &Observed,
        spec: &Spec,
        changed: &[String],
    ) -> Result<Outputs> {
        let arn = &current.physical_id;
        if changed.iter().any(|c| c == "health_check") {
            let hc = health_check(spec)?;
            cx.aws
                .elb
                .modify_target_group()
                .target_group_arn(arn)
                .health_check_enabled(true)
                .health_check_path(hc.path)
                .health_check_protocol(hc.protocol)
                .health_check_port(hc.port)
                .matcher(hc.matcher)
                .send()
                .await
                .aws("ModifyTargetGroup")?;
        }
        if changed.iter().any(|c| c == "tags") {
            super::update_tags(cx.aws, arn, current.attrs.get("tags"), spec).await?;
        }
        Ok(arn_outputs(arn))
    }

    async fn delete(&self, cx: &StepCtx<'_>, current: &Observed) -> Result<()> {
        let arn = &current.physical_id;
        // A listener deleted a moment ago can still hold the target group for a short while.
        let r = eventually(
            Budget {
                total: Duration::from_secs(120),
            },
            |e| e.is("ResourceInUse"),
            || async {
                cx.aws
                    .elb
                    .delete_target_group()
                    .target_group_arn(arn)
                    .send()
                    .await
                    .map(|_| ())
                    .aws("DeleteTargetGroup")
            },
        )
        .await;
        gone_ok(r)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tg(version: &str, m: Matcher) -> ElbTargetGroup {
        ElbTargetGroup::builder()
            .protocol_version(version)
            .health_check_path("/healthz")
            .health_check_protocol(ProtocolEnum::Http)
            .health_check_port("traffic-port")
            .matcher(m)
            .build()
    }

    #[test]
    fn http_matcher_is_the_http_code() {
        let j = health_check_json(&tg("HTTP1", matcher("HTTP1", "200")));
        assert_eq!(
            j,
            json!({"path": "/healthz", "protocol": "HTTP", "port": "traffic-port", "matcher": "200"})
        );
    }

    #[test]
    fn grpc_matcher_is_the_grpc_code() {
        let m = matcher("GRPC", "0");
        assert_eq!(m.grpc_code(), Some("0"));
        assert_eq!(m.http_code(), None);
        assert_eq!(health_check_json(&tg("GRPC", m))["matcher"], json!("0"));
    }

    #[test]
    fn health_check_is_read_from_the_spec() {
        let spec = Spec(
            [
                ("protocol_version".to_string(), json!("GRPC")),
                (
                    "health_check".to_string(),
                    json!({"path": "/grpc.health.v1.Health/Check", "protocol": "HTTP",
                           "port": "traffic-port", "matcher": "0"}),
                ),
            ]
            .into(),
        );
        let hc = health_check(&spec).unwrap();
        assert_eq!(hc.path, "/grpc.health.v1.Health/Check");
        assert_eq!(hc.protocol, ProtocolEnum::Http);
        assert_eq!(hc.matcher.grpc_code(), Some("0"));
    }
}
