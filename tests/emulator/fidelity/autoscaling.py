"""Auto Scaling: traffic sources.

moto 5.2.5 implements Attach/Describe/DetachLoadBalancerTargetGroups but not the newer
AttachTrafficSources / DescribeTrafficSources / DetachTrafficSources (NotImplementedError).
Target-group ("elbv2") traffic sources are the same attachment, so they are mapped onto moto's
target-group support and both APIs see the same state, as on AWS.

A source is `Adding` while the group's instances are registered, then `Added` (TrafficSourceState:
"Adding - The Auto Scaling instances are being registered with the load balancer or target group.
Added - All Auto Scaling instances are registered"), after the scaled
`asg_traffic_source_register` duration, which `hold` can stop. It never turns `InService` (an
instance passed an ELB health check): no service answers health checks here.
"""

from moto.autoscaling.exceptions import ValidationError
from moto.autoscaling.responses import AutoScalingResponse
from moto.core.responses import ActionResult, EmptyResult

import state


def _group(self):
    name = self._get_param("AutoScalingGroupName")
    group = self.autoscaling_backend.autoscaling_groups.get(name)
    if group is None:
        raise ValidationError(f"AutoScalingGroup name not found - AutoScalingGroup '{name}' not found")
    return group


def _elbv2_sources(self) -> list[str]:
    sources = self._get_param("TrafficSources", []) or []
    arns = []
    for source in sources:
        if source.get("Type", "elbv2") != "elbv2":
            raise ValidationError(f"Traffic source type {source.get('Type')} is not supported by the emulator")
        arns.append(source["Identifier"])
    return arns


# (group name, target group ARN) of the sources still registering.
_ADDING: set[tuple[str, str]] = set()
state.on_reset(_ADDING.clear)


def attach_traffic_sources(self):
    group = _group(self)
    arns = _elbv2_sources(self)
    for arn in arns:
        key = (group.name, arn)
        # Attaching an attached source changes nothing (AWS: the call succeeds).
        if arn not in group.target_group_arns:
            _ADDING.add(key)
            state.later("asg_traffic_source_register", lambda key=key: _ADDING.discard(key), subject=group.name)
    self.autoscaling_backend.attach_load_balancer_target_groups(group.name, arns)
    return EmptyResult()


def detach_traffic_sources(self):
    group = _group(self)
    arns = _elbv2_sources(self)
    for arn in arns:
        _ADDING.discard((group.name, arn))
    self.autoscaling_backend.detach_load_balancer_target_groups(group.name, arns)
    return EmptyResult()


def describe_traffic_sources(self):
    group = _group(self)
    wanted = self._get_param("TrafficSourceType")
    sources = [] if wanted not in (None, "elbv2") else [
        {"TrafficSource": arn, "State": "Adding" if (group.name, arn) in _ADDING else "Added",
         "Identifier": arn, "Type": "elbv2"}
        for arn in group.target_group_arns
    ]
    return ActionResult({"TrafficSources": sources})


def install() -> None:
    for handler in (attach_traffic_sources, detach_traffic_sources, describe_traffic_sources):
        setattr(AutoScalingResponse, handler.__name__, handler)
