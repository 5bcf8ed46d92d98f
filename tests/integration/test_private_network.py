"""A network without NAT gateways (`network.nat: none`): the VPC endpoints nodes need, end to end
with the real binary against the emulator, checked with boto3."""

STACK = "grpc-eks"
OWNED = [{"Name": "tag:infra:stack", "Values": [STACK]}]
REGION = "us-east-1"
INTERFACES = ("ec2", "ecr.api", "ecr.dkr", "logs", "sts")


def tags(resource):
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def by_id(resources):
    return {tags(r)["infra:id"]: r for r in resources}


def endpoints(ec2):
    found = ec2.describe_vpc_endpoints(Filters=OWNED)["VpcEndpoints"]
    return by_id([e for e in found if e["State"] not in ("deleting", "deleted")])


def nodegroup(emulator):
    eks = emulator.client("eks")
    return eks.describe_nodegroup(clusterName=STACK, nodegroupName=f"{STACK}-nodes")["nodegroup"]


def no_nat(infra):
    infra.write_config(infra.default_config().replace("nat: single", "nat: none"))


def test_no_nat_makes_the_endpoints_nodes_need_and_destroy_removes_them(infra, ec2, emulator):
    no_nat(infra)
    r = infra("apply", "--auto-approve")
    assert r.code == 0, r.err

    subnets = by_id(ec2.describe_subnets(Filters=OWNED)["Subnets"])
    tables = by_id(ec2.describe_route_tables(Filters=OWNED)["RouteTables"])
    groups = by_id(ec2.describe_security_groups(Filters=OWNED)["SecurityGroups"])
    vpc_id = subnets["subnet/public/a"]["VpcId"]
    assert ec2.describe_nat_gateways(Filters=OWNED)["NatGateways"] == []
    assert [r for r in tables["rt/private"]["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"] == []

    found = endpoints(ec2)
    assert sorted(found) == sorted(["vpce/s3"] + [f"vpce/{s}" for s in INTERFACES])
    for e in found.values():
        assert e["VpcId"] == vpc_id and e["State"] == "available"
        assert tags(e)["infra:stack"] == STACK

    s3 = found["vpce/s3"]
    assert s3["ServiceName"] == f"com.amazonaws.{REGION}.s3"
    assert s3["VpcEndpointType"] == "Gateway"
    assert s3["RouteTableIds"] == [tables["rt/private"]["RouteTableId"]]
    # The prefix-list route is in the table the private subnets use.
    routes = tables["rt/private"]["Routes"]
    assert any(r.get("GatewayId") == s3["VpcEndpointId"] and r.get("DestinationPrefixListId") for r in routes)

    sg = groups["sg/endpoints"]
    assert [(p["IpProtocol"], p["FromPort"], p["ToPort"], [i["CidrIp"] for i in p["IpRanges"]])
            for p in sg["IpPermissions"]] == [("tcp", 443, 443, ["10.0.0.0/16"])]
    app = sorted(subnets[f"subnet/private-app/{z}"]["SubnetId"] for z in "ab")
    for service in INTERFACES:
        e = found[f"vpce/{service}"]
        assert e["ServiceName"] == f"com.amazonaws.{REGION}.{service}"
        assert e["VpcEndpointType"] == "Interface"
        assert e["PrivateDnsEnabled"] is True
        assert sorted(e["SubnetIds"]) == app
        assert [g["GroupId"] for g in e["Groups"]] == [sg["GroupId"]]

    # The nodes joined through the endpoints and the cluster's private endpoint.
    assert nodegroup(emulator)["status"] == "ACTIVE"
    cluster = emulator.client("eks").describe_cluster(name=STACK)["cluster"]
    assert cluster["resourcesVpcConfig"]["endpointPrivateAccess"] is True

    r = infra("plan", "--detailed-exitcode")
    assert r.code == 0, r.out + r.err

    r = infra("destroy", "--auto-approve")
    assert r.code == 0, r.err
    assert endpoints(ec2) == {}
    assert ec2.describe_security_groups(Filters=OWNED)["SecurityGroups"] == []
    assert ec2.describe_vpcs(Filters=OWNED)["Vpcs"] == []


def test_switching_between_a_nat_gateway_and_endpoints_keeps_the_nodes(infra, ec2, emulator):
    config = infra.default_config()
    assert infra("apply", "--auto-approve").code == 0

    no_nat(infra)
    r = infra("plan")
    assert r.code == 0, r.err
    for change in ("+   vpce/s3", "+   vpce/ecr.api", "+   sg/endpoints", "-   nat/a", "-   route/private"):
        assert change in r.out, r.out
    r = infra("apply", "--auto-approve")
    assert r.code == 0, r.err
    assert len(endpoints(ec2)) == 1 + len(INTERFACES)
    assert ec2.describe_nat_gateways(
        Filters=OWNED + [{"Name": "state", "Values": ["pending", "available"]}])["NatGateways"] == []
    assert nodegroup(emulator)["status"] == "ACTIVE"
    assert infra("plan", "--detailed-exitcode").code == 0

    infra.write_config(config)
    r = infra("apply", "--auto-approve")
    assert r.code == 0, r.err
    assert endpoints(ec2) == {}
    assert nodegroup(emulator)["status"] == "ACTIVE"
    assert infra("plan", "--detailed-exitcode").code == 0
    assert infra("destroy", "--auto-approve").code == 0
