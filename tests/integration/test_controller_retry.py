"""An operator's ``UPDATE test_runs SET status = 'pending'`` retries a finished run.

What fakes can't show: the retry is nothing but a bare UPDATE of one column on the real
database (every other status column still holds the old attempt's values); the next tick
must make a new attempt with its own artifacts folder from that alone.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy import select, text

from artifacts.store import LocalStore
from config.settings import Settings
from controller.local import LocalLauncher
from controller.service import Controller
from db.engine import make_engine
from db.tables import artifacts
from tests.controller_support import events, launches, run_row, seed, set_outcome, standin_command


def test_operator_sql_retry_makes_a_new_attempt_with_new_artifacts(
    any_db_url: str, tmp_path: Path
) -> None:
    engine = make_engine(any_db_url)
    settings = Settings(
        home=tmp_path / "home",
        database_url=any_db_url,
        artifacts_url=(tmp_path / "artifacts").as_uri(),
    )
    store = LocalStore(tmp_path / "artifacts")
    outcomes = tmp_path / "outcomes"
    launcher = LocalLauncher(
        settings.home,
        command=standin_command(tmp_path),
        base_env=dict(os.environ, LAUNCHES=str(tmp_path / "launches.txt"), OUTCOMES=str(outcomes)),
    )
    controller = Controller(settings, engine, store, launcher)
    (run_id,) = seed(engine, 1)
    set_outcome(outcomes, run_id, 1, 1)  # the first attempt fails
    set_outcome(outcomes, run_id, 2, 0)

    def until(status: str) -> None:
        deadline = time.monotonic() + 30
        while run_row(engine, run_id).status != status:
            assert time.monotonic() < deadline
            controller.tick()
            time.sleep(0.02)

    until("failed")
    with engine.begin() as conn:  # what an operator types in psql
        conn.execute(text("UPDATE test_runs SET status = 'pending' WHERE id = :id"), {"id": run_id})
    controller.tick()  # picked up within one tick
    assert run_row(engine, run_id).attempt == 2
    until("passed")

    row = run_row(engine, run_id)
    assert (row.attempt, row.exit_code, row.error) == (2, 0, None)
    assert row.flaky  # failed, then passed on retry
    assert launches(tmp_path / "launches.txt") == [(run_id, 1), (run_id, 2)]
    for attempt in (1, 2):
        assert store.get_bytes(f"runs/{run_id}/attempt-{attempt}/cucumber.json")
    with engine.connect() as conn:
        attempts = set(
            conn.execute(select(artifacts.c.attempt).where(artifacts.c.run_id == run_id)).scalars()
        )
    assert attempts == {1, 2}
    history = [(e[0], e[1]) for e in events(engine, run_id)]
    assert history.count(("pending", "launching")) == 2
    engine.dispose()
