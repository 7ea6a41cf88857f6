"""Controller benchmarks on a real PostgreSQL (issue 3, "What must be shown" 6).

1. Dispatch latency: commit of a pending run → the launcher's launch call, with NOTIFY
   (the API's path) and with the tick alone. Goal: p50 ≤ 5 ms with NOTIFY.
2. Claim cost: one ``claims.claim_pending`` transaction (advisory lock, count, claim,
   events, commit) with an empty history and with 1,000,000 finished runs in the table.
   Goal: p95 ≤ 1 ms and no slower with the history (the partial indexes at work).

Usage (a scratch database is created and dropped on the server)::

    .venv/bin/python bench/controller_bench.py [--history 1000000] [--samples 200]

``PROCTOR_TEST_PG`` names the server (default postgresql://postgres@127.0.0.1:5432/postgres).
Every phase is bounded; numbers are printed, nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from artifacts.store import LocalStore
from config.settings import Settings
from controller import claims
from controller.fakes import FakeLauncher
from controller.launcher import LaunchResult, LaunchSpec
from controller.service import Controller
from db.engine import make_engine, notify_runs, utcnow
from db.migrate import upgrade

ADMIN = os.environ.get("PROCTOR_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def admin(sql: str) -> None:
    url = make_url(ADMIN)
    with psycopg.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        dbname=url.database,
        autocommit=True,
    ) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def scratch_database() -> str:
    name = f"proctor_bench_{uuid.uuid4().hex[:8]}"
    admin(f'CREATE DATABASE "{name}"')
    url = make_url(ADMIN).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    return url


def drop(url: str) -> None:
    admin(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def show(label: str, seconds: list[float]) -> None:
    ms = [s * 1000 for s in seconds]
    print(
        f"  {label:<44} n={len(ms):<5} p50={statistics.median(ms):8.2f} ms  "
        f"p95={pct(ms, 0.95):8.2f} ms  max={max(ms):8.2f} ms"
    )


def insert_test_set(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO test_sets (id, name, description, features, base_url, tags, "
                "max_attempts, enabled, retry_on_failure, created_at, updated_at) VALUES "
                "('bench', 'bench', '', '[]', '', '[]', 2, true, false, now(), now()) "
                "ON CONFLICT DO NOTHING"
            )
        )


def insert_pending(engine: Engine, notify: bool) -> tuple[str, float]:
    run_id = str(uuid.uuid4())
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO test_runs (id, test_set_id, desired, priority, parameters, "
                "max_attempts, created_at, status, attempt, updated_at) VALUES "
                "(:id, 'bench', 'run', 0, '{}', 2, now(), 'pending', 0, now())"
            ),
            {"id": run_id},
        )
        if notify:
            notify_runs(conn)
    return run_id, time.perf_counter()


class TimedLauncher(FakeLauncher):
    """Records when each run's launch call arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: dict[str, float] = {}

    def launch(self, spec: LaunchSpec) -> LaunchResult:
        self.arrived.setdefault(spec.run_id, time.perf_counter())
        result = super().launch(spec)
        self.finish(result.ref, exit_code=0)  # free the slot at the next tick
        return result


def dispatch_latency(url: str, *, notify: bool, samples: int, poll: float) -> list[float]:
    engine = make_engine(url)
    insert_test_set(engine)
    launcher = TimedLauncher()
    home = Path(tempfile.mkdtemp())
    settings = Settings(
        home=home,
        database_url=url,
        artifacts_url=home.as_uri(),
        poll_interval_seconds=poll,
        max_concurrent_runs=7,
    )
    controller = Controller(settings, engine, LocalStore(home), launcher)
    stop = threading.Event()
    thread = threading.Thread(target=controller.run_forever, args=(stop,), daemon=True)
    thread.start()
    time.sleep(1.0)  # let it connect and LISTEN
    latencies = []
    try:
        for _ in range(samples):
            run_id, committed = insert_pending(engine, notify)
            deadline = time.perf_counter() + poll * 3 + 5
            while run_id not in launcher.arrived:
                if time.perf_counter() > deadline:
                    raise RuntimeError("run not dispatched in time")
                time.sleep(0.0002)
            latencies.append(launcher.arrived[run_id] - committed)
            # Spread the inserts over the tick period so the tick-alone case is fair.
            time.sleep(0.05 if notify else (poll * 0.37) % poll)
    finally:
        stop.set()
        thread.join(timeout=30)
        engine.dispose()
    return latencies


def claim_cost(url: str, samples: int) -> list[float]:
    engine = make_engine(url)
    insert_test_set(engine)
    costs = []
    with engine.connect() as conn:
        for _ in range(samples):
            run_id, _ = insert_pending(engine, notify=False)
            started = time.perf_counter()
            with conn.begin():
                claimed = claims.claim_pending(
                    conn,
                    controller_id="bench",
                    max_active=7,
                    now=utcnow(),
                    lease=timedelta(seconds=60),
                )
            costs.append(time.perf_counter() - started)
            assert [r.id for r in claimed] == [run_id]
            with conn.begin():
                conn.execute(
                    text("UPDATE test_runs SET status = 'passed' WHERE id = :id"), {"id": run_id}
                )
    engine.dispose()
    return costs


def claim_statements(url: str, samples: int) -> list[float]:
    """The same claim, rolled back: the statements' cost without the commit's WAL flush."""
    engine = make_engine(url)
    insert_test_set(engine)
    run_id, _ = insert_pending(engine, notify=False)
    costs = []
    with engine.connect() as conn:
        for _ in range(samples):
            transaction = conn.begin()
            started = time.perf_counter()
            claimed = claims.claim_pending(
                conn, controller_id="bench", max_active=7, now=utcnow(), lease=timedelta(seconds=60)
            )
            costs.append(time.perf_counter() - started)
            transaction.rollback()
            assert [r.id for r in claimed] == [run_id]
        plan = (
            conn.execute(
                text(
                    "EXPLAIN SELECT id FROM test_runs WHERE status = 'pending' AND desired = 'run' "
                    "ORDER BY priority DESC, created_at, id LIMIT 7"
                )
            )
            .scalars()
            .all()
        )
        count_plan = (
            conn.execute(
                text(
                    "EXPLAIN SELECT count(*) FROM test_runs "
                    "WHERE status IN ('launching', 'running')"
                )
            )
            .scalars()
            .all()
        )
    engine.dispose()
    print("    candidates plan: " + " / ".join(line.strip() for line in plan))
    print("    count plan:      " + " / ".join(line.strip() for line in count_plan))
    with make_engine(url).begin() as conn:
        conn.execute(text("UPDATE test_runs SET status = 'passed' WHERE id = :id"), {"id": run_id})
    return costs


def add_history(url: str, rows: int) -> float:
    engine = make_engine(url)
    insert_test_set(engine)
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO test_runs (id, test_set_id, desired, priority, parameters, "
                "max_attempts, created_at, status, attempt, updated_at, finished_at, exit_code) "
                "SELECT gen_random_uuid()::text, 'bench', 'run', 0, '{}', 2, "
                "now() - (g || ' seconds')::interval, "
                "(ARRAY['passed','failed','error','cancelled'])[1 + g % 4], 1, now(), now(), 0 "
                "FROM generate_series(1, :n) AS g"
            ),
            {"n": rows},
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE test_runs"))
    engine.dispose()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--history", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--dispatch-samples", type=int, default=40)
    parser.add_argument(
        "--poll",
        type=float,
        default=1.0,
        help="tick interval for the tick-alone case (the default is 5 s)",
    )
    args = parser.parse_args()

    print("dispatch latency (commit of a pending run → launch call)")
    url = scratch_database()
    try:
        show(
            "with NOTIFY (tick every 5 s)",
            dispatch_latency(url, notify=True, samples=args.dispatch_samples, poll=5.0),
        )
        show(
            f"tick alone (every {args.poll:g} s)",
            dispatch_latency(
                url, notify=False, samples=max(5, args.dispatch_samples // 4), poll=args.poll
            ),
        )
    finally:
        drop(url)

    print("claim cost (one claim transaction, commit included)")
    url = scratch_database()
    try:
        show("empty history", claim_cost(url, args.samples))
        show("empty history, statements only", claim_statements(url, args.samples))
        took = add_history(url, args.history)
        print(f"  (inserted {args.history:,} finished runs in {took:.1f} s)")
        show(f"{args.history:,} finished runs", claim_cost(url, args.samples))
        show(
            f"{args.history:,} finished runs, statements only", claim_statements(url, args.samples)
        )
    finally:
        drop(url)


if __name__ == "__main__":
    main()
