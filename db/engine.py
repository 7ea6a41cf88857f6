"""Engines for PostgreSQL (psycopg 3) and SQLite, set up the way Proctor needs them.

SQLite is the embedded default: WAL so readers never block the one writer, a busy timeout
so writers queue instead of failing, foreign keys on. PostgreSQL connections are checked
before use, so a connection that Aurora dropped in a failover is replaced, not reused.
"""

from __future__ import annotations

from collections.abc import Callable
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


_NOTIFY_FLAG = "proctor_runs_changed"


def notify_runs(conn: Connection, payload: str = "") -> None:
    """Wake the controllers.

    PostgreSQL: NOTIFY, which is transactional: it is delivered when the caller's
    transaction commits, so a controller never wakes to a row it cannot see yet.
    Elsewhere (SQLite has no NOTIFY) the connection is marked, and ``on_runs_committed``
    wakes a controller that shares this engine in the same process (``proctor up``);
    other controllers rely on their tick.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {"channel": RUNS_CHANNEL, "payload": payload},
        )
    else:
        conn.info[_NOTIFY_FLAG] = True


def on_runs_committed(engine: Engine, callback: Callable[[], None]) -> None:
    """Call ``callback`` after a transaction that called ``notify_runs`` commits on ``engine``
    (the in-process stand-in for LISTEN, for SQLite)."""

    @event.listens_for(engine, "commit")
    def _committed(conn: Connection) -> None:
        if conn.info.pop(_NOTIFY_FLAG, False):
            # The commit event comes just before the database commits; the woken
            # controller's claim begins with BEGIN IMMEDIATE, which waits for it.
            callback()

    @event.listens_for(engine, "rollback")
    def _rolled_back(conn: Connection) -> None:
        conn.info.pop(_NOTIFY_FLAG, None)
