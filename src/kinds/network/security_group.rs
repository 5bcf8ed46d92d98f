//! Security groups and their ingress rules. Egress keeps AWS's default (all outbound).

use super::ec2::{id_output, logical_id, tag_spec, tags_json, update_tags};
use crate::aws::{gone_ok, Aws, AwsResultExt};
use crate::kinds::{Outputs, ResourceKind, Spec, StepCtx};
use crate::model::{Kind, Observed};
use crate::retry::{eventually, not_found_yet, still_in_use, Budget};
use crate::snapshot::Snapshot;
use anyhow::{Context, Result};
use async_trait::async_trait;
use aws_sdk_ec2::types::{IpPermission, IpRange, ResourceType, UserIdGroupPair};
use serde_json::{json, Value as Json};

/// EC2 security group.
pub struct SecurityGroup;

/// One rule per source, in the spec's vocabulary.
fn rules_of(perms: &[IpPermission]) -> Vec<Json> {
    let mut out = Vec::new();
    for p in perms {
        let base = |source: (&str, &str)| {
            json!({
                "protocol": p.ip_protocol().unwrap_or("-1"),
                "from_port": p.from_port(),
                "to_port": p.to_port(),
                source.0: source.1,
            })
        };
        for r in p.ip_ranges() {
            out.push(base(("cidr", r.cidr_ip().unwrap_or_default())));
        }
        for g in p.user_id_group_pairs() {
            out.push(base((
                "source_security_group_id",
                g.group_id().unwrap_or_default(),
            )));
        }
    }
    out
}

fn permission(rule: &Json) -> IpPermission {
    let port = |k: &str| rule.get(k).and_then(Json::as_i64).map(|p| p as i32);
    let text = |k: &str| rule.get(k).and_then(Json::as_str).map(str::to_string);
    let mut p = IpPermission::builder()
        .set_ip_protocol(text("protocol"))
        .set_from_port(port("from_port"))
        .set_to_port(port("to_port"));
    if let Some(cidr) = text("cidr") {
        p = p.ip_ranges(IpRange::builder().cidr_ip(cidr).build());
    }
    if let Some(group) = text("source_security_group_id") {
        p = p.user_id_group_pairs(UserIdGroupPair::builder().group_id(group).build());
    }
    p.build()
}

fn rules(v: Option<&Json>) -> Vec<Json> {
    v.and_then(Json::as_array).cloned().unwrap_or_default()
}

async fn authorize(aws: &Aws, group: &str, add: &[Json]) -> Result<()> {
    if add.is_empty() {
        return Ok(());
    }
    let perms: Vec<IpPermission> = add.iter().map(permission).collect();
    eventually(Budget::FRESH_ID, not_found_yet, || async {
        aws.ec2
            .authorize_security_group_ingress()
            .group_id(group)
            .set_ip_permissions(Some(perms.clone()))
            .send()
            .await
            .aws("AuthorizeSecurityGroupIngress")
    })
    .await?;
    Ok(())
}

#[async_trait]
impl ResourceKind for SecurityGroup {
    fn force_new(&self) -> &'static [&'static str] {
        &["vpc_id", "name", "description"]
    }

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Observed>> {
        Ok(snap
            .security_groups()
            .await?
            .iter()
            .map(|g| {
                let id = g.group_id().unwrap_or_default();
                Observed::new(logical_id(g.tags(), id), Kind::SecurityGroup, id)
                    .with("vpc_id", g.vpc_id().unwrap_or_default())
                    .with("name", g.group_name().unwrap_or_default())
                    .with("description", g.description().unwrap_or_default())
                    .with("ingress", Json::Array(rules_of(g.ip_permissions())))
                    .with("tags", tags_json(g.tags()))
            })
            .collect())
    }

    async fn create(&self, cx: &StepCtx<'_>, spec: &Spec) -> Result<Outputs> {
        let (vpc, name, description) = (
            spec.str("vpc_id")?,
            spec.str("name")?,
            spec.str("description")?,
        );
        let out = eventually(Budget::FRESH_ID, not_found_yet, || async {
            cx.aws
                .ec2
                .create_security_group()
                .vpc_id(vpc)
                .group_name(name)
                .description(description)
                .tag_specifications(tag_spec(ResourceType::SecurityGroup, spec))
                .send()
                .await
                .aws("CreateSecurityGroup")
        })
        .await?;
        let id = out
            .group_id()
            .context("CreateSecurityGroup returned no group id")?;
        authorize(cx.aws, id, &rules(spec.get("ingress"))).await?;
        Ok(id_output(id))
    }

    async fn update(
        &self,
        cx: &StepCtx<'_>,
        current: &Observed,
        spec: &Spec,
        changed: &[String],
    ) -> Result<Outputs> {
        let id = &current.physical_id;
        if changed.iter().any(|c| c == "ingress") {
            let have = rules(current.attrs.get("ingress"));
            let want = rules(spec.get("ingress"));
            let gone: Vec<IpPermission> = have
                .iter()
                .filter(|r| !want.contains(r))
                .map(permission)
                .collect();
            if !gone.is_empty() {
                cx.aws
                    .ec2
                    .revoke_security_group_ingress()
                    .group_id(id)
                    .set_ip_permissions(Some(gone))
                    .send()
                    .await
                    .aws("RevokeSecurityGroupIngress")?;
            }
            let new: Vec<Json> = want.into_iter().filter(|r| !have.contains(r)).collect();
            authorize(cx.aws, id, &new).await?;
        }
        if changed.iter().any(|c| c == "tags") {
            update_tags(cx.aws, id, current.attrs.get("tags"), spec).await?;
        }
        Ok(id_output(id))
    }

    async fn delete(&self, cx: &StepCtx<'_>, current: &Observed) -> Result<()> {
        // Network interfaces of a deleted load balancer keep the group in use for a while.
        let r = eventually(Budget::RELEASE, still_in_use, || async {
            cx.aws
                .ec2
                .delete_security_group()
                .group_id(&current.physical_id)
                .send()
                .await
                .map(|_| ())
                .aws("DeleteSecurityGroup")
        })
        .await;
        match r {
            Err(e) if e.is("InvalidGroup.NotFound") => Ok(()),
            other => Ok(gone_ok(other)?),
        }
    }
}
