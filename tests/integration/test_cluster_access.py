"""The CodeBuild role's access to the cluster is the narrowest that deploys the service:
AmazonEKSEditPolicy scoped to the service's namespace, which `infra apply` itself makes (with its
Pod Security labels) through the cluster's Kubernetes API. Checked with boto3 and through the
emulator's Kubernetes API with a token made as `aws eks get-token` makes it, never through infra."""

import pytest

from conftest import writes
from support import kube, wait_for

STACK = "grpc-eks"
NAMESPACE = "grpc-app"
EDIT = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"
LABELS = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
    "app.kubernetes.io/managed-by": "infra",
    "infra/stack": STACK,
    "kubernetes.io/metadata.name": NAMESPACE,  # the API server's own
}
MERGE_PATCH = "application/merge-patch+json"


@pytest.fixture
def applied(infra):
    r = infra("apply", "--auto-approve", timeout=600)
    assert r.code == 0, r.out[-3000:] + r.err[-3000:]
    return r


def namespace(emulator, name=NAMESPACE):
    status, body = kube(emulator, STACK, "GET", f"/api/v1/namespaces/{name}")
    return body if status == 200 else None


def changes(calls):
    return [(c["service"], c["action"]) for c in writes(calls)]


def test_build_role_may_edit_only_the_namespace_infra_made_and_drift_is_repaired(applied, infra, emulator):
    eks, iam = emulator.client("eks"), emulator.client("iam")

    # The namespace exists with its Pod Security and ownership labels; infra made it through
    # the Kubernetes API (the call log has the create, logged as service "kubernetes").
    ns = namespace(emulator)
    assert ns is not None and ns["status"]["phase"] == "Active"
    assert ns["metadata"]["labels"] == LABELS
    assert ("kubernetes", "CreateNamespace") in changes(emulator.calls())

    # The CodeBuild role's entry grants exactly AmazonEKSEditPolicy, in that namespace only.
    role = iam.get_role(RoleName=f"{STACK}-codebuild")["Role"]["Arn"]
    policies = eks.list_associated_access_policies(clusterName=STACK, principalArn=role)["associatedAccessPolicies"]
    assert [(p["policyArn"], p["accessScope"]) for p in policies] == [
        (EDIT, {"type": "namespace", "namespaces": [NAMESPACE]})]
    # The build learns the namespace from the project.
    [project] = emulator.client("codebuild").batch_get_projects(names=[STACK])["projects"]
    env = {v["name"]: v["value"] for v in project["environment"]["environmentVariables"]}
    assert env["K8S_NAMESPACE"] == NAMESPACE

    # A second apply changes nothing, in AWS or in the cluster.
    before = len(emulator.calls())
    again = infra("apply", "--auto-approve")
    assert again.code == 0 and "No changes" in again.out, again.out[-2000:]
    assert changes(emulator.calls()[before:]) == []

    # Labels changed and added by hand, and the scope widened by hand: plan shows both, apply
    # puts them back.
    status, _ = kube(emulator, STACK, "PATCH", f"/api/v1/namespaces/{NAMESPACE}",
                     {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "privileged",
                                              "hand-made": "yes"}}}, content_type=MERGE_PATCH)
    assert status == 200
    eks.associate_access_policy(clusterName=STACK, principalArn=role, policyArn=EDIT,
                                accessScope={"type": "cluster"})
    plan = infra("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.out[-2000:] + plan.err[-2000:]
    assert f"~   k8s/namespace/{NAMESPACE}" in plan.out, plan.out
    assert "~   eks/access/codebuild" in plan.out, plan.out
    assert "Plan: 0 to add, 2 to change, 0 to destroy." in plan.out, plan.out
    r = infra("apply", "--auto-approve")
    assert r.code == 0, r.out[-2000:] + r.err[-2000:]
    assert namespace(emulator)["metadata"]["labels"] == LABELS
    policies = eks.list_associated_access_policies(clusterName=STACK, principalArn=role)["associatedAccessPolicies"]
    assert [(p["policyArn"], p["accessScope"]) for p in policies] == [
        (EDIT, {"type": "namespace", "namespaces": [NAMESPACE]})]
    assert infra("plan", "--detailed-exitcode").code == 0

    # Destroy removes the namespace (then everything else); the cluster's API goes with it.
    start = len(emulator.calls())
    r = infra("destroy", "--auto-approve", timeout=600)
    assert r.code == 0, r.out[-2000:] + r.err[-2000:]
    assert ("kubernetes", "DeleteNamespace") in changes(emulator.calls()[start:])
    assert STACK not in eks.list_clusters()["clusters"]
    assert [n for n in iam.list_roles()["Roles"] if n["RoleName"].startswith(f"{STACK}-")] == []
    assert infra("plan", "--detailed-exitcode").code == 2


def test_a_namespace_someone_else_made_is_a_conflict_until_handed_over(applied, infra, emulator):
    # Someone replaces the stack's namespace with one of their own under the same name.
    assert kube(emulator, STACK, "DELETE", f"/api/v1/namespaces/{NAMESPACE}")[0] == 200
    wait_for(lambda: namespace(emulator) is None)  # Terminating for a moment
    status, body = kube(emulator, STACK, "POST", "/api/v1/namespaces",
                        {"metadata": {"name": NAMESPACE, "labels": {"team": "other"}}})
    assert status == 201, body

    plan = infra("plan")
    assert plan.code == 1, plan.out[-2000:] + plan.err[-2000:]
    assert f"!   k8s/namespace/{NAMESPACE}" in plan.out, plan.out
    before = len(infra.mutating_calls())
    r = infra("apply", "--auto-approve")
    assert r.code == 1 and "Nothing was changed" in r.err, r.out[-2000:] + r.err[-2000:]
    assert len(infra.mutating_calls()) == before
    assert namespace(emulator)["metadata"]["labels"]["team"] == "other"

    # Labelled as the stack's, it is adopted: apply brings its labels to the stack's.
    kube(emulator, STACK, "PATCH", f"/api/v1/namespaces/{NAMESPACE}",
         {"metadata": {"labels": {"infra/stack": STACK}}}, content_type=MERGE_PATCH)
    r = infra("apply", "--auto-approve")
    assert r.code == 0, r.out[-2000:] + r.err[-2000:]
    assert namespace(emulator)["metadata"]["labels"] == LABELS
