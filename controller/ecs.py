"""The ECS launcher: each attempt is a Fargate task. The only controller module importing boto3.

Errors are translated here, at the boundary, by AWS error *code* and ``failures[].reason``
(never by searching message text) into the launcher's small hierarchy::

    LaunchError
     ├── TransientLaunchError        nothing started; back off and try again
     │    │    ThrottlingException, RequestLimitExceeded, TooManyRequestsException,
     │    │    InvalidParameterException whose whole message is "Rate exceeded" (how
     │    │    RunTask reports some throttling), our own rate budget running dry,
     │    │    failures[].reason RESOURCE:*, AGENT, "Capacity is unavailable at this
     │    │    time. …" (Fargate), EndpointConnectionError (request never sent)
     │    └── LaunchOutcomeUnknown   a task may exist: retry with the same clientToken
     │             ServerException, ServiceUnavailableException, InternalFailure, read
     │             timeouts, a 200 with neither tasks nor failures
     └── PermanentLaunchError        AccessDeniedException, ClientException,
              InvalidParameterException, ClusterNotFoundException,
              PlatformUnknownException, UnsupportedFeatureException, BlockedException,
              failures[].reason ATTRIBUTE and anything unknown in failures[]

``ConflictException`` (the clientToken was used for another request) names the task that
holds it in ``resourceIds``: that task is adopted, not treated as a failure.

Idempotency: RunTask carries ``clientToken`` = run id + attempt + launch try, and
``startedBy`` = the run id, with tags ``proctor:run-id`` and ``proctor:attempt``. A
replica that takes over a claim whose controller died looks the attempt up with
``ListTasks(startedBy)`` first, then relaunches with the same token (which ECS answers
with the existing task), so an attempt is started at most once.

The task definition is Terraform's; this module never registers one.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
)

from config.settings import Settings
from controller.launcher import (
    LaunchError,
    LaunchOutcomeUnknown,
    LaunchResult,
    LaunchSpec,
    OwnedTask,
    PermanentLaunchError,
    TaskState,
    TaskView,
    TransientLaunchError,
)

log = logging.getLogger(__name__)

RUN_ID_TAG = "proctor:run-id"
ATTEMPT_TAG = "proctor:attempt"
DESCRIBE_BATCH = 100  # DescribeTasks takes at most 100 tasks

_THROTTLING = frozenset({"ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"})
_UNKNOWN_OUTCOME = frozenset(
    {"ServerException", "ServiceUnavailableException", "ServiceUnavailable", "InternalFailure"}
)
_RATE_EXCEEDED = "Rate exceeded"
_CAPACITY_REASONS = frozenset(
    {
        "Capacity is unavailable at this time. Please try again later or in a different "
        "availability zone",
        "AGENT",
        _RATE_EXCEEDED,
    }
)
_PENDING_STATES = frozenset({"PROVISIONING", "PENDING", "ACTIVATING"})
_STARTED_BY = re.compile(r"^[A-Za-z0-9_-]{1,36}$")


@dataclass(frozen=True)
class EcsConfig:
    cluster: str
    task_definition: str
    container: str
    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]
    capacity_provider: str = "FARGATE"
    assign_public_ip: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> EcsConfig:
        missing = [
            name
            for name, value in (
                ("PROCTOR_ECS_CLUSTER", settings.ecs_cluster),
                ("PROCTOR_ECS_TASK_DEFINITION", settings.ecs_task_definition),
                ("PROCTOR_ECS_SUBNETS", settings.ecs_subnets),
            )
            if not value
        ]
        if missing:
            raise ValueError(f"the ECS launcher needs {', '.join(missing)}")
        return cls(
            cluster=settings.ecs_cluster,
            task_definition=settings.ecs_task_definition,
            container=settings.ecs_container,
            subnets=tuple(settings.ecs_subnets),
            security_groups=tuple(settings.ecs_security_groups),
            capacity_provider=settings.ecs_capacity_provider,
            assign_public_ip=settings.ecs_assign_public_ip,
        )


def started_by(run_id: str) -> str:
    """ECS allows 36 letters, digits, '-' and '_': a UUID run id fits exactly."""
    return run_id if _STARTED_BY.match(run_id) else "proctor"


def build_run_task_request(config: EcsConfig, spec: LaunchSpec) -> dict[str, Any]:
    """The RunTask parameters for one attempt (pure; tested against a moto server)."""
    request: dict[str, Any] = {
        "cluster": config.cluster,
        "taskDefinition": config.task_definition,
        "count": 1,
        "clientToken": spec.client_token,
        "startedBy": started_by(spec.run_id),
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": list(config.subnets),
                "securityGroups": list(config.security_groups),
                "assignPublicIp": "ENABLED" if config.assign_public_ip else "DISABLED",
            }
        },
        "overrides": {
            "containerOverrides": [
                {
                    "name": config.container,
                    # The image's entrypoint is `proctor runner`.
                    "command": ["--run-id", spec.run_id],
                    "environment": [
                        {"name": name, "value": value} for name, value in sorted(spec.env.items())
                    ],
                }
            ]
        },
        "tags": [
            {"key": RUN_ID_TAG, "value": spec.run_id},
            {"key": ATTEMPT_TAG, "value": str(spec.attempt)},
        ],
        "enableECSManagedTags": True,
        "propagateTags": "TASK_DEFINITION",
    }
    if config.capacity_provider:
        request["capacityProviderStrategy"] = [
            {"capacityProvider": config.capacity_provider, "weight": 1}
        ]
    else:
        request["launchType"] = "FARGATE"
    return request


def classify_client_error(err: ClientError) -> LaunchError:
    error = err.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    message = str(error.get("Message", ""))
    if code in _THROTTLING or (code == "InvalidParameterException" and message == _RATE_EXCEEDED):
        return TransientLaunchError(message or code, code=code)
    if code in _UNKNOWN_OUTCOME:
        return LaunchOutcomeUnknown(message or code, code=code)
    return PermanentLaunchError(message or code, code=code)


def classify_failure_reason(reason: str) -> LaunchError:
    if reason.startswith("RESOURCE:") or reason in _CAPACITY_REASONS:
        return TransientLaunchError(reason, code="Capacity")
    return PermanentLaunchError(reason, code="RunTaskFailure")


class RateBudget:
    """A token bucket: ECS throttles per account, and every replica shares the account."""

    def __init__(
        self,
        rate_per_second: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._rate = rate_per_second
        self._burst = float(burst)
        self._tokens = float(burst)
        self._clock = clock
        self._sleep = sleep
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self, max_wait: float = 2.0) -> bool:
        """Take one token, waiting up to ``max_wait`` seconds; False when none came."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
                self._last = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return True
                need = (1 - self._tokens) / self._rate
            if waited + need > max_wait:
                return False
            self._sleep(need)
            waited += need


def _tags(task: dict[str, Any]) -> dict[str, str]:
    return {tag.get("key", ""): tag.get("value", "") for tag in task.get("tags") or []}


class EcsLauncher:
    heartbeat_required = False  # ECS reports whether the task lives

    def __init__(
        self, config: EcsConfig, client: Any = None, budget: RateBudget | None = None
    ) -> None:
        self.config = config
        # No retries inside botocore: the reconcile loop retries, with its own backoff, and
        # an unknown outcome must come back to us (to reuse the same clientToken).
        self._client = client or boto3.client(
            "ecs",
            config=Config(
                retries={"total_max_attempts": 1, "mode": "standard"},
                connect_timeout=5,
                read_timeout=20,
            ),
        )
        self._budget = budget or RateBudget(rate_per_second=20, burst=40)

    @classmethod
    def from_settings(cls, settings: Settings) -> EcsLauncher:
        return cls(EcsConfig.from_settings(settings))

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        if not self._budget.acquire():
            raise TransientLaunchError(
                "client-side ECS rate budget exhausted", code="LocalRateBudget"
            )
        return getattr(self._client, operation)(**params)  # type: ignore[no-any-return]

    # ----- launch ----------------------------------------------------------------------------

    def launch(self, spec: LaunchSpec) -> LaunchResult:
        if spec.resume:
            found = self.find(spec.run_id, spec.attempt)
            if found is not None:
                return LaunchResult(found, adopted=True)
        request = build_run_task_request(self.config, spec)
        try:
            response = self._call("run_task", **request)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "ConflictException":
                ids = (
                    err.response.get("resourceIds")
                    or err.response.get("Error", {}).get("resourceIds")
                    or []
                )
                if ids:
                    return LaunchResult(str(ids[0]), adopted=True)
            raise classify_client_error(err) from err
        except (EndpointConnectionError, ConnectTimeoutError) as err:
            raise TransientLaunchError(str(err), code=type(err).__name__) from err
        except BotoCoreError as err:
            raise LaunchOutcomeUnknown(str(err), code=type(err).__name__) from err
        tasks = response.get("tasks") or []
        failures = response.get("failures") or []
        if tasks:
            return LaunchResult(str(tasks[0]["taskArn"]))
        if failures:
            raise classify_failure_reason(str(failures[0].get("reason", "")))
        raise LaunchOutcomeUnknown(
            "RunTask returned neither tasks nor failures", code="EmptyResponse"
        )

    def find(self, run_id: str, attempt: int) -> str | None:
        """The task already started for this attempt, if any (adoption after a crash)."""
        for status in ("RUNNING", "STOPPED"):
            # Any AWS error here (throttling most often) leaves the lookup inconclusive;
            # RunTask with the attempt's clientToken is then the idempotent way on.
            try:
                arns = self._call(
                    "list_tasks",
                    cluster=self.config.cluster,
                    startedBy=started_by(run_id),
                    desiredStatus=status,
                ).get("taskArns", [])
                described = self._describe_raw(arns, tags=True)[0]
            except (ClientError, BotoCoreError, LaunchError) as err:
                log.warning(
                    "looking up run %s's tasks failed (%s); relying on the clientToken",
                    run_id,
                    err,
                )
                return None
            for task in described:
                tags = _tags(task)
                if tags.get(RUN_ID_TAG) == run_id and tags.get(ATTEMPT_TAG) == str(attempt):
                    return str(task["taskArn"])
        return None

    # ----- follow ----------------------------------------------------------------------------

    def _describe_raw(
        self, arns: Sequence[str], *, tags: bool = False
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        tasks: list[dict[str, Any]] = []
        failures: list[dict[str, Any]] = []
        for start in range(0, len(arns), DESCRIBE_BATCH):
            batch = list(arns[start : start + DESCRIBE_BATCH])
            params: dict[str, Any] = {"cluster": self.config.cluster, "tasks": batch}
            if tags:
                params["include"] = ["TAGS"]
            response = self._call("describe_tasks", **params)
            tasks.extend(response.get("tasks") or [])
            failures.extend(response.get("failures") or [])
        return tasks, failures

    def _view(self, task: dict[str, Any]) -> TaskView:
        ref = str(task["taskArn"])
        last = str(task.get("lastStatus", ""))
        stopping = task.get("stoppingAt") or (
            task.get("executionStoppedAt") if task.get("desiredStatus") == "STOPPED" else None
        )
        if last in _PENDING_STATES:
            return TaskView(ref, TaskState.PENDING, stop_requested_at=stopping)
        if last != "STOPPED":
            return TaskView(ref, TaskState.RUNNING, stop_requested_at=stopping)
        containers = task.get("containers") or []
        ours = [c for c in containers if c.get("name") == self.config.container] or containers
        exit_code = ours[0].get("exitCode") if ours else None
        return TaskView(
            ref,
            TaskState.STOPPED,
            stop_code=task.get("stopCode"),
            exit_code=exit_code,
            stopped_reason=task.get("stoppedReason"),
            stop_requested_at=stopping,
        )

    def describe(self, refs: Sequence[str]) -> dict[str, TaskView]:
        views: dict[str, TaskView] = {}
        try:
            tasks, failures = self._describe_raw(refs)
        except (ClientError, BotoCoreError, LaunchError) as err:
            log.warning("DescribeTasks failed (%s); following again next tick", err)
            return views
        for task in tasks:
            views[str(task["taskArn"])] = self._view(task)
        for failure in failures:
            if failure.get("reason") == "MISSING" and failure.get("arn"):
                views[str(failure["arn"])] = TaskView(str(failure["arn"]), TaskState.MISSING)
        return views

    def stop(self, ref: str, reason: str, *, force: bool = False) -> None:
        # ECS sends SIGTERM, then SIGKILL after the task definition's stopTimeout: there is
        # nothing more forceful to do than asking again.
        try:
            self._call("stop_task", cluster=self.config.cluster, task=ref, reason=reason[:255])
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code")
            if code == "InvalidParameterException":
                log.info("StopTask %s: %s (already gone)", ref, err)
                return
            raise classify_client_error(err) from err
        except BotoCoreError as err:
            raise TransientLaunchError(f"ECS unreachable: {err}", code="Network") from err

    def list_owned(self) -> list[OwnedTask]:
        """Proctor's running tasks; AWS errors come out translated (``LaunchError``)."""
        try:
            arns: list[str] = []
            paginator = self._client.get_paginator("list_tasks")
            for page in paginator.paginate(cluster=self.config.cluster, desiredStatus="RUNNING"):
                arns.extend(page.get("taskArns", []))
            described = self._describe_raw(arns, tags=True)[0]
        except ClientError as err:
            raise classify_client_error(err) from err
        except BotoCoreError as err:
            raise TransientLaunchError(f"ECS unreachable: {err}", code="Network") from err
        owned = []
        for task in described:
            tags = _tags(task)
            if RUN_ID_TAG in tags and tags.get(ATTEMPT_TAG, "").isdigit():
                owned.append(
                    OwnedTask(
                        str(task["taskArn"]),
                        tags[RUN_ID_TAG],
                        int(tags[ATTEMPT_TAG]),
                        self._view(task).state,
                    )
                )
        return owned

    def close(self) -> None:
        self._client.close()
