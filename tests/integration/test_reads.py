"""Plan's reads are bounded by the stack: the same calls whatever else the account holds."""

import json

STACK = "grpc-eks"

# Enough foreign resources for several pages of every account-wide list call: IAM lists 100
# roles a page, DescribeTargetGroups up to 400 groups, DescribeRepositories 100 repositories.
FOREIGN_ROLES = 230
FOREIGN_TARGET_GROUPS = 420
FOREIGN_REPOSITORIES = 120
FOREIGN_VPCS = 12

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})


def fill_account(emulator):
    """Resources of other teams: roles with policies, target groups, repositories, VPCs."""
    iam, elb, ecr, ec2 = (emulator.client(s) for s in ("iam", "elbv2", "ecr", "ec2"))
    for i in range(FOREIGN_ROLES):
        name = f"other-team-role-{i}"
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST, Description="not ours")
        iam.put_role_policy(RoleName=name, PolicyName="read", PolicyDocument=POLICY)
    vpcs = []
    for i in range(FOREIGN_VPCS):
        vpc = ec2.create_vpc(CidrBlock=f"172.{16 + i}.0.0/16")["Vpc"]["VpcId"]
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"172.{16 + i}.1.0/24")
        vpcs.append(vpc)
    for i in range(FOREIGN_TARGET_GROUPS):
        elb.create_target_group(Name=f"other-tg-{i}", Protocol="HTTP", Port=80,
                                VpcId=vpcs[i % len(vpcs)], TargetType="instance")
    for i in range(FOREIGN_REPOSITORIES):
        ecr.create_repository(repositoryName=f"other-team/repo-{i}")


def plan_calls(infra):
    before = len(infra.emu.calls())
    plan = infra("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.out + plan.err
    return [c["action"] for c in infra.emu.calls()[before:]]


def test_plan_makes_the_same_calls_in_a_noisy_account(infra, emulator):
    assert infra("apply", "--auto-approve").code == 0
    clean = plan_calls(infra)
    fill_account(emulator)
    noisy = plan_calls(infra)
    assert sorted(noisy) == sorted(clean), (len(clean), len(noisy))
    # Nothing that pages through the whole account.
    assert "GetAccountAuthorizationDetails" not in noisy and "ListRoles" not in noisy
    # Foreign resources are not the stack's: destroy leaves every one of them.
    assert infra("destroy", "--auto-approve").code == 0
    iam = emulator.client("iam")
    roles = [r["RoleName"] for p in iam.get_paginator("list_roles").paginate() for r in p["Roles"]]
    assert sum(r.startswith("other-team-role-") for r in roles) == FOREIGN_ROLES
    tgs = [t for p in emulator.client("elbv2").get_paginator("describe_target_groups").paginate()
           for t in p["TargetGroups"]]
    assert len(tgs) == FOREIGN_TARGET_GROUPS
