"""Runs the real `infra` binary against the emulator, in a scratch directory per test."""

import json
import os
import subprocess
from dataclasses import dataclass

import pytest

from support import ROOT

READ_PREFIXES = ("Describe", "List", "Get", "BatchGet")
# Every read plan makes on the applied default stack (README, "How it works"): bounded by the
# stack, the same with more zones or in a noisy account. The Kubernetes API's ListNamespaces
# (the stack's own cluster) counts too: the emulator logs it as `kubernetes`; so does the GetItem
# of the stack's lock in DynamoDB (plan never locks, but says when a run holds it), and EKS's
# DescribeClusterVersions (which versions a cluster may run), and the preflight's two EC2 reads
# (the zones, the instance types offered in them), and DescribeVpcEndpoints (made whatever
# `network.nat` says: endpoints left by `nat: none` must be found). The Price List API's reads
# are not the account's and are cached: `account_calls` leaves them out, test_cost.py counts them.
# The node group is described under both of the names it takes in turn (a replacement makes the
# new group beside the old one).
PLAN_CALLS = 48
# With a certificate, plan also reads the HTTPS listener's rules (DescribeRules) and, in the
# preflight, the certificate (DescribeCertificate).
PLAN_CALLS_WITH_CERTIFICATE = PLAN_CALLS + 2


def account_calls(calls):
    """The calls among `calls` made to the account: all but the Price List API's (plan's cost
    estimate, cached on disk across runs)."""
    return [c for c in calls if c["service"] != "pricing"]


def writes(calls):
    """The calls among `calls` that change the account's resources. The stack lock's own writes
    (DynamoDB: the lock item, and its table on first use) are bookkeeping every apply and destroy
    makes, refused or not; tests/integration/test_shared_account.py checks those."""
    return [c for c in calls if not c["action"].startswith(READ_PREFIXES) and c["service"] != "dynamodb"]


@dataclass
class Run:
    code: int
    out: str
    err: str
    # For a run sent signals: seconds from the last signal to its exit.
    after_signal: float | None = None

    def json(self):
        return json.loads(self.out)


class Started:
    """A run of the binary in the background, its output in files (nobody reads a pipe while
    the test polls)."""

    def __init__(self, infra, args, env=None, name="run"):
        self.args = args
        self.out_path = os.path.join(infra.workdir, f"{name}.out")
        self.err_path = os.path.join(infra.workdir, f"{name}.err")
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.p = subprocess.Popen([infra.bin, *args], cwd=infra.workdir, env={**infra.env(), **(env or {})},
                                      stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        self.pid = self.p.pid

    def out_so_far(self) -> str:
        with open(self.out_path) as f:
            return f.read()

    def err_so_far(self) -> str:
        with open(self.err_path) as f:
            return f.read()

    def wait(self, timeout=600) -> Run:
        try:
            self.p.wait(timeout=timeout)
        finally:
            if self.p.poll() is None:
                self.p.kill()
                self.p.wait()
        with open(self.out_path) as out, open(self.err_path) as err:
            return Run(self.p.returncode, out.read(), err.read())


class Infra:
    """The binary under test, pointed at the emulator only through AWS_ENDPOINT_URL."""

    def __init__(self, emu, workdir):
        self.emu = emu
        self.workdir = workdir
        self.bin = os.environ.get("INFRA_BIN", os.path.join(ROOT, "target", "debug", "infra"))
        # Extra environment for every run (a short lock lease where a test kills runs).
        self.extra_env: dict[str, str] = {}
        if not os.path.exists(self.bin):
            pytest.fail(f"{self.bin} is missing: run `cargo build` first (scripts/test does)")

    def env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ENDPOINT_URL=self.emu.url,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_EC2_METADATA_DISABLED="true",
            NO_COLOR="1",
            # The price cache is per test, like the account.
            XDG_CACHE_HOME=os.path.join(self.workdir, ".cache"),
        )
        env.update(self.extra_env)
        return env

    def __call__(self, *args, stdin=subprocess.DEVNULL, timeout=300) -> Run:
        p = subprocess.run(
            [self.bin, *args], cwd=self.workdir, env=self.env(), stdin=stdin,
            capture_output=True, text=True, timeout=timeout,
        )
        return Run(p.returncode, p.stdout, p.stderr)

    def write_config(self, text: str, name: str = "infra.yaml") -> str:
        path = os.path.join(self.workdir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def default_config(self) -> str:
        r = self("init", "--force")
        assert r.code == 0, r.err
        with open(os.path.join(self.workdir, "infra.yaml")) as f:
            return f.read()

    def mutating_calls(self):
        return writes(self.emu.calls())


@pytest.fixture
def infra(emulator, tmp_path):
    emulator.reset()
    emulator.config(fault_rate=0.0, codebuild_fail_phase=None, hold=[])
    return Infra(emulator, str(tmp_path))


@pytest.fixture
def ec2(emulator):
    return emulator.client("ec2")
