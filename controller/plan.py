"""Deciding, with no I/O: what observed runs and tasks mean, and what to do about them.

``plan(runs, tasks, now, limits)`` turns one observation into a list of actions; the
service (``controller.service``) observed the world and applies the actions. Because
nothing here touches a database, a process or AWS, every row of the stop-code and failure
tables below is a plain table-driven unit test (``tests/unit/test_plan*.py``).

Task outcome (a launched attempt whose task has STOPPED)::

    stop code                   exit  →  outcome
    EssentialContainerExited    0        passed   (failed if its cucumber.json shows failures)
    EssentialContainerExited    1        failed   (retried if the test set retries failures)
    EssentialContainerExited    2        error
    EssentialContainerExited    3        cancelled
    EssentialContainerExited    other    error    (runner crashed)
    TaskFailedToStart           -        infrastructure retry
    SpotInterruption            -        infrastructure retry
    TerminationNotice           -        infrastructure retry
    ServiceSchedulerInitiated   -        infrastructure retry
    UserInitiated               -        cancelled after our cancel, timed_out after our
                                         timeout, else infrastructure retry (stopped by
                                         someone else)
    any, past the run deadline  not 0/1  timed_out
    (MISSING: task forgotten)   -        verdict from the uploaded report, else
                                         infrastructure retry
    any, desired = cancel       -        cancelled

Live tasks: PROVISIONING/PENDING past the launch timeout → stop + infrastructure retry;
RUNNING past the run deadline → stop (then timed_out); a stale runner heartbeat (local
launcher) → kill + infrastructure retry; desired = cancel → stop (SIGTERM, then SIGKILL
after a grace period).

Launch failures: capacity or throttling → back to pending with exponential backoff and
jitter, same attempt (a capacity failure is not an attempt); outcome unknown → keep the
claim and retry with the same idempotency token; permanent → error.

An infrastructure retry puts the run back to pending with backoff while attempts are left
(attempt < max_attempts); after that the run ends in ``error``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from controller.launcher import (
    LaunchError,
    LaunchOutcomeUnknown,
    PermanentLaunchError,
    StopCode,
    TaskState,
    TaskView,
)
from controller.report import report_verdict
from schemas.models import Summary
from schemas.states import EXIT_TO_STATUS, Desired, RunStatus

#: Prefix of the event reason written when failed tests are retried; a later pass of the
#: same run is marked flaky by looking for it (see ``claims.finish``).
TESTS_FAILED_REASON = "tests failed"


@dataclass(frozen=True)
class RunView:
    """One run as the controller observed it (its row and its test set's settings)."""

    id: str
    status: RunStatus
    desired: Desired
    attempt: int
    max_attempts: int
    launch_failures: int = 0
    claimed_by: str | None = None
    claim_expires_at: datetime | None = None
    launched_at: datetime | None = None
    started_at: datetime | None = None
    heartbeat_at: datetime | None = None
    executor_ref: str | None = None
    timeout_seconds: int | None = None
    retry_on_failure: bool = False
    trace_context: dict[str, str] | None = None
    # The runner's own summary (reported through the API), if any.
    summary: Summary | None = None
    # The attempt's uploaded cucumber.json, read only once its task has ended.
    report: Summary | None = None


@dataclass(frozen=True)
class Limits:
    controller_id: str
    run_timeout: timedelta = timedelta(hours=1)
    launch_timeout: timedelta = timedelta(minutes=10)
    heartbeat_timeout: timedelta = timedelta(minutes=2)
    heartbeat_required: bool = False
    #: Time between SIGTERM/StopTask and SIGKILL when a task does not stop by itself.
    stop_grace: timedelta = timedelta(seconds=30)
    #: Capacity/throttling failures of one attempt before the run ends in error.
    max_launch_failures: int = 10
    backoff_base: timedelta = timedelta(seconds=2)
    backoff_cap: timedelta = timedelta(minutes=5)


class RetryKind(StrEnum):
    INFRA = "infra"  # the attempt is used up; the next claim makes attempt + 1
    CAPACITY = "capacity"  # nothing started; the same attempt is launched again later
    TESTS = "tests"  # the tests failed and the test set retries failures


@dataclass(frozen=True)
class Launch:
    """Start (or adopt) the run's current attempt; ``reclaim`` takes over an expired claim."""

    run: RunView
    reclaim: bool = False


@dataclass(frozen=True)
class RecordLaunch:
    run: RunView
    ref: str
    adopted: bool = False


@dataclass(frozen=True)
class MarkRunning:
    run: RunView


@dataclass(frozen=True)
class Stop:
    run: RunView
    ref: str
    reason: str
    force: bool = False


@dataclass(frozen=True)
class Finish:
    run: RunView
    status: RunStatus
    reason: str
    exit_code: int | None = None
    stop_code: str | None = None
    stopped_reason: str | None = None
    error: str | None = None
    summary: Summary | None = None


@dataclass(frozen=True)
class Requeue:
    run: RunView
    kind: RetryKind
    reason: str
    not_before: datetime
    exit_code: int | None = None
    stop_code: str | None = None


Action = Launch | RecordLaunch | MarkRunning | Stop | Finish | Requeue

_INFRA_STOP_CODES = frozenset(
    {
        StopCode.TASK_FAILED_TO_START,
        StopCode.SPOT_INTERRUPTION,
        StopCode.TERMINATION_NOTICE,
        StopCode.SERVICE_SCHEDULER_INITIATED,
    }
)


def backoff(run_id: str, failures: int, limits: Limits) -> timedelta:
    """Exponential backoff with deterministic jitter in [50 %, 100 %] of the step.

    The jitter comes from a hash of the run and the failure count, so replicas and runs
    spread out (no thundering herd after a capacity outage) while ``plan`` stays pure.
    """
    step = min(limits.backoff_cap, limits.backoff_base * (2 ** max(0, failures)))
    digest = hashlib.sha256(f"{run_id}:{failures}".encode()).digest()
    fraction = 0.5 + 0.5 * int.from_bytes(digest[:4], "big") / 2**32
    return step * fraction


def deadline(run: RunView, limits: Limits) -> datetime | None:
    began = run.started_at or run.launched_at
    if began is None:
        return None
    timeout = timedelta(seconds=run.timeout_seconds) if run.timeout_seconds else limits.run_timeout
    return began + timeout


def _infra_retry(
    run: RunView, reason: str, now: datetime, limits: Limits, **codes: object
) -> Action:
    exit_code = codes.get("exit_code")
    stop_code = codes.get("stop_code")
    if run.attempt < run.max_attempts:
        return Requeue(
            run,
            RetryKind.INFRA,
            f"{reason}; retrying (attempt {run.attempt} of {run.max_attempts})",
            now + backoff(run.id, run.attempt, limits),
            exit_code=exit_code if isinstance(exit_code, int) else None,
            stop_code=stop_code if isinstance(stop_code, str) else None,
        )
    return Finish(
        run,
        RunStatus.ERROR,
        f"{reason}; no attempts left ({run.attempt} of {run.max_attempts})",
        exit_code=exit_code if isinstance(exit_code, int) else None,
        stop_code=stop_code if isinstance(stop_code, str) else None,
        error=reason,
    )


def _stop_if_needed(
    run: RunView, task: TaskView, reason: str, now: datetime, limits: Limits
) -> list[Action]:
    if task.stop_requested_at is None:
        return [Stop(run, task.ref, reason)]
    if now - task.stop_requested_at >= limits.stop_grace:
        return [Stop(run, task.ref, f"{reason} (did not stop within the grace period)", force=True)]
    return []


def _verdict(
    run: RunView,
    exit_code: int | None,
    reason: str,
    now: datetime,
    limits: Limits,
    **codes: str | None,
) -> Action:
    """A finished task's verdict from its exit code and its uploaded report."""
    status = EXIT_TO_STATUS.get(exit_code) if exit_code is not None else None
    summary = run.summary or run.report
    if status is None:
        crashed = (
            f"runner exited with code {exit_code}"
            if exit_code is not None
            else ("runner ended without an exit code")
        )
        return Finish(
            run,
            RunStatus.ERROR,
            f"{reason}: {crashed}",
            exit_code=exit_code,
            error=crashed,
            summary=summary,
            **codes,
        )
    if status is RunStatus.PASSED and run.report is not None and report_verdict(run.report) == 1:
        status = RunStatus.FAILED
        reason = f"{reason}; the uploaded report shows failed scenarios"
    if status is RunStatus.FAILED and run.retry_on_failure and run.attempt < run.max_attempts:
        return Requeue(
            run,
            RetryKind.TESTS,
            f"{TESTS_FAILED_REASON} on attempt {run.attempt}; retrying (test set retries failures)",
            now,
            exit_code=exit_code,
            stop_code=codes.get("stop_code"),
        )
    error = "the runner could not produce a verdict" if status is RunStatus.ERROR else None
    return Finish(
        run,
        status,
        f"{reason}: exit code {exit_code}",
        exit_code=exit_code,
        error=error,
        summary=summary,
        **codes,
    )


def _stopped(run: RunView, task: TaskView, now: datetime, limits: Limits) -> list[Action]:
    codes = {"stop_code": task.stop_code, "stopped_reason": task.stopped_reason}
    due = deadline(run, limits)
    late = due is not None and now > due
    summary = run.summary or run.report
    if run.desired is Desired.CANCEL:
        return [
            Finish(
                run,
                RunStatus.CANCELLED,
                "cancelled; the task stopped",
                exit_code=task.exit_code,
                summary=summary,
                **codes,
            )
        ]
    if late and task.exit_code not in (0, 1):
        return [
            Finish(
                run,
                RunStatus.TIMED_OUT,
                "exceeded its timeout; the task was stopped",
                exit_code=task.exit_code,
                error="timed out",
                summary=summary,
                **codes,
            )
        ]
    code = task.stop_code
    if code in _INFRA_STOP_CODES:
        return [
            _infra_retry(
                run,
                f"task stopped: {code} ({task.stopped_reason or 'no reason given'})",
                now,
                limits,
                stop_code=code,
            )
        ]
    if code == StopCode.USER_INITIATED:
        return [
            _infra_retry(
                run,
                "task stopped by someone else (UserInitiated)",
                now,
                limits,
                stop_code=code,
                exit_code=task.exit_code,
            )
        ]
    if code == StopCode.ESSENTIAL_CONTAINER_EXITED or task.exit_code is not None:
        return [_verdict(run, task.exit_code, "runner finished", now, limits, **codes)]
    return [
        _infra_retry(
            run, f"task stopped without an exit code ({code})", now, limits, stop_code=code
        )
    ]


def _missing(run: RunView, now: datetime, limits: Limits) -> list[Action]:
    if run.desired is Desired.CANCEL:
        return [
            Finish(
                run,
                RunStatus.CANCELLED,
                "cancelled; the task is gone",
                summary=run.summary or run.report,
            )
        ]
    implied = report_verdict(run.report) if run.report is not None else None
    if implied is not None:
        return [
            _verdict(
                run,
                implied,
                "task is gone; verdict from the uploaded report",
                now,
                limits,
                stop_code="MISSING",
            )
        ]
    return [_infra_retry(run, "task is gone and left no report", now, limits, stop_code="MISSING")]


def _not_launched(run: RunView, now: datetime, limits: Limits) -> list[Action]:
    """A run in ``launching`` whose task is not recorded yet."""
    if run.desired is Desired.CANCEL:
        return [Finish(run, RunStatus.CANCELLED, "cancelled before its task was recorded")]
    if run.claim_expires_at is None or run.claim_expires_at <= now:
        # Its controller died (or paused) between claim and recording: relaunch with the
        # same idempotency token (after looking the attempt up), which adopts a task that
        # was already started instead of starting another.
        return [Launch(run, reclaim=True)]
    if run.claimed_by != limits.controller_id:
        return []
    if run.launched_at is not None and now - run.launched_at > limits.launch_timeout:
        return [_infra_retry(run, "launch did not complete within the launch timeout", now, limits)]
    return [Launch(run)]


def plan_run(run: RunView, task: TaskView | None, now: datetime, limits: Limits) -> list[Action]:
    if run.status is RunStatus.PENDING:
        if run.desired is Desired.CANCEL:
            return [Finish(run, RunStatus.CANCELLED, "cancelled before launch")]
        return []
    if not run.status.active:
        return []
    if run.executor_ref is None:
        return _not_launched(run, now, limits)
    if task is None:
        return []  # not observable this time; decide on the next tick
    due = deadline(run, limits)
    if task.state is TaskState.PENDING:
        if run.desired is Desired.CANCEL:
            return _stop_if_needed(run, task, "cancel requested", now, limits)
        started = run.launched_at
        if started is not None and now - started > limits.launch_timeout:
            return [
                Stop(run, task.ref, "still provisioning after the launch timeout"),
                _infra_retry(
                    run, "task still PROVISIONING/PENDING after the launch timeout", now, limits
                ),
            ]
        return []
    if task.state is TaskState.RUNNING:
        actions: list[Action] = []
        if run.status is RunStatus.LAUNCHING:
            actions.append(MarkRunning(run))
        if run.desired is Desired.CANCEL:
            return actions + _stop_if_needed(run, task, "cancel requested", now, limits)
        if due is not None and now > due:
            return actions + _stop_if_needed(run, task, "run timed out", now, limits)
        if limits.heartbeat_required:
            last = run.heartbeat_at or run.started_at or run.launched_at
            if last is not None and now - last > limits.heartbeat_timeout:
                return [
                    *actions,
                    Stop(run, task.ref, "runner heartbeat is stale", force=True),
                    _infra_retry(run, "runner heartbeat is stale", now, limits),
                ]
        return actions
    if task.state is TaskState.STOPPED:
        return _stopped(run, task, now, limits)
    return _missing(run, now, limits)


def plan(
    runs: list[RunView], tasks: dict[str, TaskView], now: datetime, limits: Limits
) -> list[Action]:
    """Everything to do for the observed runs, in order, per run."""
    actions: list[Action] = []
    for run in runs:
        task = tasks.get(run.executor_ref) if run.executor_ref else None
        actions.extend(plan_run(run, task, now, limits))
    return actions


def after_launch(
    run: RunView,
    ref: str | None,
    error: LaunchError | None,
    now: datetime,
    limits: Limits,
    *,
    adopted: bool = False,
) -> list[Action]:
    """What a launch's answer means (the failure table of the module docstring)."""
    if ref is not None:
        return [RecordLaunch(run, ref, adopted=adopted)]
    if error is None or isinstance(error, LaunchOutcomeUnknown):
        return []  # keep the claim; the next tick relaunches with the same token
    if isinstance(error, PermanentLaunchError):
        return [
            Finish(
                run,
                RunStatus.ERROR,
                f"launch failed: {error.code}: {error}",
                error=f"{error.code}: {error}",
            )
        ]
    failures = run.launch_failures + 1
    if failures >= limits.max_launch_failures:
        return [
            Finish(
                run,
                RunStatus.ERROR,
                f"gave up after {failures} launch failures; last: {error.code}: {error}",
                error=f"{error.code}: {error}",
            )
        ]
    return [
        Requeue(
            run,
            RetryKind.CAPACITY,
            f"launch failed ({error.code}: {error}); backing off",
            now + backoff(run.id, run.launch_failures, limits),
        )
    ]
