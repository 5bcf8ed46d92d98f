//! IAM roles and their policies. The order that made the original project need two applies is
//! encoded here: every role is created with a trust policy naming only a service; the full trust
//! policy, which may name roles (the CodeBuild role trusts itself), is a separate resource whose
//! references to role ARNs make it wait for those roles to exist.

use super::codebuild::build_secrets;
use super::{network, out, Builder};
use crate::config::aws_rules;
use crate::config::{ConnectionArn, EndpointAccess};
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

/// The statement letting `service` assume a role; `source` limits it to one resource of the
/// stack's account acting for it (the confused-deputy guard).
fn service_statement(service: &str, source: Option<(&str, &str)>) -> Value {
    let mut statement = json!({
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    });
    if let Some((account, arn)) = source {
        statement["Condition"] = json!({
            "StringEquals": {"aws:SourceAccount": account},
            "ArnLike": {"aws:SourceArn": arn},
        });
    }
    Value::Lit(statement)
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
    let project = format!(
        "arn:aws:codebuild:{}:{}:project/{}",
        b.config.region,
        b.account,
        naming::build_project(&stack)
    );
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
        // CodeBuild names the project it assumes the role for; EKS supports no such condition
        // for its cluster and node roles (AWS Support, prowler#4745), so those trust the
        // service alone.
        let source = (which == "codebuild").then_some((b.account, project.as_str()));
        b.graph.add(
            Desired::new(&role_id, Kind::IamRole)
                .with("name", Value::str(naming::role(&stack, which)))
                .with(
                    "description",
                    Value::str(format!("{purpose} (infra stack {stack})")),
                )
                .with(
                    "initial_trust_policy",
                    policy(vec![service_statement(service, source)]),
                )
                .with("tags", b.tags(&role_id)),
        );
        let mut trust = vec![service_statement(service, source)];
        if which == "codebuild" {
            // Since 2022 a role no longer trusts itself implicitly; the build assumes its own role
            // (aws eks update-kubeconfig --role-arn), so it needs the statement.
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
                // The build skips a commit already pushed: tags are immutable.
                "ecr:DescribeImages",
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
        // The stack creates the group (with its retention): the build only writes to it.
        statement(
            "WriteItsLogs",
            &["logs:CreateLogStream", "logs:PutLogEvents"],
            Value::Lit(json!([log_group, format!("{log_group}:*")])),
        ),
        statement(
            "AssumeItselfToDeploy",
            &["sts:AssumeRole"],
            out("role/codebuild", "arn"),
        ),
    ];
    let mut statements = statements;
    statements.extend(source_statement(b));
    if b.config.eks.endpoint == EndpointAccess::Private {
        statements.extend(vpc_build_statements(b));
    }
    for (action, sid) in [
        ("ssm:GetParameters", "ReadItsParameters"),
        ("secretsmanager:GetSecretValue", "ReadItsSecrets"),
    ] {
        let resources: Vec<String> = build_secrets(b.config)
            .filter(|(_, r)| r.read_action() == action)
            .map(|(_, r)| r.resource_arn(region, b.account))
            .collect();
        if !resources.is_empty() {
            statements.push(statement(sid, &[action], Value::Lit(json!(resources))));
        }
    }
    b.graph.add(
        Desired::new("policy/codebuild/deploy", Kind::IamInlinePolicy)
            .with("role_name", out("role/codebuild", "name"))
            .with("policy_name", Value::str("deploy"))
            .with("document", policy(statements)),
    );
}

/// What the build needs to fetch its source, for the host it is on: with a connection, the
/// connection's token (CodeBuild User Guide, "GitHub App connections", step 2: GetConnectionToken
/// and GetConnection), under the prefix of the connection's ARN, as IAM matches actions to
/// resources by it; for CodeCommit, a pull of that one repository. A public repository on
/// GitHub, or one the account's default source credential reaches, needs nothing.
fn source_statement(b: &Builder) -> Option<Value> {
    let c = &b.config.codebuild;
    if let Some(arn) = &c.connection_arn {
        // Validation has refused an ARN that does not parse; the prefix falls back to the new one.
        let prefix = ConnectionArn::parse(arn).map_or("codeconnections", |a| a.service);
        let actions = [
            format!("{prefix}:GetConnection"),
            format!("{prefix}:GetConnectionToken"),
        ];
        let actions: Vec<&str> = actions.iter().map(String::as_str).collect();
        return Some(statement("UseItsConnection", &actions, Value::str(arn)));
    }
    if c.source_type() == Some("CODECOMMIT") {
        let (region, name) = c.codecommit_repository()?;
        let arn = format!(
            "arn:{}:codecommit:{region}:{}:{name}",
            aws_rules::partition(region),
            b.account
        );
        return Some(statement(
            "PullItsRepository",
            &["codecommit:GitPull"],
            Value::str(arn),
        ));
    }
    None
}

fn statement(sid: &str, actions: &[&str], resource: Value) -> Value {
    Value::Map(BTreeMap::from([
        ("Sid".to_string(), Value::str(sid)),
        ("Effect".to_string(), Value::str("Allow")),
        ("Action".to_string(), Value::Lit(json!(actions))),
        ("Resource".to_string(), resource),
    ]))
}

/// What a build running in the VPC needs (CodeBuild User Guide, "Allow CodeBuild access to AWS
/// services required to create a VPC network interface"): EC2's describe calls and network
/// interface creation have no resource-level permissions, so AWS requires `*` for them; the
/// interfaces may be attached only for CodeBuild and only in the stack's private app subnets.
fn vpc_build_statements(b: &Builder) -> Vec<Value> {
    let region = &b.config.region;
    vec![
        Value::Lit(json!({
            "Sid": "RunInTheVpc",
            "Effect": "Allow",
            "Action": [
                "ec2:CreateNetworkInterface",
                "ec2:DeleteNetworkInterface",
                "ec2:DescribeDhcpOptions",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSubnets",
                "ec2:DescribeVpcs",
            ],
            "Resource": "*",
        })),
        Value::Map(BTreeMap::from([
            ("Sid".to_string(), Value::str("AttachInItsSubnets")),
            ("Effect".to_string(), Value::str("Allow")),
            (
                "Action".to_string(),
                Value::Lit(json!(["ec2:CreateNetworkInterfacePermission"])),
            ),
            (
                "Resource".to_string(),
                Value::str(format!(
                    "arn:aws:ec2:{region}:{}:network-interface/*",
                    b.account
                )),
            ),
            (
                "Condition".to_string(),
                Value::Map(BTreeMap::from([
                    (
                        "StringEquals".to_string(),
                        Value::Lit(json!({"ec2:AuthorizedService": "codebuild.amazonaws.com"})),
                    ),
                    (
                        "ArnEquals".to_string(),
                        Value::Map(BTreeMap::from([(
                            "ec2:Subnet".to_string(),
                            network::private_app_subnet_arns(b),
                        )])),
                    ),
                ])),
            ),
        ])),
    ]
}

#[cfg(test)]
mod tests {
    use crate::config::{parse, Config, DEFAULT_YAML};
    use crate::model::LogicalId;
    use serde_json::{json, Value as Json};

    const GITHUB_CONNECTION: &str =
        "arn:aws:codeconnections:us-east-1:123456789012:connection/0b1c2d3e-aaaa-bbbb-cccc-000000000001";
    const LEGACY_CONNECTION: &str =
        "arn:aws:codestar-connections:us-west-2:123456789012:connection/0b1c2d3e-aaaa-bbbb-cccc-000000000002";

    fn config(url: &str, connection: Option<&str>) -> Config {
        let mut c = parse(DEFAULT_YAML).unwrap();
        c.codebuild.repository_url = url.to_string();
        c.codebuild.connection_arn = connection.map(str::to_string);
        c
    }

    /// The build role's inline policy and the project's source, references shown as `<id>.<output>`.
    fn policy_and_source(c: &Config) -> (Vec<Json>, Json) {
        let g = super::super::build(c, "123456789012");
        let lookup = |r: &crate::model::Ref| Some(json!(format!("{}.{}", r.id, r.attr)));
        let attr = |id: &str, key: &str| {
            g.resources[&LogicalId::new(id)].attrs[key]
                .resolve(&lookup)
                .unwrap()
        };
        let doc = attr("policy/codebuild/deploy", "document");
        let statements = doc["Statement"].as_array().cloned().unwrap_or_default();
        (statements, attr("codebuild/project", "source"))
    }

    /// The statements that let the build reach its source.
    fn source_statements(statements: &[Json]) -> Vec<&Json> {
        statements
            .iter()
            .filter(|s| {
                s["Action"].as_array().into_iter().flatten().any(|a| {
                    let a = a.as_str().unwrap_or_default();
                    a.starts_with("codecommit:")
                        || a.starts_with("codeconnections:")
                        || a.starts_with("codestar-connections:")
                })
            })
            .collect()
    }

    #[test]
    fn a_public_github_repository_needs_no_statement_and_no_auth() {
        let (statements, source) =
            policy_and_source(&config("https://github.com/your-org/grpc-eks.git", None));
        assert!(source_statements(&statements).is_empty());
        assert_eq!(
            source,
            json!({"type": "GITHUB", "location": "https://github.com/your-org/grpc-eks.git",
                   "buildspec": "buildspec.yml"})
        );
    }

    #[test]
    fn a_connection_is_the_sources_auth_and_the_roles_only_source_grant() {
        for (url, kind) in [
            ("https://github.com/org/app.git", "GITHUB"),
            ("https://gitlab.com/org/app.git", "GITLAB"),
            ("https://bitbucket.org/org/app.git", "BITBUCKET"),
        ] {
            let (statements, source) = policy_and_source(&config(url, Some(GITHUB_CONNECTION)));
            assert_eq!(source["type"], kind);
            assert_eq!(
                source["auth"],
                json!({"type": "CODECONNECTIONS", "resource": GITHUB_CONNECTION})
            );
            assert_eq!(
                source_statements(&statements),
                [&json!({
                    "Sid": "UseItsConnection",
                    "Effect": "Allow",
                    "Action": ["codeconnections:GetConnection", "codeconnections:GetConnectionToken"],
                    "Resource": GITHUB_CONNECTION,
                })],
                "{url}"
            );
        }
    }

    #[test]
    fn a_legacy_connection_is_granted_under_its_own_prefix() {
        let c = config("https://github.com/org/app.git", Some(LEGACY_CONNECTION));
        let (statements, source) = policy_and_source(&c);
        assert_eq!(source["auth"]["resource"], LEGACY_CONNECTION);
        let granted = source_statements(&statements);
        assert_eq!(granted.len(), 1);
        assert_eq!(
            granted[0]["Action"],
            json!([
                "codestar-connections:GetConnection",
                "codestar-connections:GetConnectionToken"
            ])
        );
        assert_eq!(granted[0]["Resource"], LEGACY_CONNECTION);
    }

    #[test]
    fn a_codecommit_repository_is_pulled_by_the_role_from_that_repository_only() {
        let url = "https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/grpc-app";
        let (statements, source) = policy_and_source(&config(url, None));
        assert_eq!(
            source,
            json!({"type": "CODECOMMIT", "location": url, "buildspec": "buildspec.yml"})
        );
        assert_eq!(
            source_statements(&statements),
            [&json!({
                "Sid": "PullItsRepository",
                "Effect": "Allow",
                "Action": ["codecommit:GitPull"],
                "Resource": "arn:aws:codecommit:eu-west-1:123456789012:grpc-app",
            })]
        );
    }
}
