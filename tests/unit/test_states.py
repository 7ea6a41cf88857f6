"""The run state machine: every allowed and forbidden transition, and batch status."""

from __future__ import annotations

import pytest

from schemas.states import (
    ACTIVE,
    TERMINAL,
    BatchStatus,
    RunStatus,
    TransitionError,
    batch_status,
    can_transition,
    check_cancel,
    check_retry,
    check_transition,
)

S = RunStatus
ALLOWED = {
    (S.PENDING, S.LAUNCHING),
    (S.PENDING, S.CANCELLED),
    (S.LAUNCHING, S.RUNNING),
    (S.LAUNCHING, S.PENDING),
    (S.RUNNING, S.PENDING),
    *((s, t) for s in (S.LAUNCHING, S.RUNNING) for t in TERMINAL),
    *((s, S.PENDING) for s in TERMINAL),
}


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_transition_table(current: RunStatus, target: RunStatus) -> None:
    expected = (current, target) in ALLOWED
    assert can_transition(current, target) is expected
    if expected:
        check_transition(current, target)
    else:
        with pytest.raises(TransitionError):
            check_transition(current, target)


def test_terminal_and_active_are_disjoint_and_cover_all_but_pending() -> None:
    assert not TERMINAL & ACTIVE
    assert set(S) - TERMINAL - ACTIVE == {S.PENDING}


@pytest.mark.parametrize("status", [S.PENDING, S.LAUNCHING, S.RUNNING])
def test_retry_of_unfinished_run_is_refused_with_reason(status: RunStatus) -> None:
    with pytest.raises(TransitionError, match=f"this run is {status.value}"):
        check_retry(status)


@pytest.mark.parametrize("status", sorted(TERMINAL))
def test_cancel_of_finished_run_is_refused(status: RunStatus) -> None:
    check_retry(status)
    with pytest.raises(TransitionError, match="already finished"):
        check_cancel(status)


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([S.PENDING, S.PENDING], BatchStatus.PENDING),
        ([S.PENDING, S.RUNNING], BatchStatus.RUNNING),
        ([S.PASSED, S.LAUNCHING], BatchStatus.RUNNING),
        ([S.PASSED, S.PASSED], BatchStatus.PASSED),
        ([S.PASSED, S.FAILED], BatchStatus.FAILED),
        ([S.PASSED, S.ERROR], BatchStatus.FAILED),
        ([S.CANCELLED, S.CANCELLED], BatchStatus.CANCELLED),
        ([S.CANCELLED, S.PASSED], BatchStatus.FAILED),
    ],
)
def test_batch_status_is_derived_from_runs(
    statuses: list[RunStatus], expected: BatchStatus
) -> None:
    assert batch_status(statuses) is expected
