"""Execute one test set, or a batch of them: insert pending runs and wake the controller.

This is the whole of "scheduling" on the API side: the runs are desired state, written in
one transaction with their history rows and a NOTIFY (delivered at commit), and the
controller does the rest. With an ``Idempotency-Key`` the response is stored in the same
transaction, so a retried request returns the first runs instead of making new ones.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import IntegrityError

from db.engine import notify_runs, utcnow
from db.tables import batches, test_sets
from schemas.models import BatchCreated, ExecuteAllRequest, ExecuteRequest, RunRead

from . import idempotency
from .errors import NotFound
from .shapes import batch_runs, batch_status_read, load_run, load_test_set, run_read
from .transitions import insert_pending_run

ShapeT = TypeVar("ShapeT", bound=BaseModel)


def _idempotent(
    engine: Engine,
    shape: type[ShapeT],
    *,
    key: str | None,
    endpoint: str,
    path: str,
    body: BaseModel,
    work: Callable[[Connection], ShapeT],
) -> ShapeT:
    if key is None:
        with engine.begin() as conn:
            return work(conn)
    idempotency.check_key(key)
    digest = idempotency.request_hash(path, body.model_dump(mode="json"))
    for try_number in (1, 2):
        try:
            with engine.begin() as conn:
                stored = idempotency.stored_response(
                    conn, key=key, endpoint=endpoint, digest=digest
                )
                if stored is not None:
                    return shape.model_validate(stored)
                result = work(conn)
                idempotency.store_response(
                    conn,
                    key=key,
                    endpoint=endpoint,
                    digest=digest,
                    status=202,
                    body=result.model_dump(mode="json", by_alias=True),
                )
                return result
        except IntegrityError:
            if try_number == 2:
                raise
    raise AssertionError("unreachable")


def execute(
    engine: Engine,
    test_set_id: str,
    body: ExecuteRequest,
    *,
    actor: str,
    traceparent: str | None = None,
    idempotency_key: str | None = None,
) -> RunRead:
    def work(conn: Connection) -> RunRead:
        now = utcnow()
        run_id = insert_pending_run(
            conn,
            test_set=load_test_set(conn, test_set_id),
            batch_id=None,
            parameters=body.parameters,
            priority=body.priority,
            max_attempts=body.max_attempts,
            actor=actor,
            requested_by=body.requested_by,
            traceparent=traceparent,
            now=now,
        )
        notify_runs(conn, run_id)
        return run_read(load_run(conn, run_id))

    return _idempotent(
        engine,
        RunRead,
        key=idempotency_key,
        endpoint="execute",
        path=f"/api/test-runs/execute/{test_set_id}",
        body=body,
        work=work,
    )


def _selected_test_sets(conn: Connection, body: ExecuteAllRequest) -> list[Any]:
    rows = list(
        conn.execute(
            select(test_sets).where(test_sets.c.enabled.is_(True)).order_by(test_sets.c.id)
        ).all()
    )
    if body.test_set_ids is not None:
        wanted = set(body.test_set_ids)
        known = set(
            conn.execute(select(test_sets.c.id).where(test_sets.c.id.in_(wanted))).scalars()
        )
        if unknown := sorted(wanted - known):
            raise NotFound(f"no test set with id {', '.join(map(repr, unknown))}", unknown=unknown)
        rows = [row for row in rows if row.id in wanted]
    if body.tags is not None:
        tags = set(body.tags)
        rows = [row for row in rows if tags & set(row.tags or [])]
    return rows


def execute_all(
    engine: Engine,
    body: ExecuteAllRequest,
    *,
    actor: str,
    traceparent: str | None = None,
    idempotency_key: str | None = None,
) -> BatchCreated:
    def work(conn: Connection) -> BatchCreated:
        now = utcnow()
        selected = _selected_test_sets(conn, body)
        if not selected:
            raise NotFound(
                "no enabled test set matches this request; nothing to run",
                testSetIds=body.test_set_ids,
                tags=body.tags,
            )
        batch_id = str(uuid.uuid4())
        requested_by = body.requested_by or actor
        conn.execute(
            insert(batches).values(
                id=batch_id, label=body.label, requested_by=requested_by, created_at=now
            )
        )
        for row in selected:
            insert_pending_run(
                conn,
                test_set=row,
                batch_id=batch_id,
                parameters=body.parameters,
                priority=body.priority,
                max_attempts=None,
                actor=actor,
                requested_by=body.requested_by,
                traceparent=traceparent,
                now=now,
            )
        notify_runs(conn, batch_id)
        runs = batch_runs(conn, batch_id)
        batch = conn.execute(select(batches).where(batches.c.id == batch_id)).one()
        return BatchCreated(
            id=batch_id,
            label=body.label,
            status=batch_status_read(batch, runs).status,
            runs=[run_read(run) for run in runs],
        )

    return _idempotent(
        engine,
        BatchCreated,
        key=idempotency_key,
        endpoint="execute-all",
        path="/api/test-runs/execute-all",
        body=body,
        work=work,
    )
