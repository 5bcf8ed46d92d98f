"""AWS's API contract (fidelity/contract.py): requests that break the operation's model are
refused in each protocol's own error form; requests that keep it reach moto.

boto3 validates parameters itself, so these clients turn that off
(`Config(parameter_validation=False)`) to put what AWS would refuse on the wire. botocore's
serialisers drop members the model does not know, so unknown parameters are added to the signed
request by a `before-sign` hook.
"""

import json
from contextlib import contextmanager
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def raw(emu, service: str):
    """A client that sends what it is given: no client-side validation, no retries."""
    return boto3.client(service, endpoint_url=emu.url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(parameter_validation=False,
                                      retries={"total_max_attempts": 1, "mode": "standard"}))


@contextmanager
def extra(client, operation: str, params: dict):
    """Adds `params` to the next `operation` request as the protocol would put them."""
    def add(request, **kwargs):
        if isinstance(request.data, dict):  # query / ec2 form body
            request.data.update(params)
        elif request.method == "GET":  # rest-json without a body: the query string
            parts = urlsplit(request.url)
            query = parse_qsl(parts.query) + list(params.items())
            request.url = urlunsplit(parts._replace(query=urlencode(query)))
        else:
            body = json.loads(request.data or b"{}")
            body.update(params)
            request.data = json.dumps(body).encode()

    event = f"before-sign.{client.meta.service_model.service_id.hyphenize()}.{operation}"
    client.meta.events.register(event, add)
    try:
        yield
    finally:
        client.meta.events.unregister(event, add)


def refused(call) -> dict:
    with pytest.raises(ClientError) as info:
        call()
    return info.value.response


def check(response, status: int, code: str, message: str) -> None:
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status, response
    assert response["Error"]["Code"] == code, response
    assert response["Error"]["Message"] == message, response


# ---------------------------------------------------------------- ec2


def test_ec2_missing_required_member(emu):
    ec2 = raw(emu, "ec2")
    check(refused(lambda: ec2.create_security_group(GroupName="web")), 400,
          "MissingParameter", "The request must contain the parameter GroupDescription")


def test_ec2_bad_enum(emu):
    ec2 = raw(emu, "ec2")
    check(refused(lambda: ec2.create_vpc(CidrBlock="10.0.0.0/16", InstanceTenancy="shared")), 400,
          "InvalidParameterValue", "Value (shared) for parameter instanceTenancy is invalid.")
    check(refused(lambda: ec2.create_launch_template(
        LaunchTemplateName="lt", LaunchTemplateData={"MetadataOptions": {"HttpTokens": "always"}})), 400,
        "InvalidParameterValue", "Value (always) for parameter httpTokens is invalid.")


def test_ec2_unknown_parameter(emu):
    ec2 = raw(emu, "ec2")
    with extra(ec2, "DescribeVpcs", {"VpcName": "x"}):
        check(refused(lambda: ec2.describe_vpcs()), 400, "UnknownParameter", "The parameter VpcName is not recognized")


def test_ec2_wrong_type(emu):
    ec2 = raw(emu, "ec2")
    with extra(ec2, "DescribeVpcs", {"MaxResults": "ten"}):
        check(refused(lambda: ec2.describe_vpcs()), 400,
              "InvalidParameterValue", "Value (ten) for parameter maxResults is invalid.")


def test_ec2_valid_requests_pass(emu):
    ec2 = raw(emu, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "infra:stack", "Value": "s"}]}])["Vpc"]["VpcId"]
    ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")
    found = ec2.describe_vpcs(Filters=[{"Name": "tag:infra:stack", "Values": ["s", "t"]}], VpcIds=[vpc])
    assert [v["VpcId"] for v in found["Vpcs"]] == [vpc]
    ec2.create_launch_template(LaunchTemplateName="lt", LaunchTemplateData={
        "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 2},
        "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"VolumeType": "gp3", "Encrypted": True}}]})


# ---------------------------------------------------------------- query (IAM, STS, ELBv2, Auto Scaling)


def test_query_over_long_name(emu):
    iam = raw(emu, "iam")
    check(refused(lambda: iam.create_role(RoleName="r" * 65, AssumeRolePolicyDocument=TRUST)), 400,
          "ValidationError", f"1 validation error detected: Value '{'r' * 65}' at 'roleName' failed to satisfy "
                             "constraint: Member must have length less than or equal to 64")
    assert refused(lambda: iam.create_role(RoleName="r" * 65, AssumeRolePolicyDocument=TRUST))["Error"]["Type"] == "Sender"


def test_query_pattern_and_missing_counted_together(emu):
    iam = raw(emu, "iam")
    check(refused(lambda: iam.create_role(RoleName="has space")), 400, "ValidationError",
          "2 validation errors detected: Value 'has space' at 'roleName' failed to satisfy constraint: "
          "Member must satisfy regular expression pattern: [\\w+=,.@-]+; Value null at 'assumeRolePolicyDocument' "
          "failed to satisfy constraint: Member must not be null")


def test_query_bad_enum_and_list_members(emu):
    elb = raw(emu, "elbv2")
    check(refused(lambda: elb.create_load_balancer(Name="web", Subnets=["subnet-1"], Scheme="public")), 400,
          "ValidationError", "1 validation error detected: Value 'public' at 'scheme' failed to satisfy constraint: "
                             "Member must satisfy enum value set: [internet-facing, internal]")
    asg = raw(emu, "autoscaling")
    check(refused(lambda: asg.describe_auto_scaling_groups(AutoScalingGroupNames=["a" * 256])), 400,
          "ValidationError", f"1 validation error detected: Value '[{'a' * 256}]' at 'autoScalingGroupNames' failed "
                             "to satisfy constraint: Member must satisfy constraint: "
                             "[Member must have length less than or equal to 255]")


def test_query_structure_in_list(emu):
    iam = raw(emu, "iam")
    check(refused(lambda: iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST,
                                          Tags=[{"Key": "k", "Value": "v"}, {"Key": "k" * 129, "Value": "v"}])), 400,
          "ValidationError", f"1 validation error detected: Value '{'k' * 129}' at 'tags.2.member.key' failed to "
                             "satisfy constraint: Member must have length less than or equal to 128")


def test_query_unknown_parameter(emu):
    sts = raw(emu, "sts")
    with extra(sts, "GetCallerIdentity", {"Account": "1"}):
        check(refused(lambda: sts.get_caller_identity()), 400,
              "ValidationError", "The parameter Account is not recognized")


def test_query_valid_requests_pass(emu):
    iam = raw(emu, "iam")
    iam.create_role(RoleName="eks-cluster", AssumeRolePolicyDocument=TRUST, Path="/infra/",
                    Tags=[{"Key": "infra:stack", "Value": "s"}])
    iam.tag_role(RoleName="eks-cluster", Tags=[])  # an empty list is `Tags=` on the wire
    assert raw(emu, "sts").get_caller_identity()["Account"]
    ec2 = raw(emu, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{z}")
               ["Subnet"]["SubnetId"] for i, z in ((1, "a"), (2, "b"))]
    elb = raw(emu, "elbv2")
    lb = elb.create_load_balancer(Name="web", Subnets=subnets, Scheme="internal", Type="application",
                                  Tags=[{"Key": "k", "Value": "v"}])["LoadBalancers"][0]["LoadBalancerArn"]
    elb.describe_tags(ResourceArns=[lb])
    raw(emu, "autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=["a"], MaxRecords=10)


# ---------------------------------------------------------------- json (ECR, CodeBuild, Logs, DynamoDB)


def test_json_ecr_wording(emu):
    ecr = raw(emu, "ecr")
    check(refused(lambda: ecr.create_repository(repositoryName="a")), 400, "InvalidParameterException",
          "Invalid parameter at 'repositoryName' failed to satisfy constraint: "
          "'must have length greater than or equal to 2'")
    response = refused(lambda: ecr.create_repository(repositoryName="Org/App"))
    assert response["Error"]["Code"] == "InvalidParameterException"
    assert response["Error"]["Message"].startswith(
        "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '")


def test_json_logs_and_dynamodb_codes(emu):
    logs = raw(emu, "logs")
    check(refused(lambda: logs.create_log_group(logGroupName="app:web")), 400, "InvalidParameterException",
          "1 validation error detected: Value 'app:web' at 'logGroupName' failed to satisfy constraint: "
          "Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+")
    ddb = raw(emu, "dynamodb")
    check(refused(lambda: ddb.create_table(
        TableName="locks", BillingMode="ON_DEMAND", AttributeDefinitions=[{"AttributeName": "stack", "AttributeType": "S"}],
        KeySchema=[])), 400, "ValidationException",
        "2 validation errors detected: Value '[]' at 'keySchema' failed to satisfy constraint: Member must have length "
        "greater than or equal to 1; Value 'ON_DEMAND' at 'billingMode' failed to satisfy constraint: "
        "Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]")


def test_json_codebuild_missing_and_enum(emu):
    codebuild = raw(emu, "codebuild")
    check(refused(lambda: codebuild.list_projects(sortBy="NEWEST")), 400, "InvalidInputException",
          "1 validation error detected: Value 'NEWEST' at 'sortBy' failed to satisfy constraint: "
          "Member must satisfy enum value set: [NAME, CREATED_TIME, LAST_MODIFIED_TIME]")
    check(refused(lambda: codebuild.start_build()), 400, "InvalidInputException",
          "1 validation error detected: Value null at 'projectName' failed to satisfy constraint: "
          "Member must not be null")


def test_json_unknown_member_and_wrong_type(emu):
    ddb = raw(emu, "dynamodb")
    with extra(ddb, "ListTables", {"TableNamePrefix": "x"}):
        check(refused(lambda: ddb.list_tables()), 400, "SerializationException",
              "Unknown member 'TableNamePrefix' in the request.")
    check(refused(lambda: ddb.list_tables(Limit="10")), 400, "SerializationException",
          "Value of 'limit' is not of type integer.")


def test_json_valid_requests_pass(emu):
    ddb = raw(emu, "dynamodb")
    ddb.create_table(TableName="infra-locks", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "stack", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "stack", "KeyType": "HASH"}])
    ddb.list_tables(Limit=5)
    ecr = raw(emu, "ecr")
    ecr.create_repository(repositoryName="org/app-web", imageTagMutability="IMMUTABLE",
                          tags=[{"Key": "k", "Value": "v"}])
    logs = raw(emu, "logs")
    logs.create_log_group(logGroupName="/aws/codebuild/app", tags={"infra:stack": "s"})
    logs.put_retention_policy(logGroupName="/aws/codebuild/app", retentionInDays=7)
    raw(emu, "codebuild").list_projects(sortBy="NAME")


# ---------------------------------------------------------------- rest-json (EKS)


def test_rest_json_over_long_and_pattern(emu):
    eks = raw(emu, "eks")
    vpc = {"subnetIds": ["subnet-1"]}
    role = "arn:aws:iam::123456789012:role/eks"
    check(refused(lambda: eks.create_cluster(name="c" * 101, roleArn=role, resourcesVpcConfig=vpc)), 400,
          "InvalidParameterException", f"1 validation error detected: Value '{'c' * 101}' at 'name' failed to "
                                       "satisfy constraint: Member must have length less than or equal to 100")
    check(refused(lambda: eks.create_cluster(name="-c", roleArn=role, resourcesVpcConfig=vpc)), 400,
          "InvalidParameterException", "1 validation error detected: Value '-c' at 'name' failed to satisfy "
                                       "constraint: Member must satisfy regular expression pattern: "
                                       "^[0-9A-Za-z][A-Za-z0-9\\-_]*")


def test_rest_json_missing_enum_and_query_string(emu):
    eks = raw(emu, "eks")
    check(refused(lambda: eks.create_cluster(name="c", roleArn="arn:aws:iam::123456789012:role/eks")), 400,
          "InvalidParameterException", "1 validation error detected: Value null at 'resourcesVpcConfig' failed "
                                       "to satisfy constraint: Member must not be null")
    check(refused(lambda: eks.create_cluster(
        name="c", roleArn="arn:aws:iam::123456789012:role/eks", resourcesVpcConfig={"subnetIds": ["subnet-1"]},
        logging={"clusterLogging": [{"types": ["api", "kubelet"], "enabled": True}]})), 400,
        "InvalidParameterException", "1 validation error detected: Value '[api, kubelet]' at "
                                     "'logging.clusterLogging.1.member.types' failed to satisfy constraint: Member "
                                     "must satisfy constraint: [Member must satisfy enum value set: [api, audit, "
                                     "authenticator, controllerManager, scheduler]]")
    check(refused(lambda: eks.list_clusters(maxResults=500)), 400, "InvalidParameterException",
          "1 validation error detected: Value '500' at 'maxResults' failed to satisfy constraint: "
          "Member must have value less than or equal to 100")


def test_rest_json_unknown_member(emu):
    eks = raw(emu, "eks")
    with extra(eks, "CreateCluster", {"clusterName": "c"}):
        check(refused(lambda: eks.create_cluster(name="c", roleArn="arn:aws:iam::123456789012:role/eks",
                                                 resourcesVpcConfig={"subnetIds": ["subnet-1"]})), 400,
              "SerializationException", "Unknown member 'clusterName' in the request.")


def test_rest_json_valid_requests_pass(emu):
    eks = raw(emu, "eks")
    assert eks.list_clusters(maxResults=10)["clusters"] == []
    check(refused(lambda: eks.describe_cluster(name="missing")), 404, "ResourceNotFoundException",
          "No cluster found for name: missing.")
    check(refused(lambda: eks.describe_access_entry(
        clusterName="missing", principalArn="arn:aws:iam::123456789012:role/a")), 404,
        "ResourceNotFoundException", refused(lambda: eks.describe_access_entry(
            clusterName="missing", principalArn="arn:aws:iam::123456789012:role/a"))["Error"]["Message"])


# ---------------------------------------------------------------- the switch and what is not modelled


def test_model_validation_off_lets_junk_through(emu):
    iam = raw(emu, "iam")
    emu.config(model_validation=False)
    iam.create_role(RoleName="r" * 65, AssumeRolePolicyDocument=TRUST)  # moto accepts it
    assert emu.config()["model_validation"] is False
    emu.config(model_validation=True)
    refused(lambda: iam.create_role(RoleName="s" * 65, AssumeRolePolicyDocument=TRUST))


def test_refusals_are_logged_and_not_faulted_twice(emu):
    iam = raw(emu, "iam")
    refused(lambda: iam.create_role(RoleName="r" * 65, AssumeRolePolicyDocument=TRUST))
    assert emu.calls()[-1]["service"] == "iam"
    assert emu.calls()[-1]["action"] == "CreateRole"
    assert emu.calls()[-1]["status"] == 400


def test_unmodelled_protocols_pass_and_are_counted(emu):
    raw(emu, "s3").list_buckets()  # rest-xml: not checked
    assert any(key.startswith("s3:") for key in emu.config()["unvalidated"])
