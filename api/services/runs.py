"""Runs: read one, list many (filters + a stable cursor), their steps, cancel and retry.

Listing is newest first, ordered by ``(created_at, id)`` descending — ``id`` breaks ties
between runs of one batch, which share a creation time — and pages with an opaque cursor
that encodes the last row's ``(created_at, id)``. A run created while a client pages
through never shifts the pages it has not read yet (keyset pagination, no OFFSET).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, and_, or_, select

from db.engine import notify_runs, utcnow
from db.tables import test_run_steps, test_runs
from schemas.models import RunPage, RunRead, StepRead
from schemas.states import RunStatus

from .errors import Unprocessable
from .shapes import load_run, run_read
from .transitions import cancel_run_row, retry_run_row

MAX_PAGE = 200


@dataclass(frozen=True)
class RunFilter:
    statuses: list[RunStatus] = field(default_factory=list)
    test_set_id: str | None = None
    batch_id: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


def encode_cursor(created_at: datetime, run_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{run_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        created, run_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        when = datetime.fromisoformat(created)
    except (binascii.Error, UnicodeDecodeError, ValueError) as err:
        raise Unprocessable("cursor is not one this API returned (use nextCursor)") from err
    if when.tzinfo is None:
        raise Unprocessable("cursor is not one this API returned (use nextCursor)")
    return when, run_id


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise Unprocessable(f"{name} needs a time zone, e.g. 2026-01-31T12:00:00Z")
    return value


def list_runs(
    engine: Engine, filters: RunFilter, *, limit: int = 50, cursor: str | None = None
) -> RunPage:
    if not 1 <= limit <= MAX_PAGE:
        raise Unprocessable(f"limit must be between 1 and {MAX_PAGE}")
    query = select(test_runs)
    if filters.statuses:
        query = query.where(test_runs.c.status.in_([s.value for s in filters.statuses]))
    if filters.test_set_id is not None:
        query = query.where(test_runs.c.test_set_id == filters.test_set_id)
    if filters.batch_id is not None:
        query = query.where(test_runs.c.batch_id == filters.batch_id)
    if after := _aware(filters.created_after, "createdAfter"):
        query = query.where(test_runs.c.created_at >= after)
    if before := _aware(filters.created_before, "createdBefore"):
        query = query.where(test_runs.c.created_at < before)
    if cursor:
        when, last_id = decode_cursor(cursor)
        query = query.where(
            or_(
                test_runs.c.created_at < when,
                and_(test_runs.c.created_at == when, test_runs.c.id < last_id),
            )
        )
    query = query.order_by(test_runs.c.created_at.desc(), test_runs.c.id.desc()).limit(limit + 1)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    page, more = rows[:limit], len(rows) > limit
    return RunPage(
        items=[run_read(row) for row in page],
        next_cursor=encode_cursor(page[-1].created_at, page[-1].id) if more else None,
    )


def get_run(engine: Engine, run_id: str) -> RunRead:
    with engine.connect() as conn:
        return run_read(load_run(conn, run_id))


def get_steps(engine: Engine, run_id: str, attempt: int | None = None) -> list[StepRead]:
    """The steps of one attempt (default: the current one), in the runner's order."""
    with engine.connect() as conn:
        run = load_run(conn, run_id)
        rows = conn.execute(
            select(test_run_steps)
            .where(
                test_run_steps.c.run_id == run_id,
                test_run_steps.c.attempt == (run.attempt if attempt is None else attempt),
            )
            .order_by(test_run_steps.c.seq)
        ).all()
    return [StepRead.model_validate(row) for row in rows]


def cancel_run(engine: Engine, run_id: str, *, actor: str) -> RunRead:
    with engine.begin() as conn:
        cancel_run_row(conn, load_run(conn, run_id, for_update=True), actor=actor, now=utcnow())
        notify_runs(conn, run_id)
        return run_read(load_run(conn, run_id))


def retry_run(engine: Engine, run_id: str, *, actor: str) -> RunRead:
    with engine.begin() as conn:
        retry_run_row(conn, load_run(conn, run_id, for_update=True), actor=actor, now=utcnow())
        notify_runs(conn, run_id)
        return run_read(load_run(conn, run_id))
