"""EC2 fidelity: tag filters with colons, NAT gateway lifecycle, dependency violations."""

import pytest
from botocore.exceptions import ClientError

from latency import DURATIONS
from support import TIME_SCALE, wait_for


def tags(kind, logical_id, stack="s"):
    return [{"ResourceType": kind, "Tags": [{"Key": "infra:stack", "Value": stack},
                                            {"Key": "infra:id", "Value": logical_id}]}]


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


@pytest.fixture
def net(emu):
    """A VPC with a public subnet, an attached IGW, a tagged EIP and route table."""
    ec2 = emu.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=tags("vpc", "vpc"))["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a",
                               TagSpecifications=tags("subnet", "subnet/public/a"))["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway(TagSpecifications=tags("internet-gateway", "igw"))["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    rtb = ec2.create_route_table(VpcId=vpc, TagSpecifications=tags("route-table", "rt/public"))["RouteTable"]["RouteTableId"]
    alloc = ec2.allocate_address(Domain="vpc", TagSpecifications=tags("elastic-ip", "eip"))["AllocationId"]
    sg = ec2.create_security_group(GroupName="alb", Description="alb", VpcId=vpc,
                                   TagSpecifications=tags("security-group", "sg/alb"))["GroupId"]
    return {"ec2": ec2, "vpc": vpc, "subnet": subnet, "igw": igw, "rtb": rtb, "alloc": alloc, "sg": sg}


def create_nat(net):
    return net["ec2"].create_nat_gateway(
        SubnetId=net["subnet"], AllocationId=net["alloc"], TagSpecifications=tags("natgateway", "nat/a"),
    )["NatGateway"]


def nat_state(ec2, nat_id):
    gws = ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"]
    return gws[0]["State"] if gws else None


def test_tag_filters_with_colon_keys(net):
    ec2 = net["ec2"]
    create_nat(net)
    ec2.create_vpc(CidrBlock="10.1.0.0/16", TagSpecifications=tags("vpc", "vpc", stack="other"))
    cases = [
        (ec2.describe_vpcs, "Vpcs"), (ec2.describe_subnets, "Subnets"),
        (ec2.describe_internet_gateways, "InternetGateways"), (ec2.describe_route_tables, "RouteTables"),
        (ec2.describe_nat_gateways, "NatGateways"), (ec2.describe_addresses, "Addresses"),
        (ec2.describe_security_groups, "SecurityGroups"),
    ]
    for describe, key in cases:
        found = describe(Filters=[{"Name": "tag:infra:stack", "Values": ["s"]}])[key]
        assert len(found) == 1, key
        assert {"Key": "infra:stack", "Value": "s"} in (found[0].get("Tags") or [])
        assert describe(Filters=[{"Name": "tag:infra:stack", "Values": ["nope"]}])[key] == [], key
        assert len(describe(Filters=[{"Name": "tag-key", "Values": ["infra:id"]}])[key]) >= 1, key
        assert describe(Filters=[{"Name": "tag-key", "Values": ["no:such"]}])[key] == [], key


def test_nat_gateway_lifecycle_and_eip(emu, net):
    ec2 = net["ec2"]
    nat = create_nat(net)
    assert nat["State"] == "pending"
    wait_for(lambda: nat_state(ec2, nat["NatGatewayId"]) == "available")
    ec2.delete_nat_gateway(NatGatewayId=nat["NatGatewayId"])
    assert nat_state(ec2, nat["NatGatewayId"]) == "deleting"
    # The EIP stays mapped while deleting: release and IGW detach are refused.
    with pytest.raises(ClientError) as err:
        ec2.release_address(AllocationId=net["alloc"])
    assert error_code(err) == "AuthFailure"
    with pytest.raises(ClientError) as err:
        ec2.detach_internet_gateway(InternetGatewayId=net["igw"], VpcId=net["vpc"])
    assert error_code(err) == "DependencyViolation"
    assert "mapped public address" in err.value.response["Error"]["Message"]
    wait_for(lambda: nat_state(ec2, nat["NatGatewayId"]) == "deleted")
    # Still visible as deleted (AWS keeps it about an hour), EIP now free.
    assert "AssociationId" not in ec2.describe_addresses(AllocationIds=[net["alloc"]])["Addresses"][0]
    ec2.detach_internet_gateway(InternetGatewayId=net["igw"], VpcId=net["vpc"])
    ec2.release_address(AllocationId=net["alloc"])


def test_transitions_say_when_each_change_is_due(emu, net):
    ec2 = net["ec2"]
    nat = create_nat(net)["NatGatewayId"]
    [t] = emu.transitions()
    assert (t["name"], t["subject"]) == ("nat_gateway_create", nat)
    assert t["due"] - t["scheduled"] == pytest.approx(DURATIONS["nat_gateway_create"] * TIME_SCALE)
    # The change happens at the first request from the due time on, never before it.
    wait_for(lambda: nat_state(ec2, nat) == "available")
    assert emu.calls()[-1]["t"] >= t["due"]
    ec2.delete_nat_gateway(NatGatewayId=nat)
    assert [x["name"] for x in emu.transitions()] == ["nat_gateway_create", "nat_gateway_delete"]
    emu.reset()
    assert emu.transitions() == []


def test_nat_gateway_without_igw_fails(emu):
    ec2 = emu.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    alloc = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=alloc)["NatGateway"]
    wait_for(lambda: nat_state(ec2, nat["NatGatewayId"]) == "failed")
    gw = ec2.describe_nat_gateways(NatGatewayIds=[nat["NatGatewayId"]])["NatGateways"][0]
    assert gw["FailureCode"] == "Gateway.NotAttached"


def test_dependency_violations(emu, net):
    ec2 = net["ec2"]
    nat = create_nat(net)

    def refused(call, code="DependencyViolation", **kwargs):
        with pytest.raises(ClientError) as err:
            call(**kwargs)
        assert error_code(err) == code, err.value.response["Error"]
        return err.value.response["Error"]["Message"]

    assert "has dependencies" in refused(ec2.delete_subnet, SubnetId=net["subnet"])
    refused(ec2.delete_vpc, VpcId=net["vpc"])
    ec2.associate_route_table(RouteTableId=net["rtb"], SubnetId=net["subnet"])
    refused(ec2.delete_route_table, RouteTableId=net["rtb"])
    other = ec2.create_security_group(GroupName="nodes", Description="n", VpcId=net["vpc"])["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=other, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 30080, "ToPort": 30080, "UserIdGroupPairs": [{"GroupId": net["sg"]}]}])
    assert "dependent object" in refused(ec2.delete_security_group, GroupId=net["sg"])

    # Tear down in AWS's order: everything succeeds.
    ec2.delete_nat_gateway(NatGatewayId=nat["NatGatewayId"])
    wait_for(lambda: nat_state(ec2, nat["NatGatewayId"]) == "deleted")
    ec2.release_address(AllocationId=net["alloc"])
    ec2.delete_security_group(GroupId=other)
    ec2.delete_security_group(GroupId=net["sg"])
    assoc = [a["RouteTableAssociationId"] for a in
             ec2.describe_route_tables(RouteTableIds=[net["rtb"]])["RouteTables"][0]["Associations"]]
    ec2.disassociate_route_table(AssociationId=assoc[0])
    ec2.delete_route_table(RouteTableId=net["rtb"])
    ec2.delete_subnet(SubnetId=net["subnet"])
    refused(ec2.delete_vpc, VpcId=net["vpc"])  # IGW still attached
    ec2.detach_internet_gateway(InternetGatewayId=net["igw"], VpcId=net["vpc"])
    ec2.delete_internet_gateway(InternetGatewayId=net["igw"])
    ec2.delete_vpc(VpcId=net["vpc"])


def test_launch_template_tags_change_after_creation(emu):
    ec2 = emu.client("ec2")
    lt = ec2.create_launch_template(LaunchTemplateName="nodes", LaunchTemplateData={"InstanceType": "t3.medium"},
                                    TagSpecifications=tags("launch-template", "lt/nodes"))
    lt_id = lt["LaunchTemplate"]["LaunchTemplateId"]
    ec2.create_tags(Resources=[lt_id], Tags=[{"Key": "team", "Value": "platform"}])
    ec2.delete_tags(Resources=[lt_id], Tags=[{"Key": "infra:id"}])
    [found] = ec2.describe_launch_templates(LaunchTemplateIds=[lt_id])["LaunchTemplates"]
    assert {t["Key"]: t["Value"] for t in found["Tags"]} == {"infra:stack": "s", "team": "platform"}


NODE_TEMPLATE = {
    "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 1, "HttpEndpoint": "enabled"},
    "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {
        "VolumeSize": 20, "VolumeType": "gp3", "Throughput": 125, "Iops": 3000, "Encrypted": True,
        "KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/abcd", "DeleteOnTermination": True}}],
}


def test_launch_template_imds_and_block_device_checks(emu):
    ec2 = emu.client("ec2")

    def with_metadata(**options):
        return {**NODE_TEMPLATE, "MetadataOptions": {**NODE_TEMPLATE["MetadataOptions"], **options}}

    def with_ebs(drop=(), **ebs):
        volume = {k: v for k, v in {**NODE_TEMPLATE["BlockDeviceMappings"][0]["Ebs"], **ebs}.items() if k not in drop}
        return {**NODE_TEMPLATE, "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": volume}]}

    refused = [
        (with_metadata(HttpPutResponseHopLimit=0), "InvalidParameterValue"),
        (with_metadata(HttpPutResponseHopLimit=65), "InvalidParameterValue"),
        (with_metadata(HttpTokens="always"), "InvalidParameterValue"),
        (with_ebs(VolumeType="gp4"), "InvalidParameterValue"),
        (with_ebs(VolumeType="gp2", Iops=None, drop=("Iops",)), "InvalidParameterCombination"),
        (with_ebs(drop=("VolumeType", "Iops")), "InvalidParameterCombination"),  # gp2 by default
        (with_ebs(drop=("Encrypted",)), "InvalidParameterDependency"),
        (with_ebs(Encrypted=False), "InvalidParameterDependency"),
    ]
    for data, expected in refused:
        with pytest.raises(ClientError) as err:
            ec2.create_launch_template(LaunchTemplateName="nodes", LaunchTemplateData=data)
        assert error_code(err) == expected, data
    assert ec2.describe_launch_templates()["LaunchTemplates"] == []
    with pytest.raises(ClientError) as err:
        ec2.create_launch_template(LaunchTemplateName="nodes", LaunchTemplateData=with_ebs(VolumeType="gp2", drop=("Iops",)))
    assert err.value.response["Error"]["Message"] == "The throughput parameter is not supported for gp2 volumes."
    with pytest.raises(ClientError) as err:
        ec2.create_launch_template(LaunchTemplateName="nodes", LaunchTemplateData=with_ebs(drop=("Encrypted",)))
    assert err.value.response["Error"]["Message"] == "The parameter KmsKeyId requires the parameter Encrypted to be set."

    # The boundaries are accepted; versions are checked the same way.
    ec2.create_launch_template(LaunchTemplateName="nodes", LaunchTemplateData=with_metadata(HttpPutResponseHopLimit=64))
    with pytest.raises(ClientError) as err:
        ec2.create_launch_template_version(LaunchTemplateName="nodes", LaunchTemplateData=with_metadata(HttpTokens="v2"))
    assert error_code(err) == "InvalidParameterValue"
    with pytest.raises(ClientError) as err:
        ec2.create_launch_template_version(LaunchTemplateName="nodes", LaunchTemplateData=with_ebs(drop=("Encrypted",)))
    assert error_code(err) == "InvalidParameterDependency"
    versions = ec2.describe_launch_template_versions(LaunchTemplateName="nodes")["LaunchTemplateVersions"]
    assert [v["VersionNumber"] for v in versions] == [1]


def test_launch_template_new_default_version_round_trip(emu):
    ec2 = emu.client("ec2")
    v1 = {**NODE_TEMPLATE, "MetadataOptions": {"HttpTokens": "optional", "HttpPutResponseHopLimit": 2}}
    template = ec2.create_launch_template(LaunchTemplateName="nodes", LaunchTemplateData=v1)["LaunchTemplate"]
    assert template["DefaultVersionNumber"] == 1
    v2 = ec2.create_launch_template_version(LaunchTemplateId=template["LaunchTemplateId"],
                                            LaunchTemplateData=NODE_TEMPLATE)["LaunchTemplateVersion"]
    assert (v2["VersionNumber"], v2["DefaultVersion"]) == (2, False)
    [default] = ec2.describe_launch_template_versions(LaunchTemplateId=template["LaunchTemplateId"],
                                                      Versions=["$Default"])["LaunchTemplateVersions"]
    assert default["VersionNumber"] == 1
    modified = ec2.modify_launch_template(LaunchTemplateId=template["LaunchTemplateId"], DefaultVersion="2")
    assert modified["LaunchTemplate"]["DefaultVersionNumber"] == 2
    [default] = ec2.describe_launch_template_versions(LaunchTemplateId=template["LaunchTemplateId"],
                                                      Versions=["$Default"])["LaunchTemplateVersions"]
    assert default["VersionNumber"] == 2 and default["DefaultVersion"] is True
    data = default["LaunchTemplateData"]
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert data["MetadataOptions"]["HttpPutResponseHopLimit"] == 1
    assert data["BlockDeviceMappings"] == NODE_TEMPLATE["BlockDeviceMappings"]
    assert ec2.describe_launch_templates(LaunchTemplateNames=["nodes"])["LaunchTemplates"][0]["LatestVersionNumber"] == 2
