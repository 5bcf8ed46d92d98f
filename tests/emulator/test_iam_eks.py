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


def make_network(emu):
    ec2 = emu.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{az}")
               ["Subnet"]["SubnetId"] for i, az in ((1, "a"), (2, "b"))]
    return ec2, vpc, subnets


def make_roles(emu):
    iam = emu.client("iam")
    cluster = iam.create_role(RoleName="cluster", AssumeRolePolicyDocument=trust("eks.amazonaws.com"))["Role"]["Arn"]
    node = iam.create_role(RoleName="node", AssumeRolePolicyDocument=trust("ec2.amazonaws.com"))["Role"]["Arn"]
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
                              scalingConfig={"minSize": 1, "desiredSize": 1, "maxSize": 2}, tags=tags)["nodegroup"]
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
    vu = eks.update_nodegroup_version(clusterName="c", nodegroupName="ng", version="1.31")["update"]
    wait_for(lambda: eks.describe_nodegroup(clusterName="c", nodegroupName="ng")["nodegroup"]["version"] == "1.31")
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
    eks.create_cluster(name="c", version="1.30", roleArn=cluster_role, resourcesVpcConfig={"subnetIds": subnets})
    wait_for(lambda: eks.describe_cluster(name="c")["cluster"]["status"] == "ACTIVE")
    update = eks.update_cluster_version(name="c", version="1.31")["update"]
    assert eks.describe_cluster(name="c")["cluster"]["status"] == "UPDATING"
    assert eks.list_updates(name="c")["updateIds"] == [update["id"]]
    wait_for(lambda: eks.describe_cluster(name="c")["cluster"]["version"] == "1.31")
    assert eks.describe_cluster(name="c")["cluster"]["status"] == "ACTIVE"
    cfg = eks.update_cluster_config(name="c", logging={"clusterLogging": [{"types": ["api"], "enabled": True}]})["update"]
    wait_for(lambda: eks.describe_update(name="c", updateId=cfg["id"])["update"]["status"] == "Successful")


def test_cluster_gets_its_security_group_and_loses_it_with_the_cluster(emu):
    emu.config(time_scale=0.001)
    ec2, vpc, subnets = make_network(emu)
    cluster_role, _ = make_roles(emu)
    eks = emu.client("eks")
    eks.create_cluster(name="c", version="1.31", roleArn=cluster_role, resourcesVpcConfig={"subnetIds": subnets})
    config = eks.describe_cluster(name="c")["cluster"]["resourcesVpcConfig"]
    assert config["vpcId"] == vpc
    [group] = ec2.describe_security_groups(GroupIds=[config["clusterSecurityGroupId"]])["SecurityGroups"]
    assert group["VpcId"] == vpc and group["GroupName"].startswith("eks-cluster-sg-c-")
    wait_for(lambda: eks.describe_cluster(name="c")["cluster"]["status"] == "ACTIVE")
    eks.delete_cluster(name="c")
    wait_for(lambda: "c" not in eks.list_clusters()["clusters"])
    remaining = [g["GroupId"] for g in ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"]]
    assert config["clusterSecurityGroupId"] not in remaining
