//! ALB listener: HTTP on 80, or HTTPS on 443 with a certificate; forwards to one target group.

use super::{arn_outputs, tags_of};
use crate::aws::{gone_ok, AwsResultExt};
use crate::kinds::{
    attrs, created, enum_text, Change, Current, Found, Outputs, Resource, Snapshot, StepCtx,
};
use crate::retry::{not_found_yet, send_eventually, Budget};
use crate::tags::{Tagged, Tags};
use anyhow::Result;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Certificate, Listener as ElbListener, ProtocolEnum,
};

/// ALB listener.
pub struct Listener;

attrs! {
    /// What a listener is made of.
    pub struct ListenerAttrs {
        /// The ALB it listens on.
        load_balancer_arn: String => ForceNew,
        /// The port it listens on.
        port: i32 => ForceNew,
        /// `HTTP` or `HTTPS`.
        protocol: String => ForceNew,
        /// The target group its default action forwards to.
        target_group_arn: String,
        /// The default certificate (HTTPS only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        certificate_arn: Option<String>,
        /// The TLS policy (HTTPS only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ssl_policy: Option<String>,
        /// Its tags.
        tags: Tags,
    }
}

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

impl Resource for Listener {
    type Attrs = ListenerAttrs;

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Found<Self::Attrs>>> {
        let listeners = snap.listeners().await?;
        if listeners.is_empty() {
            return Ok(Vec::new());
        }
        let all_tags = snap.elb_tags().await?;
        let mut out = Vec::new();
        for l in listeners {
            let arn = l.listener_arn().unwrap_or_default();
            let attrs = attrs_of(l, tags_of(all_tags, arn));
            let fallback = format!("listener/{}", attrs.protocol.to_ascii_lowercase());
            let found = Found::by_tags(snap.stack(), &fallback, arn, attrs).output("arn", arn);
            out.push(found);
        }
        Ok(out)
    }

    async fn create(&self, cx: &StepCtx<'_>, want: &Self::Attrs) -> Result<Outputs> {
        let protocol = ProtocolEnum::from(want.protocol.as_str());
        let certificates = want
            .certificate_arn
            .as_ref()
            .map(|c| vec![Certificate::builder().certificate_arn(c).build()]);
        // CreateListener is idempotent for identical settings, so SDK retries are safe; a target
        // group created a moment ago may not be visible yet.
        let out = send_eventually(Budget::FRESH_ID, not_found_yet, "CreateListener", || {
            cx.aws
                .elb
                .create_listener()
                .load_balancer_arn(&want.load_balancer_arn)
                .port(want.port)
                .protocol(protocol.clone())
                .default_actions(forward(&want.target_group_arn))
                .set_certificates(certificates.clone())
                .set_ssl_policy(want.ssl_policy.clone())
                .set_tags(Some(want.tags.to_elb()))
                .send()
        })
        .await?;
        let arn = created(
            "CreateListener",
            out.listeners().first().and_then(|l| l.listener_arn()),
        )?;
        Ok(arn_outputs(arn))
    }

    async fn update(&self, cx: &StepCtx<'_>, c: &Change<Self::Attrs>) -> Result<Outputs> {
        let (arn, have) = (&c.physical_id, &c.have);
        // Only what the spec sets is compared: a plain HTTP listener wants no certificate.
        let wanted = |have: &Option<String>, want: &Option<String>| -> Option<String> {
            want.clone().filter(|w| have.as_ref() != Some(w))
        };
        let target = (have.target_group_arn != c.want.target_group_arn)
            .then_some(c.want.target_group_arn.as_str());
        let cert = wanted(&have.certificate_arn, &c.want.certificate_arn);
        let policy = wanted(&have.ssl_policy, &c.want.ssl_policy);
        if target.is_some() || cert.is_some() || policy.is_some() {
            cx.aws
                .elb
                .modify_listener()
                .listener_arn(arn)
                .set_default_actions(target.map(|tg| vec![forward(tg)]))
                .set_certificates(
                    cert.map(|c| vec![Certificate::builder().certificate_arn(c).build()]),
                )
                .set_ssl_policy(policy)
                .send()
                .await
                .aws("ModifyListener")?;
        }
        c.sync_tags(cx.aws, Tagged::Elb(arn)).await?;
        Ok(arn_outputs(arn))
    }

    async fn delete(&self, cx: &StepCtx<'_>, c: &Current<Self::Attrs>) -> Result<()> {
        // Synchronous: once DeleteListener returns, its target group is free.
        gone_ok(
            cx.aws
                .elb
                .delete_listener()
                .listener_arn(&c.physical_id)
                .send()
                .await
                .map(|_| ())
                .aws("DeleteListener"),
        )?;
        Ok(())
    }
}

/// The listener's attributes as DescribeListeners shows it (tags come from DescribeTags).
fn attrs_of(l: &ElbListener, tags: Tags) -> ListenerAttrs {
    // AWS reports a default SSL policy on plain HTTP listeners too; it means nothing there.
    let https = l.protocol() == Some(&ProtocolEnum::Https);
    ListenerAttrs {
        load_balancer_arn: l.load_balancer_arn().unwrap_or_default().to_string(),
        port: l.port().unwrap_or_default(),
        protocol: enum_text(l.protocol()),
        target_group_arn: forward_target(l).unwrap_or_default().to_string(),
        certificate_arn: https.then(|| certificate(l).unwrap_or_default().to_string()),
        ssl_policy: https.then(|| l.ssl_policy().unwrap_or_default().to_string()),
        tags,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests_typed::{resolved, richest_config};
    use aws_sdk_elasticloadbalancingv2::types::{ForwardActionConfig, TargetGroupTuple};

    const ARN: &str =
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/grpc-eks-alb/50dc6c495c0c9188/f2f7dc8efc522ab2";

    #[test]
    fn observed_attributes_equal_the_desired_ones() {
        // The HTTPS listener exists only with a certificate.
        let graph = crate::stack::build(&richest_config(), "123456789012");
        let cert = "arn:aws:acm:us-east-1:123456789012:certificate/abc";
        // As DescribeListeners returns them: AWS names a default SSL policy even on HTTP.
        let cases = [
            ("listener/http", 80, None, "ELBSecurityPolicy-2016-08"),
            (
                "listener/https",
                443,
                Some(cert),
                "ELBSecurityPolicy-TLS13-1-2-2021-06",
            ),
        ];
        for (id, port, cert, policy) in cases {
            let want: ListenerAttrs = resolved(&graph, id).typed().unwrap();
            let certificate = |c| vec![Certificate::builder().certificate_arn(c).build()];
            let l = ElbListener::builder()
                .listener_arn(ARN)
                .load_balancer_arn("alb.arn")
                .port(port)
                .protocol(ProtocolEnum::from(want.protocol.as_str()))
                .set_certificates(cert.map(certificate))
                .ssl_policy(policy)
                .default_actions(forward(&want.target_group_arn))
                .build();
            assert_eq!(attrs_of(&l, want.tags.clone()), want, "{id}");
        }
    }

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
