"""ELBv2: the load balancer's provisioning phase, and no gRPC target group behind plain HTTP.

moto 5.2.5 creates a load balancer as "provisioning" but flips it to "active" on the very next
Describe call (FakeLoadBalancer.activate). AWS keeps it provisioning for 1-3 minutes.
moto accepts a listener of any protocol forwarding to a target group with ProtocolVersion GRPC;
ALB only speaks gRPC to targets behind an HTTPS listener and refuses the listener.
"""

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


def _create_listener(original):
    def create_listener(self, load_balancer_arn, protocol, port, ssl_policy, certificate, actions, *args, **kwargs):
        _check_grpc(self, protocol, actions)
        return original(self, load_balancer_arn, protocol, port, ssl_policy, certificate, actions, *args, **kwargs)

    return create_listener


def _modify_listener(original):
    def modify_listener(self, arn, port=None, protocol=None, ssl_policy=None, certificates=None, actions=None):
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
