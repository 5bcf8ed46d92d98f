//! CodeBuild project: builds the service image from its Git repository and deploys it.

use crate::aws::{gone_ok, AwsError, AwsResultExt};
use crate::kinds::{
    attrs, differs, named_outputs, Change, Current, Found, Outputs, Resource, Snapshot, StepCtx,
};
use crate::naming;
use crate::retry::{eventually, Budget};
use crate::tags::Tags;
use anyhow::{anyhow, Context, Result};
use aws_sdk_codebuild::types::{
    ArtifactsType, CloudWatchLogsConfig, ComputeType, EnvironmentType, EnvironmentVariable,
    EnvironmentVariableType, LogsConfig, LogsConfigStatusType, Project as CbProject,
    ProjectArtifacts, ProjectEnvironment, ProjectSource, SourceAuth as CbSourceAuth,
    SourceAuthType, SourceType, VpcConfig,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// CodeBuild project.
pub struct Project;

attrs! {
    /// What the project is made of.
    pub struct ProjectAttrs {
        /// Its name.
        name: String => ForceNew,
        /// The ARN of the role builds run as.
        service_role: String,
        /// Where the code and the buildspec come from.
        source: Source,
        /// The branch (or commit) built by default; null when the project names none.
        #[serde(default)]
        source_version: Option<String>,
        /// The build container.
        environment: Environment,
        /// The CloudWatch Logs group builds log to; null when CloudWatch logging is off.
        #[serde(default)]
        logs_group_name: Option<String>,
        /// Minutes a build may run before CodeBuild stops it.
        timeout_minutes: i32,
        /// The VPC builds run in (to reach a private cluster endpoint); null: outside any VPC.
        #[serde(default)]
        vpc: Option<Vpc>,
        /// Its tags.
        tags: Tags,
    }
}

/// A project's source.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The source provider (`GITHUB`, `CODECOMMIT`, `NO_SOURCE`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// The repository's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The buildspec's path in the repository (or its text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buildspec: Option<String>,
    /// How CodeBuild authenticates to the repository; none: the account's default source
    /// credential, or none at all (a public repository, CodeCommit through the role).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<SourceAuth>,
}

/// A source's credential.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceAuth {
    /// `CODECONNECTIONS`, `SECRETS_MANAGER` or `OAUTH`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The connection's or secret's ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}

/// A project's build environment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// The container type (`LINUX_CONTAINER`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The build image.
    pub image: String,
    /// The build machine's size.
    pub compute_type: String,
    /// Whether builds may run Docker (image builds need it).
    pub privileged_mode: bool,
    /// Environment variables, by name. Variables that are not plain text (a Parameter Store or
    /// Secrets Manager reference) carry their type in front: `PARAMETER_STORE:/param`.
    pub variables: BTreeMap<String, String>,
}

/// Where a project's builds run inside a VPC.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vpc {
    /// The VPC.
    pub vpc_id: String,
    /// Its subnets the builds' network interfaces go in (private ones, with a NAT gateway).
    pub subnets: Vec<String>,
    /// The builds' security groups.
    pub security_group_ids: Vec<String>,
}

fn vpc_from(v: Option<&Vpc>) -> VpcConfig {
    // An empty config takes the project out of the VPC.
    let Some(v) = v else {
        return VpcConfig::builder().build();
    };
    VpcConfig::builder()
        .vpc_id(&v.vpc_id)
        .set_subnets(Some(v.subnets.clone()))
        .set_security_group_ids(Some(v.security_group_ids.clone()))
        .build()
}

fn vpc_of(v: &VpcConfig) -> Option<Vpc> {
    Some(Vpc {
        vpc_id: v.vpc_id()?.to_string(),
        subnets: v.subnets().to_vec(),
        security_group_ids: v.security_group_ids().to_vec(),
    })
}

/// The logical id a project gets when its tags do not say otherwise.
const LOGICAL_ID: &str = "codebuild/project";

/// How long CodeBuild may take to be allowed to assume a role IAM created a moment ago.
const ROLE_PROPAGATION: Budget = Budget {
    total: Duration::from_secs(120),
};

/// The error CodeBuild gives while IAM has not yet propagated a new role or trust policy.
fn role_not_assumable(e: &AwsError) -> bool {
    e.is("InvalidInputException")
        && e.detail
            .contains("not authorized to perform: sts:AssumeRole")
}

/// The group CodeBuild writes to when the logs config names none.
fn default_log_group(name: &str) -> String {
    format!("/aws/codebuild/{name}")
}

fn source_of(s: &ProjectSource) -> Source {
    Source {
        kind: s.r#type().as_str().to_string(),
        location: s.location().map(str::to_string),
        buildspec: s.buildspec().map(str::to_string),
        auth: s.auth().map(|a| SourceAuth {
            kind: a.r#type().as_str().to_string(),
            resource: a.resource().map(str::to_string),
        }),
    }
}

/// Environment variables by name. Variables that are not plain text carry their type in front,
/// so that the config's plain value never matches them by accident.
fn variables_of(vars: &[EnvironmentVariable]) -> BTreeMap<String, String> {
    vars.iter()
        .map(|v| {
            let value = match v.r#type() {
                None | Some(EnvironmentVariableType::Plaintext) => v.value().to_string(),
                Some(t) => format!("{}:{}", t.as_str(), v.value()),
            };
            (v.name().to_string(), value)
        })
        .collect()
}

fn environment_of(e: &ProjectEnvironment) -> Environment {
    Environment {
        kind: e.r#type().as_str().to_string(),
        image: e.image().to_string(),
        compute_type: e.compute_type().as_str().to_string(),
        privileged_mode: e.privileged_mode().unwrap_or(false),
        variables: variables_of(e.environment_variables()),
    }
}

/// The CloudWatch group the project logs to, or `None` when CloudWatch logging is off.
fn logs_group_of(logs: Option<&LogsConfig>, name: &str) -> Option<String> {
    // CodeBuild logs to CloudWatch unless told otherwise, in its default group.
    match logs.and_then(LogsConfig::cloud_watch_logs) {
        None => Some(default_log_group(name)),
        Some(c) if *c.status() == LogsConfigStatusType::Enabled => Some(
            c.group_name()
                .map_or_else(|| default_log_group(name), str::to_string),
        ),
        Some(_) => None,
    }
}

fn source_from(s: &Source) -> Result<ProjectSource> {
    let auth = s
        .auth
        .as_ref()
        .map(|a| {
            CbSourceAuth::builder()
                .r#type(SourceAuthType::from(a.kind.as_str()))
                .set_resource(a.resource.clone())
                .build()
                .map_err(|e| anyhow!("source auth: {e}"))
        })
        .transpose()?;
    ProjectSource::builder()
        .r#type(SourceType::from(s.kind.as_str()))
        .set_location(s.location.clone())
        .set_buildspec(s.buildspec.clone())
        .set_auth(auth)
        .build()
        .map_err(|e| anyhow!("source: {e}"))
}

/// A variable's type and value from its attribute form (`PARAMETER_STORE:/param` for a secret
/// by reference, anything else plain text): the inverse of [`variables_of`].
fn typed_variable(value: &str) -> (EnvironmentVariableType, &str) {
    for t in [
        EnvironmentVariableType::ParameterStore,
        EnvironmentVariableType::SecretsManager,
    ] {
        if let Some(reference) = value
            .strip_prefix(t.as_str())
            .and_then(|v| v.strip_prefix(':'))
        {
            return (t, reference);
        }
    }
    (EnvironmentVariableType::Plaintext, value)
}

/// The environment as CodeBuild takes it.
fn environment_from(e: &Environment) -> Result<ProjectEnvironment> {
    let variables = e
        .variables
        .iter()
        .map(|(name, value)| {
            let (kind, value) = typed_variable(value);
            EnvironmentVariable::builder()
                .name(name)
                .value(value)
                .r#type(kind)
                .build()
                .map_err(|e| anyhow!("environment variable {name}: {e}"))
        })
        .collect::<Result<Vec<_>>>()?;
    ProjectEnvironment::builder()
        .r#type(EnvironmentType::from(e.kind.as_str()))
        .image(&e.image)
        .compute_type(ComputeType::from(e.compute_type.as_str()))
        .privileged_mode(e.privileged_mode)
        .set_environment_variables(Some(variables))
        .build()
        .map_err(|e| anyhow!("environment: {e}"))
}

fn logs_from(group: Option<&str>) -> Result<LogsConfig> {
    let cw = match group {
        Some(g) => CloudWatchLogsConfig::builder()
            .status(LogsConfigStatusType::Enabled)
            .group_name(g),
        None => CloudWatchLogsConfig::builder().status(LogsConfigStatusType::Disabled),
    };
    let cw = cw.build().map_err(|e| anyhow!("logs config: {e}"))?;
    Ok(LogsConfig::builder().cloud_watch_logs(cw).build())
}

fn project_outputs(p: Option<&CbProject>, name: &str) -> Outputs {
    named_outputs(name, p.and_then(CbProject::arn).unwrap_or_default())
}

/// Runs `call`, retrying while CodeBuild cannot assume a fresh role yet, and tells the user once.
async fn while_role_propagates<T, F, Fut>(cx: &StepCtx<'_>, call: F) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, AwsError>>,
{
    let noted = AtomicBool::new(false);
    eventually(
        ROLE_PROPAGATION,
        |e| {
            let transient = role_not_assumable(e);
            if transient && !noted.swap(true, Ordering::Relaxed) {
                cx.note("waiting for IAM to let CodeBuild assume its new role");
            }
            transient
        },
        call,
    )
    .await
}

impl Resource for Project {
    type Attrs = ProjectAttrs;

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Found<Self::Attrs>>> {
        let name = naming::build_project(snap.stack());
        let out = snap
            .aws()
            .codebuild
            .batch_get_projects()
            .names(&name)
            .send()
            .await
            .aws("BatchGetProjects")?;
        let Some(p) = out
            .projects()
            .iter()
            .find(|p| p.name() == Some(name.as_str()))
        else {
            return Ok(Vec::new());
        };
        let attrs = attrs_of(p);
        let mut found = Found::by_tags(snap.stack(), LOGICAL_ID, &name, attrs);
        found.outputs = project_outputs(Some(p), &name);
        Ok(vec![found])
    }

    async fn create(&self, cx: &StepCtx<'_>, want: &Self::Attrs) -> Result<Outputs> {
        let req = cx
            .aws
            .codebuild
            .create_project()
            .name(&want.name)
            .service_role(&want.service_role)
            .source(source_from(&want.source)?)
            .set_source_version(want.source_version.clone())
            .artifacts(
                ProjectArtifacts::builder()
                    .r#type(ArtifactsType::NoArtifacts)
                    .build()
                    .map_err(|e| anyhow!("artifacts: {e}"))?,
            )
            .environment(environment_from(&want.environment)?)
            .logs_config(logs_from(want.logs_group_name.as_deref())?)
            .timeout_in_minutes(want.timeout_minutes)
            .set_vpc_config(want.vpc.as_ref().map(|v| vpc_from(Some(v))))
            .set_tags(Some(want.tags.to_codebuild()));
        let out = while_role_propagates(cx, || async {
            req.clone().send().await.aws("CreateProject")
        })
        .await?;
        Ok(project_outputs(out.project(), &want.name))
    }

    async fn update(&self, cx: &StepCtx<'_>, c: &Change<Self::Attrs>) -> Result<Outputs> {
        let (name, have) = (c.physical_id.as_str(), &c.have);
        let mut req = cx.aws.codebuild.update_project().name(name);
        let mut any = false;
        if have.service_role != c.want.service_role {
            req = req.service_role(&c.want.service_role);
            any = true;
        }
        if have.source != c.want.source {
            req = req.source(source_from(&c.want.source)?);
            any = true;
        }
        if have.source_version != c.want.source_version {
            // An empty version means the source's default branch.
            req = req.source_version(c.want.source_version.as_deref().unwrap_or_default());
            any = true;
        }
        if have.environment != c.want.environment {
            req = req.environment(environment_from(&c.want.environment)?);
            any = true;
        }
        if have.logs_group_name != c.want.logs_group_name {
            req = req.logs_config(logs_from(c.want.logs_group_name.as_deref())?);
            any = true;
        }
        if have.timeout_minutes != c.want.timeout_minutes {
            req = req.timeout_in_minutes(c.want.timeout_minutes);
            any = true;
        }
        if differs(&have.vpc, &c.want.vpc) {
            req = req.vpc_config(vpc_from(c.want.vpc.as_ref()));
            any = true;
        }
        if differs(&have.tags, &c.want.tags) {
            // UpdateProject replaces the whole tag set.
            req = req.set_tags(Some(c.want.tags.to_codebuild()));
            any = true;
        }
        if !any {
            return Ok(c.outputs.clone());
        }
        let out = while_role_propagates(cx, || async {
            req.clone().send().await.aws("UpdateProject")
        })
        .await?;
        let mut outputs = project_outputs(out.project(), name);
        if outputs.get("arn").is_some_and(String::is_empty) {
            if let Some(arn) = c.outputs.get("arn") {
                outputs.insert("arn".into(), arn.clone());
            }
        }
        Ok(outputs)
    }

    async fn delete(&self, cx: &StepCtx<'_>, c: &Current<Self::Attrs>) -> Result<()> {
        let r = cx
            .aws
            .codebuild
            .delete_project()
            .name(&c.physical_id)
            .send()
            .await
            .map(|_| ())
            .aws("DeleteProject");
        gone_ok(r).context("deleting the CodeBuild project")
    }
}

/// The project's attributes as BatchGetProjects shows it. CodeBuild requires a source and an
/// environment; a project without them (which CodeBuild never returns) reads as empty ones.
fn attrs_of(p: &CbProject) -> ProjectAttrs {
    let name = p.name().unwrap_or_default();
    ProjectAttrs {
        name: name.to_string(),
        service_role: p.service_role().unwrap_or_default().to_string(),
        source: p.source().map(source_of).unwrap_or_default(),
        source_version: p.source_version().map(str::to_string),
        environment: p.environment().map(environment_of).unwrap_or_default(),
        logs_group_name: logs_group_of(p.logs_config(), name),
        // CodeBuild's default when a project sets none.
        timeout_minutes: p.timeout_in_minutes().unwrap_or(60),
        vpc: p.vpc_config().and_then(vpc_of),
        tags: Tags::from(p.tags()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests_typed::desired;
    use aws_sdk_codebuild::types::Tag;

    fn var(name: &str, value: &str, t: EnvironmentVariableType) -> EnvironmentVariable {
        EnvironmentVariable::builder()
            .name(name)
            .value(value)
            .r#type(t)
            .build()
            .unwrap()
    }

    fn env(variables: &[(&str, &str)]) -> Environment {
        Environment {
            kind: "LINUX_CONTAINER".into(),
            image: "aws/codebuild/standard:7.0".into(),
            compute_type: "BUILD_GENERAL1_SMALL".into(),
            privileged_mode: true,
            variables: variables
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn environment_round_trips_through_the_sdk() {
        let want = env(&[
            ("AWS_ACCOUNT_ID", "123456789012"),
            ("PORT", "30080"),
            ("TOKEN", "PARAMETER_STORE:/app/token"),
            ("DB", "SECRETS_MANAGER:app/db:password"),
        ]);
        let sent = environment_from(&want).unwrap();
        let token = sent
            .environment_variables()
            .iter()
            .find(|v| v.name() == "TOKEN");
        let token = token.unwrap();
        assert_eq!(
            token.r#type(),
            Some(&EnvironmentVariableType::ParameterStore)
        );
        assert_eq!(token.value(), "/app/token", "the reference, never a value");
        assert_eq!(environment_of(&sent), want);
    }

    #[test]
    fn non_plaintext_variables_show_their_type() {
        let vars = [
            var("A", "x", EnvironmentVariableType::Plaintext),
            var("B", "/param", EnvironmentVariableType::ParameterStore),
        ];
        assert_eq!(
            variables_of(&vars),
            env(&[("A", "x"), ("B", "PARAMETER_STORE:/param")]).variables
        );
    }

    #[test]
    fn source_keeps_only_what_is_set() {
        let want = Source {
            kind: "GITHUB".into(),
            location: Some("https://x/y.git".into()),
            buildspec: Some("b.yml".into()),
            auth: None,
        };
        assert_eq!(source_of(&source_from(&want).unwrap()), want);
        let connected = Source {
            auth: Some(SourceAuth {
                kind: "CODECONNECTIONS".into(),
                resource: Some(
                    "arn:aws:codeconnections:us-east-1:123456789012:connection/abc".into(),
                ),
            }),
            ..want.clone()
        };
        let sent = source_from(&connected).unwrap();
        assert_eq!(
            sent.auth().map(|a| a.r#type()),
            Some(&SourceAuthType::Codeconnections)
        );
        assert_eq!(source_of(&sent), connected);
        let bare = Source {
            kind: "NO_SOURCE".into(),
            ..Source::default()
        };
        assert_eq!(source_of(&source_from(&bare).unwrap()), bare);
        assert_eq!(
            serde_json::to_value(&bare).unwrap(),
            serde_json::json!({"type": "NO_SOURCE"})
        );
    }

    #[test]
    fn log_group_defaults_and_disabled() {
        assert_eq!(
            logs_group_of(None, "p").as_deref(),
            Some("/aws/codebuild/p")
        );
        let on = logs_from(Some("/aws/codebuild/p")).unwrap();
        assert_eq!(
            logs_group_of(Some(&on), "p").as_deref(),
            Some("/aws/codebuild/p")
        );
        let off = logs_from(None).unwrap();
        assert_eq!(logs_group_of(Some(&off), "p"), None);
    }

    #[test]
    fn only_the_assume_role_refusal_is_retried() {
        let e = |code: &str, msg: &str| AwsError {
            op: "CreateProject",
            code: Some(code.into()),
            detail: format!("{code}: {msg}"),
        };
        assert!(role_not_assumable(&e(
            "InvalidInputException",
            "CodeBuild is not authorized to perform: sts:AssumeRole on arn:aws:iam::1:role/r"
        )));
        assert!(!role_not_assumable(&e(
            "InvalidInputException",
            "Invalid compute type provided"
        )));
        assert!(!role_not_assumable(&e(
            "AccessDeniedException",
            "not authorized to perform: sts:AssumeRole"
        )));
    }

    #[test]
    fn observed_attributes_equal_the_desired_ones() {
        let want: ProjectAttrs = desired(LOGICAL_ID);
        // As BatchGetProjects returns the stack's project (moto 5, same shape as AWS).
        let source = ProjectSource::builder()
            .r#type(SourceType::Github)
            .location("https://github.com/your-org/grpc-eks.git")
            .buildspec("buildspec.yml")
            .build()
            .unwrap();
        // Its variables as the environment test above shows CodeBuild keeps them.
        let environment = environment_from(&want.environment).unwrap();
        assert_eq!(environment.image(), "aws/codebuild/standard:7.0");
        assert!(environment.privileged_mode().unwrap_or_default());
        let tags = want
            .tags
            .0
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build());
        let p = CbProject::builder()
            .name("grpc-eks")
            .arn("arn:aws:codebuild:us-east-1:123456789012:project/grpc-eks")
            .service_role("role/codebuild.arn")
            .timeout_in_minutes(30)
            .source(source)
            .source_version("main")
            .artifacts(
                ProjectArtifacts::builder()
                    .r#type(ArtifactsType::NoArtifacts)
                    .build()
                    .unwrap(),
            )
            .environment(environment)
            .logs_config(logs_from(want.logs_group_name.as_deref()).unwrap())
            .set_tags(Some(tags.collect()))
            .build();
        let got = attrs_of(&p);
        assert_eq!(got, want);
        let who = got.tags.identity("grpc-eks", LOGICAL_ID);
        assert_eq!((who.id.as_str(), who.owned), (LOGICAL_ID, true));
    }

    #[test]
    fn a_project_without_version_or_logs_reads_as_null() {
        let p = CbProject::builder()
            .name("p")
            .logs_config(logs_from(None).unwrap())
            .build();
        let json = serde_json::to_value(attrs_of(&p)).unwrap();
        assert_eq!(json["source_version"], serde_json::Value::Null);
        assert_eq!(json["logs_group_name"], serde_json::Value::Null);
    }
}
