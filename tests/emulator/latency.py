"""Realistic AWS durations, in seconds at time scale 1.0 (one table, one place).

Every lifecycle the emulator simulates takes its duration from here, multiplied at run time by
the configured time scale (``--time-scale``, default 0.05). Values are typical figures, not
worst cases; the sources are AWS documentation and widely reported measurements.
"""

DURATIONS = {
    # EC2 NAT gateway: pending -> available. AWS: "It can take a few minutes for the NAT gateway
    # to become available" (VPC User Guide, "Create a NAT gateway"); 1-3 min is what
    # terraform-provider-aws acceptance runs report. Typical ~90 s.
    "nat_gateway_create": 90.0,
    # NAT gateway: deleting -> deleted, ~1 min (VPC User Guide, "Delete a NAT gateway").
    "nat_gateway_delete": 60.0,
    # A deleted (or failed) NAT gateway "remains visible in the console for about an hour"
    # (VPC User Guide, "Delete a NAT gateway"). DescribeNatGateways shows it as "deleted".
    "nat_gateway_deleted_visible": 3600.0,
    # A NAT gateway in a VPC without an internet gateway goes pending -> failed quickly.
    "nat_gateway_fail": 10.0,
    # EKS control plane: CREATING -> ACTIVE. "Cluster provisioning takes several minutes"
    # (EKS User Guide, "Create a cluster"); 8-15 min is the commonly reported range.
    "eks_cluster_create": 600.0,
    # EKS cluster DELETING, then gone (ResourceNotFoundException): ~5 min.
    "eks_cluster_delete": 300.0,
    # UpdateClusterVersion: the control plane upgrade takes "about 10-25 minutes"
    # (EKS User Guide, "Update existing cluster to new Kubernetes version").
    "eks_cluster_version_update": 900.0,
    # UpdateClusterConfig (logging, endpoint access): a few minutes.
    "eks_cluster_config_update": 120.0,
    # Managed node group CREATING -> ACTIVE: 2-5 min (EC2 instances launch and join).
    "eks_nodegroup_create": 180.0,
    # Managed node group DELETING: 5-10 min (instances drained and terminated).
    "eks_nodegroup_delete": 360.0,
    # UpdateNodegroupConfig (scaling, labels): UPDATING ~1-2 min.
    "eks_nodegroup_config_update": 90.0,
    # UpdateNodegroupVersion: a rolling replacement of the nodes, ~10 min for a small group.
    "eks_nodegroup_version_update": 600.0,
    # ELBv2 load balancer: provisioning -> active, 1-3 min (ELB User Guide; commonly ~2 min).
    "alb_provision": 120.0,
    # A deleted load balancer's network interfaces (and those of a subnet SetSubnets dropped) stay
    # in use, blocking DeleteSubnet / DeleteSecurityGroup / DetachInternetGateway, until ELB
    # releases them. AWS gives no figure; "its network interfaces can take a while to go away
    # (some minutes)" (hashicorp/terraform#3758), which is why terraform retries those deletes.
    # ~90 s assumed.
    "alb_enis_release": 90.0,
    # DynamoDB CreateTable: "an asynchronous operation. Upon receiving a CreateTable request,
    # DynamoDB immediately returns a response with a TableStatus of CREATING. After the table is
    # created, DynamoDB sets the TableStatus to ACTIVE. You can perform read and write operations
    # only on an ACTIVE table." (API reference, CreateTable). An on-demand table without indexes
    # takes a few seconds; 5-10 s is what is commonly reported.
    "dynamodb_table_create": 6.0,
    # Kubernetes namespace Terminating -> gone: the namespace controller deletes everything in it,
    # then removes the `kubernetes` finalizer (Kubernetes docs, "Namespaces" walkthrough and the
    # namespace lifecycle in "Finalizers"). Seconds for an empty namespace; pods first wait out
    # their terminationGracePeriodSeconds (20 s in manifests/). Typical ~15 s.
    "k8s_namespace_delete": 15.0,
    # IAM: "changes ... take time to become visible ... typically a few seconds", ~10 s is the
    # figure terraform-provider-aws and eksctl retry for (IAM User Guide, "Troubleshooting IAM:
    # changes that I make are not always immediately visible").
    "iam_propagation": 10.0,
}

# CodeBuild phases in order with typical seconds each (a small docker build on
# BUILD_GENERAL1_SMALL; PROVISIONING ~20-30 s per the CodeBuild User Guide build-phase
# transitions, the rest depend on the buildspec).
CODEBUILD_PHASES = [
    ("SUBMITTED", 1.0),
    ("QUEUED", 2.0),
    ("PROVISIONING", 25.0),
    ("DOWNLOAD_SOURCE", 5.0),
    ("INSTALL", 10.0),
    ("PRE_BUILD", 10.0),
    ("BUILD", 120.0),
    ("POST_BUILD", 20.0),
    ("UPLOAD_ARTIFACTS", 2.0),
    ("FINALIZING", 3.0),
    ("COMPLETED", 0.0),
]
