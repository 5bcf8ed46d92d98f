"""IAM: strict trust-policy principals and eventual consistency.

Plain moto 5.2.5 accepts any principal in CreateRole/UpdateAssumeRolePolicy. AWS resolves each
IAM ARN principal when the policy is written and rejects one that does not exist with
MalformedPolicyDocument "Invalid principal in policy" - which is why a role cannot name itself
in the trust policy it is created with.

IAM is also eventually consistent: a role (or a trust-policy change) takes seconds to reach other
services. The layer records when each role becomes visible to them; EKS and CodeBuild consult
`assumable()` (see eks.py, codebuild.py).
"""

import json
import re
import time
from urllib.parse import unquote

from moto.iam.exceptions import MalformedPolicyDocument
from moto.iam.models import IAMBackend, iam_backends

import state

from .util import wrap

ROLE_ARN = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):role/(?:[^*]*/)?([^/*]+)$")


def _principals(document: str) -> list[str]:
    try:
        policy = json.loads(document)
    except ValueError:
        policy = json.loads(unquote(document))
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    found = []
    for statement in statements:
        principal = statement.get("Principal")
        if not isinstance(principal, dict):
            continue
        values = principal.get("AWS", [])
        found.extend([values] if isinstance(values, str) else values)
    return found


def _role_exists(account_id: str, name: str) -> bool:
    backend = iam_backends[account_id]["global"]
    return any(role.name == name for role in backend.get_roles())


def role_exists(role_arn: str) -> bool:
    match = ROLE_ARN.match(role_arn or "")
    return bool(match) and _role_exists(match.group(1), match.group(2))


def _check_principals(document: str) -> None:
    for arn in _principals(document):
        match = ROLE_ARN.match(arn)
        if match and not _role_exists(match.group(1), match.group(2)):
            raise MalformedPolicyDocument(f'Invalid principal in policy: "AWS":"{arn}"')


def _mark_changed(role) -> None:
    role._emu_visible_at = time.time() + state.scaled("iam_propagation")


def _create_role(original):
    def create_role(self, role_name, assume_role_policy_document, *args, **kwargs):
        _check_principals(assume_role_policy_document)
        role = original(self, role_name, assume_role_policy_document, *args, **kwargs)
        _mark_changed(role)
        return role

    return create_role


def _update_assume_role_policy(original):
    def update_assume_role_policy(self, role_name, policy_document):
        _check_principals(policy_document)
        original(self, role_name, policy_document)
        _mark_changed(self.get_role(role_name))

    return update_assume_role_policy


def assumable(role_arn: str, service_principal: str) -> bool:
    """Whether `service_principal` (e.g. eks.amazonaws.com) can assume the role right now:
    the role exists, has propagated, and its trust policy names that service."""
    match = ROLE_ARN.match(role_arn or "")
    if not match:
        return False
    backend = iam_backends[match.group(1)]["global"]
    role = next((r for r in backend.get_roles() if r.arn == role_arn), None)
    if role is None:
        return False
    if state.SETTINGS.iam_propagation and time.time() < getattr(role, "_emu_visible_at", 0):
        return False
    try:
        policy = json.loads(role.assume_role_policy_document)
    except ValueError:
        policy = json.loads(unquote(role.assume_role_policy_document))
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    for statement in statements:
        principal = statement.get("Principal")
        if statement.get("Effect") != "Allow" or not isinstance(principal, dict):
            continue
        services = principal.get("Service", [])
        services = [services] if isinstance(services, str) else services
        if service_principal in services:
            return True
    return False


def install() -> None:
    wrap(IAMBackend, "create_role", _create_role)
    wrap(IAMBackend, "update_assume_role_policy", _update_assume_role_policy)
