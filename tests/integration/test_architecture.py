"""The checked-in architecture picture's source is what `infra graph` prints for the default
config; `infra graph` needs no AWS at all."""

import os
import subprocess

from support import ROOT

DOT = os.path.join(ROOT, "docs", "architecture.dot")
DEFAULT = os.path.join(ROOT, "src", "config", "default.yaml")


def infra_graph(*args):
    binary = os.environ.get("INFRA_BIN", os.path.join(ROOT, "target", "debug", "infra"))
    # No credentials and an endpoint nobody listens on: any AWS call would fail the command.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL="http://127.0.0.1:9", AWS_EC2_METADATA_DISABLED="true",
               AWS_CONFIG_FILE="/nonexistent", AWS_SHARED_CREDENTIALS_FILE="/nonexistent")
    return subprocess.run([binary, "graph", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_docs_architecture_dot_is_what_infra_graph_prints():
    r = infra_graph("--config", DEFAULT)
    assert r.returncode == 0, r.stderr
    with open(DOT) as f:
        checked_in = f.read()
    assert r.stdout == checked_in, (
        "docs/architecture.dot (the source of Arquitectura.png) is out of date with "
        "`infra graph`: run scripts/architecture and commit both files")


def test_graph_is_deterministic_and_clusters_every_area():
    first, second = infra_graph("--config", DEFAULT), infra_graph("--config", DEFAULT)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    for area in ("network", "iam", "eks", "alb", "ecr", "codebuild"):
        assert f'subgraph "cluster_{area}"' in first.stdout, area
    assert '"vpc" -> "subnet/public/a";' in first.stdout
    assert '"eks/cluster" [label="eks/cluster\\neks_cluster"];' in first.stdout


def test_graph_follows_the_config(tmp_path):
    with open(DEFAULT) as f:
        config = f.read()
    path = tmp_path / "infra.yaml"
    path.write_text(config.replace("nat: single", "nat: per-az")
                    .replace("certificate_arn: null",
                             "certificate_arn: arn:aws:acm:us-east-1:123456789012:certificate/0c9a6bd3-8c0e-4c7c-9d0f-3f6f1b6e2a41"))
    r = infra_graph("--config", str(path))
    assert r.returncode == 0, r.stderr
    assert '"nat/b" [label=' in r.stdout and '"listener/https" [label=' in r.stdout


def test_bad_config_is_refused(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("stack: [oops\n")
    r = infra_graph("--config", str(path))
    assert r.returncode == 1 and "bad.yaml" in r.stderr and r.stdout == ""
