"""`infra trigger-build`: refuses cleanly before apply, follows a build to success, and names the
phase a failed build stopped in. Builds are checked with boto3."""

import json
import re

STACK = "grpc-eks"


def test_trigger_build_before_apply_says_to_apply_first(infra):
    before = len(infra.mutating_calls())
    r = infra("trigger-build")
    assert r.code == 1
    assert f"CodeBuild project {STACK} does not exist" in r.err, r.err
    assert "infra apply" in r.err
    # StartBuild was refused; nothing else was attempted.
    assert [c["action"] for c in infra.mutating_calls()[before:]] == ["StartBuild"]


def test_build_of_the_applied_stack_is_followed_to_success(infra, emulator):
    assert infra("apply", "--auto-approve", timeout=600).code == 0
    r = infra("trigger-build", "--wait", "--source-version", "release-1", "--env", "IMAGE_TAG=v1",
              timeout=600)
    assert r.code == 0, r.out + r.err
    for phase in ("SUBMITTED", "PROVISIONING", "DOWNLOAD_SOURCE", "PRE_BUILD", "BUILD", "POST_BUILD"):
        assert f"  {phase}" in r.out, r.out
    assert "SUCCEEDED: build" in r.out
    assert f"Logs: CloudWatch group /aws/codebuild/{STACK}" in r.out
    # The phase that runs is said when it starts, so a long BUILD never looks like a hang.
    assert re.search(r"^  BUILD +running \(build at \d+s\)$", r.out, re.M), r.out
    assert r.out.index("  BUILD              running") < r.out.index("  BUILD              SUCCEEDED"), r.out

    codebuild = emulator.client("codebuild")
    [build_id] = codebuild.list_builds_for_project(projectName=STACK)["ids"]
    assert build_id in r.out
    [build] = codebuild.batch_get_builds(ids=[build_id])["builds"]
    assert build["buildStatus"] == "SUCCEEDED"
    assert build["sourceVersion"] == "release-1"


def test_failed_build_exits_non_zero_naming_the_phase(infra, emulator):
    # The project alone is enough to start a build; a role CodeBuild can assume comes first.
    iam = emulator.client("iam")
    role = iam.create_role(RoleName="builder", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"},
                       "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    emulator.client("codebuild").create_project(
        name=STACK, source={"type": "GITHUB", "location": "https://github.com/example/app.git"}, artifacts={"type": "NO_ARTIFACTS"},
        environment={"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
                     "computeType": "BUILD_GENERAL1_SMALL"},
        serviceRole=role)
    emulator.config(codebuild_fail_phase="BUILD")
    r = infra("trigger-build", "--wait", timeout=600)
    assert r.code == 1, r.out + r.err
    assert "FAILED: build" in r.out and "in phase BUILD (COMMAND_EXECUTION_ERROR" in r.out, r.out
    assert "Logs: CloudWatch group" in r.out


def test_bad_env_override_is_refused_before_any_call(infra):
    before = len(infra.emu.calls())
    r = infra("trigger-build", "--env", "NOEQUALS")
    assert r.code == 2
    assert "NOEQUALS" in r.err and "KEY=VALUE" in r.err
    assert len(infra.emu.calls()) == before
