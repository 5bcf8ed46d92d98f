"""The fidelity layer: in-process patches that make moto behave like AWS where the tool cares.

Each module patches one service and documents, next to the code, what plain moto 5.2.5 does
and what AWS does instead. See ../README.md for the table.
"""

from . import acm, autoscaling, codebuild, dynamodb, ec2, ecr, eks, elbv2, enis, iam, logs, vpc_endpoints


def install() -> None:
    for module in (ec2, vpc_endpoints, enis, iam, eks, elbv2, autoscaling, codebuild, logs, ecr, dynamodb, acm):
        module.install()
