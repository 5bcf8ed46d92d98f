//! What keeps a subnet, a security group or a VPC from being deleted, when AWS answers
//! `DependencyViolation`. Instead of retrying blind for minutes, a delete looks at once:
//! what Kubernetes left for the stack's cluster is deleted on the spot, what is letting go by
//! itself (a deleted load balancer's interfaces, a terminating node) is waited for, and
//! anything else stops the delete with one line per blocker saying what it is and whose.

use crate::aws::{absent_ok, gone_ok, Aws, AwsError, AwsResultExt};
use crate::kinds::leftovers::{is_cni_leftover, made_for_cluster};
use crate::kinds::StepCtx;
use crate::model::{ID_TAG, STACK_TAG};
use crate::naming;
use crate::retry::{still_in_use, Budget};
use crate::stack::ids::is_infra_id;
use crate::tags::Tags;
use anyhow::{bail, Result};
use aws_sdk_ec2::types::{Filter, NetworkInterface, NetworkInterfaceStatus, SecurityGroup};
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// The resource being deleted, by its id.
#[derive(Clone, Copy, Debug)]
pub enum Held<'a> {
    /// A subnet.
    Subnet(&'a str),
    /// A security group.
    Group(&'a str),
    /// A VPC.
    Vpc(&'a str),
    /// An internet gateway leaving a VPC: public addresses mapped in the VPC hold it.
    Gateway {
        /// The gateway.
        igw: &'a str,
        /// The VPC it leaves.
        vpc: &'a str,
    },
}

impl Held<'_> {
    /// The id named in progress notes.
    fn id(&self) -> &str {
        match self {
            Held::Subnet(id) | Held::Group(id) | Held::Vpc(id) => id,
            Held::Gateway { igw, .. } => igw,
        }
    }

    /// What AWS refuses, said as the user reads it.
    fn refused(&self) -> String {
        match self {
            Held::Gateway { igw, vpc } => format!("{igw} cannot be detached from {vpc}"),
            _ => format!("{} cannot be deleted", self.id()),
        }
    }
}

/// One thing in the way, and what to do about it.
#[derive(Debug, PartialEq)]
enum Blocker {
    /// An ENI the VPC CNI left for the stack's cluster: delete it now.
    CniEni(String),
    /// A rule in a group of the stack or its cluster naming the held group: revoke it now.
    Rule { group: String, ingress: bool },
    /// A group of the cluster's still in its VPC once everything else is gone (a controller's,
    /// or the cluster's own when EKS could not delete it for the CNI's leftovers): delete it.
    ClusterGroup(String),
    /// Lets go by itself soon; wait.
    Passing(String),
    /// Nobody here made it: stop, naming it.
    Foreign(String),
}

/// Deletes with `send` (an EC2 delete, `op` in errors) until it works. On each refusal for a
/// dependency, it finds what holds `held`, clears what Kubernetes left for the stack's cluster,
/// waits for what lets go by itself, and fails at once naming anything else.
pub async fn delete_unblocked<T, F, Fut>(cx: &StepCtx<'_>, held: Held<'_>, send: F) -> Result<()>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let start = Instant::now();
    let mut delay = Duration::from_millis(500);
    loop {
        let e = match gone_ok(send().await) {
            Ok(()) => return Ok(()),
            Err(e) if still_in_use(&e) => e,
            Err(e) => return Err(e.into()),
        };
        let blockers = find(cx.aws, cx.stack, held).await?;
        let foreign: Vec<&String> = blockers
            .iter()
            .filter_map(|b| match b {
                Blocker::Foreign(what) => Some(what),
                _ => None,
            })
            .collect();
        if !foreign.is_empty() {
            bail!(
                "{}: it holds what this stack did not make, nor Kubernetes for its cluster:\n    \
                 {}\n  Delete or move them (they are not infra's to touch), then run destroy again.",
                held.refused(),
                foreign
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("\n    ")
            );
        }
        let mut cleared = false;
        for b in &blockers {
            match b {
                Blocker::CniEni(eni) => {
                    cx.note(&format!("deleting {eni}, left by the VPC CNI"));
                    let r = cx
                        .aws
                        .ec2
                        .delete_network_interface()
                        .network_interface_id(eni)
                        .send()
                        .await
                        .aws("DeleteNetworkInterface");
                    gone_ok(r)?;
                    cleared = true;
                }
                Blocker::Rule { group, ingress } => {
                    cx.note(&format!("revoking {group}'s rules naming {}", held.id()));
                    revoke_references(cx.aws, group, held.id(), *ingress).await?;
                    cleared = true;
                }
                Blocker::ClusterGroup(group) => {
                    let r = cx
                        .aws
                        .ec2
                        .delete_security_group()
                        .group_id(group)
                        .send()
                        .await;
                    // Still used by something on its way out: waited for like the rest.
                    match gone_ok(r.aws("DeleteSecurityGroup")) {
                        Ok(()) => {
                            cx.note(&format!("deleted {group}, the cluster's"));
                            cleared = true;
                        }
                        Err(e) if still_in_use(&e) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                _ => {}
            }
        }
        if cleared {
            continue;
        }
        let passing: Vec<&str> = blockers
            .iter()
            .filter_map(|b| match b {
                Blocker::Passing(what) => Some(what.as_str()),
                _ => None,
            })
            .collect();
        if start.elapsed() + delay > Budget::RELEASE.total {
            bail!(
                "{} after {:.0?} of waiting: {}",
                held.refused(),
                start.elapsed(),
                if passing.is_empty() {
                    e.detail.clone()
                } else {
                    passing.join("; ")
                }
            );
        }
        if let Some(first) = passing.first() {
            cx.note(&format!("waiting for {first} to let go"));
        }
        crate::retry::RUN.pause(delay).await?;
        delay = (delay * 2).min(Duration::from_secs(8));
    }
}

/// Deletes security group `id`: rules of the stack's or the cluster's groups naming it are
/// revoked, a deleted load balancer's interfaces are waited out, anyone else's use is named.
pub async fn delete_group(cx: &StepCtx<'_>, id: &str) -> Result<()> {
    delete_unblocked(cx, Held::Group(id), || async {
        let r = cx.aws.ec2.delete_security_group().group_id(id).send().await;
        r.aws("DeleteSecurityGroup")
    })
    .await
}

/// Everything that holds `held` now, classified.
async fn find(aws: &Aws, stack: &str, held: Held<'_>) -> Result<Vec<Blocker>, AwsError> {
    let cluster = naming::cluster(stack);
    let (filter, value) = match held {
        Held::Subnet(id) => ("subnet-id", id),
        Held::Group(id) => ("group-id", id),
        Held::Vpc(id) | Held::Gateway { vpc: id, .. } => ("vpc-id", id),
    };
    let mut enis = interfaces(aws, filter, value).await?;
    if let Held::Gateway { .. } = held {
        // Only public addresses keep a gateway attached.
        enis.retain(|e| e.association().and_then(|a| a.public_ip()).is_some());
    }
    let mut out = Vec::new();
    for eni in &enis {
        out.push(classify_eni(aws, stack, &cluster, eni).await?);
    }
    if let Held::Group(id) = held {
        for ingress in [true, false] {
            for g in referencing(aws, id, ingress).await? {
                let tags = Tags::from(g.tags());
                let gid = g.group_id().unwrap_or_default().to_string();
                if ours(&tags, stack) || made_for_cluster(&tags, &cluster) {
                    out.push(Blocker::Rule {
                        group: gid,
                        ingress,
                    });
                } else {
                    out.push(Blocker::Foreign(format!(
                        "{gid}: security group {:?} (owner {}), whose {} rules name {id}",
                        g.group_name().unwrap_or_default(),
                        g.owner_id().unwrap_or("?"),
                        if ingress { "inbound" } else { "outbound" },
                    )));
                }
            }
        }
    }
    if let Held::Vpc(id) = held {
        out.extend(in_vpc(aws, stack, &cluster, id).await?);
    }
    Ok(out)
}

/// The network interfaces matching one filter.
async fn interfaces(aws: &Aws, name: &str, value: &str) -> Result<Vec<NetworkInterface>, AwsError> {
    let mut pages = aws
        .ec2
        .describe_network_interfaces()
        .filters(Filter::builder().name(name).values(value).build())
        .into_paginator()
        .items()
        .send();
    let mut out = Vec::new();
    while let Some(eni) = pages.next().await {
        out.push(eni.aws("DescribeNetworkInterfaces")?);
    }
    Ok(out)
}

/// True for resources of the stack: its tag and an id infra makes.
fn ours(tags: &Tags, stack: &str) -> bool {
    tags.get(STACK_TAG) == Some(stack) && tags.get(ID_TAG).is_some_and(is_infra_id)
}

/// What one network interface in the way is.
async fn classify_eni(
    aws: &Aws,
    stack: &str,
    cluster: &str,
    eni: &NetworkInterface,
) -> Result<Blocker, AwsError> {
    let id = eni.network_interface_id().unwrap_or_default().to_string();
    let description = eni.description().unwrap_or_default();
    let tags = Tags::from(eni.tag_set());
    let available = eni.status() == Some(&NetworkInterfaceStatus::Available);
    if is_cni_leftover(description, &tags, cluster) {
        return Ok(if available {
            Blocker::CniEni(id)
        } else {
            Blocker::Passing(format!("{id} (VPC CNI interface of a terminating node)"))
        });
    }
    if description == format!("Amazon EKS {cluster}") {
        return Ok(Blocker::Passing(format!(
            "{id} (the cluster's control plane)"
        )));
    }
    if let Some(lb) = elb_name(description) {
        let ours = lb == naming::load_balancer(stack) || lb.starts_with("k8s-");
        if ours || !load_balancer_exists(aws, lb).await? {
            return Ok(Blocker::Passing(format!(
                "{id} (interface of deleted load balancer {lb}, released by ELB in a few minutes)"
            )));
        }
    }
    if eni.interface_type().map(|t| t.as_str()) == Some("nat_gateway") {
        return Ok(Blocker::Passing(format!("{id} (a NAT gateway's)")));
    }
    if let Some(instance) = eni.attachment().and_then(|a| a.instance_id()) {
        if node_of(aws, instance, cluster).await? {
            return Ok(Blocker::Passing(format!(
                "{id} (node {instance}, terminating)"
            )));
        }
    }
    Ok(Blocker::Foreign(describe_eni(&id, eni)))
}

/// `ELB app/<name>/<id>` (or `net/`): the load balancer a requester-managed interface serves.
fn elb_name(description: &str) -> Option<&str> {
    let rest = description.strip_prefix("ELB ")?;
    let mut parts = rest.split('/');
    match (parts.next(), parts.next()) {
        (Some("app" | "net" | "gwy"), Some(name)) => Some(name),
        // A Classic Load Balancer's interfaces say `ELB <name>`.
        (Some(name), None) => Some(name),
        _ => None,
    }
}

async fn load_balancer_exists(aws: &Aws, name: &str) -> Result<bool, AwsError> {
    let r = aws
        .elb
        .describe_load_balancers()
        .names(name)
        .send()
        .await
        .aws("DescribeLoadBalancers");
    Ok(absent_ok(r)?.is_some_and(|o| !o.load_balancers().is_empty()))
}

/// True when `instance` is a node of the stack's cluster (it is terminating by now).
async fn node_of(aws: &Aws, instance: &str, cluster: &str) -> Result<bool, AwsError> {
    let r = aws
        .ec2
        .describe_instances()
        .instance_ids(instance)
        .send()
        .await
        .aws("DescribeInstances");
    let Some(out) = absent_ok(r)? else {
        return Ok(true); // gone already
    };
    let tags = out
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .map(|i| Tags::from(i.tags()))
        .next();
    Ok(tags.is_none_or(|t| t.get("eks:cluster-name") == Some(cluster)))
}

/// One line naming an interface: id, what it is, whose, and its state.
fn describe_eni(id: &str, eni: &NetworkInterface) -> String {
    let mut parts = vec![format!(
        "network interface {:?}",
        eni.description().unwrap_or_default()
    )];
    if let Some(t) = eni.interface_type() {
        parts.push(format!("type {}", t.as_str()));
    }
    if let Some(r) = eni.requester_id() {
        parts.push(format!("requester {r}"));
    }
    if let Some(o) = eni.owner_id() {
        parts.push(format!("owner {o}"));
    }
    if let Some(s) = eni.status() {
        parts.push(s.as_str().to_string());
    }
    if let Some(i) = eni.attachment().and_then(|a| a.instance_id()) {
        parts.push(format!("attached to {i}"));
    }
    format!("{id}: {}", parts.join(", "))
}

/// Groups whose inbound (or outbound) rules name `group`.
async fn referencing(
    aws: &Aws,
    group: &str,
    ingress: bool,
) -> Result<Vec<SecurityGroup>, AwsError> {
    let filter = if ingress {
        "ip-permission.group-id"
    } else {
        "egress.ip-permission.group-id"
    };
    let out = aws
        .ec2
        .describe_security_groups()
        .filters(Filter::builder().name(filter).values(group).build())
        .send()
        .await
        .aws("DescribeSecurityGroups")?;
    Ok(out
        .security_groups
        .unwrap_or_default()
        .into_iter()
        .filter(|g| g.group_id() != Some(group))
        .collect())
}

/// Revokes the rules of `group` that name `named`.
async fn revoke_references(aws: &Aws, group: &str, named: &str, ingress: bool) -> Result<()> {
    let out = aws
        .ec2
        .describe_security_groups()
        .group_ids(group)
        .send()
        .await
        .aws("DescribeSecurityGroups");
    let Some(out) = absent_ok(out)? else {
        return Ok(());
    };
    let Some(g) = out.security_groups().first() else {
        return Ok(());
    };
    let rules = if ingress {
        g.ip_permissions()
    } else {
        g.ip_permissions_egress()
    };
    let naming: Vec<_> = rules
        .iter()
        .filter(|p| {
            p.user_id_group_pairs()
                .iter()
                .any(|pair| pair.group_id() == Some(named))
        })
        .cloned()
        .collect();
    if naming.is_empty() {
        return Ok(());
    }
    let r = if ingress {
        let req = aws.ec2.revoke_security_group_ingress().group_id(group);
        req.set_ip_permissions(Some(naming))
            .send()
            .await
            .aws("RevokeSecurityGroupIngress")
            .map(|_| ())
    } else {
        let req = aws.ec2.revoke_security_group_egress().group_id(group);
        req.set_ip_permissions(Some(naming))
            .send()
            .await
            .aws("RevokeSecurityGroupEgress")
            .map(|_| ())
    };
    Ok(gone_ok(r)?)
}

/// What else is in VPC `vpc`: subnets, groups and internet gateways nobody here made.
async fn in_vpc(
    aws: &Aws,
    stack: &str,
    cluster: &str,
    vpc: &str,
) -> Result<Vec<Blocker>, AwsError> {
    let in_vpc = || Filter::builder().name("vpc-id").values(vpc).build();
    let (subnets, groups, gateways) = tokio::try_join!(
        async {
            let r = aws.ec2.describe_subnets().filters(in_vpc()).send().await;
            r.aws("DescribeSubnets")
        },
        async {
            let r = aws
                .ec2
                .describe_security_groups()
                .filters(in_vpc())
                .send()
                .await;
            r.aws("DescribeSecurityGroups")
        },
        async {
            let attached = Filter::builder()
                .name("attachment.vpc-id")
                .values(vpc)
                .build();
            let r = aws
                .ec2
                .describe_internet_gateways()
                .filters(attached)
                .send()
                .await;
            r.aws("DescribeInternetGateways")
        },
    )?;
    let mut out = Vec::new();
    for s in subnets.subnets() {
        let tags = Tags::from(s.tags());
        let id = s.subnet_id().unwrap_or_default();
        out.push(if ours(&tags, stack) {
            Blocker::Passing(format!("{id} (the stack's subnet, being deleted)"))
        } else {
            Blocker::Foreign(format!(
                "{id}: subnet {} (owner {}){}",
                s.cidr_block().unwrap_or_default(),
                s.owner_id().unwrap_or("?"),
                label(&tags)
            ))
        });
    }
    for g in groups.security_groups() {
        let tags = Tags::from(g.tags());
        let id = g.group_id().unwrap_or_default();
        if g.group_name() == Some("default") {
            continue;
        }
        out.push(if made_for_cluster(&tags, cluster) {
            Blocker::ClusterGroup(id.to_string())
        } else if ours(&tags, stack) {
            Blocker::Passing(format!(
                "{id} (security group {:?}, being deleted)",
                g.group_name().unwrap_or_default()
            ))
        } else {
            Blocker::Foreign(format!(
                "{id}: security group {:?} (owner {}){}",
                g.group_name().unwrap_or_default(),
                g.owner_id().unwrap_or("?"),
                label(&tags)
            ))
        });
    }
    for igw in gateways.internet_gateways() {
        let tags = Tags::from(igw.tags());
        let id = igw.internet_gateway_id().unwrap_or_default();
        out.push(if ours(&tags, stack) {
            Blocker::Passing(format!(
                "{id} (the stack's internet gateway, being detached)"
            ))
        } else {
            Blocker::Foreign(format!(
                "{id}: internet gateway attached to {vpc}{}",
                label(&tags)
            ))
        });
    }
    Ok(out)
}

/// `, tagged infra:stack=… infra:id=…` or `, Name …`, when the tags say something.
fn label(tags: &Tags) -> String {
    let mut parts = Vec::new();
    if let Some(name) = tags.get("Name") {
        parts.push(format!("Name {name:?}"));
    }
    if let Some(stack) = tags.get(STACK_TAG) {
        parts.push(format!(
            "tagged {STACK_TAG}={stack} but {ID_TAG}={} is none infra makes",
            tags.get(ID_TAG).unwrap_or("(none)")
        ));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(", {}", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_balancer_interfaces_name_their_load_balancer() {
        assert_eq!(
            elb_name("ELB app/grpc-eks-alb/50dc6c495c0c9188"),
            Some("grpc-eks-alb")
        );
        assert_eq!(
            elb_name("ELB net/k8s-grpcapp-server-1a2b/0123"),
            Some("k8s-grpcapp-server-1a2b")
        );
        assert_eq!(elb_name("ELB my-classic"), Some("my-classic"));
        assert_eq!(elb_name("aws-K8S-i-0123"), None);
    }

    #[test]
    fn an_interface_line_says_what_whose_and_where() {
        let eni = NetworkInterface::builder()
            .network_interface_id("eni-1")
            .description("db proxy")
            .owner_id("123456789012")
            .requester_id("AIDAEXAMPLE")
            .status(NetworkInterfaceStatus::InUse)
            .build();
        let line = describe_eni("eni-1", &eni);
        for part in [
            "eni-1",
            "\"db proxy\"",
            "owner 123456789012",
            "requester AIDAEXAMPLE",
            "in-use",
        ] {
            assert!(line.contains(part), "{part} missing: {line}");
        }
    }

    #[test]
    fn only_the_stack_tag_with_an_id_infra_makes_is_ours() {
        let t = |pairs: &[(&str, &str)]| Tags::from_pairs(pairs.iter().copied());
        assert!(ours(
            &t(&[(STACK_TAG, "s"), (ID_TAG, "subnet/public/a")]),
            "s"
        ));
        assert!(!ours(&t(&[(STACK_TAG, "s"), (ID_TAG, "bogus/thing")]), "s"));
        assert!(!ours(&t(&[(STACK_TAG, "s")]), "s"));
        assert!(!ours(&t(&[(STACK_TAG, "t"), (ID_TAG, "vpc")]), "s"));
    }
}
