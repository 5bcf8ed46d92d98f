"""CloudWatch Logs: retention values, and the log groups AWS services create for themselves.

What moto 5.2.5 does differently (moto/logs/models.py, responses.py):
- PutRetentionPolicy stores any integer (31, 0, 10000). AWS accepts only the values the model's
  `Days` shape documents and answers anything else with 400 InvalidParameterException
  "Invalid retention value. Valid values are: [1, 3, ..., 3653]".
- EKS and CodeBuild never create their log groups. AWS does, with no retention and no tags,
  when a cluster first ships control-plane logs or a build first writes its log; a group that
  already exists is used as it is. `ensure_group()` is what eks.py and codebuild.py call.

CreateLogGroup (tags), DescribeLogGroups (logGroupNamePrefix, `arn` ending in `:*` and
`logGroupArn` without it), Tag/Untag/ListTagsForResource on the logGroupArn and DeleteLogGroup
already behave as on AWS.
"""

from moto.logs.exceptions import InvalidParameterException
from moto.logs.models import LogsBackend, logs_backends

from .util import wrap

# The `Days` shape's documentation in the logs 2014-03-28 model (there is no enum).
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                  2192, 2557, 2922, 3288, 3653)
INVALID_RETENTION = "Invalid retention value. Valid values are: [{}]".format(
    ", ".join(str(days) for days in RETENTION_DAYS))


def _valid_retention(value) -> bool:
    try:
        return int(value) in RETENTION_DAYS and float(value) == int(value)
    except (TypeError, ValueError):
        return False


def _put_retention_policy(original):
    def put_retention_policy(self, log_group_name, retention_in_days):
        # AWS validates the value before looking the group up.
        if not _valid_retention(retention_in_days):
            raise InvalidParameterException(INVALID_RETENTION)
        return original(self, log_group_name, int(retention_in_days))

    return put_retention_policy


def ensure_group(account_id: str, region: str, name: str, stream: str | None = None) -> bool:
    """Create the group (no retention, no tags) unless it exists, as a service does when it first
    writes a log; optionally the stream too. Returns whether the group was created."""
    backend = logs_backends[account_id][region]
    created = name not in backend.groups
    if created:
        backend.create_log_group(name, tags={})
    if stream:
        backend.ensure_log_stream(name, stream)
    return created


def install() -> None:
    wrap(LogsBackend, "put_retention_policy", _put_retention_policy)
