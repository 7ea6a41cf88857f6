"""The migrated schema equals the tables in db/tables.py (no drift), on both back ends.

What fakes can't show: only a real migration on a real server reveals type, default and
index differences between the revisions and the models.
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from db.engine import make_engine
from db.migrate import current_heads
from db.tables import metadata, signing_keys


def test_migrated_schema_has_no_drift(any_db_url: str) -> None:
    engine = make_engine(any_db_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        assert context.get_current_heads() == current_heads()
    engine.dispose()


def test_partial_indexes_exist_for_the_controller_queries(any_db_url: str) -> None:
    engine = make_engine(any_db_url)
    names = {ix["name"] for ix in inspect(engine).get_indexes("test_runs")}
    assert {"ix_test_runs_pending_queue", "ix_test_runs_active"} <= names
    engine.dispose()


def test_first_migration_makes_one_signing_key(any_db_url: str) -> None:
    engine = make_engine(any_db_url)
    with engine.connect() as conn:
        secrets = conn.execute(select(signing_keys.c.secret)).scalars().all()
    assert len(secrets) == 1 and len(secrets[0]) == 64
    engine.dispose()
