"""Static checks of what CodeBuild deploys: manifests/, buildspec.yml, Dockerfile.

The values pinned here (namespace, names, ports, NodePort 30080, /healthz) are the contract with
the infra tool's ALB and target group; changing one means changing the other side too.
"""

import re
import shutil
import subprocess
import sys
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


# --- the build's kubectl: the cluster's minor version ----------------------------------------
#
# The selection command runs as it is in buildspec.yml, with fake `aws`, `curl` and an image
# `kubectl` on PATH, and only the system tools it needs besides: the test machine's own
# kubectl, aws or curl must not leak in.

FAKE_KUBECTL = """#!/bin/sh
# `kubectl version --client [-o json]`, as kubectl prints it.
if [ "$3" = "-o" ]; then
  printf '{\\n  "clientVersion": {\\n    "major": "1",\\n    "gitVersion": "%s",\\n    "platform": "linux/amd64"\\n  }\\n}\\n' "{git}"
else
  echo "Client Version: {git}"
fi
"""

FAKE_AWS = """#!/bin/sh
case "$*" in
  "eks describe-cluster --name grpc-eks --region us-east-1 --query cluster.version --output text") echo "$FAKE_CLUSTER_VERSION" ;;
  *) echo "fake aws: unexpected call: $*" >&2; exit 2 ;;
esac
"""

FAKE_CURL = """#!{python}
# Serves dl.k8s.io from the test's fixtures; logs every URL asked for.
import hashlib, os, re, sys
args, out = sys.argv[1:], None
if "-fsSLo" in args:
    out = args[args.index("-fsSLo") + 1]
url = args[-1]
with open(os.environ["CURL_LOG"], "a") as log:
    log.write(url + "\\n")
kubectl = lambda v: {kubectl!r}.replace("{{git}}", v).encode()
m = re.fullmatch(r"https://dl\\.k8s\\.io/release/stable-(\\d+\\.\\d+)\\.txt", url)
if m:
    sys.stdout.write(os.environ["FAKE_STABLE"] + "\\n")
    sys.exit(0)
m = re.fullmatch(r"https://dl\\.k8s\\.io/release/(v[\\d.]+)/bin/linux/(amd64|arm64)/kubectl(\\.sha256)?", url)
if not m:
    sys.exit(22)
body = kubectl(m.group(1))
if m.group(3):
    digest = hashlib.sha256(body + os.environ.get("FAKE_TAMPER", "").encode()).hexdigest()
    sys.stdout.write(digest)
elif out:
    open(out, "wb").write(body)
"""


def kubectl_step():
    spec = yaml.safe_load((ROOT / "buildspec.yml").read_text())
    [step] = [c for c in spec["phases"]["post_build"]["commands"] if "kubectl version --client" in c]
    return step


def run_kubectl_step(tmp_path, cluster, image_kubectl=None, stable=None, tamper=""):
    """Runs the step; returns (exit code, stderr, URLs fetched, and what kubectl on PATH is
    and says after it)."""
    def script(path, text):
        path.write_text(text)
        path.chmod(0o755)

    fakes, image, system = tmp_path / "fakes", tmp_path / "image", tmp_path / "system"
    for d in (fakes, image, system):
        d.mkdir()
    script(fakes / "aws", FAKE_AWS)
    script(fakes / "curl", FAKE_CURL.format(python=sys.executable, kubectl=FAKE_KUBECTL))
    if image_kubectl:
        script(image / "kubectl", FAKE_KUBECTL.replace("{git}", image_kubectl))
    for tool in ("sed", "sha256sum", "mktemp", "chmod", "uname", "cat", "sh"):
        (system / tool).symlink_to(shutil.which(tool))
    log = tmp_path / "curl.log"
    log.touch()
    env = {
        "PATH": f"{fakes}:{image}:{system}", "TMPDIR": str(tmp_path), "CURL_LOG": str(log),
        "CLUSTER_NAME": "grpc-eks", "AWS_REGION": "us-east-1", "FAKE_CLUSTER_VERSION": cluster,
        "FAKE_STABLE": stable or "", "FAKE_TAMPER": tamper,
    }
    # What the later deploy commands, in the same shell, would run.
    after = '\nprintf "AFTER %s\\n" "$(command -v kubectl)" "$(kubectl version --client)"\n'
    proc = subprocess.run([shutil.which("bash"), "-c", kubectl_step() + after], env=env,
                          capture_output=True, text=True, timeout=60)
    after_lines = [l[len("AFTER "):] for l in proc.stdout.splitlines() if l.startswith("AFTER ")]
    return proc.returncode, proc.stderr, log.read_text().split(), after_lines


def test_build_kubectl_matches_the_cluster_when_the_image_has_an_old_one(tmp_path):
    # standard:7.0's kubectl 1.25 against a 1.31 cluster: outside the supported skew.
    rc, err, urls, after = run_kubectl_step(tmp_path, "1.31", image_kubectl="v1.25.7", stable="v1.31.4")
    assert rc == 0, err
    assert urls[:1] == ["https://dl.k8s.io/release/stable-1.31.txt"]
    assert any(u.endswith("/release/v1.31.4/bin/linux/amd64/kubectl")
               or u.endswith("/release/v1.31.4/bin/linux/arm64/kubectl") for u in urls)
    path, version = after
    assert not path.startswith(str(tmp_path / "image")), "the image's kubectl is still first on PATH"
    assert version == "Client Version: v1.31.4"


def test_build_kubectl_is_fetched_when_the_image_has_none(tmp_path):
    rc, err, urls, after = run_kubectl_step(tmp_path, "1.30", stable="v1.30.8")
    assert rc == 0, err
    assert after[1] == "Client Version: v1.30.8"


def test_build_kubectl_one_minor_ahead_is_still_replaced(tmp_path):
    # Within the skew, but the build pins to the cluster's own minor.
    rc, err, urls, after = run_kubectl_step(tmp_path, "1.31", image_kubectl="v1.32.1", stable="v1.31.4")
    assert rc == 0, err
    assert after[1] == "Client Version: v1.31.4"


def test_build_keeps_the_image_kubectl_of_the_cluster_minor(tmp_path):
    rc, err, urls, after = run_kubectl_step(tmp_path, "1.31", image_kubectl="v1.31.2-eks-7f9249a")
    assert rc == 0, err
    assert urls == [], "nothing to download"
    assert after == [str(tmp_path / "image" / "kubectl"), "Client Version: v1.31.2-eks-7f9249a"]


def test_build_kubectl_with_a_bad_checksum_fails_the_build(tmp_path):
    rc, err, urls, after = run_kubectl_step(tmp_path, "1.31", image_kubectl="v1.25.7",
                                            stable="v1.31.4", tamper="x")
    assert rc != 0
    assert "did NOT match" in err  # sha256sum --check refused it
    assert after == []


def test_build_kubectl_refuses_a_release_of_another_minor(tmp_path):
    rc, err, urls, after = run_kubectl_step(tmp_path, "1.31", image_kubectl="v1.25.7", stable="v1.3.0")
    assert rc != 0
    assert "names no 1.31 release" in err
