//! CloudWatch Logs reads: the stack's two log groups, each asked for by its exact name, with
//! their tags.

use super::Snapshot;
use crate::aws::{absent_ok, AwsError, AwsResultExt};
use crate::naming;
use aws_sdk_cloudwatchlogs::types::LogGroup;
use std::collections::HashMap;

/// A log group and its tags.
#[derive(Clone, Debug)]
pub struct LogGroupDetail {
    /// The group as DescribeLogGroups shows it.
    pub group: LogGroup,
    /// Its tags, from ListTagsForResource.
    pub tags: HashMap<String, String>,
}

impl Snapshot {
    /// The stack's log groups that exist (the build's and the cluster's): one name prefix per
    /// group, so the reads do not grow with the account's other groups.
    pub async fn log_groups(&self) -> Result<&[LogGroupDetail], AwsError> {
        let groups = self
            .cells
            .log_groups
            .get_or_try_init(|| async {
                let names = [
                    naming::build_log_group(&self.stack),
                    naming::cluster_log_group(&self.stack),
                ];
                let reads = names.map(|name| self.log_group(name));
                let found = futures::future::try_join_all(reads).await?;
                Ok::<_, AwsError>(found.into_iter().flatten().collect())
            })
            .await?;
        Ok(groups)
    }

    /// The group named exactly `name`, with its tags; `None` when absent.
    async fn log_group(&self, name: String) -> Result<Option<LogGroupDetail>, AwsError> {
        let logs = &self.aws.logs;
        let req = logs.describe_log_groups().log_group_name_prefix(&name);
        let out = req.send().await.aws("DescribeLogGroups")?;
        // A prefix also matches longer names (another project's group); only this one counts.
        let Some(group) = out
            .log_groups
            .unwrap_or_default()
            .into_iter()
            .find(|g| g.log_group_name() == Some(name.as_str()))
        else {
            return Ok(None);
        };
        let arn = group.log_group_arn().unwrap_or_default();
        let req = logs.list_tags_for_resource().resource_arn(arn);
        // Deleted between the two reads: absent.
        let Some(tags) = absent_ok(req.send().await.aws("ListTagsForResource"))? else {
            return Ok(None);
        };
        Ok(Some(LogGroupDetail {
            group,
            tags: tags.tags.unwrap_or_default(),
        }))
    }
}
