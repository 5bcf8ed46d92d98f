//! ECR repository: the service image's home, with scan on push and a lifecycle policy.

use crate::aws::{absent_ok, gone_ok, Aws, AwsResultExt};
use crate::kinds::{
    attrs, created, differs, Change, Current, Found, Outputs, Resource, Snapshot, StepCtx,
};
use crate::naming;
use crate::tags::{Tagged, Tags};
use anyhow::{bail, Result};
use aws_sdk_ecr::types::{ImageScanningConfiguration, ImageTagMutability, Repository as EcrRepo};
use serde_json::Value as Json;

/// ECR repository.
pub struct Repository;

attrs! {
    /// What the repository is made of.
    pub struct RepositoryAttrs {
        /// Its name.
        name: String => ForceNew,
        /// `MUTABLE` or `IMMUTABLE`: whether an image tag can be pushed again.
        image_tag_mutability: String,
        /// Whether images are scanned for vulnerabilities when pushed.
        scan_on_push: bool,
        /// The lifecycle policy document; null when there is none.
        lifecycle_policy: Json,
        /// Its tags.
        tags: Tags,
    }
}

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

/// The text PutLifecyclePolicy takes for the wanted policy; `None` when no policy is wanted.
/// The desired side may give the document as a JSON value or as JSON text.
fn policy_text(v: &Json) -> Option<String> {
    match v {
        Json::Null => None,
        Json::String(s) => Some(s.clone()),
        doc => Some(doc.to_string()),
    }
}

fn outputs(repo: &EcrRepo) -> Result<Outputs> {
    let name = created("ECR", repo.repository_name())?;
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

/// Puts the lifecycle policy, or deletes it when `text` is `None`.
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
            // No policy to delete (LifecyclePolicyNotFoundException) is what was wanted.
            let r = ecr
                .delete_lifecycle_policy()
                .repository_name(name)
                .send()
                .await
                .aws("DeleteLifecyclePolicy");
            gone_ok(r)?;
        }
    }
    Ok(())
}

/// How many images `name` holds, for the refusal message; `None` when ECR will not say.
/// How many images repository `name` holds, said for a person (`3 images`, `more than 1000
/// images`); `None` when it holds none or cannot be listed.
pub async fn images_held(aws: &Aws, name: &str) -> Option<String> {
    let out = aws
        .ecr
        .list_images()
        .repository_name(name)
        .max_results(1000)
        .send()
        .await
        .aws("ListImages")
        .ok()?;
    match (out.image_ids().len(), out.next_token().is_some()) {
        (0, false) => None,
        (n, false) => Some(format!("{n} image{}", if n == 1 { "" } else { "s" })),
        (n, true) => Some(format!("more than {n} images")),
    }
}

impl Resource for Repository {
    type Attrs = RepositoryAttrs;

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Found<Self::Attrs>>> {
        let ecr = &snap.aws().ecr;
        let name = naming::repository(snap.stack());
        let req = ecr.describe_repositories().repository_names(&name);
        let found = req.send().await.aws("DescribeRepositories");
        let Some(repo) = absent_ok(found)?.and_then(|out| {
            out.repositories
                .unwrap_or_default()
                .into_iter()
                .find(|r| r.repository_name() == Some(name.as_str()))
        }) else {
            return Ok(Vec::new());
        };
        let arn = created("DescribeRepositories", repo.repository_arn())?;
        let tags = async {
            let req = ecr.list_tags_for_resource().resource_arn(arn);
            req.send().await.aws("ListTagsForResource")
        };
        let policy = async {
            let req = ecr.get_lifecycle_policy().repository_name(&name);
            let r = req.send().await.aws("GetLifecyclePolicy");
            // No policy (LifecyclePolicyNotFoundException) reads as null.
            Ok(policy_json(
                absent_ok(r)?
                    .as_ref()
                    .and_then(|out| out.lifecycle_policy_text()),
            ))
        };
        let (tags, policy) = tokio::try_join!(tags, policy)?;
        let attrs = attrs_of(&repo, policy, Tags::from(tags.tags()));
        let mut found = Found::by_tags(snap.stack(), LOGICAL_ID, &name, attrs);
        found.outputs = outputs(&repo)?;
        Ok(vec![found])
    }

    async fn create(&self, cx: &StepCtx<'_>, want: &Self::Attrs) -> Result<Outputs> {
        let scanning = ImageScanningConfiguration::builder()
            .scan_on_push(want.scan_on_push)
            .build();
        let out = cx
            .aws
            .ecr
            .create_repository()
            .repository_name(&want.name)
            .image_tag_mutability(ImageTagMutability::from(want.image_tag_mutability.as_str()))
            .image_scanning_configuration(scanning)
            .set_tags(Some(want.tags.to_ecr()?))
            .send()
            .await
            .aws("CreateRepository")?;
        let repo = created("CreateRepository", out.repository())?;
        if let Some(text) = policy_text(&want.lifecycle_policy) {
            put_policy(cx, &want.name, Some(text)).await?;
        }
        outputs(repo)
    }

    async fn update(&self, cx: &StepCtx<'_>, c: &Change<Self::Attrs>) -> Result<Outputs> {
        let ecr = &cx.aws.ecr;
        let (name, have) = (c.physical_id.as_str(), &c.have);
        if have.image_tag_mutability != c.want.image_tag_mutability {
            ecr.put_image_tag_mutability()
                .repository_name(name)
                .image_tag_mutability(ImageTagMutability::from(
                    c.want.image_tag_mutability.as_str(),
                ))
                .send()
                .await
                .aws("PutImageTagMutability")?;
        }
        if differs(&have.lifecycle_policy, &c.want.lifecycle_policy) {
            put_policy(cx, name, policy_text(&c.want.lifecycle_policy)).await?;
        }
        if have.scan_on_push != c.want.scan_on_push {
            let scanning = ImageScanningConfiguration::builder()
                .scan_on_push(c.want.scan_on_push)
                .build();
            ecr.put_image_scanning_configuration()
                .repository_name(name)
                .image_scanning_configuration(scanning)
                .send()
                .await
                .aws("PutImageScanningConfiguration")?;
        }
        c.retag(cx.aws, Tagged::Ecr(c.output("arn")?)).await
    }

    async fn delete(&self, cx: &StepCtx<'_>, c: &Current<Self::Attrs>) -> Result<()> {
        let name = c.physical_id.as_str();
        let r = cx
            .aws
            .ecr
            .delete_repository()
            .repository_name(name)
            .force(cx.force)
            .send()
            .await
            .aws("DeleteRepository");
        match gone_ok(r) {
            Ok(()) => Ok(()),
            Err(e) if e.is("RepositoryNotEmptyException") => {
                // Images are the one thing destroy cannot recreate: deleting them takes an
                // explicit --force, and the refusal says so.
                let held = images_held(cx.aws, name)
                    .await
                    .unwrap_or_else(|| "images".to_string());
                bail!(
                    "ECR repository {name} still holds {held}, so it was left in place; \
                     run `infra destroy --force` to delete the images with it"
                )
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// The repository's attributes as DescribeRepositories shows it, with its lifecycle policy and
/// tags (each from its own call).
fn attrs_of(repo: &EcrRepo, lifecycle_policy: Json, tags: Tags) -> RepositoryAttrs {
    RepositoryAttrs {
        name: repo.repository_name().unwrap_or_default().to_string(),
        image_tag_mutability: repo
            .image_tag_mutability()
            .map(ImageTagMutability::as_str)
            .unwrap_or("MUTABLE")
            .to_string(),
        scan_on_push: repo
            .image_scanning_configuration()
            .is_some_and(|c| c.scan_on_push()),
        lifecycle_policy,
        tags,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests_typed::desired;
    use aws_sdk_ecr::types::Tag;
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
        assert_eq!(policy_text(&doc).as_deref(), Some("{\"rules\":[]}"));
        assert_eq!(
            policy_text(&json!("{\"rules\":[]}")).as_deref(),
            Some("{\"rules\":[]}")
        );
        assert_eq!(policy_text(&Json::Null), None);
    }

    #[test]
    fn observed_attributes_equal_the_desired_ones() {
        let want: RepositoryAttrs = desired(LOGICAL_ID);
        // As DescribeRepositories, GetLifecyclePolicy and ListTagsForResource return the stack's
        // repository: the policy as AWS formats it, and a tag AWS added itself.
        let repo = EcrRepo::builder()
            .repository_arn("arn:aws:ecr:us-east-1:123456789012:repository/grpc-eks")
            .registry_id("123456789012")
            .repository_name("grpc-eks")
            .repository_uri("123456789012.dkr.ecr.us-east-1.amazonaws.com/grpc-eks")
            .image_tag_mutability(ImageTagMutability::Immutable)
            .image_scanning_configuration(
                ImageScanningConfiguration::builder()
                    .scan_on_push(true)
                    .build(),
            )
            .build();
        let policy = r#"{"rules":[{"rulePriority":1,"description":"keep the last 10 images",
            "selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":10},
            "action":{"type":"expire"}}]}"#;
        let mut tags: Vec<Tag> = want
            .tags
            .0
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build().unwrap())
            .collect();
        tags.push(
            Tag::builder()
                .key("aws:cloudformation:stack-name")
                .value("x")
                .build()
                .unwrap(),
        );
        let got = attrs_of(&repo, policy_json(Some(policy)), Tags::from(&tags[..]));
        assert_eq!(got, want);
        let who = got.tags.identity("grpc-eks", LOGICAL_ID);
        assert_eq!((who.id.as_str(), who.owned), (LOGICAL_ID, true));
    }

    #[test]
    fn outputs_name_the_repository() {
        let repo = EcrRepo::builder()
            .repository_name("s")
            .repository_arn("arn:aws:ecr:us-east-1:1:repository/s")
            .repository_uri("1.dkr.ecr.us-east-1.amazonaws.com/s")
            .build();
        let out = outputs(&repo).unwrap();
        assert_eq!(out["id"], "s");
        assert_eq!(out["uri"], "1.dkr.ecr.us-east-1.amazonaws.com/s");
        assert!(outputs(&EcrRepo::builder().build()).is_err());
    }
}
