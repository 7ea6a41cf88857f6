"""Four controller processes, one PostgreSQL, a fake ECS with bad days: nothing lost, nothing twice.

What fakes can't show: real processes racing on real PostgreSQL (advisory lock, SKIP
LOCKED, fenced writes) while being killed with SIGKILL and crashing exactly between claim
and RunTask and between RunTask and recording. ECS is the fake in ``controller.fake_ecs``
behind real boto3 (clientToken idempotency, capacity failures, throttling, slow and stuck
PROVISIONING, MISSING tasks); the database and the processes are real.

Checked continuously: never more than 7 runs in launching/running. Checked at the end:
every run terminal, exactly one ECS task per (run, attempt) that was started, and every
run's final attempt started at most once.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from controller.fake_ecs import Behaviour, FakeEcs
from db.engine import make_engine
from db.tables import test_runs
from tests.controller_support import seed

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 7
TERMINAL = ("passed", "failed", "error", "timed_out", "cancelled")


@pytest.fixture
def fake_ecs() -> Iterator[tuple[FakeEcs, str]]:
    fake = FakeEcs(
        Behaviour(
            capacity_failure_rate=0.05,
            throttle_rate=0.03,
            provisioning_seconds=(0.005, 0.04),
            running_seconds=(0.005, 0.04),
        )
    )
    url = fake.serve()
    yield fake, url
    fake.shutdown()


def controller_env(pg_url: str, ecs_url: str, tmp: Path, crash_points: str = "") -> dict[str, str]:
    return dict(
        os.environ,
        PROCTOR_DATABASE_URL=pg_url,
        PROCTOR_HOME=str(tmp / "home"),
        PROCTOR_ARTIFACTS_URL=(tmp / "artifacts").as_uri(),
        PROCTOR_LAUNCHER="ecs",
        PROCTOR_ECS_CLUSTER="proctor",
        PROCTOR_ECS_TASK_DEFINITION="proctor-runner",
        PROCTOR_ECS_SUBNETS="subnet-1",
        PROCTOR_ECS_SECURITY_GROUPS="sg-1",
        PROCTOR_MAX_CONCURRENT_RUNS=str(LIMIT),
        PROCTOR_POLL_INTERVAL_SECONDS="0.05",
        PROCTOR_CLAIM_LEASE_SECONDS="5",
        PROCTOR_LAUNCH_TIMEOUT_SECONDS="2",
        PROCTOR_API_URL="http://127.0.0.1:9",
        AWS_ENDPOINT_URL=ecs_url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        CRASH_POINTS=crash_points,
        LOG_LEVEL="WARNING",
    )


class Fleet:
    """Controller processes that can be killed and restarted."""

    def __init__(self, env: dict[str, str], logs: Path, size: int) -> None:
        self.env = env
        self.logs = logs
        self.procs: list[subprocess.Popen[bytes]] = []
        self.started = 0
        for _ in range(size):
            self.procs.append(self._start())

    def _start(self) -> subprocess.Popen[bytes]:
        self.started += 1
        log = (self.logs / f"controller{self.started}.log").open("ab")
        return subprocess.Popen(
            [sys.executable, "-m", "tests.controller_support"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def restart_dead(self) -> int:
        """Restart controllers that died (killed, or an injected crash)."""
        restarted = 0
        for i, proc in enumerate(self.procs):
            if proc.poll() is not None:
                self.procs[i] = self._start()
                restarted += 1
        return restarted

    def kill_one(self, rng: random.Random) -> None:
        victim = rng.choice(self.procs)
        if victim.poll() is None:
            victim.send_signal(signal.SIGKILL)
            victim.wait()

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def run_fleet(
    pg_url: str,
    fake: FakeEcs,
    ecs_url: str,
    tmp: Path,
    runs: int,
    *,
    crash_points: Callable[[list[str]], str] | None = None,
    kill_every: float | None = None,
    timeout: float = 150,
) -> dict[str, object]:
    engine = make_engine(pg_url)
    ids = seed(engine, runs, max_attempts=3)
    points = crash_points(ids) if crash_points else ""
    fleet = Fleet(controller_env(pg_url, ecs_url, tmp, points), tmp, 4)
    rng = random.Random(3)
    peak = 0
    samples = 0
    stop_sampling = threading.Event()
    violations: list[int] = []

    def sample() -> None:
        # Continuously, from its own connection: the limit must hold at every instant.
        nonlocal peak, samples
        with engine.connect() as conn:
            while not stop_sampling.is_set():
                active = conn.execute(
                    select(func.count())
                    .select_from(test_runs)
                    .where(test_runs.c.status.in_(("launching", "running")))
                ).scalar_one()
                conn.commit()
                samples += 1
                peak = max(peak, active)
                if active > LIMIT:
                    violations.append(active)
                time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    kills = 0
    restarts = 0
    next_kill = time.monotonic() + (kill_every or 0)
    deadline = time.monotonic() + timeout
    counts: dict[str, int] = {}
    try:
        while True:
            with engine.connect() as conn:
                counts = dict(
                    conn.execute(  # type: ignore[arg-type]
                        select(test_runs.c.status, func.count()).group_by(test_runs.c.status)
                    ).all()
                )
            if sum(counts.get(s, 0) for s in TERMINAL) == runs:
                break
            assert time.monotonic() < deadline, f"not finished in time: {counts}"
            if kill_every and time.monotonic() >= next_kill:
                fleet.kill_one(rng)
                kills += 1
                next_kill = time.monotonic() + kill_every
            restarts += fleet.restart_dead()
            time.sleep(0.2)
    finally:
        stop_sampling.set()
        sampler.join()
        fleet.stop()
    with engine.connect() as conn:
        final = {
            row.id: row.attempt for row in conn.execute(select(test_runs.c.id, test_runs.c.attempt))
        }
    engine.dispose()
    return {
        "ids": ids,
        "counts": counts,
        "peak": peak,
        "samples": samples,
        "violations": violations,
        "final": final,
        "kills": kills,
        "restarts": restarts,
        "controllers_started": fleet.started,
    }


def check(result: dict[str, object], fake: FakeEcs) -> None:
    started: Counter[tuple[str, int]] = fake.started
    violations = result["violations"]
    assert violations == [], f"more than {LIMIT} active: {violations}"
    assert 1 < int(result["peak"]) <= LIMIT  # type: ignore[call-overload]
    assert int(result["samples"]) > 100  # type: ignore[call-overload]
    duplicates = {key: n for key, n in started.items() if n != 1}
    assert duplicates == {}, f"attempts with more than one task: {duplicates}"
    final: dict[str, int] = result["final"]  # type: ignore[assignment]
    for run_id, attempt in started:
        assert 1 <= attempt <= final[run_id], "a task for an attempt the run never had"
    assert fake.capacity_failures > 0 and fake.throttled > 0  # the bad days did happen


@pytest.mark.slow
def test_four_controllers_2000_runs_against_a_flaky_ecs(
    pg_url: str, fake_ecs: tuple[FakeEcs, str], tmp_path: Path
) -> None:
    fake, url = fake_ecs
    runs = int(os.environ.get("PROCTOR_SCALE_RUNS", "2000"))
    result = run_fleet(pg_url, fake, url, tmp_path, runs)
    print({k: v for k, v in result.items() if k not in ("ids", "final")})
    check(result, fake)
    assert int(result["restarts"]) == 0  # type: ignore[call-overload]


@pytest.mark.slow
def test_controllers_killed_and_crashing_mid_launch_lose_nothing(
    pg_url: str, fake_ecs: tuple[FakeEcs, str], tmp_path: Path
) -> None:
    fake, url = fake_ecs
    runs = int(os.environ.get("PROCTOR_CHAOS_RUNS", "500"))
    result = run_fleet(
        pg_url,
        fake,
        url,
        tmp_path,
        runs,
        kill_every=5.0,
        timeout=170,
        # Crash exactly between claim and RunTask for 3 runs, and between RunTask and
        # recording the task for 3 others (spread through the queue).
        crash_points=lambda ids: (
            f"after_claim={','.join(ids[10 :: runs // 3][:3])};"
            f"after_launch={','.join(ids[20 :: runs // 3][:3])}"
        ),
    )
    print({k: v for k, v in result.items() if k not in ("ids", "final")})
    check(result, fake)
    assert int(result["kills"]) > 3  # type: ignore[call-overload]
    logs = "".join(p.read_text() for p in tmp_path.glob("controller*.log"))
    assert logs.count("crash injected at after_claim") == 3
    assert logs.count("crash injected at after_launch") == 3
    assert "Traceback" not in logs
