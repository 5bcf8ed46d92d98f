//! The image repository.

use super::Builder;
use crate::model::{Desired, Kind, Value};
use crate::naming;
use serde_json::json;

/// Adds the repository with scan on push and a lifecycle policy keeping the last N images.
pub(super) fn add(b: &mut Builder) {
    let e = &b.config.ecr;
    let keep = e.keep_images;
    let lifecycle = json!({"rules": [{
        "rulePriority": 1,
        "description": format!("keep the last {keep} images"),
        "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep},
        "action": {"type": "expire"},
    }]});
    let id = "ecr/repository";
    b.graph.add(
        Desired::new(id, Kind::EcrRepository)
            .with("name", Value::str(naming::repository(&b.config.stack)))
            .with(
                "image_tag_mutability",
                Value::str(e.image_tag_mutability.as_str()),
            )
            .with("scan_on_push", Value::bool(e.scan_on_push))
            .with("lifecycle_policy", Value::Lit(lifecycle))
            .with("tags", b.tags(id)),
    );
}
