"""Reporting through the API: outages, retries and a cancel answered to a heartbeat.

What the fakes can't show: the real HTTP reporter thread against a real (fake) API
server that goes down and comes back, with the runner's main wiring around it.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from playwright.sync_api import Browser

from config.browser import CHROMIUM_ARGS
from config.settings import Settings
from runner.browser import BrowserOptions
from runner.execute import RunOptions
from runner.main import main
from tests.runner_fixtures import FakeRunnerApi, make_job

FEATURE = """\
Feature: Shop
  Scenario: opens
    Given I open "index.html"
    Then I should see "Welcome to the shop"

  Scenario: a tool fails
    When I run "false"
    Then the command should succeed
"""


def _settings(api: FakeRunnerApi, tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "home",
        api_url=api.url,
        runner_token=api.token,
        artifacts_url=(tmp_path / "store").as_uri(),
    )


def _options(chromium: Browser) -> RunOptions:
    return RunOptions(
        browser=BrowserOptions(args=CHROMIUM_ARGS, video=False, trace=False),
        shared_browser=chromium,
    )


def _report(tmp_path: Path) -> list[dict]:  # type: ignore[type-arg]
    path = tmp_path / "store" / "runs" / "run-1" / "attempt-1" / "cucumber.json"
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def test_api_down_for_the_whole_run_the_artifacts_still_carry_the_result(
    chromium: Browser, pages_url: str, tmp_path: Path
) -> None:
    job = make_job({"shop.feature": FEATURE}, base_url=pages_url)
    with FakeRunnerApi(job) as api:
        api.down = True
        code = main(
            "run-1", _settings(api, tmp_path), options=_options(chromium), report_flush_s=1.0
        )
        assert code == 1
        assert api.steps == {} and api.results == [] and api.rejected >= 1
    statuses = [
        [s["result"]["status"] for s in e["steps"]] for e in _report(tmp_path)[0]["elements"]
    ]
    assert statuses == [["passed", "passed"], ["passed", "failed"]]
    log = (tmp_path / "store" / "runs" / "run-1" / "attempt-1" / "runner.log").read_text()
    assert "the API is unreachable" in log


def test_reports_are_buffered_and_delivered_when_the_api_comes_back(
    chromium: Browser, pages_url: str, tmp_path: Path
) -> None:
    job = make_job({"shop.feature": FEATURE}, base_url=pages_url)
    with FakeRunnerApi(job) as api:
        api.down = True

        def come_back() -> None:
            deadline = time.monotonic() + 60
            while api.rejected < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            api.down = False

        helper = threading.Thread(target=come_back, daemon=True)
        helper.start()
        code = main("run-1", _settings(api, tmp_path), options=_options(chromium))
        helper.join()
        assert code == 1
        assert sorted(api.steps) == [1, 2, 3, 4]  # every step, each once
        assert [api.steps[i]["status"] for i in (1, 2, 3, 4)] == [
            "passed",
            "passed",
            "passed",
            "failed",
        ]
        assert len(api.results) == 1 and api.results[0]["exitCode"] == 1
        assert {a["kind"] for a in api.artifacts} >= {"cucumber_json", "junit_xml", "log"}


def test_a_cancel_answered_to_a_heartbeat_stops_the_run_with_exit_3(
    chromium: Browser, pages_url: str, tmp_path: Path
) -> None:
    job = make_job({"shop.feature": FEATURE}, base_url=pages_url)
    with FakeRunnerApi(job) as api:
        api.cancel = True
        # The first heartbeat goes out before the first scenario: nothing runs.
        options = _options(chromium)
        original = options.stop
        code = main("run-1", _settings(api, tmp_path), options=options)
        assert original.is_set()
        assert code == 3
        assert api.results[0]["exitCode"] == 3
        assert "stopped" in api.results[0]["error"]
        assert {report["status"] for report in api.steps.values()} == {"skipped"}
    assert (
        "asks this run to stop"
        in (tmp_path / "store" / "runs" / "run-1" / "attempt-1" / "runner.log").read_text()
    )


def test_an_unusable_artifact_store_is_a_run_error_reported_to_the_api(tmp_path: Path) -> None:
    job = make_job({"shop.feature": FEATURE})
    with FakeRunnerApi(job) as api:
        settings = _settings(api, tmp_path).model_copy(update={"artifacts_url": "ftp://nowhere"})
        assert main("run-1", settings) == 2
        assert api.results[0]["exitCode"] == 2
        assert "ftp://nowhere" in api.results[0]["error"]


def test_a_forbidden_token_is_a_run_error_without_a_run(tmp_path: Path) -> None:
    job = make_job({"shop.feature": FEATURE})
    with FakeRunnerApi(job, token="r1.run-1.1.right") as api:
        settings = _settings(api, tmp_path).model_copy(update={"runner_token": "r1.run-1.1.wrong"})
        assert main("run-1", settings) == 2
        assert api.results == [] and api.heartbeats == 0
    # The log still lands in the attempt's folder (the attempt comes from the token).
    log = (tmp_path / "store" / "runs" / "run-1" / "attempt-1" / "runner.log").read_text()
    assert "403" in log
