"""The ECS launcher against scripted AWS answers (botocore Stubber): what moto cannot play.

MISSING tasks, stop codes and exit codes, throttling in its two shapes, capacity
failures, ConflictException, empty answers, 5xx — each translated by code into the
launcher's error hierarchy — plus the pure RunTask request and the rate budget.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from controller.ecs import (
    DESCRIBE_BATCH,
    EcsConfig,
    EcsLauncher,
    RateBudget,
    build_run_task_request,
)
from controller.launcher import (
    LaunchError,
    LaunchOutcomeUnknown,
    LaunchSpec,
    PermanentLaunchError,
    TaskState,
    TransientLaunchError,
)

CONFIG = EcsConfig(
    cluster="proctor",
    task_definition="proctor-runner:7",
    container="runner",
    subnets=("subnet-1", "subnet-2"),
    security_groups=("sg-1",),
    capacity_provider="FARGATE_SPOT",
)
RUN = "6f1c2d9e-2c1b-4f7e-9a53-7d1e2f3a4b5c"
ARN = "arn:aws:ecs:us-east-1:123456789012:task/proctor/0123456789abcdef"


@pytest.fixture
def stubbed() -> Iterator[tuple[EcsLauncher, Stubber]]:
    client = boto3.client(
        "ecs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        yield EcsLauncher(CONFIG, client, RateBudget(1000, 1000)), stubber
        stubber.assert_no_pending_responses()


def spec(launch_try: int = 0) -> LaunchSpec:
    return LaunchSpec(RUN, 2, launch_try, {"PROCTOR_RUNNER_TOKEN": "r1.x", "TRACEPARENT": "00-x"})


def test_run_task_request_shape() -> None:
    request = build_run_task_request(CONFIG, spec())
    assert request["cluster"] == "proctor" and request["taskDefinition"] == "proctor-runner:7"
    assert request["startedBy"] == RUN
    assert request["capacityProviderStrategy"] == [
        {"capacityProvider": "FARGATE_SPOT", "weight": 1}
    ]
    assert "launchType" not in request
    vpc = request["networkConfiguration"]["awsvpcConfiguration"]
    assert vpc == {
        "subnets": ["subnet-1", "subnet-2"],
        "securityGroups": ["sg-1"],
        "assignPublicIp": "DISABLED",
    }
    override = request["overrides"]["containerOverrides"][0]
    assert override["name"] == "runner" and override["command"] == ["--run-id", RUN]
    assert {"name": "TRACEPARENT", "value": "00-x"} in override["environment"]
    assert {"key": "proctor:run-id", "value": RUN} in request["tags"]
    assert {"key": "proctor:attempt", "value": "2"} in request["tags"]


def test_launch_type_when_no_capacity_provider() -> None:
    request = build_run_task_request(
        EcsConfig(**{**CONFIG.__dict__, "capacity_provider": ""}), spec()
    )
    assert request["launchType"] == "FARGATE" and "capacityProviderStrategy" not in request


def test_client_token_is_deterministic_short_and_distinct_per_try() -> None:
    assert spec().client_token == spec().client_token
    assert len(spec().client_token) <= 64
    assert spec(0).client_token != spec(1).client_token
    long = LaunchSpec("x" * 80, 1, 0, {})
    assert len(long.client_token) <= 64


def test_launch_returns_the_task(stubbed: tuple[EcsLauncher, Stubber]) -> None:
    launcher, stubber = stubbed
    stubber.add_response(
        "run_task",
        {"tasks": [{"taskArn": ARN}], "failures": []},
        build_run_task_request(CONFIG, spec()),
    )
    assert launcher.launch(spec()).ref == ARN


FAILURES = [
    ("RESOURCE:MEMORY", TransientLaunchError),
    (
        "Capacity is unavailable at this time. Please try again later or in a different "
        "availability zone",
        TransientLaunchError,
    ),
    ("AGENT", TransientLaunchError),
    ("ATTRIBUTE", PermanentLaunchError),
]


@pytest.mark.parametrize(("reason", "kind"), FAILURES)
def test_failures_are_classified_by_reason(
    stubbed: tuple[EcsLauncher, Stubber], reason: str, kind: type
) -> None:
    launcher, stubber = stubbed
    stubber.add_response("run_task", {"tasks": [], "failures": [{"arn": "x", "reason": reason}]})
    with pytest.raises(kind) as raised:
        launcher.launch(spec())
    assert type(raised.value) is kind


ERRORS = [
    ("ThrottlingException", "Rate exceeded", TransientLaunchError),
    ("InvalidParameterException", "Rate exceeded", TransientLaunchError),
    ("InvalidParameterException", "No Container Instances were found", PermanentLaunchError),
    ("AccessDeniedException", "nope", PermanentLaunchError),
    ("ClusterNotFoundException", "Cluster not found.", PermanentLaunchError),
    ("ServerException", "oops", LaunchOutcomeUnknown),
]


@pytest.mark.parametrize(("code", "message", "kind"), ERRORS)
def test_errors_are_classified_by_code(
    stubbed: tuple[EcsLauncher, Stubber], code: str, message: str, kind: type
) -> None:
    launcher, stubber = stubbed
    stubber.add_client_error(
        "run_task",
        service_error_code=code,
        service_message=message,
        http_status_code=500 if code == "ServerException" else 400,
    )
    with pytest.raises(LaunchError) as raised:
        launcher.launch(spec())
    assert type(raised.value) is kind and raised.value.code == code


def test_an_empty_answer_is_never_success(stubbed: tuple[EcsLauncher, Stubber]) -> None:
    launcher, stubber = stubbed
    stubber.add_response("run_task", {"tasks": [], "failures": []})
    with pytest.raises(LaunchOutcomeUnknown):
        launcher.launch(spec())


def test_conflict_adopts_the_task_it_names(stubbed: tuple[EcsLauncher, Stubber]) -> None:
    launcher, stubber = stubbed
    stubber.add_client_error(
        "run_task",
        service_error_code="ConflictException",
        service_message="clientToken in use",
        modeled_fields={"resourceIds": [ARN]},
    )
    result = launcher.launch(spec())
    assert result.ref == ARN and result.adopted


def task(status: str, **extra: Any) -> dict[str, Any]:
    return {"taskArn": ARN, "lastStatus": status, "desiredStatus": "RUNNING", **extra}


DESCRIBE = [
    (task("PROVISIONING"), TaskState.PENDING, None, None),
    (task("PENDING"), TaskState.PENDING, None, None),
    (task("RUNNING"), TaskState.RUNNING, None, None),
    (task("DEPROVISIONING", desiredStatus="STOPPED"), TaskState.RUNNING, None, None),
    (
        task(
            "STOPPED",
            stopCode="EssentialContainerExited",
            containers=[{"name": "sidecar", "exitCode": 0}, {"name": "runner", "exitCode": 1}],
        ),
        TaskState.STOPPED,
        "EssentialContainerExited",
        1,
    ),
    (
        task(
            "STOPPED",
            stopCode="TaskFailedToStart",
            stoppedReason="CannotPullContainerError",
            containers=[{"name": "runner"}],
        ),
        TaskState.STOPPED,
        "TaskFailedToStart",
        None,
    ),
    (
        task(
            "STOPPED", stopCode="SpotInterruption", containers=[{"name": "runner", "exitCode": 143}]
        ),
        TaskState.STOPPED,
        "SpotInterruption",
        143,
    ),
]


@pytest.mark.parametrize(("raw", "state", "stop_code", "exit_code"), DESCRIBE)
def test_describe_translates_ecs_states(
    stubbed: tuple[EcsLauncher, Stubber],
    raw: dict[str, Any],
    state: TaskState,
    stop_code: str | None,
    exit_code: int | None,
) -> None:
    launcher, stubber = stubbed
    stubber.add_response(
        "describe_tasks", {"tasks": [raw], "failures": []}, {"cluster": "proctor", "tasks": [ARN]}
    )
    view = launcher.describe([ARN])[ARN]
    assert (view.state, view.stop_code, view.exit_code) == (state, stop_code, exit_code)


def test_describe_reports_forgotten_tasks_as_missing(stubbed: tuple[EcsLauncher, Stubber]) -> None:
    launcher, stubber = stubbed
    stubber.add_response(
        "describe_tasks", {"tasks": [], "failures": [{"arn": ARN, "reason": "MISSING"}]}
    )
    assert launcher.describe([ARN])[ARN].state is TaskState.MISSING


def test_describe_asks_in_batches_of_at_most_100(stubbed: tuple[EcsLauncher, Stubber]) -> None:
    launcher, stubber = stubbed
    arns = [f"{ARN}{i:04d}" for i in range(250)]
    for start in range(0, 250, DESCRIBE_BATCH):
        batch = arns[start : start + DESCRIBE_BATCH]
        stubber.add_response(
            "describe_tasks",
            {"tasks": [{"taskArn": a, "lastStatus": "RUNNING"} for a in batch]},
            {"cluster": "proctor", "tasks": batch},
        )
    assert len(launcher.describe(arns)) == 250


def test_throttled_describe_is_skipped_not_fatal(stubbed: tuple[EcsLauncher, Stubber]) -> None:
    launcher, stubber = stubbed
    stubber.add_client_error("describe_tasks", service_error_code="ThrottlingException")
    assert launcher.describe([ARN]) == {}


def test_stop_sends_the_reason(stubbed: tuple[EcsLauncher, Stubber]) -> None:
    launcher, stubber = stubbed
    stubber.add_response(
        "stop_task",
        {"task": {"taskArn": ARN}},
        {"cluster": "proctor", "task": ARN, "reason": "cancel requested"},
    )
    launcher.stop(ARN, "cancel requested")


def test_resume_finds_the_task_by_started_by_and_tags(stubbed: tuple[EcsLauncher, Stubber]) -> None:
    launcher, stubber = stubbed
    stubber.add_response(
        "list_tasks",
        {"taskArns": [ARN]},
        {"cluster": "proctor", "startedBy": RUN, "desiredStatus": "RUNNING"},
    )
    stubber.add_response(
        "describe_tasks",
        {
            "tasks": [
                {
                    "taskArn": ARN,
                    "lastStatus": "RUNNING",
                    "tags": [
                        {"key": "proctor:run-id", "value": RUN},
                        {"key": "proctor:attempt", "value": "2"},
                    ],
                }
            ]
        },
        {"cluster": "proctor", "tasks": [ARN], "include": ["TAGS"]},
    )
    result = launcher.launch(LaunchSpec(RUN, 2, 0, {}, resume=True))
    assert result.ref == ARN and result.adopted


def test_rate_budget_refills_over_time() -> None:
    now = [0.0]
    budget = RateBudget(2, 2, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    assert budget.acquire() and budget.acquire()
    assert budget.acquire(max_wait=1.0)  # waited 0.5 s of fake time for one more token
    assert now[0] == pytest.approx(0.5)
    assert not budget.acquire(max_wait=0.1)


def test_a_dry_budget_is_a_transient_failure() -> None:
    launcher = EcsLauncher(CONFIG, client=object(), budget=RateBudget(0.001, 0))
    with pytest.raises(TransientLaunchError):
        launcher.launch(spec())


def test_orphan_listing_translates_throttling(stubbed: tuple[EcsLauncher, Stubber]) -> None:
    """The sweep runs beside launches under the same rate limits: throttling there is a
    transient error to skip a sweep for, not a crash with a traceback."""
    launcher, stubber = stubbed
    stubber.add_response("list_tasks", {"taskArns": ["arn:aws:ecs:eu-west-1:1:task/c/t1"]})
    stubber.add_client_error(
        "describe_tasks", service_error_code="ThrottlingException", service_message="Rate exceeded"
    )
    with pytest.raises(TransientLaunchError) as raised:
        launcher.list_owned()
    assert raised.value.code == "ThrottlingException"


def test_a_throttled_lookup_falls_back_to_the_client_token(
    stubbed: tuple[EcsLauncher, Stubber],
) -> None:
    """Adoption after a crash: when DescribeTasks is throttled the lookup is inconclusive,
    and RunTask with the attempt's clientToken (idempotent) decides; nothing escapes."""
    launcher, stubber = stubbed
    stubber.add_response("list_tasks", {"taskArns": ["arn:aws:ecs:eu-west-1:1:task/c/t1"]})
    stubber.add_client_error(
        "describe_tasks", service_error_code="ThrottlingException", service_message="Rate exceeded"
    )
    assert launcher.find("run-1", 1) is None


def test_a_throttled_stop_is_transient(stubbed: tuple[EcsLauncher, Stubber]) -> None:
    launcher, stubber = stubbed
    stubber.add_client_error(
        "stop_task", service_error_code="ThrottlingException", service_message="Rate exceeded"
    )
    with pytest.raises(TransientLaunchError):
        launcher.stop("arn:aws:ecs:eu-west-1:1:task/c/t1", "cancel requested")
