"""SQLite has no NOTIFY: a commit that called ``notify_runs`` wakes an in-process listener.

What fakes can't show: SQLAlchemy's commit/rollback events on a real SQLite engine, the
stand-in for LISTEN that lets `proctor up` pick a new run up at once on the embedded default.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from db.engine import make_engine, notify_runs, on_runs_committed


def test_only_a_committed_notify_wakes_the_listener(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    woken: list[str] = []
    on_runs_committed(engine, lambda: woken.append("wake"))

    with engine.begin() as conn:  # a write without notify: no wake-up
        conn.execute(text("UPDATE signing_keys SET created_at = created_at"))
    assert woken == []

    with pytest.raises(RuntimeError), engine.begin() as conn:  # rolled back: no wake-up
        notify_runs(conn)
        raise RuntimeError("the insert failed")
    assert woken == []

    with engine.begin() as conn:
        notify_runs(conn)
    assert woken == ["wake"]

    with engine.begin() as conn:  # the flag does not outlive its transaction
        conn.execute(text("SELECT 1"))
    assert woken == ["wake"]
    engine.dispose()
