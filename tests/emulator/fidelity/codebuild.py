"""CodeBuild: UpdateProject, service-role checks, and builds that take time.

What moto 5.2.5 does differently (moto/codebuild/models.py, responses.py):
- no UpdateProject at all;
- any role ARN of the right account is accepted; AWS refuses a role CodeBuild cannot assume yet
  (IAM propagation) with InvalidInputException "CodeBuild is not authorized to perform:
  sts:AssumeRole on <role arn>";
- a build is QUEUED when started and COMPLETED/SUCCEEDED with random phase durations on the first
  BatchGetBuilds; logs point at group "null".

Here a build's state is a pure function of the time since StartBuild: phases follow each other
with the durations of latency.CODEBUILD_PHASES (scaled), so BatchGetBuilds shows the current
phase, finished phases with their durations, and the final status. With the runtime setting
`codebuild_fail_phase`, builds started afterwards fail in that phase, as AWS reports it.
"""

import time
import uuid
from datetime import datetime, timezone

from moto.codebuild.exceptions import InvalidInputException, ResourceNotFoundException
from moto.codebuild.models import CodeBuildBackend
from moto.codebuild.responses import CodeBuildResponse
from moto.core.responses import ActionResult

import state
from latency import CODEBUILD_PHASES

from . import iam
from .util import wrap

NOT_AUTHORIZED = "CodeBuild is not authorized to perform: sts:AssumeRole on {arn}"
# On AWS a failure in these phases still runs the ones after them; any other failure skips to
# FINALIZING (buildspec semantics: post_build runs after a failed build phase).
RUNS_AFTER_FAILURE = {"BUILD": ["POST_BUILD", "UPLOAD_ARTIFACTS", "FINALIZING", "COMPLETED"]}
FAILURE_CONTEXT = {
    "DOWNLOAD_SOURCE": ("CLIENT_ERROR", "repository not found for primary source and source version"),
    "PROVISIONING": ("BUILD_CONTAINER_UNABLE_TO_PULL_IMAGE", "Unable to pull customer's container image"),
}


def _ts(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def _check_role(role_arn: str) -> None:
    if role_arn and not iam.assumable(role_arn, "codebuild.amazonaws.com"):
        raise InvalidInputException(NOT_AUTHORIZED.format(arn=role_arn))


class Build:
    """One build; its phases are laid out at start and revealed as time passes."""

    def __init__(self, backend: CodeBuildBackend, project, number: int, source_version) -> None:
        self.uuid = str(uuid.uuid4())
        self.project_name = project.project_metadata["name"]
        self.id = f"{self.project_name}:{self.uuid}"
        self.arn = f"arn:aws:codebuild:{backend.region_name}:{backend.account_id}:build/{self.id}"
        self.number = number
        self.started = time.time()
        self.stopped_at: float | None = None
        self.source_version = source_version
        self.project = project
        self.plan = self._plan(state.SETTINGS.codebuild_fail_phase)

    def _plan(self, fail_phase):
        """[(phase, status, start, end)] in real (scaled) seconds since start."""
        scale = state.SETTINGS.time_scale
        names = [name for name, _ in CODEBUILD_PHASES]
        durations = dict(CODEBUILD_PHASES)
        order = names
        if fail_phase in names and fail_phase not in ("SUBMITTED", "COMPLETED"):
            cut = names.index(fail_phase) + 1
            order = names[:cut] + RUNS_AFTER_FAILURE.get(fail_phase, ["FINALIZING", "COMPLETED"])
        plan, t = [], 0.0
        for name in order:
            status = "FAILED" if name == fail_phase else "SUCCEEDED"
            plan.append((name, status, t, t + durations[name] * scale))
            t += durations[name] * scale
        return plan

    def view(self) -> dict:
        now = time.time()
        elapsed = now - self.started
        if self.stopped_at is not None:
            elapsed = min(elapsed, self.stopped_at - self.started)
        phases, current, failed = [], None, False
        for name, status, start, end in self.plan:
            if start > elapsed:
                break
            entry = {"phaseType": name, "startTime": _ts(self.started + start)}
            if name == "COMPLETED":
                current = name
                phases.append(entry)
                break
            if end <= elapsed:
                entry.update(endTime=_ts(self.started + end), phaseStatus=status,
                             durationInSeconds=int(round(end - start)))
                if status == "FAILED":
                    failed = True
                    code, message = FAILURE_CONTEXT.get(
                        name, ("COMMAND_EXECUTION_ERROR",
                               "Error while executing command: exit 1. Reason: exit status 1"))
                    entry["contexts"] = [{"statusCode": code, "message": message}]
            current = name
            phases.append(entry)
        if self.stopped_at is not None and current != "COMPLETED":
            if phases and "phaseStatus" not in phases[-1]:
                phases[-1].update(endTime=_ts(self.stopped_at), phaseStatus="STOPPED", durationInSeconds=0)
            phases.append({"phaseType": "COMPLETED", "startTime": _ts(self.stopped_at)})
            current = "COMPLETED"
        complete = current == "COMPLETED"
        status = "IN_PROGRESS"
        if self.stopped_at is not None:
            status = "STOPPED"
        elif complete:
            status = "FAILED" if failed else "SUCCEEDED"
        meta = self.project.project_metadata
        build = {
            "id": self.id, "arn": self.arn, "buildNumber": self.number,
            "startTime": _ts(self.started), "currentPhase": current, "buildStatus": status,
            "sourceVersion": self.source_version or meta.get("sourceVersion") or "refs/heads/main",
            "projectName": self.project_name, "phases": phases,
            "source": meta.get("source"), "artifacts": {"location": ""},
            "environment": meta.get("environment"), "serviceRole": meta.get("serviceRole"),
            "logs": {
                "groupName": f"/aws/codebuild/{self.project_name}", "streamName": self.uuid,
                "deepLink": "https://console.aws.amazon.com/cloudwatch/home?region="
                f"{self.arn.split(':')[3]}#logEvent:group=/aws/codebuild/{self.project_name};stream={self.uuid}",
            },
            "timeoutInMinutes": meta.get("timeoutInMinutes") or 60,
            "queuedTimeoutInMinutes": meta.get("queuedTimeoutInMinutes") or 480,
            "buildComplete": complete, "initiator": "infra",
        }
        if complete:
            build["endTime"] = phases[-1]["startTime"]
        return build


def _builds(backend: CodeBuildBackend) -> dict:
    if not hasattr(backend, "_emu_builds"):
        backend._emu_builds = {}
    return backend._emu_builds


def start_build(self, project_name, source_version=None, artifact_override=None):
    project = self.codebuild_projects[project_name]
    history = self.build_history.setdefault(project_name, [])
    build = Build(self, project, len(history) + 1, source_version)
    _builds(self)[build.id] = build
    history.append(build.id)
    return build.view()


def batch_get_builds(self, ids):
    builds = _builds(self)
    return [builds[i].view() for i in ids if i in builds]


def stop_build(self, build_id):
    build = _builds(self)[build_id]
    if not build.view()["buildComplete"]:
        build.stopped_at = time.time()
    return build.view()


def list_builds_for_project(self, project_name):
    # AWS returns the newest first (sortOrder defaults to DESCENDING).
    return list(reversed(self.build_history.get(project_name, [])))


def _create_project(original):
    def create_project(self):
        _check_role(self._get_param("serviceRole"))
        return original(self)

    return create_project


UPDATABLE = {
    "description": "description", "source": "source", "artifacts": "artifacts",
    "environment": "environment", "serviceRole": "serviceRole", "cache": "cache",
    "timeoutInMinutes": "timeoutInMinutes", "queuedTimeoutInMinutes": "queuedTimeoutInMinutes",
    "sourceVersion": "sourceVersion", "logsConfig": "logsConfig", "vpcConfig": "vpcConfig",
    "tags": "tags", "badgeEnabled": None,
}


def update_project(self):
    name = self._get_param("name")
    project = self.codebuild_backend.codebuild_projects.get(name)
    if project is None:
        raise ResourceNotFoundException(
            f"Failed to call UpdateProject, reason: Project not found: "
            f"arn:aws:codebuild:{self.region}:{self.current_account}:project/{name}")
    role = self._get_param("serviceRole")
    if role:
        _check_role(role)
    meta = project.project_metadata
    for param, key in UPDATABLE.items():
        value = self._get_param(param)
        if value is None:
            continue
        if param == "badgeEnabled":
            meta["badge"] = {"badgeEnabled": bool(value)}
        else:
            meta[key] = value
    project.service_role = meta["serviceRole"]
    project.tags = meta.get("tags")
    meta["lastModifiedDate"] = time.time()
    return ActionResult({"project": meta})


def install() -> None:
    CodeBuildBackend.start_build = start_build
    CodeBuildBackend.batch_get_builds = batch_get_builds
    CodeBuildBackend.stop_build = stop_build
    CodeBuildBackend.list_builds_for_project = list_builds_for_project
    wrap(CodeBuildResponse, "create_project", _create_project)
    CodeBuildResponse.update_project = update_project
