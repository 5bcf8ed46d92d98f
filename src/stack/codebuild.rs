//! The CodeBuild project that builds the image, pushes it and deploys it.

use super::{out, Builder};
use crate::model::{Desired, Kind, LogicalId, Value};
use crate::naming;
use std::collections::BTreeMap;

/// Adds the project: privileged (docker builds), the stack's role, and the environment the
/// buildspec reads.
pub(super) fn add(b: &mut Builder) {
    let c = b.config;
    let name = naming::build_project(&c.stack);
    let source = BTreeMap::from([
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
    let variables = BTreeMap::from([
        ("AWS_ACCOUNT_ID".to_string(), Value::str(b.account)),
        ("AWS_REGION".to_string(), Value::str(&c.region)),
        ("REPOSITORY_URI".to_string(), out("ecr/repository", "uri")),
        (
            "CLUSTER_NAME".to_string(),
            Value::str(naming::cluster(&c.stack)),
        ),
    ]);
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
            .with(
                "logs_group_name",
                Value::str(format!("/aws/codebuild/{name}")),
            )
            .with("tags", b.tags(id))
            // The project is usable only once its role may do the build's work.
            .after(&LogicalId::new("trust/codebuild"))
            .after(&LogicalId::new("policy/codebuild/deploy")),
    );
}
