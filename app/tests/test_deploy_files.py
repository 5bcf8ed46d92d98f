"""Static checks of what CodeBuild deploys: manifests/, buildspec.yml, Dockerfile.

The values pinned here (namespace, names, ports, NodePort 30080, /healthz) are the contract with
the infra tool's ALB and target group; changing one means changing the other side too.
"""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = sorted((ROOT / "manifests").glob("*.yaml"))
ACCOUNT_ID = re.compile(r"(?<!\d)\d{12}(?!\d)")


def docs():
    return [d for f in MANIFESTS for d in yaml.safe_load_all(f.read_text()) if d is not None]


def find(kind, name):
    [obj] = [d for d in docs() if d["kind"] == kind and d["metadata"]["name"] == name]
    return obj


def containers(deployment):
    spec = deployment["spec"]["template"]["spec"]
    return spec.get("initContainers", []) + spec["containers"]


def test_manifest_files_parse():
    # No Namespace: `infra apply` makes it (service.namespace); the build role could not.
    assert [f.name for f in MANIFESTS] == ["client.yaml", "server.yaml"]
    for d in docs():
        assert {"apiVersion", "kind", "metadata"} <= d.keys()


def test_everything_lives_in_the_namespace():
    for d in docs():
        assert d["kind"] != "Namespace", d["metadata"]["name"]
        assert d["metadata"]["namespace"] == "grpc-app", d["metadata"]["name"]


def test_image_placeholder_is_the_only_image():
    images = [c["image"] for d in docs() if d["kind"] == "Deployment" for c in containers(d)]
    assert images == ["${IMAGE}", "${IMAGE}"]
    # Nothing else may look like an image reference or a second placeholder.
    for f in MANIFESTS:
        assert set(re.findall(r"\$\{\w+\}", f.read_text())) <= {"${IMAGE}"}, f.name


@pytest.mark.parametrize("path", [*MANIFESTS, ROOT / "buildspec.yml", ROOT / "Dockerfile"], ids=lambda p: p.name)
def test_no_account_id_written_down(path):
    assert not ACCOUNT_ID.findall(path.read_text())


def test_server_service_and_deployment():
    svc = find("Service", "grpc-server")
    assert svc["spec"]["type"] == "ClusterIP"
    assert svc["spec"]["selector"] == {"app.kubernetes.io/name": "grpc-server"}
    assert [(p["port"], p["targetPort"]) for p in svc["spec"]["ports"]] == [(9000, 9000)]

    dep = find("Deployment", "grpc-server")
    [c] = containers(dep)
    assert dep["spec"]["replicas"] == 2
    assert [p["containerPort"] for p in c["ports"]] == [9000]
    assert c["readinessProbe"]["grpc"]["port"] == 9000
    assert c["livenessProbe"]["grpc"]["port"] == 9000


def test_client_service_and_deployment():
    svc = find("Service", "grpc-client")
    assert svc["spec"]["type"] == "NodePort"
    assert svc["spec"]["selector"] == {"app.kubernetes.io/name": "grpc-client"}
    assert [(p["port"], p["targetPort"], p["nodePort"]) for p in svc["spec"]["ports"]] == [(80, 8080, 30080)]

    dep = find("Deployment", "grpc-client")
    [c] = containers(dep)
    assert dep["spec"]["replicas"] == 2
    assert c["command"] == ["python", "client.py"]
    assert [p["containerPort"] for p in c["ports"]] == [8080]
    assert c["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": 8080}
    assert c["livenessProbe"]["httpGet"]["port"] == 8080
    env = {e["name"]: e["value"] for e in c["env"]}
    assert env["GRPC_SERVER"] == "grpc-server:9000"


@pytest.mark.parametrize("name", ["grpc-server", "grpc-client"])
def test_deployment_hardening(name):
    dep = find("Deployment", name)
    labels = {"app.kubernetes.io/name": name}
    assert dep["spec"]["selector"]["matchLabels"] == labels
    assert labels.items() <= dep["spec"]["template"]["metadata"]["labels"].items()
    pod = dep["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert isinstance(pod["securityContext"]["runAsUser"], int) and pod["securityContext"]["runAsUser"] > 0
    for c in containers(dep):
        sc = c["securityContext"]
        assert sc["allowPrivilegeEscalation"] is False
        assert sc["readOnlyRootFilesystem"] is True
        assert sc["capabilities"]["drop"] == ["ALL"]
        assert {"cpu", "memory"} <= c["resources"]["requests"].keys()
        assert {"cpu", "memory"} <= c["resources"]["limits"].keys()


def test_termination_grace_covers_prestop_and_server_drain():
    dep = find("Deployment", "grpc-server")
    [c] = containers(dep)
    prestop = int(c["lifecycle"]["preStop"]["exec"]["command"][-1])
    drain = float({e["name"]: e["value"] for e in c["env"]}["GRACE_PERIOD"])
    assert dep["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > prestop + drain


def test_dockerfile_runs_as_numeric_user_matching_the_manifests():
    text = (ROOT / "Dockerfile").read_text()
    assert "ARG BASE_IMAGE=python:3.11-slim" in text
    [user] = re.findall(r"^USER (\S+)$", text, flags=re.M)
    uid, _, gid = user.partition(":")
    for name in ("grpc-server", "grpc-client"):
        pod_sc = find("Deployment", name)["spec"]["template"]["spec"]["securityContext"]
        assert (pod_sc["runAsUser"], pod_sc["runAsGroup"]) == (int(uid), int(gid))
    assert re.search(r'^CMD \["python", "server.py"\]$', text, flags=re.M)


def test_buildspec():
    spec = yaml.safe_load((ROOT / "buildspec.yml").read_text())
    assert str(spec["version"]) == "0.2"
    phases = spec["phases"]
    script = lambda phase: "\n".join(phases[phase]["commands"])  # noqa: E731
    # A failed login or build must stop the build before anything is pushed or deployed.
    assert phases["pre_build"]["on-failure"] == phases["build"]["on-failure"] == "ABORT"
    assert "aws ecr get-login-password" in script("pre_build")
    assert "CODEBUILD_RESOLVED_SOURCE_VERSION" in script("pre_build")
    assert "docker build" in script("build")
    post = script("post_build")
    apply = 'kubectl apply -n "$K8S_NAMESPACE" -f rendered/\n'
    for step in ("docker push", "aws eks update-kubeconfig", apply,
                 "rollout status deployment/grpc-server", "rollout status deployment/grpc-client"):
        assert step in post
    # Into the namespace infra made, and only after checking every object names it.
    assert "namespace.yaml" not in post
    assert post.index('want="$K8S_NAMESPACE"') < post.index(apply)
    for command in phases["pre_build"]["commands"] + phases["build"]["commands"] + phases["post_build"]["commands"]:
        assert command.startswith("set -euo pipefail"), command  # a failing step fails the build
