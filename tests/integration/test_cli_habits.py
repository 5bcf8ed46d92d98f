"""What people coming from Terraform and eksctl type, and what infra answers: a config written
where --config says, a missing file said once with a hint, every missing key at once, -q that is
quiet, Terraform's one-dash flags, a closed pipe, the plan's counts in JSON, `infra list`, and the
reviewed-plan workflow (plan --out in the pull request, apply the file on merge)."""

import json
import os
import subprocess

from conftest import writes


def test_init_writes_where_config_says_and_a_missing_file_is_said_once_with_a_hint(infra):
    r = infra("init", "--config", "prod.yaml")
    assert r.code == 0, r.err
    assert os.path.exists(os.path.join(infra.workdir, "prod.yaml"))
    assert not os.path.exists(os.path.join(infra.workdir, "infra.yaml"))
    assert "infra plan --config prod.yaml" in r.out, r.out
    assert infra("init", "--config", "prod.yaml").code == 1  # no overwrite without --force

    r = infra("plan", "--config", "staging.yaml")
    assert r.code == 1
    assert r.err.count("No such file or directory") == 1, r.err
    assert "infra init --config staging.yaml" in r.err, r.err
    assert infra.emu.calls() == []


def test_every_missing_key_is_named_in_one_run(infra):
    infra.write_config("stack: demo\ntags: {}\nnetwork:\n  zones:\n    - name: us-east-1a\n      public: 10.0.0.0/24\n")
    r = infra("plan")
    assert r.code == 1
    for key in ("region", "network.vpc_cidr", "network.zones[0].private_app", "network.zones[0].private_data"):
        assert f"{key}: missing required field" in r.err, r.err
    assert "(4 problems)" in r.err and "Nothing was sent to AWS." in r.err, r.err
    assert infra.emu.calls() == []


def test_terraform_one_dash_flags_get_the_right_spelling_and_change_nothing(infra):
    for args, right in [
        (("apply", "-auto-approve"), "--auto-approve"),
        (("plan", "-detailed-exitcode"), "--detailed-exitcode"),
        (("destroy", "-lock-timeout=5m"), "--lock-timeout=5m"),
    ]:
        r = infra(*args)
        assert r.code == 2, (args, r.err)
        assert f"`{right}`" in r.err and "one dash" in r.err, r.err
    assert infra.emu.calls() == []


def test_quiet_plan_says_nothing_json_carries_counts_and_warnings_and_markdown_is_a_pr_comment(infra):
    r = infra("plan", "-q", "--detailed-exitcode")
    assert (r.code, r.out, r.err) == (2, "", "")

    plan = infra("plan", "--json").json()
    assert plan["summary"] == {"create": 47, "update": 0, "replace": 0, "delete": 0}, plan["summary"]
    assert any("0.0.0.0/0" in w for w in plan["warnings"]), plan["warnings"]
    assert len(plan["changes"]) == 47

    md = infra("plan", "--format", "markdown")
    assert md.code == 0, md.err
    lines = md.out.splitlines()
    assert lines[0] == "### infra plan: stack `grpc-eks`"
    assert lines[2].startswith("> **Warning:** eks.public_access_cidrs includes 0.0.0.0/0"), md.out[:500]
    assert "| 47 | 0 | 0 | 0 |" in md.out and "<details><summary>Attribute changes (47 resources)</summary>" in md.out


def test_a_reader_that_stops_early_is_not_an_error(infra):
    # `infra plan --json | head -c 200`: head exits, infra's next write meets a closed pipe.
    shell = f"'{infra.bin}' plan --json | head -c 200 >/dev/null; echo \"${{PIPESTATUS[0]}}\""
    p = subprocess.run(["bash", "-c", shell], cwd=infra.workdir, env=infra.env(),
                       capture_output=True, text=True, timeout=120)
    assert p.stdout.strip() == "0", p.stdout + p.stderr
    assert "panicked" not in p.stderr and "Broken pipe" not in p.stderr, p.stderr


def test_list_shows_what_the_stack_owns(infra, emulator):
    r = infra("list")
    assert (r.code, r.out) == (0, ""), r.err
    assert infra("apply", "--auto-approve", "-q", timeout=600).code == 0
    before = len(emulator.calls())
    rows = infra("list", "--json").json()
    assert writes(emulator.calls()[before:]) == []
    assert len(rows) == 47
    vpc = emulator.client("ec2").describe_vpcs(Filters=[{"Name": "tag:infra:id", "Values": ["vpc"]}])["Vpcs"]
    assert {"id": "vpc", "kind": "vpc", "physical_id": vpc[0]["VpcId"]} in rows
    text = infra("list").out.splitlines()
    assert len(text) == 47 and any(line.split() == ["vpc", "vpc", vpc[0]["VpcId"]] for line in text)


def test_a_saved_plan_applies_exactly_and_is_refused_once_the_account_or_config_changed(infra, ec2):
    # In the pull request: plan --out; on merge: apply the file, no prompt (stdin is not a terminal).
    r = infra("plan", "--out", "pr.json")
    assert r.code == 0, r.err
    assert "infra apply pr.json" in r.err
    with open(os.path.join(infra.workdir, "pr.json")) as f:
        text = f.read()
    assert json.loads(text)["plan"]["stack"] == "grpc-eks"
    assert "testing" not in text  # the credentials in use (AWS_SECRET_ACCESS_KEY) never reach it
    r = infra("apply", "pr.json", timeout=600)
    assert r.code == 0, r.err[-3000:]
    assert "47 created" in r.out
    assert infra("plan", "--detailed-exitcode").code == 0

    # Someone changes the account between the review and the merge: refused, nothing changed.
    assert infra("plan", "--out", "next.json").code == 0
    subnet = ec2.describe_subnets(Filters=[{"Name": "tag:infra:id", "Values": ["subnet/public/a"]}])["Subnets"][0]
    ec2.create_tags(Resources=[subnet["SubnetId"]], Tags=[{"Key": "owner", "Value": "someone"}])
    before = len(infra.mutating_calls())
    r = infra("apply", "next.json")
    assert r.code == 1
    assert "no longer holds" in r.err and f"subnet/public/a (subnet {subnet['SubnetId']}): changed" in r.err, r.err
    assert len(infra.mutating_calls()) == before

    # Or the config: refused too.
    assert infra("plan", "--out", "again.json").code == 0
    infra.write_config(infra.default_config().replace("tags:\n", "tags:\n  team: platform\n", 1))
    r = infra("apply", "again.json")
    assert r.code == 1 and "the config is not the one the plan was made from" in r.err, r.err
    assert len(infra.mutating_calls()) == before

    # A replacement is said above the prompt, with what it does to capacity.
    infra.write_config(infra.default_config().replace("t3.medium", "t3.large"))
    r = infra("apply")
    assert r.code == 1 and "refusing to change the account without confirmation" in r.err, r.err
    warned = [line for line in r.out.splitlines() if line.startswith("Warning: eks/nodegroup is replaced")]
    assert warned and "new group first, no gap in capacity" in warned[0], r.out[-2000:]


def test_target_limits_plan_apply_and_destroy_to_a_resource_and_its_chain(infra, ec2):
    plan = infra("plan", "--json", "--target", "subnet/public/a").json()
    assert sorted(c["id"] for c in plan["changes"] if c["action"] != "no-op") == ["subnet/public/a", "vpc"]
    assert plan["summary"]["create"] == 2

    r = infra("apply", "--auto-approve", "--target", "subnet/public/a")
    assert r.code == 0 and "2 created" in r.out, r.out[-2000:] + r.err[-2000:]
    owned = [{"Name": "tag:infra:stack", "Values": ["grpc-eks"]}]
    assert len(ec2.describe_vpcs(Filters=owned)["Vpcs"]) == 1
    assert len(ec2.describe_subnets(Filters=owned)["Subnets"]) == 1

    # Destroy the other way round: the target and what needs it, so the VPC stays.
    r = infra("destroy", "--auto-approve", "--target", "subnet/public/a")
    assert r.code == 0 and "1 deleted" in r.out, r.out[-2000:] + r.err[-2000:]
    assert ec2.describe_subnets(Filters=owned)["Subnets"] == []
    assert len(ec2.describe_vpcs(Filters=owned)["Vpcs"]) == 1

    r = infra("plan", "--target", "subnet/dmz/a")
    assert r.code == 1 and "--target subnet/dmz/a: no such resource" in r.err, r.err
