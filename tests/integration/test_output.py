"""`infra output` against the emulator: every value read from the live account (checked here with
boto3), null and named when the stack is not (fully) applied, with a non-zero exit."""

import pytest

from support import issued_certificate

STACK = "grpc-eks"
KEYS = ["stack", "region", "account", "alb_dns_name", "url", "grpc_endpoint", "repository_uri",
        "cluster_name", "cluster_endpoint", "kubeconfig_command", "build_project", "missing",
        "missing_resources"]


@pytest.fixture
def clients(emulator):
    return {s: emulator.client(s) for s in ("elbv2", "ecr", "eks", "codebuild", "sts", "acm")}


def live(clients):
    """The values as boto3 reads them."""
    [lb] = clients["elbv2"].describe_load_balancers(Names=[f"{STACK}-alb"])["LoadBalancers"]
    [repo] = clients["ecr"].describe_repositories(repositoryNames=[STACK])["repositories"]
    cluster = clients["eks"].describe_cluster(name=STACK)["cluster"]
    return {
        "account": clients["sts"].get_caller_identity()["Account"],
        "dns": lb["DNSName"],
        "uri": repo["repositoryUri"],
        "endpoint": cluster["endpoint"],
    }


def test_before_apply_everything_is_missing_and_exit_is_non_zero(infra):
    r = infra("output", "--json")
    assert r.code == 1, r.out + r.err
    o = r.json()
    assert list(o) == KEYS
    assert (o["stack"], o["region"]) == (STACK, "us-east-1")
    assert all(o[k] is None for k in KEYS[3:-2]), o
    # No certificate in the default config: no gRPC endpoint is expected, so it is not missing.
    assert o["missing"] == ["alb_dns_name", "url", "repository_uri", "cluster_name",
                            "cluster_endpoint", "kubeconfig_command", "build_project"]
    assert {m["id"] for m in o["missing_resources"]} == {
        "alb", "listener/http", "ecr/repository", "eks/cluster", "codebuild/project"}
    assert "infra apply" in r.err

    human = infra("output")
    assert human.code == 1
    assert "eks/cluster (eks_cluster): not created" in human.err and "infra apply" in human.err
    assert infra.mutating_calls() == []


def test_after_apply_every_value_comes_from_the_account(infra, clients):
    r = infra("apply", "--auto-approve", timeout=600)
    assert r.code == 0, r.out[-3000:] + r.err[-3000:]
    want = live(clients)

    r = infra("output", "--json")
    assert r.code == 0, r.out + r.err
    o = r.json()
    assert o == {
        "stack": STACK,
        "region": "us-east-1",
        "account": want["account"],
        "alb_dns_name": want["dns"],
        "url": f"http://{want['dns']}/",
        "grpc_endpoint": None,
        "repository_uri": want["uri"],
        "cluster_name": STACK,
        "cluster_endpoint": want["endpoint"],
        "kubeconfig_command": f"aws eks update-kubeconfig --name {STACK} --region us-east-1",
        "build_project": STACK,
        "missing": [],
        "missing_resources": [],
    }
    assert [p["name"] for p in clients["codebuild"].batch_get_projects(names=[STACK])["projects"]] == [STACK]

    human = infra("output")
    assert human.code == 0, human.err
    for text in (f"http://{want['dns']}/", want["uri"], want["endpoint"],
                 f"aws eks update-kubeconfig --name {STACK} --region us-east-1",
                 "infra trigger-build --wait", "set alb.certificate_arn"):
        assert text in human.out, (text, human.out)

    # A part deleted behind infra's back is named, and only that part.
    clients["ecr"].delete_repository(repositoryName=STACK, force=True)
    r = infra("output", "--json")
    assert r.code == 1
    o = r.json()
    assert o["repository_uri"] is None and o["missing"] == ["repository_uri"]
    assert o["missing_resources"] == [
        {"id": "ecr/repository", "kind": "ecr_repository", "reason": "not created"}]
    assert o["url"] == f"http://{want['dns']}/"


def test_with_a_certificate_the_grpc_endpoint_is_port_443(infra, clients):
    cert = issued_certificate(clients["acm"])
    infra.write_config(infra.default_config().replace("certificate_arn: null",
                                                      f"certificate_arn: {cert}"))
    r = infra("output", "--json")
    assert r.code == 1 and "grpc_endpoint" in r.json()["missing"]

    r = infra("apply", "--auto-approve", timeout=600)
    assert r.code == 0, r.out[-3000:] + r.err[-3000:]
    dns = live(clients)["dns"]
    r = infra("output", "--json")
    assert r.code == 0, r.err
    assert r.json()["grpc_endpoint"] == f"{dns}:443"
    assert f"{dns}:443" in infra("output").out
