//! A log group the stack's build or cluster writes to. CodeBuild and EKS create their group on
//! first use, untagged and kept forever, and nothing deletes it; the stack creates it first
//! instead, with its tags and retention, and deletes it after what writes to it.

use crate::aws::{delete_once, AwsResultExt};
use crate::kinds::{
    attrs, named_outputs, Change, Current, Found, Outputs, Resource, Snapshot, StepCtx,
};
use crate::model::{LogicalId, STACK_TAG};
use crate::snapshot::LogGroupDetail;
use crate::tags::{Tagged, Tags};
use anyhow::Result;

/// CloudWatch Logs log group.
pub struct LogGroup;

attrs! {
    /// What a log group is made of.
    pub struct LogGroupAttrs {
        /// Its name, which the service writing to it fixes.
        name: String => ForceNew,
        /// Days its events are kept; null keeps them forever.
        retention_days: Option<i32>,
        /// Its tags.
        tags: Tags,
    }
}

/// The logical ids of the stack's groups, by name.
fn logical_id(stack: &str, name: &str) -> Option<&'static str> {
    if name == crate::naming::build_log_group(stack) {
        Some("logs/codebuild")
    } else if name == crate::naming::cluster_log_group(stack) {
        Some("logs/cluster")
    } else {
        None
    }
}

impl Resource for LogGroup {
    type Attrs = LogGroupAttrs;

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Found<Self::Attrs>>> {
        let groups = snap.log_groups().await?;
        let found = groups.iter().filter_map(|d| {
            let name = d.group.log_group_name()?;
            let id = logical_id(snap.stack(), name)?;
            let attrs = attrs_of(d);
            // A group with these names and no stack tag is the one CodeBuild or EKS made for
            // the stack's own project or cluster (nobody else writes there): the stack adopts
            // it. Another stack's tag makes it someone else's.
            let found = if attrs.tags.get(STACK_TAG).is_none() {
                Found::new(LogicalId::new(id), name, attrs)
            } else {
                Found::by_tags(snap.stack(), id, name, attrs)
            };
            let arn = d.group.log_group_arn().unwrap_or_default();
            Some(found.output("name", name).output("arn", arn))
        });
        Ok(found.collect())
    }

    async fn create(&self, cx: &StepCtx<'_>, want: &Self::Attrs) -> Result<Outputs> {
        // CreateLogGroup answers nothing; the ARN the tag calls take is built from the account.
        let arn = format!(
            "arn:aws:logs:{}:{}:log-group:{}",
            cx.aws.region,
            cx.aws.account_id().await?,
            want.name
        );
        let logs = &cx.aws.logs;
        let req = logs
            .create_log_group()
            .log_group_name(&want.name)
            .set_tags(Some(want.tags.to_map()));
        match req.send().await.aws("CreateLogGroup") {
            Ok(_) => {}
            // EKS or CodeBuild made it since it was observed: take it over.
            Err(e) if e.is("ResourceAlreadyExistsException") => {
                cx.note("the log group appeared meanwhile; taking it over");
                let untagged = Tags::default();
                crate::tags::sync(cx.aws, Tagged::Logs(&arn), &untagged, &want.tags).await?;
            }
            Err(e) => return Err(e.into()),
        }
        set_retention(cx, &want.name, want.retention_days).await?;
        Ok(named_outputs(&want.name, &arn))
    }

    async fn update(&self, cx: &StepCtx<'_>, c: &Change<Self::Attrs>) -> Result<Outputs> {
        if c.have.retention_days != c.want.retention_days {
            set_retention(cx, &c.physical_id, c.want.retention_days).await?;
        }
        let arn = c.output("arn")?;
        c.retag(cx.aws, Tagged::Logs(arn)).await
    }

    async fn delete(&self, cx: &StepCtx<'_>, c: &Current<Self::Attrs>) -> Result<()> {
        let req = cx
            .aws
            .logs
            .delete_log_group()
            .log_group_name(&c.physical_id);
        delete_once("DeleteLogGroup", req.send()).await
    }
}

/// Sets (or, for `None`, removes) the group's retention.
async fn set_retention(cx: &StepCtx<'_>, name: &str, days: Option<i32>) -> Result<()> {
    let logs = &cx.aws.logs;
    match days {
        Some(d) => {
            let req = logs.put_retention_policy().log_group_name(name);
            req.retention_in_days(d)
                .send()
                .await
                .aws("PutRetentionPolicy")?;
        }
        None => {
            let req = logs.delete_retention_policy().log_group_name(name);
            req.send().await.aws("DeleteRetentionPolicy")?;
        }
    }
    Ok(())
}

/// The group's attributes as DescribeLogGroups and ListTagsForResource show them.
fn attrs_of(d: &LogGroupDetail) -> LogGroupAttrs {
    LogGroupAttrs {
        name: d.group.log_group_name().unwrap_or_default().to_string(),
        retention_days: d.group.retention_in_days(),
        tags: Tags::from(Some(&d.tags)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests_typed::desired;
    use aws_sdk_cloudwatchlogs::types::LogGroup as CwLogGroup;

    #[test]
    fn observed_attributes_equal_the_desired_ones() {
        for (id, name) in [
            ("logs/codebuild", "/aws/codebuild/grpc-eks"),
            ("logs/cluster", "/aws/eks/grpc-eks/cluster"),
        ] {
            let want: LogGroupAttrs = desired(id);
            // As DescribeLogGroups and ListTagsForResource return it.
            let d = LogGroupDetail {
                group: CwLogGroup::builder()
                    .log_group_name(name)
                    .arn(format!(
                        "arn:aws:logs:us-east-1:123456789012:log-group:{name}:*"
                    ))
                    .log_group_arn(format!(
                        "arn:aws:logs:us-east-1:123456789012:log-group:{name}"
                    ))
                    .retention_in_days(30)
                    .build(),
                tags: want.tags.to_map(),
            };
            assert_eq!(attrs_of(&d), want, "{id}");
            assert_eq!(logical_id("grpc-eks", name), Some(id));
        }
        assert_eq!(logical_id("grpc-eks", "/aws/codebuild/grpc-eks-2"), None);
    }
}
