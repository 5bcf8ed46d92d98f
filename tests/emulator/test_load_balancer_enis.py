"""ELBv2 names (idempotent creates), load balancers' network interfaces, DescribeTags."""

import pytest
from botocore.exceptions import ClientError

from support import code, wait_for


def message(err):
    return err.value.response["Error"]["Message"]


@pytest.fixture
def vpc(emu):
    ec2, elb = emu.client("ec2"), emu.client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{az}")
               ["Subnet"]["SubnetId"] for i, az in ((1, "a"), (2, "b"), (3, "c"))]
    groups = [ec2.create_security_group(GroupName=n, Description=n, VpcId=vpc)["GroupId"] for n in ("alb", "alb2")]
    return {"ec2": ec2, "elb": elb, "vpc": vpc, "igw": igw, "subnets": subnets, "groups": groups}


def lb_enis(ec2, lb=None):
    pattern = "ELB " + lb["LoadBalancerArn"].split(":loadbalancer/")[1] if lb else "ELB *"
    return ec2.describe_network_interfaces(
        Filters=[{"Name": "description", "Values": [pattern]}])["NetworkInterfaces"]


def test_load_balancer_create_is_idempotent_and_names_are_unique(vpc):
    elb, subnets, (sg, sg2) = vpc["elb"], vpc["subnets"], vpc["groups"]
    first = elb.create_load_balancer(Name="web", Subnets=subnets[:2], SecurityGroups=[sg])["LoadBalancers"][0]
    assert first["Scheme"] == "internet-facing"  # AWS's default, also when not sent
    # Same settings (defaults spelled out, subnets in another order): the same load balancer.
    again = elb.create_load_balancer(Name="web", Subnets=subnets[1::-1], SecurityGroups=[sg],
                                     Scheme="internet-facing", Type="application",
                                     IpAddressType="ipv4")["LoadBalancers"][0]
    assert again["LoadBalancerArn"] == first["LoadBalancerArn"]
    assert len(elb.describe_load_balancers(Names=["web"])["LoadBalancers"]) == 1
    assert len(lb_enis(vpc["ec2"])) == 2  # and no second set of interfaces
    different = [dict(Scheme="internal"), dict(SecurityGroups=[sg2]), dict(Subnets=subnets[1:]),
                 dict(Type="network", SecurityGroups=[]), dict(IpAddressType="dualstack")]
    for change in different:
        args = {"Name": "web", "Subnets": subnets[:2], "SecurityGroups": [sg], **change}
        with pytest.raises(ClientError) as err:
            elb.create_load_balancer(**args)
        assert code(err) == "DuplicateLoadBalancerName", change
        assert message(err) == "A load balancer with the same name 'web' exists, but with different settings"
    assert len(elb.describe_load_balancers()["LoadBalancers"]) == 1
    # Once it is deleted, the name is free again.
    elb.delete_load_balancer(LoadBalancerArn=first["LoadBalancerArn"])
    other = elb.create_load_balancer(Name="web", Subnets=subnets[1:], Scheme="internal")["LoadBalancers"][0]
    assert other["LoadBalancerArn"] != first["LoadBalancerArn"]


def test_target_group_create_is_idempotent(vpc):
    elb = vpc["elb"]
    settings = dict(Protocol="HTTP", Port=30080, VpcId=vpc["vpc"], TargetType="instance", HealthCheckPath="/healthz")
    tg = elb.create_target_group(Name="web", **settings)["TargetGroups"][0]
    assert elb.create_target_group(Name="web", **settings)["TargetGroups"][0]["TargetGroupArn"] == tg["TargetGroupArn"]
    # Defaults spelled out are the same settings.
    same = dict(settings, ProtocolVersion="HTTP1", HealthCheckPort="traffic-port", HealthCheckProtocol="HTTP")
    assert elb.create_target_group(Name="web", **same)["TargetGroups"][0]["TargetGroupArn"] == tg["TargetGroupArn"]
    other_vpc = vpc["ec2"].create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    for change in (dict(Port=30081), dict(ProtocolVersion="GRPC"), dict(TargetType="ip"), dict(VpcId=other_vpc),
                   dict(HealthCheckPath="/"), dict(HealthCheckIntervalSeconds=10), dict(Protocol="HTTPS")):
        with pytest.raises(ClientError) as err:
            elb.create_target_group(Name="web", **{**settings, **change})
        assert code(err) == "DuplicateTargetGroupName", change
        assert message(err) == "A target group with the same name 'web' exists, but with different settings"
    assert [t["TargetGroupName"] for t in elb.describe_target_groups()["TargetGroups"]] == ["web"]
    assert elb.describe_tags(ResourceArns=[tg["TargetGroupArn"]])["TagDescriptions"][0]["Tags"] == []


def test_load_balancer_has_an_interface_per_subnet(vpc):
    ec2, elb, subnets, (sg, _) = vpc["ec2"], vpc["elb"], vpc["subnets"], vpc["groups"]
    lb = elb.create_load_balancer(Name="web", Subnets=subnets[:2], SecurityGroups=[sg])["LoadBalancers"][0]
    enis = lb_enis(ec2, lb)
    assert sorted(e["SubnetId"] for e in enis) == sorted(subnets[:2])
    lb_id = lb["LoadBalancerArn"].rsplit("/", 1)[1]
    for eni in enis:
        assert eni["Description"] == f"ELB app/web/{lb_id}"
        assert (eni["RequesterId"], eni["RequesterManaged"], eni["Status"]) == ("amazon-elb", True, "in-use")
        assert [g["GroupId"] for g in eni["Groups"]] == [sg]
        assert eni["Attachment"]["InstanceOwnerId"] == "amazon-elb"
        assert eni["Attachment"]["AttachmentId"].startswith("ela-attach-")
        assert eni["Association"]["IpOwnerId"] == "amazon-elb"  # internet-facing: public addresses
    by_filter = lambda name, values: ec2.describe_network_interfaces(  # noqa: E731
        Filters=[{"Name": name, "Values": values}])["NetworkInterfaces"]
    assert len(by_filter("requester-managed", ["true"])) == 2
    assert len(by_filter("requester-id", ["amazon-elb"])) == 2
    assert len(by_filter("attachment.instance-owner-id", ["amazon-elb"])) == 2
    assert len(by_filter("status", ["in-use"])) == 2
    assert len(by_filter("group-id", [sg])) == 2
    # An NLB's interfaces say net/ and, without security groups, have none; internal: no public IP.
    nlb = elb.create_load_balancer(Name="tcp", Subnets=subnets[:1], Type="network", Scheme="internal")["LoadBalancers"][0]
    [eni] = lb_enis(ec2, nlb)
    assert eni["Description"] == f"ELB net/tcp/{nlb['LoadBalancerArn'].rsplit('/', 1)[1]}"
    assert eni["Groups"] == [] and eni["InterfaceType"] == "network_load_balancer"
    assert not eni.get("Association")

    # Nobody but ELB deletes or detaches them.
    with pytest.raises(ClientError) as err:
        ec2.delete_network_interface(NetworkInterfaceId=enis[0]["NetworkInterfaceId"])
    assert (code(err), message(err)) == (
        "InvalidParameterValue", f"Network interface '{enis[0]['NetworkInterfaceId']}' is currently in use.")
    with pytest.raises(ClientError) as err:
        ec2.detach_network_interface(AttachmentId=enis[0]["Attachment"]["AttachmentId"])
    assert (code(err), message(err)) == ("OperationNotPermitted", "You are not allowed to manage 'ela-attach' attachments.")


def test_interfaces_outlive_the_load_balancer(emu, vpc):
    ec2, elb, subnets, (sg, _) = vpc["ec2"], vpc["elb"], vpc["subnets"], vpc["groups"]
    lb = elb.create_load_balancer(Name="web", Subnets=subnets[:2], SecurityGroups=[sg])["LoadBalancers"][0]

    def refused(call, **kwargs):
        with pytest.raises(ClientError) as err:
            call(**kwargs)
        assert code(err) == "DependencyViolation", err.value.response["Error"]
        return message(err)

    emu.config(hold=["alb_enis_release"])
    elb.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])
    assert elb.describe_load_balancers()["LoadBalancers"] == []
    [release] = [t for t in emu.transitions() if t["name"] == "alb_enis_release"]
    assert release["subject"] == lb["LoadBalancerArn"]
    # The load balancer is gone; its interfaces still hold subnet, group and public addresses.
    assert len(lb_enis(ec2, lb)) == 2
    assert "has dependencies" in refused(ec2.delete_subnet, SubnetId=subnets[0])
    assert "dependent object" in refused(ec2.delete_security_group, GroupId=sg)
    assert "mapped public address" in refused(ec2.detach_internet_gateway, InternetGatewayId=vpc["igw"],
                                              VpcId=vpc["vpc"])
    emu.config(hold=[])
    wait_for(lambda: lb_enis(ec2, lb) == [])
    ec2.delete_subnet(SubnetId=subnets[0])
    ec2.delete_security_group(GroupId=sg)
    ec2.detach_internet_gateway(InternetGatewayId=vpc["igw"], VpcId=vpc["vpc"])


def test_set_subnets_and_security_groups_move_the_interfaces(emu, vpc):
    ec2, elb, subnets, (sg, sg2) = vpc["ec2"], vpc["elb"], vpc["subnets"], vpc["groups"]
    lb = elb.create_load_balancer(Name="web", Subnets=subnets[:2], SecurityGroups=[sg],
                                  Scheme="internal")["LoadBalancers"][0]
    arn = lb["LoadBalancerArn"]
    elb.set_security_groups(LoadBalancerArn=arn, SecurityGroups=[sg2])
    assert {g["GroupId"] for e in lb_enis(ec2, lb) for g in e["Groups"]} == {sg2}
    ec2.delete_security_group(GroupId=sg)  # no longer used
    emu.config(hold=["alb_enis_release"])
    elb.set_subnets(LoadBalancerArn=arn, Subnets=subnets[1:])
    # The new subnet has its interface at once; the dropped one keeps its own for a while.
    assert sorted(e["SubnetId"] for e in lb_enis(ec2, lb)) == sorted(subnets)
    with pytest.raises(ClientError) as err:
        ec2.delete_subnet(SubnetId=subnets[0])
    assert code(err) == "DependencyViolation"
    emu.config(hold=[])
    wait_for(lambda: sorted(e["SubnetId"] for e in lb_enis(ec2, lb)) == sorted(subnets[1:]))
    ec2.delete_subnet(SubnetId=subnets[0])


CONTROLLER_TAGS = [{"Key": "elbv2.k8s.aws/cluster", "Value": "prod"},
                   {"Key": "service.k8s.aws/stack", "Value": "shop/web"},
                   {"Key": "service.k8s.aws/resource", "Value": "LoadBalancer"}]
IN_TREE_TAGS = [{"Key": "kubernetes.io/cluster/prod", "Value": "owned"},
                {"Key": "kubernetes.io/service-name", "Value": "shop/web"}]


def test_describe_tags_of_controller_made_load_balancers(vpc):
    elb, subnets = vpc["elb"], vpc["subnets"]
    alb = elb.create_load_balancer(Name="k8s-shop-web-0123456789", Subnets=subnets[:2], SecurityGroups=vpc["groups"][:1],
                                   Tags=CONTROLLER_TAGS)["LoadBalancers"][0]
    nlb = elb.create_load_balancer(Name="a0123456789abcdef0123456789abcd", Subnets=subnets[:2], Type="network",
                                   Tags=IN_TREE_TAGS)["LoadBalancers"][0]
    tg = elb.create_target_group(Name="k8s-shop-web-0123456789", Protocol="HTTP", Port=30080, VpcId=vpc["vpc"],
                                 TargetType="ip", Tags=CONTROLLER_TAGS)["TargetGroups"][0]
    arns = [alb["LoadBalancerArn"], nlb["LoadBalancerArn"], tg["TargetGroupArn"]]
    described = {d["ResourceArn"]: d["Tags"] for d in elb.describe_tags(ResourceArns=arns)["TagDescriptions"]}
    assert described == {arns[0]: CONTROLLER_TAGS, arns[1]: IN_TREE_TAGS, arns[2]: CONTROLLER_TAGS}
    # A deleted resource is not found (moto answered with its old tags).
    elb.delete_load_balancer(LoadBalancerArn=arns[1])
    with pytest.raises(ClientError) as err:
        elb.describe_tags(ResourceArns=arns)
    assert code(err) == "LoadBalancerNotFound"
    elb.delete_target_group(TargetGroupArn=arns[2])
    with pytest.raises(ClientError) as err:
        elb.describe_tags(ResourceArns=[arns[2]])
    assert code(err) == "TargetGroupNotFound"
