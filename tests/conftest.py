"""Shared fixtures: real databases migrated by the real Alembic revisions.

PostgreSQL: one template database per test session, migrated once with Alembic, and one
database per test cloned from it (``CREATE DATABASE … TEMPLATE``), as procrastinate does.
SQLite: a fresh migrated file per test. Set ``PROCTOR_TEST_PG`` to point at another server.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from db.migrate import upgrade

PG_ADMIN_URL = os.environ.get(
    "PROCTOR_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
FIXTURES = Path(__file__).parent / "fixtures"

# The runner's fixtures (pages on loopback, a shared Chromium, a fake runner API).
pytest_plugins = ["tests.runner_fixtures"]


def _pg_url(dbname: str) -> str:
    return make_url(PG_ADMIN_URL).set(database=dbname).render_as_string(hide_password=False)


def _admin_execute(sql: str) -> None:
    url = make_url(PG_ADMIN_URL)
    with psycopg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        dbname=url.database or "postgres",
        autocommit=True,
    ) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    name = f"proctor_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    _admin_execute(f'CREATE DATABASE "{name}"')
    upgrade(_pg_url(name))
    yield name
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test."""
    name = f"proctor_t_{uuid.uuid4().hex[:12]}"
    _admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    yield _pg_url(name)
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh, migrated SQLite database for this test."""
    url = f"sqlite:///{tmp_path / 'proctor.db'}"
    upgrade(url)
    return url


@pytest.fixture(params=["postgresql", "sqlite"])
def any_db_url(request: pytest.FixtureRequest) -> str:
    """Both back ends, for code that must behave the same on each."""
    fixture = "pg_url" if request.param == "postgresql" else "sqlite_url"
    return request.getfixturevalue(fixture)  # type: ignore[no-any-return]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
