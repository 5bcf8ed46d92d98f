"""IAM strict principals and propagation; EKS lifecycles, node group ASG, updates, access entries."""

import json

import pytest
from botocore.exceptions import ClientError

from support import wait_for

ACCOUNT = "123456789012"


def trust(service=None, aws=None):
    principal = {}
    if service:
        principal["Service"] = service
    if aws:
        principal["AWS"] = aws
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]})


def code(err):
    return err.value.response["Error"]["Code"]


def test_trust_policy_naming_missing_role_is_rejected(emu):
    iam = emu.client("iam")
    arn = f"arn:aws:iam::{ACCOUNT}:role/codebuild"
    with pytest.raises(ClientError) as err:
        iam.create_role(RoleName="codebuild", AssumeRolePolicyDocument=trust("codebuild.amazonaws.com", arn))
    assert code(err) == "MalformedPolicyDocument"
    assert err.value.response["Error"]["Message"] == f'Invalid principal in policy: "AWS":"{arn}"'
    # The order AWS needs: create with the service only, then add the self statement.
    iam.create_role(RoleName="codebuild", AssumeRolePolicyDocument=trust("codebuild.amazonaws.com"))
    iam.update_assume_role_policy(RoleName="codebuild", PolicyDocument=trust("codebuild.amazonaws.com", [arn]))
    with pytest.raises(ClientError) as err:
        iam.update_assume_role_policy(RoleName="codebuild",
                                      PolicyDocument=trust(aws=[arn, f"arn:aws:iam::{ACCOUNT}:role/ghost"]))
    assert code(err) == "MalformedPolicyDocument"


def make_network(emu, route=True):
    ec2 = emu.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{az}")
               ["Subnet"]["SubnetId"] for i, az in ((1, "a"), (2, "b"))]
    if route:
        route_out(ec2, vpc)
    return ec2, vpc, subnets


NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly", "AmazonEKS_CNI_Policy")


def route_out(ec2, vpc):
    """An internet gateway as the main route table's default route: nodes can reach EKS."""
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    main = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                              {"Name": "association.main", "Values": ["true"]}])["RouteTables"][0]
    ec2.create_route(RouteTableId=main["RouteTableId"], DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)


def make_roles(emu):
    iam = emu.client("iam")
    cluster = iam.create_role(RoleName="cluster", AssumeRolePolicyDocument=trust("eks.amazonaws.com"))["Role"]["Arn"]
    node = iam.create_role(RoleName="node", AssumeRolePolicyDocument=trust("ec2.amazonaws.com"))["Role"]["Arn"]
    for policy in NODE_POLICIES:
        iam.attach_role_policy(RoleName="node", PolicyArn=f"arn:aws:iam::aws:policy/{policy}")
    return cluster, node


def test_iam_propagation_delays_eks(emu):
    emu.config(iam_propagation=True, time_scale=0.1)  # 1 s propagation window
    _, _, subnets = make_network(emu)
    cluster_role, _ = make_roles(emu)
    eks = emu.client("eks")
    with pytest.raises(ClientError) as err:
        eks.create_cluster(name="c", roleArn=cluster_role, resourcesVpcConfig={"subnetIds": subnets})
    assert code(err) == "InvalidParameterException"
    assert "could not be assumed because it does not exist or the trusted entity is not correct" in \
        err.value.response["Error"]["Message"]
    wait_for(lambda: _try(lambda: eks.create_cluster(name="c", roleArn=cluster_role,
                                                     resourcesVpcConfig={"subnetIds": subnets})), timeout=5)


def _try(call):
    try:
        call()
        return True
    except ClientError:
        return False


def test_wrong_trusted_service_is_refused(emu):
    _, _, subnets = make_network(emu)
    _, node_role = make_roles(emu)
    with pytest.raises(ClientError) as err:
        emu.client("eks").create_cluster(name="c", roleArn=node_role, resourcesVpcConfig={"subnetIds": subnets})
    assert code(err) == "InvalidParameterException"


def test_eks_lifecycle_nodegroup_asg_and_access_entries(emu):
    emu.config(time_scale=0.002)
    ec2, _, subnets = make_network(emu)
    cluster_role, node_role = make_roles(emu)
    eks, asg = emu.client("eks"), emu.client("autoscaling")
    tags = {"infra:stack": "s", "infra:id": "eks"}
    cluster = eks.create_cluster(name="c", roleArn=cluster_role, resourcesVpcConfig={"subnetIds": subnets},
                                 tags=tags, accessConfig={"authenticationMode": "API"})["cluster"]
    assert cluster["status"] == "CREATING"
    assert eks.list_tags_for_resource(resourceArn=cluster["arn"])["tags"] == tags
    with pytest.raises(ClientError) as err:
        eks.create_nodegroup(clusterName="c", nodegroupName="ng", nodeRole=node_role, subnets=subnets)
    assert code(err) == "InvalidRequestException"
    wait_for(lambda: eks.describe_cluster(name="c")["cluster"]["status"] == "ACTIVE")
    described = eks.describe_cluster(name="c")["cluster"]
    assert described["tags"] == tags
    assert described["accessConfig"]["authenticationMode"] == "API"

    ng = eks.create_nodegroup(clusterName="c", nodegroupName="ng", nodeRole=node_role, subnets=subnets,
                              scalingConfig={"minSize": 1, "desiredSize": 1, "maxSize": 2}, tags=tags,
                              version="1.35")["nodegroup"]
    assert ng["status"] == "CREATING"
    assert eks.list_tags_for_resource(resourceArn=ng["nodegroupArn"])["tags"] == tags
    asg_name = ng["resources"]["autoScalingGroups"][0]["name"]
    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[asg_name])["AutoScalingGroups"][0]
    assert (group["MinSize"], group["DesiredCapacity"], group["MaxSize"]) == (1, 1, 2)
    assert set(group["VPCZoneIdentifier"].split(",")) == set(subnets)
    assert "LaunchTemplate" in group
    wait_for(lambda: eks.describe_nodegroup(clusterName="c", nodegroupName="ng")["nodegroup"]["status"] == "ACTIVE")

    # Scaling goes through UPDATING and reaches the ASG.
    update = eks.update_nodegroup_config(clusterName="c", nodegroupName="ng",
                                         scalingConfig={"minSize": 1, "desiredSize": 2, "maxSize": 3})["update"]
    assert update["status"] == "InProgress"
    assert eks.describe_nodegroup(clusterName="c", nodegroupName="ng")["nodegroup"]["status"] == "UPDATING"
    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[asg_name])["AutoScalingGroups"][0]
    assert (group["DesiredCapacity"], group["MaxSize"]) == (2, 3)
    wait_for(lambda: eks.describe_update(name="c", nodegroupName="ng", updateId=update["id"])
             ["update"]["status"] == "Successful")
    assert eks.describe_nodegroup(clusterName="c", nodegroupName="ng")["nodegroup"]["status"] == "ACTIVE"
    vu = eks.update_nodegroup_version(clusterName="c", nodegroupName="ng", version="1.36")["update"]
    wait_for(lambda: eks.describe_nodegroup(clusterName="c", nodegroupName="ng")["nodegroup"]["version"] == "1.36")
    assert eks.describe_update(name="c", nodegroupName="ng", updateId=vu["id"])["update"]["status"] == "Successful"

    # Access entries.
    cb = emu.client("iam").create_role(RoleName="cb", AssumeRolePolicyDocument=trust("codebuild.amazonaws.com"))["Role"]["Arn"]
    entry = eks.create_access_entry(clusterName="c", principalArn=cb, tags=tags)["accessEntry"]
    assert entry["principalArn"] == cb and entry["type"] == "STANDARD"
    assert eks.list_access_entries(clusterName="c")["accessEntries"] == [cb]
    assert eks.describe_access_entry(clusterName="c", principalArn=cb)["accessEntry"]["accessEntryArn"] == entry["accessEntryArn"]
    eks.tag_resource(resourceArn=entry["accessEntryArn"], tags={"team": "x"})
    eks.untag_resource(resourceArn=entry["accessEntryArn"], tagKeys=list(tags))
    assert eks.describe_access_entry(clusterName="c", principalArn=cb)["accessEntry"]["tags"] == {"team": "x"}
    policy = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    eks.associate_access_policy(clusterName="c", principalArn=cb, policyArn=policy, accessScope={"type": "cluster"})
    listed = eks.list_associated_access_policies(clusterName="c", principalArn=cb)["associatedAccessPolicies"]
    assert [p["policyArn"] for p in listed] == [policy]
    eks.disassociate_access_policy(clusterName="c", principalArn=cb, policyArn=policy)
    assert eks.list_associated_access_policies(clusterName="c", principalArn=cb)["associatedAccessPolicies"] == []
    with pytest.raises(ClientError) as err:
        eks.create_access_entry(clusterName="c", principalArn=cb)
    assert code(err) == "ResourceInUseException"
    eks.delete_access_entry(clusterName="c", principalArn=cb)
    assert eks.list_access_entries(clusterName="c")["accessEntries"] == []

    # Subnets in use by the cluster / node group cannot go.
    with pytest.raises(ClientError) as err:
        ec2.delete_subnet(SubnetId=subnets[0])
    assert code(err) == "DependencyViolation"

    # Delete: cluster refused while the node group exists (even while it is deleting).
    with pytest.raises(ClientError) as err:
        eks.delete_cluster(name="c")
    assert code(err) == "ResourceInUseException"
    assert eks.delete_nodegroup(clusterName="c", nodegroupName="ng")["nodegroup"]["status"] == "DELETING"
    with pytest.raises(ClientError) as err:
        eks.delete_cluster(name="c")
    assert code(err) == "ResourceInUseException"
    wait_for(lambda: eks.list_nodegroups(clusterName="c")["nodegroups"] == [])
    assert asg.describe_auto_scaling_groups(AutoScalingGroupNames=[asg_name])["AutoScalingGroups"] == []
    assert eks.delete_cluster(name="c")["cluster"]["status"] == "DELETING"
    assert eks.describe_cluster(name="c")["cluster"]["status"] == "DELETING"
    wait_for(lambda: eks.list_clusters()["clusters"] == [])
    with pytest.raises(ClientError) as err:
        eks.describe_cluster(name="c")
    assert code(err) == "ResourceNotFoundException"


def test_cluster_version_update(emu):
    emu.config(time_scale=0.001)
    _, _, subnets = make_network(emu)
    cluster_role, _ = make_roles(emu)
    eks = emu.client("eks")
    eks.create_cluster(name="c", version="1.34", roleArn=cluster_role, resourcesVpcConfig={"subnetIds": subnets})
    wait_for(lambda: eks.describe_cluster(name="c")["cluster"]["status"] == "ACTIVE")
    update = eks.update_cluster_version(name="c", version="1.35")["update"]
    assert eks.describe_cluster(name="c")["cluster"]["status"] == "UPDATING"
    assert eks.list_updates(name="c")["updateIds"] == [update["id"]]
    wait_for(lambda: eks.describe_cluster(name="c")["cluster"]["version"] == "1.35")
    assert eks.describe_cluster(name="c")["cluster"]["status"] == "ACTIVE"
    cfg = eks.update_cluster_config(name="c", logging={"clusterLogging": [{"types": ["api"], "enabled": True}]})["update"]
    wait_for(lambda: eks.describe_update(name="c", updateId=cfg["id"])["update"]["status"] == "Successful")


def test_cluster_gets_its_security_group_and_loses_it_with_the_cluster(emu):
    emu.config(time_scale=0.001)
    ec2, vpc, subnets = make_network(emu)
    cluster_role, _ = make_roles(emu)
    eks = emu.client("eks")
    eks.create_cluster(name="c", version="1.35", roleArn=cluster_role, resourcesVpcConfig={"subnetIds": subnets})
    config = eks.describe_cluster(name="c")["cluster"]["resourcesVpcConfig"]
    assert config["vpcId"] == vpc
    [group] = ec2.describe_security_groups(GroupIds=[config["clusterSecurityGroupId"]])["SecurityGroups"]
    assert group["VpcId"] == vpc and group["GroupName"].startswith("eks-cluster-sg-c-")
    wait_for(lambda: eks.describe_cluster(name="c")["cluster"]["status"] == "ACTIVE")
    eks.delete_cluster(name="c")
    wait_for(lambda: "c" not in eks.list_clusters()["clusters"])
    remaining = [g["GroupId"] for g in ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"]]
    assert config["clusterSecurityGroupId"] not in remaining


# ---------------------------------------------------------------- endpoint access and logging


def active_cluster(emu, name="c", **kwargs):
    """An ACTIVE cluster in a fresh network; returns (eks client, subnets)."""
    _, _, subnets = make_network(emu)
    cluster_role, _ = make_roles(emu)
    eks = emu.client("eks")
    vpc = kwargs.pop("resourcesVpcConfig", {})
    eks.create_cluster(name=name, roleArn=cluster_role, resourcesVpcConfig={"subnetIds": subnets, **vpc}, **kwargs)
    wait_for(lambda: eks.describe_cluster(name=name)["cluster"]["status"] == "ACTIVE")
    return eks, subnets


def message(err):
    return err.value.response["Error"]["Message"]


def test_cluster_endpoint_defaults_and_public_cidrs(emu):
    emu.config(time_scale=0.001)
    _, _, subnets = make_network(emu)
    cluster_role, _ = make_roles(emu)
    eks = emu.client("eks")
    eks.create_cluster(name="d", roleArn=cluster_role, resourcesVpcConfig={"subnetIds": subnets})
    config = eks.describe_cluster(name="d")["cluster"]["resourcesVpcConfig"]
    assert (config["endpointPublicAccess"], config["endpointPrivateAccess"], config["publicAccessCidrs"]) == \
        (True, False, ["0.0.0.0/0"])
    assert sorted(config["subnetIds"]) == sorted(subnets)

    with pytest.raises(ClientError) as err:
        eks.create_cluster(name="bad", roleArn=cluster_role, resourcesVpcConfig={
            "subnetIds": subnets, "publicAccessCidrs": ["203.0.113.0/24", "not-a-cidr", "2001:db8::/32"]})
    assert code(err) == "InvalidParameterException"
    assert message(err) == "The following CIDRs are invalid in publicAccessCidrs: [not-a-cidr,2001:db8::/32]"
    assert "bad" not in eks.list_clusters()["clusters"]

    # A private-only endpoint needs nothing else.
    eks.create_cluster(name="p", roleArn=cluster_role, resourcesVpcConfig={
        "subnetIds": subnets, "endpointPublicAccess": False, "endpointPrivateAccess": True})
    config = eks.describe_cluster(name="p")["cluster"]["resourcesVpcConfig"]
    assert (config["endpointPublicAccess"], config["endpointPrivateAccess"]) == (False, True)


def test_cluster_logging_view_and_log_group(emu):
    emu.config(time_scale=0.001)
    logs = emu.client("logs")
    # Created by the tool first, with retention and tags: EKS adopts it unchanged.
    logs.create_log_group(logGroupName="/aws/eks/owned/cluster", tags={"infra:stack": "s"})
    logs.put_retention_policy(logGroupName="/aws/eks/owned/cluster", retentionInDays=30)
    eks, subnets = active_cluster(emu, "owned", logging={"clusterLogging": [
        {"types": ["audit", "api"], "enabled": True}, {"types": ["scheduler"], "enabled": False}]})
    assert eks.describe_cluster(name="owned")["cluster"]["logging"]["clusterLogging"] == [
        {"types": ["api", "audit"], "enabled": True},
        {"types": ["authenticator", "controllerManager", "scheduler"], "enabled": False}]
    [group] = logs.describe_log_groups(logGroupNamePrefix="/aws/eks/owned/")["logGroups"]
    assert group["retentionInDays"] == 30
    assert logs.list_tags_for_resource(resourceArn=group["logGroupArn"])["tags"] == {"infra:stack": "s"}

    # Not there: EKS creates it, with no retention and no tags, once the control plane runs.
    cluster_role = f"arn:aws:iam::{ACCOUNT}:role/cluster"
    eks.create_cluster(name="fresh", roleArn=cluster_role, resourcesVpcConfig={"subnetIds": subnets},
                       logging={"clusterLogging": [{"types": ["api", "audit", "authenticator",
                                                              "controllerManager", "scheduler"], "enabled": True}]})
    assert eks.describe_cluster(name="fresh")["cluster"]["logging"]["clusterLogging"] == [
        {"types": ["api", "audit", "authenticator", "controllerManager", "scheduler"], "enabled": True}]
    wait_for(lambda: logs.describe_log_groups(logGroupNamePrefix="/aws/eks/fresh/cluster")["logGroups"])
    [group] = logs.describe_log_groups(logGroupNamePrefix="/aws/eks/fresh/")["logGroups"]
    assert "retentionInDays" not in group
    assert logs.list_tags_for_resource(resourceArn=group["logGroupArn"])["tags"] == {}

    # No logging, no group.
    eks.create_cluster(name="quiet", roleArn=cluster_role, resourcesVpcConfig={"subnetIds": subnets})
    wait_for(lambda: eks.describe_cluster(name="quiet")["cluster"]["status"] == "ACTIVE")
    assert eks.describe_cluster(name="quiet")["cluster"]["logging"]["clusterLogging"] == [
        {"types": ["api", "audit", "authenticator", "controllerManager", "scheduler"], "enabled": False}]
    assert logs.describe_log_groups(logGroupNamePrefix="/aws/eks/quiet/")["logGroups"] == []


def test_update_cluster_config_one_kind_per_call(emu):
    emu.config(time_scale=0.002)
    eks, subnets = active_cluster(emu, resourcesVpcConfig={"endpointPublicAccess": True, "endpointPrivateAccess": True})
    emu.config(time_scale=0.01)  # a config update takes 1.2 s: time to see it in progress
    logs = emu.client("logs")
    logging = {"clusterLogging": [{"types": ["api", "audit", "authenticator"], "enabled": True}]}

    for request in ({"logging": logging, "resourcesVpcConfig": {"endpointPublicAccess": False}},
                    {"resourcesVpcConfig": {"endpointPublicAccess": False, "subnetIds": subnets[:1]}}):
        with pytest.raises(ClientError) as err:
            eks.update_cluster_config(name="c", **request)
        assert code(err) == "InvalidParameterException"
        assert message(err) == "Only one type of update can be allowed."

    # Requests that change nothing.
    with pytest.raises(ClientError) as err:
        eks.update_cluster_config(name="c", logging={"clusterLogging": [{"types": ["api"], "enabled": False}]})
    assert code(err) == "InvalidParameterException"
    assert message(err) == "No changes needed for the logging config provided"
    with pytest.raises(ClientError) as err:
        eks.update_cluster_config(name="c", resourcesVpcConfig={"endpointPublicAccess": True, "endpointPrivateAccess": True})
    assert code(err) == "InvalidParameterException"
    assert message(err) == ("Cluster is already at the desired configuration with endpointPrivateAccess: true , "
                            "endpointPublicAccess: true, and Public Endpoint Restrictions: [0.0.0.0/0]")
    with pytest.raises(ClientError) as err:
        eks.update_cluster_config(name="c", resourcesVpcConfig={"publicAccessCidrs": ["10.0.0.0/33"]})
    assert code(err) == "InvalidParameterException"

    # Endpoint access: an EndpointAccessUpdate, and nothing else while it runs.
    update = eks.update_cluster_config(name="c", resourcesVpcConfig={
        "endpointPublicAccess": True, "publicAccessCidrs": ["198.51.100.7/32"]})["update"]
    assert update["type"] == "EndpointAccessUpdate" and update["status"] == "InProgress"
    assert update["params"] == [{"type": "EndpointPublicAccess", "value": "true"},
                                {"type": "PublicAccessCidrs", "value": '["198.51.100.7/32"]'}]
    with pytest.raises(ClientError) as err:
        eks.update_cluster_config(name="c", logging=logging)
    assert code(err) == "ResourceInUseException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert message(err) == f"Cannot LoggingUpdate because cluster c currently has update {update['id']} in progress"
    with pytest.raises(ClientError) as err:
        eks.update_cluster_version(name="c", version="1.31")
    assert message(err) == f"Cannot VersionUpdate because cluster c currently has update {update['id']} in progress"
    wait_for(lambda: eks.describe_update(name="c", updateId=update["id"])["update"]["status"] == "Successful")
    config = eks.describe_cluster(name="c")["cluster"]["resourcesVpcConfig"]
    assert config["publicAccessCidrs"] == ["198.51.100.7/32"] and config["endpointPrivateAccess"] is True
    assert sorted(config["subnetIds"]) == sorted(subnets) and config["clusterSecurityGroupId"].startswith("sg-")

    # Private only.
    update = eks.update_cluster_config(name="c", resourcesVpcConfig={"endpointPublicAccess": False})["update"]
    assert update["params"] == [{"type": "EndpointPublicAccess", "value": "false"}]
    wait_for(lambda: eks.describe_cluster(name="c")["cluster"]["status"] == "ACTIVE")
    assert eks.describe_cluster(name="c")["cluster"]["resourcesVpcConfig"]["endpointPublicAccess"] is False

    # Logging: a LoggingUpdate; the log group appears with it.
    update = eks.update_cluster_config(name="c", logging=logging)["update"]
    assert update["type"] == "LoggingUpdate"
    assert update["params"] == [{"type": "ClusterLogging", "value":
                                 '{"clusterLogging":[{"types":["api","audit","authenticator"],"enabled":true}]}'}]
    assert eks.describe_cluster(name="c")["cluster"]["status"] == "UPDATING"
    wait_for(lambda: eks.describe_update(name="c", updateId=update["id"])["update"]["status"] == "Successful")
    assert eks.describe_cluster(name="c")["cluster"]["logging"]["clusterLogging"] == [
        {"types": ["api", "audit", "authenticator"], "enabled": True},
        {"types": ["controllerManager", "scheduler"], "enabled": False}]
    assert [g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix="/aws/eks/c/")["logGroups"]] \
        == ["/aws/eks/c/cluster"]

    # Subnets and security groups: a VpcConfigUpdate that keeps what it does not name.
    sg = emu.client("ec2").create_security_group(GroupName="extra", Description="x",
                                                 VpcId=eks.describe_cluster(name="c")["cluster"]["resourcesVpcConfig"]["vpcId"])["GroupId"]
    wait_for(lambda: eks.describe_cluster(name="c")["cluster"]["status"] == "ACTIVE")
    update = eks.update_cluster_config(name="c", resourcesVpcConfig={"securityGroupIds": [sg]})["update"]
    assert update["type"] == "VpcConfigUpdate"
    assert update["params"] == [{"type": "SecurityGroups", "value": f'["{sg}"]'}]
    wait_for(lambda: eks.describe_update(name="c", updateId=update["id"])["update"]["status"] == "Successful")
    config = eks.describe_cluster(name="c")["cluster"]["resourcesVpcConfig"]
    assert config["securityGroupIds"] == [sg] and sorted(config["subnetIds"]) == sorted(subnets)
    assert config["endpointPublicAccess"] is False

    with pytest.raises(ClientError) as err:
        eks.update_cluster_config(name="c")
    assert message(err) == "The type for cluster update was not provided."


def test_namespace_access_scope_needs_namespaces(emu):
    emu.config(time_scale=0.001)
    eks, _ = active_cluster(emu)
    role = emu.client("iam").create_role(RoleName="deploy", AssumeRolePolicyDocument=trust("codebuild.amazonaws.com"))["Role"]["Arn"]
    eks.create_access_entry(clusterName="c", principalArn=role)
    policy = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"
    for scope in ({"type": "namespace"}, {"type": "namespace", "namespaces": []}):
        with pytest.raises(ClientError) as err:
            eks.associate_access_policy(clusterName="c", principalArn=role, policyArn=policy, accessScope=scope)
        assert code(err) == "InvalidParameterException"
    assert eks.list_associated_access_policies(clusterName="c", principalArn=role)["associatedAccessPolicies"] == []
    eks.associate_access_policy(clusterName="c", principalArn=role, policyArn=policy,
                                accessScope={"type": "namespace", "namespaces": ["grpc-app"]})
    [assoc] = eks.list_associated_access_policies(clusterName="c", principalArn=role)["associatedAccessPolicies"]
    assert assoc["accessScope"] == {"type": "namespace", "namespaces": ["grpc-app"]}


# ---------------------------------------------------------------- trust-policy conditions


def conditioned(service, condition):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole", "Condition": condition}]})


def create_project(emu, name, role):
    emu.client("codebuild").create_project(
        name=name, source={"type": "GITHUB", "location": "https://github.com/example/app.git"},
        artifacts={"type": "NO_ARTIFACTS"}, serviceRole=role,
        environment={"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
                     "computeType": "BUILD_GENERAL1_SMALL"})


def test_codebuild_trust_conditions(emu):
    iam = emu.client("iam")
    project_arn = f"arn:aws:codebuild:us-east-1:{ACCOUNT}:project/"
    cases = [  # (condition, project that may use the role, project that may not)
        ({"StringEquals": {"aws:SourceAccount": ACCOUNT}, "ArnLike": {"aws:SourceArn": project_arn + "app"}}, "app", "app2"),
        ({"StringEquals": {"aws:SourceArn": project_arn + "svc"}}, "svc", "svc2"),
        ({"StringLike": {"aws:SourceArn": project_arn + "web-?"}}, "web-1", "web-10"),
        ({"ArnEquals": {"aws:SourceArn": f"arn:aws:codebuild:*:{ACCOUNT}:project/job*"}}, "job-a", "other"),
        ({"ArnLike": {"aws:SourceArn": [project_arn + "x1", project_arn + "x2"]}}, "x2", "x3"),
        ({"StringEquals": {"aws:sourceaccount": ACCOUNT}}, "any", None),
        ({"StringEquals": {"aws:SourceAccount": "999999999999"}}, None, "acct"),
    ]
    for i, (condition, allowed, refused) in enumerate(cases):
        role = iam.create_role(RoleName=f"cb{i}", AssumeRolePolicyDocument=conditioned("codebuild.amazonaws.com", condition))["Role"]["Arn"]
        if allowed:
            create_project(emu, allowed, role)
        if refused:
            with pytest.raises(ClientError) as err:
                create_project(emu, refused, role)
            assert code(err) == "InvalidInputException", condition
            assert message(err) == f"CodeBuild is not authorized to perform: sts:AssumeRole on {role}"
    # UpdateProject checks the role for the project being updated.
    with pytest.raises(ClientError) as err:
        emu.client("codebuild").update_project(name="svc", serviceRole=f"arn:aws:iam::{ACCOUNT}:role/cb0")
    assert code(err) == "InvalidInputException"


def test_eks_roles_with_source_conditions_cannot_be_assumed(emu):
    emu.config(time_scale=0.001)
    iam = emu.client("iam")
    _, _, subnets = make_network(emu)
    eks = emu.client("eks")
    condition = {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    role = iam.create_role(RoleName="cluster-conditioned", AssumeRolePolicyDocument=conditioned(
        "eks.amazonaws.com", {**condition, "ArnLike": {"aws:SourceArn": f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/c"}}))["Role"]["Arn"]
    with pytest.raises(ClientError) as err:
        eks.create_cluster(name="c", roleArn=role, resourcesVpcConfig={"subnetIds": subnets})
    assert code(err) == "InvalidParameterException"
    assert message(err) == (f"Role with arn: {role}, could not be assumed because it does not exist or the "
                            "trusted entity is not correct")

    cluster_role, _ = make_roles(emu)
    eks.create_cluster(name="c", roleArn=cluster_role, resourcesVpcConfig={"subnetIds": subnets})
    wait_for(lambda: eks.describe_cluster(name="c")["cluster"]["status"] == "ACTIVE")
    node_role = iam.create_role(RoleName="node-conditioned",
                                AssumeRolePolicyDocument=conditioned("ec2.amazonaws.com", condition))["Role"]["Arn"]
    with pytest.raises(ClientError) as err:
        eks.create_nodegroup(clusterName="c", nodegroupName="ng", nodeRole=node_role, subnets=subnets)
    assert code(err) == "InvalidParameterException"
    assert message(err) == ("Following required service principals [ec2.amazonaws.com] were not found in the "
                            f"trust relationships of nodeRole {node_role}")


def test_node_group_rolls_out_a_new_launch_template_version(emu):
    emu.config(time_scale=0.002)
    eks, subnets = active_cluster(emu)
    node_role = emu.client("iam").get_role(RoleName="node")["Role"]["Arn"]  # made by active_cluster
    ec2 = emu.client("ec2")
    lt = ec2.create_launch_template(LaunchTemplateName="nodes", LaunchTemplateData={
        "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 2}})["LaunchTemplate"]
    eks.create_nodegroup(clusterName="c", nodegroupName="ng", nodeRole=node_role, subnets=subnets,
                         launchTemplate={"id": lt["LaunchTemplateId"], "version": "1"})
    wait_for(lambda: eks.describe_nodegroup(clusterName="c", nodegroupName="ng")["nodegroup"]["status"] == "ACTIVE")
    # A version that does not exist is refused; an existing one is rolled out as an update.
    with pytest.raises(ClientError) as err:
        eks.update_nodegroup_version(clusterName="c", nodegroupName="ng",
                                     launchTemplate={"id": lt["LaunchTemplateId"], "version": "2"})
    assert code(err) == "InvalidParameterException"
    ec2.create_launch_template_version(LaunchTemplateId=lt["LaunchTemplateId"], LaunchTemplateData={
        "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 1}})
    update = eks.update_nodegroup_version(clusterName="c", nodegroupName="ng",
                                          launchTemplate={"id": lt["LaunchTemplateId"], "version": "2"})["update"]
    assert {"type": "LaunchTemplateVersion", "value": "2"} in update["params"]
    wait_for(lambda: eks.describe_update(name="c", nodegroupName="ng", updateId=update["id"])
             ["update"]["status"] == "Successful")
    assert eks.describe_nodegroup(clusterName="c", nodegroupName="ng")["nodegroup"]["launchTemplate"]["version"] == "2"
    # Another template altogether is refused: a node group keeps the template it was made with.
    other = ec2.create_launch_template(LaunchTemplateName="other", LaunchTemplateData={"InstanceType": "t3.medium"})["LaunchTemplate"]
    with pytest.raises(ClientError) as err:
        eks.update_nodegroup_version(clusterName="c", nodegroupName="ng",
                                     launchTemplate={"id": other["LaunchTemplateId"], "version": "1"})
    assert code(err) == "InvalidParameterException"
