"""Replacing the EKS managed node group (a new instance type) without an outage: the new group is
made under the other of its two names (`<stack>-nodes`, `<stack>-nodes-2`), waited for until
ACTIVE, attached to every target group of the stack, and only then is the old one detached and
deleted. A thread samples the account with its own boto3 clients while apply runs and checks that
at every moment an ACTIVE node group takes the ALB's traffic; the emulator's `hold` keeps the new
group CREATING (and the old one DELETING) for as long as the test needs to see those states,
whatever the speed of the machine. A replacement killed half-way is finished by the next apply,
and destroy in the middle removes both groups."""

import signal
import threading
import time
from typing import NamedTuple

import pytest
from botocore.exceptions import ClientError

from conftest import Started, writes
from support import issued_certificate
from test_reliability import EMPTY, inventory, ours, run_until, succeeded, successful_creates

STACK = "grpc-eks"
FIRST, SECOND = f"{STACK}-nodes", f"{STACK}-nodes-2"
# A killed run keeps the stack's lock until its lease ends (INFRA_LOCK_LEASE_SECONDS below).
APPLY = ("apply", "--auto-approve", "--lock-timeout", "60s")
DESTROY = ("destroy", "--auto-approve", "--lock-timeout", "60s")
# What a node group replacement does to the account, in the order it must happen.
NODE_WRITES = ("CreateNodegroup", "AttachTrafficSources", "DetachTrafficSources", "DeleteNodegroup")
NO_GAP = "replaced: new group first, no gap in capacity"
# Every AWS call takes this long while a replacement is applied (a network round trip): two calls
# infra sends at once then overlap for certain, so a step that does not wait for the one before
# it is caught at it every time, not only when the scheduler happens to interleave them.
ROUND_TRIP = 0.02


@pytest.fixture
def clients(emulator):
    return {s: emulator.client(s) for s in
            ("ec2", "iam", "eks", "elbv2", "autoscaling", "ecr", "codebuild", "sts", "logs", "acm")}


@pytest.fixture(autouse=True)
def aws_like(emulator):
    """As AWS behaves, whatever an earlier test in this worker set (settings survive reset)."""
    emulator.config(hold=[], call_latency=0.0, iam_propagation=True, cni_leftover_enis=1)
    yield
    emulator.config(hold=[], call_latency=0.0)


def with_instance_type(config: str, instance_type: str) -> str:
    assert "  instance_types: [t3.medium]\n" in config
    return config.replace("  instance_types: [t3.medium]\n", f"  instance_types: [{instance_type}]\n")


def stack_target_groups(elb) -> frozenset:
    arns = [tg["TargetGroupArn"] for tg in elb.describe_target_groups()["TargetGroups"]]
    found = elb.describe_tags(ResourceArns=arns)["TagDescriptions"] if arns else []
    return frozenset(d["ResourceArn"] for d in found if ours(d["Tags"]))


def asg_of(eks, name: str) -> str:
    ng = eks.describe_nodegroup(clusterName=STACK, nodegroupName=name)["nodegroup"]
    return ng["resources"]["autoScalingGroups"][0]["name"]


def attached(autoscaling, asg: str) -> frozenset:
    sources = autoscaling.describe_traffic_sources(
        AutoScalingGroupName=asg, TrafficSourceType="elbv2")["TrafficSources"]
    return frozenset(s["Identifier"] for s in sources if s.get("State") not in ("Removing", "Removed"))


def node_writes(calls) -> list:
    """The successful calls of `calls` that replace a node group, in the order they arrived."""
    return [c for c in writes(calls) if c["action"] in NODE_WRITES and 200 <= c["status"] < 300]


def actions(calls) -> list:
    return [c["action"] for c in calls]


def replacement(tgs: int, created: bool = True) -> list:
    """The node group writes of a replacement, in order, with `tgs` target groups (without the
    create when `created` is False: an earlier run made the new group)."""
    return [*(["CreateNodegroup"] if created else []), *["AttachTrafficSources"] * tgs,
            *["DetachTrafficSources"] * tgs, "DeleteNodegroup"]


def assert_in_order(calls, tgs: int, created: bool = True) -> list:
    """Checks that the node group writes among `calls` are the replacement's, in its order: the
    new group created, attached to each of the `tgs` target groups, the old group detached from
    each, then deleted (without the create when `created` is False: an earlier run made it).
    Each step starts only once the step before it was answered: the order is infra's, not
    luck's. Returns those calls."""
    done = node_writes(calls)
    assert actions(done) == replacement(tgs, created), actions(done)
    phases = [[c for c in done if c["action"] == a] for a in NODE_WRITES]
    phases = [p for p in phases if p]
    for before, after in zip(phases, phases[1:]):
        answered = max(c["t"] for c in before)
        started = min(c["arrived"] for c in after)
        assert answered < started, (
            f"{after[0]['action']} sent {answered - started:.4f}s before the last "
            f"{before[0]['action']} was answered: {done}")
    return done


class Group(NamedTuple):
    status: str
    asg: str | None
    attached: frozenset


class Sampler:
    """Reads, in a thread and with its own clients, every node group of the stack's cluster, its
    Auto Scaling group and the target groups that group is attached to. A sample is kept only when
    two reads in a row agree: each of those values changes at most once in a replacement, so two
    equal reads are the state the account was in between them (one read alone is not a snapshot:
    the old group could be detached between reading it and reading the new one)."""

    def __init__(self, emulator, target_groups: frozenset):
        self.tgs = target_groups
        self.eks = emulator.client("eks")
        self.autoscaling = emulator.client("autoscaling")
        # (when the first of its two reads began, {node group name: Group})
        self.samples: list[tuple[float, dict]] = []
        self.unsettled = 0
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def read(self) -> dict:
        groups = {}
        for name in self.eks.list_nodegroups(clusterName=STACK)["nodegroups"]:
            try:
                ng = self.eks.describe_nodegroup(clusterName=STACK, nodegroupName=name)["nodegroup"]
            except ClientError as e:
                if e.response["Error"]["Code"] != "ResourceNotFoundException":
                    raise
                groups[name] = Group("GONE", None, frozenset())
                continue
            asgs = (ng.get("resources") or {}).get("autoScalingGroups") or []
            asg = asgs[0]["name"] if asgs else None
            on = frozenset()
            if asg:
                try:
                    on = attached(self.autoscaling, asg)
                except ClientError as e:
                    if e.response["Error"]["Code"] != "ValidationError":  # the group is gone
                        raise
            groups[name] = Group(ng["status"], asg, on)
        return groups

    def _run(self) -> None:
        while not self._stop.is_set():
            began = time.time()
            try:
                first = self.read()
                second = self.read()
            except Exception as e:  # noqa: BLE001 - reported by check()
                self.errors.append(repr(e))
                time.sleep(0.05)
                continue
            if first == second:
                self.samples.append((began, second))
            else:
                self.unsettled += 1
            time.sleep(0.01)

    def start(self) -> "Sampler":
        self._thread.start()
        self.wait(lambda g: True, count=1)
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def serving(self, groups: dict) -> list:
        """The groups that are ACTIVE and attached to every target group of the stack."""
        return [n for n, g in groups.items() if g.status == "ACTIVE" and self.tgs <= g.attached]

    def wait(self, predicate, count: int = 5, timeout: float = 60) -> list:
        """Waits for `count` samples taken from now on that satisfy `predicate`; returns them all
        (satisfying or not) so the caller can assert on every one of them."""
        since = time.time()
        deadline = since + timeout
        while time.time() < deadline:
            taken = [g for t, g in self.samples if t > since]
            if sum(1 for g in taken if predicate(g)) >= count:
                return taken
            if self.errors:
                pytest.fail(f"sampling failed: {self.errors[:3]}")
            time.sleep(0.02)
        pytest.fail(f"in {timeout}s no {count} samples as wanted; the last: "
                    f"{self.samples[-1:] if self.samples else None}")

    def check(self, min_samples: int = 20) -> None:
        """Every sample had a node group taking traffic, and the sampling was real."""
        assert self.errors == [], self.errors[:3]
        assert len(self.samples) >= min_samples, (len(self.samples), self.unsettled)
        gaps = [(round(t, 3), g) for t, g in self.samples if not self.serving(g)]
        assert gaps == [], f"{len(gaps)} of {len(self.samples)} samples without an ACTIVE group " \
                           f"attached to every target group, the first: {gaps[:3]}"
        assert any(len(g) == 2 for _, g in self.samples), "the two groups were never seen together"


def wait_for_call(infra, run: Started, start: int, action: str, steps: list, timeout: float = 120) -> list:
    """Waits until `action` succeeded in the calls since `start`, the run still going and its node
    group writes so far a beginning of `steps`; returns those calls."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        calls = infra.emu.calls()[start:]
        done = actions(node_writes(calls))
        if done != steps[:len(done)]:
            pytest.fail(f"node group writes out of order: {done}, not a beginning of {steps}")
        if action in done:
            return calls
        if run.p.poll() is not None:
            pytest.fail(f"the run ended (code {run.p.returncode}) before {action}; node group writes: "
                        f"{done}\n" + run.err_so_far()[-3000:])
        time.sleep(0.03)
    pytest.fail(f"no {action} in {timeout}s; node group writes so far: "
                f"{actions(node_writes(infra.emu.calls()[start:]))}\n" + run.err_so_far()[-3000:])


def wait_for_output(run: Started, text: str, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while text not in run.out_so_far():
        if run.p.poll() is not None or time.time() > deadline:
            pytest.fail(f"{text!r} never printed\n" + run.out_so_far()[-3000:] + run.err_so_far()[-3000:])
        time.sleep(0.03)


def the_group(clients, name: str, instance_type: str, tgs: frozenset) -> str:
    """Checks that `name` is the cluster's one node group, ACTIVE, of `instance_type`, attached
    to every target group of the stack; returns its Auto Scaling group."""
    eks, autoscaling = clients["eks"], clients["autoscaling"]
    assert eks.list_nodegroups(clusterName=STACK)["nodegroups"] == [name]
    ng = eks.describe_nodegroup(clusterName=STACK, nodegroupName=name)["nodegroup"]
    assert (ng["status"], ng["instanceTypes"]) == ("ACTIVE", [instance_type])
    asg = asg_of(eks, name)
    assert attached(autoscaling, asg) == tgs
    return asg


def applied(infra, clients, target_groups: int) -> tuple[frozenset, str]:
    """Applies the config as it is; returns the stack's target groups (`target_groups` of them)
    and the Auto Scaling group of its one node group, `FIRST`."""
    r = infra("apply", "--auto-approve", timeout=600)
    assert r.code == 0, r.out[-3000:] + r.err[-3000:]
    tgs = stack_target_groups(clients["elbv2"])
    assert len(tgs) == target_groups
    return tgs, the_group(clients, FIRST, "t3.medium", tgs)


def gone(autoscaling, asg: str) -> bool:
    return autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[asg])["AutoScalingGroups"] == []


def test_a_new_instance_type_replaces_the_node_group_new_first_with_no_gap(infra, clients, emulator):
    # With a certificate the stack has two target groups (http and grpc): the new group must
    # take both before the old one lets go of either.
    cert = issued_certificate(clients["acm"])
    config = infra.default_config().replace("certificate_arn: null", f"certificate_arn: {cert}")
    infra.write_config(config)
    tgs, first_asg = applied(infra, clients, target_groups=2)

    # The plan says it: create before destroy, in Terraform's notation, and no gap.
    infra.write_config(with_instance_type(config, "t3.large"))
    before = len(emulator.calls())
    plan = infra("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.out[-3000:] + plan.err[-3000:]
    [line] = [ln.strip() for ln in plan.out.splitlines()
              if ln.startswith("  ") and ln.split()[1:2] == ["eks/nodegroup"]]
    assert line.startswith("+/- "), line
    warnings = [ln for ln in plan.out.splitlines() if ln.startswith("Warning:")]
    assert any(NO_GAP in w for w in warnings), warnings
    assert not any("gone before new ones exist" in w for w in warnings), warnings
    p = infra("plan", "--json")
    assert p.code == 0, p.err[-3000:]
    doc = p.json()
    changes = {c["id"]: c for c in doc["changes"]}
    ng = changes["eks/nodegroup"]
    assert (ng["action"], ng.get("new_first"), ng["physical_id"]) == ("replace", True, FIRST), ng
    [types] = [a for a in ng["attrs"] if a["name"] == "instance_types"]
    assert (types["old"], types["new"], types["forces_replacement"]) == (["t3.medium"], ["t3.large"], True)
    for tg in ("tg-attachment/http", "tg-attachment/grpc"):
        assert (changes[tg]["action"], changes[tg].get("new_first")) == ("replace", True), changes[tg]
    # Nothing else goes, nor is replaced old-first.
    assert [c["id"] for c in doc["changes"] if c["action"] == "delete"
            or (c["action"] == "replace" and not c.get("new_first"))] == []
    assert any(NO_GAP in w for w in doc["warnings"]), doc["warnings"]
    assert doc["contests"] == [] and doc["conflicts"] == []
    assert writes(emulator.calls()[before:]) == []

    # Apply, the new group held CREATING, then the old one held DELETING, while the sampler
    # watches from outside.
    emulator.config(hold=["eks_nodegroup_create", "eks_nodegroup_delete"], call_latency=ROUND_TRIP)
    sampler = Sampler(emulator, tgs).start()
    start = len(emulator.calls())
    run = Started(infra, APPLY)
    try:
        steps = replacement(len(tgs))
        wait_for_call(infra, run, start, "CreateNodegroup", steps)
        # The new group is CREATING: the old one keeps the traffic, and nothing else happens
        # however long it takes.
        held = sampler.wait(lambda g: set(g) == {FIRST, SECOND}, count=10)
        for g in held:
            assert g[SECOND].status == "CREATING", g
            assert g[FIRST] == Group("ACTIVE", first_asg, tgs), g
        assert actions(node_writes(emulator.calls()[start:])) == ["CreateNodegroup"]
        released = time.time()
        emulator.config(hold=["eks_nodegroup_delete"])

        # Once it is ACTIVE it takes the traffic, and the old group lets go and is deleted.
        wait_for_call(infra, run, start, "DeleteNodegroup", steps)
        deleting = sampler.wait(lambda g: g.get(FIRST, Group("", None, None)).status == "DELETING", count=10)
        for g in deleting:
            assert g[SECOND].status == "ACTIVE" and g[SECOND].attached == tgs, g
            assert g[FIRST].attached == frozenset(), g
        emulator.config(hold=[])
        r = run.wait(timeout=300)
    finally:
        sampler.stop()
        emulator.config(hold=[], call_latency=0.0)
        if run.p.poll() is None:
            run.p.kill()
    assert r.code == 0, r.out[-3000:] + r.err[-3000:]
    sampler.check()
    done = assert_in_order(emulator.calls()[start:], len(tgs))
    # Attached only once the group could be ACTIVE (it was held CREATING until `released`).
    assert all(c["arrived"] > released for c in done[1:]), (released, done)

    new_asg = the_group(clients, SECOND, "t3.large", tgs)
    assert new_asg != first_asg and gone(clients["autoscaling"], first_asg)
    assert infra("plan", "--detailed-exitcode").code == 0

    # Another instance type: the group goes back to the first name, the same way, unheld.
    infra.write_config(with_instance_type(config, "m5.large"))
    emulator.config(call_latency=ROUND_TRIP)
    sampler = Sampler(emulator, tgs).start()
    start = len(emulator.calls())
    try:
        r = infra(*APPLY, timeout=600)
    finally:
        sampler.stop()
        emulator.config(call_latency=0.0)
    assert r.code == 0, r.out[-3000:] + r.err[-3000:]
    sampler.check(min_samples=5)
    done = assert_in_order(emulator.calls()[start:], len(tgs))
    # Attached only once the new group was due to be ACTIVE.
    [active] = [t["due"] for t in emulator.transitions()
                if (t["name"], t["subject"]) == ("eks_nodegroup_create", FIRST)
                and t["scheduled"] >= done[0]["arrived"]]
    assert all(c["arrived"] >= active for c in done[1:]), (active, done)
    the_group(clients, FIRST, "m5.large", tgs)
    assert gone(clients["autoscaling"], new_asg)
    assert infra("plan", "--detailed-exitcode").code == 0


def test_a_killed_replacement_is_finished_by_the_next_apply_and_destroy_midway_removes_both(
        infra, clients, emulator):
    infra.extra_env["INFRA_LOCK_LEASE_SECONDS"] = "3"
    eks, autoscaling = clients["eks"], clients["autoscaling"]
    config = infra.default_config()
    tgs, first_asg = applied(infra, clients, target_groups=1)

    # Killed once the new group is created, while it is (held) CREATING.
    infra.write_config(with_instance_type(config, "t3.large"))
    emulator.config(hold=["eks_nodegroup_create"])
    killed = run_until(infra, APPLY, lambda calls: succeeded(calls, "CreateNodegroup"))
    assert killed.code == -signal.SIGKILL
    assert sorted(eks.list_nodegroups(clusterName=STACK)["nodegroups"]) == [FIRST, SECOND]
    assert eks.describe_nodegroup(clusterName=STACK, nodegroupName=SECOND)["nodegroup"]["status"] == "CREATING"
    assert attached(autoscaling, first_asg) == tgs

    # Both groups carry the stack's id, and the plan knows which is which: the new one is the
    # node group (waited for), the old one a leftover of the replacement to delete.
    p = infra("plan", "--json")
    assert p.code == 0, p.out[-3000:] + p.err[-3000:]
    doc = p.json()
    assert doc["contests"] == [] and doc["conflicts"] == [], doc["contests"]
    changes = {c["id"]: c for c in doc["changes"]}
    ng = changes["eks/nodegroup"]
    assert (ng["action"], ng["physical_id"]) == ("update", SECOND), ng
    assert "ACTIVE" in (ng["reason"] or ""), ng
    old = changes[f"eks/nodegroup#{FIRST}"]
    assert (old["action"], old["physical_id"]) == ("delete", FIRST), old
    att = changes["tg-attachment/http"]
    assert att["action"] != "delete" and (att["action"] != "replace" or att.get("new_first")), att
    assert [c["id"] for c in doc["changes"] if c["action"] == "create"] == []

    # The next apply waits for the new group, moves the traffic to it, then deletes the old one;
    # the old group serves until then.
    emulator.config(call_latency=ROUND_TRIP)
    sampler = Sampler(emulator, tgs).start()
    start = len(emulator.calls())
    run = Started(infra, APPLY)
    try:
        wait_for_output(run, "eks/nodegroup")  # its plan is made: the group was read CREATING
        held = sampler.wait(lambda g: set(g) == {FIRST, SECOND}, count=5)
        assert all(g[FIRST] == Group("ACTIVE", first_asg, tgs) for g in held), held[-1]
        released = time.time()
        emulator.config(hold=[])
        r = run.wait(timeout=300)
    finally:
        sampler.stop()
        emulator.config(hold=[], call_latency=0.0)
        if run.p.poll() is None:
            run.p.kill()
    assert r.code == 0, r.out[-3000:] + r.err[-3000:]
    sampler.check(min_samples=5)
    assert "duplicate" not in r.out
    lines = [ln.strip() for ln in r.out.splitlines() if ln.startswith("  ")]
    assert any(ln.startswith("~") and ln.split()[1:2] == ["eks/nodegroup"] for ln in lines), r.out[-3000:]
    assert any(ln.startswith("-") and ln.split()[1:2] == [f"eks/nodegroup#{FIRST}"] for ln in lines), r.out[-3000:]
    resumed = emulator.calls()[start:]
    assert "CreateNodegroup" not in actions(resumed)
    assert successful_creates(resumed) == {}
    done = assert_in_order(resumed, len(tgs), created=False)
    assert all(c["arrived"] > released for c in done), (released, done)
    assert successful_creates(emulator.calls())["CreateNodegroup"] == 2  # the first, the new one
    second_asg = the_group(clients, SECOND, "t3.large", tgs)
    assert gone(autoscaling, first_asg)
    assert infra("plan", "--detailed-exitcode").code == 0

    # Destroy while a replacement is half-way (both groups exist) removes both, and the rest.
    infra.write_config(with_instance_type(config, "m5.large"))
    emulator.config(hold=["eks_nodegroup_create"])
    killed = run_until(infra, APPLY, lambda calls: succeeded(calls, "CreateNodegroup"))
    assert killed.code == -signal.SIGKILL
    assert sorted(eks.list_nodegroups(clusterName=STACK)["nodegroups"]) == [FIRST, SECOND]
    assert attached(autoscaling, second_asg) == tgs
    emulator.config(hold=[])
    d = infra(*DESTROY, timeout=600)
    assert d.code == 0, d.out[-3000:] + d.err[-3000:]
    assert inventory(clients) == EMPTY
    assert eks.list_clusters()["clusters"] == []
    assert infra("plan", "--detailed-exitcode").code == 2
