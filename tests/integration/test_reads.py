"""Plan's reads are bounded by the stack: the same calls whatever else the account holds."""

from conftest import account_calls
from support import fill_account

STACK = "grpc-eks"

# Enough foreign resources for several pages of every account-wide list call: IAM lists 100
# roles a page, DescribeTargetGroups up to 400 groups, DescribeRepositories 100 repositories.
FOREIGN = {"roles": 230, "target_groups": 420, "repositories": 120, "vpcs": 12}


def plan_calls(infra):
    before = len(infra.emu.calls())
    plan = infra("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.out + plan.err
    return [c["action"] for c in account_calls(infra.emu.calls()[before:])]


def test_plan_makes_the_same_calls_in_a_noisy_account(infra, emulator):
    assert infra("apply", "--auto-approve").code == 0
    clean = plan_calls(infra)
    fill_account(emulator, **FOREIGN)
    noisy = plan_calls(infra)
    assert sorted(noisy) == sorted(clean), (len(clean), len(noisy))
    # Nothing that pages through the whole account.
    assert "GetAccountAuthorizationDetails" not in noisy and "ListRoles" not in noisy
    # Foreign resources are not the stack's: destroy leaves every one of them.
    assert infra("destroy", "--auto-approve").code == 0
    iam = emulator.client("iam")
    roles = [r["RoleName"] for p in iam.get_paginator("list_roles").paginate() for r in p["Roles"]]
    assert sum(r.startswith("other-team-role-") for r in roles) == FOREIGN["roles"]
    tgs = [t for p in emulator.client("elbv2").get_paginator("describe_target_groups").paginate()
           for t in p["TargetGroups"]]
    assert len(tgs) == FOREIGN["target_groups"]
