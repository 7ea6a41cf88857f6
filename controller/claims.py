"""Every SQL statement the controller runs, named, in one place, each with its locking.

Rules every statement here follows (DESIGN.md, "Controller invariants"):

* Short transactions only. The service claims and commits, *then* calls ECS or spawns a
  process, *then* records the answer in a second transaction: no row lock is ever held
  across a network call.
* Fencing. Every UPDATE re-checks, in its WHERE, the status and attempt the controller
  observed, and — while a run is in ``launching`` without a recorded task — the claim
  owner. A controller that paused past its lease (or whose view is stale) matches no row
  and writes nothing; the caller sees ``False`` and moves on.
* Following uses ``FOR UPDATE SKIP LOCKED`` in the fence: when another replica is busy
  writing the same run, this one skips it instead of queueing behind it.
* Every change of status appends a ``run_events`` row in the same transaction.

SQLite (the embedded default) has no row locks: its transactions begin with
``BEGIN IMMEDIATE`` (``db.engine``), so there is one writer at a time and the same
statements are serial; ``FOR UPDATE SKIP LOCKED`` is simply not rendered there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, case, exists, func, insert, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from artifacts.store import StoredObject, kind_for
from controller.plan import TESTS_FAILED_REASON, RetryKind, RunView
from db.tables import artifacts, run_events, test_runs, test_sets
from schemas.models import Summary
from schemas.states import ACTIVE, Desired, RunStatus

#: Key of the PostgreSQL advisory lock that serialises count-then-claim across replicas.
CLAIM_LOCK_KEY = 0x50524F43  # "PROC"
#: Milliseconds a claim waits for that lock before the tick gives up (and retries).
CLAIM_LOCK_WAIT_MS = "15000"
#: Milliseconds a claim transaction may sit idle holding the lock before the server ends it.
CLAIM_IDLE_LIMIT_MS = "5000"

_ACTIVE = [s.value for s in ACTIVE]

_OBSERVED = (
    test_runs.c.id,
    test_runs.c.status,
    test_runs.c.desired,
    test_runs.c.attempt,
    test_runs.c.max_attempts,
    test_runs.c.launch_failures,
    test_runs.c.claimed_by,
    test_runs.c.claim_expires_at,
    test_runs.c.launched_at,
    test_runs.c.started_at,
    test_runs.c.heartbeat_at,
    test_runs.c.executor_ref,
    test_runs.c.trace_context,
    test_runs.c.summary,
    test_sets.c.timeout_seconds,
    test_sets.c.retry_on_failure,
)


def _view(row: Any) -> RunView:
    return RunView(
        id=row.id,
        status=RunStatus(row.status),
        desired=Desired(row.desired),
        attempt=row.attempt,
        max_attempts=row.max_attempts,
        launch_failures=row.launch_failures,
        claimed_by=row.claimed_by,
        claim_expires_at=row.claim_expires_at,
        launched_at=row.launched_at,
        started_at=row.started_at,
        heartbeat_at=row.heartbeat_at,
        executor_ref=row.executor_ref,
        timeout_seconds=row.timeout_seconds,
        retry_on_failure=bool(row.retry_on_failure),
        trace_context=row.trace_context,
        summary=Summary.model_validate(row.summary) if row.summary else None,
    )


def _event(
    conn: Connection, run: RunView, attempt: int, to: str, reason: str, actor: str, now: datetime
) -> None:
    conn.execute(
        insert(run_events).values(
            run_id=run.id,
            attempt=attempt,
            from_status=run.status.value,
            to_status=to,
            reason=reason,
            actor=actor,
            at=now,
        )
    )


def observe(
    conn: Connection,
    ids: Sequence[str] | None = None,
    *,
    controller_id: str | None = None,
    now: datetime | None = None,
) -> list[RunView]:
    """The runs this controller must look after.

    Those it holds the lease of (active runs it claimed or took over), launching runs whose
    claimer's lease expired before the task was recorded (to relaunch with the same
    token), and pending runs asked to cancel. Without ``controller_id``: every such run.

    No lock: a plain read. Decisions made from it are applied through fenced UPDATEs, so
    a stale read costs a skipped write, never a wrong one. Every branch of the WHERE is
    covered by a partial index (``ix_test_runs_active``, ``ix_test_runs_pending_queue``),
    so the cost follows the active runs, not the history.
    """
    query = select(*_OBSERVED).join(test_sets, test_sets.c.id == test_runs.c.test_set_id)
    cancel_pending = (test_runs.c.status == RunStatus.PENDING.value) & (
        test_runs.c.desired == Desired.CANCEL.value
    )
    if ids is not None:
        query = query.where(test_runs.c.id.in_(list(ids)))
    elif controller_id is None:
        query = query.where(or_(test_runs.c.status.in_(_ACTIVE), cancel_pending))
    else:
        assert now is not None
        query = query.where(
            or_(
                test_runs.c.status.in_(_ACTIVE) & (test_runs.c.claimed_by == controller_id),
                (test_runs.c.status == RunStatus.LAUNCHING.value)
                & test_runs.c.executor_ref.is_(None)
                & or_(test_runs.c.claim_expires_at.is_(None), test_runs.c.claim_expires_at <= now),
                cancel_pending,
            )
        )
    order = (test_runs.c.priority.desc(), test_runs.c.created_at, test_runs.c.id)
    return [_view(row) for row in conn.execute(query.order_by(*order))]


def renew_leases(conn: Connection, *, controller_id: str, now: datetime, lease: timedelta) -> int:
    """Extend our lease on every active run we look after (once per tick).

    While a controller lives its runs are followed by it alone, so replicas do not all
    describe and finish the same tasks. A controller that stops renewing (dead, paused,
    cut off) loses its runs to ``take_over_expired`` after the lease; its later writes
    then fail their fence on the owner.
    """
    result = conn.execute(
        update(test_runs)
        .where(test_runs.c.status.in_(_ACTIVE), test_runs.c.claimed_by == controller_id)
        .values(claim_expires_at=now + lease)
    )
    return int(result.rowcount)


def take_over_expired(
    conn: Connection, *, controller_id: str, now: datetime, lease: timedelta
) -> int:
    """Become the follower of launched runs whose controller's lease expired.

    ``FOR UPDATE SKIP LOCKED`` in a CTE: two replicas taking over at once split the runs
    between them instead of waiting on each other, and each row is taken once. Launched
    runs only — one whose task was never recorded goes through ``take_claim`` and a
    relaunch with the same token instead.
    """
    # Lock the expired rows first (skipping rows another replica is taking right now),
    # then move them: the previous owner is needed for the history, and SQLite's
    # RETURNING cannot name a joined CTE's columns.
    expired = conn.execute(
        select(test_runs.c.id, test_runs.c.attempt, test_runs.c.status, test_runs.c.claimed_by)
        .where(
            test_runs.c.status.in_(_ACTIVE),
            test_runs.c.executor_ref.is_not(None),
            or_(test_runs.c.claim_expires_at.is_(None), test_runs.c.claim_expires_at <= now),
        )
        .with_for_update(skip_locked=True)
    ).all()
    if not expired:
        return 0
    conn.execute(
        update(test_runs)
        .where(test_runs.c.id.in_([row.id for row in expired]))
        .values(claimed_by=controller_id, claim_expires_at=now + lease, updated_at=now)
    )
    conn.execute(
        insert(run_events),
        [
            {
                "run_id": row.id,
                "attempt": row.attempt,
                "from_status": row.status,
                "to_status": row.status,
                "actor": controller_id,
                "at": now,
                "reason": f"took over following from {row.claimed_by} (lease expired)",
            }
            for row in expired
        ],
    )
    return len(expired)


def claim_pending(
    conn: Connection, *, controller_id: str, max_active: int, now: datetime, lease: timedelta
) -> list[RunView]:
    """Claim up to the free slots of pending runs: priority first, then age.

    The count and the claim must not race across replicas (two replicas each counting 6
    active and each claiming 1 would make 8). On PostgreSQL a transaction-scoped advisory
    lock serialises this one function across all replicas — chosen over a slot table
    because it needs no extra rows to repair after a crash: it is released at commit or
    when the connection dies. Only a claim ever moves a run *into* the active states, so
    under the lock the count cannot grow behind our back (runs finishing meanwhile only
    make it conservative). SQLite gets the same guarantee from ``BEGIN IMMEDIATE``.

    ``FOR UPDATE SKIP LOCKED`` on the candidates skips pending rows the API is changing
    right now (a cancel), so claiming never waits for a client.

    The attempt is incremented, except when the previous try of the same attempt failed
    for capacity (``launch_failures > 0``): that try started nothing.
    """
    if conn.dialect.name == "postgresql":
        # One round trip: bound the wait for the lock, and have the server end this
        # session if we stall while holding it (a paused process must not block every
        # replica's claims; its transaction is rolled back and the lock released).
        conn.execute(
            text(
                "SELECT set_config('lock_timeout', :wait, true), "
                "set_config('idle_in_transaction_session_timeout', :idle, true), "
                "pg_advisory_xact_lock(:key)"
            ),
            {"key": CLAIM_LOCK_KEY, "wait": CLAIM_LOCK_WAIT_MS, "idle": CLAIM_IDLE_LIMIT_MS},
        )
    active = conn.execute(
        select(func.count()).select_from(test_runs).where(test_runs.c.status.in_(_ACTIVE))
    ).scalar_one()
    free = max_active - int(active)
    if free <= 0:
        return []
    candidates = (
        select(test_runs.c.id)
        .where(
            test_runs.c.status == RunStatus.PENDING.value,
            test_runs.c.desired == Desired.RUN.value,
            or_(test_runs.c.not_before.is_(None), test_runs.c.not_before <= now),
        )
        .order_by(test_runs.c.priority.desc(), test_runs.c.created_at, test_runs.c.id)
        .limit(free)
        .with_for_update(skip_locked=True)
        # A CTE runs once. As ``id IN (subquery)`` PostgreSQL may rescan the subquery per
        # row; each rescan re-checks rows this statement already moved to launching, skips
        # them and takes the *next* ones — and claims more than ``free``.
        .cte("next_runs")
    )
    claimed = conn.execute(
        update(test_runs)
        .where(test_runs.c.id == candidates.c.id)
        .where(test_runs.c.status == RunStatus.PENDING.value)
        .values(
            status=RunStatus.LAUNCHING.value,
            attempt=case(
                (test_runs.c.launch_failures > 0, test_runs.c.attempt),
                else_=test_runs.c.attempt + 1,
            ),
            claimed_by=controller_id,
            claim_expires_at=now + lease,
            launched_at=now,
            executor_ref=None,
            started_at=None,
            heartbeat_at=None,
            finished_at=None,
            exit_code=None,
            stop_code=None,
            stopped_reason=None,
            error=None,
            flaky=False,
            updated_at=now,
        )
        .returning(test_runs.c.id, test_runs.c.attempt)
    ).all()
    if claimed:
        # One executemany (pipelined by psycopg), not a round trip per claimed run.
        conn.execute(
            insert(run_events),
            [
                {
                    "run_id": row.id,
                    "attempt": row.attempt,
                    "from_status": RunStatus.PENDING.value,
                    "to_status": RunStatus.LAUNCHING.value,
                    "reason": f"claimed for attempt {row.attempt}",
                    "actor": controller_id,
                    "at": now,
                }
                for row in claimed
            ],
        )
    return observe(conn, [row.id for row in claimed]) if claimed else []


def _fence(run: RunView, *extra: ColumnElement[bool]) -> Any:
    """``WHERE id IN (the run, still as observed, unless another replica holds it)``.

    Status, attempt and — for an active run — the claim owner must be what we observed.
    """
    owner = (
        []
        if not run.status.active
        else [
            test_runs.c.claimed_by.is_(None)
            if run.claimed_by is None
            else test_runs.c.claimed_by == run.claimed_by
        ]
    )
    still = (
        select(test_runs.c.id)
        .where(
            test_runs.c.id == run.id,
            test_runs.c.status == run.status.value,
            test_runs.c.attempt == run.attempt,
            *owner,
            *extra,
        )
        .with_for_update(skip_locked=True)
    )
    return update(test_runs).where(test_runs.c.id.in_(still.scalar_subquery()))


def _task_fence(run: RunView) -> list[ColumnElement[bool]]:
    """An active run is also fenced on its task: a relaunch makes the old view stale."""
    if run.status is RunStatus.PENDING:
        return []
    if run.executor_ref is None:
        return [test_runs.c.executor_ref.is_(None)]
    return [test_runs.c.executor_ref == run.executor_ref]


def take_claim(
    conn: Connection,
    run: RunView,
    *,
    controller_id: str,
    now: datetime,
    lease: timedelta,
    reclaim: bool,
) -> bool:
    """Renew our claim on a launching run, or take over one whose lease expired.

    Fenced on the observed claim: of two replicas taking over the same expired claim, the
    second finds the lease renewed and matches nothing.
    """
    if reclaim:
        owner = (
            test_runs.c.claimed_by.is_(None)
            if run.claimed_by is None
            else test_runs.c.claimed_by == run.claimed_by
        )
        fence = [
            owner,
            or_(test_runs.c.claim_expires_at.is_(None), test_runs.c.claim_expires_at <= now),
        ]
    else:
        fence = [test_runs.c.claimed_by == controller_id]
    result = conn.execute(
        _fence(run, test_runs.c.executor_ref.is_(None), *fence).values(
            claimed_by=controller_id, claim_expires_at=now + lease, updated_at=now
        )
    )
    if result.rowcount == 1 and reclaim:
        _event(
            conn,
            run,
            run.attempt,
            run.status.value,
            f"took over the expired claim of {run.claimed_by}",
            controller_id,
            now,
        )
    return result.rowcount == 1


def record_launch(
    conn: Connection, run: RunView, ref: str, *, controller_id: str, now: datetime, adopted: bool
) -> bool:
    """Remember the task of our claimed attempt (claim owner and no task yet, fenced)."""
    result = conn.execute(
        _fence(
            run, test_runs.c.claimed_by == controller_id, test_runs.c.executor_ref.is_(None)
        ).values(executor_ref=ref, launch_failures=0, not_before=None, updated_at=now)
    )
    if result.rowcount == 1:
        verb = "adopted the task already started" if adopted else "launched"
        _event(conn, run, run.attempt, run.status.value, f"{verb}: {ref}", controller_id, now)
    return result.rowcount == 1


def current_task(conn: Connection, run_id: str) -> tuple[str, int, str | None] | None:
    """(status, attempt, executor_ref) of a run, to decide whether a task is unwanted."""
    row = conn.execute(
        select(test_runs.c.status, test_runs.c.attempt, test_runs.c.executor_ref).where(
            test_runs.c.id == run_id
        )
    ).first()
    return (row.status, row.attempt, row.executor_ref) if row else None


def mark_running(conn: Connection, run: RunView, *, actor: str, now: datetime) -> bool:
    result = conn.execute(
        _fence(run, test_runs.c.executor_ref == run.executor_ref).values(
            status=RunStatus.RUNNING.value,
            started_at=func.coalesce(test_runs.c.started_at, now),
            updated_at=now,
        )
    )
    if result.rowcount == 1:
        _event(conn, run, run.attempt, RunStatus.RUNNING.value, "task is running", actor, now)
    return result.rowcount == 1


def previously_failed(conn: Connection, run_id: str) -> bool:
    """Did an earlier attempt of this run fail its tests? (A pass now makes it flaky.)"""
    return bool(
        conn.execute(
            select(
                exists().where(
                    run_events.c.run_id == run_id,
                    or_(
                        run_events.c.to_status == RunStatus.FAILED.value,
                        run_events.c.reason.startswith(TESTS_FAILED_REASON),
                    ),
                )
            )
        ).scalar()
    )


def finish(
    conn: Connection,
    run: RunView,
    status: RunStatus,
    reason: str,
    *,
    actor: str,
    now: datetime,
    exit_code: int | None = None,
    stop_code: str | None = None,
    stopped_reason: str | None = None,
    error: str | None = None,
    summary: Summary | None = None,
) -> bool:
    """Record a terminal state (fenced on the observed status, attempt and task)."""
    flaky = status is RunStatus.PASSED and run.attempt > 1 and previously_failed(conn, run.id)
    values: dict[str, Any] = {
        "status": status.value,
        "finished_at": now,
        "exit_code": exit_code,
        "stop_code": stop_code,
        "stopped_reason": stopped_reason,
        "error": error,
        "flaky": flaky,
        "claimed_by": None,
        "claim_expires_at": None,
        "launch_failures": 0,
        "not_before": None,
        "updated_at": now,
    }
    if summary is not None:
        values["summary"] = summary.model_dump(mode="json")
    result = conn.execute(_fence(run, *_task_fence(run)).values(**values))
    if result.rowcount == 1:
        _event(conn, run, run.attempt, status.value, reason, actor, now)
    return result.rowcount == 1


def requeue(
    conn: Connection,
    run: RunView,
    kind: RetryKind,
    reason: str,
    *,
    not_before: datetime,
    actor: str,
    now: datetime,
    exit_code: int | None = None,
    stop_code: str | None = None,
) -> bool:
    """Back to ``pending`` for another try; a capacity failure keeps the attempt number."""
    values: dict[str, Any] = {
        "status": RunStatus.PENDING.value,
        "not_before": not_before,
        "claimed_by": None,
        "claim_expires_at": None,
        "executor_ref": None,
        "launched_at": None,
        "started_at": None,
        "heartbeat_at": None,
        "exit_code": exit_code,
        "stop_code": stop_code,
        "updated_at": now,
    }
    if kind is RetryKind.CAPACITY:
        values["launch_failures"] = test_runs.c.launch_failures + 1
    else:
        values["launch_failures"] = 0
    result = conn.execute(_fence(run, *_task_fence(run)).values(**values))
    if result.rowcount == 1:
        _event(conn, run, run.attempt, RunStatus.PENDING.value, reason, actor, now)
    return result.rowcount == 1


def release_claims(conn: Connection, *, controller_id: str, now: datetime) -> int:
    """On shutdown: let other replicas take over our runs at once, not after the lease.

    Only the lease is ended (no attempt is undone): a launch of ours may have reached ECS,
    and the replica that takes over relaunches with the same idempotency token; launched
    runs are simply followed by someone else.
    """
    result = conn.execute(
        update(test_runs)
        .where(test_runs.c.status.in_(_ACTIVE), test_runs.c.claimed_by == controller_id)
        .values(claim_expires_at=now, updated_at=now)
    )
    return int(result.rowcount)


def register_artifacts(
    conn: Connection, run_id: str, attempt: int, objects: Iterable[StoredObject], now: datetime
) -> None:
    """Add rows for objects found in the attempt's folder that the runner did not report."""
    rows = [
        {
            "run_id": run_id,
            "attempt": attempt,
            "kind": kind_for(obj.key),
            "key": obj.key,
            "content_type": obj.content_type,
            "size": obj.size,
            "created_at": now,
        }
        for obj in objects
    ]
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(
        dialect.insert(artifacts).on_conflict_do_nothing(
            index_elements=["run_id", "attempt", "key"]
        ),
        rows,
    )


@dataclass(frozen=True)
class RunState:
    status: RunStatus
    attempt: int


def run_states(conn: Connection, ids: Sequence[str]) -> dict[str, RunState]:
    """Status and attempt of the given runs (the orphan sweeper's question)."""
    if not ids:
        return {}
    rows = conn.execute(
        select(test_runs.c.id, test_runs.c.status, test_runs.c.attempt).where(
            test_runs.c.id.in_(list(ids))
        )
    )
    return {row.id: RunState(RunStatus(row.status), row.attempt) for row in rows}


def count_active(conn: Connection) -> int:
    return int(
        conn.execute(
            select(func.count()).select_from(test_runs).where(test_runs.c.status.in_(_ACTIVE))
        ).scalar_one()
    )
