"""ELBv2 provisioning and gRPC listener rule, ASG traffic sources, ECR, CodeBuild."""

import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from support import botocore_config, code, trust, wait_for

ACCOUNT = "123456789012"


@pytest.fixture
def lb_setup(emu):
    ec2, elb = emu.client("ec2"), emu.client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{az}")
               ["Subnet"]["SubnetId"] for i, az in ((1, "a"), (2, "b"))]
    sg = ec2.create_security_group(GroupName="alb", Description="alb", VpcId=vpc)["GroupId"]
    lb = elb.create_load_balancer(Name="alb", Subnets=subnets, SecurityGroups=[sg],
                                  Tags=[{"Key": "infra:stack", "Value": "s"}])["LoadBalancers"][0]
    return {"ec2": ec2, "elb": elb, "vpc": vpc, "subnets": subnets, "sg": sg, "lb": lb}


def test_alb_provisioning_then_active(emu, lb_setup):
    elb, lb = lb_setup["elb"], lb_setup["lb"]
    assert lb["State"]["Code"] == "provisioning"
    assert elb.describe_load_balancers(LoadBalancerArns=[lb["LoadBalancerArn"]])["LoadBalancers"][0]["State"]["Code"] == "provisioning"
    wait_for(lambda: elb.describe_load_balancers(LoadBalancerArns=[lb["LoadBalancerArn"]])
             ["LoadBalancers"][0]["State"]["Code"] == "active")
    # The ALB holds its subnets and security group.
    with pytest.raises(ClientError) as err:
        lb_setup["ec2"].delete_security_group(GroupId=lb_setup["sg"])
    assert code(err) == "DependencyViolation"
    with pytest.raises(ClientError) as err:
        lb_setup["ec2"].delete_subnet(SubnetId=lb_setup["subnets"][0])
    assert code(err) == "DependencyViolation"


def test_grpc_target_group_needs_https_listener(emu, lb_setup):
    elb = lb_setup["elb"]
    tg = elb.create_target_group(Name="grpc", Protocol="HTTP", ProtocolVersion="GRPC", Port=30080,
                                 VpcId=lb_setup["vpc"], TargetType="instance")["TargetGroups"][0]
    with pytest.raises(ClientError) as err:
        elb.create_listener(LoadBalancerArn=lb_setup["lb"]["LoadBalancerArn"], Protocol="HTTP", Port=80,
                            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    assert code(err) == "InvalidConfigurationRequest"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    http1 = elb.create_target_group(Name="http", Protocol="HTTP", Port=30080, VpcId=lb_setup["vpc"])["TargetGroups"][0]
    elb.create_listener(LoadBalancerArn=lb_setup["lb"]["LoadBalancerArn"], Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": http1["TargetGroupArn"]}])


def test_asg_traffic_sources(emu, lb_setup):
    ec2, asg, elb = lb_setup["ec2"], emu.client("autoscaling"), lb_setup["elb"]
    template = ec2.create_launch_template(LaunchTemplateName="nodes", LaunchTemplateData={
        "ImageId": ec2.describe_images()["Images"][0]["ImageId"], "InstanceType": "t3.medium"})["LaunchTemplate"]
    asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=1, MaxSize=2, DesiredCapacity=1,
                                  LaunchTemplate={"LaunchTemplateId": template["LaunchTemplateId"]},
                                  VPCZoneIdentifier=",".join(lb_setup["subnets"]))
    tg = elb.create_target_group(Name="tg", Protocol="HTTP", Port=30080, VpcId=lb_setup["vpc"])["TargetGroups"][0]
    emu.config(hold=["asg_traffic_source_register"])
    asg.attach_traffic_sources(AutoScalingGroupName="g",
                               TrafficSources=[{"Identifier": tg["TargetGroupArn"], "Type": "elbv2"}])
    sources = asg.describe_traffic_sources(AutoScalingGroupName="g")["TrafficSources"]
    assert [(s["Identifier"], s["State"]) for s in sources] == [(tg["TargetGroupArn"], "Adding")]
    # Registered: Added (never InService: nothing answers the health check here).
    emu.config(hold=[])
    wait_for(lambda: asg.describe_traffic_sources(AutoScalingGroupName="g")["TrafficSources"][0]["State"] == "Added")
    assert asg.describe_load_balancer_target_groups(AutoScalingGroupName="g")["LoadBalancerTargetGroups"][0][
        "LoadBalancerTargetGroupARN"] == tg["TargetGroupArn"]
    assert len(elb.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]) == 1
    asg.detach_traffic_sources(AutoScalingGroupName="g",
                               TrafficSources=[{"Identifier": tg["TargetGroupArn"], "Type": "elbv2"}])
    assert asg.describe_traffic_sources(AutoScalingGroupName="g")["TrafficSources"] == []


def test_ecr_repository(emu):
    ecr = emu.client("ecr")
    repo = ecr.create_repository(repositoryName="svc", imageTagMutability="IMMUTABLE",
                                 imageScanningConfiguration={"scanOnPush": True},
                                 tags=[{"Key": "infra:stack", "Value": "s"}])["repository"]
    assert repo["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repo["imageTagMutability"] == "IMMUTABLE"
    assert ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"])["tags"] == [{"Key": "infra:stack", "Value": "s"}]
    policy = json.dumps({"rules": [{"rulePriority": 1, "selection": {
        "tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 10}, "action": {"type": "expire"}}]})
    ecr.put_lifecycle_policy(repositoryName="svc", lifecyclePolicyText=policy)
    assert json.loads(ecr.get_lifecycle_policy(repositoryName="svc")["lifecyclePolicyText"]) == json.loads(policy)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                           "config": {"digest": "sha256:" + "a" * 64, "size": 1,
                                      "mediaType": "application/vnd.docker.container.image.v1+json"}, "layers": []})
    ecr.put_image(repositoryName="svc", imageManifest=manifest, imageTag="v1")
    with pytest.raises(ClientError) as err:
        ecr.delete_repository(repositoryName="svc")
    assert code(err) == "RepositoryNotEmptyException"
    ecr.delete_repository(repositoryName="svc", force=True)


def make_project(emu, name="app"):
    iam = emu.client("iam")
    role = iam.create_role(RoleName=f"{name}-cb", AssumeRolePolicyDocument=trust("codebuild.amazonaws.com"))["Role"]["Arn"]
    emu.client("codebuild").create_project(
        name=name, source={"type": "GITHUB", "location": "https://github.com/example/app.git"},
        artifacts={"type": "NO_ARTIFACTS"}, serviceRole=role,
        environment={"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
                     "computeType": "BUILD_GENERAL1_SMALL", "privilegedMode": True},
        tags=[{"key": "infra:stack", "value": "s"}])
    return role


def test_codebuild_propagation_and_update_project(emu):
    # The new role is held unpropagated, so the refusal does not race a ~1 s window on a busy
    # machine.
    emu.config(iam_propagation=True, hold=["iam_propagation"])
    with pytest.raises(ClientError) as err:
        make_project(emu)
    assert code(err) == "InvalidInputException"
    assert err.value.response["Error"]["Message"].startswith("CodeBuild is not authorized to perform: sts:AssumeRole on arn:aws:iam::")
    emu.config(iam_propagation=False, hold=[])
    cb = emu.client("codebuild")
    role = f"arn:aws:iam::{ACCOUNT}:role/app-cb"
    cb.create_project(name="app", source={"type": "GITHUB", "location": "https://github.com/example/app.git"},
                      artifacts={"type": "NO_ARTIFACTS"}, serviceRole=role,
                      environment={"type": "LINUX_CONTAINER", "image": "img", "computeType": "BUILD_GENERAL1_SMALL"})
    cb.update_project(name="app", description="new", tags=[{"key": "infra:stack", "value": "s"}],
                      environment={"type": "LINUX_CONTAINER", "image": "img2", "computeType": "BUILD_GENERAL1_SMALL",
                                   "privilegedMode": True})
    project = cb.batch_get_projects(names=["app"])["projects"][0]
    assert project["description"] == "new"
    assert project["environment"]["image"] == "img2" and project["environment"]["privilegedMode"] is True
    assert project["tags"] == [{"key": "infra:stack", "value": "s"}]
    with pytest.raises(ClientError) as err:
        cb.update_project(name="missing", description="x")
    assert code(err) == "ResourceNotFoundException"


def test_codebuild_build_phases(emu):
    emu.config(time_scale=0.005)  # a whole build takes ~1 s
    make_project(emu)
    cb = emu.client("codebuild")
    build = cb.start_build(projectName="app")["build"]
    assert build["buildStatus"] == "IN_PROGRESS"
    assert build["logs"]["groupName"] == "/aws/codebuild/app"
    assert build["logs"]["streamName"] == build["id"].split(":", 1)[1]
    seen = set()

    def done():
        b = cb.batch_get_builds(ids=[build["id"]])["builds"][0]
        seen.add(b["currentPhase"])
        return b if b["buildComplete"] else None

    final = wait_for(done, interval=0.01)
    assert final["buildStatus"] == "SUCCEEDED"
    assert [p["phaseType"] for p in final["phases"]] == [
        "SUBMITTED", "QUEUED", "PROVISIONING", "DOWNLOAD_SOURCE", "INSTALL", "PRE_BUILD", "BUILD",
        "POST_BUILD", "UPLOAD_ARTIFACTS", "FINALIZING", "COMPLETED"]
    assert all(p["phaseStatus"] == "SUCCEEDED" for p in final["phases"][:-1])
    assert "BUILD" in seen and len(seen) > 2
    assert cb.list_builds_for_project(projectName="app")["ids"] == [build["id"]]


def test_codebuild_failure_and_stop(emu):
    emu.config(time_scale=0.005, codebuild_fail_phase="BUILD")
    make_project(emu)
    cb = emu.client("codebuild")
    build = cb.start_build(projectName="app")["build"]
    final = wait_for(lambda: (lambda b: b if b["buildComplete"] else None)(
        cb.batch_get_builds(ids=[build["id"]])["builds"][0]))
    assert final["buildStatus"] == "FAILED"
    statuses = {p["phaseType"]: p.get("phaseStatus") for p in final["phases"]}
    assert statuses["BUILD"] == "FAILED" and statuses["POST_BUILD"] == "SUCCEEDED"

    emu.config(time_scale=0.01, codebuild_fail_phase=None)
    build = cb.start_build(projectName="app")["build"]
    stopped = cb.stop_build(id=build["id"])["build"]
    assert stopped["buildStatus"] == "STOPPED" and stopped["buildComplete"] is True
    assert cb.batch_get_builds(ids=[build["id"]])["builds"][0]["buildStatus"] == "STOPPED"


# ---------------------------------------------------------------- ALB redirect


def test_http_to_https_redirect_listener(emu, lb_setup):
    elb, lb_arn = lb_setup["elb"], lb_setup["lb"]["LoadBalancerArn"]
    redirect = {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}
    for bad, where in (({"StatusCode": "HTTP_399"}, "statusCode"), ({"Protocol": "FTP"}, "protocol"),
                       ({"Protocol": "https"}, "protocol")):
        action = {"Type": "redirect", "RedirectConfig": {**redirect["RedirectConfig"], **bad}}
        with pytest.raises(ClientError) as err:
            elb.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTP", Port=80, DefaultActions=[action])
        assert code(err) == "ValidationError"
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert f"at 'defaultActions.1.member.redirectConfig.{where}' failed to satisfy constraint" in \
            err.value.response["Error"]["Message"]
    assert elb.describe_listeners(LoadBalancerArn=lb_arn)["Listeners"] == []
    # #{protocol} (keep the request's protocol) is allowed by the pattern.
    keep = elb.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTP", Port=8080, DefaultActions=[
        {"Type": "redirect", "RedirectConfig": {"Protocol": "#{protocol}", "Port": "8443", "StatusCode": "HTTP_302"}}])
    assert keep["Listeners"][0]["DefaultActions"][0]["RedirectConfig"]["Protocol"] == "#{protocol}"

    listener = elb.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTP", Port=80,
                                   DefaultActions=[redirect])["Listeners"][0]
    [found] = elb.describe_listeners(ListenerArns=[listener["ListenerArn"]])["Listeners"]
    assert found["DefaultActions"][0]["Type"] == "redirect"
    assert found["DefaultActions"][0]["RedirectConfig"] == {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}

    # forward -> redirect -> forward through ModifyListener.
    tg = elb.create_target_group(Name="web", Protocol="HTTP", Port=30080, VpcId=lb_setup["vpc"])["TargetGroups"][0]
    forward = [{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}]
    elb.modify_listener(ListenerArn=listener["ListenerArn"], DefaultActions=forward)
    assert elb.describe_listeners(ListenerArns=[listener["ListenerArn"]])["Listeners"][0]["DefaultActions"][0]["Type"] == "forward"
    with pytest.raises(ClientError) as err:
        elb.modify_listener(ListenerArn=listener["ListenerArn"], DefaultActions=[
            {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "StatusCode": "HTTP_308"}}])
    assert code(err) == "ValidationError"
    elb.modify_listener(ListenerArn=listener["ListenerArn"], DefaultActions=[redirect])
    [found] = elb.describe_listeners(ListenerArns=[listener["ListenerArn"]])["Listeners"]
    assert found["DefaultActions"][0]["RedirectConfig"]["StatusCode"] == "HTTP_301"
    assert found["Protocol"] == "HTTP" and found["Port"] == 80


# ---------------------------------------------------------------- ECR tag immutability


def manifest(layer: str) -> str:
    return json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                       "config": {"digest": "sha256:" + "c" * 64, "size": 1,
                                  "mediaType": "application/vnd.docker.container.image.v1+json"},
                       "layers": [{"digest": "sha256:" + layer * 64, "size": 1,
                                   "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip"}]})


def test_ecr_immutable_tag_cannot_move(emu):
    ecr = emu.client("ecr")
    ecr.create_repository(repositoryName="svc", imageTagMutability="IMMUTABLE")
    ecr.put_image(repositoryName="svc", imageManifest=manifest("a"), imageTag="0123456789ab")
    # A rebuild of the same commit: same tag, new digest.
    with pytest.raises(ClientError) as err:
        ecr.put_image(repositoryName="svc", imageManifest=manifest("b"), imageTag="0123456789ab")
    assert code(err) == "ImageTagAlreadyExistsException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert err.value.response["Error"]["Message"] == (
        "The image tag '0123456789ab' already exists in the 'svc' repository and cannot be overwritten "
        "because the repository is immutable.")
    # The very same image again: nothing changes, ImageAlreadyExistsException.
    with pytest.raises(ClientError) as err:
        ecr.put_image(repositoryName="svc", imageManifest=manifest("a"), imageTag="0123456789ab")
    assert code(err) == "ImageAlreadyExistsException"
    # A new tag is fine; the old one still names the first image.
    ecr.put_image(repositoryName="svc", imageManifest=manifest("b"), imageTag="0123456789ab-2")
    images = ecr.describe_images(repositoryName="svc", imageIds=[{"imageTag": "0123456789ab"}])["imageDetails"]
    assert len(images) == 1 and images[0]["imageDigest"] != ecr.describe_images(
        repositoryName="svc", imageIds=[{"imageTag": "0123456789ab-2"}])["imageDetails"][0]["imageDigest"]
    # Mutable again: the tag moves.
    ecr.put_image_tag_mutability(repositoryName="svc", imageTagMutability="MUTABLE")
    assert ecr.describe_repositories(repositoryNames=["svc"])["repositories"][0]["imageTagMutability"] == "MUTABLE"
    ecr.put_image(repositoryName="svc", imageManifest=manifest("d"), imageTag="0123456789ab")
    ecr.put_image_tag_mutability(repositoryName="svc", imageTagMutability="IMMUTABLE")
    assert ecr.describe_repositories(repositoryNames=["svc"])["repositories"][0]["imageTagMutability"] == "IMMUTABLE"


# ---------------------------------------------------------------- CodeBuild limits, variables, logs


def base_project(role, **extra):
    return dict(source={"type": "GITHUB", "location": "https://github.com/example/app.git"},
                artifacts={"type": "NO_ARTIFACTS"}, serviceRole=role,
                environment={"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
                             "computeType": "BUILD_GENERAL1_SMALL"}, **extra)


def unvalidated(emu, service):
    """A client that sends out-of-range values, as SDKs without client-side range checks (the
    Rust SDK) do; boto3 would refuse values below a model minimum itself."""
    return boto3.client(service, endpoint_url=emu.url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=botocore_config().merge(Config(parameter_validation=False)))


def test_codebuild_timeouts_and_variable_types(emu):
    role = emu.client("iam").create_role(RoleName="cb", AssumeRolePolicyDocument=trust("codebuild.amazonaws.com"))["Role"]["Arn"]
    cb = unvalidated(emu, "codebuild")
    refused = [
        ({"timeoutInMinutes": 4}, "Value '4' at 'timeoutInMinutes' failed to satisfy constraint: "
                                  "Member must have value greater than or equal to 5"),
        ({"timeoutInMinutes": 2161}, "Value '2161' at 'timeoutInMinutes' failed to satisfy constraint: "
                                     "Member must have value less than or equal to 2160"),
        ({"queuedTimeoutInMinutes": 481}, "Value '481' at 'queuedTimeoutInMinutes' failed to satisfy "
                                          "constraint: Member must have value less than or equal to 480"),
        ({"queuedTimeoutInMinutes": 1}, "greater than or equal to 5"),
    ]
    for extra, text in refused:
        with pytest.raises(ClientError) as err:
            cb.create_project(name="app", **base_project(role, **extra))
        assert code(err) == "InvalidInputException"
        assert text in err.value.response["Error"]["Message"]
    bad_vars = base_project(role)
    bad_vars["environment"]["environmentVariables"] = [
        {"name": "A", "value": "x", "type": "PLAINTEXT"}, {"name": "B", "value": "y", "type": "SECRET"}]
    with pytest.raises(ClientError) as err:
        cb.create_project(name="app", **bad_vars)
    assert code(err) == "InvalidInputException"
    assert err.value.response["Error"]["Message"] == (
        "1 validation error detected: Value 'SECRET' at 'environment.environmentVariables.2.member.type' "
        "failed to satisfy constraint: Member must satisfy enum value set: [PLAINTEXT, PARAMETER_STORE, SECRETS_MANAGER]")
    assert cb.list_projects()["projects"] == []

    # Omitted: AWS's defaults. The limits themselves are accepted.
    cb.create_project(name="app", **base_project(role))
    project = cb.batch_get_projects(names=["app"])["projects"][0]
    assert (project["timeoutInMinutes"], project["queuedTimeoutInMinutes"]) == (60, 480)
    cb.update_project(name="app", timeoutInMinutes=2160, queuedTimeoutInMinutes=5)
    with pytest.raises(ClientError) as err:
        cb.update_project(name="app", timeoutInMinutes=3000)
    assert code(err) == "InvalidInputException"
    with pytest.raises(ClientError) as err:
        cb.update_project(name="app", environment={**bad_vars["environment"]})
    assert code(err) == "InvalidInputException"
    project = cb.batch_get_projects(names=["app"])["projects"][0]
    assert (project["timeoutInMinutes"], project["queuedTimeoutInMinutes"]) == (2160, 5)
    with pytest.raises(ClientError) as err:
        cb.start_build(projectName="app", environmentVariablesOverride=[{"name": "X", "value": "1", "type": "plain"}])
    assert code(err) == "InvalidInputException"
    with pytest.raises(ClientError) as err:
        cb.start_build(projectName="app", timeoutInMinutesOverride=1)
    assert code(err) == "InvalidInputException"
    with pytest.raises(ClientError) as err:
        cb.start_build(projectName="missing")
    assert code(err) == "ResourceNotFoundException"


def test_codebuild_build_variables_and_log_groups(emu):
    emu.config(time_scale=0.002)
    role = emu.client("iam").create_role(RoleName="cb", AssumeRolePolicyDocument=trust("codebuild.amazonaws.com"))["Role"]["Arn"]
    cb, logs = emu.client("codebuild"), emu.client("logs")
    project = base_project(role, logsConfig={"cloudWatchLogs": {
        "status": "ENABLED", "groupName": "/infra/builds", "streamName": "app"}})
    project["environment"]["environmentVariables"] = [
        {"name": "IMAGE_REPO", "value": "svc", "type": "PLAINTEXT"},
        {"name": "TOKEN", "value": "/infra/app/token", "type": "PARAMETER_STORE"}]
    cb.create_project(name="app", **project)

    build = cb.start_build(projectName="app", environmentVariablesOverride=[
        {"name": "TOKEN", "value": "app/token:key", "type": "SECRETS_MANAGER"},
        {"name": "GIT_SHA", "value": "0123456789ab"}])["build"]
    assert build["environment"]["environmentVariables"] == [
        {"name": "IMAGE_REPO", "value": "svc", "type": "PLAINTEXT"},
        {"name": "TOKEN", "value": "app/token:key", "type": "SECRETS_MANAGER"},
        {"name": "GIT_SHA", "value": "0123456789ab", "type": "PLAINTEXT"}]
    build_uuid = build["id"].split(":", 1)[1]
    assert build["logs"]["groupName"] == "/infra/builds"
    assert build["logs"]["streamName"] == f"app/{build_uuid}"
    assert build["logs"]["cloudWatchLogs"]["status"] == "ENABLED"
    # The project keeps its own variables.
    assert [v["name"] for v in cb.batch_get_projects(names=["app"])["projects"][0]["environment"]["environmentVariables"]] \
        == ["IMAGE_REPO", "TOKEN"]

    # CodeBuild creates the group when the build starts provisioning: no retention, no tags.
    wait_for(lambda: logs.describe_log_groups(logGroupNamePrefix="/infra/builds")["logGroups"])
    [group] = logs.describe_log_groups(logGroupNamePrefix="/infra/builds")["logGroups"]
    assert "retentionInDays" not in group
    assert logs.list_tags_for_resource(resourceArn=group["logGroupArn"])["tags"] == {}
    streams = logs.describe_log_streams(logGroupName="/infra/builds")["logStreams"]
    assert [s["logStreamName"] for s in streams] == [f"app/{build_uuid}"]

    # The default group, adopted unchanged when the tool created it first.
    logs.create_log_group(logGroupName="/aws/codebuild/web", tags={"infra:stack": "s"})
    logs.put_retention_policy(logGroupName="/aws/codebuild/web", retentionInDays=14)
    cb.create_project(name="web", **base_project(role))
    web = cb.start_build(projectName="web")["build"]
    assert web["logs"]["groupName"] == "/aws/codebuild/web"
    wait_for(lambda: logs.describe_log_streams(logGroupName="/aws/codebuild/web")["logStreams"])
    [group] = logs.describe_log_groups(logGroupNamePrefix="/aws/codebuild/web")["logGroups"]
    assert group["retentionInDays"] == 14

    # Logging disabled: no group in the build, none created.
    cb.create_project(name="quiet", **base_project(role, logsConfig={"cloudWatchLogs": {"status": "DISABLED"}}))
    quiet = cb.start_build(projectName="quiet")["build"]
    assert "groupName" not in quiet["logs"] and quiet["logs"]["cloudWatchLogs"] == {"status": "DISABLED"}
    wait_for(lambda: cb.batch_get_builds(ids=[quiet["id"]])["builds"][0]["buildComplete"])
    assert logs.describe_log_groups(logGroupNamePrefix="/aws/codebuild/quiet")["logGroups"] == []


def test_codebuild_gitlab_sources_and_their_connection(emu):
    role = emu.client("iam").create_role(RoleName="cb", AssumeRolePolicyDocument=trust("codebuild.amazonaws.com"))["Role"]["Arn"]
    cb = emu.client("codebuild")
    arn = "arn:aws:codeconnections:us-east-1:123456789012:connection/0b1c2d3e-aaaa-bbbb-cccc-000000000001"
    auth = {"type": "CODECONNECTIONS", "resource": arn}
    for name, kind, location in [("lab", "GITLAB", "https://gitlab.com/org/app.git"),
                                 ("own", "GITLAB_SELF_MANAGED", "https://git.example.com/org/app.git")]:
        project = base_project(role)
        project["source"] = {"type": kind, "location": location, "auth": auth}
        cb.create_project(name=name, **project)
        [got] = cb.batch_get_projects(names=[name])["projects"]
        assert got["source"] == {"type": kind, "location": location, "auth": auth}
    # Moving to public GitHub drops the connection: UpdateProject replaces the whole source.
    public = {"type": "GITHUB", "location": "https://github.com/org/app.git"}
    cb.update_project(name="lab", source=public)
    assert cb.batch_get_projects(names=["lab"])["projects"][0]["source"] == public

