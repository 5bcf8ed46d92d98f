//! ALB listener: HTTP on 80, or HTTPS on 443 with a certificate; forwards to one target group.

use super::{arn_outputs, describe_listeners, describe_tags, logical_id, owned, spec_tags};
use crate::aws::{gone_ok, AwsResultExt};
use crate::kinds::{Outputs, ResourceKind, Spec, StepCtx};
use crate::model::{Kind, Observed};
use crate::retry::{eventually, not_found_yet, Budget};
use crate::snapshot::Snapshot;
use anyhow::{Context, Result};
use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Certificate, Listener as ElbListener, ProtocolEnum,
};
use serde_json::Value as Json;

/// ALB listener.
pub struct Listener;

/// The target group a listener's default action forwards to, if it is a plain forward.
fn forward_target(l: &ElbListener) -> Option<&str> {
    let a = l
        .default_actions()
        .iter()
        .find(|a| a.r#type() == Some(&ActionTypeEnum::Forward))?;
    a.target_group_arn().or_else(|| {
        // AWS reports a forward created with TargetGroupArn in ForwardConfig as well; a
        // weighted forward to several groups is not one target.
        match a.forward_config()?.target_groups() {
            [one] => one.target_group_arn(),
            _ => None,
        }
    })
}

/// The listener's default certificate.
fn certificate(l: &ElbListener) -> Option<&str> {
    let certs = l.certificates();
    certs
        .iter()
        .find(|c| c.is_default() == Some(true))
        .or_else(|| certs.first())
        .and_then(|c| c.certificate_arn())
}

fn forward(tg: &str) -> Action {
    Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .target_group_arn(tg)
        .build()
}

#[async_trait]
impl ResourceKind for Listener {
    fn force_new(&self) -> &'static [&'static str] {
        &["load_balancer_arn", "port", "protocol"]
    }

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Observed>> {
        let listeners = describe_listeners(snap).await?;
        if listeners.is_empty() {
            return Ok(Vec::new());
        }
        let all_tags = describe_tags(snap).await?;
        let mut out = Vec::new();
        for l in listeners.iter() {
            let arn = l.listener_arn().unwrap_or_default();
            let tags = all_tags.get(arn).map(Vec::as_slice).unwrap_or_default();
            let protocol = l.protocol().map(|p| p.as_str()).unwrap_or_default();
            let id = logical_id(
                tags,
                snap.stack(),
                &format!("listener/{}", protocol.to_ascii_lowercase()),
            );
            let mut o = Observed::new(id, Kind::Listener, arn)
                .with(
                    "load_balancer_arn",
                    l.load_balancer_arn().unwrap_or_default(),
                )
                .with("port", l.port().unwrap_or_default())
                .with("protocol", protocol)
                .with("target_group_arn", forward_target(l).unwrap_or_default())
                .with("tags", super::tags_json(tags));
            // AWS reports a default SSL policy on plain HTTP listeners too; it means nothing there.
            if l.protocol() == Some(&ProtocolEnum::Https) {
                o = o
                    .with("certificate_arn", certificate(l).unwrap_or_default())
                    .with("ssl_policy", l.ssl_policy().unwrap_or_default());
            }
            o.outputs = arn_outputs(arn);
            o.unowned = !owned(tags, snap.stack());
            out.push(o);
        }
        Ok(out)
    }

    async fn create(&self, cx: &StepCtx<'_>, spec: &Spec) -> Result<Outputs> {
        let lb = spec.str("load_balancer_arn")?;
        let port = spec
            .get("port")
            .and_then(Json::as_i64)
            .and_then(|p| i32::try_from(p).ok())
            .context("spec has no numeric port")?;
        let protocol = ProtocolEnum::from(spec.str("protocol")?);
        let tg = spec.str("target_group_arn")?;
        let cert = spec.get("certificate_arn").and_then(Json::as_str);
        let policy = spec.get("ssl_policy").and_then(Json::as_str);
        // CreateListener is idempotent for identical settings, so SDK retries are safe; a target
        // group created a moment ago may not be visible yet.
        let out = eventually(Budget::FRESH_ID, not_found_yet, || async {
            cx.aws
                .elb
                .create_listener()
                .load_balancer_arn(lb)
                .port(port)
                .protocol(protocol.clone())
                .default_actions(forward(tg))
                .set_certificates(
                    cert.map(|c| vec![Certificate::builder().certificate_arn(c).build()]),
                )
                .set_ssl_policy(policy.map(str::to_string))
                .set_tags(Some(spec_tags(spec)))
                .send()
                .await
                .aws("CreateListener")
        })
        .await?;
        let arn = out
            .listeners()
            .first()
            .and_then(|l| l.listener_arn())
            .context("CreateListener returned no ARN")?;
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
        let changed = |a: &str| changed.iter().any(|c| c == a);
        if changed("certificate_arn") || changed("ssl_policy") || changed("target_group_arn") {
            let mut req = cx.aws.elb.modify_listener().listener_arn(arn);
            if changed("target_group_arn") {
                req = req.default_actions(forward(spec.str("target_group_arn")?));
            }
            if changed("certificate_arn") {
                req = req.certificates(
                    Certificate::builder()
                        .certificate_arn(spec.str("certificate_arn")?)
                        .build(),
                );
            }
            if changed("ssl_policy") {
                req = req.ssl_policy(spec.str("ssl_policy")?);
            }
            req.send().await.aws("ModifyListener")?;
        }
        if changed("tags") {
            super::update_tags(cx.aws, arn, current.attrs.get("tags"), spec).await?;
        }
        Ok(arn_outputs(arn))
    }

    async fn delete(&self, cx: &StepCtx<'_>, current: &Observed) -> Result<()> {
        // Synchronous: once DeleteListener returns, its target group is free.
        gone_ok(
            cx.aws
                .elb
                .delete_listener()
                .listener_arn(&current.physical_id)
                .send()
                .await
                .map(|_| ())
                .aws("DeleteListener"),
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_elasticloadbalancingv2::types::{ForwardActionConfig, TargetGroupTuple};

    #[test]
    fn forward_target_reads_either_form() {
        let plain = ElbListener::builder()
            .default_actions(forward("tg-a"))
            .build();
        assert_eq!(forward_target(&plain), Some("tg-a"));
        let config = ElbListener::builder()
            .default_actions(
                Action::builder()
                    .r#type(ActionTypeEnum::Forward)
                    .forward_config(
                        ForwardActionConfig::builder()
                            .target_groups(
                                TargetGroupTuple::builder().target_group_arn("tg-b").build(),
                            )
                            .build(),
                    )
                    .build(),
            )
            .build();
        assert_eq!(forward_target(&config), Some("tg-b"));
        let redirect = ElbListener::builder()
            .default_actions(Action::builder().r#type(ActionTypeEnum::Redirect).build())
            .build();
        assert_eq!(forward_target(&redirect), None);
    }

    #[test]
    fn default_certificate_wins() {
        let l = ElbListener::builder()
            .certificates(Certificate::builder().certificate_arn("extra").build())
            .certificates(
                Certificate::builder()
                    .certificate_arn("main")
                    .is_default(true)
                    .build(),
            )
            .build();
        assert_eq!(certificate(&l), Some("main"));
    }
}
