"""The whole stack in one apply, with IAM's strict principal check and propagation delay on,
checked with boto3; drift repaired; someone else's resource stops apply; destroy leaves nothing."""

import json
import urllib.parse

import pytest

from support import issued_certificate
from conftest import PLAN_CALLS, PLAN_CALLS_WITH_CERTIFICATE, account_calls

STACK = "grpc-eks"
OWNED = [{"Name": "tag:infra:stack", "Values": [STACK]}]
ROLES = {w: f"{STACK}-{w}" for w in ("cluster", "node", "codebuild")}


def tags_of(items):
    return {t["Key"]: t["Value"] for t in items}


def doc(d):
    return json.loads(urllib.parse.unquote(d)) if isinstance(d, str) else d


@pytest.fixture
def clients(emulator):
    return {s: emulator.client(s) for s in
            ("ec2", "iam", "eks", "elbv2", "autoscaling", "ecr", "codebuild", "sts")}


@pytest.fixture
def applied(infra, clients):
    infra.emu.config(iam_propagation=True)
    r = infra("apply", "--auto-approve", timeout=600)
    assert r.code == 0, r.out[-3000:] + r.err[-3000:]
    return r


def test_one_apply_creates_the_whole_stack_with_every_relation(applied, infra, clients):
    iam, eks, elb, ec2 = clients["iam"], clients["eks"], clients["elbv2"], clients["ec2"]
    account = clients["sts"].get_caller_identity()["Account"]
    roles = {w: iam.get_role(RoleName=n)["Role"] for w, n in ROLES.items()}
    for role in roles.values():
        assert tags_of(iam.list_role_tags(RoleName=role["RoleName"])["Tags"])["infra:stack"] == STACK

    # The CodeBuild role trusts CodeBuild and itself: the statement the original needed two applies for.
    trust = doc(roles["codebuild"]["AssumeRolePolicyDocument"])
    principals = [s["Principal"] for s in trust["Statement"]]
    assert {"Service": "codebuild.amazonaws.com"} in principals
    assert {"AWS": roles["codebuild"]["Arn"]} in principals

    attached = {w: sorted(p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=n)["AttachedPolicies"])
                for w, n in ROLES.items()}
    assert attached == {
        "cluster": ["AmazonEKSClusterPolicy"],
        "node": ["AmazonEC2ContainerRegistryReadOnly", "AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy"],
        "codebuild": [],
    }
    inline = doc(iam.get_role_policy(RoleName=ROLES["codebuild"], PolicyName="deploy")["PolicyDocument"])
    for st in inline["Statement"]:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        assert all(a != "*" and not a.endswith(":*") for a in actions), st

    subnets = {tags_of(s["Tags"])["infra:id"]: s["SubnetId"] for s in ec2.describe_subnets(Filters=OWNED)["Subnets"]}
    app = sorted(subnets[f"subnet/private-app/{z}"] for z in "ab")
    public = sorted(subnets[f"subnet/public/{z}"] for z in "ab")
    sgs = {tags_of(g["Tags"])["infra:id"]: g["GroupId"] for g in ec2.describe_security_groups(Filters=OWNED)["SecurityGroups"]}

    cluster = eks.describe_cluster(name=STACK)["cluster"]
    assert cluster["status"] == "ACTIVE"
    assert cluster["roleArn"] == roles["cluster"]["Arn"]
    assert sorted(cluster["resourcesVpcConfig"]["subnetIds"]) == app
    assert cluster["tags"]["infra:stack"] == STACK

    ng = eks.describe_nodegroup(clusterName=STACK, nodegroupName=f"{STACK}-nodes")["nodegroup"]
    assert ng["status"] == "ACTIVE"
    assert ng["nodeRole"] == roles["node"]["Arn"]
    assert sorted(ng["subnets"]) == app
    assert ng["scalingConfig"] == {"minSize": 1, "desiredSize": 1, "maxSize": 2}
    lt = ec2.describe_launch_template_versions(LaunchTemplateId=ng["launchTemplate"]["id"])["LaunchTemplateVersions"][0]
    assert sgs["sg/nodes"] in lt["LaunchTemplateData"]["SecurityGroupIds"]
    asg = ng["resources"]["autoScalingGroups"][0]["name"]

    entry = eks.describe_access_entry(clusterName=STACK, principalArn=roles["codebuild"]["Arn"])["accessEntry"]
    assert entry["principalArn"] == roles["codebuild"]["Arn"]
    assert eks.list_associated_access_policies(clusterName=STACK, principalArn=roles["codebuild"]["Arn"])["associatedAccessPolicies"]

    [lb] = elb.describe_load_balancers(Names=[f"{STACK}-alb"])["LoadBalancers"]
    assert lb["Scheme"] == "internet-facing" and lb["State"]["Code"] == "active"
    assert sorted(az["SubnetId"] for az in lb["AvailabilityZones"]) == public
    assert lb["SecurityGroups"] == [sgs["sg/alb"]]
    [tg] = elb.describe_target_groups(Names=[f"{STACK}-http"])["TargetGroups"]
    assert (tg["Port"], tg["Protocol"], tg["HealthCheckPath"]) == (30080, "HTTP", "/healthz")
    [listener] = elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    assert listener["Port"] == 80
    assert listener["DefaultActions"][0]["TargetGroupArn"] == tg["TargetGroupArn"]
    group = clients["autoscaling"].describe_auto_scaling_groups(AutoScalingGroupNames=[asg])["AutoScalingGroups"][0]
    assert tg["TargetGroupArn"] in group["TargetGroupARNs"]

    [repo] = clients["ecr"].describe_repositories(repositoryNames=[STACK])["repositories"]
    assert repo["imageScanningConfiguration"]["scanOnPush"] is True
    lifecycle = json.loads(clients["ecr"].get_lifecycle_policy(repositoryName=STACK)["lifecyclePolicyText"])
    assert lifecycle["rules"][0]["selection"]["countNumber"] == 10

    [project] = clients["codebuild"].batch_get_projects(names=[STACK])["projects"]
    assert project["serviceRole"] == roles["codebuild"]["Arn"]
    assert project["environment"]["privilegedMode"] is True
    env = {v["name"]: v["value"] for v in project["environment"]["environmentVariables"]}
    assert env == {"AWS_ACCOUNT_ID": account, "AWS_REGION": "us-east-1",
                   "REPOSITORY_URI": repo["repositoryUri"], "CLUSTER_NAME": STACK,
                   "K8S_NAMESPACE": "grpc-app", "BUILD_ROLE_ARN": roles["codebuild"]["Arn"]}

    plan = infra("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.out[-3000:] + plan.err[-2000:]


def test_plan_of_the_whole_stack_makes_its_bounded_reads(applied, infra):
    before = len(infra.emu.calls())
    assert infra("plan", "--detailed-exitcode").code == 0
    calls = account_calls(infra.emu.calls()[before:])
    assert len(calls) == PLAN_CALLS, [c["action"] for c in calls]


def test_drift_is_shown_and_repaired(applied, infra, clients):
    iam, eks = clients["iam"], clients["eks"]
    iam.update_assume_role_policy(RoleName=ROLES["codebuild"], PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    iam.detach_role_policy(RoleName=ROLES["node"], PolicyArn="arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy")
    eks.update_nodegroup_config(clusterName=STACK, nodegroupName=f"{STACK}-nodes",
                                scalingConfig={"minSize": 1, "desiredSize": 2, "maxSize": 2})

    plan = infra("plan", "--detailed-exitcode")
    assert plan.code == 2
    assert "~   trust/codebuild" in plan.out
    assert "+   attach/node/AmazonEKS_CNI_Policy" in plan.out
    assert "~   eks/nodegroup" in plan.out
    assert "Plan: 1 to add, 2 to change, 0 to destroy." in plan.out, plan.out

    r = infra("apply", "--auto-approve", timeout=600)
    assert r.code == 0, r.err[-3000:]
    trust = doc(iam.get_role(RoleName=ROLES["codebuild"])["Role"]["AssumeRolePolicyDocument"])
    assert len(trust["Statement"]) == 2
    names = [p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=ROLES["node"])["AttachedPolicies"]]
    assert "AmazonEKS_CNI_Policy" in names
    ng = eks.describe_nodegroup(clusterName=STACK, nodegroupName=f"{STACK}-nodes")["nodegroup"]
    assert ng["scalingConfig"]["desiredSize"] == 1
    assert infra("plan", "--detailed-exitcode").code == 0


def test_unowned_same_named_repository_stops_apply_with_nothing_changed(infra, clients):
    clients["ecr"].create_repository(repositoryName=STACK)
    before = len(infra.mutating_calls())
    r = infra("apply", "--auto-approve")
    assert r.code == 1
    assert "ecr/repository" in r.out and "infra:stack" in r.out
    assert "Nothing was changed" in r.err
    assert len(infra.mutating_calls()) == before
    plan = infra("plan")
    assert plan.code == 1 and "!   ecr/repository" in plan.out


def test_destroy_leaves_nothing(applied, infra, clients):
    r = infra("destroy", "--auto-approve", timeout=600)
    assert r.code == 0, r.err[-3000:]
    iam, ec2 = clients["iam"], clients["ec2"]
    names = {r["RoleName"] for r in iam.list_roles()["Roles"]}
    assert not names & set(ROLES.values())
    assert STACK not in clients["eks"].list_clusters()["clusters"]
    assert clients["elbv2"].describe_load_balancers()["LoadBalancers"] == []
    assert clients["elbv2"].describe_target_groups()["TargetGroups"] == []
    assert clients["ecr"].describe_repositories()["repositories"] == []
    assert clients["codebuild"].list_projects()["projects"] == []
    assert ec2.describe_vpcs(Filters=OWNED)["Vpcs"] == []
    assert ec2.describe_launch_templates(Filters=OWNED)["LaunchTemplates"] == []
    assert infra("plan", "--detailed-exitcode").code == 2


def test_repository_with_images_stops_destroy_before_it_starts_unless_forced(applied, infra, clients):
    ecr = clients["ecr"]
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                           "config": {"digest": "sha256:" + "a" * 64, "size": 1, "mediaType": "application/vnd.docker.container.image.v1+json"},
                           "layers": []})
    ecr.put_image(repositoryName=STACK, imageManifest=manifest, imageTag="v1")

    # Destroy looks before it starts, not after deleting everything else: nothing changes.
    before = len(infra.mutating_calls())
    r = infra("destroy", "--auto-approve", timeout=600)
    assert r.code == 1
    assert "holds 1 image" in r.err and "--force" in r.err and "Nothing was changed" in r.err, r.err[-2000:]
    assert len(infra.mutating_calls()) == before
    assert [x["repositoryName"] for x in ecr.describe_repositories()["repositories"]] == [STACK]
    assert STACK in clients["eks"].list_clusters()["clusters"]

    r = infra("destroy", "--auto-approve", "--force", timeout=600)
    assert r.code == 0, r.out[-2000:] + r.err[-2000:]
    assert ecr.describe_repositories()["repositories"] == []


def test_certificate_adds_https_listener_to_a_grpc_target_group(infra, clients, emulator):
    cert = issued_certificate(emulator.client("acm"))
    config = infra.default_config().replace("certificate_arn: null", f"certificate_arn: {cert}")
    infra.write_config(config)
    r = infra("apply", "--auto-approve", timeout=600)
    assert r.code == 0, r.out[-3000:] + r.err[-3000:]

    elb, ec2 = clients["elbv2"], clients["ec2"]
    [lb] = elb.describe_load_balancers(Names=[f"{STACK}-alb"])["LoadBalancers"]
    listeners = {l["Port"]: l for l in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]}
    assert sorted(listeners) == [80, 443]
    https = listeners[443]
    assert https["Protocol"] == "HTTPS"
    assert [c["CertificateArn"] for c in https["Certificates"]] == [cert]
    [grpc] = elb.describe_target_groups(Names=[f"{STACK}-grpc"])["TargetGroups"]
    assert (grpc["Port"], grpc["Protocol"], grpc["ProtocolVersion"]) == (30090, "HTTP", "GRPC")
    [http] = elb.describe_target_groups(Names=[f"{STACK}-http"])["TargetGroups"]
    # 443 serves the client Service; gRPC goes to the server by content-type (test_security.py
    # checks the rule and port 80's redirect in detail).
    assert https["DefaultActions"][0]["TargetGroupArn"] == http["TargetGroupArn"]
    [rule] = [r for r in elb.describe_rules(ListenerArn=https["ListenerArn"])["Rules"] if not r["IsDefault"]]
    assert rule["Actions"][0]["TargetGroupArn"] == grpc["TargetGroupArn"]
    assert listeners[80]["DefaultActions"][0]["Type"] == "redirect"

    ng = clients["eks"].describe_nodegroup(clusterName=STACK, nodegroupName=f"{STACK}-nodes")["nodegroup"]
    asg = ng["resources"]["autoScalingGroups"][0]["name"]
    [group] = clients["autoscaling"].describe_auto_scaling_groups(AutoScalingGroupNames=[asg])["AutoScalingGroups"]
    assert sorted(group["TargetGroupARNs"]) == sorted([http["TargetGroupArn"], grpc["TargetGroupArn"]])

    # The nodes admit the ALB on both NodePorts, and only from the ALB's group.
    sgs = {tags_of(g["Tags"])["infra:id"]: g for g in ec2.describe_security_groups(Filters=OWNED)["SecurityGroups"]}
    rules = sorted((p["FromPort"], [g["GroupId"] for g in p["UserIdGroupPairs"]]) for p in sgs["sg/nodes"]["IpPermissions"])
    assert rules == [(30080, [sgs["sg/alb"]["GroupId"]]), (30090, [sgs["sg/alb"]["GroupId"]])]

    def plan_calls():
        before = len(infra.emu.calls())
        assert infra("plan", "--detailed-exitcode").code == 0
        return len(account_calls(infra.emu.calls()[before:]))

    # Two target groups and listeners cost plan one call more than one (the HTTPS listener's
    # rules); removing the certificate removes exactly what it added.
    with_certificate = plan_calls()
    infra.write_config(config.replace(f"certificate_arn: {cert}", "certificate_arn: null"))
    r = infra("apply", "--auto-approve", timeout=600)
    assert r.code == 0, r.out[-3000:] + r.err[-3000:]
    # Both groups lose a rule and port 80 forwards again; the HTTPS listener, its rule, the gRPC
    # target group and its attachment go.
    assert "0 created, 3 updated, 0 replaced, 4 deleted" in r.out, r.out[-2000:]
    assert elb.describe_target_groups(Names=[f"{STACK}-http"])["TargetGroups"]
    assert [l["Port"] for l in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]] == [80]
    assert plan_calls() == PLAN_CALLS
    assert with_certificate == PLAN_CALLS_WITH_CERTIFICATE
