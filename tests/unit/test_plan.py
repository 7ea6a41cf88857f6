"""``plan`` and ``after_launch``: every row of the stop-code and failure tables, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from controller.launcher import (
    LaunchError,
    LaunchOutcomeUnknown,
    PermanentLaunchError,
    TaskState,
    TaskView,
    TransientLaunchError,
)
from controller.plan import (
    Finish,
    Launch,
    Limits,
    MarkRunning,
    RecordLaunch,
    Requeue,
    RetryKind,
    RunView,
    Stop,
    after_launch,
    backoff,
    plan,
    plan_run,
)
from schemas.models import Counts, Summary
from schemas.states import Desired, RunStatus

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
LIMITS = Limits(
    controller_id="me",
    run_timeout=timedelta(minutes=60),
    launch_timeout=timedelta(minutes=10),
    heartbeat_timeout=timedelta(minutes=2),
)
PASSED = Summary(scenarios=Counts(passed=2))
FAILED = Summary(scenarios=Counts(passed=1, failed=1))


def running(**changes: object) -> RunView:
    base = RunView(
        id="r1",
        status=RunStatus.RUNNING,
        desired=Desired.RUN,
        attempt=1,
        max_attempts=2,
        claimed_by="me",
        claim_expires_at=NOW + timedelta(seconds=30),
        launched_at=NOW - timedelta(minutes=5),
        started_at=NOW - timedelta(minutes=4),
        executor_ref="task-1",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def stopped(code: str | None, exit_code: int | None = None, **kw: object) -> TaskView:
    return TaskView("task-1", TaskState.STOPPED, code, exit_code, "why", **kw)  # type: ignore[arg-type]


def only(actions: Sequence[object]) -> object:
    assert len(actions) == 1, actions
    return actions[0]


# ----- the stop-code table ------------------------------------------------------------------

STOP_TABLE = [
    # (task, run changes, expected kind, expected status / retry kind)
    ("EssentialContainerExited", 0, {}, Finish, RunStatus.PASSED),
    ("EssentialContainerExited", 1, {}, Finish, RunStatus.FAILED),
    ("EssentialContainerExited", 2, {}, Finish, RunStatus.ERROR),
    ("EssentialContainerExited", 3, {}, Finish, RunStatus.CANCELLED),
    ("EssentialContainerExited", 137, {}, Finish, RunStatus.ERROR),
    ("EssentialContainerExited", None, {}, Finish, RunStatus.ERROR),
    ("TaskFailedToStart", None, {}, Requeue, RetryKind.INFRA),
    ("SpotInterruption", 143, {}, Requeue, RetryKind.INFRA),
    ("TerminationNotice", None, {}, Requeue, RetryKind.INFRA),
    ("ServiceSchedulerInitiated", None, {}, Requeue, RetryKind.INFRA),
    ("UserInitiated", 3, {"desired": Desired.CANCEL}, Finish, RunStatus.CANCELLED),
    ("UserInitiated", 3, {"started_at": NOW - timedelta(hours=2)}, Finish, RunStatus.TIMED_OUT),
    ("UserInitiated", 3, {}, Requeue, RetryKind.INFRA),  # stopped by someone else
    # Out of attempts, infrastructure failures end in error.
    ("TaskFailedToStart", None, {"attempt": 2}, Finish, RunStatus.ERROR),
    ("SpotInterruption", None, {"attempt": 2}, Finish, RunStatus.ERROR),
    # Past the deadline without a verdict → timed_out; a verdict that made it stands.
    (
        "EssentialContainerExited",
        137,
        {"started_at": NOW - timedelta(hours=2)},
        Finish,
        RunStatus.TIMED_OUT,
    ),
    (
        "EssentialContainerExited",
        0,
        {"started_at": NOW - timedelta(hours=2)},
        Finish,
        RunStatus.PASSED,
    ),
    # Cancel wins over whatever the task did.
    ("EssentialContainerExited", 0, {"desired": Desired.CANCEL}, Finish, RunStatus.CANCELLED),
    # Failed tests are retried only when the test set asks, and only with attempts left.
    ("EssentialContainerExited", 1, {"retry_on_failure": True}, Requeue, RetryKind.TESTS),
    (
        "EssentialContainerExited",
        1,
        {"retry_on_failure": True, "attempt": 2},
        Finish,
        RunStatus.FAILED,
    ),
    # Exit 0 but the uploaded report shows failures → failed.
    ("EssentialContainerExited", 0, {"report": FAILED}, Finish, RunStatus.FAILED),
]


@pytest.mark.parametrize(("code", "exit_code", "changes", "kind", "expected"), STOP_TABLE)
def test_stopped_task_table(
    code: str, exit_code: int | None, changes: dict[str, object], kind: type, expected: object
) -> None:
    action = only(plan_run(running(**changes), stopped(code, exit_code), NOW, LIMITS))
    assert isinstance(action, kind)
    if isinstance(action, Finish):
        assert action.status is expected
        assert action.exit_code == exit_code
    else:
        assert isinstance(action, Requeue)
        assert action.kind is expected


def test_a_finished_run_keeps_the_runner_summary_else_the_report() -> None:
    action = only(
        plan_run(running(report=PASSED), stopped("EssentialContainerExited", 0), NOW, LIMITS)
    )
    assert isinstance(action, Finish) and action.summary == PASSED
    own = Summary(scenarios=Counts(passed=5))
    action = only(
        plan_run(
            running(report=PASSED, summary=own), stopped("EssentialContainerExited", 0), NOW, LIMITS
        )
    )
    assert isinstance(action, Finish) and action.summary == own


# ----- MISSING --------------------------------------------------------------------------------

MISSING_TABLE = [
    ({"report": PASSED}, Finish, RunStatus.PASSED),
    ({"report": FAILED}, Finish, RunStatus.FAILED),
    ({"report": Summary()}, Requeue, RetryKind.INFRA),  # an empty report is no verdict
    ({}, Requeue, RetryKind.INFRA),
    ({"attempt": 2}, Finish, RunStatus.ERROR),
    ({"desired": Desired.CANCEL}, Finish, RunStatus.CANCELLED),
]


@pytest.mark.parametrize(("changes", "kind", "expected"), MISSING_TABLE)
def test_missing_task_table(changes: dict[str, object], kind: type, expected: object) -> None:
    action = only(plan_run(running(**changes), TaskView("task-1", TaskState.MISSING), NOW, LIMITS))
    assert isinstance(action, kind)
    assert (action.status if isinstance(action, Finish) else action.kind) is expected  # type: ignore[attr-defined]


# ----- live tasks -----------------------------------------------------------------------------


def test_a_running_task_marks_a_launching_run_running() -> None:
    actions = plan_run(
        running(status=RunStatus.LAUNCHING), TaskView("task-1", TaskState.RUNNING), NOW, LIMITS
    )
    assert [type(a) for a in actions] == [MarkRunning]


def test_a_healthy_running_task_needs_nothing() -> None:
    assert plan_run(running(), TaskView("task-1", TaskState.RUNNING), NOW, LIMITS) == []


def test_provisioning_within_the_launch_timeout_waits() -> None:
    run = running(status=RunStatus.LAUNCHING, launched_at=NOW - timedelta(minutes=9))
    assert plan_run(run, TaskView("task-1", TaskState.PENDING), NOW, LIMITS) == []


def test_stuck_provisioning_is_stopped_and_retried() -> None:
    run = running(status=RunStatus.LAUNCHING, launched_at=NOW - timedelta(minutes=11))
    stop, retry = plan_run(run, TaskView("task-1", TaskState.PENDING), NOW, LIMITS)
    assert isinstance(stop, Stop) and stop.ref == "task-1"
    assert isinstance(retry, Requeue) and retry.kind is RetryKind.INFRA
    assert retry.not_before > NOW


def test_stuck_provisioning_without_attempts_left_errors() -> None:
    run = running(status=RunStatus.LAUNCHING, launched_at=NOW - timedelta(minutes=11), attempt=2)
    stop, finish = plan_run(run, TaskView("task-1", TaskState.PENDING), NOW, LIMITS)
    assert isinstance(stop, Stop)
    assert isinstance(finish, Finish) and finish.status is RunStatus.ERROR


@pytest.mark.parametrize("state", [TaskState.PENDING, TaskState.RUNNING])
def test_cancel_stops_then_kills_after_the_grace_period(state: TaskState) -> None:
    run = running(desired=Desired.CANCEL)
    (stop,) = plan_run(run, TaskView("task-1", state), NOW, LIMITS)
    assert isinstance(stop, Stop) and not stop.force
    asked = TaskView("task-1", state, stop_requested_at=NOW - timedelta(seconds=5))
    assert plan_run(run, asked, NOW, LIMITS) == []
    asked_long_ago = replace(asked, stop_requested_at=NOW - timedelta(minutes=1))
    (kill,) = plan_run(run, asked_long_ago, NOW, LIMITS)
    assert isinstance(kill, Stop) and kill.force


def test_run_timeout_uses_the_test_set_timeout_first() -> None:
    run = running(timeout_seconds=60, started_at=NOW - timedelta(seconds=61))
    (stop,) = plan_run(run, TaskView("task-1", TaskState.RUNNING), NOW, LIMITS)
    assert isinstance(stop, Stop) and "timed out" in stop.reason
    not_yet = running(timeout_seconds=600, started_at=NOW - timedelta(seconds=61))
    assert plan_run(not_yet, TaskView("task-1", TaskState.RUNNING), NOW, LIMITS) == []


def test_stale_heartbeat_kills_and_retries_when_heartbeats_are_required() -> None:
    limits = replace(LIMITS, heartbeat_required=True)
    run = running(heartbeat_at=NOW - timedelta(minutes=3))
    kill, retry = plan_run(run, TaskView("task-1", TaskState.RUNNING), NOW, limits)
    assert isinstance(kill, Stop) and kill.force
    assert isinstance(retry, Requeue) and retry.kind is RetryKind.INFRA
    fresh = running(heartbeat_at=NOW - timedelta(seconds=30))
    assert plan_run(fresh, TaskView("task-1", TaskState.RUNNING), NOW, limits) == []
    # ECS follows the task itself: no heartbeat rule there.
    assert plan_run(run, TaskView("task-1", TaskState.RUNNING), NOW, LIMITS) == []


def test_an_unobserved_task_waits_for_the_next_tick() -> None:
    assert plan([running()], {}, NOW, LIMITS) == []


# ----- launching runs without a recorded task -------------------------------------------------


def launching(**changes: object) -> RunView:
    defaults: dict[str, object] = {
        "status": RunStatus.LAUNCHING,
        "executor_ref": None,
        "started_at": None,
        "launched_at": NOW - timedelta(seconds=5),
    }
    return running(**{**defaults, **changes})


def test_our_claim_is_launched() -> None:
    assert plan_run(launching(), None, NOW, LIMITS) == [Launch(launching())]


def test_another_live_claim_is_left_alone() -> None:
    assert plan_run(launching(claimed_by="other"), None, NOW, LIMITS) == []


def test_an_expired_claim_is_taken_over_and_relaunched_with_the_same_token() -> None:
    run = launching(claimed_by="dead", claim_expires_at=NOW - timedelta(seconds=1))
    assert plan_run(run, None, NOW, LIMITS) == [Launch(run, reclaim=True)]


def test_a_launch_that_never_completes_is_retried_as_infrastructure() -> None:
    run = launching(launched_at=NOW - timedelta(minutes=11))
    action = only(plan_run(run, None, NOW, LIMITS))
    assert isinstance(action, Requeue) and action.kind is RetryKind.INFRA


def test_cancel_before_the_task_is_recorded() -> None:
    action = only(plan_run(launching(desired=Desired.CANCEL), None, NOW, LIMITS))
    assert isinstance(action, Finish) and action.status is RunStatus.CANCELLED


def test_pending_runs_are_left_to_the_claim_unless_cancelled() -> None:
    pending = running(status=RunStatus.PENDING, executor_ref=None)
    assert plan_run(pending, None, NOW, LIMITS) == []
    action = only(plan_run(replace(pending, desired=Desired.CANCEL), None, NOW, LIMITS))
    assert isinstance(action, Finish) and action.status is RunStatus.CANCELLED


def test_finished_runs_are_ignored() -> None:
    assert plan_run(running(status=RunStatus.PASSED), None, NOW, LIMITS) == []


# ----- the launch failure table ---------------------------------------------------------------

LAUNCH_TABLE: list[tuple[LaunchError | None, int, type | None, object]] = [
    (None, 0, RecordLaunch, None),
    (TransientLaunchError("capacity", code="Capacity"), 0, Requeue, RetryKind.CAPACITY),
    (TransientLaunchError("throttled", code="ThrottlingException"), 3, Requeue, RetryKind.CAPACITY),
    (TransientLaunchError("capacity", code="Capacity"), 9, Finish, RunStatus.ERROR),
    (LaunchOutcomeUnknown("timeout", code="ReadTimeout"), 0, None, None),
    (PermanentLaunchError("denied", code="AccessDeniedException"), 0, Finish, RunStatus.ERROR),
]


@pytest.mark.parametrize(("error", "failures", "kind", "expected"), LAUNCH_TABLE)
def test_launch_outcome_table(
    error: LaunchError | None, failures: int, kind: type | None, expected: object
) -> None:
    run = launching(launch_failures=failures)
    ref = "task-9" if error is None else None
    actions = after_launch(run, ref, error, NOW, LIMITS)
    if kind is None:
        assert actions == []  # keep the claim; relaunch with the same token
        return
    action = only(actions)
    assert isinstance(action, kind)
    if isinstance(action, Requeue):
        assert action.kind is expected and action.not_before > NOW
    elif isinstance(action, Finish):
        assert action.status is expected


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    steps = [backoff("r1", n, LIMITS) for n in range(12)]
    for n, step in enumerate(steps):
        full = min(LIMITS.backoff_cap, LIMITS.backoff_base * 2**n)
        assert full / 2 <= step <= full
    assert steps[0] < steps[4] < steps[7]
    assert backoff("r1", 3, LIMITS) != backoff("r2", 3, LIMITS)  # runs spread out
    assert backoff("r1", 3, LIMITS) == backoff("r1", 3, LIMITS)  # and plan stays pure
