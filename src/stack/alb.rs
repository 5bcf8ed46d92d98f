//! The internet-facing ALB: HTTP on 80 to the client Service's NodePort. With a certificate,
//! HTTPS on 443 serves the client Service too, and a rule sends gRPC (by content-type) straight
//! to the server's NodePort (ALB speaks gRPC to targets only behind HTTPS); port 80 then only
//! redirects to 443. Target groups are attached to the node group's Auto Scaling group, so
//! replaced nodes register themselves.

use super::{network, out, Builder};
use crate::model::{Desired, Kind, LogicalId, Value};
use crate::naming;
use serde_json::json;
use std::collections::BTreeMap;

/// The TLS policy of the HTTPS listener: TLS 1.3 with 1.2 fallback, AWS's recommended default.
const SSL_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/// Logical id of the HTTPS listener's rule sending gRPC to the server.
const GRPC_RULE: &str = "rule/grpc";

/// A listener action forwarding to target group `tg`.
fn forward(tg: &str) -> Value {
    Value::Map(BTreeMap::from([("forward".to_string(), out(tg, "arn"))]))
}

/// Adds the load balancer, target groups, listeners and ASG attachments.
pub(super) fn add(b: &mut Builder) {
    let c = b.config;
    let stack = &c.stack;
    b.graph.add(
        Desired::new("alb", Kind::LoadBalancer)
            .with("name", Value::str(naming::load_balancer(stack)))
            .with("scheme", Value::str("internet-facing"))
            .with("subnet_ids", network::public_subnet_ids(b))
            .with("security_group_ids", Value::List(vec![out("sg/alb", "id")]))
            .with("tags", b.tags("alb"))
            // An internet-facing ALB maps public addresses: the gateway must be attached first,
            // and on destroy it cannot be detached before the ALB is gone.
            .after(&LogicalId::new(network::IGW_ATTACHMENT)),
    );

    let mut routes = vec![(
        "http",
        "HTTP1",
        c.service.node_port,
        c.service.health_check_path.clone(),
        "200",
        80,
        "HTTP",
    )];
    if c.alb.certificate_arn.is_some() {
        routes.push((
            "grpc",
            "GRPC",
            c.service.grpc_node_port,
            "/grpc.health.v1.Health/Check".to_string(),
            // gRPC status 0 (OK) from the health service means serving.
            "0",
            443,
            "HTTPS",
        ));
    }
    for (which, version, port, path, matcher, listen, protocol) in routes {
        let tg = format!("tg/{which}");
        b.graph.add(
            Desired::new(&tg, Kind::TargetGroup)
                .with("name", Value::str(naming::target_group(stack, which)))
                .with("protocol", Value::str("HTTP"))
                .with("protocol_version", Value::str(version))
                .with("port", Value::Lit(json!(port)))
                .with("vpc_id", out(network::VPC, "id"))
                .with("target_type", Value::str("instance"))
                .with(
                    "health_check",
                    Value::Lit(json!({
                        "path": path, "protocol": "HTTP", "port": "traffic-port", "matcher": matcher,
                    })),
                )
                .with("tags", b.tags(&tg)),
        );
        let listener_id = format!("listener/{}", protocol.to_ascii_lowercase());
        let mut listener = Desired::new(&listener_id, Kind::Listener)
            .with("load_balancer_arn", out("alb", "arn"))
            .with("port", Value::Lit(json!(listen)))
            .with("protocol", Value::str(protocol))
            .with("default_action", forward(&tg))
            .with("tags", b.tags(&listener_id));
        if let (Some(cert), "HTTPS") = (&c.alb.certificate_arn, protocol) {
            listener = listener
                .with("certificate_arn", Value::str(cert))
                .with("ssl_policy", Value::str(SSL_POLICY))
                // Browsers and plain HTTP clients reach the client Service on 443 too; gRPC
                // goes to the server by the rule below.
                .with("default_action", forward("tg/http"));
            b.graph.add(
                Desired::new(GRPC_RULE, Kind::ListenerRule)
                    .with("listener_arn", out(&listener_id, "arn"))
                    .with("priority", Value::Lit(json!(10)))
                    .with(
                        "header",
                        // gRPC requests carry application/grpc, optionally with +proto etc.
                        Value::Lit(
                            json!({"name": "content-type", "values": ["application/grpc*"]}),
                        ),
                    )
                    .with("target_group_arn", out(&tg, "arn"))
                    .with("tags", b.tags(GRPC_RULE)),
            );
        } else if c.alb.certificate_arn.is_some() {
            // With a certificate, nothing is served in plaintext: port 80 only redirects.
            listener = listener.with(
                "default_action",
                Value::Lit(json!({"redirect_to_https": "443"})),
            );
        }
        b.graph.add(listener);
        b.graph.add(
            Desired::new(
                format!("tg-attachment/{which}"),
                Kind::TargetGroupAttachment,
            )
            .with("asg_name", out("eks/nodegroup", "asg_name"))
            .with("target_group_arn", out(&tg, "arn")),
        );
    }
}
