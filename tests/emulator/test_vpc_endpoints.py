"""VPC endpoint fidelity: interface lifecycle, their interfaces, ModifyVpcEndpoint, private DNS."""

import pytest
from botocore.exceptions import ClientError

from support import wait_for

REGION = "us-east-1"


def tags(logical_id, stack="s"):
    return [{"ResourceType": "vpc-endpoint", "Tags": [{"Key": "infra:stack", "Value": stack},
                                                      {"Key": "infra:id", "Value": logical_id}]}]


@pytest.fixture
def vpc(emu):
    ec2 = emu.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")
               ["Subnet"]["SubnetId"] for i, z in ((1, "a"), (2, "b"))]
    sg = ec2.create_security_group(GroupName="endpoints", Description="endpoints", VpcId=vpc)["GroupId"]
    tables = [ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"] for _ in range(2)]
    return {"ec2": ec2, "vpc": vpc, "subnets": subnets, "sg": sg, "tables": tables}


def interface(net, service="ecr.api", **extra):
    return net["ec2"].create_vpc_endpoint(
        VpcId=net["vpc"], ServiceName=f"com.amazonaws.{REGION}.{service}", VpcEndpointType="Interface",
        SubnetIds=net["subnets"], SecurityGroupIds=[net["sg"]], PrivateDnsEnabled=True,
        TagSpecifications=tags(f"vpce/{service}"), **extra)["VpcEndpoint"]


def described(net, endpoint_id):
    found = net["ec2"].describe_vpc_endpoints(
        Filters=[{"Name": "vpc-id", "Values": [net["vpc"]]}])["VpcEndpoints"]
    return next((e for e in found if e["VpcEndpointId"] == endpoint_id), None)


def code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def test_an_interface_endpoint_comes_up_with_its_groups_on_one_interface_per_subnet(vpc):
    ec2 = vpc["ec2"]
    endpoint = interface(vpc)
    assert endpoint["State"] == "pending"
    wait_for(lambda: described(vpc, endpoint["VpcEndpointId"])["State"] == "available")
    e = described(vpc, endpoint["VpcEndpointId"])
    assert e["PrivateDnsEnabled"] is True
    assert [g["GroupId"] for g in e["Groups"]] == [vpc["sg"]]
    enis = ec2.describe_network_interfaces(NetworkInterfaceIds=e["NetworkInterfaceIds"])["NetworkInterfaces"]
    assert sorted(i["SubnetId"] for i in enis) == sorted(vpc["subnets"])
    for eni in enis:
        assert [g["GroupId"] for g in eni["Groups"]] == [vpc["sg"]]
        assert eni["Description"] == f"VPC Endpoint Interface {endpoint['VpcEndpointId']}"
        assert eni["RequesterManaged"] is True
    # Tag filters find it, as the tool reads it.
    mine = ec2.describe_vpc_endpoints(Filters=[{"Name": "tag:infra:stack", "Values": ["s"]}])["VpcEndpoints"]
    assert [m["VpcEndpointId"] for m in mine] == [endpoint["VpcEndpointId"]]


def test_its_interfaces_hold_the_group_and_subnets_until_it_is_gone(vpc):
    ec2 = vpc["ec2"]
    endpoint_id = interface(vpc)["VpcEndpointId"]
    with pytest.raises(ClientError) as e:
        ec2.delete_security_group(GroupId=vpc["sg"])
    assert code(e) == "DependencyViolation"
    with pytest.raises(ClientError) as e:
        ec2.delete_subnet(SubnetId=vpc["subnets"][0])
    assert code(e) == "DependencyViolation"
    ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint_id])
    assert described(vpc, endpoint_id)["State"] == "deleting"
    wait_for(lambda: described(vpc, endpoint_id) is None)
    ec2.delete_security_group(GroupId=vpc["sg"])
    for subnet in vpc["subnets"]:
        ec2.delete_subnet(SubnetId=subnet)


def test_a_gateway_endpoint_routes_its_tables_and_modify_moves_the_routes(vpc):
    ec2 = vpc["ec2"]
    first, second = vpc["tables"]
    endpoint = ec2.create_vpc_endpoint(VpcId=vpc["vpc"], ServiceName=f"com.amazonaws.{REGION}.s3",
                                       VpcEndpointType="Gateway", RouteTableIds=[first],
                                       TagSpecifications=tags("vpce/s3"))["VpcEndpoint"]
    endpoint_id = endpoint["VpcEndpointId"]
    e = described(vpc, endpoint_id)
    assert e["State"] == "available" and e["PrivateDnsEnabled"] is False

    def routed(table):
        routes = ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Routes"]
        return [r for r in routes if r.get("GatewayId") == endpoint_id and r.get("DestinationPrefixListId")]

    assert routed(first) and not routed(second)
    ec2.modify_vpc_endpoint(VpcEndpointId=endpoint_id, AddRouteTableIds=[second], RemoveRouteTableIds=[first])
    assert routed(second) and not routed(first)
    assert described(vpc, endpoint_id)["RouteTableIds"] == [second]
    ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint_id])
    assert not routed(second)
    assert described(vpc, endpoint_id) is None


def test_modify_changes_subnets_groups_and_private_dns_on_the_interfaces(vpc):
    ec2 = vpc["ec2"]
    endpoint_id = interface(vpc)["VpcEndpointId"]
    wait_for(lambda: described(vpc, endpoint_id)["State"] == "available")
    other = ec2.create_security_group(GroupName="other", Description="other", VpcId=vpc["vpc"])["GroupId"]
    ec2.modify_vpc_endpoint(VpcEndpointId=endpoint_id, RemoveSubnetIds=[vpc["subnets"][1]],
                            AddSecurityGroupIds=[other], RemoveSecurityGroupIds=[vpc["sg"]],
                            PrivateDnsEnabled=False)
    e = described(vpc, endpoint_id)
    assert e["SubnetIds"] == [vpc["subnets"][0]] and len(e["NetworkInterfaceIds"]) == 1
    assert e["PrivateDnsEnabled"] is False
    eni = ec2.describe_network_interfaces(NetworkInterfaceIds=e["NetworkInterfaceIds"])["NetworkInterfaces"][0]
    assert [g["GroupId"] for g in eni["Groups"]] == [other]
    ec2.delete_subnet(SubnetId=vpc["subnets"][1])  # its interface went with the subnet's removal
    ec2.delete_security_group(GroupId=vpc["sg"])


def test_private_dns_conflicts_and_client_tokens_behave_as_on_aws(vpc):
    first = interface(vpc, ClientToken="token-1")
    again = interface(vpc, ClientToken="token-1")
    assert again["VpcEndpointId"] == first["VpcEndpointId"], "a retried create returns the first"
    with pytest.raises(ClientError) as e:
        interface(vpc, ClientToken="token-2")
    assert code(e) == "InvalidParameter"
    assert "conflicting DNS domain for api.ecr.us-east-1.amazonaws.com" in str(e.value)


def test_private_dns_needs_dns_hostnames_in_the_vpc(vpc):
    vpc["ec2"].modify_vpc_attribute(VpcId=vpc["vpc"], EnableDnsHostnames={"Value": False})
    with pytest.raises(ClientError) as e:
        interface(vpc, service="sts")
    assert code(e) == "InvalidParameter"
