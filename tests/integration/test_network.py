"""The network stack end to end: the real binary against the emulator, checked with boto3."""

import pytest

from support import issued_certificate
from conftest import PLAN_CALLS, PLAN_CALLS_WITH_CERTIFICATE, account_calls, writes

STACK = "grpc-eks"
# The default stack: 23 network resources, 11 IAM, 5 EKS (the namespace among them), 4 ALB, the
# repository, the project and their 2 log groups.
TOTAL = 47
# Of those, the ones that carry tags (routes, associations, attachments, policies and the
# namespace, which carries labels, do not).
TAGGABLE = 28
OWNED = [{"Name": "tag:infra:stack", "Values": [STACK]}]


def tags(resource):
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def by_id(resources):
    return {tags(r)["infra:id"]: r for r in resources}


def owned_inventory(ec2):
    """Everything tagged with the stack, per kind, as boto3 sees it."""
    nats = [n for n in ec2.describe_nat_gateways(Filters=OWNED)["NatGateways"] if n["State"] not in ("deleted", "deleting")]
    return {
        "vpc": ec2.describe_vpcs(Filters=OWNED)["Vpcs"],
        "subnet": ec2.describe_subnets(Filters=OWNED)["Subnets"],
        "igw": ec2.describe_internet_gateways(Filters=OWNED)["InternetGateways"],
        "rt": ec2.describe_route_tables(Filters=OWNED)["RouteTables"],
        "nat": nats,
        "eip": ec2.describe_addresses(Filters=OWNED)["Addresses"],
        "sg": ec2.describe_security_groups(Filters=OWNED)["SecurityGroups"],
    }


def test_plan_on_empty_account_exits_2(infra):
    r = infra("plan", "--detailed-exitcode")
    assert r.code == 2, r.err
    assert "+   vpc (vpc)" in r.out
    assert f"Plan: {TOTAL} to add, 0 to change, 0 to destroy." in r.out
    assert infra.mutating_calls() == []


def test_apply_creates_exactly_the_inventory_and_is_idempotent(infra, ec2):
    r = infra("apply", "--auto-approve")
    assert r.code == 0, r.err
    assert f"Apply complete: {TOTAL} created" in r.out

    inv = owned_inventory(ec2)
    assert {k: len(v) for k, v in inv.items()} == {
        "vpc": 1, "subnet": 6, "igw": 1, "rt": 2, "nat": 1, "eip": 1, "sg": 2}
    vpc = inv["vpc"][0]
    vpc_id = vpc["VpcId"]
    assert vpc["CidrBlock"] == "10.0.0.0/16"
    for attr, key in (("enableDnsSupport", "EnableDnsSupport"), ("enableDnsHostnames", "EnableDnsHostnames")):
        assert ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=attr)[key]["Value"] is True

    subnets = by_id(inv["subnet"])
    expected = {
        "subnet/public/a": ("10.0.0.0/24", "us-east-1a", True),
        "subnet/public/b": ("10.0.1.0/24", "us-east-1b", True),
        "subnet/private-app/a": ("10.0.2.0/24", "us-east-1a", False),
        "subnet/private-app/b": ("10.0.3.0/24", "us-east-1b", False),
        "subnet/private-data/a": ("10.0.4.0/24", "us-east-1a", False),
        "subnet/private-data/b": ("10.0.5.0/24", "us-east-1b", False),
    }
    assert {k: (s["CidrBlock"], s["AvailabilityZone"], s["MapPublicIpOnLaunch"]) for k, s in subnets.items()} == expected
    assert all(s["VpcId"] == vpc_id for s in subnets.values())
    assert tags(subnets["subnet/public/a"])["kubernetes.io/role/elb"] == "1"

    igw = inv["igw"][0]
    assert [a["VpcId"] for a in igw["Attachments"]] == [vpc_id]

    nat = inv["nat"][0]
    assert nat["State"] == "available"
    assert nat["SubnetId"] == subnets["subnet/public/a"]["SubnetId"]
    assert nat["NatGatewayAddresses"][0]["AllocationId"] == inv["eip"][0]["AllocationId"]

    tables = by_id(inv["rt"])
    def default_route(rt):
        return [r for r in rt["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
    def associated(rt):
        names = {s["SubnetId"]: k for k, s in subnets.items()}
        return sorted(names[a["SubnetId"]] for a in rt["Associations"] if a.get("SubnetId"))
    assert default_route(tables["rt/public"])[0]["GatewayId"] == igw["InternetGatewayId"]
    assert default_route(tables["rt/private"])[0]["NatGatewayId"] == nat["NatGatewayId"]
    assert associated(tables["rt/public"]) == ["subnet/public/a", "subnet/public/b"]
    assert associated(tables["rt/private"]) == [
        "subnet/private-app/a", "subnet/private-app/b", "subnet/private-data/a", "subnet/private-data/b"]

    sgs = by_id(inv["sg"])
    alb, nodes = sgs["sg/alb"], sgs["sg/nodes"]
    assert [(p["FromPort"], p["IpRanges"][0]["CidrIp"]) for p in alb["IpPermissions"]] == [(80, "0.0.0.0/0")]
    [rule] = nodes["IpPermissions"]
    assert (rule["FromPort"], rule["ToPort"]) == (30080, 30080)
    assert [g["GroupId"] for g in rule["UserIdGroupPairs"]] == [alb["GroupId"]]
    assert rule["IpRanges"] == []

    for kind, resources in inv.items():
        for res in resources:
            t = tags(res)
            assert t["infra:stack"] == STACK and t["project"] == STACK, (kind, t)

    before = len(infra.emu.calls())
    plan = infra("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.out + plan.err
    assert "No changes" in plan.out
    again = infra("apply", "--auto-approve")
    assert again.code == 0 and "No changes" in again.out
    assert writes(infra.emu.calls()[before:]) == []


def with_zones(config, n):
    """`config` with `n` zones of us-east-1, three /24 ranges each. us-east-1e is left out: it does
    not offer t3 instances (as on AWS), and plan's preflight refuses a zone the node group's
    instance type is not offered in."""
    extra = "".join(
        f"    - name: us-east-1{letter}\n      public: 10.0.{3 * k}.0/24\n"
        f"      private_app: 10.0.{3 * k + 1}.0/24\n      private_data: 10.0.{3 * k + 2}.0/24\n"
        for k, letter in enumerate("abcdf"[:n]) if k >= 2)
    return config.replace("      private_data: 10.0.5.0/24\n", "      private_data: 10.0.5.0/24\n" + extra)


def test_plan_reads_are_bounded_and_do_not_grow_with_the_stack(infra, emulator):
    def plan_calls(config_text):
        infra.write_config(config_text)
        applied = infra("apply", "--auto-approve")
        assert applied.code == 0, applied.err[-2000:]
        before = len(infra.emu.calls())
        assert infra("plan", "--detailed-exitcode").code == 0
        calls = account_calls(infra.emu.calls()[before:])
        infra("destroy", "--auto-approve")
        return len(calls)

    base = infra.default_config()
    cert = issued_certificate(emulator.client("acm"))
    assert "      private_data: 10.0.5.0/24\n" in base
    per_az = base.replace("nat: single", "nat: per-az")
    counts = {
        "2 zones": plan_calls(base),
        "2 zones, per-AZ NAT": plan_calls(per_az),
        "2 zones, no NAT (VPC endpoints)": plan_calls(base.replace("nat: single", "nat: none")),
        "3 zones, per-AZ NAT": plan_calls(with_zones(per_az, 3)),
        "5 zones, per-AZ NAT": plan_calls(with_zones(per_az, 5)),
        "certificate": plan_calls(base.replace("certificate_arn: null", f"certificate_arn: {cert}")),
    }
    certificate = counts.pop("certificate")
    assert set(counts.values()) == {PLAN_CALLS}, counts
    assert certificate == PLAN_CALLS_WITH_CERTIFICATE


def test_tag_drift_is_one_in_place_update(infra, ec2):
    assert infra("apply", "--auto-approve").code == 0
    subnet = by_id(owned_inventory(ec2)["subnet"])["subnet/private-data/a"]
    ec2.create_tags(Resources=[subnet["SubnetId"]], Tags=[{"Key": "project", "Value": "hand-edited"}])

    plan = infra("plan", "--json", "--detailed-exitcode")
    assert plan.code == 2
    changed = [c for c in plan.json()["changes"] if c["action"] != "no-op"]
    assert [(c["id"], c["action"]) for c in changed] == [("subnet/private-data/a", "update")]
    assert [(a["name"], a["forces_replacement"]) for a in changed[0]["attrs"]] == [("tags", False)]

    before = len(infra.emu.calls())
    r = infra("apply", "--auto-approve")
    assert r.code == 0 and "0 created, 1 updated, 0 replaced, 0 deleted" in r.out, r.out
    actions = [c["action"] for c in writes(infra.emu.calls()[before:])]
    assert actions == ["CreateTags"]
    after = ec2.describe_subnets(SubnetIds=[subnet["SubnetId"]])["Subnets"][0]
    assert tags(after)["project"] == STACK


def test_config_tag_change_updates_in_place_without_replacing(infra, ec2):
    base = infra.default_config()
    assert infra("apply", "--auto-approve").code == 0
    infra.write_config(base.replace("project: grpc-eks", "project: grpc-eks\n  team: platform"))
    r = infra("apply", "--auto-approve")
    assert r.code == 0, r.err
    assert f"0 created, {TAGGABLE} updated, 0 replaced, 0 deleted" in r.out, r.out
    inv = owned_inventory(ec2)
    assert all(tags(res)["team"] == "platform" for rs in inv.values() for res in rs)
    assert infra("plan", "--detailed-exitcode").code == 0


def test_subnet_deleted_by_hand_is_recreated(infra, ec2):
    assert infra("apply", "--auto-approve").code == 0
    subnet = by_id(owned_inventory(ec2)["subnet"])["subnet/private-data/b"]
    for rt in ec2.describe_route_tables(Filters=OWNED)["RouteTables"]:
        for a in rt["Associations"]:
            if a.get("SubnetId") == subnet["SubnetId"]:
                ec2.disassociate_route_table(AssociationId=a["RouteTableAssociationId"])
    ec2.delete_subnet(SubnetId=subnet["SubnetId"])

    plan = infra("plan", "--detailed-exitcode")
    assert plan.code == 2
    assert "+   subnet/private-data/b (subnet)" in plan.out
    assert "Plan: 2 to add, 0 to change, 0 to destroy." in plan.out
    assert infra("apply", "--auto-approve").code == 0
    again = by_id(owned_inventory(ec2)["subnet"])["subnet/private-data/b"]
    assert again["SubnetId"] != subnet["SubnetId"] and again["CidrBlock"] == "10.0.5.0/24"
    assert infra("plan", "--detailed-exitcode").code == 0


def test_cidr_change_is_a_replace(infra, ec2):
    base = infra.default_config()
    assert infra("apply", "--auto-approve").code == 0
    old = by_id(owned_inventory(ec2)["subnet"])["subnet/private-data/b"]
    infra.write_config(base.replace("private_data: 10.0.5.0/24", "private_data: 10.0.9.0/24"))
    plan = infra("plan")
    assert "-/+ subnet/private-data/b (subnet " in plan.out
    assert '"10.0.5.0/24" -> "10.0.9.0/24"  # forces replacement' in plan.out
    r = infra("apply", "--auto-approve")
    assert r.code == 0, r.err
    new = by_id(owned_inventory(ec2)["subnet"])["subnet/private-data/b"]
    assert new["CidrBlock"] == "10.0.9.0/24" and new["SubnetId"] != old["SubnetId"]
    assert infra("plan", "--detailed-exitcode").code == 0


def test_destroy_removes_only_what_the_stack_owns(infra, ec2):
    assert infra("apply", "--auto-approve").code == 0
    # Someone else's VPC, and one of another stack, in the same account.
    foreign = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
    other = ec2.create_vpc(CidrBlock="10.60.0.0/16", TagSpecifications=[{
        "ResourceType": "vpc", "Tags": [{"Key": "infra:stack", "Value": "another"}]}])["Vpc"]["VpcId"]

    r = infra("destroy", "--auto-approve")
    assert r.code == 0, r.err
    assert f"{TOTAL} deleted" in r.out
    assert {k: len(v) for k, v in owned_inventory(ec2).items()} == {
        "vpc": 0, "subnet": 0, "igw": 0, "rt": 0, "nat": 0, "eip": 0, "sg": 0}
    remaining = {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}
    assert {foreign, other} <= remaining
    assert infra("destroy", "--auto-approve").code == 0


def test_per_az_nat_apply_and_destroy(infra, ec2):
    infra.write_config(infra.default_config().replace("nat: single", "nat: per-az"))
    assert infra("apply", "--auto-approve").code == 0
    inv = owned_inventory(ec2)
    assert len(inv["nat"]) == 2 and len(inv["eip"]) == 2 and len(inv["rt"]) == 3
    assert infra("destroy", "--auto-approve").code == 0
    assert all(len(v) == 0 for v in owned_inventory(ec2).values())


def test_apply_without_terminal_or_approval_refuses_and_changes_nothing(infra):
    def refused(cmd):
        r = infra(cmd)
        assert r.code == 1, (cmd, r.out, r.err)
        assert "--auto-approve" in r.err and "Nothing was changed" in r.err

    refused("apply")
    assert infra.mutating_calls() == []
    assert infra("apply", "--auto-approve").code == 0
    before = len(infra.mutating_calls())
    refused("destroy")
    assert len(infra.mutating_calls()) == before


BAD_INPUTS = {
    "yaml syntax": (("stack: grpc-eks", "stack: [grpc-eks"), "line"),
    "unknown key": (("  nat: single", "  nat: single\n  nat_mode: per-az"), "unknown field `nat_mode`"),
    "cidr does not parse": (("vpc_cidr: 10.0.0.0/16", "vpc_cidr: 10.0.0.0/33"), "10.0.0.0/33"),
    "subnet outside vpc": (("public: 10.0.1.0/24", "public: 192.168.1.0/24"), "192.168.1.0/24"),
    "overlapping subnets": (("private_app: 10.0.3.0/24", "private_app: 10.0.1.0/24"), "overlaps"),
    "one zone": (("    - name: us-east-1b\n      public: 10.0.1.0/24\n      private_app: 10.0.3.0/24\n"
                  "      private_data: 10.0.5.0/24\n", ""), "at least two availability zones"),
    "name too long": (("stack: grpc-eks", "stack: a-very-long-stack-name-for-albs"), "a-very-long-stack-name-for-albs"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_refused_before_any_aws_call(infra, case):
    (old, new), expected = BAD_INPUTS[case]
    base = infra.default_config()
    assert old in base, old
    infra.write_config(base.replace(old, new, 1), "bad.yaml")
    for cmd in (["plan"], ["apply", "--auto-approve"], ["destroy", "--auto-approve"]):
        r = infra(*cmd, "--config", "bad.yaml")
        assert r.code == 1, (cmd, r.out, r.err)
        assert "bad.yaml" in r.err and expected in r.err, r.err
    assert infra.emu.calls() == []
