"""EKS: lifecycles, the node group's real Auto Scaling group, updates, access entries, tags.

What moto 5.2.5 does differently (checked against moto/eks/models.py and responses.py):
- clusters and node groups are ACTIVE the moment they are created, and vanish the moment they
  are deleted (AWS: CREATING ~10 min / DELETING ~5 min; node groups ~3 min / ~6 min);
- a node group's `resources.autoScalingGroups[0].name` names an ASG that does not exist;
- UpdateNodegroupConfig applies at once and reports "Successful"; UpdateClusterConfig returns
  the cluster instead of an Update; UpdateClusterVersion, UpdateNodegroupVersion,
  DescribeUpdate, ListUpdates and all access-entry operations are not implemented;
- TagResource/ListTagsForResource only know clusters, not node groups or access entries, and
  UntagResource removes only the first of several keys;
- any syntactically valid role ARN is accepted; AWS checks that the service can assume it;
- endpointPublicAccess/endpointPrivateAccess/publicAccessCidrs are echoed only when sent (AWS
  reports its defaults true/false/["0.0.0.0/0"]) and any string passes as a CIDR;
- logging is echoed as sent; AWS reports one entry with the enabled types and one with the rest,
  and creates the log group /aws/eks/<cluster>/cluster (adopting an existing one) once any type
  is enabled;
- UpdateClusterConfig (moto's) replaces resourcesVpcConfig wholesale and accepts anything: AWS
  allows exactly one kind of update per call, refuses one that changes nothing, and refuses
  any while another update of the cluster is in progress;
- a deleted node group leaves nothing; on AWS the VPC CNI's interfaces often stay (enis.py);
- DescribeClusterVersions is not implemented; CreateCluster takes any version string and
  defaults to 1.19 (AWS refuses a version it no longer offers and defaults to its default
  version); upgradePolicy is dropped (AWS stores it, EXTENDED unless sent);
- a node group defaults to 1.19 whatever the cluster's version (AWS: the cluster's) and may be
  newer than the cluster; UpdateClusterVersion jumps or downgrades freely (AWS: one minor up,
  only once every node group is on the cluster's version);
- CreateNodegroup accepts any node role: AWS names a trust policy without ec2.amazonaws.com
  ("Following required service principals ...") and a role without the node policies
  ("... Amazon EKS Managed Policies ..."), both also while IAM has not propagated them;
- a node group always becomes ACTIVE; on AWS its instances cannot join the cluster from subnets
  with no route out (no NAT/internet gateway, nor the VPC endpoints a private cluster needs),
  and it ends CREATE_FAILED with a NodeCreationFailure health issue.
"""

import base64
import ipaddress
import json
import time
import types
import uuid
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import moto.eks.urls as eks_urls
from moto.autoscaling.models import autoscaling_backends
from moto.core.responses import ActionResult, EmptyResult
from moto.ec2.models import ec2_backends
from moto.eks.exceptions import (
    InvalidParameterException,
    InvalidRequestException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from moto.eks.models import Cluster, EKSBackend, Nodegroup
from moto.iam.models import IAMBackend
from moto.eks.responses import EKSResponse

import state

from . import enis, iam, kubernetes, logs
from .util import wrap

ROLE_NOT_ASSUMABLE = (
    "Role with arn: {arn}, could not be assumed because it does not exist or the trusted entity "
    "is not correct"
)
AUTH_MODE_MSG = (
    "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] "
    "to perform this operation."
)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _not_found(message: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(clusterName=None, nodegroupName=None,
                                     fargateProfileName=None, addonName=None, message=message)


def _in_use(message: str, cluster: str | None = None) -> ResourceInUseException:
    return ResourceInUseException(clusterName=cluster, nodegroupName=None, addonName=None, message=message)


def _invalid(message: str, cluster: str | None = None) -> InvalidParameterException:
    return InvalidParameterException(clusterName=cluster, message=message)


def _check_role(role_arn: str, service: str, cluster_name: str) -> None:
    # EKS assumes its roles without aws:SourceAccount/aws:SourceArn in the request context, so a
    # trust statement conditioned on them does not let it in (iam.py).
    if not iam.assumable(role_arn, service, context={}):
        raise _invalid(ROLE_NOT_ASSUMABLE.format(arn=role_arn), cluster_name)


# ---------------------------------------------------------------- Kubernetes versions

_VERSIONS_FILE = json.loads((Path(__file__).parent / "eks_versions.json").read_text())
AS_OF = date.fromisoformat(_VERSIONS_FILE["as_of"])
DEFAULT_VERSION = _VERSIONS_FILE["default"]


def _midnight(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=timezone.utc)


def version_status(entry: dict) -> str:
    """Support status on the table's as_of day: extended support starts on the end-of-standard
    date and ends on the end-of-extended date (billing "starts at the beginning of the day that
    the version reaches end of standard support", User Guide release calendar)."""
    if AS_OF < date.fromisoformat(entry["endOfStandardSupportDate"]):
        return "STANDARD_SUPPORT"
    if AS_OF < date.fromisoformat(entry["endOfExtendedSupportDate"]):
        return "EXTENDED_SUPPORT"
    return "UNSUPPORTED"


# The one table of versions, newest first, each with its status on as_of.
VERSIONS = [{**v, "versionStatus": version_status(v)} for v in _VERSIONS_FILE["versions"]]
_BY_VERSION = {v["clusterVersion"]: v for v in VERSIONS}


def offered(version: str) -> bool:
    """New clusters may use any version in standard or extended support ("You can create new
    Amazon EKS clusters on any version offered in standard or extended support"; "On the end of
    extended support date, you can no longer create new Amazon EKS clusters with the unsupported
    version", User Guide)."""
    entry = _BY_VERSION.get(version)
    return entry is not None and entry["versionStatus"] != "UNSUPPORTED"


def _minor(version: str) -> tuple[int, int] | None:
    try:
        major, minor = version.split(".")
        return int(major), int(minor)
    except (AttributeError, ValueError):
        return None


def _unsupported_version(version, cluster_name: str) -> InvalidParameterException:
    # AWS's text: "InvalidParameterException: unsupported Kubernetes version 1.29" (CreateCluster
    # in 2026, nathanielecon/ContinuityOps BF-2026-012; earlier without the version, rancher#27777).
    return _invalid(f"unsupported Kubernetes version {version}", cluster_name)


def _version_view(entry: dict) -> dict:
    status = entry["versionStatus"]
    return {
        "clusterVersion": entry["clusterVersion"],
        "clusterType": "eks",
        "defaultPlatformVersion": entry["defaultPlatformVersion"],
        "defaultVersion": entry["clusterVersion"] == DEFAULT_VERSION,
        "releaseDate": _midnight(entry["releaseDate"]),
        "endOfStandardSupportDate": _midnight(entry["endOfStandardSupportDate"]),
        "endOfExtendedSupportDate": _midnight(entry["endOfExtendedSupportDate"]),
        # The deprecated `status` spells the same thing in lower case (model ClusterVersionStatus).
        "status": status.lower().replace("_", "-"),
        "versionStatus": status,
        "kubernetesPatchVersion": entry["kubernetesPatchVersion"],
    }


def _truthy(values) -> bool:
    return bool(values) and str(values[0]).lower() == "true"


def describe_cluster_versions(self):
    """Filters (model DescribeClusterVersionsRequest): clusterType (only `eks` exists here),
    clusterVersions, versionStatus (or the deprecated lower-case `status`), defaultOnly. Without
    includeAll, a status filter or named versions, only versions still offered are listed."""
    query = self.querystring
    cluster_type = (query.get("clusterType") or [None])[0]
    wanted = set(query.get("clusterVersions") or [])
    status = (query.get("versionStatus") or [None])[0]
    old_status = (query.get("status") or [None])[0]
    if old_status and not status:
        status = old_status.upper().replace("-", "_")
    entries = [e for e in VERSIONS
               if (_truthy(query.get("includeAll")) or wanted or status
                   or e["versionStatus"] != "UNSUPPORTED")
               and (not cluster_type or cluster_type == "eks")
               and (not wanted or e["clusterVersion"] in wanted)
               and (not status or e["versionStatus"] == status)
               and (not _truthy(query.get("defaultOnly")) or e["clusterVersion"] == DEFAULT_VERSION)]
    start = _page_start((query.get("nextToken") or [None])[0])
    size = int((query.get("maxResults") or [100])[0])
    page = entries[start:start + size]
    result = {"clusterVersions": [_version_view(e) for e in page]}
    if start + size < len(entries):
        result["nextToken"] = base64.b64encode(str(start + size).encode()).decode()
    return ActionResult(result)


def _page_start(token) -> int:
    if not token:
        return 0
    try:
        return int(base64.b64decode(token).decode())
    except (ValueError, UnicodeDecodeError):
        raise _invalid("The nextToken is invalid.") from None


def _check_cluster_update(cluster: Cluster, target: str) -> None:
    """One minor version up, onto a version EKS offers, with every node group on the cluster's
    version (API reference UpdateClusterVersion: "all of your node groups' Kubernetes versions
    must match the cluster's Kubernetes version")."""
    have, want = _minor(cluster.version), _minor(target)
    if have is None or want is None or want != (have[0], have[1] + 1):
        # AWS's text (terraform-aws-modules users, e.g. "from 1.18 to 1.20", "from 1.31 to 1.30";
        # rancher/rancher#40673, #43316): a downgrade, a jump and a no-op alike.
        raise _invalid(f"Unsupported Kubernetes minor version update from {cluster.version} to {target}",
                       cluster.name)
    if not offered(target):
        raise _unsupported_version(target, cluster.name)
    behind = sorted(n for n, ng in cluster.nodegroups.items() if ng.version != cluster.version)
    if behind:
        # AWS's text (hashicorp/terraform-provider-aws#19478; awsdocs/amazon-eks-user-guide#475).
        raise _invalid(f"Nodegroups {', '.join(behind)} must be updated to match cluster version "
                       f"{cluster.version} before updating cluster version", cluster.name)


def _check_nodegroup_version(cluster: Cluster, version: str, current: str | None = None) -> None:
    """A node group may not be newer than its cluster (kubelet must not be newer than the API
    server: Kubernetes version skew policy; eksctl#3727: EKS refuses it), nor move down. The
    wording is this layer's: AWS's text was not found."""
    want, top = _minor(version), _minor(cluster.version)
    if want is None or top is None or want > top:
        raise _invalid(f"Requested Nodegroup Kubernetes version {version} is newer than the "
                       f"cluster's Kubernetes version {cluster.version}", cluster.name)
    if current is not None and _minor(current) is not None and want < _minor(current):
        raise _invalid(f"Unsupported Kubernetes minor version update from {current} to {version}",
                       cluster.name)


# ---------------------------------------------------------------- the node role

EC2_PRINCIPAL_MISSING = (
    "Following required service principals [ec2.amazonaws.com] were not found in the trust "
    "relationships of nodeRole {arn}"
)
MANAGED_POLICIES_MISSING = (
    "The provided role doesn't have the Amazon EKS Managed Policies associated with it. Please "
    "ensure the following policies [{policies}] are attached"
)
WORKER_NODE_POLICY = "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"
# EKS's error names ReadOnly; the User Guide ("Amazon EKS node IAM role") now gives PullOnly as
# the policy providing the image permissions, so either is taken as the ECR one.
ECR_POLICIES = ("arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
                "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly")


def _visible_policies(role) -> set[str]:
    """Managed policies attached to the role that EKS can see: an attachment reaches EKS after
    the IAM propagation delay, like the role itself (iam.py)."""
    attached = getattr(role, "_emu_attached_at", {})
    propagating = state.SETTINGS.iam_propagation
    held = "iam_propagation" in state.SETTINGS.hold
    now = time.time()
    return {arn for arn in role.managed_policies
            if not propagating or (not held and now >= attached.get(arn, 0))}


def _check_node_role(role_arn: str, cluster_name: str) -> None:
    """CreateNodegroup's checks of nodeRole, in AWS's words. A role that does not exist keeps
    the generic "could not be assumed" text (no AWS sample for node groups was found)."""
    if not iam.role_exists(role_arn):
        raise _invalid(ROLE_NOT_ASSUMABLE.format(arn=role_arn), cluster_name)
    if not iam.assumable(role_arn, "ec2.amazonaws.com", context={}):
        # AWS's text (eksctl-io/eksctl#3290; aws/aws-k8s-tester's recorded response): a trust
        # policy without ec2.amazonaws.com, and one IAM has not propagated yet, read the same.
        raise _invalid(EC2_PRINCIPAL_MISSING.format(arn=role_arn), cluster_name)
    match = iam.ROLE_ARN.match(role_arn)
    role = next(r for r in iam.iam_backends[match.group(1)]["global"].get_roles() if r.arn == role_arn)
    visible = _visible_policies(role)
    missing = [] if WORKER_NODE_POLICY in visible else [WORKER_NODE_POLICY]
    if not visible.intersection(ECR_POLICIES):
        missing.append(ECR_POLICIES[0])
    if missing:
        # AWS's text (aws/containers-roadmap#1610; eksctl docs, iam-policies page).
        raise _invalid(MANAGED_POLICIES_MISSING.format(policies=", ".join(missing)), cluster_name)


def _attach_role_policy(original):
    def attach_role_policy(self, policy_arn, role_name):
        original(self, policy_arn, role_name)
        role = self.get_role(role_name)
        if not hasattr(role, "_emu_attached_at"):
            role._emu_attached_at = {}
        role._emu_attached_at[policy_arn] = time.time() + state.scaled("iam_propagation")

    return attach_role_policy


# ---------------------------------------------------------------- can the nodes join?

# Interface endpoints nodes need without a route out (User Guide "Private cluster requirements":
# EC2, and ECR api + dkr with S3 for image layers). STS is needed only by pods using IAM roles
# for service accounts, CloudWatch Logs, ELB and the others only by what uses them.
NODE_INTERFACE_ENDPOINTS = ("ec2", "ecr.api", "ecr.dkr")


def _route_table_of(ec2: Any, subnet_id: str, vpc_id: str):
    tables = [t for t in ec2.route_tables.values() if t.vpc_id == vpc_id]
    explicit = next((t for t in tables if subnet_id in t._associations.values()), None)
    return explicit or next((t for t in tables if t.main_association_id is not None), None)


def _route_out(ec2: Any, table) -> bool:
    for route in table.routes if table else []:
        if route.destination_cidr_block != "0.0.0.0/0":
            continue
        if route.nat_gateway is not None:
            nat = ec2.nat_gateways.get(route.nat_gateway.id)
            if nat is not None and nat.state == "available":
                return True
        elif route.gateway is not None and route.gateway.id.startswith("igw-"):
            if route.gateway.id in ec2.internet_gateways and getattr(route.gateway, "vpc", None):
                return True
        elif route.transit_gateway is not None or route.instance is not None or route.interface is not None:
            return True
    return False


def _private_path(ec2: Any, region: str, vpc_id: str, table, cluster: Cluster) -> bool:
    endpoints = [e for e in ec2.vpc_end_points.values() if e.vpc_id == vpc_id and e.state == "available"]
    names = {e.service_name for e in endpoints
             if (e.vpc_endpoint_type or "").lower() == "interface" and e.private_dns_enabled}
    if any(f"com.amazonaws.{region}.{svc}" not in names for svc in NODE_INTERFACE_ENDPOINTS):
        return False
    s3 = any(e.service_name == f"com.amazonaws.{region}.s3" and (e.vpc_endpoint_type or "Gateway").lower() == "gateway"
             and table is not None and table.id in (e.route_table_ids or []) for e in endpoints)
    # "Your cluster must have endpoint private access enabled. This is required for nodes to
    # register with the cluster endpoint." (same page)
    return s3 and bool((cluster.resources_vpc_config or {}).get("endpointPrivateAccess"))


def _nodes_can_join(backend: EKSBackend, cluster: Cluster, ng: Nodegroup) -> bool:
    ec2 = ec2_backends[backend.account_id][backend.region_name]
    for subnet_id in ng.subnets or []:
        try:
            subnet = ec2.get_subnet(subnet_id)
        except Exception:  # gone since: no nodes there
            return False
        table = _route_table_of(ec2, subnet_id, subnet.vpc_id)
        if not (_route_out(ec2, table) or _private_path(ec2, backend.region_name, subnet.vpc_id, table, cluster)):
            return False
    return True


def _node_instances(backend: EKSBackend, ng: Nodegroup) -> list[str]:
    autoscaling = autoscaling_backends[backend.account_id][backend.region_name]
    ids = []
    for group in ng.resources.get("autoScalingGroups", []):
        asg = autoscaling.autoscaling_groups.get(group["name"])
        ids += [s.instance.id for s in (asg.instance_states if asg else [])]
    return ids


# ---------------------------------------------------------------- endpoint access and logging

ENDPOINT_DEFAULTS = {"endpointPublicAccess": True, "endpointPrivateAccess": False,
                     "publicAccessCidrs": ["0.0.0.0/0"]}
ENDPOINT_KEYS = tuple(ENDPOINT_DEFAULTS)
VPC_KEYS = ("subnetIds", "securityGroupIds")
LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")  # model LogType


def _check_cidrs(cidrs, cluster_name: str) -> None:
    def valid(cidr) -> bool:
        try:
            return "/" in cidr and ipaddress.ip_network(cidr, strict=False).version == 4
        except (TypeError, ValueError):
            return False

    bad = [c for c in cidrs or [] if not valid(c)]
    if bad:
        # AWS's text, quoted in aws-cdk#33176.
        raise _invalid(f"The following CIDRs are invalid in publicAccessCidrs: [{','.join(bad)}]",
                       cluster_name)


def _enabled_types(entries, start=()) -> list[str]:
    """The enabled log types after applying `entries` ({types, enabled}, in order) to `start`;
    a type no entry names keeps its state."""
    enabled = set(start)
    for entry in entries or []:
        for kind in entry.get("types") or []:
            (enabled.add if entry.get("enabled") else enabled.discard)(kind)
    return [t for t in LOG_TYPES if t in enabled]


def _logging_view(enabled: list[str]) -> dict:
    """As DescribeCluster reports it: the enabled types, then the disabled ones."""
    disabled = [t for t in LOG_TYPES if t not in enabled]
    entries = [{"types": list(types_), "enabled": flag}
               for types_, flag in ((enabled, True), (disabled, False)) if types_]
    return {"clusterLogging": entries}


def _current_enabled(cluster: Cluster) -> list[str]:
    return _enabled_types((cluster.logging or {}).get("clusterLogging"))


def _log_group(backend: EKSBackend, cluster: Cluster) -> None:
    """EKS ships control-plane logs to /aws/eks/<name>/cluster, creating the group (no
    retention, no tags) if it does not exist; an existing one is used unchanged."""
    if _current_enabled(cluster):
        logs.ensure_group(backend.account_id, backend.region_name, f"/aws/eks/{cluster.name}/cluster")


# ---------------------------------------------------------------- updates (DescribeUpdate)


def _start_update(owner: Any, kind: str, params: list[dict], duration: str, apply=None,
                  nodegroup: bool = False) -> dict:
    """Put `owner` (cluster or node group) in UPDATING, finish after `duration`."""
    update = {
        "id": str(uuid.uuid4()), "status": "InProgress", "type": kind,
        "params": params, "createdAt": _now(), "errors": [],
    }
    owner._emu_updates = getattr(owner, "_emu_updates", {})
    owner._emu_updates[update["id"]] = update
    owner.status = "UPDATING"

    def finish() -> None:
        if apply:
            apply()
        update["status"] = "Successful"
        if owner.status == "UPDATING":
            owner.status = "ACTIVE"
        if nodegroup:
            owner.modified_at = _now()

    state.later(duration, finish)
    return update


def _require_active(owner: Any, what: str, name: str) -> None:
    if owner.status != "ACTIVE":
        raise _in_use(f"{what} {name} is currently in {owner.status} state; the operation "
                      f"cannot be performed until it is ACTIVE.")


# ---------------------------------------------------------------- the node group's ASG


def _create_asg(backend: EKSBackend, cluster: Cluster, ng: Nodegroup) -> None:
    """Create the EC2 launch template and Auto Scaling group a managed node group runs on."""
    ec2 = ec2_backends[backend.account_id][backend.region_name]
    autoscaling = autoscaling_backends[backend.account_id][backend.region_name]
    asg_name = f"eks-{ng.nodegroup_name}-{ng.uuid}"
    image_id = next(iter(ec2.amis))  # any AMI moto knows; the image is irrelevant here
    template = ec2.create_launch_template(
        name=f"eks-{ng.uuid}", description="EKS managed node group",
        template_data={"ImageId": image_id, "InstanceType": (ng.instance_types or ["t3.medium"])[0]},
        tag_spec={},
    )
    scaling = ng.scaling_config
    autoscaling.create_auto_scaling_group(
        name=asg_name, availability_zones=[],
        desired_capacity=scaling.get("desiredSize"), max_size=scaling.get("maxSize"),
        min_size=scaling.get("minSize"), launch_config_name=None,
        launch_template={"LaunchTemplateId": template.id, "Version": "1"},
        vpc_zone_identifier=",".join(ng.subnets or []), default_cooldown=None,
        health_check_period=None, health_check_type="EC2", load_balancers=[],
        target_group_arns=[], placement_group=None, termination_policies=[],
        tags=[
            {"Key": "eks:cluster-name", "Value": cluster.name, "PropagateAtLaunch": True},
            {"Key": "eks:nodegroup-name", "Value": ng.nodegroup_name, "PropagateAtLaunch": True},
            {"Key": f"kubernetes.io/cluster/{cluster.name}", "Value": "owned", "PropagateAtLaunch": True},
            {"Key": "k8s.io/cluster-autoscaler/enabled", "Value": "true", "PropagateAtLaunch": True},
        ],
    )
    ng.resources = {"autoScalingGroups": [{"name": asg_name}]}
    ng._emu_launch_template = template


def _delete_asg(backend: EKSBackend, ng: Nodegroup) -> None:
    autoscaling = autoscaling_backends[backend.account_id][backend.region_name]
    ec2 = ec2_backends[backend.account_id][backend.region_name]
    for group in ng.resources.get("autoScalingGroups", []):
        if group["name"] in autoscaling.autoscaling_groups:
            autoscaling.delete_auto_scaling_group(group["name"])
    template = getattr(ng, "_emu_launch_template", None)
    if template is not None and template.id in ec2.launch_templates:
        ec2.delete_launch_template(template.name, None)


def _scale_asg(backend: EKSBackend, ng: Nodegroup) -> None:
    autoscaling = autoscaling_backends[backend.account_id][backend.region_name]
    for group in ng.resources.get("autoScalingGroups", []):
        if group["name"] in autoscaling.autoscaling_groups:
            s = ng.scaling_config
            autoscaling.update_auto_scaling_group(
                name=group["name"], availability_zones=[], desired_capacity=s.get("desiredSize"),
                max_size=s.get("maxSize"), min_size=s.get("minSize"), launch_config_name=None,
                launch_template=None, vpc_zone_identifier=None, health_check_period=None,
                health_check_type=None,
            )


# ---------------------------------------------------------------- the cluster security group


def _create_cluster_security_group(backend: EKSBackend, cluster: Cluster) -> None:
    """AWS creates a security group for every cluster, in the VPC of its subnets, and reports it
    as resourcesVpcConfig.clusterSecurityGroupId (with vpcId); moto reports neither."""
    ec2 = ec2_backends[backend.account_id][backend.region_name]
    config = dict(cluster.resources_vpc_config or {})
    subnets = config.get("subnetIds") or []
    vpc_id = next((s.vpc_id for s in ec2.describe_subnets(subnet_ids=subnets[:1])), None) if subnets else None
    if vpc_id is None:
        return
    group = ec2.create_security_group(
        name=f"eks-cluster-sg-{cluster.name}-{uuid.uuid4().hex[:10]}",
        description="EKS created security group applied to ENI that is attached to EKS Control "
                    "Plane master nodes, as well as any managed workloads.",
        vpc_id=vpc_id,
        tags={"aws:eks:cluster-name": cluster.name, f"kubernetes.io/cluster/{cluster.name}": "owned"},
    )
    config["clusterSecurityGroupId"] = group.id
    config["vpcId"] = vpc_id
    cluster.resources_vpc_config = config
    cluster._emu_security_group = group.id


def _delete_cluster_security_group(backend: EKSBackend, cluster: Cluster) -> None:
    """AWS deletes the cluster security group with the cluster."""
    group_id = getattr(cluster, "_emu_security_group", None)
    if group_id is None:
        return
    ec2 = ec2_backends[backend.account_id][backend.region_name]
    try:
        ec2.delete_security_group(group_id=group_id)
    except Exception:  # already gone, or still referenced: AWS would retry; nothing to do here
        pass


# ---------------------------------------------------------------- backend patches


def _create_cluster(original):
    def create_cluster(self, name, role_arn, resources_vpc_config, *args, **kwargs):
        if name not in self.clusters:
            # Without a version EKS uses its default one (model CreateClusterRequest.version).
            kwargs["version"] = kwargs.get("version") or DEFAULT_VERSION
            if not offered(kwargs["version"]):
                raise _unsupported_version(kwargs["version"], name)
            _check_cidrs((resources_vpc_config or {}).get("publicAccessCidrs"), name)
            _check_role(role_arn, "eks.amazonaws.com", name)
        cluster = original(self, name, role_arn, resources_vpc_config, *args, **kwargs)
        cluster.status = "CREATING"
        # Its Kubernetes API, served by the emulator (moto names a random host nobody answers).
        cluster.endpoint = kubernetes.serve(self, cluster) or cluster.endpoint
        cluster._emu_access_entries = {}
        cluster.resources_vpc_config = {**ENDPOINT_DEFAULTS, **(resources_vpc_config or {})}
        cluster.logging = _logging_view(_enabled_types((kwargs.get("logging") or {}).get("clusterLogging")))
        _create_cluster_security_group(self, cluster)

        def activate() -> None:
            if cluster.status == "CREATING":
                cluster.status = "ACTIVE"
                _log_group(self, cluster)  # the control plane starts shipping its logs

        state.later("eks_cluster_create", activate, subject=name)
        return cluster

    return create_cluster


def _delete_cluster(original):
    def delete_cluster(self, name):
        cluster = self.clusters.get(name)
        if cluster is None or cluster.nodegroups:
            return original(self, name)  # moto's not-found / "Cluster has nodegroups attached"
        if cluster.status == "DELETING":
            return cluster
        cluster.status = "DELETING"

        def gone() -> None:
            if self.clusters.get(name) is cluster:
                self.clusters.pop(name)
                self.cluster_count -= 1
                _delete_cluster_security_group(self, cluster)

        state.later("eks_cluster_delete", gone, subject=name)
        return cluster

    return delete_cluster


def _create_nodegroup(original):
    def create_nodegroup(self, cluster_name, node_role, nodegroup_name, subnets, *args, **kwargs):
        cluster = self.clusters.get(cluster_name)
        if cluster is not None and nodegroup_name not in cluster.nodegroups and cluster.is_active:
            # A node group runs its cluster's version unless told otherwise (model
            # CreateNodegroupRequest.version); moto defaulted to 1.19.
            kwargs["version"] = kwargs.get("version") or cluster.version
            _check_nodegroup_version(cluster, kwargs["version"])
            _check_node_role(node_role, cluster_name)
        ng = original(self, cluster_name, node_role, nodegroup_name, subnets, *args, **kwargs)
        # moto shares one module-level dict as the default scaling config: copy it.
        ng.scaling_config = dict(ng.scaling_config)
        ng.status = "CREATING"
        ng.health = {"issues": []}
        _create_asg(self, cluster, ng)

        def activate() -> None:
            if ng.status != "CREATING":
                return
            if _nodes_can_join(self, cluster, ng):
                ng.status = "ACTIVE"
                return
            # The instances boot but cannot reach EKS, ECR or EC2; AWS gives up on them
            # (User Guide "Troubleshoot", NodeCreationFailure: "Instances failed to join the
            # kubernetes cluster").
            ng.status = "CREATE_FAILED"
            ng.health = {"issues": [{"code": "NodeCreationFailure",
                                     "message": "Instances failed to join the kubernetes cluster",
                                     "resourceIds": _node_instances(self, ng)}]}

        state.later("eks_nodegroup_create", activate, subject=nodegroup_name)
        return ng

    return create_nodegroup


def _delete_nodegroup(original):
    def delete_nodegroup(self, cluster_name, nodegroup_name):
        cluster = self.clusters.get(cluster_name)
        ng = cluster.nodegroups.get(nodegroup_name) if cluster else None
        if ng is None:
            return original(self, cluster_name, nodegroup_name)  # moto's not-found errors
        if ng.status == "DELETING":
            return ng
        ng.status = "DELETING"

        def gone() -> None:
            _delete_asg(self, ng)
            if cluster.nodegroups.get(nodegroup_name) is ng:
                cluster.nodegroups.pop(nodegroup_name)
                cluster.nodegroup_count -= 1
                _leave_cni_enis(self, cluster, ng)

        state.later("eks_nodegroup_delete", gone, subject=nodegroup_name)
        return ng

    return delete_nodegroup


def _node_security_groups(ec2: Any, cluster: Cluster, ng: Nodegroup) -> list[str]:
    """The nodes' groups: those of the node group's launch template if it names any (EKS then
    does not add the cluster security group: EKS User Guide, "Customize managed nodes with launch
    templates"), else the cluster security group."""
    spec = ng.launch_template or {}
    template = ec2.launch_templates.get(spec.get("id")) or next(
        (t for t in ec2.launch_templates.values() if t.name == spec.get("name")), None)
    if template is not None:
        version = spec.get("version")  # a number, $Latest or $Default; none means the default
        data = (template.get_version(version) if version else template.default_version()).data
        groups = list(data.get("SecurityGroupIds") or [])
        for interface in data.get("NetworkInterfaces") or []:
            groups += [g for g in interface.get("Groups") or [] if g not in groups]
        if groups:
            return groups
    cluster_group = (cluster.resources_vpc_config or {}).get("clusterSecurityGroupId")
    return [cluster_group] if cluster_group else []


def _leave_cni_enis(backend: EKSBackend, cluster: Cluster, ng: Nodegroup) -> None:
    """The VPC CNI's secondary interfaces of the terminated nodes, left available (enis.py)."""
    ec2 = ec2_backends[backend.account_id][backend.region_name]
    enis.leave_cni_enis(ec2, cluster.name, list(ng.subnets or []), _node_security_groups(ec2, cluster, ng))


def _find_taggable(backend: EKSBackend, arn: str) -> Any:
    for cluster in backend.clusters.values():
        if cluster.arn == arn:
            return cluster
        for ng in cluster.nodegroups.values():
            if ng.arn == arn:
                return ng
        for entry in _entries(cluster).values():
            if entry["accessEntryArn"] == arn:
                # Shares the entry's tag dict, so tagging through it changes the entry.
                return types.SimpleNamespace(tags=entry["tags"])
    raise ResourceNotFoundException(clusterName=None, nodegroupName=None, fargateProfileName=None,
                                    addonName=None, message="Resource was not found")


def _tag_resource(self, resource_arn, tags):
    _find_taggable(self, resource_arn).tags.update(tags)


def _untag_resource(self, resource_arn, tag_keys):
    target = _find_taggable(self, resource_arn)
    for key in [tag_keys] if isinstance(tag_keys, str) else tag_keys:
        target.tags.pop(key, None)


def untag_resource(self):
    # moto reads only the first of the repeated `tagKeys` query parameters.
    keys = self.querystring.get("tagKeys") or []
    self.eks_backend.untag_resource(self._extract_arn_from_path(), keys)
    return EmptyResult()


def _list_tags_for_resource(self, resource_arn):
    return _find_taggable(self, resource_arn).tags


# ---------------------------------------------------------------- response (API) additions


def _cluster(resp: EKSResponse) -> Cluster:
    name = resp._get_param("name")
    cluster = resp.eks_backend.clusters.get(name)
    if cluster is None:
        raise _not_found(f"No cluster found for name: {name}.")
    return cluster


def _nodegroup(resp: EKSResponse, cluster: Cluster) -> Nodegroup:
    name = resp._get_param("nodegroupName")
    ng = cluster.nodegroups.get(name)
    if ng is None:
        raise _not_found(f"No node group found for name: {name}.")
    return ng


def _create_cluster_response(original):
    def create_cluster(self):
        result = original(self)
        # moto drops accessConfig; AWS defaults to API_AND_CONFIG_MAP when it is omitted
        # (for new clusters created through the API since 2024).
        cluster = self.eks_backend.clusters[self._get_param("name")]
        access = self._get_param("accessConfig") or {}
        cluster.access_config = {
            "authenticationMode": access.get("authenticationMode", "API_AND_CONFIG_MAP"),
            "bootstrapClusterCreatorAdminPermissions": access.get(
                "bootstrapClusterCreatorAdminPermissions", True),
        }
        # moto drops upgradePolicy; AWS keeps it, EXTENDED when not sent (model
        # UpgradePolicyRequest: "The default value is EXTENDED").
        policy = self._get_param("upgradePolicy") or {}
        cluster.upgrade_policy = {"supportType": policy.get("supportType") or "EXTENDED"}
        return result

    return create_cluster


def _require_no_update(cluster: Cluster, kind: str) -> None:
    """AWS runs one cluster update at a time (aws-controllers-k8s/community#1192, aws-cdk#33452)."""
    running = next((u for u in getattr(cluster, "_emu_updates", {}).values()
                    if u["status"] == "InProgress"), None)
    if running is not None:
        raise _in_use(f"Cannot {kind} because cluster {cluster.name} currently has update "
                      f"{running['id']} in progress", cluster.name)


def _update_kinds(vpc: dict, logging, access, upgrade=None) -> list[str]:
    kinds = []
    if any(key in vpc for key in ENDPOINT_KEYS):
        kinds.append("EndpointAccessUpdate")
    if any(key in vpc for key in VPC_KEYS):
        kinds.append("VpcConfigUpdate")
    if logging:
        kinds.append("LoggingUpdate")
    if access:
        kinds.append("AccessConfigUpdate")
    if upgrade:
        kinds.append("UpgradePolicyUpdate")
    return kinds


def _flag(value) -> str:
    return "true" if value else "false"


def _compact(value) -> str:
    return json.dumps(value, separators=(",", ":"))


def _endpoint_update(cluster: Cluster, vpc: dict) -> tuple[list[dict], dict]:
    current = cluster.resources_vpc_config or {}
    sent = {key: vpc[key] for key in ENDPOINT_KEYS if key in vpc}
    _check_cidrs(sent.get("publicAccessCidrs"), cluster.name)
    if all(current.get(key) == value for key, value in sent.items()):
        # AWS's text (eksctl#4043, aws-controllers-k8s/community#1855).
        raise _invalid(
            f"Cluster is already at the desired configuration with endpointPrivateAccess: "
            f"{_flag(current.get('endpointPrivateAccess'))} , endpointPublicAccess: "
            f"{_flag(current.get('endpointPublicAccess'))}, and Public Endpoint Restrictions: "
            f"[{', '.join(current.get('publicAccessCidrs') or [])}]", cluster.name)
    params = []
    for key, kind, shape in (("endpointPrivateAccess", "EndpointPrivateAccess", _flag),
                             ("endpointPublicAccess", "EndpointPublicAccess", _flag),
                             ("publicAccessCidrs", "PublicAccessCidrs", _compact)):
        if key in sent:
            params.append({"type": kind, "value": shape(sent[key])})
    return params, sent


def _vpc_update(cluster: Cluster, vpc: dict) -> tuple[list[dict], dict]:
    current = cluster.resources_vpc_config or {}
    sent = {key: vpc[key] for key in VPC_KEYS if key in vpc}
    if all(sorted(current.get(key) or []) == sorted(value or []) for key, value in sent.items()):
        # The text is modelled on the endpoint one; AWS's own wording was not found.
        raise _invalid(f"Cluster is already at the desired configuration with subnetIds: "
                       f"[{', '.join(current.get('subnetIds') or [])}] and securityGroupIds: "
                       f"[{', '.join(current.get('securityGroupIds') or [])}]", cluster.name)
    names = {"subnetIds": "Subnets", "securityGroupIds": "SecurityGroups"}
    return [{"type": names[key], "value": _compact(value)} for key, value in sent.items()], sent


def _logging_update(cluster: Cluster, logging: dict) -> tuple[list[dict], list[str]]:
    entries = [{"types": list(e.get("types") or []), "enabled": bool(e.get("enabled"))}
               for e in logging.get("clusterLogging") or []]
    enabled = _enabled_types(entries, _current_enabled(cluster))
    if enabled == _current_enabled(cluster):
        # AWS's text (aws-quickstart/quickstart-amazon-eks-cluster-resource-provider#38).
        raise _invalid("No changes needed for the logging config provided", cluster.name)
    return [{"type": "ClusterLogging", "value": _compact({"clusterLogging": entries})}], enabled


def update_cluster_config(self):
    """One kind of update per call, as AWS allows: endpoint access (EndpointAccessUpdate),
    subnets/security groups (VpcConfigUpdate), logging (LoggingUpdate) or the authentication
    mode (AccessConfigUpdate). Applied when the update finishes, merged into what is there."""
    cluster = _cluster(self)
    vpc = self._get_param("resourcesVpcConfig") or {}
    logging = self._get_param("logging")
    access = self._get_param("accessConfig")
    upgrade = self._get_param("upgradePolicy")
    kinds = _update_kinds(vpc, logging, access, upgrade)
    if len(kinds) > 1:
        # AWS's text (cloud-custodian#9250, aws-cdk#21439, cluster-api-provider-aws#4918).
        raise _invalid("Only one type of update can be allowed.", cluster.name)
    if not kinds:
        # AWS's text (aws-controllers-k8s/community#3046).
        raise _invalid("The type for cluster update was not provided.", cluster.name)
    kind = kinds[0]
    _require_no_update(cluster, kind)
    _require_active(cluster, "Cluster", cluster.name)
    backend = self.eks_backend

    if kind in ("EndpointAccessUpdate", "VpcConfigUpdate"):
        params, sent = (_endpoint_update if kind == "EndpointAccessUpdate" else _vpc_update)(cluster, vpc)

        def apply() -> None:
            cluster.resources_vpc_config = {**(cluster.resources_vpc_config or {}), **sent}
    elif kind == "LoggingUpdate":
        params, enabled = _logging_update(cluster, logging)

        def apply() -> None:
            cluster.logging = _logging_view(enabled)
            _log_group(backend, cluster)
    elif kind == "UpgradePolicyUpdate":
        support = upgrade.get("supportType") or "EXTENDED"
        params = [{"type": "UpgradePolicy", "value": support}]

        def apply() -> None:
            cluster.upgrade_policy = {"supportType": support}
    else:
        params = [{"type": "AuthenticationMode", "value": access.get("authenticationMode", "")}]

        def apply() -> None:
            cluster.access_config = {**getattr(cluster, "access_config", {}), **access}

    return ActionResult({"update": _start_update(cluster, kind, params, "eks_cluster_config_update", apply)})


def update_cluster_version(self):
    cluster = _cluster(self)
    _require_no_update(cluster, "VersionUpdate")
    _require_active(cluster, "Cluster", cluster.name)
    version = self._get_param("version")
    _check_cluster_update(cluster, version)

    def apply() -> None:
        cluster.version = version

    update = _start_update(cluster, "VersionUpdate", [{"type": "Version", "value": version}],
                           "eks_cluster_version_update", apply)
    return ActionResult({"update": update})


def update_nodegroup_config(self):
    cluster = _cluster(self)
    ng = _nodegroup(self, cluster)
    _require_active(ng, "Nodegroup", ng.nodegroup_name)
    scaling = self._get_param("scalingConfig")
    labels = self._get_param("labels")
    params = []
    if scaling:
        merged = {**ng.scaling_config, **scaling}
        if not merged["minSize"] <= merged["desiredSize"] <= merged["maxSize"]:
            raise InvalidParameterException(
                clusterName=cluster.name, nodegroupName=ng.nodegroup_name,
                message="Minimum capacity %d can't be greater than desired size %d"
                % (merged["minSize"], merged["desiredSize"]) if merged["minSize"] > merged["desiredSize"]
                else "Desired capacity %d can't be greater than max size %d"
                % (merged["desiredSize"], merged["maxSize"]))
        ng.scaling_config = merged
        _scale_asg(self.eks_backend, ng)  # the ASG changes right away, the node group settles later
        for key in ("minSize", "maxSize", "desiredSize"):
            if key in scaling:
                params.append({"type": key[0].upper() + key[1:], "value": str(scaling[key])})
    if labels:
        ng.labels.update(labels.get("addOrUpdateLabels", {}))
        for key in labels.get("removeLabels", []):
            ng.labels.pop(key, None)
        params.append({"type": "LabelsToAdd", "value": str(labels.get("addOrUpdateLabels", {}))})
    update = _start_update(ng, "ConfigUpdate", params, "eks_nodegroup_config_update", nodegroup=True)
    return ActionResult({"update": update})


def update_nodegroup_version(self):
    cluster = _cluster(self)
    ng = _nodegroup(self, cluster)
    _require_active(ng, "Nodegroup", ng.nodegroup_name)
    # Without a version the node group keeps its own (API reference UpdateNodegroupVersion: "If
    # no version is specified, then the Kubernetes version of the node group does not change").
    version = self._get_param("version") or ng.version
    _check_nodegroup_version(cluster, version, ng.version)
    release = self._get_param("releaseVersion")
    template = _new_template_version(self, ng)

    def apply() -> None:
        ng.version = version
        if release:
            ng.release_version = release
        if template:
            ng.launch_template.update(template)

    params = [{"type": "Version", "value": version}]
    if release:
        params.append({"type": "ReleaseVersion", "value": release})
    if template:
        params.append({"type": "LaunchTemplateVersion", "value": template["version"]})
    update = _start_update(ng, "VersionUpdate", params, "eks_nodegroup_version_update", apply, nodegroup=True)
    return ActionResult({"update": update})


def _new_template_version(self, ng) -> dict | None:
    """The launch template version UpdateNodegroupVersion rolls out, checked as EKS checks it:
    only a node group made from a launch template can move to another version of that same
    template, and the version must exist."""
    wanted = self._get_param("launchTemplate")
    if not wanted:
        return None
    current = ng.launch_template
    if not current:
        raise _invalid(
            "You cannot specify a launch template for a node group that was not created with one."
        )
    if wanted.get("id", current.get("id")) != current.get("id") or wanted.get(
        "name", current.get("name")
    ) != current.get("name"):
        raise _invalid("You cannot change the launch template of a node group, only its version.")
    version = str(wanted.get("version", ""))
    from moto.ec2.models import ec2_backends

    ec2 = ec2_backends[self.current_account][self.region]
    lt = ec2.describe_launch_templates(template_ids=[current["id"]])[0]
    if not version.isdigit() or not any(str(v.number) == version for v in lt.versions):
        raise _invalid(f"Launch template version {version} does not exist.")
    return {"version": version}


def describe_update(self):
    cluster = _cluster(self)
    owner = _nodegroup(self, cluster) if self._get_param("nodegroupName") else cluster
    update = getattr(owner, "_emu_updates", {}).get(self._get_param("updateId"))
    if update is None:
        raise _not_found(f"No update found for ID: {self._get_param('updateId')}")
    return ActionResult({"update": update})


def list_updates(self):
    cluster = _cluster(self)
    owner = _nodegroup(self, cluster) if self._get_param("nodegroupName") else cluster
    return ActionResult({"updateIds": list(getattr(owner, "_emu_updates", {}))})


# ---- access entries (moto has none)


def _entries(cluster: Cluster) -> dict:
    if not hasattr(cluster, "_emu_access_entries"):
        cluster._emu_access_entries = {}
    return cluster._emu_access_entries


def _entry(resp: EKSResponse, cluster: Cluster) -> dict:
    principal = resp._get_param("principalArn")
    entry = _entries(cluster).get(principal)
    if entry is None:
        raise _not_found(f"The specified access entry resource {principal} could not be found.")
    return entry


def _require_api_auth(cluster: Cluster) -> None:
    mode = getattr(cluster, "access_config", {}).get("authenticationMode", "API_AND_CONFIG_MAP")
    if mode not in ("API", "API_AND_CONFIG_MAP"):
        raise InvalidRequestException(message=AUTH_MODE_MSG)


def create_access_entry(self):
    cluster = _cluster(self)
    _require_api_auth(cluster)
    if cluster.status in ("CREATING", "DELETING"):
        raise _in_use(f"Cluster {cluster.name} is currently in {cluster.status} state.", cluster.name)
    principal = self._get_param("principalArn")
    match = iam.ROLE_ARN.match(principal or "")
    if principal in _entries(cluster):
        raise _in_use("The specified access entry resource is already in use on this cluster.", cluster.name)
    if match and not iam.role_exists(principal):
        raise InvalidParameterException(
            clusterName=cluster.name, message=f"The specified principalArn is invalid: invalid principal {principal}")
    account, name = (match.group(1), match.group(2)) if match else (self.current_account, "principal")
    entry_type = self._get_param("type") or "STANDARD"
    entry = {
        "clusterName": cluster.name,
        "principalArn": principal,
        "kubernetesGroups": self._get_param("kubernetesGroups") or [],
        "accessEntryArn": f"arn:aws:eks:{self.region}:{account}:access-entry/{cluster.name}/role/{account}/{name}/{uuid.uuid4().hex[:20]}",
        "createdAt": _now(), "modifiedAt": _now(),
        "tags": self._get_param("tags") or {},
        "username": self._get_param("username")
        or f"arn:aws:sts::{account}:assumed-role/{name}/{{{{SessionName}}}}",
        "type": entry_type,
        "_policies": {},
    }
    _entries(cluster)[principal] = entry
    return ActionResult({"accessEntry": _public(entry)})


def _public(entry: dict) -> dict:
    return {k: v for k, v in entry.items() if not k.startswith("_")}


def describe_access_entry(self):
    return ActionResult({"accessEntry": _public(_entry(self, _cluster(self)))})


def update_access_entry(self):
    entry = _entry(self, _cluster(self))
    for key in ("kubernetesGroups", "username"):
        if self._get_param(key) is not None:
            entry[key] = self._get_param(key)
    entry["modifiedAt"] = _now()
    return ActionResult({"accessEntry": _public(entry)})


def list_access_entries(self):
    cluster = _cluster(self)
    policy = self._get_param("associatedPolicyArn")
    arns = [p for p, e in _entries(cluster).items() if not policy or policy in e["_policies"]]
    return ActionResult({"accessEntries": arns})


def delete_access_entry(self):
    cluster = _cluster(self)
    entry = _entry(self, cluster)
    _entries(cluster).pop(entry["principalArn"])
    return EmptyResult()


def associate_access_policy(self):
    cluster = _cluster(self)
    entry = _entry(self, cluster)
    policy_arn = self._get_param("policyArn")
    if not (policy_arn or "").startswith("arn:aws:eks::aws:cluster-access-policy/"):
        raise InvalidParameterException(clusterName=cluster.name,
                                        message=f"The policyArn {policy_arn} is not a valid access policy.")
    scope = self._get_param("accessScope") or {"type": "cluster"}
    if scope.get("type") == "namespace" and not scope.get("namespaces"):
        # The model: namespaces "is required if you specified namespace for Type". AWS's exact
        # text was not found; code and status are those of the other parameter errors.
        raise InvalidParameterException(
            clusterName=cluster.name,
            message="The namespaces field is required when the access scope type is namespace.")
    now = _now()
    previous = entry["_policies"].get(policy_arn)
    entry["_policies"][policy_arn] = {
        "policyArn": policy_arn, "accessScope": scope,
        "associatedAt": previous["associatedAt"] if previous else now, "modifiedAt": now,
    }
    return ActionResult({"clusterName": cluster.name, "principalArn": entry["principalArn"],
                         "associatedAccessPolicy": entry["_policies"][policy_arn]})


def list_associated_access_policies(self):
    cluster = _cluster(self)
    entry = _entry(self, cluster)
    return ActionResult({"clusterName": cluster.name, "principalArn": entry["principalArn"],
                         "associatedAccessPolicies": list(entry["_policies"].values())})


def disassociate_access_policy(self):
    cluster = _cluster(self)
    entry = _entry(self, cluster)
    entry["_policies"].pop(self._get_param("policyArn"), None)
    return EmptyResult()


NEW_PATHS = {
    # Greedy on purpose: principal and policy ARNs arrive percent-decoded, slashes included.
    # The operation is picked by moto's botocore-model router from the raw path, not by these.
    "{0}/clusters/(?P<name>[^/]+)/access-entries$": None,
    "{0}/clusters/(?P<name>[^/]+)/access-entries/(?P<rest>.+)$": None,
    "{0}/clusters/(?P<name>[^/]+)/updates$": None,
    "{0}/clusters/(?P<name>[^/]+)/updates/(?P<updateId>[^/]+)$": None,
    "{0}/clusters/(?P<name>[^/]+)/node-groups/(?P<nodegroupName>[^/]+)/update-version$": None,
    "{0}/cluster-versions$": None,
}


def install() -> None:
    wrap(EKSBackend, "create_cluster", _create_cluster)
    wrap(EKSBackend, "delete_cluster", _delete_cluster)
    wrap(EKSBackend, "create_nodegroup", _create_nodegroup)
    wrap(EKSBackend, "delete_nodegroup", _delete_nodegroup)
    wrap(IAMBackend, "attach_role_policy", _attach_role_policy)
    EKSBackend.tag_resource = _tag_resource
    EKSBackend.untag_resource = _untag_resource
    EKSBackend.list_tags_for_resource = _list_tags_for_resource
    Cluster.access_config = {"authenticationMode": "CONFIG_MAP"}
    Cluster.upgrade_policy = {"supportType": "EXTENDED"}
    wrap(EKSResponse, "create_cluster", _create_cluster_response)
    for handler in (update_cluster_config, update_cluster_version, update_nodegroup_config,
                    update_nodegroup_version, describe_update, list_updates, create_access_entry,
                    describe_access_entry, update_access_entry, list_access_entries,
                    delete_access_entry, associate_access_policy, list_associated_access_policies,
                    disassociate_access_policy, untag_resource, describe_cluster_versions):
        setattr(EKSResponse, handler.__name__, handler)
    dispatch = EKSResponse.dispatch
    for path in NEW_PATHS:
        eks_urls.url_paths[path] = dispatch
