"""The writes that change a run's state on behalf of a client, each with its history row.

Every change of status appends to ``run_events`` in the same transaction (the run's
``kubectl get events``), and every write that gives a controller work notifies it
(``db.engine.notify_runs``; delivered at commit). The state machine itself lives in
``schemas.states``; these functions ask it before they write, and raise its
``TransitionError`` (409 for clients) when it says no.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, update

from db.tables import run_events, test_runs
from schemas.models import RunParameters
from schemas.states import Desired, RunStatus, check_cancel, check_retry


def record_event(
    conn: Connection,
    *,
    run_id: str,
    attempt: int,
    from_status: str | None,
    to_status: str,
    reason: str,
    actor: str,
    at: datetime,
) -> None:
    conn.execute(
        insert(run_events).values(
            run_id=run_id,
            attempt=attempt,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
            actor=actor,
            at=at,
        )
    )


def insert_pending_run(
    conn: Connection,
    *,
    test_set: Row[Any],
    batch_id: str | None,
    parameters: RunParameters,
    priority: int,
    max_attempts: int | None,
    actor: str,
    requested_by: str | None,
    traceparent: str | None,
    now: datetime,
) -> str:
    """A new run in ``pending`` with its first history row; the caller notifies.

    ``actor`` is who authenticated (the history's actor); ``requested_by`` is what the
    client says it acts for (a CI job, a person), kept on the run only.
    """
    run_id = str(uuid.uuid4())
    conn.execute(
        insert(test_runs).values(
            id=run_id,
            test_set_id=test_set.id,
            batch_id=batch_id,
            desired=Desired.RUN.value,
            priority=priority,
            parameters=parameters.model_dump(mode="json", exclude_none=True),
            requested_by=requested_by or actor,
            max_attempts=max_attempts or test_set.max_attempts,
            created_at=now,
            status=RunStatus.PENDING.value,
            attempt=0,
            trace_context={"traceparent": traceparent} if traceparent else None,
            updated_at=now,
        )
    )
    record_event(
        conn,
        run_id=run_id,
        attempt=0,
        from_status=None,
        to_status=RunStatus.PENDING.value,
        reason="requested" + (" as part of batch " + batch_id if batch_id else ""),
        actor=actor,
        at=now,
    )
    return run_id


def cancel_run_row(conn: Connection, run: Row[Any], *, actor: str, now: datetime) -> None:
    """Cancel a locked run row: a pending run is cancelled at once (no task exists yet);
    a launching or running one gets ``desired = cancel`` and the controller stops its task
    first, then records ``cancelled``."""
    status = RunStatus(run.status)
    check_cancel(status)
    if status is RunStatus.PENDING:
        conn.execute(
            update(test_runs)
            .where(test_runs.c.id == run.id)
            .values(
                desired=Desired.CANCEL.value,
                status=RunStatus.CANCELLED.value,
                finished_at=now,
                updated_at=now,
            )
        )
        record_event(
            conn,
            run_id=run.id,
            attempt=run.attempt,
            from_status=status.value,
            to_status=RunStatus.CANCELLED.value,
            reason="cancelled before it started",
            actor=actor,
            at=now,
        )
    elif run.desired != Desired.CANCEL.value:
        conn.execute(
            update(test_runs)
            .where(test_runs.c.id == run.id)
            .values(desired=Desired.CANCEL.value, updated_at=now)
        )


def retry_run_row(conn: Connection, run: Row[Any], *, actor: str, now: datetime) -> None:
    """Send a finished, locked run back to ``pending``. The attempt number stays: the
    controller increments it when it claims the run, so the next attempt gets its own
    artifacts folder."""
    status = RunStatus(run.status)
    check_retry(status)
    conn.execute(
        update(test_runs)
        .where(test_runs.c.id == run.id)
        .values(
            status=RunStatus.PENDING.value,
            desired=Desired.RUN.value,
            claimed_by=None,
            claim_expires_at=None,
            not_before=None,
            launch_failures=0,
            launched_at=None,
            started_at=None,
            finished_at=None,
            heartbeat_at=None,
            executor_ref=None,
            exit_code=None,
            stop_code=None,
            stopped_reason=None,
            error=None,
            summary=None,
            updated_at=now,
        )
    )
    record_event(
        conn,
        run_id=run.id,
        attempt=run.attempt,
        from_status=status.value,
        to_status=RunStatus.PENDING.value,
        reason="retry requested",
        actor=actor,
        at=now,
    )
