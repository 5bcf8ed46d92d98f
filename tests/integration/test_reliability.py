"""Reliability of the real binary against an unreliable, slow AWS: injected throttling and 5xx
errors, IAM propagation delays, runs killed at awkward moments, and Ctrl-C. Every check is made
with boto3 against the emulator, never through `infra`'s own read path."""

import os
import signal
import subprocess
import threading
import time

import pytest

from conftest import Run, writes
from support import Emulator, kube
from test_network import OWNED, STACK, TOTAL, owned_inventory

# What the default stack holds once applied, as boto3 counts it. Trust policies are not counted
# (one per role, part of the role); the Auto Scaling group is the node group's, made by EKS.
APPLIED = {
    "vpc": 1, "subnet": 6, "igw": 1, "igw_attachment": 1, "rt": 2, "route": 2, "rta": 6,
    "nat": 1, "eip": 1, "sg": 2, "launch_template": 1,
    "role": 3, "policy_attachment": 4, "inline_policy": 1,
    "cluster": 1, "nodegroup": 1, "access_entry": 1, "asg": 1, "namespace": 1,
    "load_balancer": 1, "target_group": 1, "listener": 1, "tg_attachment": 1,
    "repository": 1, "project": 1, "log_group": 2,
}
EMPTY = {k: 0 for k in APPLIED}

# Successful create calls one apply of the default stack makes. However many runs it takes to
# get there (killed, interrupted, faulted), no resource may ever be created twice.
CREATES = {
    "CreateVpc": 1, "CreateSubnet": 6, "CreateInternetGateway": 1, "AllocateAddress": 1,
    "CreateNatGateway": 1, "CreateRouteTable": 2, "CreateSecurityGroup": 2,
    "CreateLaunchTemplate": 1, "CreateRole": 3, "CreateCluster": 1, "CreateNodegroup": 1,
    "CreateAccessEntry": 1, "CreateNamespace": 1, "CreateLoadBalancer": 1, "CreateTargetGroup": 1,
    "CreateListener": 1, "CreateRepository": 1, "CreateProject": 1, "CreateLogGroup": 2,
}


def tag_map(tags):
    if isinstance(tags, dict):
        return tags
    return {t["Key"]: t["Value"] for t in tags or []}


def ours(tags) -> bool:
    return tag_map(tags).get("infra:stack") == STACK


@pytest.fixture
def clients(emulator):
    return {s: emulator.client(s) for s in
            ("ec2", "iam", "eks", "elbv2", "autoscaling", "ecr", "codebuild", "sts", "logs")}


def inventory(c) -> dict:
    """How many of each kind the stack owns, read with boto3 (faults must be off)."""
    ec2, iam, eks, elb = c["ec2"], c["iam"], c["eks"], c["elbv2"]
    net = {k: len(v) for k, v in owned_inventory(ec2).items()}
    tables = owned_inventory(ec2)["rt"]
    net["route"] = sum(1 for t in tables for r in t["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0")
    net["rta"] = sum(1 for t in tables for a in t["Associations"] if a.get("SubnetId"))
    net["igw_attachment"] = sum(len(g["Attachments"]) for g in owned_inventory(ec2)["igw"])
    net["launch_template"] = len(ec2.describe_launch_templates(Filters=OWNED)["LaunchTemplates"])

    roles = [r["RoleName"] for r in iam.list_roles()["Roles"]
             if ours(iam.list_role_tags(RoleName=r["RoleName"])["Tags"])]
    clusters = [n for n in eks.list_clusters()["clusters"] if ours(eks.describe_cluster(name=n)["cluster"]["tags"])]
    nodegroups = [(cl, ng) for cl in clusters for ng in eks.list_nodegroups(clusterName=cl)["nodegroups"]]
    role_arn_prefix = f"arn:aws:iam::{c['sts'].get_caller_identity()['Account']}:role/{STACK}-"
    active = [cl for cl in clusters if eks.describe_cluster(name=cl)["cluster"]["status"] == "ACTIVE"]
    entries = [p for cl in active
               for p in eks.list_access_entries(clusterName=cl)["accessEntries"] if p.startswith(role_arn_prefix)]
    # Through the cluster's Kubernetes API (the emulator's), with a token made as aws eks get-token does.
    emu = Emulator(eks.meta.endpoint_url)
    namespaces = [ns for cl in active
                  for ns in kube(emu, cl, "GET", "/api/v1/namespaces")[1].get("items", [])
                  if ns["metadata"].get("labels", {}).get("infra/stack") == STACK]

    def owned_arns(arns):
        if not arns:
            return []
        found = elb.describe_tags(ResourceArns=arns)["TagDescriptions"]
        return [d["ResourceArn"] for d in found if ours(d["Tags"])]

    lbs = owned_arns([lb["LoadBalancerArn"] for lb in elb.describe_load_balancers()["LoadBalancers"]])
    tgs = owned_arns([tg["TargetGroupArn"] for tg in elb.describe_target_groups()["TargetGroups"]])
    groups = [g for g in c["autoscaling"].describe_auto_scaling_groups()["AutoScalingGroups"]
              if g["AutoScalingGroupName"].startswith(f"eks-{STACK}-nodes-")]
    repos = [r for r in c["ecr"].describe_repositories()["repositories"]
             if ours(c["ecr"].list_tags_for_resource(resourceArn=r["repositoryArn"])["tags"])]
    names = c["codebuild"].list_projects()["projects"]
    found = c["codebuild"].batch_get_projects(names=names)["projects"] if names else []
    projects = [p for p in found if ours({t["key"]: t["value"] for t in p.get("tags", [])})]
    logs = c["logs"]
    log_groups = [g for g in logs.describe_log_groups(logGroupNamePrefix="/aws/")["logGroups"]
                  if ours(logs.list_tags_for_resource(resourceArn=g["logGroupArn"])["tags"])]
    return {
        **net,
        "role": len(roles),
        "policy_attachment": sum(len(iam.list_attached_role_policies(RoleName=r)["AttachedPolicies"]) for r in roles),
        "inline_policy": sum(len(iam.list_role_policies(RoleName=r)["PolicyNames"]) for r in roles),
        "cluster": len(clusters),
        "nodegroup": len(nodegroups),
        "access_entry": len(entries),
        "namespace": len(namespaces),
        "asg": len(groups),
        "load_balancer": len(lbs),
        "target_group": len(tgs),
        "listener": sum(len(elb.describe_listeners(LoadBalancerArn=a)["Listeners"]) for a in lbs),
        "tg_attachment": sum(1 for g in groups for a in g.get("TargetGroupARNs", []) if a in tgs),
        "repository": len(repos),
        "project": len(projects),
        "log_group": len(log_groups),
    }


def successful_creates(calls) -> dict:
    counts = {}
    for c in calls:
        if c["action"] in CREATES and 200 <= c["status"] < 300:
            counts[c["action"]] = counts.get(c["action"], 0) + 1
    return counts


def succeeded(calls, action) -> bool:
    return any(c["action"] == action and 200 <= c["status"] < 300 for c in calls)


def run_until(infra, args, moment, signals=(signal.SIGKILL,), timeout=300) -> Run:
    """Starts `infra args`, sends `signals` (in turn) once `moment(calls of this run)` holds,
    and returns how it ended. Fails if the run ends before the moment comes."""
    start = len(infra.emu.calls())
    out_path = os.path.join(infra.workdir, "run.out")
    err_path = os.path.join(infra.workdir, "run.err")
    # Files, not pipes: nobody reads a pipe while we poll, and apply prints a long plan.
    with open(out_path, "w") as out, open(err_path, "w") as err:
        p = subprocess.Popen([infra.bin, *args], cwd=infra.workdir, env=infra.env(),
                             stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        try:
            deadline = time.time() + timeout
            while not moment(infra.emu.calls()[start:]):
                if p.poll() is not None:
                    pytest.fail(f"`infra {' '.join(args)}` ended (code {p.returncode}) before the moment came:\n"
                                + open(err_path).read()[-3000:])
                if time.time() > deadline:
                    pytest.fail("the moment never came")
                time.sleep(0.03)
            for i, sig in enumerate(signals):
                if i:
                    time.sleep(0.2)
                p.send_signal(sig)
            signalled = time.time()
            p.wait(timeout=timeout)
            ended = time.time()
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
    with open(out_path) as out, open(err_path) as err:
        return Run(p.returncode, out.read(), err.read(), after_signal=ended - signalled)


def not_started(err: str) -> list:
    """The ids of the summary's `not started: a, b` line."""
    for line in err.splitlines():
        if line.strip().startswith("not started:"):
            return [s.strip() for s in line.split(":", 1)[1].split(",")]
    return []


def abandoned(err: str) -> list:
    """The ids of the summary's `abandoned while waiting: a, b` line."""
    for line in err.splitlines():
        if line.strip().startswith("abandoned while waiting:"):
            return [s.strip() for s in line.split(":", 1)[1].split(",")]
    return []


def failed(err: str) -> list:
    """The ids of the summary's `failed: <id>: <why>` lines."""
    return [line.split(":", 2)[1].strip() for line in err.splitlines() if line.strip().startswith("failed:")]


def test_apply_plan_destroy_succeed_at_a_20_percent_fault_rate(infra, clients, emulator):
    emulator.config(fault_rate=0.2, seed=7, iam_propagation=True)
    r = infra("apply", "--auto-approve", timeout=600)
    assert r.code == 0, r.out[-2000:] + r.err[-4000:]
    plan = infra("plan", "--detailed-exitcode", timeout=600)
    assert plan.code == 0, plan.out[-2000:] + plan.err[-3000:]
    calls = emulator.calls()
    # The faults were real: plenty of calls were refused, and the run still created each
    # resource exactly once.
    assert sum(1 for c in calls if c["status"] >= 500) >= 5
    assert successful_creates(calls) == CREATES

    emulator.config(fault_rate=0.0)
    assert inventory(clients) == APPLIED
    assert sum(APPLIED.values()) - APPLIED["asg"] + APPLIED["role"] == TOTAL  # + 1 trust policy per role

    emulator.config(fault_rate=0.2)
    d = infra("destroy", "--auto-approve", timeout=600)
    assert d.code == 0, d.out[-2000:] + d.err[-4000:]
    emulator.config(fault_rate=0.0)
    assert inventory(clients) == EMPTY


def test_runs_killed_at_any_moment_leave_nothing_the_next_run_cannot_finish(infra, clients, emulator):
    emulator.config(iam_propagation=True)
    eks = clients["eks"]
    # A killed run keeps the stack's lock until its lease ends: a short lease, and every run
    # waits for it as a user would with --lock-timeout.
    infra.extra_env["INFRA_LOCK_LEASE_SECONDS"] = "3"

    def kill(args, moment):
        killed = run_until(infra, args, moment)
        assert killed.code == -signal.SIGKILL
        # Nothing failed before the kill: what earlier killed runs left was taken as it was.
        assert "FAILED" not in killed.err, killed.err[-3000:]

    apply = ("apply", "--auto-approve", "--lock-timeout", "60s")
    # 1. Right after start: the first resource has just been created.
    kill(apply, lambda calls: any(
        200 <= c["status"] < 300 for c in writes(calls)))
    # 2. While the EKS cluster is CREATING.
    kill(apply, lambda calls: succeeded(calls, "CreateCluster"))
    assert eks.describe_cluster(name=STACK)["cluster"]["status"] == "CREATING"
    # 3. While the node group is being created (this run first waits for the cluster the
    # previous one left CREATING; so do the access entry and the node group). The emulator holds
    # the node group CREATING until the next run has read it, however slow the machine.
    emulator.config(hold=["eks_nodegroup_create"])
    kill(apply, lambda calls: succeeded(calls, "CreateNodegroup"))
    assert eks.describe_nodegroup(clusterName=STACK, nodegroupName=f"{STACK}-nodes")["nodegroup"]["status"] == "CREATING"

    start = len(emulator.calls())

    def release_once_read():
        deadline = time.time() + 300
        while time.time() < deadline:
            if any(c["action"] == "DescribeNodegroup" for c in emulator.calls()[start:]):
                break
            time.sleep(0.05)
        emulator.config(hold=[])

    releaser = threading.Thread(target=release_once_read, daemon=True)
    releaser.start()
    r = infra(*apply, timeout=600)
    releaser.join(timeout=5)
    assert r.code == 0, r.out[-2000:] + r.err[-4000:]
    assert "duplicate" not in r.out
    # The node group the killed run left CREATING was waited for: complete means ready.
    assert "~   eks/nodegroup" in r.out and "apply waits until it is ACTIVE" in r.out, r.out[-3000:]
    assert eks.describe_nodegroup(clusterName=STACK, nodegroupName=f"{STACK}-nodes")["nodegroup"]["status"] == "ACTIVE"
    assert eks.describe_cluster(name=STACK)["cluster"]["status"] == "ACTIVE"
    assert inventory(clients) == APPLIED
    assert successful_creates(emulator.calls()) == CREATES
    plan = infra("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.out[-3000:]

    # Destroy killed while the node group and the NAT gateway are being deleted (the next run
    # no longer sees them, but their subnets, Elastic IP and gateway stay busy for a while).
    destroy = ("destroy", "--auto-approve", "--lock-timeout", "60s")
    kill(destroy, lambda calls: succeeded(calls, "DeleteNodegroup") and succeeded(calls, "DeleteNatGateway"))
    d = infra(*destroy, timeout=600)
    assert d.code == 0, d.out[-2000:] + d.err[-4000:]
    assert inventory(clients) == EMPTY
    assert infra("plan", "--detailed-exitcode").code == 2


def test_ctrl_c_stops_cleanly_and_says_what_was_and_was_not_done(infra, clients, emulator):
    emulator.config(iam_propagation=True)
    # The second Ctrl-C exits without releasing the lock: the next run waits out a short lease.
    infra.extra_env["INFRA_LOCK_LEASE_SECONDS"] = "3"
    apply = ("apply", "--auto-approve", "--lock-timeout", "60s")

    # One Ctrl-C while the cluster is being created (held CREATING, however fast the machine):
    # nothing new starts, the wait for the cluster is abandoned at once instead of lasting the
    # cluster's ten minutes, and the summary says what happened.
    emulator.config(hold=["eks_cluster_create"])
    start = len(emulator.calls())
    r = run_until(infra, apply, lambda calls: succeeded(calls, "CreateCluster"), signals=(signal.SIGINT,))
    assert r.code == 1, r.err[-3000:]
    assert r.after_signal < 5, f"{r.after_signal:.1f}s from Ctrl-C to exit\n" + r.err[-2000:]
    assert "interrupted: abandoning waits" in r.err
    assert "Apply incomplete:" in r.err and "Interrupted. Run the same command again" in r.err, r.err[-2000:]
    created = int(r.err.split("Apply incomplete: ", 1)[1].split(" created", 1)[0])
    assert created == sum(1 for line in r.err.splitlines() if ": created " in line) > 0
    # The cluster was created (its call had been sent) and its wait abandoned, not failed.
    assert "eks/cluster" in abandoned(r.err) and "eks/cluster: creating abandoned" in r.err, r.err[-2000:]
    assert "eks/cluster" not in failed(r.err)
    assert clients["eks"].describe_cluster(name=STACK)["cluster"]["status"] == "CREATING"
    left = not_started(r.err)
    assert "eks/nodegroup" in left, r.err[-2000:]
    assert not succeeded(emulator.calls()[start:], "CreateNodegroup")

    # What was not done is exactly what is left to do; the cluster is waited for next time.
    plan = infra("plan", "--json")
    todo = {c["id"] for c in plan.json()["changes"] if c["action"] != "no-op"}
    assert todo == set(left) | set(failed(r.err)) | set(abandoned(r.err)), (todo, left)
    emulator.config(hold=[])

    # Two Ctrl-Cs while a call is in flight (each takes a second from the moment the node group
    # is created, so the first Ctrl-C has one to finish): the second exits at once.
    def created_then_slow(calls):
        if succeeded(calls, "CreateNodegroup"):
            emulator.config(call_latency=1.0)
            return True
        return False

    r = run_until(infra, apply, created_then_slow, signals=(signal.SIGINT, signal.SIGINT))
    emulator.config(call_latency=0.0)
    assert r.code == 130, r.err[-2000:]
    assert "second interrupt: exiting now" in r.err

    r = infra(*apply, timeout=600)
    assert r.code == 0, r.err[-3000:]
    assert infra("plan", "--detailed-exitcode").code == 0
    assert inventory(clients) == APPLIED
    assert successful_creates(emulator.calls()) == CREATES
