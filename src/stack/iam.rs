//! IAM roles and their policies. The order that made the original project need two applies is
//! encoded here: every role is created with a trust policy naming only a service; the full trust
//! policy, which may name roles (the CodeBuild role trusts itself), is a separate resource whose
//! references to role ARNs make it wait for those roles to exist.

use super::{out, Builder};
use crate::model::{Desired, Kind, Value};
use crate::naming;
use serde_json::json;
use std::collections::BTreeMap;

/// Managed policies AWS documents for each role.
const MANAGED: [(&str, &[&str]); 2] = [
    ("cluster", &["AmazonEKSClusterPolicy"]),
    (
        "node",
        &[
            "AmazonEKSWorkerNodePolicy",
            "AmazonEKS_CNI_Policy",
            "AmazonEC2ContainerRegistryReadOnly",
        ],
    ),
];

/// The statement letting `service` assume a role.
fn service_statement(service: &str) -> Value {
    Value::Lit(json!({
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }))
}

fn policy(statements: Vec<Value>) -> Value {
    Value::Map(BTreeMap::from([
        ("Version".to_string(), Value::str("2012-10-17")),
        ("Statement".to_string(), Value::List(statements)),
    ]))
}

/// Logical id of the attachment of managed policy `name` to role `role`.
pub fn attachment_id(role: &str, name: &str) -> String {
    format!("attach/{role}/{name}")
}

/// Logical ids of the managed policy attachments of `role`.
pub fn attachments_of(role: &str) -> Vec<String> {
    MANAGED
        .iter()
        .filter(|(r, _)| *r == role)
        .flat_map(|(_, names)| names.iter().map(|n| attachment_id(role, n)))
        .collect()
}

/// Adds the three roles, their trust policies, managed attachments and the CodeBuild policy.
pub(super) fn add(b: &mut Builder) {
    let stack = b.config.stack.clone();
    for (which, service, purpose) in [
        ("cluster", "eks.amazonaws.com", "EKS control plane"),
        ("node", "ec2.amazonaws.com", "EKS worker nodes"),
        (
            "codebuild",
            "codebuild.amazonaws.com",
            "CodeBuild: builds, pushes and deploys the service",
        ),
    ] {
        let role_id = format!("role/{which}");
        b.graph.add(
            Desired::new(&role_id, Kind::IamRole)
                .with("name", Value::str(naming::role(&stack, which)))
                .with(
                    "description",
                    Value::str(format!("{purpose} (infra stack {stack})")),
                )
                .with(
                    "initial_trust_policy",
                    policy(vec![service_statement(service)]),
                )
                .with("tags", b.tags(&role_id)),
        );
        let mut trust = vec![service_statement(service)];
        if which == "codebuild" {
            // Since 2022 a role no longer trusts itself implicitly; the build assumes its own role
            // (to run aws eks update-kubeconfig with an explicit role), so it needs the statement.
            trust.push(Value::Map(BTreeMap::from([
                ("Effect".to_string(), Value::str("Allow")),
                (
                    "Principal".to_string(),
                    Value::Map(BTreeMap::from([("AWS".to_string(), out(&role_id, "arn"))])),
                ),
                ("Action".to_string(), Value::str("sts:AssumeRole")),
            ])));
        }
        b.graph.add(
            Desired::new(format!("trust/{which}"), Kind::IamTrustPolicy)
                .with("role_name", out(&role_id, "name"))
                .with("document", policy(trust)),
        );
    }
    for (role, names) in MANAGED {
        for name in names {
            b.graph.add(
                Desired::new(attachment_id(role, name), Kind::IamPolicyAttachment)
                    .with("role_name", out(&format!("role/{role}"), "name"))
                    .with(
                        "policy_arn",
                        Value::str(format!("arn:aws:iam::aws:policy/{name}")),
                    ),
            );
        }
    }
    let region = &b.config.region;
    let log_group = format!(
        "arn:aws:logs:{region}:{}:log-group:/aws/codebuild/{}",
        b.account,
        naming::build_project(&stack)
    );
    let statements = vec![
        // GetAuthorizationToken has no resource-level permissions: AWS requires "*" for it.
        Value::Lit(json!({
            "Sid": "EcrLogin",
            "Effect": "Allow",
            "Action": ["ecr:GetAuthorizationToken"],
            "Resource": "*",
        })),
        statement(
            "PushToItsRepository",
            &[
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:CompleteLayerUpload",
                "ecr:GetDownloadUrlForLayer",
                "ecr:InitiateLayerUpload",
                "ecr:PutImage",
                "ecr:UploadLayerPart",
            ],
            out("ecr/repository", "arn"),
        ),
        statement(
            "DescribeItsCluster",
            &["eks:DescribeCluster"],
            out("eks/cluster", "arn"),
        ),
        statement(
            "WriteItsLogs",
            &[
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
            ],
            Value::Lit(json!([log_group, format!("{log_group}:*")])),
        ),
    ];
    b.graph.add(
        Desired::new("policy/codebuild/deploy", Kind::IamInlinePolicy)
            .with("role_name", out("role/codebuild", "name"))
            .with("policy_name", Value::str("deploy"))
            .with("document", policy(statements)),
    );
}

fn statement(sid: &str, actions: &[&str], resource: Value) -> Value {
    Value::Map(BTreeMap::from([
        ("Sid".to_string(), Value::str(sid)),
        ("Effect".to_string(), Value::str("Allow")),
        ("Action".to_string(), Value::Lit(json!(actions))),
        ("Resource".to_string(), resource),
    ]))
}
