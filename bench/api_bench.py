"""Throughput and latency of the API's hot paths against the bare framework floor.

Serves, each with one uvicorn worker on 127.0.0.1 in its own process:

- ``floor``: a bare Litestar app whose handlers return a constant (GET and POST);
- ``proctor``: ``api.app.create_app`` on a freshly migrated database, auth enabled.

and measures requests/s, p50 and p99 for ``POST /api/test-runs/execute/{id}`` and
``GET /api/test-runs/batch/{id}/status`` (a batch of 7 runs), printed next to the floor
and as ratios (proctor / floor). The request count is bounded (``--requests``), and
the load generator runs in this process, so it competes with the server for CPU:
compare ratios, not absolute numbers, and compare runs on the same machine.

    .venv/bin/python -m bench.api_bench                     # SQLite, the embedded default
    .venv/bin/python -m bench.api_bench --postgres    # a scratch database on 127.0.0.1:5432
    .venv/bin/python -m bench.api_bench --database-url postgresql+psycopg://…  # migrated here
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

TEST_SETS = 7


def floor_app():  # type: ignore[no-untyped-def]
    """The bare-framework floor (uvicorn factory)."""
    from litestar import Litestar, get, post

    @get("/const", sync_to_thread=False)
    def const_get() -> dict[str, bool]:
        return {"ok": True}

    @post("/const", status_code=202, sync_to_thread=False)
    def const_post() -> dict[str, bool]:
        return {"ok": True}

    return Litestar([const_get, const_post], openapi_config=None)


def proctor_app():  # type: ignore[no-untyped-def]
    """The real API (uvicorn factory); settings from the environment, as in production."""
    from api.app import create_app
    from config.settings import Settings

    return create_app(Settings())


@dataclass
class Result:
    name: str
    count: int
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def rps(self) -> float:
        return self.count / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) * 1000


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(factory: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = _port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            factory,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env={**os.environ, **env},
        cwd=Path(__file__).resolve().parent.parent,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/healthz", timeout=1)
            return proc, url
        except httpx.TransportError:
            if proc.poll() is not None:
                raise SystemExit(f"{factory} did not start") from None
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit(f"{factory} did not answer within 60 s")


async def _load(
    name: str,
    client: httpx.AsyncClient,
    method: str,
    path: str,
    *,
    count: int,
    concurrency: int,
    expect: int,
    headers: dict[str, str],
) -> Result:
    latencies: list[float] = []
    errors = 0
    queue = iter(range(count))

    async def worker() -> None:
        nonlocal errors
        for _ in queue:
            started = time.perf_counter()
            response = await client.request(method, path, headers=headers)
            latencies.append(time.perf_counter() - started)
            errors += response.status_code != expect

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(name, count, time.perf_counter() - started, latencies, errors)


def _prepare(database_url: str) -> tuple[str, str]:
    """Migrate, make an execute token and the test sets; returns (token, batch id)."""
    from sqlalchemy import insert

    from api.services import execute
    from api.services.tokens import create_token
    from db.engine import make_engine, utcnow
    from db.migrate import upgrade
    from db.tables import test_sets
    from schemas.models import ExecuteAllRequest

    upgrade(database_url)
    engine = make_engine(database_url)
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            insert(test_sets),
            [
                {
                    "id": f"bench-{i}",
                    "name": f"Bench {i}",
                    "description": "",
                    "base_url": "",
                    "features": [],
                    "tags": [],
                    "max_attempts": 1,
                    "enabled": True,
                    "retry_on_failure": False,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(TEST_SETS)
            ],
        )
    token = create_token(engine, "bench", ["execute"]).secret
    batch = execute.execute_all(engine, ExecuteAllRequest(), actor="bench")
    engine.dispose()
    return token, batch.id


async def _measure(
    floor: str, proctor: str, token: str, batch_id: str, count: int, concurrency: int
) -> list[tuple[Result, Result]]:
    auth = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=concurrency)
    async with (
        httpx.AsyncClient(base_url=floor, limits=limits, timeout=60) as f,
        httpx.AsyncClient(base_url=proctor, limits=limits, timeout=60) as p,
    ):
        for client, path in ((f, "/const"), (p, "/healthz")):  # warm up
            for _ in range(20):
                await client.get(path, headers=auth)
        opts = {"count": count, "concurrency": concurrency}
        return [
            (
                await _load(
                    "POST execute/{id}",
                    p,
                    "POST",
                    "/api/test-runs/execute/bench-0",
                    expect=202,
                    headers=auth,
                    **opts,
                ),
                await _load("floor POST", f, "POST", "/const", expect=202, headers={}, **opts),
            ),
            (
                await _load(
                    "GET batch/{id}/status",
                    p,
                    "GET",
                    f"/api/test-runs/batch/{batch_id}/status",
                    expect=200,
                    headers=auth,
                    **opts,
                ),
                await _load("floor GET", f, "GET", "/const", expect=200, headers={}, **opts),
            ),
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="", help="default: a new SQLite file")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="create (and drop) a scratch database on PROCTOR_TEST_PG or "
        "postgresql://postgres@127.0.0.1:5432",
    )
    parser.add_argument("--requests", type=int, default=400, help="per endpoint")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="proctor-bench-"))
    database_url = args.database_url or f"sqlite:///{home / 'proctor.db'}"
    scratch = _scratch_database() if args.postgres else None
    if scratch:
        database_url = scratch[1]
    try:
        _run(args, home, database_url)
    finally:
        if scratch:
            _admin(scratch[0], f'DROP DATABASE IF EXISTS "{scratch[2]}" WITH (FORCE)')


def _admin(admin_url: str, sql: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(admin_url)
    with psycopg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        dbname=url.database or "postgres",
        autocommit=True,
    ) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def _scratch_database() -> tuple[str, str, str]:
    from sqlalchemy.engine import make_url

    admin = os.environ.get(
        "PROCTOR_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    name = f"proctor_api_bench_{os.getpid()}"
    _admin(admin, f'CREATE DATABASE "{name}"')
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    return admin, url, name


def _run(args: argparse.Namespace, home: Path, database_url: str) -> None:
    token, batch_id = _prepare(database_url)
    env = {
        "PROCTOR_HOME": str(home),
        "PROCTOR_DATABASE_URL": database_url,
        "PROCTOR_AUTH": "enabled",
    }
    floor_proc, floor_url = _serve("bench.api_bench:floor_app", env)
    proctor_proc, proctor_url = _serve("bench.api_bench:proctor_app", env)
    try:
        pairs = asyncio.run(
            _measure(floor_url, proctor_url, token, batch_id, args.requests, args.concurrency)
        )
    finally:
        for proc in (floor_proc, proctor_proc):
            proc.terminate()
            proc.wait(timeout=10)

    backend = database_url.split(":", 1)[0]
    print(
        f"one uvicorn worker each, {args.requests} requests per endpoint, "
        f"{args.concurrency} concurrent, database {backend}"
    )
    print(
        f"{'endpoint':<24}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
        f"   {'req/s ratio':>11}{'p50 ratio':>10}{'p99 ratio':>10}"
    )
    for ours, floor in pairs:
        for result in (ours, floor):
            print(
                f"{result.name:<24}{result.rps:>9.0f}{result.p50:>9.2f}"
                f"{result.pct(0.99):>9.2f}{result.errors:>8}",
                end="",
            )
            if result is ours:
                print(
                    f"   {ours.rps / floor.rps:>11.3f}{ours.p50 / floor.p50:>10.1f}"
                    f"{ours.pct(0.99) / floor.pct(0.99):>10.1f}"
                )
            else:
                print()


if __name__ == "__main__":
    main()
