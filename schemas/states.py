"""The run state machine: states, desired states and the transitions allowed between them.

One module owns it (DESIGN.md, "Run states"): the API asks it whether cancel or retry is
possible, the controller asks it before every UPDATE, and the tests walk it.

    pending ──claim──▶ launching ──task running──▶ running ──▶ passed | failed | error | timed_out
       ▲                  │                          │
       └──── retry ───────┴── infra failure, attempts left (with backoff)
    any non-terminal + desired=cancel ──▶ cancelled (task stopped first)
"""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    PENDING = "pending"
    LAUNCHING = "launching"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL

    @property
    def active(self) -> bool:
        """Counts against the concurrency limit."""
        return self in ACTIVE


class Desired(StrEnum):
    RUN = "run"
    CANCEL = "cancel"


class BatchStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL: frozenset[RunStatus] = frozenset(
    {RunStatus.PASSED, RunStatus.FAILED, RunStatus.ERROR, RunStatus.TIMED_OUT, RunStatus.CANCELLED}
)
ACTIVE: frozenset[RunStatus] = frozenset({RunStatus.LAUNCHING, RunStatus.RUNNING})

_S = RunStatus
TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    _S.PENDING: frozenset({_S.LAUNCHING, _S.CANCELLED}),
    # launching → pending: an infrastructure failure with attempts left (or capacity backoff).
    _S.LAUNCHING: frozenset(
        {_S.RUNNING, _S.PENDING, _S.PASSED, _S.FAILED, _S.ERROR, _S.TIMED_OUT, _S.CANCELLED}
    ),
    _S.RUNNING: frozenset({_S.PENDING, _S.PASSED, _S.FAILED, _S.ERROR, _S.TIMED_OUT, _S.CANCELLED}),
    # A finished run goes back to pending only by a retry (API or an operator's UPDATE).
    _S.PASSED: frozenset({_S.PENDING}),
    _S.FAILED: frozenset({_S.PENDING}),
    _S.ERROR: frozenset({_S.PENDING}),
    _S.TIMED_OUT: frozenset({_S.PENDING}),
    _S.CANCELLED: frozenset({_S.PENDING}),
}


class TransitionError(ValueError):
    """A change of state the machine does not allow; ``reason`` is safe to show a user."""

    def __init__(self, current: RunStatus, target: RunStatus, reason: str) -> None:
        super().__init__(reason)
        self.current = current
        self.target = target
        self.reason = reason


def can_transition(current: RunStatus, target: RunStatus) -> bool:
    return target in TRANSITIONS[current]


def check_transition(current: RunStatus, target: RunStatus) -> None:
    if not can_transition(current, target):
        raise TransitionError(
            current, target, f"a run that is {current.value} cannot become {target.value}"
        )


def check_retry(current: RunStatus) -> None:
    """A user's retry: only a finished run can be retried."""
    if not current.terminal:
        raise TransitionError(
            current,
            RunStatus.PENDING,
            f"only a finished run can be retried; this run is {current.value}",
        )


def check_cancel(current: RunStatus) -> None:
    """A user's cancel: only a run that has not finished can be cancelled."""
    if current.terminal:
        raise TransitionError(
            current,
            RunStatus.CANCELLED,
            f"the run already finished ({current.value}); there is nothing to cancel",
        )


def batch_status(statuses: list[RunStatus]) -> BatchStatus:
    """A batch's status is derived from its runs (DESIGN.md, "batch status")."""
    if not statuses:
        return BatchStatus.PASSED
    if all(s is RunStatus.PENDING for s in statuses):
        return BatchStatus.PENDING
    if not all(s.terminal for s in statuses):
        return BatchStatus.RUNNING
    if all(s is RunStatus.PASSED for s in statuses):
        return BatchStatus.PASSED
    if all(s is RunStatus.CANCELLED for s in statuses):
        return BatchStatus.CANCELLED
    return BatchStatus.FAILED


# Exit codes of `proctor runner` (DESIGN.md, "Runner").
EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_ERROR = 2
EXIT_STOPPED = 3

EXIT_TO_STATUS: dict[int, RunStatus] = {
    EXIT_PASSED: RunStatus.PASSED,
    EXIT_FAILED: RunStatus.FAILED,
    EXIT_ERROR: RunStatus.ERROR,
    EXIT_STOPPED: RunStatus.CANCELLED,
}
