"""Command steps' process handling: limits, stop, environment, output."""

from __future__ import annotations

import threading
import time

import pytest

from runner.commands import run_command


def test_output_exit_status_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROCTOR_RUNNER_TOKEN", "secret-token")
    result = run_command(
        'echo "base=$PROCTOR_BASE_URL/$BASE_URL"; echo "token=${PROCTOR_RUNNER_TOKEN:-none}";'
        " echo oops >&2; exit 4",
        base_url="http://shop.test",
        limit_s=30,
    )
    assert result.exit_code == 4 and not result.succeeded
    assert "base=http://shop.test/http://shop.test" in result.output
    assert "token=none" in result.output  # the runner's credential is not handed down
    assert "oops" in result.output


def test_a_hanging_command_and_its_children_are_killed_at_the_limit() -> None:
    started = time.monotonic()
    result = run_command("sleep 60 & sleep 60; echo never", base_url="", limit_s=0.5)
    assert result.timed_out and result.exit_code is None
    assert time.monotonic() - started < 10
    assert "never" not in result.output
    assert "time limit" in result.describe()


def test_stopping_the_run_kills_the_command() -> None:
    stop = threading.Event()
    stop.set()
    result = run_command("sleep 60", base_url="", limit_s=60, stop=stop)
    assert result.stopped and result.exit_code is None
    assert "stopping" in result.describe()
