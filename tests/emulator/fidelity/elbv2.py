"""ELBv2: provisioning, unique names (idempotent creates), no gRPC target group behind plain HTTP.

moto 5.2.5 creates a load balancer as "provisioning" but flips it to "active" on the very next
Describe call (FakeLoadBalancer.activate). AWS keeps it provisioning for 1-3 minutes.
moto accepts a listener of any protocol forwarding to a target group with ProtocolVersion GRPC;
ALB only speaks gRPC to targets behind an HTTPS listener and refuses the listener.
moto accepts any RedirectConfig (StatusCode "HTTP_399", Protocol "FTP"); AWS validates it against
the model (StatusCode enum HTTP_301|HTTP_302, Protocol pattern ^(HTTPS?|#\{protocol\})$) before
anything else and answers a violation with ValidationError, as the query protocol does.
moto creates a second load balancer with a name already in use (the ARN differs by its random
id) and refuses any second target group of a name. AWS: names are unique per account and region,
and both creates are idempotent: "If you attempt to create multiple load balancers with the same
settings, each call succeeds" (API reference, CreateLoadBalancer / CreateTargetGroup) and returns
the existing one; different settings answer DuplicateLoadBalancerName / DuplicateTargetGroupName
"A load balancer with the same name 'x' exists, but with different settings"
(aws-load-balancer-controller#3173, fortinet/fortigate-terraform-deploy#21).
moto gives a Network Load Balancer an ARN with app/ (AWS: net/; gwy/ for a Gateway Load Balancer).
moto's DescribeTags answers an unknown or deleted ARN with no tags (a deleted load balancer's old
ones, even); AWS answers LoadBalancerNotFound / TargetGroupNotFound.
The load balancer's network interfaces are in enis.py.
"""

import re
import secrets

from moto.elbv2.exceptions import ELBClientError
from moto.elbv2.models import ELBv2Backend, FakeLoadBalancer

import state

from . import enis
from .util import wrap

GRPC_NEEDS_HTTPS = (
    "Listener protocol '{protocol}' is not supported for a target group with the protocol "
    "version 'GRPC'. Use an HTTPS listener."
)
DIFFERENT_SETTINGS = "A {what} with the same name '{name}' exists, but with different settings"


def _lb_settings(scheme, lb_type, subnet_ids, security_groups, ip_address_type) -> tuple:
    # The defaults AWS applies when a setting is omitted.
    return (scheme or "internet-facing", lb_type or "application", frozenset(subnet_ids),
            frozenset(security_groups or []), ip_address_type or "ipv4")


ARN_KIND = {"network": "net", "gateway": "gwy"}  # application: app


def _fix_arn(backend, lb) -> None:
    """moto names every load balancer loadbalancer/app/...; an NLB's ARN (and so its network
    interfaces' description) says net/, a Gateway Load Balancer's gwy/."""
    kind = ARN_KIND.get(lb.type)
    if kind is None:
        return
    arn = lb.arn.replace(":loadbalancer/app/", f":loadbalancer/{kind}/", 1)
    entries = [(arn if key == lb.arn else key, value) for key, value in backend.load_balancers.items()]
    backend.load_balancers.clear()
    backend.load_balancers.update(entries)  # same dict, same order
    backend.tagging_service.copy_tags(lb.arn, arn)
    backend.tagging_service.delete_all_tags_for_resource(lb.arn)
    lb.arn = arn


def _create_load_balancer(original):
    def create_load_balancer(self, name, security_groups, subnet_ids, subnet_mappings=None,
                             scheme="internet-facing", loadbalancer_type=None, ip_address_type="ipv4",
                             tags=None):
        wanted = _lb_settings(scheme, loadbalancer_type,
                              list(subnet_ids or []) + [m["SubnetId"] for m in subnet_mappings or []],
                              security_groups, ip_address_type)
        existing = next((lb for lb in self.load_balancers.values() if lb.name == name), None)
        if existing is not None:
            have = _lb_settings(existing.scheme, existing.type, [s.id for s in existing.subnets],
                                existing.security_groups, existing.ip_address_type)
            if have != wanted:
                raise ELBClientError("DuplicateLoadBalancerName",
                                     DIFFERENT_SETTINGS.format(what="load balancer", name=name))
            return existing  # idempotent: the same load balancer, nothing new
        lb = original(self, name, security_groups, subnet_ids, subnet_mappings, scheme or "internet-facing",
                      loadbalancer_type, ip_address_type, tags)
        _fix_arn(self, lb)

        def activate() -> None:
            if lb.state == "provisioning":
                lb.state = "active"

        state.later("alb_provision", activate, subject=lb.arn)
        enis.add_lb_enis(self.ec2_backend, lb, lb.subnets)
        return lb

    return create_load_balancer


TG_SETTINGS = ("protocol", "protocol_version", "port", "vpc_id", "target_type", "ip_address_type",
               "health_check_protocol", "health_check_port", "health_check_path",
               "health_check_interval_seconds", "health_check_timeout_seconds",
               "healthy_threshold_count", "unhealthy_threshold_count", "health_check_enabled", "matcher")


def _create_target_group(original):
    def create_target_group(self, name, **kwargs):
        existing = next((tg for tg in self.target_groups.values() if tg.name == name), None)
        if existing is None:
            return original(self, name, **kwargs)
        # Build the group the request describes under a scratch name, so moto fills in the very
        # defaults it gave the existing one, compare, and throw the scratch group away.
        probe = original(self, f"emu-probe-{secrets.token_hex(6)}", **kwargs)
        self.target_groups.pop(probe.arn, None)
        self.tagging_service.delete_all_tags_for_resource(probe.arn)
        if any(getattr(probe, key, None) != getattr(existing, key, None) for key in TG_SETTINGS):
            raise ELBClientError("DuplicateTargetGroupName",
                                 DIFFERENT_SETTINGS.format(what="target group", name=name))
        return existing

    return create_target_group


def _delete_load_balancer(original):
    def delete_load_balancer(self, arn):
        lb = self.load_balancers.get(arn)
        original(self, arn)
        if lb is not None:
            enis.release_lb_enis(self.ec2_backend, lb)

    return delete_load_balancer


def _set_subnets(original):
    def set_subnets(self, arn, subnets, subnet_mappings):
        zones = original(self, arn, subnets, subnet_mappings)
        lb = self.load_balancers[arn]
        kept = {s.id for s in lb.subnets}
        enis.release_lb_enis(self.ec2_backend, lb, [s for s in getattr(lb, "_emu_enis", {}) if s not in kept])
        enis.add_lb_enis(self.ec2_backend, lb, lb.subnets)
        return zones

    return set_subnets


def _set_security_groups(original):
    def set_security_groups(self, arn, sec_groups):
        original(self, arn, sec_groups)
        enis.set_lb_groups(self.load_balancers[arn], self.ec2_backend)

    return set_security_groups


def _describe_tags(original):
    def describe_tags(self, resource_arns):
        for arn in resource_arns:
            self._get_resource_by_arn(arn)  # LoadBalancerNotFound / TargetGroupNotFound / ...
        return original(self, resource_arns)

    return describe_tags


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
    wrap(ELBv2Backend, "create_target_group", _create_target_group)
    wrap(ELBv2Backend, "delete_load_balancer", _delete_load_balancer)
    wrap(ELBv2Backend, "set_subnets", _set_subnets)
    wrap(ELBv2Backend, "set_security_groups", _set_security_groups)
    wrap(ELBv2Backend, "describe_tags", _describe_tags)
    wrap(ELBv2Backend, "create_listener", _create_listener)
    wrap(ELBv2Backend, "modify_listener", _modify_listener)
