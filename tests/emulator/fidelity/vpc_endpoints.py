"""EC2 VPC endpoints: interface endpoint lifecycle, their interfaces, ModifyVpcEndpoint, private DNS.

What moto 5.2.5 does differently (checked against moto/ec2/models/vpcs.py and responses/vpcs.py):
- CreateVpcEndpoint returns "available" at once; AWS returns an interface endpoint "pending" and
  makes it "available" once its network interfaces are up (a minute or two; no published figure).
  A gateway endpoint is "available" at once on AWS too.
- DeleteVpcEndpoints flips to "deleted" at once and drops the interfaces at once; on AWS an
  interface endpoint is "deleting" for a while, and its interfaces keep the subnets and security
  groups in use (DependencyViolation) until it is gone.
- The interfaces moto makes carry the VPC's default security group, not the endpoint's, so a
  group used by an endpoint could be deleted; AWS puts the endpoint's groups on them
  (PrivateLink Guide, "Security groups": "the security groups associated with the endpoint
  network interfaces") and describes them "VPC Endpoint Interface vpce-...", requester-managed,
  InterfaceType "vpc_endpoint".
- ModifyVpcEndpoint only edits lists: added/removed route tables get/lose no prefix-list route,
  added/removed subnets get/lose no interface, changed groups leave the interfaces as they were,
  and PrivateDnsEnabled is ignored. AWS does all of these (API reference, ModifyVpcEndpoint).
- PrivateDnsEnabled defaults to true for every type, so a gateway endpoint reports true; AWS
  reports false for gateway endpoints (they have no DNS name of their own).
- A second interface endpoint with private DNS for the same service in one VPC is accepted; AWS
  refuses it: "private-dns-enabled cannot be set because there is already a conflicting DNS
  domain for <service host> in the VPC <vpc>" (InvalidParameter; terraform-provider-aws#17269
  reports it; the exact wording is from there, the code unverified).
- Private DNS in a VPC without enableDnsSupport and enableDnsHostnames is accepted; AWS requires
  both (PrivateLink Guide, "DNS hostnames"; Route 53 Developer Guide, private hosted zones) and
  refuses with InvalidParameter (the message text here is unverified).
- A ClientToken is stored but a retry with the same token makes a second endpoint; AWS returns
  the first (EC2 API reference, "Ensuring idempotency").
"""

from typing import Any

from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models import EC2Backend
from moto.ec2.responses.vpcs import VPCs

import state

from .util import wrap

LIVE = ("pending", "available")
REQUESTER = "amazonaws.com"  # AWS shows the owning service's account; any fixed id will do


def _interface(endpoint: Any) -> bool:
    return (endpoint.vpc_endpoint_type or "").lower() == "interface"


def _service_host(service_name: str) -> str:
    # com.amazonaws.us-east-1.ecr.api -> api.ecr.us-east-1.amazonaws.com is AWS's naming for
    # ecr.api; the others are <service>.<region>.amazonaws.com. Only used in the error text.
    parts = service_name.split(".")
    region, service = parts[2], ".".join(parts[3:])
    if service == "ecr.api":
        return f"api.ecr.{region}.amazonaws.com"
    if service == "ecr.dkr":
        return f"*.dkr.ecr.{region}.amazonaws.com"
    return f"{service}.{region}.amazonaws.com"


def _invalid(message: str) -> EC2ClientError:
    return EC2ClientError("InvalidParameter", message)


def _check_private_dns(backend: Any, vpc_id: str, service_name: str, skip: str | None = None) -> None:
    vpc = backend.get_vpc(vpc_id)
    if not (vpc.enable_dns_support and vpc.enable_dns_hostnames):
        raise _invalid("Enabling private DNS requires both enableDnsSupport and enableDnsHostnames "
                       f"VPC attributes set to true for {vpc_id}")
    for other in backend.vpc_end_points.values():
        if (other.id != skip and other.vpc_id == vpc_id and other.service_name == service_name
                and _interface(other) and other.private_dns_enabled and other.state in LIVE + ("deleting",)):
            raise _invalid("private-dns-enabled cannot be set because there is already a conflicting "
                           f"DNS domain for {_service_host(service_name)} in the VPC {vpc_id}")


def _make_enis(backend: Any, endpoint: Any, subnet_ids: list[str]) -> None:
    """One requester-managed interface per subnet, with the endpoint's groups."""
    groups = [g for g in (backend.get_security_group_from_id(i) for i in endpoint.security_group_ids) if g]
    if not groups:  # AWS uses the VPC's default group when none is given
        default = backend.get_security_group_from_name("default", vpc_id=endpoint.vpc_id)
        groups = [default] if default else []
    endpoint._emu_enis = getattr(endpoint, "_emu_enis", {})
    for subnet_id in subnet_ids:
        if subnet_id in endpoint._emu_enis:
            continue
        subnet = backend.get_subnet(subnet_id)
        eni = backend.create_network_interface(subnet, None, group_ids=[],
                                               description=f"VPC Endpoint Interface {endpoint.id}")
        eni._group_set = list(groups)
        eni.requester_managed = True
        eni.requester_id = REQUESTER
        eni.interface_type = "vpc_endpoint"
        eni.status = "in-use"
        endpoint._emu_enis[subnet_id] = eni
    endpoint.network_interface_ids = [e.id for e in endpoint._emu_enis.values()]


def _drop_enis(backend: Any, endpoint: Any, subnet_ids: list[str] | None = None) -> None:
    enis = getattr(endpoint, "_emu_enis", {})
    for subnet_id in [s for s in list(enis) if subnet_ids is None or s in subnet_ids]:
        eni = enis.pop(subnet_id)
        if backend.enis.pop(eni.id, None) is not None and eni.subnet is not None:
            for address in eni.private_ip_addresses:
                eni.subnet.del_subnet_ip(address.get("PrivateIpAddress"))
    endpoint.network_interface_ids = [e.id for e in enis.values()]


def _add_routes(backend: Any, endpoint: Any, table_ids: list[str]) -> None:
    if endpoint.destination_prefix_list_id:
        for table_id in table_ids:
            backend.create_route(table_id, None, gateway_id=endpoint.id,
                                 destination_prefix_list_id=endpoint.destination_prefix_list_id)


def _drop_routes(backend: Any, endpoint: Any, table_ids: list[str]) -> None:
    if endpoint.destination_prefix_list_id:
        for table_id in table_ids:
            try:
                backend.delete_route(table_id, None, destination_prefix_list_id=endpoint.destination_prefix_list_id)
            except EC2ClientError:
                pass  # the table or its route is gone already


def _create_vpc_endpoint(original):
    def create_vpc_endpoint(self, vpc_id, service_name, endpoint_type, policy_document, route_table_ids,
                            subnet_ids=None, network_interface_ids=None, dns_entries=None, client_token=None,
                            security_group_ids=None, tags=None, private_dns_enabled=None):
        if client_token:
            for other in self.vpc_end_points.values():
                if other.client_token == client_token and other.state in LIVE:
                    return other
        interface = (endpoint_type or "").lower() == "interface"
        if interface and private_dns_enabled:
            _check_private_dns(self, vpc_id, service_name)
        endpoint = original(self, vpc_id, service_name, endpoint_type, policy_document, route_table_ids,
                            subnet_ids=subnet_ids, network_interface_ids=network_interface_ids,
                            dns_entries=dns_entries, client_token=client_token,
                            security_group_ids=security_group_ids, tags=tags,
                            private_dns_enabled=private_dns_enabled)
        if not interface:
            endpoint.private_dns_enabled = False
            return endpoint
        # moto's interfaces carry the default group: replace them with AWS's.
        for eni_id in endpoint.network_interface_ids:
            self.enis.pop(eni_id, None)
        endpoint.network_interface_ids = []
        _make_enis(self, endpoint, list(subnet_ids or []))
        _come_up(endpoint)
        return endpoint

    return create_vpc_endpoint


def _come_up(endpoint) -> None:
    """Pending now, available once `vpc_endpoint_create` has passed (its interfaces are up)."""
    endpoint.state = "pending"

    def become_available() -> None:
        if endpoint.state == "pending":
            endpoint.state = "available"

    state.later("vpc_endpoint_create", become_available, subject=endpoint.id)


def _delete_vpc_endpoints(original):
    def delete_vpc_endpoints(self, vpce_ids=None):
        for vpce_id in vpce_ids or []:
            endpoint = self.vpc_end_points.get(vpce_id)
            if endpoint is None or endpoint.state not in LIVE:
                continue
            if not _interface(endpoint):
                original(self, [vpce_id])  # the routes go with it, at once
                self.vpc_end_points.pop(vpce_id, None)
                continue
            endpoint.state = "deleting"

            def finish(endpoint=endpoint) -> None:
                _drop_enis(self, endpoint)
                endpoint.state = "deleted"
                self.vpc_end_points.pop(endpoint.id, None)

            state.later("vpc_endpoint_delete", finish, subject=vpce_id)

    return delete_vpc_endpoints


def _modify_vpc_endpoint(original):
    def modify_vpc_endpoint(self, vpc_id, policy_doc, add_subnets, remove_subnets, remove_route_tables,
                            add_route_tables, add_security_groups, remove_security_groups):
        endpoint = self.describe_vpc_endpoints(vpc_end_point_ids=[vpc_id])[0]
        original(self, vpc_id, policy_doc, add_subnets, remove_subnets, remove_route_tables, add_route_tables,
                 add_security_groups, remove_security_groups)
        _add_routes(self, endpoint, add_route_tables or [])
        _drop_routes(self, endpoint, remove_route_tables or [])
        if _interface(endpoint):
            _drop_enis(self, endpoint, remove_subnets or [])
            if add_security_groups or remove_security_groups:
                groups = [g for g in (self.get_security_group_from_id(i) for i in endpoint.security_group_ids) if g]
                for eni in getattr(endpoint, "_emu_enis", {}).values():
                    eni._group_set = list(groups)
            if add_subnets:
                _make_enis(self, endpoint, add_subnets)
                # New interfaces come up as at creation.
                _come_up(endpoint)

    return modify_vpc_endpoint


def _modify_response(original):
    def modify_vpc_endpoint(self):
        # moto's response drops PrivateDnsEnabled; AWS applies it (interface endpoints only).
        wanted = self._get_param("PrivateDnsEnabled")
        endpoint_id = self._get_param("VpcEndpointId")
        endpoint = None
        if wanted is not None:
            endpoint = self.ec2_backend.describe_vpc_endpoints(vpc_end_point_ids=[endpoint_id])[0]
            on = str(wanted).lower() == "true"
            if not _interface(endpoint):
                raise _invalid("Private DNS can only be enabled for interface endpoints.")
            if on and not endpoint.private_dns_enabled:
                _check_private_dns(self.ec2_backend, endpoint.vpc_id, endpoint.service_name, skip=endpoint.id)
        result = original(self)
        if endpoint is not None:
            endpoint.private_dns_enabled = str(wanted).lower() == "true"
        return result

    return modify_vpc_endpoint


def install() -> None:
    wrap(EC2Backend, "create_vpc_endpoint", _create_vpc_endpoint)
    wrap(EC2Backend, "delete_vpc_endpoints", _delete_vpc_endpoints)
    wrap(EC2Backend, "modify_vpc_endpoint", _modify_vpc_endpoint)
    wrap(VPCs, "modify_vpc_endpoint", _modify_response)
