//! CodeBuild project: builds the service image from its Git repository and deploys it.

use crate::aws::{gone_ok, AwsError, AwsResultExt};
use crate::kinds::{Outputs, ResourceKind, Spec, StepCtx};
use crate::model::{Kind, LogicalId, Observed, ID_TAG, STACK_TAG};
use crate::naming;
use crate::retry::{eventually, Budget};
use crate::snapshot::Snapshot;
use anyhow::{anyhow, Context, Result};
use async_trait::async_trait;
use aws_sdk_codebuild::types::{
    ArtifactsType, CloudWatchLogsConfig, ComputeType, EnvironmentType, EnvironmentVariable,
    EnvironmentVariableType, LogsConfig, LogsConfigStatusType, Project as CbProject,
    ProjectArtifacts, ProjectEnvironment, ProjectSource, SourceType, Tag,
};
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// CodeBuild project.
pub struct Project;

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

fn source_json(s: &ProjectSource) -> Json {
    let mut m = Map::new();
    m.insert("type".into(), json!(s.r#type().as_str()));
    if let Some(l) = s.location() {
        m.insert("location".into(), json!(l));
    }
    if let Some(b) = s.buildspec() {
        m.insert("buildspec".into(), json!(b));
    }
    Json::Object(m)
}

/// Environment variables as `{name: value}`. Variables that are not plain text (a Parameter
/// Store or Secrets Manager reference) carry their type in front, so that the config's plain
/// value never matches them by accident.
fn variables_json(vars: &[EnvironmentVariable]) -> Json {
    let map: Map<String, Json> = vars
        .iter()
        .map(|v| {
            let value = match v.r#type() {
                None | Some(EnvironmentVariableType::Plaintext) => v.value().to_string(),
                Some(t) => format!("{}:{}", t.as_str(), v.value()),
            };
            (v.name().to_string(), Json::String(value))
        })
        .collect();
    Json::Object(map)
}

fn environment_json(e: &ProjectEnvironment) -> Json {
    json!({
        "type": e.r#type().as_str(),
        "image": e.image(),
        "compute_type": e.compute_type().as_str(),
        "privileged_mode": e.privileged_mode().unwrap_or(false),
        "variables": variables_json(e.environment_variables()),
    })
}

/// The CloudWatch group the project logs to, or null when CloudWatch logging is off.
fn logs_group_json(logs: Option<&LogsConfig>, name: &str) -> Json {
    // CodeBuild logs to CloudWatch unless told otherwise, in its default group.
    match logs.and_then(LogsConfig::cloud_watch_logs) {
        None => json!(default_log_group(name)),
        Some(c) if *c.status() == LogsConfigStatusType::Enabled => {
            json!(c
                .group_name()
                .map_or_else(|| default_log_group(name), str::to_string))
        }
        Some(_) => Json::Null,
    }
}

fn tags_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .filter(|(k, _)| !k.starts_with("aws:"))
        .collect()
}

/// The logical id and ownership of a project found under the stack's name.
fn identity(tags: &BTreeMap<String, String>, stack: &str) -> (LogicalId, bool) {
    if tags.get(STACK_TAG).map(String::as_str) != Some(stack) {
        return (LogicalId::new(LOGICAL_ID), true);
    }
    let id = tags.get(ID_TAG).map_or(LOGICAL_ID, String::as_str);
    (LogicalId::new(id), false)
}

fn field<'a>(obj: &'a Map<String, Json>, what: &str, key: &str) -> Result<&'a str> {
    obj.get(key)
        .and_then(Json::as_str)
        .ok_or_else(|| anyhow!("{what} has no string {key:?}"))
}

fn object<'a>(spec: &'a Spec, key: &str) -> Result<&'a Map<String, Json>> {
    spec.get(key)
        .and_then(Json::as_object)
        .ok_or_else(|| anyhow!("spec has no object attribute {key:?}"))
}

fn source_from(v: &Map<String, Json>) -> Result<ProjectSource> {
    let text = |k: &str| v.get(k).and_then(Json::as_str).map(str::to_string);
    ProjectSource::builder()
        .r#type(SourceType::from(field(v, "source", "type")?))
        .set_location(text("location"))
        .set_buildspec(text("buildspec"))
        .build()
        .map_err(|e| anyhow!("source: {e}"))
}

/// Variables of the config, all plain text; non-string values are written as their JSON text.
fn variables_from(v: Option<&Json>) -> Result<Vec<EnvironmentVariable>> {
    let Some(map) = v.and_then(Json::as_object) else {
        return Ok(Vec::new());
    };
    map.iter()
        .map(|(name, value)| {
            let value = match value {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            };
            EnvironmentVariable::builder()
                .name(name)
                .value(value)
                .r#type(EnvironmentVariableType::Plaintext)
                .build()
                .map_err(|e| anyhow!("environment variable {name}: {e}"))
        })
        .collect()
}

fn environment_from(v: &Map<String, Json>) -> Result<ProjectEnvironment> {
    ProjectEnvironment::builder()
        .r#type(EnvironmentType::from(field(v, "environment", "type")?))
        .image(field(v, "environment", "image")?)
        .compute_type(ComputeType::from(field(v, "environment", "compute_type")?))
        .privileged_mode(
            v.get("privileged_mode")
                .and_then(Json::as_bool)
                .unwrap_or(false),
        )
        .set_environment_variables(Some(variables_from(v.get("variables"))?))
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

fn tags_from(spec: &Spec) -> Vec<Tag> {
    spec.tags()
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

fn outputs(name: &str, arn: &str) -> Outputs {
    Outputs::from([
        ("id".to_string(), name.to_string()),
        ("name".to_string(), name.to_string()),
        ("arn".to_string(), arn.to_string()),
    ])
}

fn project_outputs(p: Option<&CbProject>, name: &str) -> Outputs {
    outputs(name, p.and_then(CbProject::arn).unwrap_or_default())
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

#[async_trait]
impl ResourceKind for Project {
    fn force_new(&self) -> &'static [&'static str] {
        &["name"]
    }

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Observed>> {
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
        let tags = tags_map(p.tags());
        let (id, unowned) = identity(&tags, snap.stack());
        let mut o = Observed::new(id, Kind::CodeBuildProject, &name)
            .with("name", name.as_str())
            .with("service_role", p.service_role().unwrap_or_default())
            .with("source", p.source().map_or(Json::Null, source_json))
            .with(
                "source_version",
                p.source_version().map_or(Json::Null, Json::from),
            )
            .with(
                "environment",
                p.environment().map_or(Json::Null, environment_json),
            )
            .with("logs_group_name", logs_group_json(p.logs_config(), &name))
            .with("tags", json!(tags));
        o.outputs = project_outputs(Some(p), &name);
        o.unowned = unowned;
        Ok(vec![o])
    }

    async fn create(&self, cx: &StepCtx<'_>, spec: &Spec) -> Result<Outputs> {
        let name = spec.str("name")?;
        let req = cx
            .aws
            .codebuild
            .create_project()
            .name(name)
            .service_role(spec.str("service_role")?)
            .source(source_from(object(spec, "source")?)?)
            .set_source_version(
                spec.get("source_version")
                    .and_then(Json::as_str)
                    .map(str::to_string),
            )
            .artifacts(
                ProjectArtifacts::builder()
                    .r#type(ArtifactsType::NoArtifacts)
                    .build()
                    .map_err(|e| anyhow!("artifacts: {e}"))?,
            )
            .environment(environment_from(object(spec, "environment")?)?)
            .logs_config(logs_from(
                spec.get("logs_group_name").and_then(Json::as_str),
            )?)
            .set_tags(Some(tags_from(spec)));
        let out = while_role_propagates(cx, || async {
            req.clone().send().await.aws("CreateProject")
        })
        .await?;
        Ok(project_outputs(out.project(), name))
    }

    async fn update(
        &self,
        cx: &StepCtx<'_>,
        current: &Observed,
        spec: &Spec,
        changed: &[String],
    ) -> Result<Outputs> {
        let name = current.physical_id.as_str();
        let mut req = cx.aws.codebuild.update_project().name(name);
        let mut any = false;
        for attr in changed {
            req = match attr.as_str() {
                "service_role" => req.service_role(spec.str("service_role")?),
                "source" => req.source(source_from(object(spec, "source")?)?),
                // An empty version means the source's default branch.
                "source_version" => req.source_version(
                    spec.get("source_version")
                        .and_then(Json::as_str)
                        .unwrap_or_default(),
                ),
                "environment" => req.environment(environment_from(object(spec, "environment")?)?),
                "logs_group_name" => req.logs_config(logs_from(
                    spec.get("logs_group_name").and_then(Json::as_str),
                )?),
                // UpdateProject replaces the whole tag set.
                "tags" => req.set_tags(Some(tags_from(spec))),
                _ => continue,
            };
            any = true;
        }
        if !any {
            return Ok(current.outputs.clone());
        }
        let out = while_role_propagates(cx, || async {
            req.clone().send().await.aws("UpdateProject")
        })
        .await?;
        let mut outputs = project_outputs(out.project(), name);
        if outputs.get("arn").is_some_and(String::is_empty) {
            if let Some(arn) = current.outputs.get("arn") {
                outputs.insert("arn".into(), arn.clone());
            }
        }
        Ok(outputs)
    }

    async fn delete(&self, cx: &StepCtx<'_>, current: &Observed) -> Result<()> {
        let r = cx
            .aws
            .codebuild
            .delete_project()
            .name(&current.physical_id)
            .send()
            .await
            .map(|_| ())
            .aws("DeleteProject");
        gone_ok(r).context("deleting the CodeBuild project")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(name: &str, value: &str, t: EnvironmentVariableType) -> EnvironmentVariable {
        EnvironmentVariable::builder()
            .name(name)
            .value(value)
            .r#type(t)
            .build()
            .unwrap()
    }

    #[test]
    fn environment_round_trips_through_the_vocabulary() {
        let want = json!({
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/standard:7.0",
            "compute_type": "BUILD_GENERAL1_SMALL",
            "privileged_mode": true,
            "variables": {"AWS_ACCOUNT_ID": "123456789012", "PORT": 30080},
        });
        let env = environment_from(want.as_object().unwrap()).unwrap();
        let mut back = want.clone();
        back["variables"]["PORT"] = json!("30080");
        assert_eq!(environment_json(&env), back);
    }

    #[test]
    fn non_plaintext_variables_show_their_type() {
        let vars = [
            var("A", "x", EnvironmentVariableType::Plaintext),
            var("B", "/param", EnvironmentVariableType::ParameterStore),
        ];
        assert_eq!(
            variables_json(&vars),
            json!({"A": "x", "B": "PARAMETER_STORE:/param"})
        );
    }

    #[test]
    fn source_keeps_only_what_is_set() {
        let want = json!({"type": "GITHUB", "location": "https://x/y.git", "buildspec": "b.yml"});
        let s = source_from(want.as_object().unwrap()).unwrap();
        assert_eq!(source_json(&s), want);
        let bare = json!({"type": "NO_SOURCE"});
        assert_eq!(
            source_json(&source_from(bare.as_object().unwrap()).unwrap()),
            bare
        );
    }

    #[test]
    fn log_group_defaults_and_disabled() {
        assert_eq!(logs_group_json(None, "p"), json!("/aws/codebuild/p"));
        let on = logs_from(Some("/aws/codebuild/p")).unwrap();
        assert_eq!(logs_group_json(Some(&on), "p"), json!("/aws/codebuild/p"));
        let off = logs_from(None).unwrap();
        assert_eq!(logs_group_json(Some(&off), "p"), Json::Null);
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
    fn identity_follows_the_stack_tag() {
        let owned: BTreeMap<String, String> = [
            (STACK_TAG.to_string(), "s".to_string()),
            (ID_TAG.to_string(), LOGICAL_ID.to_string()),
        ]
        .into();
        assert_eq!(identity(&owned, "s"), (LogicalId::new(LOGICAL_ID), false));
        assert_eq!(identity(&owned, "t"), (LogicalId::new(LOGICAL_ID), true));
    }
}
