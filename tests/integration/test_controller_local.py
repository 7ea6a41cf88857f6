"""The controller with the local launcher, on PostgreSQL and SQLite, with real child processes.

What fakes can't show: real processes exiting, being signalled and adopted through the
launcher's record files, and the fenced statements on both real databases. The runner is a
stand-in shell script with the runner's contract (tests/controller_support.py).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from artifacts.store import LocalStore
from config.settings import Settings
from controller import claims
from controller.launcher import LaunchSpec
from controller.local import LocalLauncher
from controller.service import Controller
from db.engine import make_engine, utcnow
from db.runner_tokens import load_key, verify
from db.tables import artifacts, test_runs
from tests.controller_support import events, launches, run_row, seed, set_outcome, standin_command


class Env:
    def __init__(self, url: str, tmp: Path) -> None:
        self.tmp = tmp
        self.engine = make_engine(url)
        self.settings = Settings(
            home=tmp / "home",
            database_url=url,
            artifacts_url=(tmp / "artifacts").as_uri(),
            max_concurrent_runs=3,
            api_url="http://127.0.0.1:9",
            claim_lease_seconds=5,
        )
        self.store = LocalStore(tmp / "artifacts")
        self.launches = tmp / "launches.txt"
        self.outcomes = tmp / "outcomes"
        self.outcomes.mkdir()

    def launcher(self) -> LocalLauncher:
        base_env = dict(
            os.environ,
            LAUNCHES=str(self.launches),
            OUTCOMES=str(self.outcomes),
            PROCTOR_DATABASE_URL="postgresql://secret",
        )
        return LocalLauncher(
            self.settings.home, command=standin_command(self.tmp), base_env=base_env
        )

    def controller(self, **kwargs: Any) -> Controller:
        launcher = kwargs.pop("launcher", None) or self.launcher()
        return Controller(self.settings, self.engine, self.store, launcher, **kwargs)


@pytest.fixture
def env(any_db_url: str, tmp_path: Path) -> Iterator[Env]:
    e = Env(any_db_url, tmp_path)
    yield e
    e.engine.dispose()


def drive(controller: Controller, done: Callable[[], bool], timeout: float = 30.0) -> None:
    """Tick until ``done()`` (real processes take real time), failing after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the controller did not get there in time"
        controller.tick()
        time.sleep(0.02)


def status(engine: Engine, run_id: str) -> str:
    return str(run_row(engine, run_id).status)


def test_a_run_passes_with_its_report_artifacts_and_history(env: Env) -> None:
    (run_id,) = seed(
        env.engine, 1, trace_context={"traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01"}
    )
    controller = env.controller()
    drive(controller, lambda: status(env.engine, run_id) == "passed")

    row = run_row(env.engine, run_id)
    assert row.attempt == 1 and row.exit_code == 0 and row.finished_at is not None
    assert row.summary["scenarios"]["passed"] == 1
    assert row.executor_ref.startswith(f"local:{run_id}:1:")
    history = [e[1] for e in events(env.engine, run_id)]
    assert history[:2] == ["launching", "launching"] and history[-1] == "passed"
    assert set(history[2:-1]) <= {"running"}
    with env.engine.connect() as conn:
        keys = set(
            conn.execute(select(artifacts.c.key).where(artifacts.c.run_id == run_id)).scalars()
        )
        key = load_key(conn)
    assert keys == {
        f"runs/{run_id}/attempt-1/cucumber.json",
        f"runs/{run_id}/attempt-1/screenshots/one.png",
    }
    runner_env = dict(
        line.split("=", 1)
        for line in (env.tmp / f"env.{run_id}.1").read_text().splitlines()
        if "=" in line
    )
    claims_ = verify(key, runner_env["PROCTOR_RUNNER_TOKEN"])
    assert claims_ is not None and (claims_.run_id, claims_.attempt) == (run_id, 1)
    assert runner_env["PROCTOR_API_URL"] == "http://127.0.0.1:9"
    assert runner_env["PROCTOR_ARTIFACTS_URL"] == env.settings.artifacts_url
    assert runner_env["TRACEPARENT"].startswith("00-aaaa")
    assert "PROCTOR_DATABASE_URL" not in runner_env  # the runner never gets DB credentials
    assert launches(env.launches) == [(run_id, 1)]


@pytest.mark.parametrize(
    ("code", "expected"), [(1, "failed"), (2, "error"), (3, "cancelled"), (7, "error")]
)
def test_exit_codes_become_verdicts(env: Env, code: int, expected: str) -> None:
    (run_id,) = seed(env.engine, 1)
    set_outcome(env.outcomes, run_id, 1, code)
    drive(env.controller(), lambda: status(env.engine, run_id) == expected)
    assert run_row(env.engine, run_id).exit_code == code


def test_never_more_than_the_limit_active(env: Env) -> None:
    ids = seed(env.engine, 8)
    for run_id in ids:
        set_outcome(env.outcomes, run_id, 1, 0, pause=0.2)
    controller = env.controller()
    peak = 0

    def done() -> bool:
        nonlocal peak
        with env.engine.connect() as conn:
            peak = max(peak, claims.count_active(conn))
        return all(status(env.engine, r) == "passed" for r in ids)

    drive(controller, done)
    assert peak == 3
    assert sorted(launches(env.launches)) == sorted((r, 1) for r in ids)


def test_cancel_stops_the_runner_with_sigterm(env: Env) -> None:
    (run_id,) = seed(env.engine, 1)
    set_outcome(env.outcomes, run_id, 1, 0, pause=60)
    controller = env.controller()
    drive(controller, lambda: status(env.engine, run_id) == "running")
    with env.engine.begin() as conn:
        conn.execute(update(test_runs).where(test_runs.c.id == run_id).values(desired="cancel"))
    drive(controller, lambda: status(env.engine, run_id) == "cancelled")
    assert run_row(env.engine, run_id).exit_code == 3  # the runner saw SIGTERM


def test_a_pending_run_asked_to_cancel_never_launches(env: Env) -> None:
    (run_id,) = seed(env.engine, 1)
    with env.engine.begin() as conn:
        conn.execute(update(test_runs).where(test_runs.c.id == run_id).values(desired="cancel"))
    env.controller().tick()
    assert status(env.engine, run_id) == "cancelled"
    assert launches(env.launches) == []


def test_timeout_stops_the_runner_and_records_timed_out(env: Env) -> None:
    (run_id,) = seed(env.engine, 1, timeout_seconds=30)
    set_outcome(env.outcomes, run_id, 1, 0, pause=60)
    controller = env.controller()
    drive(controller, lambda: status(env.engine, run_id) == "running")
    later = utcnow() + timedelta(seconds=31)
    controller.tick(later)  # past the deadline: SIGTERM
    deadline = time.monotonic() + 30
    while status(env.engine, run_id) != "timed_out":
        assert time.monotonic() < deadline
        controller.tick(later)
        time.sleep(0.02)
    assert run_row(env.engine, run_id).error == "timed out"


def test_stale_heartbeat_kills_and_retries_then_errors(env: Env) -> None:
    (run_id,) = seed(env.engine, 1, max_attempts=1)
    set_outcome(env.outcomes, run_id, 1, 0, pause=60)
    controller = env.controller()
    drive(controller, lambda: status(env.engine, run_id) == "running")
    stale = utcnow() + timedelta(seconds=env.settings.heartbeat_timeout_seconds + 1)
    controller.tick(stale)
    row = run_row(env.engine, run_id)
    assert row.status == "error" and "heartbeat is stale" in row.error


def test_failed_tests_are_retried_when_asked_and_a_later_pass_is_flaky(env: Env) -> None:
    (run_id,) = seed(env.engine, 1, retry_on_failure=True, max_attempts=2)
    set_outcome(env.outcomes, run_id, 1, 1)
    set_outcome(env.outcomes, run_id, 2, 0)
    drive(env.controller(), lambda: status(env.engine, run_id) == "passed")
    row = run_row(env.engine, run_id)
    assert row.attempt == 2 and row.flaky is True
    assert launches(env.launches) == [(run_id, 1), (run_id, 2)]


def test_relaunching_an_attempt_adopts_its_process(env: Env) -> None:
    launcher = env.launcher()
    spec = LaunchSpec("run-x", 1, 0, {"PROCTOR_ATTEMPT": "1"})
    set_outcome(env.outcomes, "run-x", 1, 0, pause=0.5)
    first = launcher.launch(spec)
    second = env.launcher().launch(spec)  # another controller on the same host
    assert second.adopted and second.ref == first.ref
    deadline = time.monotonic() + 10
    while launcher.describe([first.ref])[first.ref].state != "STOPPED":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert launches(env.launches) == [("run-x", 1)]


def test_a_controller_dying_between_launch_and_record_is_adopted_not_relaunched(
    env: Env,
) -> None:
    (run_id,) = seed(env.engine, 1)
    set_outcome(env.outcomes, run_id, 1, 0, pause=0.3)

    class Crash(Exception):
        pass

    def crash(point: str, _run: str) -> None:
        if point == "after_launch":
            raise Crash

    with pytest.raises(Crash):
        env.controller(controller_id="dead", faults=crash).tick()
    assert status(env.engine, run_id) == "launching"
    assert run_row(env.engine, run_id).executor_ref is None
    # A new controller, once the dead one's lease is over, relaunches with the same
    # attempt: the launcher's record makes that an adoption.
    survivor = env.controller(controller_id="survivor")
    after_lease = utcnow() + timedelta(seconds=env.settings.claim_lease_seconds + 1)
    survivor.tick(after_lease)
    row = run_row(env.engine, run_id)
    assert row.claimed_by == "survivor" and row.executor_ref is not None
    drive(survivor, lambda: status(env.engine, run_id) == "passed")
    assert launches(env.launches) == [(run_id, 1)]
    assert any("adopted" in e[2] for e in events(env.engine, run_id))


def test_shutdown_releases_claims(env: Env) -> None:
    (run_id,) = seed(env.engine, 1)
    now = utcnow()
    with env.engine.begin() as conn:
        claims.claim_pending(
            conn, controller_id="c1", max_active=3, now=now, lease=timedelta(seconds=60)
        )
    controller = env.controller(controller_id="c1")
    controller.shutdown()
    row = run_row(env.engine, run_id)
    assert row.claim_expires_at <= utcnow()


def test_the_sweep_lists_live_runners_and_forgets_old_finished_records(env: Env) -> None:
    launcher = env.launcher()
    set_outcome(env.outcomes, "live", 1, 0, pause=30)
    live = launcher.launch(LaunchSpec("live", 1, 0, {"PROCTOR_ATTEMPT": "1"}))
    done = launcher.launch(LaunchSpec("done", 1, 0, {"PROCTOR_ATTEMPT": "1"}))
    deadline = time.monotonic() + 10
    while launcher.describe([done.ref])[done.ref].state != "STOPPED":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    record = launcher.dir / "done.1.json"
    old = time.time() - 2 * 24 * 3600
    os.utime(record, (old, old))
    assert [task.run_id for task in launcher.list_owned()] == ["live"]
    assert not record.exists() and not (launcher.dir / "done.1.log").exists()
    launcher.stop(live.ref, "test over", force=True)


def test_the_runner_continues_the_runs_trace_under_the_launch_span(env: Env) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace_id, api_span = "a" * 32, "b" * 16
    (run_id,) = seed(env.engine, 1, trace_context={"traceparent": f"00-{trace_id}-{api_span}-01"})
    controller = env.controller(tracer=provider.get_tracer("test"))
    drive(controller, lambda: status(env.engine, run_id) == "passed")

    (span,) = [s for s in exporter.get_finished_spans() if s.name == "proctor.controller.launch"]
    assert f"{span.context.trace_id:032x}" == trace_id
    assert span.parent is not None and f"{span.parent.span_id:016x}" == api_span
    assert span.attributes is not None and span.attributes["proctor.run_id"] == run_id
    runner_env = dict(
        line.split("=", 1)
        for line in (env.tmp / f"env.{run_id}.1").read_text().splitlines()
        if "=" in line
    )
    assert runner_env["TRACEPARENT"] == f"00-{trace_id}-{span.context.span_id:016x}-01"
