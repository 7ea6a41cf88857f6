"""`proctor db copy`: the embedded default's data moves into PostgreSQL intact.

What fakes can't show: real rows crossing from SQLite to PostgreSQL, with the identity
sequences moved past the copied ids so the next insert does not collide.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, select

from db.engine import make_engine
from db.runner_tokens import load_key, mint, verify
from db.tables import run_events, test_runs, test_sets

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _seed(url: str) -> bytes:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            insert(test_sets).values(
                id="checkout",
                name="Checkout",
                features=[],
                tags=["smoke"],
                created_at=NOW,
                updated_at=NOW,
            )
        )
        conn.execute(
            insert(test_runs).values(
                id="run-1",
                test_set_id="checkout",
                parameters={},
                status="passed",
                attempt=1,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        conn.execute(
            insert(run_events),
            [
                {"run_id": "run-1", "to_status": "pending", "reason": "r", "actor": "a", "at": NOW},
                {"run_id": "run-1", "to_status": "passed", "reason": "r", "actor": "a", "at": NOW},
            ],
        )
        key = load_key(conn)
    engine.dispose()
    return key


def test_copy_moves_every_row_and_keeps_tokens_valid(sqlite_url: str, pg_url: str) -> None:
    key = _seed(sqlite_url)
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "db", "copy", "--from", sqlite_url, "--to", pg_url],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "run_events" in result.stdout

    engine = make_engine(pg_url)
    with engine.begin() as conn:
        assert conn.execute(select(test_runs.c.status)).scalars().all() == ["passed"]
        assert conn.execute(select(test_sets.c.tags)).scalar_one() == ["smoke"]
        # The sequence moved past the copied ids: a new event gets a fresh id.
        conn.execute(
            insert(run_events).values(
                run_id="run-1", to_status="pending", reason="retry", actor="op", at=NOW
            )
        )
        assert conn.execute(select(func.count()).select_from(run_events)).scalar_one() == 3
        # Runner tokens minted before the move still verify (the signing key came along).
        assert verify(load_key(conn), mint(key, "run-1", 1)) is not None
    engine.dispose()


def test_copy_refuses_a_target_that_already_has_runs(sqlite_url: str, pg_url: str) -> None:
    _seed(sqlite_url)
    _seed(pg_url)
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "db", "copy", "--from", sqlite_url, "--to", pg_url],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "already holds runs" in result.stderr and "Traceback" not in result.stderr
