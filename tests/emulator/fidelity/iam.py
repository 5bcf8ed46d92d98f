"""IAM: strict trust-policy principals and eventual consistency.

Plain moto 5.2.5 accepts any principal in CreateRole/UpdateAssumeRolePolicy. AWS resolves each
IAM ARN principal when the policy is written and rejects one that does not exist with
MalformedPolicyDocument "Invalid principal in policy" - which is why a role cannot name itself
in the trust policy it is created with.

IAM is also eventually consistent: a role (or a trust-policy change) takes seconds to reach other
services. The layer records when each role becomes visible to them; EKS and CodeBuild consult
`assumable()` (see eks.py, codebuild.py).

moto stores a trust statement's Condition verbatim and nothing evaluates it. On AWS the service's
sts:AssumeRole request carries a context, and a statement whose Condition does not match it does
not let the service in. CodeBuild sends aws:SourceAccount and aws:SourceArn (its project ARN);
EKS (eks.amazonaws.com, and ec2.amazonaws.com for node groups) sends neither - AWS Support: "EKS
services does not support these conditions" (prowler#4745) - so a condition on those keys never
matches for them. `assumable()` evaluates the condition operators trust policies use for these
keys against the context the caller passes.
"""

import json
import re
import time
from fnmatch import fnmatchcase
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


# ---------------------------------------------------------------- trust-policy conditions


def _like(pattern: str, value: str) -> bool:
    """IAM wildcards: * any run of characters, ? one character; nothing else is special (unlike
    fnmatch's [...], which is escaped here)."""
    return fnmatchcase(value, re.sub(r"([\[\]])", r"[\1]", pattern))


def _arn_like(pattern: str, value: str) -> bool:
    # ArnEquals/ArnLike compare each of the six colon-separated ARN parts on its own, each with
    # * and ? wildcards (IAM User Guide, "ARN condition operators").
    want, have = pattern.split(":", 5), value.split(":", 5)
    return len(want) == len(have) == 6 and all(_like(w, h) for w, h in zip(want, have))


OPERATORS = {
    "StringEquals": lambda want, have: want == have,
    "StringLike": _like,
    "ArnEquals": _arn_like,
    "ArnLike": _arn_like,
}


def _condition_matches(condition: dict, context: dict) -> bool | None:
    """All operators and keys of a Condition block must match (AND); any of a key's values may
    (OR). A key missing from the request context fails the test unless the operator ends in
    IfExists. None: an operator this layer does not evaluate (the caller decides)."""
    keys = {k.lower(): v for k, v in context.items()}
    for operator, tests in (condition or {}).items():
        if_exists = operator.endswith("IfExists")
        compare = OPERATORS.get(operator[:-len("IfExists")] if if_exists else operator)
        if compare is None or not isinstance(tests, dict):
            return None
        for key, wanted in tests.items():
            have = keys.get(key.lower())
            if have is None:
                if if_exists:
                    continue
                return False
            wanted = [wanted] if isinstance(wanted, str) else wanted
            if not any(compare(str(w), str(have)) for w in wanted):
                return False
    return True


def _names_service(statement: dict, service_principal: str) -> bool:
    principal = statement.get("Principal")
    if not isinstance(principal, dict):
        return False
    services = principal.get("Service", [])
    services = [services] if isinstance(services, str) else services
    return service_principal in services


def assumable(role_arn: str, service_principal: str, context: dict | None = None) -> bool:
    """Whether `service_principal` (e.g. eks.amazonaws.com) can assume the role right now: the
    role exists, has propagated, and an Allow statement of its trust policy names that service
    with a Condition (if any) that `context` - the condition keys the service sends, e.g.
    {"aws:SourceAccount": ..., "aws:SourceArn": ...} - satisfies, and no Deny statement does."""
    match = ROLE_ARN.match(role_arn or "")
    if not match:
        return False
    backend = iam_backends[match.group(1)]["global"]
    role = next((r for r in backend.get_roles() if r.arn == role_arn), None)
    if role is None:
        return False
    # Held (a test that must see a role unpropagated, however slow the machine), a role stays
    # invisible until released, like any held transition.
    propagating = time.time() < getattr(role, "_emu_visible_at", 0) or "iam_propagation" in state.SETTINGS.hold
    if state.SETTINGS.iam_propagation and propagating:
        return False
    try:
        policy = json.loads(role.assume_role_policy_document)
    except ValueError:
        policy = json.loads(unquote(role.assume_role_policy_document))
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    allowed = denied = False
    for statement in statements:
        if not _names_service(statement, service_principal):
            continue
        matches = _condition_matches(statement.get("Condition"), context or {})
        # Conservative with operators not evaluated here: they neither allow nor spare a Deny.
        if statement.get("Effect") == "Allow":
            allowed = allowed or matches is True
        elif statement.get("Effect") == "Deny":
            denied = denied or matches is not False
    return allowed and not denied


def install() -> None:
    wrap(IAMBackend, "create_role", _create_role)
    wrap(IAMBackend, "update_assume_role_policy", _update_assume_role_policy)
