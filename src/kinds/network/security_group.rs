//! Security groups and their ingress rules. Egress keeps AWS's default (all outbound).

use crate::aws::{Aws, AwsResultExt};
use crate::kinds::network::blockers::delete_group;
use crate::kinds::{
    attrs, created, differs, id_outputs, Change, Current, Found, Outputs, Resource, Snapshot,
    StepCtx,
};
use crate::retry::{not_found_yet, send_eventually, Budget};
use crate::tags::{Tagged, Tags};
use anyhow::Result;
use aws_sdk_ec2::types::{IpPermission, IpRange, ResourceType, UserIdGroupPair};
use serde::{Deserialize, Serialize};

/// EC2 security group.
pub struct SecurityGroup;

/// One ingress rule, from one source: a CIDR range or another security group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngressRule {
    /// `tcp`, `udp`, `icmp` or `-1` (all).
    pub protocol: String,
    /// First port; null for all protocols (EC2 reports none then).
    pub from_port: Option<i32>,
    /// Last port; null for all protocols.
    pub to_port: Option<i32>,
    /// Source range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr: Option<String>,
    /// Source security group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_security_group_id: Option<String>,
}

attrs! {
    /// What a security group is made of.
    pub struct SecurityGroupAttrs {
        /// The VPC it is in.
        vpc_id: String => ForceNew,
        /// Its group name.
        name: String => ForceNew,
        /// Its description (EC2 cannot change it).
        description: String => ForceNew,
        /// Its ingress rules, one per source.
        ingress: Vec<IngressRule>,
        /// Its tags.
        tags: Tags,
    }
}

/// One rule per source, in the spec's vocabulary.
fn rules_of(perms: &[IpPermission]) -> Vec<IngressRule> {
    let mut out = Vec::new();
    for p in perms {
        let rule = |cidr: Option<&str>, group: Option<&str>| IngressRule {
            protocol: p.ip_protocol().unwrap_or("-1").to_string(),
            from_port: p.from_port(),
            to_port: p.to_port(),
            cidr: cidr.map(str::to_string),
            source_security_group_id: group.map(str::to_string),
        };
        for r in p.ip_ranges() {
            out.push(rule(Some(r.cidr_ip().unwrap_or_default()), None));
        }
        for g in p.user_id_group_pairs() {
            out.push(rule(None, Some(g.group_id().unwrap_or_default())));
        }
    }
    out
}

fn permission(rule: &IngressRule) -> IpPermission {
    let mut p = IpPermission::builder()
        .ip_protocol(&rule.protocol)
        .set_from_port(rule.from_port)
        .set_to_port(rule.to_port);
    if let Some(cidr) = &rule.cidr {
        p = p.ip_ranges(IpRange::builder().cidr_ip(cidr).build());
    }
    if let Some(group) = &rule.source_security_group_id {
        p = p.user_id_group_pairs(UserIdGroupPair::builder().group_id(group).build());
    }
    p.build()
}

async fn authorize(aws: &Aws, group: &str, add: &[&IngressRule]) -> Result<()> {
    if add.is_empty() {
        return Ok(());
    }
    let perms: Vec<IpPermission> = add.iter().map(|r| permission(r)).collect();
    send_eventually(
        Budget::FRESH_ID,
        not_found_yet,
        "AuthorizeSecurityGroupIngress",
        || {
            aws.ec2
                .authorize_security_group_ingress()
                .group_id(group)
                .set_ip_permissions(Some(perms.clone()))
                .send()
        },
    )
    .await?;
    Ok(())
}

impl Resource for SecurityGroup {
    type Attrs = SecurityGroupAttrs;

    async fn observe(&self, snap: &Snapshot) -> Result<Vec<Found<Self::Attrs>>> {
        let all = snap.security_groups().await?;
        Ok(Found::all_tagged(snap, all, |g| g.group_id(), attrs_of))
    }

    async fn create(&self, cx: &StepCtx<'_>, want: &Self::Attrs) -> Result<Outputs> {
        let out = send_eventually(
            Budget::FRESH_ID,
            not_found_yet,
            "CreateSecurityGroup",
            || {
                cx.aws
                    .ec2
                    .create_security_group()
                    .vpc_id(&want.vpc_id)
                    .group_name(&want.name)
                    .description(&want.description)
                    .tag_specifications(want.tags.ec2_spec(ResourceType::SecurityGroup))
                    .send()
            },
        )
        .await?;
        let id = created("CreateSecurityGroup", out.group_id())?;
        let rules: Vec<&IngressRule> = want.ingress.iter().collect();
        authorize(cx.aws, id, &rules).await?;
        Ok(id_outputs(id))
    }

    async fn update(&self, cx: &StepCtx<'_>, c: &Change<Self::Attrs>) -> Result<Outputs> {
        let (id, have) = (&c.physical_id, &c.have);
        if differs(&have.ingress, &c.want.ingress) {
            let gone: Vec<IpPermission> = have
                .ingress
                .iter()
                .filter(|r| !c.want.ingress.contains(r))
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
            let new: Vec<&IngressRule> = c
                .want
                .ingress
                .iter()
                .filter(|r| !have.ingress.contains(r))
                .collect();
            authorize(cx.aws, id, &new).await?;
        }
        c.retag(cx.aws, Tagged::Ec2(id)).await
    }

    async fn delete(&self, cx: &StepCtx<'_>, c: &Current<Self::Attrs>) -> Result<()> {
        delete_group(cx, &c.physical_id).await
    }
}

/// The group's attributes as EC2 describes them.
fn attrs_of(g: &aws_sdk_ec2::types::SecurityGroup) -> SecurityGroupAttrs {
    SecurityGroupAttrs {
        vpc_id: g.vpc_id().unwrap_or_default().to_string(),
        name: g.group_name().unwrap_or_default().to_string(),
        description: g.description().unwrap_or_default().to_string(),
        ingress: rules_of(g.ip_permissions()),
        tags: Tags::from(g.tags()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests_typed::{desired, resolved, richest_config};
    use crate::kinds::Spec;
    use aws_sdk_ec2::types::SecurityGroup as Ec2SecurityGroup;
    use serde_json::json;

    /// The group `id` as DescribeSecurityGroups returns it, with `perms`.
    fn described(want: &SecurityGroupAttrs, perms: Vec<IpPermission>) -> Ec2SecurityGroup {
        Ec2SecurityGroup::builder()
            .group_id("sg-0a1b2c3d")
            .vpc_id("vpc.id")
            .group_name(&want.name)
            .description(&want.description)
            .set_ip_permissions(Some(perms))
            .set_tags(Some(want.tags.to_ec2()))
            .build()
    }

    fn tcp(port: i32) -> aws_sdk_ec2::types::builders::IpPermissionBuilder {
        IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(port)
            .to_port(port)
    }

    #[test]
    fn observed_attributes_equal_the_desired_ones() {
        let alb: SecurityGroupAttrs = desired("sg/alb");
        let perms = vec![tcp(80)
            .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
            .build()];
        assert_eq!(attrs_of(&described(&alb, perms)), alb);

        let nodes: SecurityGroupAttrs = desired("sg/nodes");
        let perms = vec![tcp(30080)
            .user_id_group_pairs(
                UserIdGroupPair::builder()
                    .group_id("sg/alb.id")
                    .user_id("123456789012")
                    .build(),
            )
            .build()];
        assert_eq!(attrs_of(&described(&nodes, perms)), nodes);
    }

    #[test]
    fn one_permission_with_several_sources_is_one_rule_per_source() {
        // With a certificate, the ALB group also takes HTTPS; EC2 may group sources per port.
        let graph = crate::stack::build(&richest_config(), "123456789012");
        let want: SecurityGroupAttrs = resolved(&graph, "sg/alb").typed().unwrap();
        let perms = vec![
            tcp(443)
                .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                .build(),
            tcp(80)
                .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                .build(),
        ];
        let have = attrs_of(&described(&want, perms));
        assert!(!differs(&have, &want), "order does not count");
        let two = vec![tcp(22)
            .ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/8").build())
            .user_id_group_pairs(UserIdGroupPair::builder().group_id("sg-1").build())
            .build()];
        assert_eq!(rules_of(&two).len(), 2);
    }

    #[test]
    fn rules_without_ports_keep_the_old_json_shape() {
        // EC2 reports no ports for "all traffic"; the plan has always shown them as null.
        let all = vec![IpPermission::builder()
            .ip_protocol("-1")
            .ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/8").build())
            .build()];
        let rules = rules_of(&all);
        assert_eq!(
            serde_json::to_value(&rules).unwrap(),
            json!([{"protocol": "-1", "from_port": null, "to_port": null, "cidr": "10.0.0.0/8"}])
        );
        assert_eq!(permission(&rules[0]), all[0]);
    }

    #[test]
    fn an_unknown_rule_field_is_refused() {
        let mut spec: Spec = resolved(
            &crate::stack::build(&richest_config(), "123456789012"),
            "sg/alb",
        );
        spec.0.insert(
            "ingress".into(),
            json!([{"protocol": "tcp", "from_port": 80, "to_port": 80, "cidr_ip": "0.0.0.0/0"}]),
        );
        assert!(spec.typed::<SecurityGroupAttrs>().is_err());
    }
}
