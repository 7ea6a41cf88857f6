"""The `proctor` CLI's answers to bad input: a clear message and a non-zero exit, never a
traceback — against a real API served by uvicorn on loopback.

What fakes can't show: the CLI's HTTP client reading real problem+json answers.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from api.app import create_app
from api.services.tokens import create_token
from config import Settings
from db.engine import make_engine
from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def api_env(sqlite_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    settings = Settings(home=tmp_path / "home", database_url=sqlite_url)
    engine = make_engine(sqlite_url)
    token = create_token(engine, "cli test", ["admin"]).secret
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, engine=engine), port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert httpx.get(f"{url}/healthz").status_code == 200
    yield {
        **os.environ,
        "PROCTOR_HOME": str(tmp_path / "home"),
        "PROCTOR_URL": url,
        "PROCTOR_TOKEN": token,
    }
    server.should_exit = True
    thread.join(10)
    engine.dispose()


def proctor(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _clean_failure(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    for text in expected:
        assert text in result.stderr, result.stderr


def test_run_of_an_unknown_test_set_says_so(api_env: dict[str, str]) -> None:
    _clean_failure(proctor(api_env, "run", "does-not-exist", "--wait"), "404", "does-not-exist")


def test_run_needs_test_sets_or_all(api_env: dict[str, str]) -> None:
    _clean_failure(proctor(api_env, "run"), "name one or more test sets, or give --all")
    _clean_failure(proctor(api_env, "run", "x", "--all"), "name one or more test sets")


def test_sync_of_a_folder_without_features(api_env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    _clean_failure(proctor(api_env, "test-sets", "sync", str(tmp_path / "empty")), ".feature")
    _clean_failure(proctor(api_env, "test-sets", "sync", str(tmp_path / "nope")), "not a folder")


def test_sync_then_status_and_a_wrong_token(api_env: dict[str, str], tmp_path: Path) -> None:
    suite = tmp_path / "suite" / "smoke"
    suite.mkdir(parents=True)
    (suite / "a.feature").write_text('Feature: A\n  Scenario: B\n    Given I open "/"\n')
    synced = proctor(api_env, "test-sets", "sync", str(tmp_path / "suite"))
    assert synced.returncode == 0 and "created  smoke" in synced.stdout
    again = proctor(api_env, "test-sets", "sync", str(tmp_path / "suite"), "--base-url", "http://x")
    assert again.returncode == 0 and "updated  smoke" in again.stdout
    started = proctor(api_env, "run", "smoke")  # no --wait: prints the run and returns
    assert started.returncode == 0 and started.stdout.startswith("run ")
    run_id = started.stdout.split()[1]
    status = proctor(api_env, "status", run_id)
    assert status.returncode == 0 and '"status": "pending"' in status.stdout
    _clean_failure(proctor(api_env, "status", "no-such-id"), "no run or batch")
    _clean_failure(proctor({**api_env, "PROCTOR_TOKEN": "pt_wrong"}, "test-sets", "list"), "401")


def test_no_api_address_and_an_unreachable_api(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PROCTOR_URL", "PROCTOR_TOKEN")}
    env["PROCTOR_HOME"] = str(tmp_path)
    _clean_failure(proctor(env, "test-sets", "list"), "no API address", "proctor up")
    env["PROCTOR_URL"] = f"http://127.0.0.1:{free_port()}"
    _clean_failure(proctor(env, "run", "--all"), "cannot reach Proctor")


def test_invalid_configuration_is_named(tmp_path: Path) -> None:
    env = {**os.environ, "PROCTOR_HOME": str(tmp_path), "PROCTOR_MAX_CONCURRENT_RUNS": "zero"}
    _clean_failure(proctor(env, "db", "upgrade"), "PROCTOR_MAX_CONCURRENT_RUNS")
