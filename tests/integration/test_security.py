"""The stack's security defaults (README, "Security"), applied by the real binary and checked with
boto3 against the emulator: hardened nodes, image tags, build timeout and logs, the CodeBuild
role's confused-deputy guard and least privilege, the cluster's logging and endpoint; the same
settings changed by hand and repaired; HTTPS with a redirect and a gRPC rule; build secrets by
reference; a private endpoint; and a destroy that leaves no log group, interface or group."""

import json
import time
import urllib.parse

import pytest

from support import issued_certificate
from conftest import writes

STACK = "grpc-eks"
REGION = "us-east-1"
NODEGROUP = f"{STACK}-nodes"
OWNED = [{"Name": "tag:infra:stack", "Values": [STACK]}]
BUILD_LOGS = f"/aws/codebuild/{STACK}"
CLUSTER_LOGS = f"/aws/eks/{STACK}/cluster"
LOG_GROUPS = {BUILD_LOGS: "logs/codebuild", CLUSTER_LOGS: "logs/cluster"}
DEFAULT_LOG_TYPES = ["api", "audit", "authenticator"]
ALL_LOG_TYPES = DEFAULT_LOG_TYPES + ["controllerManager", "scheduler"]
OPEN_ENDPOINT = "eks.public_access_cidrs"  # what plan's warning about 0.0.0.0/0 names


@pytest.fixture
def clients(emulator):
    return {s: emulator.client(s) for s in
            ("ec2", "iam", "eks", "elbv2", "ecr", "codebuild", "logs", "sts", "acm", "ssm",
             "secretsmanager")}


@pytest.fixture
def account(clients):
    return clients["sts"].get_caller_identity()["Account"]


# --- helpers -------------------------------------------------------------------------------

def apply(infra, *extra):
    """One full `infra apply`, with IAM propagation on as on AWS; fails with the tool's output."""
    infra.emu.config(iam_propagation=True)
    r = infra("apply", "--auto-approve", *extra, timeout=600)
    assert r.code == 0, r.out[-3000:] + r.err[-3000:]
    return r


def assert_clean_plan(infra):
    plan = infra("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.out[-3000:] + plan.err[-2000:]
    return plan


def warnings_of(text):
    return [line for line in text.splitlines() if line.startswith("Warning:")]


def tag_map(tags):
    if isinstance(tags, dict):
        return tags
    return {t.get("Key", t.get("key")): t.get("Value", t.get("value")) for t in tags or []}


def doc(d):
    """An IAM policy document as boto3 returns it (decoded already, or URL-encoded JSON)."""
    return json.loads(urllib.parse.unquote(d)) if isinstance(d, str) else d


def as_list(x):
    return x if isinstance(x, list) else [x]


def grants(policy, action):
    """Every resource an Allow statement of `policy` grants `action` on (exact action names)."""
    return sorted(r for st in policy["Statement"] if st["Effect"] == "Allow"
                  and action in as_list(st["Action"]) for r in as_list(st["Resource"]))


def all_actions(policy):
    return {a for st in policy["Statement"] for a in as_list(st["Action"])}


def default_template_version(ec2, template_id):
    [v] = ec2.describe_launch_template_versions(
        LaunchTemplateId=template_id, Versions=["$Default"])["LaunchTemplateVersions"]
    return v


def nodegroup(eks):
    return eks.describe_nodegroup(clusterName=STACK, nodegroupName=NODEGROUP)["nodegroup"]


def enabled_log_types(cluster):
    return sorted(t for entry in cluster["logging"]["clusterLogging"] if entry["enabled"]
                  for t in entry["types"])


def log_groups(logs):
    """The stack's two log group names -> the group, as DescribeLogGroups shows them."""
    found = {}
    for name in LOG_GROUPS:
        for g in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]:
            if g["logGroupName"] == name:
                found[name] = g
    return found


def owned_groups(ec2):
    return {tag_map(g["Tags"])["infra:id"]: g for g in ec2.describe_security_groups(Filters=OWNED)["SecurityGroups"]}


def owned_subnets(ec2):
    return {tag_map(s["Tags"])["infra:id"]: s["SubnetId"] for s in ec2.describe_subnets(Filters=OWNED)["Subnets"]}


def wait_for_cluster_update(eks, update_id, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = eks.describe_update(name=STACK, updateId=update_id)["update"]["status"]
        if status != "InProgress":
            assert status == "Successful", status
            return
        time.sleep(0.1)
    raise AssertionError(f"cluster update {update_id} still in progress after {timeout}s")


# --- 1. the default stack --------------------------------------------------------------------

def test_default_stack_applies_the_security_defaults(infra, clients, account):
    r = apply(infra)
    ec2, eks, iam, logs = clients["ec2"], clients["eks"], clients["iam"], clients["logs"]
    # apply shows the plan first, and with it the warning about the open endpoint.
    assert any(OPEN_ENDPOINT in w for w in warnings_of(r.out)), r.out[-3000:]

    # Nodes: IMDSv2 only with hop limit 1 (pods cannot reach the node role's credentials), and
    # an encrypted gp3 root volume; the node group runs exactly the template's default version.
    ng = nodegroup(eks)
    lt = default_template_version(ec2, ng["launchTemplate"]["id"])
    data = lt["LaunchTemplateData"]
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert data["MetadataOptions"]["HttpPutResponseHopLimit"] == 1
    root = [b for b in data["BlockDeviceMappings"] if b["DeviceName"] == "/dev/xvda"]
    assert len(root) == 1, data["BlockDeviceMappings"]
    ebs = root[0]["Ebs"]
    assert (ebs["VolumeType"], ebs["Encrypted"], ebs["VolumeSize"]) == ("gp3", True, 20), ebs
    assert ng["launchTemplate"]["version"] == str(lt["VersionNumber"])

    # ECR: a pushed tag never changes.
    [repo] = clients["ecr"].describe_repositories(repositoryNames=[STACK])["repositories"]
    assert repo["imageTagMutability"] == "IMMUTABLE"

    # CodeBuild: 30-minute timeout, the role ARN it deploys as, logs in the stack's group.
    roles = {w: iam.get_role(RoleName=f"{STACK}-{w}")["Role"] for w in ("cluster", "node", "codebuild")}
    build_role = roles["codebuild"]["Arn"]
    [project] = clients["codebuild"].batch_get_projects(names=[STACK])["projects"]
    assert project["timeoutInMinutes"] == 30
    env = {v["name"]: (v["value"], v.get("type", "PLAINTEXT")) for v in project["environment"]["environmentVariables"]}
    assert env["BUILD_ROLE_ARN"] == (build_role, "PLAINTEXT")
    assert project["logsConfig"]["cloudWatchLogs"]["status"] == "ENABLED"
    assert project["logsConfig"]["cloudWatchLogs"]["groupName"] == BUILD_LOGS

    # Trust: CodeBuild may assume the role only for this account's project (confused deputy);
    # EKS and EC2 support no such condition, so the cluster and node roles trust the service alone.
    trust = doc(roles["codebuild"]["AssumeRolePolicyDocument"])
    [service] = [s for s in trust["Statement"] if s["Principal"] == {"Service": "codebuild.amazonaws.com"}]
    assert service["Condition"] == {
        "StringEquals": {"aws:SourceAccount": account},
        "ArnLike": {"aws:SourceArn": f"arn:aws:codebuild:{REGION}:{account}:project/{STACK}"},
    }
    for which in ("cluster", "node"):
        statements = doc(roles[which]["AssumeRolePolicyDocument"])["Statement"]
        assert statements and all("Condition" not in s for s in statements), (which, statements)

    # The build role's own policy: the stack owns its log group, so no CreateLogGroup; it may
    # assume only itself; it may describe images of its own repository only.
    inline = doc(iam.get_role_policy(RoleName=f"{STACK}-codebuild", PolicyName="deploy")["PolicyDocument"])
    assert "logs:CreateLogGroup" not in all_actions(inline), inline
    assert grants(inline, "sts:AssumeRole") == [build_role], inline
    assert grants(inline, "ecr:DescribeImages") == [repo["repositoryArn"]], inline

    # Both log groups exist before anything writes to them: tagged, 30 days.
    groups = log_groups(logs)
    assert sorted(groups) == sorted(LOG_GROUPS)
    for name, logical in LOG_GROUPS.items():
        assert groups[name]["retentionInDays"] == 30, groups[name]
        tags = logs.list_tags_for_resource(resourceArn=groups[name]["logGroupArn"])["tags"]
        assert tags["infra:stack"] == STACK and tags["infra:id"] == logical, (name, tags)
        assert tags["project"] == STACK, (name, tags)

    # Cluster: audit logging on, endpoint public and private, open to the world (the default).
    cluster = eks.describe_cluster(name=STACK)["cluster"]
    assert enabled_log_types(cluster) == sorted(DEFAULT_LOG_TYPES), cluster["logging"]
    vpc = cluster["resourcesVpcConfig"]
    assert (vpc["endpointPublicAccess"], vpc["endpointPrivateAccess"]) == (True, True), vpc
    assert vpc["publicAccessCidrs"] == ["0.0.0.0/0"]

    # plan warns about the open endpoint and has nothing left to do.
    plan = assert_clean_plan(infra)
    assert any(OPEN_ENDPOINT in w for w in warnings_of(plan.out)), plan.out


# --- 2. drift ----------------------------------------------------------------------------------

def test_security_settings_changed_by_hand_are_shown_and_repaired(infra, clients):
    apply(infra)
    ec2, eks, ecr, logs = clients["ec2"], clients["eks"], clients["ecr"], clients["logs"]
    template_id = nodegroup(eks)["launchTemplate"]["id"]
    original = default_template_version(ec2, template_id)

    # (a) A new template version letting pods reach IMDS (hop limit 2), made the default. moto
    # does not copy SourceVersion's data, so the whole data is sent.
    data = {k: v for k, v in original["LaunchTemplateData"].items() if k != "TagSpecifications"}
    data["MetadataOptions"] = {**data["MetadataOptions"], "HttpPutResponseHopLimit": 2}
    by_hand = ec2.create_launch_template_version(
        LaunchTemplateId=template_id, LaunchTemplateData=data)["LaunchTemplateVersion"]["VersionNumber"]
    ec2.modify_launch_template(LaunchTemplateId=template_id, DefaultVersion=str(by_hand))
    # (b) Control-plane logging turned off.
    update = eks.update_cluster_config(name=STACK, logging={"clusterLogging": [
        {"types": ALL_LOG_TYPES, "enabled": False}]})["update"]
    wait_for_cluster_update(eks, update["id"])
    assert enabled_log_types(eks.describe_cluster(name=STACK)["cluster"]) == []
    # (c) Tags made mutable. (d) Logs kept 7 days instead of 30.
    ecr.put_image_tag_mutability(repositoryName=STACK, imageTagMutability="MUTABLE")
    for name in LOG_GROUPS:
        logs.put_retention_policy(logGroupName=name, retentionInDays=7)

    # plan shows each as an in-place update, and the node group rolling out the new template.
    plan = infra("plan", "--json", "--detailed-exitcode")
    assert plan.code == 2, plan.out[-3000:] + plan.err[-2000:]
    changes = {c["id"]: c for c in plan.json()["changes"] if c["action"] != "no-op"}
    assert {i: c["action"] for i, c in changes.items()} == {
        "lt/nodes": "update", "eks/nodegroup": "update", "eks/cluster": "update",
        "ecr/repository": "update", "logs/codebuild": "update", "logs/cluster": "update",
    }, changes
    # The node group is not replaced: it rolls out the template's next version, node by node.
    assert [a["name"] for a in changes["eks/nodegroup"]["attrs"]] == ["launch_template_version"], changes["eks/nodegroup"]
    assert not any(a["forces_replacement"] for c in changes.values() for a in c["attrs"]), changes
    text = infra("plan")
    for line in ("~   lt/nodes", "~   eks/nodegroup", "~   eks/cluster", "~   ecr/repository",
                 "~   logs/codebuild", "~   logs/cluster"):
        assert line in text.out, (line, text.out)

    apply(infra)
    # A new version (never the hand-made one, never an old one reused) with hop limit 1 again,
    # made the default and rolled out to the node group.
    repaired = default_template_version(ec2, template_id)
    assert repaired["VersionNumber"] > by_hand, (repaired["VersionNumber"], by_hand)
    assert repaired["LaunchTemplateData"]["MetadataOptions"]["HttpPutResponseHopLimit"] == 1
    assert repaired["LaunchTemplateData"]["MetadataOptions"]["HttpTokens"] == "required"
    ng = nodegroup(eks)
    assert ng["launchTemplate"]["version"] == str(repaired["VersionNumber"]), ng["launchTemplate"]
    assert ng["status"] == "ACTIVE"
    assert enabled_log_types(eks.describe_cluster(name=STACK)["cluster"]) == sorted(DEFAULT_LOG_TYPES)
    assert ecr.describe_repositories(repositoryNames=[STACK])["repositories"][0]["imageTagMutability"] == "IMMUTABLE"
    assert {n: g["retentionInDays"] for n, g in log_groups(logs).items()} == {n: 30 for n in LOG_GROUPS}
    assert_clean_plan(infra)


# --- 3. HTTPS ----------------------------------------------------------------------------------

def test_certificate_redirects_http_and_routes_grpc_by_content_type(infra, clients):
    cert = issued_certificate(clients["acm"])
    config = infra.default_config()
    assert "certificate_arn: null" in config
    infra.write_config(config.replace("certificate_arn: null", f"certificate_arn: {cert}"))
    apply(infra)

    elb = clients["elbv2"]
    [lb] = elb.describe_load_balancers(Names=[f"{STACK}-alb"])["LoadBalancers"]
    listeners = {l["Port"]: l for l in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]}
    assert sorted(listeners) == [80, 443]
    [http_tg] = elb.describe_target_groups(Names=[f"{STACK}-http"])["TargetGroups"]
    [grpc_tg] = elb.describe_target_groups(Names=[f"{STACK}-grpc"])["TargetGroups"]

    # Port 80 serves nothing in plaintext: a permanent redirect to HTTPS on 443.
    [redirect] = listeners[80]["DefaultActions"]
    assert redirect["Type"] == "redirect", redirect
    rc = redirect["RedirectConfig"]
    assert (rc["Protocol"], rc["Port"], rc["StatusCode"]) == ("HTTPS", "443", "HTTP_301"), rc

    # 443 serves the HTTP client by default...
    https = listeners[443]
    assert https["Protocol"] == "HTTPS"
    assert [c["CertificateArn"] for c in https["Certificates"]] == [cert]
    [default] = https["DefaultActions"]
    assert default["Type"] == "forward" and default["TargetGroupArn"] == http_tg["TargetGroupArn"], default

    # ...and one rule sends gRPC (content-type application/grpc*) to the GRPC target group.
    rules = [r for r in elb.describe_rules(ListenerArn=https["ListenerArn"])["Rules"] if not r["IsDefault"]]
    assert len(rules) == 1, rules
    [rule] = rules
    [condition] = rule["Conditions"]
    assert condition["Field"] == "http-header", condition
    assert condition["HttpHeaderConfig"]["HttpHeaderName"].lower() == "content-type"
    assert condition["HttpHeaderConfig"]["Values"] == ["application/grpc*"]
    [action] = rule["Actions"]
    assert action["Type"] == "forward" and action["TargetGroupArn"] == grpc_tg["TargetGroupArn"], action
    [described] = elb.describe_tags(ResourceArns=[rule["RuleArn"]])["TagDescriptions"]
    tags = tag_map(described["Tags"])
    assert tags["infra:stack"] == STACK and tags["project"] == STACK, tags

    assert_clean_plan(infra)


# --- 4. build secrets ----------------------------------------------------------------------------

SECRETS = {"API_TOKEN": "ssm:/grpc/api-token", "DB_PASSWORD": "secretsmanager:grpc/db"}
TOKEN_VALUE, DB_VALUE = "tok-5f1e-not-for-logs", "pw-9c3a-not-for-logs"


def with_secrets(config, secrets):
    assert "  secrets: {}\n" in config
    lines = "".join(f"    {k}: \"{v}\"\n" for k, v in secrets.items())
    return config.replace("  secrets: {}\n", "  secrets:\n" + lines)


def test_build_secrets_are_passed_by_reference_and_readable_exactly(infra, clients, account):
    clients["ssm"].put_parameter(Name="/grpc/api-token", Value=TOKEN_VALUE, Type="SecureString")
    secret_arn = clients["secretsmanager"].create_secret(Name="grpc/db", SecretString=DB_VALUE)["ARN"]
    infra.write_config(with_secrets(infra.default_config(), SECRETS))
    apply(infra)

    # The project holds references only, typed so CodeBuild resolves them at build time.
    cb, iam = clients["codebuild"], clients["iam"]
    [project] = cb.batch_get_projects(names=[STACK])["projects"]
    env = {v["name"]: (v.get("type", "PLAINTEXT"), v["value"]) for v in project["environment"]["environmentVariables"]}
    assert env["API_TOKEN"] == ("PARAMETER_STORE", "/grpc/api-token"), env
    assert env["DB_PASSWORD"] == ("SECRETS_MANAGER", "grpc/db"), env
    assert not any(TOKEN_VALUE in v or DB_VALUE in v for _, v in env.values()), env

    # The role may read exactly that parameter and that secret (any version suffix), nothing else.
    inline = doc(iam.get_role_policy(RoleName=f"{STACK}-codebuild", PolicyName="deploy")["PolicyDocument"])
    assert grants(inline, "ssm:GetParameters") == [f"arn:aws:ssm:{REGION}:{account}:parameter/grpc/api-token"], inline
    expected_secret = f"arn:aws:secretsmanager:{REGION}:{account}:secret:grpc/db-??????"
    assert grants(inline, "secretsmanager:GetSecretValue") == [expected_secret], inline
    assert secret_arn.startswith(expected_secret[:-6]) and len(secret_arn) == len(expected_secret)
    assert_clean_plan(infra)

    # A build carries the references with their types, never as plain text.
    r = infra("trigger-build")
    assert r.code == 0, r.out[-2000:] + r.err[-2000:]
    assert "Warning:" not in r.err, r.err
    [build_id] = cb.list_builds_for_project(projectName=STACK)["ids"]
    [build] = cb.batch_get_builds(ids=[build_id])["builds"]
    build_env = {v["name"]: (v.get("type", "PLAINTEXT"), v["value"]) for v in build["environment"]["environmentVariables"]}
    assert build_env["API_TOKEN"] == ("PARAMETER_STORE", "/grpc/api-token"), build_env
    assert build_env["DB_PASSWORD"] == ("SECRETS_MANAGER", "grpc/db"), build_env

    # A plain-text override of a secret-looking name is allowed but warned about.
    r = infra("trigger-build", "--env", "DB_PASSWORD=x")
    assert r.code == 0, r.out[-2000:] + r.err[-2000:]
    [warning] = warnings_of(r.err)
    assert "DB_PASSWORD" in warning and "codebuild.secrets" in warning, r.err


def test_secret_given_by_value_is_refused_before_any_aws_call(infra):
    infra.write_config(with_secrets(infra.default_config(), {"X": "plain"}), "bad.yaml")
    for cmd in (["plan"], ["apply", "--auto-approve"], ["trigger-build"]):
        r = infra(*cmd, "--config", "bad.yaml")
        assert r.code != 0, (cmd, r.out, r.err)
        assert "codebuild.secrets.X" in r.err, (cmd, r.err)
    # README: the config is validated before any AWS call, so nothing at all reached the emulator.
    calls = infra.emu.calls()
    assert writes(calls) == [], calls
    assert calls == [], calls


# --- 5 and 6. private endpoint, then destroy -------------------------------------------------

def test_private_endpoint_admits_only_the_builds_and_destroy_leaves_nothing(infra, clients):
    config = infra.default_config()
    assert "endpoint: public-and-private" in config
    infra.write_config(config.replace("endpoint: public-and-private", "endpoint: private"))
    r = apply(infra)
    # Nothing is open to the internet any more, so there is nothing to warn about.
    assert OPEN_ENDPOINT not in r.out + r.err, warnings_of(r.out)

    ec2, eks, logs = clients["ec2"], clients["eks"], clients["logs"]
    vpc = eks.describe_cluster(name=STACK)["cluster"]["resourcesVpcConfig"]
    assert (vpc["endpointPublicAccess"], vpc["endpointPrivateAccess"]) == (False, True), vpc

    # The API's one additional group admits HTTPS from the builds' group only.
    [api_group_id] = vpc["securityGroupIds"]
    [api_group] = ec2.describe_security_groups(GroupIds=[api_group_id])["SecurityGroups"]
    assert tag_map(api_group["Tags"])["infra:stack"] == STACK
    [rule] = api_group["IpPermissions"]
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 443, 443), rule
    assert rule["IpRanges"] == [] and rule.get("Ipv6Ranges", []) == [] and rule.get("PrefixListIds", []) == [], rule
    [pair] = rule["UserIdGroupPairs"]
    build_group_id = pair["GroupId"]

    # The builds run inside the VPC, in the private app subnets, in that group.
    [project] = clients["codebuild"].batch_get_projects(names=[STACK])["projects"]
    subnets = owned_subnets(ec2)
    [stack_vpc] = ec2.describe_vpcs(Filters=OWNED)["Vpcs"]
    pc = project.get("vpcConfig") or {}
    assert pc.get("vpcId") == stack_vpc["VpcId"], pc
    assert sorted(pc.get("subnets", [])) == sorted(subnets[f"subnet/private-app/{z}"] for z in "ab"), pc
    assert pc.get("securityGroupIds") == [build_group_id], pc
    assert build_group_id in {g["GroupId"] for g in owned_groups(ec2).values()}

    plan = assert_clean_plan(infra)
    assert OPEN_ENDPOINT not in plan.out + plan.err

    # Destroy removes the stack's log groups too (CodeBuild and EKS would leave theirs), and
    # leaves no interface and no security group carrying the stack's tag.
    assert sorted(log_groups(logs)) == sorted(LOG_GROUPS)
    r = infra("destroy", "--auto-approve", timeout=600)
    assert r.code == 0, r.out[-3000:] + r.err[-3000:]
    assert log_groups(logs) == {}
    assert ec2.describe_network_interfaces(Filters=OWNED)["NetworkInterfaces"] == []
    assert ec2.describe_security_groups(Filters=OWNED)["SecurityGroups"] == []
    assert ec2.describe_security_groups(
        Filters=[{"Name": "group-id", "Values": [api_group_id, build_group_id]}])["SecurityGroups"] == []
    assert ec2.describe_vpcs(Filters=OWNED)["Vpcs"] == []
    assert STACK not in eks.list_clusters()["clusters"]
    assert clients["codebuild"].list_projects()["projects"] == []
    assert infra("plan", "--detailed-exitcode").code == 2
