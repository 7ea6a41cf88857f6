"""Every built-in step against real Chromium and pages on loopback, passing and failing.

What the fakes can't show: that the steps really drive Chromium through Playwright's
auto-waiting locators, and that a failure leaves a real screenshot, video and trace.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
from playwright.sync_api import Browser, expect

from runner.execute import EXIT_FAILED, EXIT_PASSED
from tests.runner_fixtures import make_job, run_here

PASSING = """\
@builtin
Feature: Built-in steps

  Scenario: every built-in step passes
    Given I open "index.html"
    Then the title should be "Proctor test page"
    And I should see "Welcome to the shop"
    And I should not see "Hidden treasure"
    And "#secret" should be hidden
    And "#intro" should be visible
    And there should be 3 "#items li"
    And "#items" should contain "pear"
    When I click "#reveal"
    And I wait for "#later"
    Then I should see "Revealed later"
    When I take a screenshot "after reveal"
    And I click "#to-form"
    Then the URL should contain "form.html"
    When I fill "#name" with "Ada"
    And I select "blue" in "#color"
    And I check "#agree"
    And I uncheck "#news"
    And I fill "#search" with "pears"
    And I press "Enter" in "#search"
    Then "#result" should contain "Searched: pears"
    When I click "#submit"
    Then "#greeting" should contain "Hello, Ada (blue, agreed)"
    And "#name" should have value "Ada"

  Scenario: command steps pass
    When I run "echo hello from $PROCTOR_BASE_URL; echo to stderr >&2"
    Then the command should succeed
    And the output should contain "hello from http://127.0.0.1"
    And the output should contain "to stderr"
    When I run "exit 3"
    Then the command should fail
"""

FAILING = """\
Feature: Built-in steps that fail

  Scenario Outline: <step> fails
    Given I open "index.html"
    When <step>
    Then I should see "Welcome to the shop"

    Examples: assertions
      | step                                   |
      | the title should be "Wrong title"      |
      | I should see "Not on the page"         |
      | I should not see "Welcome to the shop" |
      | "#intro" should be hidden              |
      | "#secret" should be visible            |
      | there should be 2 "#items li"          |
      | "#items" should contain "banana"       |
      | "#intro" should have value "x"         |
      | the URL should contain "elsewhere"     |

    Examples: actions
      | step                            |
      | I click "#missing"              |
      | I fill "#missing" with "x"      |
      | I press "Enter" in "#missing"   |
      | I select "red" in "#missing"    |
      | I check "#missing"              |
      | I uncheck "#missing"            |
      | I wait for "#secret"            |
      | I open "http://127.0.0.1:9/"    |

  Scenario Outline: command step <case> fails
    When I run <command>
    Then <check>

    Examples:
      | case    | command                      | check                               |
      | succeed | "false"                      | the command should succeed          |
      | fail    | "true"                       | the command should fail             |
      | output  | "echo something"             | the output should contain "nothing" |
      | hang    | "sleep 30" within 1 seconds  | the command should succeed          |
"""


def _steps(report: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [
        (element["name"], step["name"], step["result"]["status"])
        for feature in report
        for element in feature["elements"]
        for step in element["steps"]
    ]


def test_every_builtin_step_passes(
    chromium: Browser, pages_url: str, tmp_path: Path, cucumber_schema: dict[str, Any]
) -> None:
    job = make_job({"builtin.feature": PASSING}, base_url=pages_url + "/")
    outcome, reporter, store = run_here(job, tmp_path, browser=chromium)

    assert outcome.error is None
    statuses = {status for _, _, status in _steps(outcome.cucumber)}
    assert statuses == {"passed"}, [s for s in _steps(outcome.cucumber) if s[2] != "passed"]
    assert outcome.exit_code == EXIT_PASSED
    assert outcome.summary.scenarios.passed == 2
    assert outcome.summary.steps.passed == 30

    # Every step reported once, in order, with increasing seq.
    assert [r.seq for r in reporter.steps] == list(range(1, 31))
    assert [r.status for r in reporter.steps] == ["passed"] * 30
    assert reporter.results[0].exit_code == 0

    prefix = "runs/run-1/attempt-1/"
    keys = {item.key: item for item in store.list(prefix)}
    report = json.loads(store.get_bytes(prefix + "cucumber.json") or b"")
    jsonschema.validate(report, cucumber_schema)
    assert report == outcome.cucumber
    assert prefix + "junit.xml" in keys and prefix + "runner.log" in keys
    shots = [k for k in keys if "/screenshots/" in k]
    assert len(shots) == 1 and shots[0].endswith("after-reveal.png")
    assert (store.get_bytes(shots[0]) or b"")[:8] == b"\x89PNG\r\n\x1a\n"
    # The browser scenario has a video; the command-only one never opened a page.
    videos = [k for k in keys if k.endswith(".webm")]
    assert len(videos) == 1 and keys[videos[0]].size > 0
    with zipfile.ZipFile(store.local_path(prefix + "trace.zip")) as trace:
        names = trace.namelist()
    assert "001-trace.trace" in names and "001-trace.network" in names
    assert any(name.startswith("resources/") for name in names)  # DOM snapshots

    # Command output is attached to the step and kept in runner.log.
    run_step = report[0]["elements"][1]["steps"][0]
    assert "hello from http://127.0.0.1" in run_step["output"][0]
    log = (store.get_bytes(prefix + "runner.log") or b"").decode()
    assert "hello from http://127.0.0.1" in log and "to stderr" in log
    assert {a.kind for a in reporter.artifact_reports} >= {
        "cucumber_json",
        "junit_xml",
        "screenshot",
        "video",
        "trace",
        "log",
    }


def test_every_builtin_step_fails_with_a_screenshot(
    chromium: Browser, pages_url: str, tmp_path: Path, cucumber_schema: dict[str, Any]
) -> None:
    job = make_job({"failing.feature": FAILING}, base_url=pages_url)
    outcome, reporter, store = run_here(
        job, tmp_path, browser=chromium, video=False, trace=False, timeout_ms=700
    )

    assert outcome.exit_code == EXIT_FAILED
    jsonschema.validate(outcome.cucumber, cucumber_schema)
    elements = outcome.cucumber[0]["elements"]
    assert len(elements) == 17 + 4
    for element in elements:
        statuses = [step["result"]["status"] for step in element["steps"]]
        failed = statuses.index("failed")
        assert statuses[failed + 1 :] == ["skipped"] * (len(statuses) - failed - 1), element["name"]
        assert all(s == "passed" for s in statuses[:failed]), element["name"]
        step = element["steps"][failed]
        assert step["result"]["error_message"], element["name"]
        if element["name"].startswith("command"):
            continue
        # Browser failures carry their screenshot, embedded and as a file.
        assert step["embeddings"][0]["mime_type"] == "image/png", element["name"]
    assert outcome.summary.scenarios.failed == 21

    failed_reports = [r for r in reporter.steps if r.status == "failed"]
    assert len(failed_reports) == 21
    browser_failures = [r for r in failed_reports if r.screenshot_key]
    assert len(browser_failures) == 17
    for report in browser_failures:
        assert (store.get_bytes(report.screenshot_key or "") or b"")[:4] == b"\x89PNG"

    errors = {r.text: r.error or "" for r in failed_reports}
    assert "killed at its time limit" in errors['I run "sleep 30" within 1 seconds']
    assert "Wrong title" in errors['the title should be "Wrong title"']

    junit = (store.get_bytes("runs/run-1/attempt-1/junit.xml") or b"").decode()
    assert junit.count("<testcase") == 21 and junit.count("<failure") == 21


def test_the_merged_trace_opens_in_playwrights_trace_viewer(
    chromium: Browser, pages_url: str, tmp_path: Path
) -> None:
    feature = """\
Feature: Traced
  Scenario: one
    Given I open "index.html"
    When I click "#reveal"

  Scenario: two
    Given I open "form.html"
    When I fill "#name" with "Zed"
"""
    job = make_job({"traced.feature": feature}, base_url=pages_url)
    outcome, _, store = run_here(job, tmp_path, browser=chromium, video=False)
    assert outcome.exit_code == EXIT_PASSED
    trace = store.local_path("runs/run-1/attempt-1/trace.zip")

    viewer = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "playwright",
            "show-trace",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            str(trace),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert viewer.stdout is not None
        url = None
        for _ in range(10):  # "Listening on http://127.0.0.1:PORT", after a blank line
            url = re.search(r"http://127\.0\.0\.1:\d+", viewer.stdout.readline())
            if url:
                break
        assert url, "the trace viewer did not say where it listens"
        context = chromium.new_context()
        page = context.new_page()
        page.goto(url.group(0) + "/")
        # Both scenarios' contexts are in the one file: each one's actions are listed.
        for action in ('Fill "Zed"', "Click", "index.html", "form.html"):
            expect(page.get_by_text(action).first).to_be_visible(timeout=30_000)
        context.close()
    finally:
        viewer.kill()
        viewer.wait()
