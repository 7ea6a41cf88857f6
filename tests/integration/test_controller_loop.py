"""``run_forever`` on real PostgreSQL: NOTIFY wake-up, lost connections, failover, shutdown.

What fakes can't show: LISTEN/NOTIFY delivery, a listening connection killed by the server,
every pooled connection killed at once, and a failover that leaves the controller talking
to a read-only node (SQLSTATE 25006). The launcher is the in-memory FakeLauncher.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from artifacts.store import LocalStore
from config.settings import Settings
from controller import claims
from controller.fakes import FakeLauncher
from controller.service import Controller
from db.engine import make_engine, notify_runs, utcnow
from tests.controller_support import run_row, seed


def admin(url: str, sql: str) -> None:
    parsed = make_url(url)
    with psycopg.connect(
        host=parsed.host, port=parsed.port, user=parsed.username, dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def kill_backends(url: str, like: str = "%") -> None:
    name = make_url(url).database
    admin(
        url,
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' "
        f"AND pid <> pg_backend_pid() AND query LIKE '{like}'",
    )


def wait_for(check: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


class Running:
    def __init__(self, url: str, tmp: Path, poll: float) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.launcher = FakeLauncher()
        settings = Settings(
            home=tmp, database_url=url, artifacts_url=tmp.as_uri(), poll_interval_seconds=poll
        )
        self.controller = Controller(
            settings, self.engine, LocalStore(tmp), self.launcher, controller_id="loop"
        )
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.controller.run_forever, args=(self.stop,))

    def add_run(self) -> str:
        (run_id,) = seed(self.engine, 1)
        with self.engine.begin() as conn:
            notify_runs(conn)  # as the API does
        return run_id

    def status(self, run_id: str) -> str:
        return str(run_row(self.engine, run_id).status)


@pytest.fixture
def running(pg_url: str, tmp_path: Path) -> Iterator[Running]:
    r = Running(pg_url, tmp_path, poll=60)  # the tick cannot explain a quick pick-up
    r.thread.start()
    yield r
    r.stop.set()
    r.thread.join(timeout=30)
    assert not r.thread.is_alive()
    r.engine.dispose()


def test_notify_wakes_the_controller_at_once(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="controller.wakeup")
    wait_for(lambda: "listening on proctor_runs" in caplog.text)
    started = time.monotonic()
    run_id = running.add_run()
    wait_for(
        lambda: (
            running.status(run_id) in ("launching", "running") and bool(running.launcher.launches)
        )
    )
    assert time.monotonic() - started < 10  # far below the 60 s tick


def test_a_lost_listen_connection_is_reestablished(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="controller.wakeup")
    wait_for(lambda: "listening on proctor_runs" in caplog.text)
    kill_backends(running.url, like="LISTEN%")
    wait_for(lambda: "lost the LISTEN connection" in caplog.text)
    wait_for(lambda: caplog.text.count("listening on proctor_runs") >= 2)
    run_id = running.add_run()
    wait_for(lambda: running.status(run_id) in ("launching", "running"))


def test_killed_database_connections_are_replaced(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    first = running.add_run()
    wait_for(lambda: running.status(first) in ("launching", "running"))
    kill_backends(running.url)
    second = running.add_run()
    wait_for(lambda: running.status(second) in ("launching", "running"))
    ref = f"fake:{first}:1"
    running.launcher.finish(ref, exit_code=0)
    running.controller.wake()
    wait_for(lambda: running.status(first) == "passed")


def test_a_read_only_failover_is_survived(
    pg_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    r = Running(pg_url, tmp_path, poll=0.2)
    name = make_url(pg_url).database
    r.thread.start()
    try:
        run_id = r.add_run()
        wait_for(lambda: r.status(run_id) in ("launching", "running"))
        # The "writer" we reconnect to is now a reader, as right after an Aurora failover.
        admin(pg_url, f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        kill_backends(pg_url)
        r.launcher.finish(f"fake:{run_id}:1", exit_code=1)
        wait_for(lambda: "database connection lost" in caplog.text)
        assert r.thread.is_alive()
        admin(pg_url, f'ALTER DATABASE "{name}" SET default_transaction_read_only = off')
        kill_backends(pg_url)
        wait_for(lambda: r.status(run_id) == "failed")
    finally:
        r.stop.set()
        r.thread.join(timeout=30)
        r.engine.dispose()


def test_stop_finishes_the_tick_and_releases_claims(pg_url: str, tmp_path: Path) -> None:
    r = Running(pg_url, tmp_path, poll=60)
    run_id = seed(r.engine, 1)[0]
    # Claimed but not launched yet (as if the launch was under way), under the loop's name.
    with r.engine.begin() as conn:
        claims.claim_pending(
            conn, controller_id="loop", max_active=7, now=utcnow(), lease=timedelta(minutes=5)
        )
    r.stop.set()
    r.controller.run_forever(r.stop)  # returns at once: stop was set
    row = run_row(r.engine, run_id)
    assert row.status == "launching" and row.claim_expires_at <= utcnow()
    r.engine.dispose()


def test_a_claimer_stalled_inside_its_claim_does_not_block_the_others(
    pg_url: str, tmp_path: Path
) -> None:
    """A paused process holding the claim lock is cut off by the server, not waited for."""
    r = Running(pg_url, tmp_path, poll=60)
    seed(r.engine, 2)
    stalled = r.engine.connect()
    transaction = stalled.begin()
    claims.claim_pending(
        stalled, controller_id="paused", max_active=1, now=utcnow(), lease=timedelta(minutes=5)
    )  # holds the lock, then stalls
    started = time.monotonic()
    report = r.controller.tick()  # waits for the lock until the server ends the stall
    # Both runs: the stalled claim was rolled back with its session.
    assert report.claimed == 2 and time.monotonic() - started < 14
    with pytest.raises(DBAPIError):  # the stalled session was terminated
        transaction.commit()
    stalled.close()
    r.engine.dispose()
