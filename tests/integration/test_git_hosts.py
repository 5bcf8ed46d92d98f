"""Builds from every Git host (README, `codebuild.repository_url`, `codebuild.connection_arn`):
one apply and three re-applies move the project between CodeCommit, GitHub and GitLab through a
connection, and public GitHub; each time boto3 reads the project's source and the build role's
inline policy, which grants exactly what that host needs, and a second plan is clean."""

import json
import urllib.parse

STACK = "grpc-eks"
REGION = "us-east-1"
DEFAULT_URL = "https://github.com/your-org/grpc-eks.git"
CODECOMMIT = f"https://git-codecommit.{REGION}.amazonaws.com/v1/repos/grpc-app"
CONNECTION = f"arn:aws:codeconnections:{REGION}:123456789012:connection/0b1c2d3e-aaaa-bbbb-cccc-000000000001"
# Made before the rename: the role's actions take its prefix.
LEGACY = "arn:aws:codestar-connections:eu-west-1:123456789012:connection/0b1c2d3e-aaaa-bbbb-cccc-000000000002"
SOURCE_PREFIXES = ("codecommit:", "codeconnections:", "codestar-connections:")


def with_source(config: str, url: str, connection: str | None) -> str:
    assert f"repository_url: {DEFAULT_URL}" in config and "connection_arn: null" in config
    return (config.replace(f"repository_url: {DEFAULT_URL}", f"repository_url: {url}", 1)
            .replace("connection_arn: null", f"connection_arn: {connection or 'null'}", 1))


def doc(policy):
    return json.loads(urllib.parse.unquote(policy)) if isinstance(policy, str) else policy


def source_statements(iam) -> list[dict]:
    """The build role's statements about its source, as IAM stores them."""
    policy = iam.get_role_policy(RoleName=f"{STACK}-codebuild", PolicyName="deploy")
    out = []
    for s in doc(policy["PolicyDocument"])["Statement"]:
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        if any(a.startswith(SOURCE_PREFIXES) for a in actions):
            out.append(s)
    return out


def project_source(codebuild) -> dict:
    [project] = codebuild.batch_get_projects(names=[STACK])["projects"]
    return project["source"]


def apply_clean(infra):
    r = infra("apply", "--auto-approve", timeout=900)
    assert r.code == 0, r.out + r.err
    plan = infra("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.out + plan.err


def test_each_git_host_gets_its_source_auth_and_exactly_its_grant(infra, emulator):
    codebuild, iam = emulator.client("codebuild"), emulator.client("iam")
    account = emulator.client("sts").get_caller_identity()["Account"]
    config = infra.default_config()

    # CodeCommit: no auth; the role may pull that repository, nothing else.
    infra.write_config(with_source(config, CODECOMMIT, None))
    apply_clean(infra)
    source = project_source(codebuild)
    assert (source["type"], source["location"], source.get("auth")) == ("CODECOMMIT", CODECOMMIT, None)
    assert source_statements(iam) == [{
        "Sid": "PullItsRepository", "Effect": "Allow", "Action": ["codecommit:GitPull"],
        "Resource": f"arn:aws:codecommit:{REGION}:{account}:grpc-app",
    }]

    # GitHub through a connection: the source names it; the role may use that one only.
    github = "https://github.com/org/app.git"
    infra.write_config(with_source(config, github, CONNECTION))
    apply_clean(infra)
    source = project_source(codebuild)
    assert (source["type"], source["location"]) == ("GITHUB", github)
    assert source["auth"] == {"type": "CODECONNECTIONS", "resource": CONNECTION}
    assert source_statements(iam) == [{
        "Sid": "UseItsConnection", "Effect": "Allow",
        "Action": ["codeconnections:GetConnection", "codeconnections:GetConnectionToken"],
        "Resource": CONNECTION,
    }]

    # GitLab through a legacy CodeStar connection of another region.
    gitlab = "https://gitlab.com/org/app.git"
    infra.write_config(with_source(config, gitlab, LEGACY))
    apply_clean(infra)
    source = project_source(codebuild)
    assert (source["type"], source["location"]) == ("GITLAB", gitlab)
    assert source["auth"] == {"type": "CODECONNECTIONS", "resource": LEGACY}
    assert source_statements(iam) == [{
        "Sid": "UseItsConnection", "Effect": "Allow",
        "Action": ["codestar-connections:GetConnection", "codestar-connections:GetConnectionToken"],
        "Resource": LEGACY,
    }]

    # Public GitHub: no auth, no source grant left behind.
    infra.write_config(config)
    apply_clean(infra)
    source = project_source(codebuild)
    assert (source["type"], source["location"], source.get("auth")) == ("GITHUB", DEFAULT_URL, None)
    assert source_statements(iam) == []


def test_a_connection_for_codecommit_is_refused_before_any_call(infra):
    config = with_source(infra.default_config(), CODECOMMIT, CONNECTION)
    infra.write_config(config, "bad.yaml")
    before = len(infra.emu.calls())
    r = infra("plan", "--config", "bad.yaml")
    assert r.code != 0
    assert "codebuild.connection_arn" in r.err and "codecommit:GitPull" in r.err, r.err
    assert len(infra.emu.calls()) == before
