//! The CodeBuild project that builds the image, pushes it and deploys it.

use super::{network, out, Builder};
use crate::config::{Config, EndpointAccess, SecretRef};
use crate::model::{Desired, Kind, LogicalId, Value};
use crate::naming;
use serde_json::json;
use std::collections::BTreeMap;

/// Logical id of the log group builds write to.
pub const BUILD_LOG_GROUP: &str = "logs/codebuild";

/// The config's build secrets, parsed (validation has refused any that do not parse).
pub fn build_secrets(c: &Config) -> impl Iterator<Item = (&String, SecretRef)> {
    c.codebuild
        .secrets
        .iter()
        .filter_map(|(name, r)| Some((name, SecretRef::parse(r).ok()?)))
}

/// Adds the project: privileged (docker builds), the stack's role, and the environment the
/// buildspec reads.
pub(super) fn add(b: &mut Builder) {
    let c = b.config;
    let name = naming::build_project(&c.stack);
    let mut source = BTreeMap::from([
        (
            "type".to_string(),
            Value::str(c.codebuild.source_type().unwrap_or("GITHUB")),
        ),
        (
            "location".to_string(),
            Value::str(&c.codebuild.repository_url),
        ),
        ("buildspec".to_string(), Value::str(&c.codebuild.buildspec)),
    ]);
    // CODECONNECTIONS takes both ARN forms (codeconnections and legacy codestar-connections).
    if let Some(arn) = &c.codebuild.connection_arn {
        source.insert(
            "auth".to_string(),
            Value::Map(BTreeMap::from([
                ("type".to_string(), Value::str("CODECONNECTIONS")),
                ("resource".to_string(), Value::str(arn)),
            ])),
        );
    }
    let mut variables = BTreeMap::from([
        ("AWS_ACCOUNT_ID".to_string(), Value::str(b.account)),
        ("AWS_REGION".to_string(), Value::str(&c.region)),
        ("REPOSITORY_URI".to_string(), out("ecr/repository", "uri")),
        (
            "CLUSTER_NAME".to_string(),
            Value::str(naming::cluster(&c.stack)),
        ),
        ("K8S_NAMESPACE".into(), Value::str(&c.service.namespace)),
        // The buildspec deploys as this role assuming itself (its self-trust statement).
        ("BUILD_ROLE_ARN".to_string(), out("role/codebuild", "arn")),
    ]);
    // Secrets by reference: CodeBuild resolves them when the build starts; their values are
    // never in the config, the project or the plan.
    for (name, reference) in build_secrets(c) {
        let typed = format!("{}:{}", reference.variable_type(), reference.value());
        variables.insert(name.clone(), Value::str(typed));
    }
    let environment = BTreeMap::from([
        ("type".to_string(), Value::str("LINUX_CONTAINER")),
        ("image".to_string(), Value::str(&c.codebuild.image)),
        (
            "compute_type".to_string(),
            Value::str(&c.codebuild.compute_type),
        ),
        ("privileged_mode".to_string(), Value::bool(true)),
        ("variables".to_string(), Value::Map(variables)),
    ]);
    let id = "codebuild/project";
    b.graph.add(
        Desired::new(id, Kind::CodeBuildProject)
            .with("name", Value::str(&name))
            .with("service_role", out("role/codebuild", "arn"))
            .with("source", Value::Map(source))
            .with("source_version", Value::str(&c.codebuild.branch))
            .with("environment", Value::Map(environment))
            .with("logs_group_name", out(BUILD_LOG_GROUP, "name"))
            .with(
                "timeout_minutes",
                Value::Lit(json!(c.codebuild.timeout_minutes)),
            )
            .with("vpc", build_vpc(b))
            .with("tags", b.tags(id))
            // The project is usable only once its role may do the build's work.
            .after(&LogicalId::new("trust/codebuild"))
            .after(&LogicalId::new("policy/codebuild/deploy")),
    );
}

/// Where builds run: outside any VPC, unless the cluster's endpoint is private; then in the
/// private app subnets (which reach the internet through the NAT gateway), in their own group.
fn build_vpc(b: &Builder) -> Value {
    if b.config.eks.endpoint != EndpointAccess::Private {
        return Value::Lit(serde_json::Value::Null);
    }
    Value::Map(BTreeMap::from([
        ("vpc_id".to_string(), out(network::VPC, "id")),
        ("subnets".to_string(), network::private_app_subnet_ids(b)),
        (
            "security_group_ids".to_string(),
            Value::List(vec![out(network::BUILD_SG, "id")]),
        ),
    ]))
}
