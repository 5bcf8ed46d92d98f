"""The stack in an account it shares: with another run of infra (the stack's lock), with copies
of its resources and resources someone else tagged with it, with what Kubernetes made in its VPC
(CNI interfaces, the load balancer controller's ALB, target group and security group), and with
a stranger's network interface in one of its subnets. The real binary runs against the emulator;
every check is made with boto3, never through infra's own read path, and each assertion message
carries what the account held (see `account`), so a failure can be quoted as it stood."""

import re
import signal
import socket
import subprocess
import time

import pytest

from conftest import READ_PREFIXES, Run, Started
from support import wait_for
from test_network import OWNED, STACK, by_id, owned_inventory, tags
from test_reliability import APPLIED, CREATES, EMPTY, clients, inventory, successful_creates  # noqa: F401

LOCKS = "infra-locks"
KEY = {"stack": {"S": STACK}}
# What the stack's cluster is called (the stack's name), as Kubernetes tags name it.
CLUSTER = STACK


# ---------------------------------------------------------------- helpers


@pytest.fixture
def account_settings(emulator):
    """The runtime settings a test starts from (the infra fixture resets only faults): nothing
    held, no call latency, and no CNI leftovers unless the test is about them (the emulator
    leaves one per node-group subnet by default; the Kubernetes-leftovers test turns it on)."""
    emulator.config(hold=[], call_latency=0.0, cni_leftover_enis=0, iam_propagation=True)
    yield
    emulator.config(hold=[], call_latency=0.0, cni_leftover_enis=1)


def run_env(infra, *args, env=None, timeout=600) -> Run:
    return Started(infra, args, env=env, name="env-run").wait(timeout)


def lock_item(ddb):
    """The stack's lock item as DynamoDB holds it (None without one, or without the table)."""
    try:
        return ddb.get_item(TableName=LOCKS, Key=KEY, ConsistentRead=True).get("Item")
    except ddb.exceptions.ResourceNotFoundException:
        return None


def describe_lock_table(ddb):
    try:
        return ddb.describe_table(TableName=LOCKS)["Table"]
    except ddb.exceptions.ResourceNotFoundException:
        return None


def caller_arn(clients) -> str:
    return clients["sts"].get_caller_identity()["Arn"]


def names_holder(err: str, arn: str, host: str, pid: int, phrase: str = "is locked by") -> bool:
    return (phrase in err and arn in err and host in err
            and re.search(rf"\b{pid}\b", err) is not None)


def account(clients, emulator) -> str:
    """What the account holds, for assertion messages: the stack's inventory, then every VPC,
    subnet, security group, network interface, load balancer and target group with the tags that
    matter, and the lock table's items."""
    ec2, elb = clients["ec2"], clients["elbv2"]
    lines = [f"inventory: {inventory(clients)}"]

    def short(t):
        keep = ("infra:stack", "infra:id", "elbv2.k8s.aws/cluster", "service.k8s.aws/stack",
                "cluster.k8s.amazonaws.com/name", "node.k8s.amazonaws.com/instance_id")
        return {k: v for k, v in t.items() if k in keep or k.startswith("kubernetes.io/cluster/")}

    for v in ec2.describe_vpcs()["Vpcs"]:
        lines.append(f"vpc {v['VpcId']} {v['CidrBlock']} default={v.get('IsDefault')} {short(tags(v))}")
    for s in ec2.describe_subnets()["Subnets"]:
        if not s.get("DefaultForAz"):
            lines.append(f"subnet {s['SubnetId']} {s['VpcId']} {s['CidrBlock']} {short(tags(s))}")
    for g in ec2.describe_security_groups()["SecurityGroups"]:
        if g["GroupName"] != "default":
            lines.append(f"sg {g['GroupId']} {g['GroupName']} {g.get('VpcId')} {short(tags(g))}")
    for n in ec2.describe_network_interfaces()["NetworkInterfaces"]:
        lines.append(f"eni {n['NetworkInterfaceId']} {n.get('SubnetId')} {n['Status']} "
                     f"{n.get('Description')!r} requester-managed={n.get('RequesterManaged')} "
                     f"attached-to={(n.get('Attachment') or {}).get('InstanceId')} "
                     f"{short({t['Key']: t['Value'] for t in n.get('TagSet', [])})}")
    lbs = elb.describe_load_balancers()["LoadBalancers"]
    tgs = elb.describe_target_groups()["TargetGroups"]
    arns = [x["LoadBalancerArn"] for x in lbs] + [x["TargetGroupArn"] for x in tgs]
    found = {d["ResourceArn"]: tags(d) for d in elb.describe_tags(ResourceArns=arns)["TagDescriptions"]} if arns else {}
    for lb in lbs:
        lines.append(f"load balancer {lb['LoadBalancerName']} {lb['VpcId']} {lb['State']['Code']} "
                     f"{short(found.get(lb['LoadBalancerArn'], {}))}")
    for tg in tgs:
        lines.append(f"target group {tg['TargetGroupName']} {tg.get('VpcId')} {short(found.get(tg['TargetGroupArn'], {}))}")
    ddb = emulator.client("dynamodb")
    table = describe_lock_table(ddb)
    if table is None:
        lines.append(f"table {LOCKS}: none")
    else:
        items = ddb.scan(TableName=LOCKS)["Items"] if table["TableStatus"] == "ACTIVE" else []
        lines.append(f"table {LOCKS} {table['TableStatus']}: {items}")
    return "\n".join(lines)


def held(clients, emulator, expected: dict, label: str) -> str:
    """Asserts the stack's inventory is `expected`; prints and returns what the account held."""
    text = account(clients, emulator)
    print(f"--- account {label} ---\n{text}")
    assert inventory(clients) == expected, f"account {label}:\n{text}"
    return text


def apply_ok(infra, *extra):
    r = infra("apply", "--auto-approve", *extra, timeout=600)
    assert r.code == 0, r.out[-2000:] + r.err[-4000:]
    return r


def mutating(calls, services=None):
    return [c for c in calls if not c["action"].startswith(READ_PREFIXES)
            and (services is None or c["service"] in services)]


AWS_RESOURCES = ("ec2", "iam", "eks", "elasticloadbalancing", "autoscaling", "ecr", "codebuild",
                 "logs", "kubernetes")


# ---------------------------------------------------------------- 1. the lock


@pytest.mark.parametrize("second_waits", [True, False], ids=["one-waits", "neither-waits"])
def test_two_applies_started_together_make_one_copy_of_everything(
        infra, clients, emulator, account_settings, second_waits):
    ddb = emulator.client("dynamodb")
    arn, host = caller_arn(clients), socket.gethostname()

    # Started together, on an account without the lock table: both race to create it too.
    waits = ("--lock-timeout", "10m") if second_waits else ()
    first = Started(infra, ("apply", "--auto-approve"), name="first")
    second = Started(infra, ("apply", "--auto-approve", *waits), name="second")
    runs = {"first": (first, first.wait()), "second": (second, second.wait())}
    text = account(clients, emulator)
    print("--- account after both applies ---\n" + text)
    report = "\n\n".join(f"{k} {' '.join(s.args)} (pid {s.pid}) exit {r.code}\nstdout:\n{r.out[-1500:]}"
                         f"\nstderr:\n{r.err[-2500:]}" for k, (s, r) in runs.items()) + "\n\naccount:\n" + text

    made = [k for k, (_, r) in runs.items() if r.code == 0 and "Apply complete: " in r.out
            and " 0 created" not in r.out]
    assert len(made) == 1, report
    winner = runs[made[0]][0]
    loser_name = "second" if made[0] == "first" else "first"
    loser_run, loser = runs[loser_name]
    print(f"{made[0]} (pid {winner.pid}) applied; {loser_name} {' '.join(loser_run.args)} exit {loser.code}: "
          + " | ".join(l for l in loser.err.splitlines() if "locked by" in l or "Waiting" in l)[:1500])
    if "--lock-timeout" not in loser_run.args:
        # Failed at once, naming the run that holds the stack, and changed nothing.
        assert loser.code == 1, report
        assert names_holder(loser.err, arn, host, winner.pid), report
        assert "Nothing was changed" in loser.err, report
    else:
        # Waited for the winner, then read the account afresh and found nothing to do.
        assert loser.code == 0, report
        assert names_holder(loser.err, arn, host, winner.pid, phrase="Waiting up to"), report
        assert "No changes" in loser.out, report

    # Exactly one copy of everything, each created once.
    assert inventory(clients) == APPLIED, report
    assert successful_creates(emulator.calls()) == CREATES, report
    # Both runs let go of the lock; the table stays.
    assert lock_item(ddb) is None, report
    assert describe_lock_table(ddb) is not None, report

    d = infra("destroy", "--auto-approve", timeout=600)
    assert d.code == 0, d.out[-2000:] + d.err[-4000:]
    held(clients, emulator, EMPTY, "after destroy")
    assert lock_item(ddb) is None


def test_apply_killed_holding_the_lock_blocks_until_its_lease_ends(infra, clients, emulator, account_settings):
    ddb = emulator.client("dynamodb")
    arn, host = caller_arn(clients), socket.gethostname()

    # Killed while it holds the lock, part-way through: the lock item exists and the VPC is made.
    start = len(emulator.calls())
    killed = Started(infra, ("apply", "--auto-approve"), env={"INFRA_LOCK_LEASE_SECONDS": "3"}, name="killed")
    try:
        def holding():
            if killed.p.poll() is not None:
                pytest.fail(f"apply ended (code {killed.p.returncode}) before it was killed:\n{killed.err_so_far()[-3000:]}")
            return lock_item(ddb) is not None and any(
                c["action"] == "CreateVpc" and 200 <= c["status"] < 300 for c in emulator.calls()[start:])
        wait_for(holding, timeout=300, interval=0.03)
    finally:
        if killed.p.poll() is None:
            killed.p.send_signal(signal.SIGKILL)
        k = killed.wait(timeout=60)
    assert k.code == -signal.SIGKILL

    item = lock_item(ddb)
    assert item is not None, account(clients, emulator)
    assert {a: item[a]["S"] for a in ("stack", "holder", "host", "command")} == {
        "stack": STACK, "holder": arn, "host": host, "command": "infra apply --auto-approve"}, item
    assert int(item["pid"]["N"]) == killed.pid and item["token"]["S"] and item["since"]["S"], item
    expires = int(item["expires"]["N"])
    assert expires <= time.time() + 4, item  # a 3 s lease, renewed until the kill

    # While the lease lives, the next run fails at once, naming the dead holder, changing nothing.
    before = len(emulator.calls())
    left = expires - time.time()
    r = infra("apply", "--auto-approve")
    assert r.code == 1, f"{left:.1f}s of lease were left when it started\n{r.out[-2000:]}{r.err[-3000:]}"
    assert names_holder(r.err, arn, host, killed.pid), r.err[-3000:]
    assert "Nothing was changed" in r.err, r.err[-3000:]
    assert mutating(emulator.calls()[before:], AWS_RESOURCES) == []

    # Once the lease has ended, the next run takes the lock over and finishes what was started,
    # creating nothing twice.
    wait_for(lambda: time.time() >= expires + 1, timeout=30)
    r = apply_ok(infra)
    assert "is locked by" not in r.err, r.err[-3000:]
    text = held(clients, emulator, APPLIED, "after the apply that took the lock over")
    assert successful_creates(emulator.calls()) == CREATES, text
    assert lock_item(ddb) is None, text
    assert infra("plan", "--detailed-exitcode").code == 0


def test_unlock_force_releases_a_lock_left_behind(infra, clients, emulator, account_settings):
    ddb = emulator.client("dynamodb")
    account_id = clients["sts"].get_caller_identity()["Account"]
    other = f"arn:aws:iam::{account_id}:user/ci-deployer"
    ddb.create_table(TableName=LOCKS, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "stack", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "stack", "AttributeType": "S"}])
    wait_for(lambda: describe_lock_table(ddb)["TableStatus"] == "ACTIVE")
    ddb.put_item(TableName=LOCKS, Item={
        **KEY, "holder": {"S": other}, "host": {"S": "build-agent-7"}, "pid": {"N": "4242"},
        "command": {"S": "infra apply --auto-approve"}, "since": {"S": "2024-01-01T00:00:00Z"},
        "expires": {"N": str(int(time.time()) + 86400)}, "token": {"S": "0123456789abcdef0123456789abcdef"}})

    before = len(emulator.calls())
    r = infra("apply", "--auto-approve")
    assert r.code == 1, r.out[-2000:] + r.err[-3000:]
    assert names_holder(r.err, other, "build-agent-7", 4242) and "Nothing was changed" in r.err, r.err
    assert mutating(emulator.calls()[before:], AWS_RESOURCES) == []
    d = infra("destroy", "--auto-approve")
    assert d.code == 1 and names_holder(d.err, other, "build-agent-7", 4242), d.err

    # Plan does not lock: it reads, and says who holds the stack.
    before = len(emulator.calls())
    p = infra("plan")
    assert p.code == 0, p.err
    assert f"Note: stack {STACK} is locked by" in p.err and other in p.err, p.err
    assert mutating(emulator.calls()[before:]) == []
    assert lock_item(ddb)["holder"]["S"] == other

    u = infra("unlock", "--force")
    assert u.code == 0, u.out + u.err
    assert f"Released the lock of stack {STACK}." in u.out, u.out + u.err
    assert lock_item(ddb) is None, account(clients, emulator)
    again = infra("unlock", "--force")
    assert again.code == 0 and "is not locked" in again.out + again.err, again.out + again.err

    apply_ok(infra)
    text = held(clients, emulator, APPLIED, "after unlock and apply")
    assert lock_item(ddb) is None and describe_lock_table(ddb) is not None, text


# ---------------------------------------------------------------- 2. copies and strays


def test_copies_of_the_vpc_and_a_subnet_are_deleted_and_the_originals_kept(infra, clients, emulator, account_settings):
    ec2 = clients["ec2"]
    apply_ok(infra)
    inv = owned_inventory(ec2)
    [vpc] = inv["vpc"]
    subnets = {s["SubnetId"] for s in inv["subnet"]}
    original = by_id(inv["subnet"])["subnet/public/a"]

    def spec(kind, resource):
        return [{"ResourceType": kind, "Tags": [{"Key": k, "Value": v} for k, v in tags(resource).items()]}]

    # Copies, as a run that lost its state would leave them: the same tags, a VPC of their own.
    mine = len(emulator.calls())
    copy_vpc = ec2.create_vpc(CidrBlock=vpc["CidrBlock"], TagSpecifications=spec("vpc", vpc))["Vpc"]["VpcId"]
    copy_subnet = ec2.create_subnet(VpcId=copy_vpc, CidrBlock=original["CidrBlock"],
                                    AvailabilityZone=original["AvailabilityZone"],
                                    TagSpecifications=spec("subnet", original))["Subnet"]["SubnetId"]
    # The emulator logs these two boto3 creates too; infra's own are the rest.
    made_here = emulator.calls()[mine:]

    plan = infra("plan", "--json", "--detailed-exitcode")
    assert plan.code == 2, plan.out[-3000:] + plan.err[-2000:]
    doc = plan.json()
    changes = [c for c in doc["changes"] if c["action"] != "no-op"]
    assert sorted((c["id"], c["action"], c["physical_id"]) for c in changes) == sorted([
        (f"subnet/public/a#{copy_subnet}", "delete", copy_subnet),
        (f"vpc#{copy_vpc}", "delete", copy_vpc),
    ]), changes
    assert all((c["reason"] or "").startswith("duplicate of") for c in changes), changes
    assert doc.get("contests") == [], doc.get("contests")
    # The cluster and its node group are never replaced or deleted over copies of the network.
    eks = [c for c in doc["changes"] if c["kind"] in ("eks_cluster", "eks_node_group")]
    assert [c["action"] for c in eks] == ["no-op", "no-op"], eks

    before = len(emulator.calls())
    r = apply_ok(infra)
    assert "0 created, 0 updated, 0 replaced, 2 deleted" in r.out, r.out[-3000:]
    writes = [c["action"] for c in mutating(emulator.calls()[before:], AWS_RESOURCES) if 200 <= c["status"] < 300]
    assert sorted(writes) == ["DeleteSubnet", "DeleteVpc"], writes

    text = held(clients, emulator, APPLIED, "after apply removed the copies")
    inv = owned_inventory(ec2)
    assert [v["VpcId"] for v in inv["vpc"]] == [vpc["VpcId"]], text
    assert {s["SubnetId"] for s in inv["subnet"]} == subnets, text
    assert copy_vpc not in {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}, text
    calls = emulator.calls()
    assert successful_creates(calls[:mine] + calls[mine + len(made_here):]) == CREATES, text
    assert infra("plan", "--detailed-exitcode").code == 0


def test_when_both_copies_are_in_use_plan_cannot_tell_and_apply_changes_nothing(
        infra, clients, emulator, account_settings):
    ec2, elb = clients["ec2"], clients["elbv2"]
    apply_ok(infra)
    groups = by_id(owned_inventory(ec2)["sg"])
    alb_sg = groups["sg/alb"]
    copy = ec2.create_security_group(
        GroupName=f"{alb_sg['GroupName']}-copy", Description=alb_sg["Description"], VpcId=alb_sg["VpcId"],
        TagSpecifications=[{"ResourceType": "security-group",
                            "Tags": [{"Key": k, "Value": v} for k, v in tags(alb_sg).items()]}])["GroupId"]
    # The original stays referenced by the node group's rule; the load balancer now uses the copy.
    [lb] = [x for x in elb.describe_load_balancers()["LoadBalancers"] if alb_sg["GroupId"] in x["SecurityGroups"]]
    elb.set_security_groups(LoadBalancerArn=lb["LoadBalancerArn"], SecurityGroups=[copy])

    plan = infra("plan", "--json")
    doc = plan.json()
    assert [(c["id"], c["kind"], sorted(c["physical_ids"])) for c in doc["contests"]] == [
        ("sg/alb", "security_group", sorted([alb_sg["GroupId"], copy]))], doc["contests"]
    assert not [c for c in doc["changes"] if c["action"] in ("delete", "replace")
                and c["kind"] == "security_group"], doc["changes"]

    before = len(emulator.calls())
    r = infra("apply", "--auto-approve")
    assert r.code == 1, r.out[-2000:] + r.err[-3000:]
    assert "cannot tell" in r.err, r.err[-3000:]
    assert mutating(emulator.calls()[before:], AWS_RESOURCES) == []
    text = held(clients, emulator, {**APPLIED, "sg": 3}, "after apply refused")
    assert {g["GroupId"] for g in owned_inventory(ec2)["sg"]} >= {alb_sg["GroupId"], copy}, text


def test_resources_tagged_with_the_stack_but_not_made_by_infra_are_left_alone(
        infra, clients, emulator, account_settings):
    """The stray security group sits in the stray VPC, a VPC of its own: in the stack's VPC it
    would block the VPC's deletion, which is the blocker test's subject (a foreign interface);
    here destroy must simply succeed around them."""
    ec2 = clients["ec2"]
    apply_ok(infra)
    stray_vpc = ec2.create_vpc(CidrBlock="10.70.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": [
        {"Key": "infra:stack", "Value": STACK}, {"Key": "infra:id", "Value": "bogus/thing"}]}])["Vpc"]["VpcId"]
    stray_sg = ec2.create_security_group(
        GroupName="hand-made", Description="made by hand", VpcId=stray_vpc,
        TagSpecifications=[{"ResourceType": "security-group",
                            "Tags": [{"Key": "infra:stack", "Value": STACK}]}])["GroupId"]

    plan = infra("plan", "--json", "--detailed-exitcode")
    assert plan.code == 0, plan.out[-3000:] + plan.err[-2000:]
    doc = plan.json()
    strays = {s["physical_id"]: s for s in doc["strays"]}
    assert set(strays) == {stray_vpc, stray_sg}, doc["strays"]
    assert (strays[stray_vpc]["id"], strays[stray_vpc]["kind"]) == ("bogus/thing", "vpc"), doc["strays"]
    assert strays[stray_sg]["kind"] == "security_group", doc["strays"]
    assert not [c for c in doc["changes"] if c["physical_id"] in (stray_vpc, stray_sg)], doc["changes"]
    human = infra("plan")
    assert "not made by infra" in human.out + human.err, human.out[-3000:]
    assert stray_vpc in human.out + human.err and stray_sg in human.out + human.err, human.out[-3000:]

    r = apply_ok(infra)
    assert "No changes" in r.out, r.out[-3000:]
    d = infra("destroy", "--auto-approve", timeout=600)
    assert d.code == 0, d.out[-2000:] + d.err[-4000:]
    # The stack is gone; the two strays (counted by their infra:stack tag) are still there.
    text = held(clients, emulator, {**EMPTY, "vpc": 1, "sg": 1}, "after destroy, strays left")
    assert [v["VpcId"] for v in ec2.describe_vpcs(Filters=OWNED)["Vpcs"]] == [stray_vpc], text
    assert [g["GroupId"] for g in ec2.describe_security_groups(Filters=OWNED)["SecurityGroups"]] == [stray_sg], text


# ---------------------------------------------------------------- 3. what Kubernetes left


def test_destroy_deletes_what_kubernetes_left_in_the_stack_vpc(infra, clients, emulator, account_settings):
    # The node group's deletion leaves one CNI interface in each of its subnets too, as on AWS.
    emulator.config(cni_leftover_enis=1)
    ec2, elb = clients["ec2"], clients["elbv2"]
    apply_ok(infra)
    inv = owned_inventory(ec2)
    vpc = inv["vpc"][0]["VpcId"]
    subnets = by_id(inv["subnet"])
    nodes_sg = by_id(inv["sg"])["sg/nodes"]["GroupId"]
    k8s = [{"Key": "elbv2.k8s.aws/cluster", "Value": CLUSTER},
           {"Key": "service.k8s.aws/stack", "Value": "grpc-app/grpc-server"}]

    # What the AWS Load Balancer Controller makes for a Service of type LoadBalancer.
    sg = ec2.create_security_group(
        GroupName=f"k8s-traffic-{CLUSTER}-abc123", Description="[k8s] Shared Backend SecurityGroup for LoadBalancer",
        VpcId=vpc, TagSpecifications=[{"ResourceType": "security-group", "Tags": [
            {"Key": "elbv2.k8s.aws/cluster", "Value": CLUSTER},
            {"Key": "elbv2.k8s.aws/resource", "Value": "backend-sg"}]}])["GroupId"]
    lb = elb.create_load_balancer(
        Name="k8s-grpcapp-grpcserv-1a2b3c4d5e", Subnets=[subnets["subnet/public/a"]["SubnetId"],
                                                         subnets["subnet/public/b"]["SubnetId"]],
        SecurityGroups=[sg], Scheme="internet-facing", Type="application", Tags=k8s)["LoadBalancers"][0]
    tg = elb.create_target_group(Name="k8s-grpcapp-grpcserv-9f8e7d6c5b", Protocol="HTTP", Port=8080,
                                 VpcId=vpc, TargetType="ip", Tags=k8s)["TargetGroups"][0]
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    # An interface the VPC CNI leaked (its description only), with the nodes' security group.
    eni = ec2.create_network_interface(SubnetId=subnets["subnet/private-app/a"]["SubnetId"],
                                       Description="aws-K8S-i-0123456789abcdef0",
                                       Groups=[nodes_sg])["NetworkInterface"]["NetworkInterfaceId"]
    print("--- account before destroy ---\n" + account(clients, emulator))

    # The destroy plan (shown before destroy asks, which it cannot here) lists them apart.
    shown = infra("destroy")
    assert shown.code == 1 and "Nothing was changed" in shown.err, shown.out[-2000:] + shown.err[-2000:]
    assert "left by Kubernetes" in shown.out, shown.out[-4000:]
    section = shown.out.split("left by Kubernetes", 1)[1]
    for kind in ("k8s_eni", "k8s_load_balancer", "k8s_target_group", "k8s_security_group"):
        assert kind in section, (kind, section[:3000])
    for physical in (eni, sg, lb["LoadBalancerName"], tg["TargetGroupName"]):
        assert physical in section, (physical, section[:3000])

    start = len(emulator.calls())
    d = infra("destroy", "--auto-approve", timeout=600)
    text = account(clients, emulator)
    print("--- account after destroy ---\n" + text)
    assert d.code == 0, d.out[-2000:] + d.err[-4000:] + "\n" + text
    # Ours, and the two the node group's deletion left (one per node subnet) during the run.
    deleted = [c for c in emulator.calls()[start:] if c["action"] == "DeleteNetworkInterface" and c["status"] == 200]
    assert len(deleted) == 3, (deleted, text)
    held(clients, emulator, EMPTY, "after destroy")
    assert vpc not in {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}, text
    assert lb["LoadBalancerName"] not in {x["LoadBalancerName"] for x in elb.describe_load_balancers()["LoadBalancers"]}, text
    assert tg["TargetGroupName"] not in {x["TargetGroupName"] for x in elb.describe_target_groups()["TargetGroups"]}, text
    assert sg not in {g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]}, text
    # No interface of Kubernetes' or of a load balancer is left. (The emulator still lists the
    # primary interface of the node group's terminated instance; AWS deletes it with the
    # instance, and it blocks nothing here.)
    left = [n for n in ec2.describe_network_interfaces()["NetworkInterfaces"]
            if n["NetworkInterfaceId"] == eni or (n.get("Description") or "").startswith(("aws-K8S-", "ELB "))
            or any(t["Key"].startswith(("node.k8s.amazonaws.com/", "cluster.k8s.amazonaws.com/"))
                   for t in n.get("TagSet", []))]
    assert left == [], text


# ---------------------------------------------------------------- 4. a stranger in the way


def test_destroy_stops_quickly_at_a_foreign_interface_and_deletes_the_rest(infra, clients, emulator, account_settings):
    ec2 = clients["ec2"]
    apply_ok(infra)
    inv = owned_inventory(ec2)
    vpc = inv["vpc"][0]["VpcId"]
    # A node subnet: destroy reaches it only after the node group and the cluster are gone, long
    # (in the emulator's scaled time) after the load balancer's interfaces were released, so every
    # DeleteSubnet refused from then on is refused for the stranger alone.
    blocked = by_id(inv["subnet"])["subnet/private-app/a"]["SubnetId"]
    # Someone else's interface: no tags, no description, the VPC's default security group.
    eni = ec2.create_network_interface(SubnetId=blocked)["NetworkInterface"]["NetworkInterfaceId"]

    start = len(emulator.calls())
    run = Started(infra, ("destroy", "--auto-approve"), name="blocked")
    try:
        # Bounded: a destroy that retries the subnet out a long timeout fails here, with its output.
        run.p.wait(timeout=180)
    except subprocess.TimeoutExpired:
        pytest.fail("destroy still running 180 s after it started, at the foreign interface:\n"
                    + run.err_so_far()[-4000:] + "\naccount:\n" + account(clients, emulator))
    finally:
        if run.p.poll() is None:
            run.p.kill()
        d = run.wait()
    ended = time.time()
    calls = emulator.calls()[start:]
    text = account(clients, emulator)
    print("--- account after the blocked destroy ---\n" + text)
    report = f"exit {d.code}\nstderr:\n{d.err[-4000:]}\naccount:\n{text}"
    assert d.code == 1, report
    # It names the interface, says the stack did not make it, and what to do.
    assert eni in d.err, report
    assert re.search(r"not made by|did not make", d.err) and "destroy again" in d.err, report

    # From the first DeleteSubnet refusal to the exit. The first refusals may be the public
    # subnets' (the deleted load balancer's interfaces linger a while, which destroy waits out);
    # those after the interfaces were released can only be the stranger's subnet. The tool must
    # look at what holds the subnet and stop, not retry until a timeout: its timeouts are real
    # seconds, so at the emulator's time scale any retry budget shows here.
    refusals = [c for c in calls if c["action"] == "DeleteSubnet" and c["status"] >= 400]
    assert refusals, report
    released = max([t["due"] for t in emulator.transitions() if t["name"] == "alb_enis_release"], default=0.0)
    strangers = [c for c in refusals if c["arrived"] > released]
    first = ended - refusals[0]["t"]
    stranger = ended - strangers[0]["t"] if strangers else None
    timing = (f"first DeleteSubnet refusal to exit {first:.1f}s ({len(refusals)} refusals); first refusal "
              f"for the foreign interface to exit {stranger if stranger is None else round(stranger, 1)}s "
              f"({len(strangers)} refusals)")
    print(timing)
    assert first < 30, f"{timing}\n{report}"
    assert strangers and stranger < 10 and len(strangers) <= 2, f"{timing}\n{report}"

    # Everything else is gone; the blocked subnet and the VPC holding it stay, and the stranger's
    # interface is untouched.
    held(clients, emulator, {**EMPTY, "vpc": 1, "subnet": 1}, "after the blocked destroy")
    inv = owned_inventory(ec2)
    assert [s["SubnetId"] for s in inv["subnet"]] == [blocked] and [v["VpcId"] for v in inv["vpc"]] == [vpc], text
    assert ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"], text

    ec2.delete_network_interface(NetworkInterfaceId=eni)
    again = infra("destroy", "--auto-approve", timeout=600)
    assert again.code == 0, again.out[-2000:] + again.err[-4000:]
    held(clients, emulator, EMPTY, "after the second destroy")
    assert vpc not in {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}
