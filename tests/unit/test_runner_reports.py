"""Pure report building: pickles from the parser, cucumber.json, junit.xml, trace merging."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import jsonschema

from artifacts.store import LocalStore, StoredObject
from runner.context import StepRecord, resolve_url
from runner.cucumber import cucumber_json
from runner.features import load
from runner.junit import junit_xml
from runner.publish import artifact_reports, upload_folder
from runner.results import (
    FAILED,
    PASSED,
    SKIPPED,
    UNDEFINED,
    ScenarioResult,
    StepResult,
    exit_code_for,
    summarize,
)
from runner.trace import merge_traces
from schemas.models import FeatureFile
from tests.runner_fixtures import SCHEMA

FEATURE = """\
@f
Feature: Cart
  Scenario: one
    Given a
    When b
  Scenario Outline: two <x>
    Given <x>
    Examples:
      | x |
      | c |
      | d |
"""


def _results() -> tuple[list, list[ScenarioResult]]:  # type: ignore[type-arg]
    loaded = load([FeatureFile(path="cart.feature", content=FEATURE)])
    one, two_c, two_d = loaded.scenarios
    results = [
        ScenarioResult(
            one,
            steps=[
                StepResult(one.steps[0], PASSED, 1_000_000),
                StepResult(
                    one.steps[1],
                    FAILED,
                    2_000_000,
                    error="boom\nmore",
                    record=StepRecord(output=["out"]),
                ),
            ],
        ),
        ScenarioResult(two_c, steps=[StepResult(two_c.steps[0], UNDEFINED)]),
        ScenarioResult(two_d, steps=[StepResult(two_d.steps[0], SKIPPED)]),
    ]
    return loaded.features, results


def test_outline_rows_become_scenarios_with_lines_and_ids() -> None:
    features, results = _results()
    report = cucumber_json(features, results)
    jsonschema.validate(report, json.loads(SCHEMA.read_text()))
    elements = report[0]["elements"]
    assert [(e["name"], e["line"]) for e in elements] == [("one", 3), ("two c", 10), ("two d", 11)]
    assert [e["id"] for e in elements] == ["cart;one", "cart;two-c;;1", "cart;two-d;;2"]
    assert elements[0]["steps"][1]["result"] == {
        "status": "failed",
        "duration": 2_000_000,
        "error_message": "boom\nmore",
    }
    assert elements[0]["steps"][1]["output"] == ["out"]
    assert report[0]["tags"] == [
        {"name": "@f", "type": "Tag", "location": {"line": 1, "column": 1}}
    ]


def test_summary_and_junit() -> None:
    _, results = _results()
    summary = summarize(results)
    assert summary.scenarios.model_dump() == {
        "passed": 0,
        "failed": 1,
        "skipped": 1,
        "undefined": 1,
    }
    assert summary.steps.model_dump() == {"passed": 1, "failed": 1, "skipped": 1, "undefined": 1}
    root = ET.fromstring(junit_xml(results))
    cases = root.findall("./testsuite/testcase")
    assert [c.get("name") for c in cases] == ["one", "two c", "two d"]
    failure = cases[0].find("failure")
    assert failure is not None and failure.get("message") == "When b: boom"
    assert cases[1].find("failure") is not None  # undefined does not pass
    assert cases[2].find("skipped") is not None
    assert root.get("tests") == "3" and root.get("failures") == "2" and root.get("skipped") == "1"


def test_parse_failures_are_collected_not_raised() -> None:
    loaded = load(
        [
            FeatureFile(path="ok.feature", content=FEATURE),
            FeatureFile(
                path="bad.feature", content="Feature: x\n  Scenario: y\n    Given z\n  oops\n"
            ),
        ]
    )
    assert len(loaded.scenarios) == 3
    assert [(f.path, f.line) for f in loaded.failures] == [("bad.feature", 4)]
    assert "expected:" in loaded.failures[0].message


def test_paths_resolve_under_the_base_url() -> None:
    assert resolve_url("http://h/app/", "/login") == "http://h/app/login"
    assert resolve_url("http://h/app", "login") == "http://h/app/login"
    assert resolve_url("http://h/app", "https://other/x") == "https://other/x"
    assert resolve_url("", "about:blank") == "about:blank"


def test_traces_merge_into_one_zip_per_attempt(tmp_path: Path) -> None:
    parts = []
    for index in (1, 2):
        part = tmp_path / f"t{index}.zip"
        with zipfile.ZipFile(part, "w") as z:
            z.writestr("trace.trace", f"trace {index}")
            z.writestr("trace.network", "")
            z.writestr("resources/abc.html", "shared")
        parts.append(part)
    assert merge_traces([*parts, tmp_path / "missing.zip"], tmp_path / "trace.zip")
    with zipfile.ZipFile(tmp_path / "trace.zip") as merged:
        assert sorted(merged.namelist()) == [
            "001-trace.network",
            "001-trace.trace",
            "002-trace.network",
            "002-trace.trace",
            "resources/abc.html",
        ]
        assert merged.read("002-trace.trace") == b"trace 2"
    assert not merge_traces([], tmp_path / "none.zip")


def test_exit_codes() -> None:
    _, results = _results()
    passed = [
        ScenarioResult(
            results[0].scenario, steps=[StepResult(results[0].scenario.steps[0], PASSED)]
        )
    ]
    assert exit_code_for(error=None, stopped=False, results=passed) == 0
    assert exit_code_for(error=None, stopped=False, results=[]) == 0
    assert exit_code_for(error=None, stopped=False, results=results) == 1
    assert exit_code_for(error=None, stopped=True, results=results) == 3
    assert exit_code_for(error="parse", stopped=True, results=results) == 2


class FlakyStore(LocalStore):
    """A local store whose first uploads of each key fail, as a flaky network would."""

    def __init__(self, root: Path, failures: int) -> None:
        super().__init__(root)
        self.failures = failures
        self.tries: dict[str, int] = {}

    def put_file(self, key: str, path: Path, content_type: str | None = None) -> StoredObject:
        self.tries[key] = self.tries.get(key, 0) + 1
        if self.tries[key] <= self.failures:
            raise ConnectionError("network down")
        return super().put_file(key, path, content_type)


def test_uploads_are_retried_with_backoff_and_runner_log_goes_last(tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "screenshots").mkdir(parents=True)
    (work / ".scratch").mkdir()
    (work / "cucumber.json").write_text("[]")
    (work / "screenshots" / "001-x.png").write_bytes(b"png")
    (work / ".scratch" / "video.tmp").write_bytes(b"scratch")
    (work / "runner.log").write_text("log\n")
    store = FlakyStore(tmp_path / "store", failures=2)
    sleeps: list[float] = []
    lines: list[str] = []
    stored = upload_folder(work, store, "runs/r/attempt-1/", log=lines.append, sleep=sleeps.append)
    assert [s.key for s in stored] == [
        "runs/r/attempt-1/cucumber.json",
        "runs/r/attempt-1/screenshots/001-x.png",
        "runs/r/attempt-1/runner.log",
    ]
    assert sleeps == [0.5, 1.0] * 3  # two failures per file, doubling
    assert [r.kind for r in artifact_reports(1, stored)] == ["cucumber_json", "screenshot", "log"]

    broken = FlakyStore(tmp_path / "broken", failures=99)
    assert (
        upload_folder(work, broken, "p/", log=lines.append, sleep=lambda _: None, attempts=3) == []
    )
    assert any("attempt 3 of 3" in line for line in lines)
    # After the first file failed every attempt, the others were tried once each.
    assert broken.tries == {"p/cucumber.json": 3, "p/screenshots/001-x.png": 1, "p/runner.log": 1}


def test_junit_survives_colour_codes_and_control_characters() -> None:
    _, results = _results()
    results[0].steps[1].error = "\x1b[31mred\x1b[0m output\x00 with a NUL"
    root = ET.fromstring(junit_xml(results))
    failure = root.find("./testsuite/testcase/failure")
    assert failure is not None and failure.text is not None
    assert "red output\ufffd with a NUL" in failure.text
