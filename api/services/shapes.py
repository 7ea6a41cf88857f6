"""How database rows become the API's JSON shapes (``schemas.models``).

One place decides the defaults a client sees (a run without a reported summary has a
zero summary; a batch's status and finished time are derived from its runs), so every
endpoint that returns a run or a batch says the same thing about it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Row, func, select

from db.tables import batches, test_run_steps, test_runs, test_sets
from schemas.models import (
    BatchStatusRead,
    Counts,
    RunParameters,
    RunRead,
    RunWithSteps,
    Summary,
    TestSetRead,
)
from schemas.states import RunStatus, batch_status

from .errors import NotFound


def run_read(row: Row[Any]) -> RunRead:
    return RunRead(
        id=row.id,
        test_set_id=row.test_set_id,
        batch_id=row.batch_id,
        status=row.status,
        desired=row.desired,
        attempt=row.attempt,
        max_attempts=row.max_attempts,
        priority=row.priority,
        parameters=RunParameters.model_validate(row.parameters or {}),
        created_at=row.created_at,
        launched_at=row.launched_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        exit_code=row.exit_code,
        stop_code=row.stop_code,
        error=row.error,
        flaky=row.flaky,
        summary=Summary.model_validate(row.summary) if row.summary else Summary(),
    )


def test_set_read(row: Row[Any]) -> TestSetRead:
    return TestSetRead(
        id=row.id,
        name=row.name,
        description=row.description,
        base_url=row.base_url,
        features=row.features,
        tags=row.tags,
        timeout_seconds=row.timeout_seconds,
        max_attempts=row.max_attempts,
        enabled=row.enabled,
        retry_on_failure=row.retry_on_failure,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


test_set_read.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def load_run(conn: Connection, run_id: str, *, for_update: bool = False) -> Row[Any]:
    query = select(test_runs).where(test_runs.c.id == run_id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(f"no test run with id {run_id!r}")
    return row


def load_batch(conn: Connection, batch_id: str) -> Row[Any]:
    row = conn.execute(select(batches).where(batches.c.id == batch_id)).first()
    if row is None:
        raise NotFound(f"no batch with id {batch_id!r}")
    return row


def load_test_set(conn: Connection, test_set_id: str) -> Row[Any]:
    row = conn.execute(select(test_sets).where(test_sets.c.id == test_set_id)).first()
    if row is None:
        raise NotFound(f"no test set with id {test_set_id!r}")
    return row


def batch_runs(conn: Connection, batch_id: str) -> Sequence[Row[Any]]:
    return conn.execute(
        select(test_runs)
        .where(test_runs.c.batch_id == batch_id)
        .order_by(test_runs.c.created_at, test_runs.c.id)
    ).all()


def batch_status_read(batch: Row[Any], runs: Iterable[Row[Any]]) -> BatchStatusRead:
    runs = list(runs)
    statuses = [RunStatus(run.status) for run in runs]
    by_status = Counter(statuses)
    status = batch_status(statuses)
    finished = [run.finished_at for run in runs if run.finished_at is not None]
    all_done = bool(runs) and all(s.terminal for s in statuses)
    return BatchStatusRead(
        id=batch.id,
        label=batch.label,
        status=status,
        total=len(runs),
        counts={s.value: by_status.get(s, 0) for s in RunStatus},
        created_at=batch.created_at,
        finished_at=max(finished) if all_done and finished else None,
    )


def step_counts(conn: Connection, runs: Sequence[Row[Any]]) -> dict[str, Counts]:
    """Steps of each run's current attempt, counted by status (live, before the result)."""
    if not runs:
        return {}
    rows = conn.execute(
        select(
            test_run_steps.c.run_id,
            test_run_steps.c.attempt,
            test_run_steps.c.status,
            func.count().label("n"),
        )
        .where(test_run_steps.c.run_id.in_([run.id for run in runs]))
        .group_by(test_run_steps.c.run_id, test_run_steps.c.attempt, test_run_steps.c.status)
    ).all()
    current = {run.id: run.attempt for run in runs}
    counts: dict[str, dict[str, int]] = {run.id: {} for run in runs}
    for row in rows:
        if row.attempt == current[row.run_id] and row.status in Counts.model_fields:
            counts[row.run_id][row.status] = row.n
    return {run_id: Counts(**values) for run_id, values in counts.items()}


def run_with_steps(row: Row[Any], steps: Counts) -> RunWithSteps:
    return RunWithSteps(**run_read(row).model_dump(), steps=steps)
