//! Tag handling shared by the EC2 kinds.

use crate::aws::{Aws, AwsResultExt};
use crate::kinds::tag_delta;
use crate::kinds::{Outputs, Spec};
use crate::model::{LogicalId, ID_TAG};
use crate::retry::{eventually, not_found_yet, Budget};
use anyhow::Result;
use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
use serde_json::{Map, Value as Json};

/// Tags applied in the create call itself, so no untagged resource can exist even briefly.
pub fn tag_spec(resource: ResourceType, spec: &Spec) -> TagSpecification {
    let tags = spec
        .tags()
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build());
    TagSpecification::builder()
        .resource_type(resource)
        .set_tags(Some(tags.collect()))
        .build()
}

/// Tags as a JSON object, without the `aws:` ones AWS adds itself.
pub fn tags_json(tags: &[Tag]) -> Json {
    let map: Map<String, Json> = tags
        .iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default())))
        .filter(|(k, _)| !k.starts_with("aws:"))
        .map(|(k, v)| (k, Json::String(v.to_string())))
        .collect();
    Json::Object(map)
}

/// The logical id a resource carries in its `infra:id` tag; untagged ones get a placeholder
/// id, so they show up as not wanted.
pub fn logical_id(tags: &[Tag], physical: &str) -> LogicalId {
    tags.iter()
        .find(|t| t.key() == Some(ID_TAG))
        .and_then(|t| t.value())
        .map(LogicalId::new)
        .unwrap_or_else(|| LogicalId::new(format!("untracked/{physical}")))
}

/// Outputs holding just the id.
pub fn id_output(id: &str) -> Outputs {
    Outputs::from([("id".to_string(), id.to_string())])
}

/// Brings the resource's tags from `current` to the spec's: set what differs, remove what is gone.
pub async fn update_tags(
    aws: &Aws,
    resource: &str,
    current: Option<&Json>,
    spec: &Spec,
) -> Result<()> {
    let delta = tag_delta(current, spec);
    let set: Vec<Tag> = delta
        .set
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    let remove: Vec<Tag> = delta
        .remove
        .into_iter()
        .map(|k| Tag::builder().key(k).build())
        .collect();
    if !set.is_empty() {
        eventually(Budget::FRESH_ID, not_found_yet, || async {
            aws.ec2
                .create_tags()
                .resources(resource)
                .set_tags(Some(set.clone()))
                .send()
                .await
                .aws("CreateTags")
        })
        .await?;
    }
    if !remove.is_empty() {
        aws.ec2
            .delete_tags()
            .resources(resource)
            .set_tags(Some(remove))
            .send()
            .await
            .aws("DeleteTags")?;
    }
    Ok(())
}
