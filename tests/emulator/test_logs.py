"""CloudWatch Logs: retention values AWS accepts, and the log-group API the tool uses."""

import pytest
from botocore.exceptions import ClientError
from support import code

ACCOUNT = "123456789012"
VALID_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
              2557, 2922, 3288, 3653]


def test_retention_accepts_only_the_documented_values(emu):
    logs = emu.client("logs")
    logs.create_log_group(logGroupName="/aws/eks/c/cluster")
    for days in VALID_DAYS:
        logs.put_retention_policy(logGroupName="/aws/eks/c/cluster", retentionInDays=days)
    [group] = logs.describe_log_groups(logGroupNamePrefix="/aws/eks/c/")["logGroups"]
    assert group["retentionInDays"] == 3653
    for days in (0, 2, 31, 730, 4000):
        with pytest.raises(ClientError) as err:
            logs.put_retention_policy(logGroupName="/aws/eks/c/cluster", retentionInDays=days)
        assert code(err) == "InvalidParameterException"
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert err.value.response["Error"]["Message"] == (
            "Invalid retention value. Valid values are: [" + ", ".join(map(str, VALID_DAYS)) + "]")
    # The value is checked before the group is looked up.
    with pytest.raises(ClientError) as err:
        logs.put_retention_policy(logGroupName="/missing", retentionInDays=31)
    assert code(err) == "InvalidParameterException"
    with pytest.raises(ClientError) as err:
        logs.put_retention_policy(logGroupName="/missing", retentionInDays=30)
    assert code(err) == "ResourceNotFoundException"
    # DeleteRetentionPolicy: never expire, reported as no retentionInDays.
    logs.delete_retention_policy(logGroupName="/aws/eks/c/cluster")
    assert "retentionInDays" not in logs.describe_log_groups(logGroupNamePrefix="/aws/eks/c/")["logGroups"][0]


def test_log_group_tags_describe_and_delete(emu):
    logs = emu.client("logs")
    name = "/aws/codebuild/app"
    logs.create_log_group(logGroupName=name, tags={"infra:stack": "s", "infra:id": "logs/build"})
    logs.create_log_group(logGroupName="/aws/codebuild/other")
    logs.create_log_group(logGroupName="/other/app")
    with pytest.raises(ClientError) as err:
        logs.create_log_group(logGroupName=name)
    assert code(err) == "ResourceAlreadyExistsException"

    groups = logs.describe_log_groups(logGroupNamePrefix="/aws/codebuild/")["logGroups"]
    assert [g["logGroupName"] for g in groups] == ["/aws/codebuild/app", "/aws/codebuild/other"]
    group = groups[0]
    arn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{name}"
    assert group["logGroupArn"] == arn and group["arn"] == arn + ":*"
    assert "retentionInDays" not in group

    # The tagging API takes the ARN without ':*'.
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"infra:stack": "s", "infra:id": "logs/build"}
    logs.tag_resource(resourceArn=arn, tags={"team": "x"})
    logs.untag_resource(resourceArn=arn, tagKeys=["infra:id", "team"])
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"infra:stack": "s"}

    logs.delete_log_group(logGroupName=name)
    assert [g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix="/aws/codebuild/")["logGroups"]] \
        == ["/aws/codebuild/other"]
    with pytest.raises(ClientError) as err:
        logs.delete_log_group(logGroupName=name)
    assert code(err) == "ResourceNotFoundException"
    assert ("logs", "CreateLogGroup", 200) in [(c["service"], c["action"], c["status"]) for c in emu.calls()]
