"""Helpers shared by the Python suites: the emulator process and its control API."""

import json
import os
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

import boto3

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
TIME_SCALE = 0.01


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Emulator:
    def __init__(self, url: str) -> None:
        self.url = url

    def _request(self, method: str, path: str, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def calls(self) -> list:
        return self._request("GET", "/_emulator/calls")

    def transitions(self) -> list:
        return self._request("GET", "/_emulator/transitions")

    def reset(self) -> None:
        self._request("POST", "/_emulator/reset")

    def config(self, **values) -> dict:
        return self._request("POST", "/_emulator/config", values)

    def client(self, service: str):
        return boto3.client(
            service, endpoint_url=self.url, region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
            config=botocore_config(),
        )


def eks_token(emulator: "Emulator", cluster: str, region: str = "us-east-1") -> str:
    """A bearer token for `cluster`'s Kubernetes API, made as `aws eks get-token` makes it: an
    STS GetCallerIdentity URL presigned by botocore with `x-k8s-aws-id: <cluster>` signed in."""
    import base64

    sts = boto3.client("sts", endpoint_url=emulator.url, region_name=region,
                       aws_access_key_id="testing", aws_secret_access_key="testing")

    def keep_cluster(params, context, **kwargs):
        if "x-k8s-aws-id" in params:
            context["x-k8s-aws-id"] = params.pop("x-k8s-aws-id")

    def add_header(request, **kwargs):
        if "x-k8s-aws-id" in request.context:
            request.headers["x-k8s-aws-id"] = request.context["x-k8s-aws-id"]

    sts.meta.events.register("provide-client-params.sts.GetCallerIdentity", keep_cluster)
    sts.meta.events.register("before-sign.sts.GetCallerIdentity", add_header)
    url = sts.generate_presigned_url("get_caller_identity", Params={"x-k8s-aws-id": cluster},
                                     ExpiresIn=60, HttpMethod="GET")
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def kube(emulator: "Emulator", cluster: str, method: str, path: str, body=None, token=None,
         content_type: str = "application/json"):
    """Calls `cluster`'s Kubernetes API at its DescribeCluster endpoint; returns (status, JSON)."""
    endpoint = emulator.client("eks").describe_cluster(name=cluster)["cluster"]["endpoint"]
    data = json.dumps(body).encode() if body is not None else None
    token = eks_token(emulator, cluster) if token is None else token
    headers = {"Authorization": f"Bearer {token}",
               "Accept": "application/json", "Content-Type": content_type}
    req = urllib.request.Request(endpoint.rstrip("/") + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def botocore_config():
    from botocore.config import Config

    # No client-side retries: tests must see exactly what the emulator answers.
    return Config(retries={"total_max_attempts": 1, "mode": "standard"})




def wait_for(predicate, timeout: float = 20.0, interval: float = 0.05):
    """Poll until predicate() is truthy; return its value."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def issued_certificate(acm, domain: str = "grpc.example.com") -> str:
    """The ARN of a certificate requested for `domain`, once ACM has issued it (the emulator keeps
    it PENDING_VALIDATION for the scaled `acm_dns_validation` duration, as DNS validation does)."""
    arn = acm.request_certificate(DomainName=domain, ValidationMethod="DNS")["CertificateArn"]
    wait_for(lambda: acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "ISSUED")
    return arn


def start_emulator(*extra: str):
    """Starts scripts/emulator on a free loopback port; returns (process, Emulator)."""
    port = _free_port()
    proc = subprocess.Popen(
        [os.path.join(ROOT, "scripts", "emulator"), "--port", str(port), "--time-scale", str(TIME_SCALE), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    ready = {}

    def watch() -> None:
        line = proc.stdout.readline()
        ready["line"] = line.strip()

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    t.join(timeout=120)  # the first run may create the venv
    if ready.get("line") != f"emulator ready on http://127.0.0.1:{port}":
        proc.kill()
        raise RuntimeError(f"emulator did not start: {ready.get('line')!r} {proc.stderr.read()[-2000:]}")
    # Drain stderr so a chatty server never blocks on a full pipe.
    threading.Thread(target=proc.stderr.read, daemon=True).start()
    emu = Emulator(f"http://127.0.0.1:{port}")
    return proc, emu


def stop(proc) -> None:
    """Stops an emulator process started by start_emulator."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})


def fill_account(emulator: Emulator, roles: int, target_groups: int, repositories: int, vpcs: int) -> None:
    """Adds other teams' resources with boto3, none of them a stack's: roles with an inline
    policy each, target groups, ECR repositories, and VPCs with two subnets each."""
    iam, elb, ecr, ec2 = (emulator.client(s) for s in ("iam", "elbv2", "ecr", "ec2"))
    for i in range(roles):
        name = f"other-team-role-{i}"
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=_TRUST, Description="not ours")
        iam.put_role_policy(RoleName=name, PolicyName="read", PolicyDocument=_POLICY)
    vpc_ids = []
    for i in range(vpcs):
        vpc = ec2.create_vpc(CidrBlock=f"172.{16 + i}.0.0/16")["Vpc"]["VpcId"]
        for k in range(2):
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"172.{16 + i}.{k}.0/24")
        vpc_ids.append(vpc)
    for i in range(target_groups):
        elb.create_target_group(Name=f"other-tg-{i}", Protocol="HTTP", Port=80,
                                VpcId=vpc_ids[i % len(vpc_ids)], TargetType="instance")
    for i in range(repositories):
        ecr.create_repository(repositoryName=f"other-team/repo-{i}")


def code(err) -> str:
    """AWS's error code of a `pytest.raises(ClientError)` result."""
    return err.value.response["Error"]["Code"]


def trust(service: str) -> str:
    """A trust policy letting AWS service `service` (e.g. codebuild.amazonaws.com) assume a role."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})
