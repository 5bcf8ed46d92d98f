//! The registry: every resource kind, in one table. A kind's enum variant, the name users see,
//! its area and its implementation all come from its one line here; adding a kind is that line
//! plus the kind's own file.
//!
//! The table is a macro handing its rows to another macro, so that `model` can build the `Kind`
//! enum from it and `kinds` the lookup of implementations, without either importing the other.

/// Hands every row of the registry to macro `$then`, as
/// `/// doc  Variant = "name", Area, implementation;`.
#[macro_export]
macro_rules! kind_registry {
    ($then:ident) => {
        $then! {
            /// EC2 VPC.
            Vpc = "vpc", Network, network::vpc::Vpc;
            /// EC2 internet gateway.
            InternetGateway = "internet_gateway", Network, network::internet_gateway::InternetGateway;
            /// Attachment of the internet gateway to the VPC (untaggable).
            IgwAttachment = "igw_attachment", Network, network::igw_attachment::IgwAttachment;
            /// EC2 subnet.
            Subnet = "subnet", Network, network::subnet::Subnet;
            /// EC2 route table.
            RouteTable = "route_table", Network, network::route_table::RouteTable;
            /// One route inside a route table (untaggable).
            Route = "route", Network, network::route::Route;
            /// Association of a route table with a subnet (untaggable).
            RouteTableAssociation = "route_table_association", Network, network::route_table_association::RouteTableAssociation;
            /// Elastic IP address.
            ElasticIp = "elastic_ip", Network, network::elastic_ip::ElasticIp;
            /// NAT gateway.
            NatGateway = "nat_gateway", Network, network::nat_gateway::NatGateway;
            /// EC2 security group with its ingress rules.
            SecurityGroup = "security_group", Network, network::security_group::SecurityGroup;
            /// VPC endpoint: the S3 gateway or an interface endpoint (private networks, `nat: none`).
            VpcEndpoint = "vpc_endpoint", Network, network::vpc_endpoint::VpcEndpoint;
            /// IAM role (created with a trust policy naming only services).
            IamRole = "iam_role", Iam, iam::role::Role;
            /// A role's full trust policy, written once the role (and any role it names) exists.
            IamTrustPolicy = "iam_trust_policy", Iam, iam::trust_policy::TrustPolicy;
            /// An inline policy of a role.
            IamInlinePolicy = "iam_inline_policy", Iam, iam::inline_policy::InlinePolicy;
            /// A managed policy attached to a role (untaggable).
            IamPolicyAttachment = "iam_policy_attachment", Iam, iam::policy_attachment::PolicyAttachment;
            /// EKS cluster.
            EksCluster = "eks_cluster", Eks, eks::cluster::Cluster;
            /// EC2 launch template for the node group (puts the node security group on the nodes).
            LaunchTemplate = "launch_template", Eks, eks::launch_template::LaunchTemplate;
            /// EKS managed node group.
            EksNodeGroup = "eks_node_group", Eks, eks::node_group::NodeGroup;
            /// EKS access entry with its access policy association.
            EksAccessEntry = "eks_access_entry", Eks, eks::access_entry::AccessEntry;
            /// Kubernetes namespace of the service, made through the cluster's API.
            K8sNamespace = "k8s_namespace", Eks, eks::namespace::Namespace;
            /// Application Load Balancer.
            LoadBalancer = "load_balancer", Alb, alb::load_balancer::LoadBalancer;
            /// ALB target group.
            TargetGroup = "target_group", Alb, alb::target_group::TargetGroup;
            /// ALB listener.
            Listener = "listener", Alb, alb::listener::Listener;
            /// ALB listener rule (gRPC by content-type on the HTTPS listener).
            ListenerRule = "listener_rule", Alb, alb::listener_rule::ListenerRule;
            /// A target group attached to the node group's Auto Scaling group (untaggable).
            TargetGroupAttachment = "target_group_attachment", Alb, alb::target_group_attachment::TargetGroupAttachment;
            /// ECR repository with its lifecycle policy.
            EcrRepository = "ecr_repository", Ecr, ecr::repository::Repository;
            /// CloudWatch Logs log group (the build's and the cluster's).
            LogGroup = "log_group", Logs, logs::log_group::LogGroup;
            /// CodeBuild project.
            CodeBuildProject = "codebuild_project", CodeBuild, codebuild::project::Project;
            /// Network interface the VPC CNI left behind (destroy only).
            K8sEni = "k8s_eni", LeftByKubernetes, leftovers::eni::CniEni;
            /// Load balancer a Kubernetes controller made for the cluster (destroy only).
            K8sLoadBalancer = "k8s_load_balancer", LeftByKubernetes, leftovers::load_balancer::K8sLoadBalancer;
            /// Target group a Kubernetes controller made for the cluster (destroy only).
            K8sTargetGroup = "k8s_target_group", LeftByKubernetes, leftovers::target_group::K8sTargetGroup;
            /// Security group a Kubernetes controller made for the cluster (destroy only).
            K8sSecurityGroup = "k8s_security_group", LeftByKubernetes, leftovers::security_group::K8sSecurityGroup;
        }
    };
}
