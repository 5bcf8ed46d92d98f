"""ELBv2: the load balancer's provisioning phase, and no gRPC target group behind plain HTTP.

moto 5.2.5 creates a load balancer as "provisioning" but flips it to "active" on the very next
Describe call (FakeLoadBalancer.activate). AWS keeps it provisioning for 1-3 minutes.
moto accepts a listener of any protocol forwarding to a target group with ProtocolVersion GRPC;
ALB only speaks gRPC to targets behind an HTTPS listener and refuses the listener.
moto accepts any RedirectConfig (StatusCode "HTTP_399", Protocol "FTP"); AWS validates it against
the model (StatusCode enum HTTP_301|HTTP_302, Protocol pattern ^(HTTPS?|#\{protocol\})$) before
anything else and answers a violation with ValidationError, as the query protocol does.
"""

import re

from moto.elbv2.exceptions import ELBClientError
from moto.elbv2.models import ELBv2Backend, FakeLoadBalancer

import state

from .util import wrap

GRPC_NEEDS_HTTPS = (
    "Listener protocol '{protocol}' is not supported for a target group with the protocol "
    "version 'GRPC'. Use an HTTPS listener."
)


def _create_load_balancer(original):
    def create_load_balancer(self, *args, **kwargs):
        lb = original(self, *args, **kwargs)

        def activate() -> None:
            if lb.state == "provisioning":
                lb.state = "active"

        state.later("alb_provision", activate, subject=lb.arn)
        return lb

    return create_load_balancer


def _target_group_arns(actions) -> list[str]:
    arns = []
    for action in actions or []:
        if action.get("TargetGroupArn"):
            arns.append(action["TargetGroupArn"])
        for tg in (action.get("ForwardConfig") or {}).get("TargetGroups", []) or []:
            if tg.get("TargetGroupArn"):
                arns.append(tg["TargetGroupArn"])
    return arns


def _check_grpc(backend, protocol, actions) -> None:
    for arn in _target_group_arns(actions):
        tg = backend.target_groups.get(arn)
        if tg is not None and tg.protocol_version == "GRPC" and (protocol or "").upper() != "HTTPS":
            raise ELBClientError("InvalidConfigurationRequest", GRPC_NEEDS_HTTPS.format(protocol=protocol))


REDIRECT_STATUS_CODES = ("HTTP_301", "HTTP_302")  # RedirectActionStatusCodeEnum
REDIRECT_PROTOCOL = re.compile(r"^(HTTPS?|#\{protocol\})$")  # RedirectActionProtocol pattern


def _check_redirects(actions, member: str) -> None:
    """Model validation of each redirect action, in AWS's wording for a constraint violation."""
    errors = []
    for index, action in enumerate(actions or [], start=1):
        config = action.get("RedirectConfig")
        if action.get("Type") != "redirect" or not config:
            continue
        where = f"{member}.{index}.member.redirectConfig"
        status = config.get("StatusCode")
        if status not in REDIRECT_STATUS_CODES:
            errors.append(f"Value '{status}' at '{where}.statusCode' failed to satisfy constraint: "
                          f"Member must satisfy enum value set: [{', '.join(REDIRECT_STATUS_CODES)}]")
        protocol = config.get("Protocol")
        if protocol is not None and not REDIRECT_PROTOCOL.match(protocol):
            errors.append(f"Value '{protocol}' at '{where}.protocol' failed to satisfy constraint: "
                          f"Member must satisfy regular expression pattern: {REDIRECT_PROTOCOL.pattern}")
    if errors:
        count = f"{len(errors)} validation error{'s' if len(errors) > 1 else ''} detected: "
        raise ELBClientError("ValidationError", count + "; ".join(errors))


def _create_listener(original):
    def create_listener(self, load_balancer_arn, protocol, port, ssl_policy, certificate, actions, *args, **kwargs):
        _check_redirects(actions, "defaultActions")
        _check_grpc(self, protocol, actions)
        return original(self, load_balancer_arn, protocol, port, ssl_policy, certificate, actions, *args, **kwargs)

    return create_listener


def _modify_listener(original):
    def modify_listener(self, arn, port=None, protocol=None, ssl_policy=None, certificates=None, actions=None):
        _check_redirects(actions, "defaultActions")
        listener = self.describe_listeners(load_balancer_arn=None, listener_arns=[arn])[0]
        if actions:
            _check_grpc(self, protocol or listener.protocol, actions)
        return original(self, arn, port=port, protocol=protocol, ssl_policy=ssl_policy,
                        certificates=certificates, actions=actions)

    return modify_listener


def install() -> None:
    FakeLoadBalancer.activate = lambda self: None  # only the scheduled transition activates
    wrap(ELBv2Backend, "create_load_balancer", _create_load_balancer)
    wrap(ELBv2Backend, "create_listener", _create_listener)
    wrap(ELBv2Backend, "modify_listener", _modify_listener)
