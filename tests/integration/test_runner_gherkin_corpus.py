"""Conformance over the official Gherkin corpus (tests/fixtures/gherkin-testdata, MIT).

What the fakes can't show: that the runner executes *all* of Gherkin as the reference
implementation compiles it. Every good feature must run exactly the scenarios and step
texts (with their Doc Strings and Data Tables) its ``.pickles.ndjson`` lists, in order, as
``cucumber.json`` reports them — undefined, since nothing defines those steps. Every bad
feature must end the run as an error naming the file, the line and the parser's message.
No step touches a page, so no browser is launched at all.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from runner.execute import EXIT_ERROR, EXIT_FAILED, EXIT_PASSED
from runner.library import build_library
from tests.runner_fixtures import FIXTURES, make_job, run_here

CORPUS = FIXTURES / "gherkin-testdata"
GOOD = sorted(
    p for p in (CORPUS / "good").glob("*.feature") if Path(f"{p}.pickles.ndjson").exists()
)
BAD = sorted((CORPUS / "bad").glob("*.feature"))
LIBRARY = build_library([])


def _ndjson(path: Path, key: str) -> list[dict[str, Any]]:
    return [
        json.loads(line)[key]
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and key in json.loads(line)
    ]


def _expected_step(step: dict[str, Any]) -> dict[str, Any]:
    argument = step.get("argument", {})
    expected: dict[str, Any] = {"name": step["text"]}
    if "docString" in argument:
        expected["doc"] = argument["docString"]["content"]
    if "dataTable" in argument:
        expected["rows"] = [
            [c["value"] for c in row["cells"]] for row in argument["dataTable"]["rows"]
        ]
    return expected


def _reported_step(step: dict[str, Any]) -> dict[str, Any]:
    reported: dict[str, Any] = {"name": step["name"]}
    if "doc_string" in step:
        reported["doc"] = step["doc_string"]["value"]
    if "rows" in step:
        reported["rows"] = [row["cells"] for row in step["rows"]]
    return reported


def test_the_corpus_is_there() -> None:
    assert len(GOOD) >= 45 and len(BAD) >= 10


@pytest.mark.parametrize("feature", GOOD, ids=lambda p: p.name)
def test_good_feature_runs_exactly_its_pickles(
    feature: Path, tmp_path: Path, cucumber_schema: dict[str, Any]
) -> None:
    pickles = _ndjson(Path(f"{feature}.pickles.ndjson"), "pickle")
    job = make_job({feature.name: feature.read_text(encoding="utf-8")})
    outcome, reporter, _ = run_here(job, tmp_path, library=LIBRARY)

    assert outcome.error is None
    jsonschema.validate(outcome.cucumber, cucumber_schema)
    elements = [e for f in outcome.cucumber for e in f["elements"]]
    assert [(e["name"], e["line"], [t["name"] for t in e["tags"]]) for e in elements] == [
        (p["name"], p["location"]["line"], [t["name"] for t in p["tags"]]) for p in pickles
    ]
    assert [[_reported_step(s) for s in e["steps"]] for e in elements] == [
        [_expected_step(s) for s in p["steps"]] for p in pickles
    ]
    statuses = {s["result"]["status"] for e in elements for s in e["steps"]}
    assert statuses <= {"undefined"}
    has_steps = any(p["steps"] for p in pickles)
    assert outcome.exit_code == (EXIT_FAILED if has_steps else EXIT_PASSED)
    # Every step was reported live too, in the same order.
    assert [r.text for r in reporter.steps] == [s["text"] for p in pickles for s in p["steps"]]


@pytest.mark.parametrize("feature", BAD, ids=lambda p: p.name)
def test_bad_feature_is_a_run_error_with_file_line_and_message(
    feature: Path, tmp_path: Path
) -> None:
    errors = _ndjson(Path(f"{feature}.errors.ndjson"), "parseError")
    job = make_job({f"suite/{feature.name}": feature.read_text(encoding="utf-8")})
    outcome, reporter, store = run_here(job, tmp_path, library=LIBRARY)

    assert outcome.exit_code == EXIT_ERROR
    assert outcome.error is not None
    assert reporter.results[0].exit_code == EXIT_ERROR
    assert reporter.results[0].error == outcome.error
    for error in errors:
        line = error["source"]["location"]["line"]
        # The runner names the file and line; the message is the parser's own.
        assert f"suite/{feature.name}:{line}: {error['message']}" in outcome.error
    log = (store.get_bytes("runs/run-1/attempt-1/runner.log") or b"").decode()
    assert f"suite/{feature.name}:" in log
