"""Engines for PostgreSQL (psycopg 3) and SQLite, set up the way Proctor needs them.

SQLite is the embedded default: WAL so readers never block the one writer, a busy timeout
so writers queue instead of failing, foreign keys on. PostgreSQL connections are checked
before use, so a connection that Aurora dropped in a failover is replaced, not reused.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

#: Channel the API notifies on every new pending run (and on retry/cancel); controllers
#: LISTEN on it to wake at once instead of waiting for the next tick.
RUNS_CHANNEL = "proctor_runs"


def utcnow() -> datetime:
    return datetime.now(UTC)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def normalize_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs (as Aurora and psql print them) and use psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalize_url(url)
    if is_sqlite(url):
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
            # Let SQLAlchemy, not pysqlite, decide when transactions begin (see below).
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin_immediate(conn: Connection) -> None:
            # Take the write lock at BEGIN: one writer at a time, and a reader that later
            # writes never fails with "database is locked" on a lock upgrade.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    return create_engine(url, **kwargs)


def notify_runs(conn: Connection, payload: str = "") -> None:
    """Wake the controllers (PostgreSQL only; SQLite controllers rely on their tick).

    NOTIFY is transactional: it is delivered when the caller's transaction commits, so a
    controller never wakes to a row it cannot see yet.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {"channel": RUNS_CHANNEL, "payload": payload},
        )
