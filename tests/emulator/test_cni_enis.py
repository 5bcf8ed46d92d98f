"""The VPC CNI's interfaces a deleted managed node group leaves behind."""

import re
from datetime import datetime

import pytest
from botocore.exceptions import ClientError

from support import code, trust, wait_for


@pytest.fixture
def cluster(emu):
    emu.config(time_scale=0.001)
    ec2, eks, iam = emu.client("ec2"), emu.client("eks"), emu.client("iam")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{az}")
               ["Subnet"]["SubnetId"] for i, az in ((1, "a"), (2, "b"), (3, "c"))]
    role = iam.create_role(RoleName="cluster", AssumeRolePolicyDocument=trust("eks.amazonaws.com"))["Role"]["Arn"]
    node_role = iam.create_role(RoleName="node", AssumeRolePolicyDocument=trust("ec2.amazonaws.com"))["Role"]["Arn"]
    for policy in ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly"):
        iam.attach_role_policy(RoleName="node", PolicyArn=f"arn:aws:iam::aws:policy/{policy}")
    # A way out for the nodes (an internet gateway as the main route table's default route).
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    main = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"][0]
    ec2.create_route(RouteTableId=main["RouteTableId"], DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    # The control plane uses a and b, the nodes b and c: c is the nodes' alone.
    eks.create_cluster(name="prod", roleArn=role, resourcesVpcConfig={"subnetIds": subnets[:2]})
    wait_for(lambda: eks.describe_cluster(name="prod")["cluster"]["status"] == "ACTIVE")
    cluster_sg = eks.describe_cluster(name="prod")["cluster"]["resourcesVpcConfig"]["clusterSecurityGroupId"]
    return {"ec2": ec2, "eks": eks, "vpc": vpc, "subnets": subnets, "node_role": node_role, "cluster_sg": cluster_sg}


def node_group_comes_and_goes(c, **extra):
    eks = c["eks"]
    eks.create_nodegroup(clusterName="prod", nodegroupName="ng", nodeRole=c["node_role"], subnets=c["subnets"][1:],
                         scalingConfig={"minSize": 1, "desiredSize": 1, "maxSize": 2}, **extra)
    wait_for(lambda: eks.describe_nodegroup(clusterName="prod", nodegroupName="ng")["nodegroup"]["status"] == "ACTIVE")
    eks.delete_nodegroup(clusterName="prod", nodegroupName="ng")
    wait_for(lambda: eks.list_nodegroups(clusterName="prod")["nodegroups"] == [])


def cni_enis(ec2):
    return ec2.describe_network_interfaces(
        Filters=[{"Name": "description", "Values": ["aws-K8S-*"]}])["NetworkInterfaces"]


def test_a_deleted_node_group_leaves_cni_interfaces(emu, cluster):
    ec2 = cluster["ec2"]
    node_group_comes_and_goes(cluster)
    enis = cni_enis(ec2)
    assert sorted(e["SubnetId"] for e in enis) == sorted(cluster["subnets"][1:])  # one per subnet (default)
    for eni in enis:
        tags = {t["Key"]: t["Value"] for t in eni["TagSet"]}
        instance = tags["node.k8s.amazonaws.com/instance_id"]
        assert re.fullmatch(r"i-[0-9a-f]{17}", instance)
        assert eni["Description"] == f"aws-K8S-{instance}"
        assert tags["cluster.k8s.amazonaws.com/name"] == "prod"
        datetime.strptime(tags["node.k8s.amazonaws.com/createdAt"], "%Y-%m-%dT%H:%M:%SZ")  # RFC 3339
        assert eni["Status"] == "available" and eni["RequesterManaged"] is False
        assert "Attachment" not in eni
        # Without a launch template naming groups, the nodes had the cluster security group.
        assert [g["GroupId"] for g in eni["Groups"]] == [cluster["cluster_sg"]]

    # They hold their subnets and groups, like any interface, until deleted; deleting works.
    with pytest.raises(ClientError) as err:
        ec2.delete_subnet(SubnetId=cluster["subnets"][2])
    assert code(err) == "DependencyViolation"
    with pytest.raises(ClientError) as err:
        ec2.delete_security_group(GroupId=cluster["cluster_sg"])
    assert code(err) == "DependencyViolation"
    for eni in enis:
        ec2.delete_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"])
    ec2.delete_subnet(SubnetId=cluster["subnets"][2])


def test_launch_template_groups_and_the_setting(emu, cluster):
    ec2 = cluster["ec2"]
    nodes = ec2.create_security_group(GroupName="nodes", Description="n", VpcId=cluster["vpc"])["GroupId"]
    template = ec2.create_launch_template(LaunchTemplateName="nodes", LaunchTemplateData={
        "SecurityGroupIds": [nodes, cluster["cluster_sg"]]})["LaunchTemplate"]["LaunchTemplateId"]
    emu.config(cni_leftover_enis=2)
    node_group_comes_and_goes(cluster, launchTemplate={"id": template, "version": "1"})
    enis = cni_enis(ec2)
    assert len(enis) == 4
    assert all(sorted(g["GroupId"] for g in e["Groups"]) == sorted([nodes, cluster["cluster_sg"]]) for e in enis)
    assert len({e["Description"] for e in enis}) == 4  # each from its own (fake) instance
    with pytest.raises(ClientError) as err:
        ec2.delete_security_group(GroupId=nodes)
    assert code(err) == "DependencyViolation"

    for eni in enis:
        ec2.delete_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"])
    assert emu.config(cni_leftover_enis=0)["cni_leftover_enis"] == 0
    node_group_comes_and_goes(cluster)
    assert cni_enis(ec2) == []
    ec2.delete_security_group(GroupId=nodes)
