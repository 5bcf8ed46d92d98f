"""The clusters' Kubernetes API (namespaces): EKS token authentication, namespaces with labels,
409s, merge patches, Terminating then gone; reached at the endpoint DescribeCluster reports."""

import base64
import datetime
import json
import urllib.error
import urllib.parse
import urllib.request
from unittest import mock

import botocore.auth
import pytest

from support import eks_token, kube, wait_for

CLUSTER = "kube-test"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def make_cluster(emu, name=CLUSTER, wait=True):
    ec2, iam, eks = emu.client("ec2"), emu.client("iam"), emu.client("eks")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{az}")
               ["Subnet"]["SubnetId"] for i, az in ((1, "a"), (2, "b"))]
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    eks.create_cluster(name=name, roleArn=role, resourcesVpcConfig={"subnetIds": subnets})
    if wait:
        wait_for(lambda: eks.describe_cluster(name=name)["cluster"]["status"] == "ACTIVE")
    return eks


@pytest.fixture
def cluster(emu):
    emu.config(time_scale=0.002)  # cluster up in ~1 s, a namespace gone in 30 ms
    return make_cluster(emu)


def labels(ns):
    return ns["metadata"]["labels"]


def test_describe_cluster_reports_the_emulated_api_and_a_new_cluster_has_the_system_namespaces(emu, cluster):
    endpoint = cluster.describe_cluster(name=CLUSTER)["cluster"]["endpoint"]
    assert endpoint == f"{emu.url}/_k8s/{CLUSTER}"
    status, body = kube(emu, CLUSTER, "GET", "/api/v1/namespaces")
    assert status == 200 and body["kind"] == "NamespaceList"
    names = [ns["metadata"]["name"] for ns in body["items"]]
    assert names == ["default", "kube-node-lease", "kube-public", "kube-system"]
    # The API server labels every namespace with its own name.
    assert all(labels(ns)["kubernetes.io/metadata.name"] == ns["metadata"]["name"] for ns in body["items"])


def test_unknown_cluster_is_404_and_a_creating_one_503(emu):
    emu.config(time_scale=1.0)
    eks = make_cluster(emu, wait=False)
    assert eks.describe_cluster(name=CLUSTER)["cluster"]["status"] == "CREATING"
    assert kube(emu, CLUSTER, "GET", "/api/v1/namespaces")[0] == 503
    endpoint = eks.describe_cluster(name=CLUSTER)["cluster"]["endpoint"]
    other = endpoint.replace(f"/_k8s/{CLUSTER}", "/_k8s/nope")
    req = urllib.request.Request(other + "/api/v1/namespaces",
                                 headers={"Authorization": f"Bearer {eks_token(emu, 'nope')}"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=10)
    assert err.value.code == 404


def presigned(emu, cluster, signed_at=None, extra_query=None, skip_header=False):
    """A token as `aws eks get-token` makes it, optionally signed at another time, with a query
    parameter added after signing, or without the cluster header."""
    import boto3

    sts = boto3.client("sts", endpoint_url=emu.url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    if not skip_header:
        sts.meta.events.register("before-sign.sts.GetCallerIdentity",
                                 lambda request, **kw: request.headers.__setitem__("x-k8s-aws-id", cluster))
    when = signed_at or datetime.datetime.now(datetime.timezone.utc)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=when):
        url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")
    if extra_query:
        url += "&" + urllib.parse.urlencode(extra_query)
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def test_only_a_valid_eks_token_for_this_cluster_is_let_in(emu, cluster):
    def status_with(token):
        return kube(emu, CLUSTER, "GET", "/api/v1/namespaces", token=token)

    assert status_with(presigned(emu, CLUSTER))[0] == 200
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=61)
    bad = {
        "another cluster's token": presigned(emu, "other-cluster"),
        "expired (X-Amz-Date + X-Amz-Expires)": presigned(emu, CLUSTER, signed_at=past),
        "cluster header not signed": presigned(emu, CLUSTER, skip_header=True),
        "parameter outside the presigning set": presigned(emu, CLUSTER, extra_query={"Foo": "bar"}),
        "no prefix": eks_token(emu, CLUSTER)[len("k8s-aws-v1."):],
        "padded base64": eks_token(emu, CLUSTER) + "==",
        "not base64url": "k8s-aws-v1.not/base64+",
        "tampered signature": eks_token(emu, CLUSTER)[:-6] + "AAAAAA",
    }
    for case, token in bad.items():
        status, body = status_with(token)
        assert (status, body["reason"]) == (401, "Unauthorized"), (case, body)
    status, _ = kube(emu, CLUSTER, "GET", "/api/v1/namespaces", token="")
    assert status == 401


def test_namespaces_are_created_with_labels_and_a_taken_name_is_409(emu, cluster):
    ns = {"apiVersion": "v1", "kind": "Namespace",
          "metadata": {"name": "grpc-app", "labels": {"infra/stack": "s", "team": "a"}}}
    status, created = kube(emu, CLUSTER, "POST", "/api/v1/namespaces", ns)
    assert status == 201
    assert labels(created) == {"infra/stack": "s", "team": "a", "kubernetes.io/metadata.name": "grpc-app"}
    assert created["status"]["phase"] == "Active" and created["metadata"]["uid"]
    status, body = kube(emu, CLUSTER, "POST", "/api/v1/namespaces", ns)
    assert (status, body["reason"]) == (409, "AlreadyExists")
    status, got = kube(emu, CLUSTER, "GET", "/api/v1/namespaces/grpc-app")
    assert status == 200 and got["metadata"]["uid"] == created["metadata"]["uid"]
    assert kube(emu, CLUSTER, "GET", "/api/v1/namespaces/absent")[0] == 404
    # Label selectors narrow the list.
    _, listed = kube(emu, CLUSTER, "GET", "/api/v1/namespaces?labelSelector=infra%2Fstack%3Ds")
    assert [n["metadata"]["name"] for n in listed["items"]] == ["grpc-app"]
    # Kubernetes' own validation.
    bad_name = {"metadata": {"name": "Not_A_Label"}}
    assert kube(emu, CLUSTER, "POST", "/api/v1/namespaces", bad_name)[1]["reason"] == "Invalid"
    bad_label = {"metadata": {"name": "x", "labels": {"a": "has space"}}}
    assert kube(emu, CLUSTER, "POST", "/api/v1/namespaces", bad_label)[0] == 422


def test_a_merge_patch_sets_and_removes_labels(emu, cluster):
    kube(emu, CLUSTER, "POST", "/api/v1/namespaces", {"metadata": {"name": "app", "labels": {"a": "1", "b": "2"}}})
    patch = {"metadata": {"labels": {"a": "9", "b": None, "c": "3"}}}
    status, patched = kube(emu, CLUSTER, "PATCH", "/api/v1/namespaces/app", patch,
                           content_type="application/merge-patch+json")
    assert status == 200
    assert labels(patched) == {"a": "9", "c": "3", "kubernetes.io/metadata.name": "app"}
    assert labels(kube(emu, CLUSTER, "GET", "/api/v1/namespaces/app")[1]) == labels(patched)
    # Strategic merge and JSON patch are not what this stub (or infra) speaks.
    status, body = kube(emu, CLUSTER, "PATCH", "/api/v1/namespaces/app", patch,
                        content_type="application/strategic-merge-patch+json")
    assert (status, body["reason"]) == (415, "UnsupportedMediaType")
    bad = {"metadata": {"labels": {"a": "-bad-"}}}
    assert kube(emu, CLUSTER, "PATCH", "/api/v1/namespaces/app", bad,
                content_type="application/merge-patch+json")[0] == 422


def test_a_deleted_namespace_is_terminating_then_gone(emu, cluster):
    emu.config(time_scale=0.02)  # 0.3 s Terminating
    kube(emu, CLUSTER, "POST", "/api/v1/namespaces", {"metadata": {"name": "app"}})
    status, deleted = kube(emu, CLUSTER, "DELETE", "/api/v1/namespaces/app")
    assert status == 200 and deleted["status"]["phase"] == "Terminating"
    assert deleted["metadata"]["deletionTimestamp"]
    status, body = kube(emu, CLUSTER, "DELETE", "/api/v1/namespaces/app")
    assert (status, body["reason"]) == (409, "Conflict")
    status, body = kube(emu, CLUSTER, "POST", "/api/v1/namespaces", {"metadata": {"name": "app"}})
    assert (status, body["reason"]) == (409, "AlreadyExists") and "being deleted" in body["message"]
    wait_for(lambda: kube(emu, CLUSTER, "GET", "/api/v1/namespaces/app")[0] == 404)
    [t] = [t for t in emu.transitions() if t["name"] == "k8s_namespace_delete"]
    assert t["subject"] == f"{CLUSTER}/app"
    assert kube(emu, CLUSTER, "POST", "/api/v1/namespaces", {"metadata": {"name": "app"}})[0] == 201
    # The namespaces every cluster needs cannot go.
    status, body = kube(emu, CLUSTER, "DELETE", "/api/v1/namespaces/kube-system")
    assert (status, body["reason"]) == (403, "Forbidden")


def test_calls_are_logged_as_kubernetes_and_faults_come_in_the_api_servers_form(emu, cluster):
    start = len(emu.calls())
    kube(emu, CLUSTER, "POST", "/api/v1/namespaces", {"metadata": {"name": "app"}})
    kube(emu, CLUSTER, "GET", "/api/v1/namespaces")
    kube(emu, CLUSTER, "GET", "/api/v1/namespaces/app")
    kube(emu, CLUSTER, "PATCH", "/api/v1/namespaces/app", {"metadata": {"labels": {"a": "1"}}},
         content_type="application/merge-patch+json")
    kube(emu, CLUSTER, "DELETE", "/api/v1/namespaces/app")
    logged = [(c["service"], c["action"], c["status"]) for c in emu.calls()[start:] if c["service"] == "kubernetes"]
    assert logged == [("kubernetes", "CreateNamespace", 201), ("kubernetes", "ListNamespaces", 200),
                      ("kubernetes", "GetNamespace", 200), ("kubernetes", "PatchNamespace", 200),
                      ("kubernetes", "DeleteNamespace", 200)]
    endpoint = cluster.describe_cluster(name=CLUSTER)["cluster"]["endpoint"]
    emu.config(fault_rate=1.0, seed=3)
    seen = set()
    for _ in range(12):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(endpoint + "/api/v1/namespaces", timeout=10)
        seen.add((err.value.code, json.loads(err.value.read())["reason"]))
    emu.config(fault_rate=0.0)
    assert seen == {(429, "TooManyRequests"), (500, "InternalError")}


def test_a_deleted_cluster_takes_its_api_with_it(emu, cluster):
    token = eks_token(emu, CLUSTER)
    endpoint = cluster.describe_cluster(name=CLUSTER)["cluster"]["endpoint"]
    cluster.delete_cluster(name=CLUSTER)
    wait_for(lambda: not cluster.list_clusters()["clusters"])
    req = urllib.request.Request(endpoint + "/api/v1/namespaces", headers={"Authorization": f"Bearer {token}"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=10)
    assert err.value.code == 404
