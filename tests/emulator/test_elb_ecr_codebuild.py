"""ELBv2 provisioning and gRPC listener rule, ASG traffic sources, ECR, CodeBuild."""

import json

import pytest
from botocore.exceptions import ClientError

from support import wait_for

ACCOUNT = "123456789012"


def code(err):
    return err.value.response["Error"]["Code"]


def trust(service):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})


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
    asg.attach_traffic_sources(AutoScalingGroupName="g",
                               TrafficSources=[{"Identifier": tg["TargetGroupArn"], "Type": "elbv2"}])
    sources = asg.describe_traffic_sources(AutoScalingGroupName="g")["TrafficSources"]
    assert [s["Identifier"] for s in sources] == [tg["TargetGroupArn"]]
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
    emu.config(iam_propagation=True, time_scale=0.1)
    with pytest.raises(ClientError) as err:
        make_project(emu)
    assert code(err) == "InvalidInputException"
    assert err.value.response["Error"]["Message"].startswith("CodeBuild is not authorized to perform: sts:AssumeRole on arn:aws:iam::")
    emu.config(iam_propagation=False)
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
