//! The log groups the build and the cluster write to, owned by the stack so that they carry its
//! tags and retention and go with it. Their names are the ones CodeBuild and EKS use by default.

use super::codebuild::BUILD_LOG_GROUP;
use super::Builder;
use crate::model::{Desired, Kind, Value};
use crate::naming;
use serde_json::json;

/// Logical id of the cluster's control-plane log group.
pub const CLUSTER_LOG_GROUP: &str = "logs/cluster";

/// Adds the build's log group, and the cluster's when control-plane logging is on.
pub(super) fn add(b: &mut Builder) {
    let c = b.config;
    let mut groups = vec![(BUILD_LOG_GROUP, naming::build_log_group(&c.stack))];
    if !c.eks.logging.is_empty() {
        groups.push((CLUSTER_LOG_GROUP, naming::cluster_log_group(&c.stack)));
    }
    for (id, name) in groups {
        b.graph.add(
            Desired::new(id, Kind::LogGroup)
                .with("name", Value::str(name))
                .with("retention_days", Value::Lit(json!(c.logs.retention_days)))
                .with("tags", b.tags(id)),
        );
    }
}
