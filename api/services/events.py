"""Live progress, read from the database one poll at a time (the HTTP layer streams it).

A poll returns what happened after a cursor — status changes from ``run_events`` and
finished steps from ``test_run_steps``, both in id order — and whether the run (or every
run of the batch) has finished. The run's status is read *before* the new rows, in the
same transaction, and a status change is written with its event row in one transaction;
so when a poll says "finished", it has also returned the final event.

The cursor is ``"<last event id>.<last step id>"``; it is sent as each message's SSE
``id``, so a reconnecting ``EventSource`` (``Last-Event-ID``) resumes where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select

from db.tables import run_events, test_run_steps, test_runs
from schemas.models import BatchStatusRead, RunEvent, StepRead
from schemas.states import RunStatus

from .shapes import batch_runs, batch_status_read, load_batch, load_run


@dataclass(frozen=True)
class Cursor:
    event_id: int = 0
    step_id: int = 0

    def __str__(self) -> str:
        return f"{self.event_id}.{self.step_id}"

    @classmethod
    def parse(cls, value: str | None) -> Cursor:
        try:
            event_id, step_id = (value or "").split(".")
            return cls(max(int(event_id), 0), max(int(step_id), 0))
        except ValueError:
            return cls()


@dataclass(frozen=True)
class Message:
    event: str  # "state", "step", "batch" or "end"
    data: dict[str, Any]
    cursor: Cursor


@dataclass(frozen=True)
class Poll:
    messages: list[Message]
    cursor: Cursor
    finished: bool


def _new_rows(conn: Connection, run_ids: Any, cursor: Cursor) -> tuple[list[Message], Cursor]:
    events = conn.execute(
        select(run_events)
        .where(run_events.c.run_id.in_(run_ids), run_events.c.id > cursor.event_id)
        .order_by(run_events.c.id)
    ).all()
    steps = conn.execute(
        select(test_run_steps)
        .where(test_run_steps.c.run_id.in_(run_ids), test_run_steps.c.id > cursor.step_id)
        .order_by(test_run_steps.c.id)
    ).all()
    messages: list[Message] = []
    # Interleave by time so a client sees steps between the state changes around them.
    merged = sorted(
        [(row.at, 0, row.id, "state", row) for row in events]
        + [(row.created_at, 1, row.id, "step", row) for row in steps],
        key=lambda item: (item[0], item[1], item[2]),
    )
    for _at, _order, row_id, kind, row in merged:
        if kind == "state":
            cursor = Cursor(max(cursor.event_id, row_id), cursor.step_id)
            data = RunEvent.model_validate(row).model_dump(mode="json", by_alias=True)
        else:
            cursor = Cursor(cursor.event_id, max(cursor.step_id, row_id))
            data = {
                "runId": row.run_id,
                **StepRead.model_validate(row).model_dump(mode="json", by_alias=True),
            }
        messages.append(Message(kind, data, cursor))
    return messages, cursor


def check_run(engine: Engine, run_id: str) -> None:
    with engine.connect() as conn:
        load_run(conn, run_id)


def check_batch(engine: Engine, batch_id: str) -> None:
    with engine.connect() as conn:
        load_batch(conn, batch_id)


def poll_run(engine: Engine, run_id: str, cursor: Cursor) -> Poll:
    with engine.connect() as conn:
        run = load_run(conn, run_id)
        messages, cursor = _new_rows(conn, [run_id], cursor)
    finished = RunStatus(run.status).terminal
    if finished:
        messages.append(Message("end", {"id": run_id, "status": run.status}, cursor))
    return Poll(messages, cursor, finished)


def poll_batch(
    engine: Engine, batch_id: str, cursor: Cursor, last: BatchStatusRead | None
) -> tuple[Poll, BatchStatusRead]:
    """As ``poll_run`` for every run of the batch, plus a ``batch`` message when the
    batch's derived status or counts changed since ``last``."""
    with engine.connect() as conn:
        batch = load_batch(conn, batch_id)
        runs = batch_runs(conn, batch_id)
        messages, cursor = _new_rows(
            conn, select(test_runs.c.id).where(test_runs.c.batch_id == batch_id), cursor
        )
    status = batch_status_read(batch, runs)
    if last is None or (status.status, status.counts) != (last.status, last.counts):
        messages.append(Message("batch", status.model_dump(mode="json", by_alias=True), cursor))
    finished = all(RunStatus(run.status).terminal for run in runs)
    if finished:
        messages.append(Message("end", {"id": batch_id, "status": status.status.value}, cursor))
    return Poll(messages, cursor, finished), status
