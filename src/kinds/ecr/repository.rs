//! ECR repository: the service image's home, with scan on push and a lifecycle policy.

use crate::aws::AwsResultExt;
use crate::kinds::{json_tags, Outputs, ResourceKind, Spec, StepCtx};
use crate::kinds::{tag_delta, TagDelta};
use crate::model::{Kind, LogicalId, Observed, ID_TAG, STACK_TAG};
use crate::naming;
use crate::snapshot::Snapshot;
use anyhow::{anyhow, bail, Context, Result};
use async_trait::async_trait;
use aws_sdk_ecr::types::{
    ImageScanningConfiguration, ImageTagMutability, Repository as EcrRepo, Tag,
};
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;

/// ECR repository.
pub struct Repository;

/// The logical id a repository gets when its tags do not say otherwise.
const LOGICAL_ID: &str = "ecr/repository";

/// A lifecycle policy as observed: parsed, so that AWS's formatting never counts as a change.
/// Text that does not parse is kept as a string, which then differs from any wanted document.
fn policy_json(text: Option<&str>) -> Json {
    match text {
        None => Json::Null,
        Some(t) => serde_json::from_str(t).unwrap_or_else(|_| Json::String(t.to_string())),
    }
}

/// The text PutLifecyclePolicy takes for the spec's policy; `None` when no policy is wanted.
/// The desired side may give the document as a JSON value or as JSON text.
fn policy_text(v: Option<&Json>) -> Option<String> {
    match v? {
        Json::Null => None,
        Json::String(s) => Some(s.clone()),
        doc => Some(doc.to_string()),
    }
}

/// Tags as a JSON object, without the `aws:` ones AWS adds itself.
fn tags_json(tags: &[Tag]) -> Json {
    let map: Map<String, Json> = tags
        .iter()
        .filter(|t| !t.key().starts_with("aws:"))
        .map(|t| (t.key().to_string(), Json::String(t.value().to_string())))
        .collect();
    Json::Object(map)
}

/// The logical id and ownership of a repository found under the stack's name.
fn identity(tags: &BTreeMap<String, String>, stack: &str) -> (LogicalId, bool) {
    if tags.get(STACK_TAG).map(String::as_str) != Some(stack) {
        return (LogicalId::new(LOGICAL_ID), true);
    }
    let id = tags.get(ID_TAG).map_or(LOGICAL_ID, String::as_str);
    (LogicalId::new(id), false)
}

fn ecr_tags(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| anyhow!("tag {k:?}: {e}"))
        })
        .collect()
}

fn outputs(repo: &EcrRepo) -> Result<Outputs> {
    let name = repo
        .repository_name()
        .context("ECR returned no repository name")?;
    Ok(Outputs::from([
        ("id".to_string(), name.to_string()),
        ("name".to_string(), name.to_string()),
        (
            "arn".to_string(),
            repo.repository_arn().unwrap_or_default().to_string(),
        ),
        (
            "uri".to_string(),
            repo.repository_uri().unwrap_or_default().to_string(),
        ),
    ]))
}

async fn put_policy(cx: &StepCtx<'_>, name: &str, text: Option<String>) -> Result<()> {
    let ecr = &cx.aws.ecr;
    match text {
        Some(text) => {
            ecr.put_lifecycle_policy()
                .repository_name(name)
                .lifecycle_policy_text(text)
                .send()
                .await
                .aws("PutLifecyclePolicy")?;
        }
        None => {
            let r = ecr
                .delete_lifecycle_policy()
                .repository_name(name)
                .send()
                .await
                .aws("DeleteLifecyclePolicy");
            match r {
                Err(e) if e.is("LifecyclePolicyNotFoundException") => {}
                other => {
                    other?;
                }
            }
        }
    }
    Ok(())
}

/// How many images `name` holds, for the refusal message; `None` when ECR will not say.
async fn image_count(cx: &StepCtx<'_>, name: &str) -> Option<(usize, bool)> {
    let out = cx
        .aws
        .ecr
        .list_images()
        .repository_name(name)
        .max_results(1000)
        .send()
        .await
        .aws("ListImages")
        .ok()?;
    Some((out.image_ids().len(), out.next_token().is_some()))
}

#[async_trait]
impl ResourceKind for Repository {
    fn force_new(&self) -> &'static [&'static str] {
        &["name"]
    }

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Observed>> {
        let ecr = &snap.aws().ecr;
        let name = naming::repository(snap.stack());
        let found = ecr
            .describe_repositories()
            .repository_names(&name)
            .send()
            .await
            .aws("DescribeRepositories");
        let repo = match found {
            Ok(out) => out
                .repositories
                .unwrap_or_default()
                .into_iter()
                .find(|r| r.repository_name() == Some(name.as_str())),
            Err(e) if e.is("RepositoryNotFoundException") => None,
            Err(e) => return Err(e.into()),
        };
        let Some(repo) = repo else {
            return Ok(Vec::new());
        };
        let arn = repo
            .repository_arn()
            .context("DescribeRepositories returned no ARN")?;
        let tags = async {
            ecr.list_tags_for_resource()
                .resource_arn(arn)
                .send()
                .await
                .aws("ListTagsForResource")
        };
        let policy = async {
            match ecr
                .get_lifecycle_policy()
                .repository_name(&name)
                .send()
                .await
                .aws("GetLifecyclePolicy")
            {
                Ok(out) => Ok(policy_json(out.lifecycle_policy_text())),
                Err(e) if e.is("LifecyclePolicyNotFoundException") => Ok(Json::Null),
                Err(e) => Err(e),
            }
        };
        let (tags, policy) = tokio::try_join!(tags, policy)?;
        let tags = tags_json(tags.tags());
        let (id, unowned) = identity(&json_tags(Some(&tags)), snap.stack());
        let mut o = Observed::new(id, Kind::EcrRepository, &name)
            .with("name", name.as_str())
            .with(
                "image_tag_mutability",
                repo.image_tag_mutability()
                    .map(ImageTagMutability::as_str)
                    .unwrap_or("MUTABLE"),
            )
            .with(
                "scan_on_push",
                repo.image_scanning_configuration()
                    .is_some_and(|c| c.scan_on_push()),
            )
            .with("lifecycle_policy", policy)
            .with("tags", tags);
        o.outputs = outputs(&repo)?;
        o.unowned = unowned;
        Ok(vec![o])
    }

    async fn create(&self, cx: &StepCtx<'_>, spec: &Spec) -> Result<Outputs> {
        let name = spec.str("name")?;
        let mutability = spec
            .get("image_tag_mutability")
            .and_then(Json::as_str)
            .map(ImageTagMutability::from);
        let scanning = ImageScanningConfiguration::builder()
            .scan_on_push(spec.flag("scan_on_push"))
            .build();
        let out = cx
            .aws
            .ecr
            .create_repository()
            .repository_name(name)
            .set_image_tag_mutability(mutability)
            .image_scanning_configuration(scanning)
            .set_tags(Some(ecr_tags(&spec.tags())?))
            .send()
            .await
            .aws("CreateRepository")?;
        let repo = out
            .repository()
            .context("CreateRepository returned no repository")?;
        if let Some(text) = policy_text(spec.get("lifecycle_policy")) {
            put_policy(cx, name, Some(text)).await?;
        }
        outputs(repo)
    }

    async fn update(
        &self,
        cx: &StepCtx<'_>,
        current: &Observed,
        spec: &Spec,
        changed: &[String],
    ) -> Result<Outputs> {
        let ecr = &cx.aws.ecr;
        let name = current.physical_id.as_str();
        for attr in changed {
            match attr.as_str() {
                "image_tag_mutability" => {
                    ecr.put_image_tag_mutability()
                        .repository_name(name)
                        .image_tag_mutability(ImageTagMutability::from(
                            spec.str("image_tag_mutability")?,
                        ))
                        .send()
                        .await
                        .aws("PutImageTagMutability")?;
                }
                "scan_on_push" => {
                    let scanning = ImageScanningConfiguration::builder()
                        .scan_on_push(spec.flag("scan_on_push"))
                        .build();
                    ecr.put_image_scanning_configuration()
                        .repository_name(name)
                        .image_scanning_configuration(scanning)
                        .send()
                        .await
                        .aws("PutImageScanningConfiguration")?;
                }
                "lifecycle_policy" => {
                    put_policy(cx, name, policy_text(spec.get("lifecycle_policy"))).await?;
                }
                "tags" => {
                    let arn = current
                        .outputs
                        .get("arn")
                        .context("observed repository has no ARN")?;
                    let TagDelta { set, remove } = tag_delta(current.attrs.get("tags"), spec);
                    if !set.is_empty() {
                        ecr.tag_resource()
                            .resource_arn(arn)
                            .set_tags(Some(ecr_tags(&set)?))
                            .send()
                            .await
                            .aws("TagResource")?;
                    }
                    if !remove.is_empty() {
                        ecr.untag_resource()
                            .resource_arn(arn)
                            .set_tag_keys(Some(remove))
                            .send()
                            .await
                            .aws("UntagResource")?;
                    }
                }
                _ => {}
            }
        }
        Ok(current.outputs.clone())
    }

    async fn delete(&self, cx: &StepCtx<'_>, current: &Observed) -> Result<()> {
        let name = current.physical_id.as_str();
        let r = cx
            .aws
            .ecr
            .delete_repository()
            .repository_name(name)
            .force(cx.force)
            .send()
            .await
            .aws("DeleteRepository");
        match r {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) if e.is("RepositoryNotEmptyException") => {
                // Images are the one thing destroy cannot recreate: deleting them takes an
                // explicit --force, and the refusal says so.
                let held = match image_count(cx, name).await {
                    Some((n, false)) => format!("{n} image{}", if n == 1 { "" } else { "s" }),
                    Some((n, true)) => format!("more than {n} images"),
                    None => "images".to_string(),
                };
                bail!(
                    "ECR repository {name} still holds {held}, so it was left in place; \
                     run `infra destroy --force` to delete the images with it"
                )
            }
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn policy_parses_and_ignores_formatting() {
        let text = "{ \"rules\" : [ {\"rulePriority\": 1} ] }";
        assert_eq!(
            policy_json(Some(text)),
            json!({"rules": [{"rulePriority": 1}]})
        );
        assert_eq!(policy_json(None), Json::Null);
        assert_eq!(policy_json(Some("not json")), json!("not json"));
    }

    #[test]
    fn policy_text_accepts_values_and_text() {
        let doc = json!({"rules": []});
        assert_eq!(policy_text(Some(&doc)).as_deref(), Some("{\"rules\":[]}"));
        assert_eq!(
            policy_text(Some(&json!("{\"rules\":[]}"))).as_deref(),
            Some("{\"rules\":[]}")
        );
        assert_eq!(policy_text(Some(&Json::Null)), None);
        assert_eq!(policy_text(None), None);
    }

    #[test]
    fn identity_follows_the_stack_tag() {
        let tags = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let owned = tags(&[(STACK_TAG, "s"), (ID_TAG, "ecr/repository")]);
        assert_eq!(identity(&owned, "s"), (LogicalId::new(LOGICAL_ID), false));
        let other = tags(&[(STACK_TAG, "t"), (ID_TAG, "x")]);
        assert_eq!(identity(&other, "s"), (LogicalId::new(LOGICAL_ID), true));
        assert_eq!(
            identity(&tags(&[]), "s"),
            (LogicalId::new(LOGICAL_ID), true)
        );
    }

    #[test]
    fn aws_tags_are_left_out() {
        let t = |k: &str, v: &str| Tag::builder().key(k).value(v).build().unwrap();
        let tags = [t("aws:cloudformation:stack", "x"), t("infra:stack", "s")];
        assert_eq!(tags_json(&tags), json!({"infra:stack": "s"}));
    }
}
