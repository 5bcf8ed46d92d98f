//! What the cluster's workloads leave in the stack's network, and destroy removes before the
//! subnets, the node security group and the VPC: interfaces the VPC CNI leaked, and the load
//! balancers, target groups and security groups the AWS Load Balancer Controller or the in-tree
//! service controller made for the cluster's Services and Ingresses.
//!
//! They carry the cluster's tags, not the stack's, and live workloads own them while the
//! cluster runs: so no plan ever observes them (their kinds' `observe` finds nothing) and only
//! destroy looks for them, through [`find`]. Their kinds can only delete.

pub mod eni;
pub mod load_balancer;
pub mod security_group;
pub mod target_group;

use crate::aws::{Aws, AwsResultExt};
use crate::kinds::{Attributes, Found};
use crate::model::{Kind, LogicalId, Observed};
use crate::naming;
use crate::tags::Tags;
use anyhow::Result;
use aws_sdk_ec2::types::Filter;
use std::collections::BTreeMap;

/// The tag the AWS Load Balancer Controller puts on everything it makes for a cluster.
const LBC_CLUSTER_TAG: &str = "elbv2.k8s.aws/cluster";
/// The tag the VPC CNI puts on the interfaces it makes, naming their node.
const CNI_INSTANCE_TAG: &str = "node.k8s.amazonaws.com/instance_id";
/// The tag newer VPC CNI versions add, naming the cluster.
const CNI_CLUSTER_TAG: &str = "cluster.k8s.amazonaws.com/name";

/// True when `tags` say the AWS Load Balancer Controller or the in-tree service controller
/// made the resource for `cluster`.
pub fn made_for_cluster(tags: &Tags, cluster: &str) -> bool {
    tags.get(LBC_CLUSTER_TAG) == Some(cluster)
        || tags.get(&format!("kubernetes.io/cluster/{cluster}")) == Some("owned")
}

/// True for an interface the VPC CNI made (its description or its node tag says so), unless
/// its tags name another cluster.
pub fn is_cni_leftover(description: &str, tags: &Tags, cluster: &str) -> bool {
    let cni = description.starts_with("aws-K8S-") || tags.get(CNI_INSTANCE_TAG).is_some();
    cni && tags.get(CNI_CLUSTER_TAG).is_none_or(|c| c == cluster)
}

/// Which controller made a resource, for the plan.
fn maker(tags: &Tags) -> String {
    let service = tags
        .get("service.k8s.aws/stack")
        .or_else(|| tags.get("ingress.k8s.aws/stack"))
        .or_else(|| tags.get("kubernetes.io/service-name"));
    let who = if tags.get(LBC_CLUSTER_TAG).is_some() {
        "the AWS Load Balancer Controller"
    } else {
        "the in-tree service controller"
    };
    match service {
        Some(s) => format!("made by {who} for {s}"),
        None => format!("made by {who}"),
    }
}

/// `impl Resource` for a kind only destroy meets: no plan observes one (destroy finds them
/// through [`find`]), infra never creates or changes one, and `$delete(cx, c)` deletes it.
macro_rules! delete_only {
    ($kind:ty, $attrs:ty, $what:literal, $delete:path) => {
        impl $crate::kinds::Resource for $kind {
            type Attrs = $attrs;

            async fn observe(
                &self,
                _snap: &$crate::kinds::Snapshot,
            ) -> anyhow::Result<Vec<$crate::kinds::Found<Self::Attrs>>> {
                Ok(Vec::new())
            }

            async fn create(
                &self,
                _cx: &$crate::kinds::StepCtx<'_>,
                _want: &Self::Attrs,
            ) -> anyhow::Result<$crate::kinds::Outputs> {
                anyhow::bail!(concat!(
                    "infra never creates a ",
                    $what,
                    ": destroy removes them"
                ))
            }

            async fn update(
                &self,
                _cx: &$crate::kinds::StepCtx<'_>,
                _c: &$crate::kinds::Change<Self::Attrs>,
            ) -> anyhow::Result<$crate::kinds::Outputs> {
                anyhow::bail!(concat!(
                    "infra never changes a ",
                    $what,
                    ": destroy removes them"
                ))
            }

            async fn delete(
                &self,
                cx: &$crate::kinds::StepCtx<'_>,
                c: &$crate::kinds::Current<Self::Attrs>,
            ) -> anyhow::Result<()> {
                $delete(cx, c).await
            }
        }
    };
}
use delete_only;

/// `attrs` as the engine's observation of leftover `physical` of `kind`, under logical id
/// `left-by-k8s/<label>`.
fn observed<A: Attributes>(kind: Kind, label: &str, physical: &str, attrs: &A) -> Result<Observed> {
    let id = LogicalId::new(format!("left-by-k8s/{label}"));
    Found::new(id, physical, attrs.clone()).observed(kind)
}

/// Everything Kubernetes left in the stack's VPCs and subnets (as `observed` shows them) for
/// the stack's cluster, each with what it is.
pub async fn find(
    aws: &Aws,
    stack: &str,
    observed: &[Observed],
) -> Result<Vec<(Observed, String)>> {
    let mine = |kind| {
        observed
            .iter()
            .filter(move |o| o.kind == kind && !o.unowned && !o.stray)
            .map(|o| o.physical_id.clone())
            .collect::<Vec<_>>()
    };
    let (vpcs, subnets) = (mine(Kind::Vpc), mine(Kind::Subnet));
    if vpcs.is_empty() {
        return Ok(Vec::new());
    }
    let cluster = naming::cluster(stack);
    let (enis, elb, groups) = tokio::try_join!(
        cni_interfaces(aws, &subnets, &cluster),
        elb_leftovers(aws, &vpcs, &cluster),
        security_groups(aws, &vpcs, &cluster),
    )?;
    Ok(enis.into_iter().chain(elb).chain(groups).collect())
}

/// Available interfaces of the VPC CNI in the stack's subnets.
async fn cni_interfaces(
    aws: &Aws,
    subnets: &[String],
    cluster: &str,
) -> Result<Vec<(Observed, String)>> {
    if subnets.is_empty() {
        return Ok(Vec::new());
    }
    let mut pages = aws
        .ec2
        .describe_network_interfaces()
        .filters(
            Filter::builder()
                .name("subnet-id")
                .set_values(Some(subnets.to_vec()))
                .build(),
        )
        .filters(Filter::builder().name("status").values("available").build())
        .into_paginator()
        .items()
        .send();
    let mut out = Vec::new();
    while let Some(eni) = pages.next().await {
        let eni = eni.aws("DescribeNetworkInterfaces")?;
        let description = eni.description().unwrap_or_default();
        let tags = Tags::from(eni.tag_set());
        let Some(id) = eni.network_interface_id() else {
            continue;
        };
        if !is_cni_leftover(description, &tags, cluster) {
            continue;
        }
        let attrs = eni::attrs_of(&eni);
        let what = format!("available network interface {description:?} left by the VPC CNI");
        out.push((
            observed(Kind::K8sEni, &format!("eni/{id}"), id, &attrs)?,
            what,
        ));
    }
    Ok(out)
}

/// Load balancers and target groups in the stack's VPCs tagged for the cluster.
async fn elb_leftovers(
    aws: &Aws,
    vpcs: &[String],
    cluster: &str,
) -> Result<Vec<(Observed, String)>> {
    let mut lbs = Vec::new();
    let mut pages = aws
        .elb
        .describe_load_balancers()
        .into_paginator()
        .items()
        .send();
    while let Some(lb) = pages.next().await {
        let lb = lb.aws("DescribeLoadBalancers")?;
        if lb.vpc_id().is_some_and(|v| vpcs.iter().any(|x| x == v)) {
            lbs.push(lb);
        }
    }
    let mut tgs = Vec::new();
    let mut pages = aws
        .elb
        .describe_target_groups()
        .into_paginator()
        .items()
        .send();
    while let Some(tg) = pages.next().await {
        let tg = tg.aws("DescribeTargetGroups")?;
        if tg.vpc_id().is_some_and(|v| vpcs.iter().any(|x| x == v)) {
            tgs.push(tg);
        }
    }
    let arns: Vec<String> = lbs
        .iter()
        .filter_map(|l| l.load_balancer_arn())
        .chain(tgs.iter().filter_map(|t| t.target_group_arn()))
        .map(str::to_string)
        .collect();
    let tags = crate::snapshot::elb_tags_of(aws, &arns).await?;
    let tags_of = |arn: &str| Tags::from(tags.get(arn).map(Vec::as_slice).unwrap_or_default());
    let mut out = Vec::new();
    for tg in &tgs {
        let Some(arn) = tg.target_group_arn() else {
            continue;
        };
        let t = tags_of(arn);
        if made_for_cluster(&t, cluster) {
            let what = format!(
                "target group {}, {}",
                tg.target_group_name().unwrap_or_default(),
                maker(&t)
            );
            out.push((
                observed(
                    Kind::K8sTargetGroup,
                    "target-group",
                    arn,
                    &target_group::attrs_of(tg),
                )?,
                what,
            ));
        }
    }
    for lb in &lbs {
        let Some(arn) = lb.load_balancer_arn() else {
            continue;
        };
        let t = tags_of(arn);
        if made_for_cluster(&t, cluster) {
            // Its target groups go after it: a listener forwarding to one keeps it in use.
            let serving: Vec<String> = tgs
                .iter()
                .filter(|tg| tg.load_balancer_arns().iter().any(|a| a == arn))
                .filter_map(|tg| tg.target_group_arn().map(str::to_string))
                .collect();
            let what = format!(
                "load balancer {}, {}",
                lb.load_balancer_name().unwrap_or_default(),
                maker(&t)
            );
            let attrs = load_balancer::attrs_of(lb, serving);
            out.push((
                observed(Kind::K8sLoadBalancer, "load-balancer", arn, &attrs)?,
                what,
            ));
        }
    }
    Ok(out)
}

/// Security groups in the stack's VPCs tagged for the cluster.
async fn security_groups(
    aws: &Aws,
    vpcs: &[String],
    cluster: &str,
) -> Result<Vec<(Observed, String)>> {
    let mut pages = aws
        .ec2
        .describe_security_groups()
        .filters(
            Filter::builder()
                .name("vpc-id")
                .set_values(Some(vpcs.to_vec()))
                .build(),
        )
        .into_paginator()
        .items()
        .send();
    let mut out = Vec::new();
    let mut seen = BTreeMap::new();
    while let Some(g) = pages.next().await {
        let g = g.aws("DescribeSecurityGroups")?;
        let tags = Tags::from(g.tags());
        let Some(id) = g.group_id() else { continue };
        // EKS tags the cluster's own group for the cluster too, and deletes it with the cluster.
        let eks_own = g
            .group_name()
            .is_some_and(|n| n.starts_with("eks-cluster-sg-"));
        if made_for_cluster(&tags, cluster) && !eks_own && seen.insert(id.to_string(), ()).is_none()
        {
            let what = format!(
                "security group {:?}, {}",
                g.group_name().unwrap_or_default(),
                maker(&tags)
            );
            out.push((
                observed(
                    Kind::K8sSecurityGroup,
                    "security-group",
                    id,
                    &security_group::attrs_of(&g),
                )?,
                what,
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(pairs: &[(&str, &str)]) -> Tags {
        Tags::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn controller_tags_name_the_cluster() {
        assert!(made_for_cluster(&t(&[(LBC_CLUSTER_TAG, "c")]), "c"));
        assert!(made_for_cluster(
            &t(&[("kubernetes.io/cluster/c", "owned")]),
            "c"
        ));
        assert!(!made_for_cluster(
            &t(&[("kubernetes.io/cluster/c", "shared")]),
            "c"
        ));
        assert!(!made_for_cluster(&t(&[(LBC_CLUSTER_TAG, "other")]), "c"));
        assert!(!made_for_cluster(&t(&[]), "c"));
    }

    #[test]
    fn cni_interfaces_are_known_by_description_or_node_tag_unless_another_cluster_s() {
        assert!(is_cni_leftover("aws-K8S-i-0123", &t(&[]), "c"));
        assert!(is_cni_leftover("", &t(&[(CNI_INSTANCE_TAG, "i-1")]), "c"));
        assert!(!is_cni_leftover(
            "aws-K8S-i-0123",
            &t(&[(CNI_CLUSTER_TAG, "other")]),
            "c"
        ));
        assert!(!is_cni_leftover("my interface", &t(&[]), "c"));
    }

    #[test]
    fn the_plan_says_which_controller_made_it_for_what() {
        let lbc = t(&[
            (LBC_CLUSTER_TAG, "c"),
            ("service.k8s.aws/stack", "grpc-app/server"),
        ]);
        assert_eq!(
            maker(&lbc),
            "made by the AWS Load Balancer Controller for grpc-app/server"
        );
        let in_tree = t(&[("kubernetes.io/cluster/c", "owned")]);
        assert_eq!(maker(&in_tree), "made by the in-tree service controller");
    }
}
