"""CodeBuild: UpdateProject, service-role checks, and builds that take time.

What moto 5.2.5 does differently (moto/codebuild/models.py, responses.py):
- no UpdateProject at all;
- any role ARN of the right account is accepted; AWS refuses a role CodeBuild cannot assume yet
  (IAM propagation) with InvalidInputException "CodeBuild is not authorized to perform:
  sts:AssumeRole on <role arn>";
- a build is QUEUED when started and COMPLETED/SUCCEEDED with random phase durations on the first
  BatchGetBuilds; logs point at group "null".

- no range or enum checks: timeoutInMinutes 3 or 3000, queuedTimeoutInMinutes 1000 and an
  environment variable of type "BOGUS" are stored; AWS refuses values outside the model's
  BuildTimeOut (5-2160), TimeOut (5-480) and EnvironmentVariableType enum;
- a project created without timeouts reports 0/0 (AWS: 60/480);
- StartBuild ignores environmentVariablesOverride, and the build reports no log group;
- CreateProject refuses the source types moto's list lacks (GITLAB, GITLAB_SELF_MANAGED) with
  "Invalid type provided: Project source type"; AWS takes every type of the model's SourceType.

Here a build's state is a pure function of the time since StartBuild: phases follow each other
with the durations of latency.CODEBUILD_PHASES (scaled), so BatchGetBuilds shows the current
phase, finished phases with their durations, and the final status. With the runtime setting
`codebuild_fail_phase`, builds started afterwards fail in that phase, as AWS reports it.
A build keeps the environment (with its overrides) and the logs settings it started with. When
it reaches PROVISIONING with CloudWatch logs enabled, CodeBuild creates its log group (the
configured one, else /aws/codebuild/<project>) if absent - no retention, no tags - and its stream.
"""

import time
import uuid
from datetime import datetime, timezone

import botocore.session
import moto.codebuild.responses as moto_responses
from moto.codebuild.exceptions import InvalidInputException, ResourceNotFoundException
from moto.codebuild.models import CodeBuildBackend
from moto.codebuild.responses import CodeBuildResponse
from moto.core.responses import ActionResult

import state
from latency import CODEBUILD_PHASES

from . import iam, logs
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


def _project_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:codebuild:{region}:{account}:project/{name}"


def _check_role(role_arn: str, region: str, account: str, project_name: str) -> None:
    # CodeBuild assumes the role with the confused-deputy keys of the project it acts for.
    context = {"aws:SourceAccount": account,
               "aws:SourceArn": _project_arn(region, account, project_name)}
    if role_arn and not iam.assumable(role_arn, "codebuild.amazonaws.com", context):
        raise InvalidInputException(NOT_AUTHORIZED.format(arn=role_arn))


# ---------------------------------------------------------------- model constraints

VARIABLE_TYPES = ["PLAINTEXT", "PARAMETER_STORE", "SECRETS_MANAGER"]  # EnvironmentVariableType
RANGES = {  # member: (min, max) of BuildTimeOut / TimeOut in the codebuild 2016-10-06 model
    "timeoutInMinutes": (5, 2160), "timeoutInMinutesOverride": (5, 2160),
    "queuedTimeoutInMinutes": (5, 480), "queuedTimeoutInMinutesOverride": (5, 480),
}


def _range_errors(resp, names) -> list[str]:
    errors = []
    for name in names:
        value = resp._get_param(name)
        if value is None:
            continue
        low, high = RANGES[name]
        if int(value) < low:
            errors.append(f"Value '{value}' at '{name}' failed to satisfy constraint: "
                          f"Member must have value greater than or equal to {low}")
        elif int(value) > high:
            errors.append(f"Value '{value}' at '{name}' failed to satisfy constraint: "
                          f"Member must have value less than or equal to {high}")
    return errors


def _variable_errors(variables, path: str) -> list[str]:
    errors = []
    for index, variable in enumerate(variables or [], start=1):
        kind = variable.get("type")
        if kind is not None and kind not in VARIABLE_TYPES:
            errors.append(f"Value '{kind}' at '{path}.{index}.member.type' failed to satisfy "
                          f"constraint: Member must satisfy enum value set: [{', '.join(VARIABLE_TYPES)}]")
    return errors


def _refuse(errors: list[str]) -> None:
    """AWS's model-validation answer: every violation, counted, in one message."""
    if errors:
        count = f"{len(errors)} validation error{'s' if len(errors) > 1 else ''} detected: "
        raise InvalidInputException(count + "; ".join(errors))


def _source_types() -> list[str]:
    model = botocore.session.get_session().get_service_model("codebuild")
    return list(model.shape_for("SourceType").enum)


SOURCE_TYPES = _source_types()


def _validate_source(source) -> None:
    """moto's check with the model's source types; location rules as moto has them."""
    if source["type"] not in SOURCE_TYPES:
        raise InvalidInputException("Invalid type provided: Project source type")
    if not source.get("location"):
        raise InvalidInputException("Project source location is required")


def _check_project_input(resp) -> None:
    environment = resp._get_param("environment") or {}
    _refuse(_range_errors(resp, ["timeoutInMinutes", "queuedTimeoutInMinutes"])
            + _variable_errors(environment.get("environmentVariables"),
                               "environment.environmentVariables"))


# ---------------------------------------------------------------- builds


def _merged_variables(project_variables, overrides) -> list[dict]:
    """The project's variables with each override replacing the one of the same name (type
    included, as sent) and new names added after them."""
    merged = [dict(v) for v in project_variables or []]
    for override in overrides or []:
        entry = {"name": override["name"], "value": override.get("value", ""),
                 "type": override.get("type") or "PLAINTEXT"}
        same = next((i for i, v in enumerate(merged) if v.get("name") == entry["name"]), None)
        if same is None:
            merged.append(entry)
        else:
            merged[same] = entry
    return merged


def _cloudwatch_logs(meta: dict) -> dict:
    """The project's CloudWatch Logs setting; CodeBuild logs there by default."""
    config = (meta.get("logsConfig") or {}).get("cloudWatchLogs") or {"status": "ENABLED"}
    return dict(config)


class Build:
    """One build; its phases are laid out at start and revealed as time passes."""

    def __init__(self, backend: CodeBuildBackend, project, number: int, source_version,
                 variables_override=None, timeout_override=None) -> None:
        self.uuid = str(uuid.uuid4())
        self.project_name = project.project_metadata["name"]
        self.id = f"{self.project_name}:{self.uuid}"
        self.region, self.account = backend.region_name, backend.account_id
        self.arn = f"arn:aws:codebuild:{self.region}:{self.account}:build/{self.id}"
        self.number = number
        self.started = time.time()
        self.stopped_at: float | None = None
        self.source_version = source_version
        self.project = project
        meta = project.project_metadata
        # A build runs with the settings it started with; later project updates do not change it.
        environment = dict(meta.get("environment") or {})
        environment["environmentVariables"] = _merged_variables(
            environment.get("environmentVariables"), variables_override)
        self.environment = environment
        self.cloudwatch = _cloudwatch_logs(meta)
        self.timeout = timeout_override or meta.get("timeoutInMinutes") or 60
        self.plan = self._plan(state.SETTINGS.codebuild_fail_phase)
        self._schedule_log_group()

    @property
    def logs_enabled(self) -> bool:
        return self.cloudwatch.get("status") == "ENABLED"

    @property
    def log_group(self) -> str:
        return self.cloudwatch.get("groupName") or f"/aws/codebuild/{self.project_name}"

    @property
    def log_stream(self) -> str:
        # streamName in logsConfig is a prefix: CodeBuild names the stream <prefix>/<build uuid>.
        prefix = self.cloudwatch.get("streamName")
        return f"{prefix}/{self.uuid}" if prefix else self.uuid

    def _schedule_log_group(self) -> None:
        """The log stream (and the group, if missing) appear when PROVISIONING starts."""
        start = next((begin for name, _, begin, _ in self.plan if name == "PROVISIONING"), None)
        if not self.logs_enabled or start is None:  # a build failing before PROVISIONING logs nothing
            return

        def create() -> None:
            if self.stopped_at is None or self.stopped_at >= self.started + start:
                logs.ensure_group(self.account, self.region, self.log_group, self.log_stream)

        state.after(start, create)

    def _logs_view(self) -> dict:
        view = {"cloudWatchLogs": self.cloudwatch, "s3Logs": {"status": "DISABLED"}}
        if self.logs_enabled:
            group, stream = self.log_group, self.log_stream
            view.update(
                groupName=group, streamName=stream,
                deepLink="https://console.aws.amazon.com/cloudwatch/home?region="
                f"{self.region}#logEvent:group={group};stream={stream}",
                cloudWatchLogsArn=f"arn:aws:logs:{self.region}:{self.account}:log-group:{group}"
                f":log-stream:{stream}",
            )
        return view

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
            "environment": self.environment, "serviceRole": meta.get("serviceRole"),
            "logs": self._logs_view(),
            "timeoutInMinutes": self.timeout,
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


def start_build(self, project_name, source_version=None, artifact_override=None,
                variables_override=None, timeout_override=None):
    project = self.codebuild_projects[project_name]
    history = self.build_history.setdefault(project_name, [])
    build = Build(self, project, len(history) + 1, source_version, variables_override, timeout_override)
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


def start_build_response(self):
    name = self._get_param("projectName")
    if name not in self.codebuild_backend.codebuild_projects:
        raise ResourceNotFoundException(
            f"Project cannot be found: {_project_arn(self.region, self.current_account, name)}")
    overrides = self._get_param("environmentVariablesOverride")
    _refuse(_range_errors(self, ["timeoutInMinutesOverride", "queuedTimeoutInMinutesOverride"])
            + _variable_errors(overrides, "environmentVariablesOverride"))
    build = self.codebuild_backend.start_build(
        name, self._get_param("sourceVersion"), self._get_param("artifactsOverride"),
        variables_override=overrides, timeout_override=self._get_param("timeoutInMinutesOverride"))
    return ActionResult({"build": build})


def _create_project(original):
    def create_project(self):
        _check_project_input(self)
        _check_role(self._get_param("serviceRole"), self.region, self.current_account,
                    self._get_param("name"))
        result = original(self)
        # moto stores 0 for omitted timeouts; AWS applies its defaults, 60 and 480 minutes.
        meta = self.codebuild_backend.codebuild_projects[self._get_param("name")].project_metadata
        meta["timeoutInMinutes"] = meta.get("timeoutInMinutes") or 60
        meta["queuedTimeoutInMinutes"] = meta.get("queuedTimeoutInMinutes") or 480
        return result

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
    _check_project_input(self)
    role = self._get_param("serviceRole")
    if role:
        _check_role(role, self.region, self.current_account, name)
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
    moto_responses._validate_required_params_source = _validate_source
    wrap(CodeBuildResponse, "create_project", _create_project)
    CodeBuildResponse.update_project = update_project
    CodeBuildResponse.start_build = start_build_response
