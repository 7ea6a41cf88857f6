"""Batches (one execute-all request): status and counts, details with runs, cancel.

A batch has no status column: it is derived from its runs every time it is read
(``schemas.states.batch_status``), so it can never disagree with them.
"""

from __future__ import annotations

from sqlalchemy import Engine, select

from db.engine import notify_runs, utcnow
from db.tables import test_runs
from schemas.models import BatchDetails, BatchStatusRead
from schemas.states import RunStatus

from .errors import Conflict
from .shapes import (
    batch_runs,
    batch_status_read,
    load_batch,
    run_with_steps,
    step_counts,
)
from .transitions import cancel_run_row


def get_batch_status(engine: Engine, batch_id: str) -> BatchStatusRead:
    with engine.connect() as conn:
        batch = load_batch(conn, batch_id)
        return batch_status_read(batch, batch_runs(conn, batch_id))


def get_batch_details(engine: Engine, batch_id: str) -> BatchDetails:
    with engine.connect() as conn:
        batch = load_batch(conn, batch_id)
        runs = batch_runs(conn, batch_id)
        counts = step_counts(conn, runs)
    status = batch_status_read(batch, runs)
    return BatchDetails(
        **status.model_dump(), runs=[run_with_steps(run, counts[run.id]) for run in runs]
    )


def cancel_batch(engine: Engine, batch_id: str, *, actor: str) -> BatchStatusRead:
    """Cancel every run of the batch that has not finished; 409 when none is left."""
    with engine.begin() as conn:
        batch = load_batch(conn, batch_id)
        runs = conn.execute(
            select(test_runs)
            .where(test_runs.c.batch_id == batch_id)
            .order_by(test_runs.c.id)  # one lock order for every canceller
            .with_for_update()
        ).all()
        open_runs = [run for run in runs if not RunStatus(run.status).terminal]
        if not open_runs:
            raise Conflict("every run of this batch already finished; there is nothing to cancel")
        now = utcnow()
        for run in open_runs:
            cancel_run_row(conn, run, actor=actor, now=now)
        notify_runs(conn, batch_id)
        return batch_status_read(batch, batch_runs(conn, batch_id))
