"""Fixtures and helpers shared by the ``test_api_*`` modules (no tests here).

The API is built with ``create_app`` on a real, freshly migrated database and a local
artifact store in the test's tmp folder, and called through Litestar's ``TestClient``.
The controller is not running: tests play its part by writing status columns directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import Engine, insert, select, update

from api.app import create_app
from api.services.tokens import create_token
from artifacts.store import LocalStore
from config.settings import Settings
from db import runner_tokens
from db.engine import make_engine, utcnow
from db.tables import run_events, test_runs

FEATURE = {
    "path": "login.feature",
    "content": 'Feature: Login\n  Scenario: ok\n    Given I open "/"\n',
}


@dataclass
class Api:
    client: TestClient[Litestar]
    engine: Engine
    store: LocalStore
    settings: Settings
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, scope: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[scope]}"}

    def call(self, method: str, path: str, scope: str = "admin", **kwargs: Any) -> Any:
        headers = {**self.auth(scope), **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def create_test_set(self, test_set_id: str = "checkout", **fields: Any) -> dict[str, Any]:
        body = {
            "id": test_set_id,
            "name": test_set_id.title(),
            "features": [FEATURE],
            "baseUrl": "http://127.0.0.1:9",
            **fields,
        }
        response = self.call("POST", "/api/test-sets", json=body)
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    def execute(self, test_set_id: str = "checkout", **kwargs: Any) -> dict[str, Any]:
        response = self.call("POST", f"/api/test-runs/execute/{test_set_id}", **kwargs)
        assert response.status_code == 202, response.text
        return response.json()  # type: ignore[no-any-return]

    def runner_token(self, run_id: str, attempt: int) -> dict[str, str]:
        with self.engine.connect() as conn:
            key = runner_tokens.load_key(conn)
        return {"Authorization": f"Bearer {runner_tokens.mint(key, run_id, attempt)}"}

    def move(self, run_id: str, status: str, **values: Any) -> None:
        """Play the controller: change a run's status (with its event row)."""
        now = utcnow()
        with self.engine.begin() as conn:
            current = conn.execute(select(test_runs).where(test_runs.c.id == run_id)).one()
            if status in ("passed", "failed", "error", "timed_out", "cancelled"):
                values.setdefault("finished_at", now)
            conn.execute(
                update(test_runs)
                .where(test_runs.c.id == run_id)
                .values(status=status, updated_at=now, **values)
            )
            conn.execute(
                insert(run_events).values(
                    run_id=run_id,
                    attempt=values.get("attempt", current.attempt),
                    from_status=current.status,
                    to_status=status,
                    reason="test",
                    actor="test",
                    at=now,
                )
            )

    def row(self, run_id: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(select(test_runs).where(test_runs.c.id == run_id)).one()

    def count(self, table: Any) -> int:
        from sqlalchemy import func

        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def build_api(
    database_url: str, tmp_path: Path, *, events_poll_seconds: float = 0.02, **settings: Any
) -> Iterator[Api]:
    engine = make_engine(database_url)
    store = LocalStore(tmp_path / "artifacts")
    config = Settings(home=tmp_path, database_url=database_url, artifacts_url=store.url, **settings)
    app = create_app(config, engine=engine, store=store, events_poll_seconds=events_poll_seconds)
    tokens = {
        scope: create_token(engine, f"{scope} token", [scope]).secret
        for scope in ("read", "execute", "admin")
    }
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield Api(client=client, engine=engine, store=store, settings=config, tokens=tokens)
    finally:
        engine.dispose()


@pytest.fixture
def api(pg_url: str, tmp_path: Path) -> Iterator[Api]:
    yield from build_api(pg_url, tmp_path)


@pytest.fixture
def sqlite_api(sqlite_url: str, tmp_path: Path) -> Iterator[Api]:
    yield from build_api(sqlite_url, tmp_path)


def is_problem(response: Any, status: int) -> bool:
    return (
        response.status_code == status
        and response.headers["content-type"].startswith("application/problem+json")
        and response.json()["status"] == status
    )


def iso(value: datetime) -> str:
    return value.isoformat()
