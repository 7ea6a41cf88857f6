"""The runner process end to end: `python -m runner` against a fake API on loopback.

What the fakes can't show: signals reaching a real process that holds a real Chromium,
the exit codes the controller reads, and the HTTP contract (token, paths, bodies) as the
runner really sends it. These start their own Chromium, so there are only a few.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.runner_fixtures import FIXTURES, FakeRunnerApi, make_job

ROOT = Path(__file__).resolve().parents[2]

TWO_SCENARIOS = """\
Feature: Shop
  Scenario: the shop opens
    Given I open "index.html"
    Then I should see "Welcome to the shop"

  Scenario: a tool fails
    Given I open "index.html"
    When I run "false"
    Then the command should succeed
"""

LONG_SCENARIO = """\
Feature: Long
  Scenario: waits for a slow tool
    Given I open "index.html"
    When I run "sleep 120"
    Then I should see "Welcome to the shop"

  Scenario: never starts
    Given I open "form.html"
"""


def _spawn(api: FakeRunnerApi, store: Path, **env: str) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "PROCTOR_API_URL": api.url,
        "PROCTOR_RUNNER_TOKEN": api.token,
        "PROCTOR_ARTIFACTS_URL": store.as_uri(),
        "PROCTOR_HOME": str(store.parent / "home"),
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "runner", "--run-id", api.job.run_id],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # as the local launcher starts runners
    )


def _wait(proc: subprocess.Popen[bytes], timeout: float) -> tuple[int, str]:
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        tail = out.decode()[-3000:]
        raise AssertionError(f"runner did not exit in {timeout} s:\n{tail}") from None
    return proc.returncode, out.decode(errors="replace")


def _attempt(store: Path) -> Path:
    return store / "runs" / "run-1" / "attempt-1"


def test_runner_reports_through_the_api_and_exits_1_on_a_failure(
    pages_url: str, tmp_path: Path, cucumber_schema: dict[str, Any]
) -> None:
    job = make_job({"shop.feature": TWO_SCENARIOS}, base_url=pages_url)
    store = tmp_path / "store"
    with FakeRunnerApi(job) as api:
        code, output = _wait(_spawn(api, store), timeout=120)
        assert code == 1, output
        assert [api.steps[seq]["status"] for seq in sorted(api.steps)] == [
            "passed",
            "passed",
            "passed",
            "passed",
            "failed",
        ]
        assert api.steps[5]["screenshotKey"].startswith("runs/run-1/attempt-1/screenshots/")
        assert api.heartbeats >= 1
        assert len(api.results) == 1
        result = api.results[0]
        assert result["exitCode"] == 1 and result["attempt"] == 1
        assert result["summary"]["scenarios"] == {
            "passed": 1,
            "failed": 1,
            "skipped": 0,
            "undefined": 0,
        }
        kinds = {a["kind"] for a in api.artifacts}
        assert kinds == {"cucumber_json", "junit_xml", "screenshot", "video", "trace", "log"}
    report = json.loads((_attempt(store) / "cucumber.json").read_text())
    jsonschema.validate(report, cucumber_schema)
    assert len(list((_attempt(store) / "videos").glob("*.webm"))) == 2


def test_sigterm_mid_scenario_saves_a_partial_report_and_exits_3(
    pages_url: str, tmp_path: Path, cucumber_schema: dict[str, Any]
) -> None:
    job = make_job({"long.feature": LONG_SCENARIO}, base_url=pages_url)
    store = tmp_path / "store"
    with FakeRunnerApi(job) as api:
        proc = _spawn(api, store)
        deadline = time.monotonic() + 90
        while 1 not in api.steps:  # the page is open; the slow command is running
            assert proc.poll() is None, proc.communicate()[0].decode()[-3000:]
            assert time.monotonic() < deadline, "the first step was never reported"
            time.sleep(0.05)
        signalled = time.monotonic()
        # The local launcher signals the runner's whole process group: the Playwright
        # driver must survive that long enough to save the video and the trace.
        os.killpg(proc.pid, signal.SIGTERM)
        code, output = _wait(proc, timeout=60)
        took = time.monotonic() - signalled
        assert code == 3, output
        assert took < 25, f"took {took:.1f} s to stop"
        assert api.results and api.results[0]["exitCode"] == 3
    folder = _attempt(store)
    report = json.loads((folder / "cucumber.json").read_text())
    jsonschema.validate(report, cucumber_schema)
    first, second = report[0]["elements"]
    assert [s["result"]["status"] for s in first["steps"]] == ["passed", "failed", "skipped"]
    assert "stopping" in first["steps"][1]["result"]["error_message"]
    assert [s["result"]["status"] for s in second["steps"]] == ["skipped"]
    videos = list((folder / "videos").glob("*.webm"))
    assert len(videos) == 1 and videos[0].stat().st_size > 0
    assert (folder / "trace.zip").stat().st_size > 0
    assert "SIGTERM" in (folder / "runner.log").read_text()


def test_a_browser_that_cannot_start_ends_in_exit_2_with_the_reason(tmp_path: Path) -> None:
    job = make_job({"shop.feature": TWO_SCENARIOS}, base_url="http://127.0.0.1:9")
    store = tmp_path / "store"
    with FakeRunnerApi(job) as api:
        code, output = _wait(
            _spawn(api, store, PROCTOR_BROWSER_EXECUTABLE="/nonexistent/chromium"), timeout=90
        )
        assert code == 2, output
        error = api.results[0]["error"]
    assert "Chromium could not start" in error and "/nonexistent/chromium" in error
    assert "Chromium could not start" in (_attempt(store) / "runner.log").read_text()


@pytest.mark.timeout(120)
def test_a_browser_crash_ends_in_exit_2_not_a_hang(pages_url: str, tmp_path: Path) -> None:
    feature = """\
Feature: Crash
  Scenario: the browser dies
    Given I open "index.html"
    When the browser crashes
    Then I should see "Welcome to the shop"

  Scenario: not run
    Given I open "index.html"
"""
    job = make_job({"crash.feature": feature}, base_url=pages_url)
    store = tmp_path / "store"
    with FakeRunnerApi(job) as api:
        code, output = _wait(
            _spawn(api, store, PROCTOR_STEPS_PATH=str(FIXTURES / "steps_crash")), timeout=90
        )
        assert code == 2, output
        error = api.results[0]["error"]
    assert "browser" in error and ("disconnected" in error or "crashed" in error)
    log = (_attempt(store) / "runner.log").read_text()
    assert "run error" in log
