"""The emulator's own interface: health, call log, reset, config, injected faults."""

import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError


def test_health(emulator):
    with urllib.request.urlopen(emulator.url + "/_emulator/health", timeout=5) as resp:
        assert resp.status == 200
        assert resp.read() == b'{"ok": true}'


def test_call_log_names_service_and_action(emu):
    emu.client("ec2").describe_vpcs()
    emu.client("iam").list_roles()
    emu.client("sts").get_caller_identity()
    emu.client("elbv2").describe_load_balancers()
    emu.client("autoscaling").describe_auto_scaling_groups()
    emu.client("ecr").describe_repositories()
    emu.client("codebuild").list_projects()
    eks = emu.client("eks")
    eks.list_clusters()
    with pytest.raises(ClientError):
        eks.describe_cluster(name="nope")
    with pytest.raises(ClientError):
        eks.describe_access_entry(clusterName="nope", principalArn="arn:aws:iam::123456789012:role/x")
    calls = emu.calls()
    assert [(c["service"], c["action"]) for c in calls] == [
        ("ec2", "DescribeVpcs"), ("iam", "ListRoles"), ("sts", "GetCallerIdentity"),
        ("elasticloadbalancing", "DescribeLoadBalancers"), ("autoscaling", "DescribeAutoScalingGroups"),
        ("ecr", "DescribeRepositories"), ("codebuild", "ListProjects"), ("eks", "ListClusters"),
        ("eks", "DescribeCluster"), ("eks", "DescribeAccessEntry"),
    ]
    assert [c["status"] for c in calls][-2:] == [404, 404]
    assert all(isinstance(c["t"], float) for c in calls)
    emu.reset()
    assert emu.calls() == []


def test_call_latency_is_waited_out_concurrently(emu):
    client = emu.client("ec2")
    for _ in range(2):
        client.describe_vpcs()  # moto builds its EC2 backend and default VPC on first use
    before = len(emu.calls())
    emu.config(call_latency=0.4)
    try:
        start = time.time()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda _: client.describe_vpcs(), range(4)))
        took = time.time() - start
    finally:
        emu.config(call_latency=0)
    calls = emu.calls()[before:]
    assert len(calls) == 4
    # Each call took the round trip; together they took about one, not four.
    assert all(c["t"] - c["arrived"] >= 0.4 for c in calls)
    assert took < 1.2, (took, [(round(c["arrived"] - start, 2), round(c["t"] - start, 2)) for c in calls])
    assert max(c["arrived"] for c in calls) < min(c["t"] for c in calls)


def test_a_held_transition_waits_until_released(emu):
    ec2 = emu.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    emu.config(hold=["nat_gateway_create"])
    try:
        nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=eip)["NatGateway"]["NatGatewayId"]
        state = lambda: ec2.describe_nat_gateways(NatGatewayIds=[nat])["NatGateways"][0]["State"]  # noqa: E731
        time.sleep(emu.config()["time_scale"] * 90 * 2)  # twice the time it would take
        assert state() == "pending"
    finally:
        emu.config(hold=[])
    assert state() == "available"


def test_reset_clears_state(emu):
    emu.client("ecr").create_repository(repositoryName="svc")
    emu.reset()
    assert emu.client("ecr").describe_repositories()["repositories"] == []


EXPECTED = {
    "ec2": ({"RequestLimitExceeded", "ServiceUnavailable"}, {503}),
    "iam": ({"Throttling", "InternalFailure"}, {400, 500}),
    "elbv2": ({"Throttling", "InternalFailure"}, {400, 500}),
    "autoscaling": ({"Throttling", "InternalFailure"}, {400, 500}),
    "sts": ({"Throttling", "InternalFailure"}, {400, 500}),
    "ecr": ({"ThrottlingException", "InternalFailure"}, {400, 500}),
    "codebuild": ({"ThrottlingException", "InternalFailure"}, {400, 500}),
    "eks": ({"ThrottlingException", "ServerException"}, {429, 500}),
    "dynamodb": ({"ThrottlingException", "InternalServerError"}, {400, 500}),
}
READS = {
    "ec2": lambda c: c.describe_vpcs(), "iam": lambda c: c.list_roles(),
    "elbv2": lambda c: c.describe_load_balancers(), "autoscaling": lambda c: c.describe_auto_scaling_groups(),
    "sts": lambda c: c.get_caller_identity(), "ecr": lambda c: c.describe_repositories(),
    "codebuild": lambda c: c.list_projects(), "eks": lambda c: c.list_clusters(),
    "dynamodb": lambda c: c.list_tables(),
}


def test_faults_use_each_protocols_error_format(emu):
    emu.config(fault_rate=1.0, seed=7)
    for service, (codes, statuses) in EXPECTED.items():
        client = emu.client(service)
        seen = set()
        for _ in range(6):
            with pytest.raises(ClientError) as err:
                READS[service](client)
            code = err.value.response["Error"]["Code"]
            assert code in codes, (service, code)
            assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] in statuses
            seen.add(code)
        assert len(seen) >= 1
    calls = emu.calls()
    assert len(calls) == 6 * len(EXPECTED)
    assert all(c["status"] >= 400 for c in calls)


def test_fault_rate_is_seeded_and_partial(emu):
    def run():
        emu.reset()
        emu.config(fault_rate=0.3, seed=42)
        ec2 = emu.client("ec2")
        outcome = []
        for _ in range(40):
            try:
                ec2.describe_vpcs()
                outcome.append(True)
            except ClientError:
                outcome.append(False)
        return outcome

    first, second = run(), run()
    assert first == second
    assert 0 < first.count(False) < 40
