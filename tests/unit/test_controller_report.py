"""Reading an uploaded cucumber.json into counts and an implied verdict."""

from __future__ import annotations

import json

import pytest

from controller.report import report_verdict, summarize_cucumber


def doc(*scenarios: list[str], background: bool = True) -> bytes:
    elements = []
    if background:
        elements.append({"type": "background", "steps": [{"result": {"status": "passed"}}]})
    for statuses in scenarios:
        elements.append(
            {"type": "scenario", "steps": [{"result": {"status": s}} for s in statuses]}
        )
    return json.dumps([{"name": "f", "elements": elements}]).encode()


def test_counts_scenarios_and_steps_without_backgrounds() -> None:
    summary = summarize_cucumber(
        doc(["passed", "passed"], ["passed", "failed", "skipped"], ["undefined", "skipped"])
    )
    assert summary is not None
    assert summary.scenarios.model_dump() == {
        "passed": 1,
        "failed": 1,
        "skipped": 0,
        "undefined": 1,
    }
    assert summary.steps.model_dump() == {"passed": 3, "failed": 1, "skipped": 2, "undefined": 1}


@pytest.mark.parametrize(
    ("scenarios", "verdict"),
    [
        ([["passed"]], 0),
        ([["passed"], ["failed"]], 1),
        ([["passed"], ["pending"]], 1),  # undefined/pending steps are not a pass
        ([["skipped"]], None),
        ([], None),
    ],
)
def test_implied_verdict(scenarios: list[list[str]], verdict: int | None) -> None:
    summary = summarize_cucumber(doc(*scenarios))
    assert summary is not None and report_verdict(summary) == verdict


@pytest.mark.parametrize("data", [b"not json", b"{}", b'["x"]', b"\xff\xfe"])
def test_anything_else_is_no_report(data: bytes) -> None:
    assert summarize_cucumber(data) is None
