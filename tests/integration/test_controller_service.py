"""The reconcile loop's applying half, driven tick by tick with the in-memory launcher.

What fakes can't show: here the launcher is the fake on purpose; the database is real
(PostgreSQL and SQLite), so these pin down what the fenced statements write — history
rows, attempts, launch failures, the compensation when a run no longer wants its task,
and the orphan sweeper.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from artifacts.store import LocalStore
from config.settings import Settings
from controller.fakes import FakeLauncher
from controller.launcher import (
    LaunchOutcomeUnknown,
    PermanentLaunchError,
    TaskState,
    TransientLaunchError,
)
from controller.service import Controller
from db.engine import make_engine, utcnow
from db.tables import artifacts, run_events, test_runs
from tests.controller_support import events, run_row, seed


class World:
    def __init__(self, url: str, tmp: Path) -> None:
        self.engine = make_engine(url)
        self.store = LocalStore(tmp / "artifacts")
        self.settings = Settings(
            home=tmp,
            database_url=url,
            artifacts_url=(tmp / "artifacts").as_uri(),
            max_concurrent_runs=2,
            claim_lease_seconds=30,
        )
        self.launcher = FakeLauncher()
        self.controller = Controller(
            self.settings, self.engine, self.store, self.launcher, controller_id="c1"
        )

    def row(self, run_id: str) -> object:
        return run_row(self.engine, run_id)


@pytest.fixture
def world(any_db_url: str, tmp_path: Path) -> Iterator[World]:
    w = World(any_db_url, tmp_path)
    yield w
    w.engine.dispose()


def test_every_transition_is_recorded_with_reason_and_actor(world: World) -> None:
    (run_id,) = seed(world.engine, 1)
    world.controller.tick()
    world.controller.tick()  # task RUNNING → run running
    world.launcher.finish(f"fake:{run_id}:1", exit_code=1)
    world.controller.tick()
    assert [(e[0], e[1]) for e in events(world.engine, run_id)] == [
        ("pending", "launching"),
        ("launching", "launching"),
        ("launching", "running"),
        ("running", "failed"),
    ]
    with world.engine.connect() as conn:
        actors = set(conn.execute(select(run_events.c.actor)).scalars())
    assert actors == {"c1"}


def test_the_limit_holds_and_priority_then_age_decides(world: World) -> None:
    low = seed(world.engine, 2, test_set="a")
    (high,) = seed(world.engine, 1, test_set="b", priority=5)
    world.controller.tick()
    launched = [spec.run_id for spec in world.launcher.launches]
    assert launched == [high, low[0]]
    world.launcher.finish(f"fake:{high}:1")
    world.controller.tick()
    assert [spec.run_id for spec in world.launcher.launches] == [high, low[0], low[1]]


def test_capacity_failures_keep_the_attempt_and_back_off(world: World) -> None:
    (run_id,) = seed(world.engine, 1)
    world.launcher.fail_next = [TransientLaunchError("no capacity", code="Capacity")]
    now = utcnow()
    world.controller.tick(now)
    row = run_row(world.engine, run_id)
    assert (row.status, row.attempt, row.launch_failures) == ("pending", 1, 1)
    assert row.not_before > now
    world.controller.tick(now)  # still backing off
    assert run_row(world.engine, run_id).status == "pending"
    world.controller.tick(row.not_before + timedelta(seconds=1))
    row = run_row(world.engine, run_id)
    assert (row.status, row.attempt, row.launch_failures) == ("launching", 1, 0)
    (spec,) = world.launcher.launches
    assert spec.launch_try == 1  # a new idempotency token for the new try


def test_a_permanent_launch_error_ends_the_run(world: World) -> None:
    (run_id,) = seed(world.engine, 1)
    world.launcher.fail_next = [PermanentLaunchError("denied", code="AccessDeniedException")]
    world.controller.tick()
    row = run_row(world.engine, run_id)
    assert row.status == "error" and "AccessDeniedException" in row.error


def test_an_unknown_outcome_keeps_the_claim_and_retries_the_same_token(world: World) -> None:
    (run_id,) = seed(world.engine, 1)
    world.launcher.fail_next = [LaunchOutcomeUnknown("read timeout", code="ReadTimeout")]
    world.controller.tick()
    row = run_row(world.engine, run_id)
    assert (row.status, row.claimed_by, row.executor_ref) == ("launching", "c1", None)
    world.controller.tick()
    row = run_row(world.engine, run_id)
    assert row.executor_ref == f"fake:{run_id}:1" and row.attempt == 1


def test_a_cancel_during_launch_stops_the_task_once_recorded(world: World) -> None:
    (run_id,) = seed(world.engine, 1)

    def cancel_mid_launch(point: str, _run: str) -> None:
        if point == "after_launch":  # the API cancels between RunTask and recording
            with world.engine.begin() as conn:
                conn.execute(
                    update(test_runs).where(test_runs.c.id == run_id).values(desired="cancel")
                )

    world.controller._faults = cancel_mid_launch
    world.controller.tick()
    world.controller._faults = None
    assert run_row(world.engine, run_id).executor_ref == f"fake:{run_id}:1"
    world.controller.tick()
    assert [s[0] for s in world.launcher.stops] == [f"fake:{run_id}:1"]
    world.launcher.finish(f"fake:{run_id}:1", exit_code=3)
    world.controller.tick()
    assert run_row(world.engine, run_id).status == "cancelled"


def test_a_task_the_run_no_longer_wants_is_stopped(world: World) -> None:
    """Our lease ran out mid-launch; another replica cancelled the run meanwhile."""
    (run_id,) = seed(world.engine, 1)

    def paused_past_the_lease(point: str, _run: str) -> None:
        if point == "after_launch":
            with world.engine.begin() as conn:
                conn.execute(
                    update(test_runs)
                    .where(test_runs.c.id == run_id)
                    .values(desired="cancel", claim_expires_at=utcnow() - timedelta(seconds=1))
                )
            other = Controller(
                world.settings, world.engine, world.store, FakeLauncher(), controller_id="c2"
            )
            other.tick()  # sees the expired claim and records the cancel

    world.controller._faults = paused_past_the_lease
    world.controller.tick()
    row = run_row(world.engine, run_id)
    assert row.status == "cancelled" and row.executor_ref is None
    assert [s[0] for s in world.launcher.stops] == [f"fake:{run_id}:1"]


def test_a_dead_followers_runs_are_taken_over_after_its_lease(world: World) -> None:
    (run_id,) = seed(world.engine, 1)
    dead = Controller(
        world.settings, world.engine, world.store, world.launcher, controller_id="dead"
    )
    now = utcnow()
    dead.tick(now)
    world.launcher.finish(f"fake:{run_id}:1", exit_code=0)
    world.controller.tick(now)
    assert run_row(world.engine, run_id).status == "launching"  # not ours to follow yet
    world.controller.tick(now + timedelta(seconds=31))
    row = run_row(world.engine, run_id)
    assert row.status == "passed"
    assert any("took over following from dead" in e[2] for e in events(world.engine, run_id))


def test_missing_task_takes_the_verdict_from_the_uploaded_report(world: World) -> None:
    (run_id,) = seed(world.engine, 1)
    world.controller.tick()
    world.store.put_bytes(
        f"runs/{run_id}/attempt-1/cucumber.json",
        b'[{"elements":[{"type":"scenario","steps":[{"result":{"status":"failed"}}]}]}]',
    )
    world.launcher.forget(f"fake:{run_id}:1")
    world.controller.tick()
    row = run_row(world.engine, run_id)
    assert row.status == "failed" and row.stop_code == "MISSING"
    assert row.summary["scenarios"]["failed"] == 1
    with world.engine.connect() as conn:
        keys = list(conn.execute(select(artifacts.c.key)).scalars())
    assert keys == [f"runs/{run_id}/attempt-1/cucumber.json"]


def test_the_sweeper_stops_tasks_whose_run_is_finished(world: World) -> None:
    (run_id,) = seed(world.engine, 1)
    world.controller.tick()
    with world.engine.begin() as conn:  # finished behind the task's back
        conn.execute(update(test_runs).where(test_runs.c.id == run_id).values(status="error"))
    assert world.controller.sweep() == 1
    assert world.launcher.stops[0][0] == f"fake:{run_id}:1"
    world.launcher.set_state(f"fake:{run_id}:1", TaskState.STOPPED)
    assert world.controller.sweep() == 0


def test_a_dead_controllers_claim_is_taken_over_after_its_lease(world: World) -> None:
    (run_id,) = seed(world.engine, 1)

    class Died(Exception):
        pass

    def die(point: str, _run: str) -> None:
        raise Died

    dead = Controller(
        world.settings, world.engine, world.store, world.launcher, controller_id="dead", faults=die
    )
    with pytest.raises(Died):
        dead.tick()
    now = utcnow()
    world.controller.tick(now)
    assert run_row(world.engine, run_id).claimed_by == "dead"  # the lease still holds
    world.controller.tick(now + timedelta(seconds=31))
    row = run_row(world.engine, run_id)
    assert (row.claimed_by, row.attempt, row.executor_ref) == ("c1", 1, f"fake:{run_id}:1")
    assert len(world.launcher.launches) == 1
