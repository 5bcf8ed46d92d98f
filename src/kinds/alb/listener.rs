//! ALB listener: HTTP on 80, and HTTPS on 443 with a certificate. Its default action forwards to
//! one target group, or (port 80 once there is HTTPS) redirects to HTTPS.

use super::{arn_outputs, forward, found_by_arn};
use crate::aws::{gone_ok, AwsResultExt};
use crate::kinds::{
    attrs, created, enum_text, Change, Current, Found, Outputs, Resource, Snapshot, StepCtx,
};
use crate::retry::{not_found_yet, send_eventually, Budget};
use crate::tags::{Tagged, Tags};
use anyhow::Result;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Certificate, Listener as ElbListener, ProtocolEnum,
    RedirectActionConfig, RedirectActionStatusCodeEnum,
};
use serde::{Deserialize, Serialize};

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
        /// What it does with a request no rule takes.
        default_action: DefaultAction,
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

/// What a listener does with a request no rule takes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum DefaultAction {
    /// Forward to this target group.
    Forward(String),
    /// Redirect permanently (301) to HTTPS on this port, same host, path and query.
    RedirectToHttps(String),
    /// Anything else (observed only, e.g. set by hand): the action's type.
    Other(String),
}

impl DefaultAction {
    /// The action as ELB takes it.
    fn to_elb(&self) -> Action {
        match self {
            DefaultAction::Forward(tg) => forward(tg),
            DefaultAction::RedirectToHttps(port) => Action::builder()
                .r#type(ActionTypeEnum::Redirect)
                .redirect_config(
                    RedirectActionConfig::builder()
                        .protocol("HTTPS")
                        .port(port)
                        .status_code(RedirectActionStatusCodeEnum::Http301)
                        .build(),
                )
                .build(),
            // The plan never wants one: observe alone produces it.
            DefaultAction::Other(kind) => Action::builder()
                .r#type(ActionTypeEnum::from(kind.as_str()))
                .build(),
        }
    }

    /// The listener's default action as DescribeListeners shows it.
    fn of(l: &ElbListener) -> Self {
        if let Some(tg) = forward_target(l) {
            return DefaultAction::Forward(tg.to_string());
        }
        let action = l.default_actions().first();
        let redirect = action.and_then(|a| a.redirect_config());
        match redirect {
            Some(r)
                if r.protocol() == Some("HTTPS")
                    && r.status_code() == Some(&RedirectActionStatusCodeEnum::Http301)
                    && [None, Some("#{host}")].contains(&r.host())
                    && [None, Some("/#{path}")].contains(&r.path())
                    && [None, Some("#{query}")].contains(&r.query()) =>
            {
                DefaultAction::RedirectToHttps(r.port().unwrap_or("#{port}").to_string())
            }
            _ => DefaultAction::Other(enum_text(action.and_then(|a| a.r#type()))),
        }
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

impl Resource for Listener {
    type Attrs = ListenerAttrs;

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Found<Self::Attrs>>> {
        let read = |l: &ElbListener, _: &str, tags| {
            let attrs = attrs_of(l, tags);
            let fallback = format!("listener/{}", attrs.protocol.to_ascii_lowercase());
            Some((attrs.tags.identity(snap.stack(), &fallback), attrs))
        };
        let listeners = snap.listeners().await?;
        found_by_arn(snap, listeners, |l| l.listener_arn(), read).await
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
                .default_actions(want.default_action.to_elb())
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
        let action = (have.default_action != c.want.default_action)
            .then(|| vec![c.want.default_action.to_elb()]);
        let cert = wanted(&have.certificate_arn, &c.want.certificate_arn);
        let policy = wanted(&have.ssl_policy, &c.want.ssl_policy);
        if action.is_some() || cert.is_some() || policy.is_some() {
            cx.aws
                .elb
                .modify_listener()
                .listener_arn(arn)
                .set_default_actions(action)
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
        default_action: DefaultAction::of(l),
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
        // The HTTPS listener exists only with a certificate; port 80 then redirects to it.
        let graph = crate::stack::build(&richest_config(), "123456789012");
        let cert =
            "arn:aws:acm:us-east-1:123456789012:certificate/0c9a6bd3-8c0e-4c7c-9d0f-3f6f1b6e2a41";
        // As DescribeListeners returns them: AWS names a default SSL policy even on HTTP, and
        // fills in the redirect's host, path and query.
        let redirect = Action::builder()
            .r#type(ActionTypeEnum::Redirect)
            .redirect_config(
                RedirectActionConfig::builder()
                    .protocol("HTTPS")
                    .port("443")
                    .host("#{host}")
                    .path("/#{path}")
                    .query("#{query}")
                    .status_code(RedirectActionStatusCodeEnum::Http301)
                    .build(),
            )
            .build();
        let cases = [
            (
                "listener/http",
                80,
                None,
                "ELBSecurityPolicy-2016-08",
                redirect,
            ),
            (
                "listener/https",
                443,
                Some(cert),
                "ELBSecurityPolicy-TLS13-1-2-2021-06",
                forward("tg/http.arn"),
            ),
        ];
        for (id, port, cert, policy, action) in cases {
            let want: ListenerAttrs = resolved(&graph, id).typed().unwrap();
            let certificate = |c| vec![Certificate::builder().certificate_arn(c).build()];
            let l = ElbListener::builder()
                .listener_arn(ARN)
                .load_balancer_arn("alb.arn")
                .port(port)
                .protocol(ProtocolEnum::from(want.protocol.as_str()))
                .set_certificates(cert.map(certificate))
                .ssl_policy(policy)
                .default_actions(action)
                .build();
            assert_eq!(attrs_of(&l, want.tags.clone()), want, "{id}");
        }
        // Without a certificate, port 80 forwards to the client Service.
        let plain: ListenerAttrs = crate::kinds::tests_typed::desired("listener/http");
        assert_eq!(
            plain.default_action,
            DefaultAction::Forward("tg/http.arn".into())
        );
    }

    #[test]
    fn a_default_action_changed_by_hand_reads_as_what_it_is() {
        let fixed = ElbListener::builder()
            .default_actions(
                Action::builder()
                    .r#type(ActionTypeEnum::FixedResponse)
                    .build(),
            )
            .build();
        assert_eq!(
            DefaultAction::of(&fixed),
            DefaultAction::Other("fixed-response".into())
        );
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
