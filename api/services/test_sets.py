"""Test set definitions: create, list, read, replace, delete.

A test set that has runs cannot be deleted (the runs refer to it and keep their
history); disabling it (``enabled: false``) takes it out of execute-all instead.
"""

from __future__ import annotations

from sqlalchemy import Engine, delete, exists, insert, select, update
from sqlalchemy.exc import IntegrityError

from db.engine import utcnow
from db.tables import test_runs, test_sets
from schemas.models import SLUG, TestSetBody, TestSetCreate, TestSetRead

from .errors import Conflict, Unprocessable
from .shapes import load_test_set, test_set_read


def _columns(body: TestSetBody) -> dict[str, object]:
    return {
        "name": body.name,
        "description": body.description,
        "base_url": body.base_url,
        "features": [feature.model_dump() for feature in body.features],
        "tags": body.tags,
        "timeout_seconds": body.timeout_seconds,
        "max_attempts": body.max_attempts,
        "enabled": body.enabled,
        "retry_on_failure": body.retry_on_failure,
    }


def create_test_set(engine: Engine, body: TestSetCreate) -> TestSetRead:
    now = utcnow()
    try:
        with engine.begin() as conn:
            if conn.execute(select(exists().where(test_sets.c.id == body.id))).scalar():
                raise Conflict(f"a test set with id {body.id!r} already exists; PUT replaces it")
            conn.execute(
                insert(test_sets).values(
                    id=body.id, created_at=now, updated_at=now, **_columns(body)
                )
            )
            return test_set_read(load_test_set(conn, body.id))
    except IntegrityError as err:  # a concurrent create of the same id
        raise Conflict(f"a test set with id {body.id!r} already exists") from err


def list_test_sets(engine: Engine) -> list[TestSetRead]:
    with engine.connect() as conn:
        rows = conn.execute(select(test_sets).order_by(test_sets.c.id)).all()
    return [test_set_read(row) for row in rows]


def get_test_set(engine: Engine, test_set_id: str) -> TestSetRead:
    with engine.connect() as conn:
        return test_set_read(load_test_set(conn, test_set_id))


def replace_test_set(
    engine: Engine, test_set_id: str, body: TestSetBody
) -> tuple[TestSetRead, bool]:
    """Replace the definition, or create it when there is none; returns (set, created)."""
    if not SLUG.match(test_set_id):
        raise Unprocessable(
            f"{test_set_id!r} is not a valid test set id: use lowercase letters, digits, "
            "'-' or '_', at most 64 characters"
        )
    now = utcnow()
    with engine.begin() as conn:
        updated = conn.execute(
            update(test_sets)
            .where(test_sets.c.id == test_set_id)
            .values(updated_at=now, **_columns(body))
        ).rowcount
        if not updated:
            conn.execute(
                insert(test_sets).values(
                    id=test_set_id, created_at=now, updated_at=now, **_columns(body)
                )
            )
        return test_set_read(load_test_set(conn, test_set_id)), not updated


def delete_test_set(engine: Engine, test_set_id: str) -> None:
    with engine.begin() as conn:
        load_test_set(conn, test_set_id)
        if conn.execute(select(exists().where(test_runs.c.test_set_id == test_set_id))).scalar():
            raise Conflict(
                f"test set {test_set_id!r} has runs and cannot be deleted; "
                "set enabled to false to take it out of execute-all"
            )
        conn.execute(delete(test_sets).where(test_sets.c.id == test_set_id))
