"""Alembic environment: runs the revisions in ``migrations/versions`` on the given URL.

The URL comes from the caller (``db.migrate.upgrade``) through the Alembic config, never
from a global, so tests can migrate one database per test.
"""

from __future__ import annotations

from alembic import context

from db.engine import make_engine
from db.tables import metadata

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
