"""EKS versions: DescribeClusterVersions, CreateCluster's version and upgradePolicy, one-minor
upgrades, node group versions, the node role's messages, nodes that cannot join."""

import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from support import code, wait_for
from test_iam_eks import active_cluster, make_network, make_roles, message, trust

TABLE = json.loads((Path(__file__).parent / "fidelity" / "eks_versions.json").read_text())
OFFERED = ["1.36", "1.35", "1.34", "1.33", "1.32"]  # on 2026-11-27, newest first


def versions(eks, **kwargs):
    return eks.describe_cluster_versions(**kwargs)["clusterVersions"]


def test_describe_cluster_versions_lists_what_eks_offers(emu):
    eks = emu.client("eks")
    listed = versions(eks)
    assert [v["clusterVersion"] for v in listed] == OFFERED
    status = {v["clusterVersion"]: v["versionStatus"] for v in listed}
    assert status == {"1.36": "STANDARD_SUPPORT", "1.35": "STANDARD_SUPPORT", "1.34": "STANDARD_SUPPORT",
                      "1.33": "EXTENDED_SUPPORT", "1.32": "EXTENDED_SUPPORT"}
    assert [v["clusterVersion"] for v in listed if v["defaultVersion"]] == [TABLE["default"]]
    v134 = next(v for v in listed if v["clusterVersion"] == "1.34")
    assert v134["endOfStandardSupportDate"].isoformat() == "2026-12-02T00:00:00+00:00"
    assert v134["endOfExtendedSupportDate"].isoformat() == "2027-12-02T00:00:00+00:00"
    assert v134["status"] == "standard-support" and v134["clusterType"] == "eks"

    # 1.31's extended support ended on 2026-11-26: listed only when asked for.
    everything = [v["clusterVersion"] for v in versions(eks, includeAll=True)]
    assert everything == OFFERED + ["1.31", "1.30", "1.29"]
    assert [v["versionStatus"] for v in versions(eks, clusterVersions=["1.31"])] == ["UNSUPPORTED"]
    assert [v["clusterVersion"] for v in versions(eks, versionStatus="EXTENDED_SUPPORT")] == ["1.33", "1.32"]
    assert [v["clusterVersion"] for v in versions(eks, status="extended-support")] == ["1.33", "1.32"]
    assert [v["clusterVersion"] for v in versions(eks, defaultOnly=True)] == [TABLE["default"]]
    assert versions(eks, clusterType="eks-local-outposts") == []

    first = eks.describe_cluster_versions(maxResults=2)
    second = eks.describe_cluster_versions(maxResults=2, nextToken=first["nextToken"])
    third = eks.describe_cluster_versions(maxResults=2, nextToken=second["nextToken"])
    assert [v["clusterVersion"] for page in (first, second, third) for v in page["clusterVersions"]] == OFFERED
    assert "nextToken" not in third
    assert [c["action"] for c in emu.calls()][-1] == "DescribeClusterVersions"


def test_create_cluster_refuses_a_version_eks_no_longer_offers(emu):
    _, _, subnets = make_network(emu)
    cluster_role, _ = make_roles(emu)
    eks = emu.client("eks")
    for version in ("1.31", "1.28", "1.37"):
        with pytest.raises(ClientError) as err:
            eks.create_cluster(name="c", version=version, roleArn=cluster_role, resourcesVpcConfig={"subnetIds": subnets})
        assert code(err) == "InvalidParameterException"
        assert message(err) == f"unsupported Kubernetes version {version}"
    assert eks.list_clusters()["clusters"] == []
    # Without a version: the default one; an extended-support version is still offered.
    assert eks.create_cluster(name="c", roleArn=cluster_role, resourcesVpcConfig={"subnetIds": subnets}
                              )["cluster"]["version"] == TABLE["default"]
    assert eks.create_cluster(name="old", version="1.32", roleArn=cluster_role,
                              resourcesVpcConfig={"subnetIds": subnets})["cluster"]["version"] == "1.32"


def test_upgrade_policy_defaults_to_extended_and_can_change(emu):
    emu.config(time_scale=0.002)
    eks, subnets = active_cluster(emu)
    assert eks.describe_cluster(name="c")["cluster"]["upgradePolicy"] == {"supportType": "EXTENDED"}
    cluster_role = emu.client("iam").get_role(RoleName="cluster")["Role"]["Arn"]
    created = eks.create_cluster(name="std", roleArn=cluster_role, resourcesVpcConfig={"subnetIds": subnets},
                                 upgradePolicy={"supportType": "STANDARD"})["cluster"]
    assert created["upgradePolicy"] == {"supportType": "STANDARD"}
    update = eks.update_cluster_config(name="c", upgradePolicy={"supportType": "STANDARD"})["update"]
    assert update["type"] == "UpgradePolicyUpdate"
    assert update["params"] == [{"type": "UpgradePolicy", "value": "STANDARD"}]
    wait_for(lambda: eks.describe_update(name="c", updateId=update["id"])["update"]["status"] == "Successful")
    assert eks.describe_cluster(name="c")["cluster"]["upgradePolicy"] == {"supportType": "STANDARD"}
    with pytest.raises(ClientError) as err:
        eks.update_cluster_config(name="c", upgradePolicy={"supportType": "EXTENDED"},
                                  logging={"clusterLogging": [{"types": ["api"], "enabled": True}]})
    assert message(err) == "Only one type of update can be allowed."


def test_cluster_upgrades_one_minor_at_a_time_node_groups_follow(emu):
    emu.config(time_scale=0.002)
    eks, subnets = active_cluster(emu, version="1.33")
    node_role = emu.client("iam").get_role(RoleName="node")["Role"]["Arn"]
    for target in ("1.35", "1.32", "1.33"):
        with pytest.raises(ClientError) as err:
            eks.update_cluster_version(name="c", version=target)
        assert code(err) == "InvalidParameterException"
        assert message(err) == f"Unsupported Kubernetes minor version update from 1.33 to {target}"

    ng = eks.create_nodegroup(clusterName="c", nodegroupName="ng", nodeRole=node_role, subnets=subnets)["nodegroup"]
    assert ng["version"] == "1.33"  # the cluster's, not moto's 1.19
    with pytest.raises(ClientError) as err:
        eks.create_nodegroup(clusterName="c", nodegroupName="ahead", nodeRole=node_role, subnets=subnets, version="1.34")
    assert code(err) == "InvalidParameterException"
    wait_for(lambda: eks.describe_nodegroup(clusterName="c", nodegroupName="ng")["nodegroup"]["status"] == "ACTIVE")

    update = eks.update_cluster_version(name="c", version="1.34")["update"]
    wait_for(lambda: eks.describe_update(name="c", updateId=update["id"])["update"]["status"] == "Successful")
    # The node group is behind now: the next cluster step waits for it.
    with pytest.raises(ClientError) as err:
        eks.update_cluster_version(name="c", version="1.35")
    assert message(err) == "Nodegroups ng must be updated to match cluster version 1.34 before updating cluster version"
    with pytest.raises(ClientError) as err:
        eks.update_nodegroup_version(clusterName="c", nodegroupName="ng", version="1.35")
    assert code(err) == "InvalidParameterException"
    # Without a version the node group keeps its own.
    same = eks.update_nodegroup_version(clusterName="c", nodegroupName="ng")["update"]
    assert same["params"][0] == {"type": "Version", "value": "1.33"}
    wait_for(lambda: eks.describe_update(name="c", nodegroupName="ng", updateId=same["id"])["update"]["status"]
             == "Successful")
    eks.update_nodegroup_version(clusterName="c", nodegroupName="ng", version="1.34")
    wait_for(lambda: eks.describe_nodegroup(clusterName="c", nodegroupName="ng")["nodegroup"]["version"] == "1.34")
    wait_for(lambda: eks.describe_nodegroup(clusterName="c", nodegroupName="ng")["nodegroup"]["status"] == "ACTIVE")
    eks.update_cluster_version(name="c", version="1.35")


def test_node_role_trust_and_managed_policies(emu):
    emu.config(time_scale=0.002)
    eks, subnets = active_cluster(emu)
    iam = emu.client("iam")
    bare = iam.create_role(RoleName="bare", AssumeRolePolicyDocument=trust("ec2.amazonaws.com"))["Role"]["Arn"]
    with pytest.raises(ClientError) as err:
        eks.create_nodegroup(clusterName="c", nodegroupName="ng", nodeRole=bare, subnets=subnets)
    assert code(err) == "InvalidParameterException"
    assert message(err) == (
        "The provided role doesn't have the Amazon EKS Managed Policies associated with it. Please ensure the "
        "following policies [arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy, "
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly] are attached")
    iam.attach_role_policy(RoleName="bare", PolicyArn="arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy")
    iam.attach_role_policy(RoleName="bare", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly")
    eks.create_nodegroup(clusterName="c", nodegroupName="ng", nodeRole=bare, subnets=subnets)

    # The wrong service trusted, and a missing role.
    wrong = iam.create_role(RoleName="wrong", AssumeRolePolicyDocument=trust("eks.amazonaws.com"))["Role"]["Arn"]
    with pytest.raises(ClientError) as err:
        eks.create_nodegroup(clusterName="c", nodegroupName="ng2", nodeRole=wrong, subnets=subnets)
    assert message(err) == ("Following required service principals [ec2.amazonaws.com] were not found in the "
                            f"trust relationships of nodeRole {wrong}")
    ghost = wrong.replace("wrong", "ghost")
    with pytest.raises(ClientError) as err:
        eks.create_nodegroup(clusterName="c", nodegroupName="ng2", nodeRole=ghost, subnets=subnets)
    assert "could not be assumed" in message(err)


def test_a_fresh_node_role_and_fresh_attachments_are_not_seen_yet(emu):
    emu.config(time_scale=0.002)
    eks, subnets = active_cluster(emu)
    emu.config(iam_propagation=True, hold=["iam_propagation"])
    iam = emu.client("iam")
    role = iam.create_role(RoleName="fresh", AssumeRolePolicyDocument=trust("ec2.amazonaws.com"))["Role"]["Arn"]
    with pytest.raises(ClientError) as err:
        eks.create_nodegroup(clusterName="c", nodegroupName="ng", nodeRole=role, subnets=subnets)
    assert message(err).startswith("Following required service principals [ec2.amazonaws.com] were not found")
    # The node role made by active_cluster has propagated; a policy attached now has not (3 s).
    emu.config(hold=[], time_scale=0.3)
    iam.detach_role_policy(RoleName="node", PolicyArn="arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy")
    iam.attach_role_policy(RoleName="node", PolicyArn="arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy")
    node = iam.get_role(RoleName="node")["Role"]["Arn"]
    with pytest.raises(ClientError) as err:
        eks.create_nodegroup(clusterName="c", nodegroupName="ng", nodeRole=node, subnets=subnets)
    assert message(err).startswith("The provided role doesn't have the Amazon EKS Managed Policies")

    def created():
        try:
            return bool(eks.create_nodegroup(clusterName="c", nodegroupName="ng", nodeRole=node, subnets=subnets))
        except ClientError:
            return False

    wait_for(created, timeout=10, interval=0.5)


def private_network(emu):
    """A VPC whose subnets have no default route (no NAT, no internet gateway)."""
    ec2, vpc, subnets = make_network(emu, route=False)
    # Interface endpoints with private DNS need both DNS attributes (as on AWS).
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsSupport={"Value": True})
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"][0]["RouteTableId"]
    return ec2, vpc, subnets, table


def node_group_outcome(emu, subnets, endpoint_private=True):
    cluster_role, node_role = make_roles(emu)
    eks = emu.client("eks")
    eks.create_cluster(name="c", roleArn=cluster_role, resourcesVpcConfig={
        "subnetIds": subnets, "endpointPrivateAccess": endpoint_private})
    wait_for(lambda: eks.describe_cluster(name="c")["cluster"]["status"] == "ACTIVE")
    eks.create_nodegroup(clusterName="c", nodegroupName="ng", nodeRole=node_role, subnets=subnets,
                         scalingConfig={"minSize": 1, "desiredSize": 2, "maxSize": 2})
    wait_for(lambda: eks.describe_nodegroup(clusterName="c", nodegroupName="ng")["nodegroup"]["status"] != "CREATING")
    return eks.describe_nodegroup(clusterName="c", nodegroupName="ng")["nodegroup"]


def test_nodes_without_a_way_out_fail_to_join(emu):
    emu.config(time_scale=0.002)
    _, _, subnets, _ = private_network(emu)
    ng = node_group_outcome(emu, subnets)
    assert ng["status"] == "CREATE_FAILED"
    [issue] = ng["health"]["issues"]
    assert issue["code"] == "NodeCreationFailure"
    assert issue["message"] == "Instances failed to join the kubernetes cluster"
    group = ng["resources"]["autoScalingGroups"][0]["name"]
    instances = emu.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[group])["AutoScalingGroups"][0]["Instances"]
    assert sorted(issue["resourceIds"]) == sorted(i["InstanceId"] for i in instances) and len(instances) == 2


def endpoints(ec2, vpc, subnets, table, interfaces=("ec2", "ecr.api", "ecr.dkr", "sts")):
    for service in interfaces:
        ec2.create_vpc_endpoint(VpcId=vpc, VpcEndpointType="Interface", ServiceName=f"com.amazonaws.us-east-1.{service}",
                                SubnetIds=subnets, PrivateDnsEnabled=True)
    ec2.create_vpc_endpoint(VpcId=vpc, VpcEndpointType="Gateway", ServiceName="com.amazonaws.us-east-1.s3",
                            RouteTableIds=[table])


def test_the_vpc_endpoints_a_private_cluster_needs_let_nodes_join(emu):
    emu.config(time_scale=0.002)
    ec2, vpc, subnets, table = private_network(emu)
    endpoints(ec2, vpc, subnets, table)
    ng = node_group_outcome(emu, subnets)
    assert ng["status"] == "ACTIVE" and ng["health"]["issues"] == []


@pytest.mark.parametrize("missing", ["ecr.dkr", "s3", "private endpoint"])
def test_one_missing_piece_is_enough_to_fail(emu, missing):
    emu.config(time_scale=0.002)
    ec2, vpc, subnets, table = private_network(emu)
    if missing == "s3":
        other = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        endpoints(ec2, vpc, subnets, other)  # the gateway endpoint serves a table the subnets do not use
    else:
        endpoints(ec2, vpc, subnets, table,
                  interfaces=[s for s in ("ec2", "ecr.api", "ecr.dkr") if s != missing])
    ng = node_group_outcome(emu, subnets, endpoint_private=missing != "private endpoint")
    assert ng["status"] == "CREATE_FAILED"


def test_a_nat_gateway_route_lets_nodes_join(emu):
    emu.config(time_scale=0.002)
    ec2, vpc, subnets, table = private_network(emu)
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    public = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.9.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=public, AllocationId=eip)["NatGateway"]["NatGatewayId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    wait_for(lambda: ec2.describe_nat_gateways(NatGatewayIds=[nat])["NatGateways"][0]["State"] == "available")
    assert node_group_outcome(emu, subnets, endpoint_private=False)["status"] == "ACTIVE"
