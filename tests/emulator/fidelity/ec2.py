"""EC2: NAT gateway lifecycle, tag filters on NAT gateways, and the dependency checks AWS makes.

What moto 5.2.5 does differently (checked against its source and by probing it):
- CreateNatGateway returns "available" at once; DeleteNatGateway flips to "deleted" at once and
  never unmaps the Elastic IP nor deletes the gateway's network interface.
- DescribeNatGateways ignores tag filters (`tag:<key>`, `tag-key`, `tag-value`): it only knows
  nat-gateway-id, vpc-id, subnet-id and state, so `tag:infra:stack=x` returns every gateway.
- No dependency checks on DetachInternetGateway, ReleaseAddress, DeleteSubnet,
  DeleteSecurityGroup (network interfaces, NAT gateways, EKS; load balancers count through the
  network interfaces enis.py gives them); DeleteVpc ignores an attached internet gateway and
  leftover security groups. (DeleteRouteTable with associations is already refused by moto, with
  AWS's code.)
- DescribeLaunchTemplates shows the tags a template was created with, never later changes.
- CreateLaunchTemplate/CreateLaunchTemplateVersion store any MetadataOptions and block device
  settings: a hop limit of 0 or 65, HttpTokens "bogus", VolumeType "gp4", Throughput on gp2,
  KmsKeyId without Encrypted. The layer refuses them with the codes and texts EC2 answers for the
  same parameters (see launch templates below for how that differs from AWS's timing).
"""

from typing import Any

from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models import EC2Backend
from moto.ec2.models.launch_templates import LaunchTemplate
from moto.ec2.models.nat_gateways import NatGateway, NatGatewayBackend
from moto.ec2.utils import is_tag_filter, tag_filter_matches

import state

from .util import wrap

GONE_STATES = ("deleted", "failed")


def _dependency(message: str) -> EC2ClientError:
    return EC2ClientError("DependencyViolation", message)


# ---------------------------------------------------------------- NAT gateway lifecycle


def _release_nat_resources(nat: NatGateway) -> None:
    """What AWS does when a NAT gateway reaches deleted/failed: unmap the EIP, drop the ENI."""
    backend = nat.ec2_backend
    for address in nat.address_set:
        association_id = address.get("associationId")
        if association_id and backend.address_by_association([association_id]):
            try:
                backend.disassociate_address(association_id=association_id)
            except Exception:  # noqa: BLE001 - the address may have been released meanwhile
                pass
    eni = getattr(nat, "_eni", None)
    if eni is not None and eni.id in backend.enis:
        backend.enis.pop(eni.id, None)


def _forget_later(nat: NatGateway) -> None:
    """AWS keeps deleted/failed gateways visible for about an hour, then they vanish."""

    def forget() -> None:
        nat.ec2_backend.nat_gateways.pop(nat.id, None)

    state.later("nat_gateway_deleted_visible", forget, subject=nat.id)


def _vpc_has_igw(backend: Any, vpc_id: str) -> bool:
    return any(igw.vpc is not None and igw.vpc.id == vpc_id
               for igw in backend.internet_gateways.values())


def _create_nat_gateway(original):
    def create_nat_gateway(self, subnet_id, allocation_id, tags=None, connectivity_type="public"):
        nat = original(self, subnet_id, allocation_id, tags=tags,
                       connectivity_type=connectivity_type or "public")
        nat.state = "pending"
        public = (connectivity_type or "public") == "public"
        if public and not _vpc_has_igw(self, nat.vpc_id):
            # AWS accepts the request; the gateway then fails with Gateway.NotAttached.
            def fail() -> None:
                if nat.state != "pending":
                    return
                nat.state = "failed"
                nat.failure_code = "Gateway.NotAttached"
                nat.failure_message = f"Network {nat.vpc_id} has no Internet gateway attached"
                _release_nat_resources(nat)
                _forget_later(nat)

            state.later("nat_gateway_fail", fail, subject=nat.id)
        else:
            def become_available() -> None:
                if nat.state == "pending":
                    nat.state = "available"

            state.later("nat_gateway_create", become_available, subject=nat.id)
        return nat

    return create_nat_gateway


def _delete_nat_gateway(original):
    def delete_nat_gateway(self, nat_gateway_id):
        nat = self.nat_gateways.get(nat_gateway_id)
        if nat is None:
            raise EC2ClientError("NatGatewayNotFound", f"The Nat Gateway {nat_gateway_id} was not found")
        if nat.state in ("deleting", "deleted", "failed"):
            return nat
        nat.state = "deleting"

        def finish() -> None:
            nat.state = "deleted"
            _release_nat_resources(nat)
            _forget_later(nat)

        state.later("nat_gateway_delete", finish, subject=nat.id)
        return nat

    return delete_nat_gateway


def _describe_nat_gateways(original):
    def describe_nat_gateways(self, filters, nat_gateway_ids):
        filters = dict(filters or {})
        tag_filters = {k: v for k, v in filters.items() if is_tag_filter(k)}
        for key in tag_filters:
            filters.pop(key)
        gateways = original(self, filters, nat_gateway_ids)
        return [nat for nat in gateways
                if all(tag_filter_matches(nat, k, v) for k, v in tag_filters.items())]

    return describe_nat_gateways


def _live_nats(backend: Any) -> list[NatGateway]:
    return [n for n in backend.nat_gateways.values() if n.state not in GONE_STATES]


# ---------------------------------------------------------------- dependency checks


def _detach_internet_gateway(original):
    def detach_internet_gateway(self, internet_gateway_id, vpc_id):
        # AWS refuses while any public address is mapped in the VPC: a NAT gateway's EIP (until
        # the gateway is "deleted"), an EIP on an ENI, or an internet-facing load balancer's ENI.
        mapped = any(n.vpc_id == vpc_id and n.connectivity_type != "private" for n in _live_nats(self))
        mapped = mapped or any(
            a.eni is not None and a.eni.subnet is not None and a.eni.subnet.vpc_id == vpc_id
            for a in self.addresses
        )
        # An internet-facing load balancer's interfaces (enis.py) keep their public addresses
        # until they are released, minutes after the load balancer itself is gone.
        mapped = mapped or any(
            eni.requester_managed and eni.public_ip and eni.vpc_id == vpc_id for eni in self.enis.values()
        )
        igw = self.get_internet_gateway(internet_gateway_id)
        if mapped and igw.vpc is not None and igw.vpc.id == vpc_id:
            raise _dependency(
                f"Network {vpc_id} has some mapped public address(es). "
                "Please unmap those public address(es) before detaching the gateway."
            )
        return original(self, internet_gateway_id, vpc_id)

    return detach_internet_gateway


def _release_address(original):
    def release_address(self, address=None, allocation_id=None):
        eips = self.address_by_ip([address]) if address else self.address_by_allocation([allocation_id])
        eip = eips[0] if eips else None
        if eip is not None and eip.eni is not None:
            nat_enis = {getattr(n, "_eni", None) and n._eni.id for n in _live_nats(self)}
            if eip.eni.id in nat_enis:
                # What AWS really answers for an EIP still mapped to a NAT gateway (a misleading
                # AuthFailure, seen in kops, terraform and eksctl issues).
                raise EC2ClientError("AuthFailure", "You do not have permission to access the specified resource.")
            raise EC2ClientError("InvalidIPAddress.InUse", f"Address {eip.public_ip} is in use.")
        return original(self, address=address, allocation_id=allocation_id)

    return release_address


def _eks_subnet_users(ec2_backend: Any, subnet_id: str) -> list[str]:
    from moto.eks.models import eks_backends

    users = []
    try:
        eks = eks_backends[ec2_backend.account_id][ec2_backend.region_name]
    except KeyError:
        return users
    for cluster in eks.clusters.values():
        if subnet_id in (cluster.resources_vpc_config or {}).get("subnetIds", []):
            users.append(cluster.name)
        for ng in cluster.nodegroups.values():
            if subnet_id in (ng.subnets or []):
                users.append(ng.nodegroup_name)
    return users


def _enis_in_subnet(backend: Any, subnet_id: str) -> list:
    result = []
    for eni in backend.enis.values():
        if eni.subnet is None or eni.subnet.id != subnet_id:
            continue
        instance = getattr(eni, "instance", None)
        if instance is not None and instance.state == "terminated":
            continue
        result.append(eni)
    return result


def _delete_subnet(original):
    def delete_subnet(self, subnet_id):
        # Load balancers count through their interfaces (enis.py), which outlive them a while.
        in_use = _enis_in_subnet(self, subnet_id) or _eks_subnet_users(self, subnet_id)
        if in_use:
            raise _dependency(f"The subnet '{subnet_id}' has dependencies and cannot be deleted.")
        return original(self, subnet_id)

    return delete_subnet


def _group_referenced(backend: Any, group_id: str) -> bool:
    for groups in backend.groups.values():
        for group in groups.values():
            if group.id == group_id:
                continue  # a group may reference itself
            for rule in list(group.ingress_rules) + list(group.egress_rules):
                source = getattr(rule, "source_group", None) or {}
                if source.get("GroupId") == group_id:
                    return True
    return False


def _delete_security_group(original):
    def delete_security_group(self, name=None, group_id=None):
        group = self.get_security_group_from_id(group_id) if group_id else None
        if group is not None and not getattr(self, "_emu_deleting_vpc", False):
            # Load balancers count through their interfaces (enis.py), as on AWS.
            used = (
                _group_referenced(self, group.id)
                or any(group.id in [g.id for g in eni.group_set] for eni in self.enis.values()
                       if not (eni.instance is not None and eni.instance.state == "terminated"))
            )
            if used:
                raise _dependency(f"resource {group.id} has a dependent object")
        return original(self, name=name, group_id=group_id)

    return delete_security_group


def _delete_vpc(original):
    def delete_vpc(self, vpc_id):
        # moto checks subnets, VPN gateways and extra route tables; AWS also refuses an attached
        # internet gateway and any security group other than the default one.
        attached = any(igw.vpc is not None and igw.vpc.id == vpc_id
                       for igw in self.internet_gateways.values())
        extra_groups = [g for g in self.groups.get(vpc_id, {}).values() if g.name != "default"]
        if attached or extra_groups:
            raise _dependency(f"The vpc '{vpc_id}' has dependencies and cannot be deleted.")
        self._emu_deleting_vpc = True  # moto deletes the default group itself
        try:
            return original(self, vpc_id)
        finally:
            self._emu_deleting_vpc = False

    return delete_vpc


# ---------------------------------------------------------------- launch template data
#
# AWS documents launch template parameters as "not fully validated" at creation: values that are
# wrong for an instance make the launch fail later (EC2 User Guide, "Restrictions for Amazon EC2
# launch templates"). The emulator never launches instances, so it refuses them here, with the
# error EC2 gives for the same parameters at launch: the mistake surfaces earlier than on AWS,
# but it surfaces.

HTTP_TOKENS = ("optional", "required")  # LaunchTemplateHttpTokensState
VOLUME_TYPES = ("standard", "io1", "io2", "gp2", "sc1", "st1", "gp3")  # VolumeType


def _bad_value(value, parameter: str) -> EC2ClientError:
    return EC2ClientError("InvalidParameterValue", f"Value ({value}) for parameter {parameter} is invalid.")


def _check_metadata_options(options: dict) -> None:
    hop_limit = options.get("HttpPutResponseHopLimit")
    if hop_limit is not None and not 1 <= int(hop_limit) <= 64:  # "Integers from 1 to 64"
        raise _bad_value(hop_limit, "httpPutResponseHopLimit")
    tokens = options.get("HttpTokens")
    if tokens is not None and tokens not in HTTP_TOKENS:
        raise _bad_value(tokens, "httpTokens")


def _check_ebs(ebs: dict) -> None:
    volume_type = ebs.get("VolumeType")
    if volume_type is not None and volume_type not in VOLUME_TYPES:
        raise _bad_value(volume_type, "volumeType")
    if ebs.get("Throughput") is not None and (volume_type or "gp2") != "gp3":
        # Throughput applies to gp3 only; the default volume type is gp2.
        raise EC2ClientError("InvalidParameterCombination",
                             f"The throughput parameter is not supported for {volume_type or 'gp2'} volumes.")
    if ebs.get("KmsKeyId") and ebs.get("Encrypted") is not True:
        raise EC2ClientError("InvalidParameterDependency",
                             "The parameter KmsKeyId requires the parameter Encrypted to be set.")


def _check_template_data(data: dict) -> None:
    _check_metadata_options((data or {}).get("MetadataOptions") or {})
    for mapping in (data or {}).get("BlockDeviceMappings") or []:
        _check_ebs(mapping.get("Ebs") or {})


def _create_version(original):
    # LaunchTemplate.__init__ creates version 1 through this too, so both CreateLaunchTemplate
    # and CreateLaunchTemplateVersion are checked before anything is stored.
    def create_version(self, data, description):
        _check_template_data(data)
        return original(self, data, description)

    return create_version


def _live_tags(self) -> list:
    return self.get_tags()


def install() -> None:
    # A launch template's tags are copied once at creation; CreateTags/DeleteTags later never
    # show in DescribeLaunchTemplates. Read them live, as AWS does.
    LaunchTemplate.tags = property(_live_tags, lambda self, _value: None)
    wrap(LaunchTemplate, "create_version", _create_version)
    wrap(NatGatewayBackend, "create_nat_gateway", _create_nat_gateway)
    wrap(NatGatewayBackend, "delete_nat_gateway", _delete_nat_gateway)
    wrap(NatGatewayBackend, "describe_nat_gateways", _describe_nat_gateways)
    # NAT gateway failure details are serialised from these attributes (None = omitted).
    NatGateway.failure_code = None
    NatGateway.failure_message = None
    wrap(EC2Backend, "detach_internet_gateway", _detach_internet_gateway)
    wrap(EC2Backend, "release_address", _release_address)
    wrap(EC2Backend, "delete_subnet", _delete_subnet)
    wrap(EC2Backend, "delete_security_group", _delete_security_group)
    wrap(EC2Backend, "delete_vpc", _delete_vpc)
