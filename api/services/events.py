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

from dataclasses import dataclass, field
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
    finished: bool


#: How far below its cursor a stream looks for rows that committed late.
LOOKBACK = 200


@dataclass
class StreamState:
    """What one open stream has sent.

    Row ids are taken at INSERT but become visible at COMMIT, so a row with a smaller id
    can appear after a larger one (two runs of a batch, written by two transactions).
    Each poll therefore looks ``LOOKBACK`` ids below the cursor and skips the rows it has
    already sent; nothing at or below ``floor`` (where a reconnect resumed) is re-sent.
    """

    cursor: Cursor
    floor: Cursor
    sent_events: set[int] = field(default_factory=set)
    sent_steps: set[int] = field(default_factory=set)
    last_batch: BatchStatusRead | None = None

    @classmethod
    def resume(cls, last_event_id: str | None) -> StreamState:
        cursor = Cursor.parse(last_event_id)
        return cls(cursor=cursor, floor=cursor)

    def lower_bounds(self) -> tuple[int, int]:
        return (
            max(self.floor.event_id, self.cursor.event_id - LOOKBACK),
            max(self.floor.step_id, self.cursor.step_id - LOOKBACK),
        )

    def forget_below(self, event_id: int, step_id: int) -> None:
        self.sent_events = {i for i in self.sent_events if i > event_id}
        self.sent_steps = {i for i in self.sent_steps if i > step_id}


def _new_rows(conn: Connection, run_ids: Any, state: StreamState) -> list[Message]:
    low_event, low_step = state.lower_bounds()
    events = conn.execute(
        select(run_events)
        .where(run_events.c.run_id.in_(run_ids), run_events.c.id > low_event)
        .order_by(run_events.c.id)
    ).all()
    steps = conn.execute(
        select(test_run_steps)
        .where(test_run_steps.c.run_id.in_(run_ids), test_run_steps.c.id > low_step)
        .order_by(test_run_steps.c.id)
    ).all()
    # Interleave by time so a client sees steps between the state changes around them.
    merged = sorted(
        [(row.at, 0, row.id, "state", row) for row in events if row.id not in state.sent_events]
        + [
            (row.created_at, 1, row.id, "step", row)
            for row in steps
            if row.id not in state.sent_steps
        ],
        key=lambda item: (item[0], item[1], item[2]),
    )
    messages: list[Message] = []
    for _at, _order, row_id, kind, row in merged:
        cursor = state.cursor
        if kind == "state":
            state.sent_events.add(row_id)
            state.cursor = Cursor(max(cursor.event_id, row_id), cursor.step_id)
            data = RunEvent.model_validate(row).model_dump(mode="json", by_alias=True)
        else:
            state.sent_steps.add(row_id)
            state.cursor = Cursor(cursor.event_id, max(cursor.step_id, row_id))
            data = {
                "runId": row.run_id,
                **StepRead.model_validate(row).model_dump(mode="json", by_alias=True),
            }
        messages.append(Message(kind, data, state.cursor))
    state.forget_below(*state.lower_bounds())
    return messages


def check_run(engine: Engine, run_id: str) -> None:
    with engine.connect() as conn:
        load_run(conn, run_id)


def check_batch(engine: Engine, batch_id: str) -> None:
    with engine.connect() as conn:
        load_batch(conn, batch_id)


def poll_run(engine: Engine, run_id: str, state: StreamState) -> Poll:
    with engine.connect() as conn:
        run = load_run(conn, run_id)
        messages = _new_rows(conn, [run_id], state)
    finished = RunStatus(run.status).terminal
    if finished:
        messages.append(Message("end", {"id": run_id, "status": run.status}, state.cursor))
    return Poll(messages, finished)


def poll_batch(engine: Engine, batch_id: str, state: StreamState) -> Poll:
    """As ``poll_run`` for every run of the batch, plus a ``batch`` message when the
    batch's derived status or counts changed since the last one sent."""
    with engine.connect() as conn:
        batch = load_batch(conn, batch_id)
        runs = batch_runs(conn, batch_id)
        messages = _new_rows(
            conn, select(test_runs.c.id).where(test_runs.c.batch_id == batch_id), state
        )
    status = batch_status_read(batch, runs)
    last = state.last_batch
    if last is None or (status.status, status.counts) != (last.status, last.counts):
        state.last_batch = status
        messages.append(
            Message("batch", status.model_dump(mode="json", by_alias=True), state.cursor)
        )
    finished = all(RunStatus(run.status).terminal for run in runs)
    if finished:
        messages.append(
            Message("end", {"id": batch_id, "status": status.status.value}, state.cursor)
        )
    return Poll(messages, finished)
