//! Every AWS name the stack uses, derived from the stack name, with the AWS rule each must meet
//! (`src/config/aws_rules.yaml`). Kept in one place so validation can refuse a stack name before
//! any call is made.

use crate::config::aws_rules;

/// A name the stack will give an AWS resource, with the rule AWS has for that kind of name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameRule {
    /// What carries the name, as users know it.
    pub what: &'static str,
    /// The full name.
    pub name: String,
    /// The check in `aws_rules.yaml` that names of this kind must pass.
    pub check: &'static str,
}

/// Name of a security group (`alb` or `nodes`); AWS allows 255 characters.
pub fn security_group(stack: &str, which: &str) -> String {
    format!("{stack}-{which}")
}

/// Name of the EKS cluster.
pub fn cluster(stack: &str) -> String {
    stack.to_string()
}

/// Name of the managed node group, as first created.
pub fn node_group(stack: &str) -> String {
    format!("{stack}-nodes")
}

/// The two names the managed node group takes in turn: a replacement is created under the one
/// the group it replaces does not have, while that group still runs.
pub fn node_groups(stack: &str) -> [String; 2] {
    [node_group(stack), format!("{stack}-nodes-2")]
}

/// The name of the node group that replaces the one named `old`.
pub fn node_group_successor(stack: &str, old: &str) -> String {
    let [first, second] = node_groups(stack);
    if old == first {
        second
    } else {
        first
    }
}

/// Name of an IAM role (`cluster`, `node`, `codebuild`).
pub fn role(stack: &str, which: &str) -> String {
    format!("{stack}-{which}")
}

/// Name of the Application Load Balancer.
pub fn load_balancer(stack: &str) -> String {
    format!("{stack}-alb")
}

/// Name of a target group (`http` or `grpc`).
pub fn target_group(stack: &str, which: &str) -> String {
    format!("{stack}-{which}")
}

/// Name of the ECR repository.
pub fn repository(stack: &str) -> String {
    stack.to_string()
}

/// Name of the CodeBuild project.
pub fn build_project(stack: &str) -> String {
    stack.to_string()
}

/// The log group the build project writes to (CodeBuild's default for the project).
pub fn build_log_group(stack: &str) -> String {
    format!("/aws/codebuild/{}", build_project(stack))
}

/// The log group EKS sends the cluster's control-plane logs to (a name EKS fixes).
pub fn cluster_log_group(stack: &str) -> String {
    format!("/aws/eks/{}/cluster", cluster(stack))
}

/// Every name the stack uses, with the rule it must meet.
pub fn all(stack: &str) -> Vec<NameRule> {
    let rule = |what, name, check| NameRule { what, name, check };
    vec![
        rule(
            "security group",
            security_group(stack, "alb"),
            "security_group_name",
        ),
        rule(
            "security group",
            security_group(stack, "nodes"),
            "security_group_name",
        ),
        rule("EKS cluster", cluster(stack), "eks_cluster_name"),
        // The longer of the node group's two names.
        rule(
            "EKS node group",
            node_groups(stack)[1].clone(),
            "node_group_name",
        ),
        // src/stack/eks.rs gives the launch template the node group's name.
        rule("launch template", node_group(stack), "launch_template_name"),
        rule("IAM role", role(stack, "cluster"), "iam_role_name"),
        rule("IAM role", role(stack, "node"), "iam_role_name"),
        rule("IAM role", role(stack, "codebuild"), "iam_role_name"),
        rule("load balancer", load_balancer(stack), "load_balancer_name"),
        rule(
            "target group",
            target_group(stack, "http"),
            "target_group_name",
        ),
        rule(
            "target group",
            target_group(stack, "grpc"),
            "target_group_name",
        ),
        rule("ECR repository", repository(stack), "ecr_repository_name"),
        rule(
            "CodeBuild project",
            build_project(stack),
            "codebuild_project_name",
        ),
        rule("log group", build_log_group(stack), "log_group_name"),
        rule("log group", cluster_log_group(stack), "log_group_name"),
    ]
}

/// The longest stack name every derived name accepts.
pub fn max_stack_len() -> usize {
    // Derived names only add to the stack name, so the tightest limit minus what it adds is the bound.
    all("")
        .iter()
        .filter_map(|r| aws_rules::max_len(r.check).map(|max| max.saturating_sub(r.name.len())))
        .min()
        .unwrap_or(0)
}

/// The shortest stack name every derived name accepts.
pub fn min_stack_len() -> usize {
    all("")
        .iter()
        .map(|r| aws_rules::min_len(r.check).saturating_sub(r.name.len()))
        .max()
        .unwrap_or(0)
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn broken(stack: &str) -> Vec<(&'static str, String)> {
        all(stack)
            .into_iter()
            .filter(|r| !aws_rules::violations(r.check, &r.name).is_empty())
            .map(|r| (r.what, r.name))
            .collect()
    }

    #[test]
    fn default_stack_meets_every_rule() {
        assert!(broken("grpc-eks").is_empty());
    }

    #[test]
    fn target_group_is_the_tightest_limit_and_ecr_the_shortest() {
        assert_eq!(max_stack_len(), 27);
        assert!(broken(&"a".repeat(27)).is_empty());
        let over = broken(&"a".repeat(28));
        assert_eq!(over.len(), 2, "{over:?}");
        assert!(over.iter().all(|(what, _)| *what == "target group"));
        assert_eq!(min_stack_len(), 2);
        let whats: Vec<_> = broken("a").into_iter().map(|(w, _)| w).collect();
        assert_eq!(whats, ["ECR repository", "CodeBuild project"]);
    }

    #[test]
    fn reserved_prefixes_are_met_through_the_suffixes() {
        assert_eq!(broken("sg").len(), 2);
        assert!(broken("sgx").is_empty());
        assert_eq!(
            broken("internal"),
            [("load balancer", "internal-alb".to_string())]
        );
        assert!(broken("internals").is_empty());
    }

    #[test]
    fn a_replacement_node_group_takes_the_name_its_predecessor_does_not_have() {
        assert_eq!(node_groups("s"), ["s-nodes", "s-nodes-2"]);
        assert_eq!(node_group_successor("s", "s-nodes"), "s-nodes-2");
        assert_eq!(node_group_successor("s", "s-nodes-2"), "s-nodes");
    }
}
