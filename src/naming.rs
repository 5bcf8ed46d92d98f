//! Every AWS name the stack uses, derived from the stack name, with the limits AWS puts on them.
//! Kept in one place so validation can refuse a stack name before any call is made.

/// A name the stack will give an AWS resource, with AWS's length limit for that kind of name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameRule {
    /// What carries the name, as users know it.
    pub what: &'static str,
    /// The full name.
    pub name: String,
    /// AWS's maximum length for it.
    pub limit: usize,
}

/// Name of a security group (`alb` or `nodes`); AWS allows 255 characters.
pub fn security_group(stack: &str, which: &str) -> String {
    format!("{stack}-{which}")
}

/// Name of the EKS cluster.
pub fn cluster(stack: &str) -> String {
    stack.to_string()
}

/// Name of the managed node group.
pub fn node_group(stack: &str) -> String {
    format!("{stack}-nodes")
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

/// Every name the stack uses, with its limit (AWS service quotas pages for each kind).
pub fn all(stack: &str) -> Vec<NameRule> {
    let rule = |what, name, limit| NameRule { what, name, limit };
    vec![
        rule("security group", security_group(stack, "alb"), 255),
        rule("security group", security_group(stack, "nodes"), 255),
        rule("EKS cluster", cluster(stack), 100),
        rule("EKS node group", node_group(stack), 63),
        rule("IAM role", role(stack, "cluster"), 64),
        rule("IAM role", role(stack, "node"), 64),
        rule("IAM role", role(stack, "codebuild"), 64),
        rule("load balancer", load_balancer(stack), 32),
        rule("target group", target_group(stack, "http"), 32),
        rule("target group", target_group(stack, "grpc"), 32),
        rule("ECR repository", repository(stack), 256),
        rule("CodeBuild project", build_project(stack), 255),
    ]
}

/// The names that would exceed their limit.
pub fn too_long(stack: &str) -> Vec<NameRule> {
    all(stack)
        .into_iter()
        .filter(|r| r.name.len() > r.limit)
        .collect()
}

/// The longest stack name every derived name accepts.
pub fn max_stack_len() -> usize {
    // Derived names only add a suffix, so the tightest limit minus its suffix is the bound.
    all("")
        .iter()
        .map(|r| r.limit - r.name.len())
        .min()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_stack_fits_every_limit() {
        assert!(too_long("grpc-eks").is_empty());
    }

    #[test]
    fn target_group_is_the_tightest_limit() {
        assert_eq!(max_stack_len(), 27);
        assert!(too_long(&"a".repeat(27)).is_empty());
        let over = too_long(&"a".repeat(28));
        assert_eq!(over.len(), 2);
        assert!(over
            .iter()
            .all(|r| r.what == "target group" && r.limit == 32));
    }

    #[test]
    fn long_stack_breaks_alb_and_role_limits() {
        let over = too_long(&"s".repeat(60));
        let whats: Vec<_> = over.iter().map(|r| r.what).collect();
        assert!(whats.contains(&"load balancer"));
        assert!(whats.contains(&"IAM role"));
        assert!(!whats.contains(&"EKS cluster"));
    }
}
