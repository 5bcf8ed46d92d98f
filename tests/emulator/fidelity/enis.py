"""Network interfaces that AWS services put in your VPC: load balancers' and the VPC CNI's.

What moto 5.2.5 does differently (checked against its source and by probing it):
- CreateLoadBalancer creates no network interface, so nothing in the subnets shows the load
  balancer is there, and nothing lingers after DeleteLoadBalancer. AWS gives a load balancer one
  requester-managed interface per subnet (Description `ELB app/<name>/<id>`, `net/` for an NLB;
  ELB User Guide / Knowledge Center "elb-find-load-balancer-ip"), in use, with the load
  balancer's security groups, and releases them some minutes after the load balancer is deleted
  (terraform#3758: "its network interfaces can take a while to go away (some minutes)").
- A managed node group leaves nothing behind. On AWS the VPC CNI's secondary interfaces of the
  terminated nodes often stay `available` (amazon-vpc-cni-k8s: eniDescriptionPrefix `aws-K8S-`,
  tags node.k8s.amazonaws.com/instance_id, node.k8s.amazonaws.com/createdAt,
  cluster.k8s.amazonaws.com/name; its own leaked-ENI cleanup looks for exactly these).
- DeleteNetworkInterface deletes an interface in use; DetachNetworkInterface knows no ELB
  attachment. AWS refuses both (see _delete_network_interface, _detach_network_interface).
The subnet / security group / internet gateway dependency checks (ec2.py) see these interfaces
like any other, so a subnet stays in use until they are gone.
"""

import secrets
import types
from datetime import datetime, timezone
from typing import Any

from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models import EC2Backend
from moto.ec2.models.elastic_network_interfaces import NetworkInterface
from moto.ec2.responses.elastic_network_interfaces import ElasticNetworkInterfaces
from moto.ec2.utils import random_public_ip

import state
from state import SETTINGS

from .util import wrap

ELB_REQUESTER = "amazon-elb"


# ---------------------------------------------------------------- requester-managed interfaces


def _create(ec2: Any, subnet: Any, group_ids: list[str], description: str, tags: dict | None = None) -> Any:
    eni = ec2.create_network_interface(subnet, None, group_ids=[], description=description, tags=tags or {})
    # moto puts the VPC's default group on an interface created without groups, and invents a
    # group for an unknown id: set the real ones (an NLB without security groups has none).
    eni._group_set = [g for g in (ec2.get_security_group_from_id(i) for i in group_ids) if g is not None]
    return eni


def _forget(ec2: Any, eni: Any) -> None:
    if ec2.enis.pop(eni.id, None) is not None and eni.subnet is not None:
        for address in eni.private_ip_addresses:
            eni.subnet.del_subnet_ip(address.get("PrivateIpAddress"))


def _lb_description(lb: Any) -> str:
    # arn:...:loadbalancer/app/<name>/<id> -> "ELB app/<name>/<id>"
    return "ELB " + lb.arn.split(":loadbalancer/", 1)[1]


def add_lb_enis(ec2: Any, lb: Any, subnets: list) -> None:
    """One in-use interface per subnet, as ELB creates them with the load balancer."""
    lb._emu_enis = getattr(lb, "_emu_enis", {})
    for subnet in subnets:
        if subnet.id in lb._emu_enis:
            continue
        eni = _create(ec2, subnet, list(lb.security_groups or []), _lb_description(lb))
        eni.requester_managed = True
        eni.requester_id = ELB_REQUESTER
        eni.status = "in-use"
        if lb.type == "network":
            eni.interface_type = "network_load_balancer"
        eni._emu_attachment = types.SimpleNamespace(
            attachment_id=f"ela-attach-{secrets.token_hex(4)}", attach_time=datetime.now(timezone.utc),
            delete_on_termination=False, device_index=1, network_card_index=0, instance_id=None,
            instance_owner_id=ELB_REQUESTER, status="attached")
        if lb.scheme == "internet-facing":
            eni.public_ip = random_public_ip()  # maps a public address in the VPC
            eni._emu_ip_owner = ELB_REQUESTER
        lb._emu_enis[subnet.id] = eni


def set_lb_groups(lb: Any, ec2: Any) -> None:
    """SetSecurityGroups changes the groups of the load balancer's interfaces at once."""
    groups = [g for g in (ec2.get_security_group_from_id(i) for i in lb.security_groups or []) if g]
    for eni in getattr(lb, "_emu_enis", {}).values():
        eni._group_set = list(groups)


def release_lb_enis(ec2: Any, lb: Any, subnet_ids=None) -> None:
    """The interfaces stay, in use, for `alb_enis_release` after the load balancer (or its subnet)
    is gone, then vanish."""
    enis = getattr(lb, "_emu_enis", {})
    leaving = [enis.pop(s) for s in list(enis) if subnet_ids is None or s in subnet_ids]
    if not leaving:
        return

    def release() -> None:
        for eni in leaving:
            _forget(ec2, eni)

    state.later("alb_enis_release", release, subject=lb.arn)


# ---------------------------------------------------------------- the VPC CNI's leftovers


def _fake_instance_id() -> str:
    return "i-" + secrets.token_hex(9)[:17]


def leave_cni_enis(ec2: Any, cluster_name: str, subnet_ids: list[str], group_ids: list[str]) -> list:
    """`cni_leftover_enis` available interfaces per subnet, as the VPC CNI leaks them when nodes
    terminate (ipamd had allocated them; the instance went before it could delete them)."""
    left = []
    for subnet_id in subnet_ids:
        subnet = ec2.get_subnet(subnet_id)
        for _ in range(max(0, int(SETTINGS.cni_leftover_enis))):
            instance_id = _fake_instance_id()
            created = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            left.append(_create(ec2, subnet, group_ids, f"aws-K8S-{instance_id}", tags={
                "node.k8s.amazonaws.com/instance_id": instance_id,
                "node.k8s.amazonaws.com/createdAt": created,
                "cluster.k8s.amazonaws.com/name": cluster_name,
                # On recent real leftovers too (EKS marks the CNI's interfaces as its own).
                "eks:eni:owner": "amazon-vpc-cni",
            }))
    return left


# ---------------------------------------------------------------- EC2 API patches


def _attachment(original):
    def attachment(self):
        return getattr(self, "_emu_attachment", None) or original(self)

    return property(attachment)


def _association(original):
    def association(self):
        result = original(self)
        if result and getattr(self, "_emu_ip_owner", None):
            result["ipOwnerId"] = self._emu_ip_owner
        return result

    return property(association)


def _get_filter_value(original):
    def get_filter_value(self, filter_name, method_name=None):
        emulated = getattr(self, "_emu_attachment", None)
        if emulated is not None and filter_name == "attachment.instance-owner-id":
            return emulated.instance_owner_id
        if emulated is not None and filter_name == "attachment.status":
            return emulated.status
        if filter_name == "requester-id":
            return self.requester_id
        return original(self, filter_name, method_name)

    return get_filter_value


def _delete_network_interface(original):
    def delete_network_interface(self):
        eni = self.ec2_backend.enis.get(self._get_param("NetworkInterfaceId"))
        if eni is not None and eni.status == "in-use":
            # What EC2 answers (cloud-nuke#431, amazon-vpc-cni-k8s#1399); the EC2 error-code list
            # names InvalidNetworkInterface.InUse too, "you may also receive InvalidParameterValue".
            raise EC2ClientError("InvalidParameterValue", f"Network interface '{eni.id}' is currently in use.")
        return original(self)

    return delete_network_interface


def _detach_network_interface(original):
    def detach_network_interface(self, attachment_id):
        for eni in self.enis.values():
            emulated = getattr(eni, "_emu_attachment", None)
            if emulated is not None and emulated.attachment_id == attachment_id:
                # AWS's answer for an ELB's interface (boto3#2218, aws-modern-application-workshop#56).
                raise EC2ClientError("OperationNotPermitted", "You are not allowed to manage 'ela-attach' attachments.")
        return original(self, attachment_id)

    return detach_network_interface


def install() -> None:
    NetworkInterface.attachment = _attachment(NetworkInterface.attachment.fget)
    NetworkInterface.association = _association(NetworkInterface.association.fget)
    wrap(NetworkInterface, "get_filter_value", _get_filter_value)
    wrap(ElasticNetworkInterfaces, "delete_network_interface", _delete_network_interface)
    wrap(EC2Backend, "detach_network_interface", _detach_network_interface)
