"""The reads a destroy uses to find what blocks a delete (interfaces, groups, instances)."""

import pytest


def ids(items, key):
    return sorted(i[key] for i in items)


@pytest.fixture
def world(emu):
    ec2, elb = emu.client("ec2"), emu.client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    other_vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    a, b = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{z}")
            ["Subnet"]["SubnetId"] for i, z in ((1, "a"), (2, "b"))]
    elsewhere = ec2.create_subnet(VpcId=other_vpc, CidrBlock="10.1.1.0/24")["Subnet"]["SubnetId"]
    tagged = [{"ResourceType": "security-group", "Tags": [{"Key": "kubernetes.io/cluster/prod", "Value": "owned"}]}]
    alb_sg = ec2.create_security_group(GroupName="alb", Description="alb", VpcId=vpc)["GroupId"]
    nodes = ec2.create_security_group(GroupName="nodes", Description="n", VpcId=vpc, TagSpecifications=tagged)["GroupId"]
    db = ec2.create_security_group(GroupName="db", Description="db", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=nodes, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 30080, "ToPort": 30080, "UserIdGroupPairs": [{"GroupId": alb_sg}]}])
    ec2.authorize_security_group_egress(GroupId=db, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "UserIdGroupPairs": [{"GroupId": alb_sg}]}])
    lb = elb.create_load_balancer(Name="web", Subnets=[a, b], SecurityGroups=[alb_sg])["LoadBalancers"][0]
    cni_tags = [{"ResourceType": "network-interface", "Tags": [
        {"Key": "cluster.k8s.amazonaws.com/name", "Value": "prod"},
        {"Key": "node.k8s.amazonaws.com/instance_id", "Value": "i-0123456789abcdef0"}]}]
    cni = ec2.create_network_interface(SubnetId=b, Groups=[nodes], Description="aws-K8S-i-0123456789abcdef0",
                                       TagSpecifications=cni_tags)["NetworkInterface"]["NetworkInterfaceId"]
    other = ec2.create_network_interface(SubnetId=elsewhere, Description="aws-K8S-i-0fedcba9876543210")[
        "NetworkInterface"]["NetworkInterfaceId"]
    elb_enis = [e["NetworkInterfaceId"] for e in ec2.describe_network_interfaces(
        Filters=[{"Name": "requester-id", "Values": ["amazon-elb"]}])["NetworkInterfaces"]]
    return dict(ec2=ec2, vpc=vpc, a=a, b=b, alb_sg=alb_sg, nodes=nodes, db=db, lb=lb, cni=cni, other=other,
                elb_enis=elb_enis)


def test_network_interface_filters(world):
    ec2, w = world["ec2"], world

    def enis(*filters):
        found = ec2.describe_network_interfaces(
            Filters=[{"Name": n, "Values": v} for n, v in filters])["NetworkInterfaces"]
        return sorted(e["NetworkInterfaceId"] for e in found)

    assert len(w["elb_enis"]) == 2
    everything_in_vpc = sorted(w["elb_enis"] + [w["cni"]])
    assert enis(("vpc-id", [w["vpc"]])) == everything_in_vpc
    in_b = enis(("subnet-id", [w["b"]]))  # the load balancer's interface there, and the CNI's
    assert len(in_b) == 2 and w["cni"] in in_b and set(in_b) - {w["cni"]} <= set(w["elb_enis"])
    assert enis(("group-id", [w["alb_sg"]])) == sorted(w["elb_enis"])
    assert enis(("group-id", [w["nodes"]])) == [w["cni"]]
    assert enis(("status", ["available"])) == sorted([w["cni"], w["other"]])
    assert enis(("status", ["in-use"])) == sorted(w["elb_enis"])
    assert enis(("description", ["aws-K8S-*"])) == sorted([w["cni"], w["other"]])
    assert enis(("description", ["aws-K8S-*"]), ("vpc-id", [w["vpc"]])) == [w["cni"]]  # filters AND
    assert enis(("description", ["ELB app/web/*", "aws-K8S-*"]), ("subnet-id", [w["a"]])) == enis(
        ("requester-managed", ["true"]), ("subnet-id", [w["a"]]))  # values OR
    assert enis(("tag:cluster.k8s.amazonaws.com/name", ["prod"])) == [w["cni"]]
    assert enis(("tag-key", ["node.k8s.amazonaws.com/instance_id"])) == [w["cni"]]
    assert enis(("requester-managed", ["true"])) == sorted(w["elb_enis"])
    assert enis(("requester-managed", ["false"])) == sorted([w["cni"], w["other"]])


def test_security_group_filters(world):
    ec2, w = world["ec2"], world

    def groups(name, values):
        found = ec2.describe_security_groups(Filters=[{"Name": name, "Values": values}])["SecurityGroups"]
        return sorted(g["GroupId"] for g in found)

    default = ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [w["vpc"]]}, {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]
    assert groups("vpc-id", [w["vpc"]]) == sorted([w["alb_sg"], w["nodes"], w["db"], default[0]["GroupId"]])
    assert groups("tag:kubernetes.io/cluster/prod", ["owned"]) == [w["nodes"]]
    assert groups("tag-key", ["kubernetes.io/cluster/prod"]) == [w["nodes"]]
    # Who references the ALB's group: in an ingress rule, in an egress rule.
    assert groups("ip-permission.group-id", [w["alb_sg"]]) == [w["nodes"]]
    assert groups("egress.ip-permission.group-id", [w["alb_sg"]]) == [w["db"]]


def test_instance_filters(world):
    ec2, w = world["ec2"], world
    image = ec2.describe_images()["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, SubnetId=w["a"])["Instances"][0]["InstanceId"]

    def instances(*filters):
        found = ec2.describe_instances(Filters=[{"Name": n, "Values": v} for n, v in filters])["Reservations"]
        return [i["InstanceId"] for r in found for i in r["Instances"]]

    live = ["pending", "running", "shutting-down", "stopping", "stopped"]
    assert instances(("subnet-id", [w["a"]]), ("instance-state-name", live)) == [instance]
    assert instances(("subnet-id", [w["b"]])) == []
    ec2.terminate_instances(InstanceIds=[instance])
    assert instances(("subnet-id", [w["a"]]), ("instance-state-name", live)) == []
    assert instances(("subnet-id", [w["a"]]), ("instance-state-name", ["terminated"])) == [instance]
