"""Reading an attempt's uploaded ``cucumber.json`` into the counts a verdict needs.

The controller records a verdict from the task's exit together with this report, so a run
is finished correctly even when the runner's live step reports (or the task's exit code,
for a task ECS forgot) were lost. Parsing is pure; fetching the file is the service's job.
"""

from __future__ import annotations

import json
from typing import Any

from schemas.models import Counts, Summary

_STEP_STATUSES = ("passed", "failed", "skipped", "undefined")


def _scenario_status(steps: list[dict[str, Any]]) -> str:
    statuses = [str((step.get("result") or {}).get("status", "skipped")) for step in steps]
    if any(s == "failed" for s in statuses):
        return "failed"
    if any(s in ("undefined", "pending", "ambiguous") for s in statuses):
        return "undefined"
    if statuses and all(s == "passed" for s in statuses):
        return "passed"
    return "skipped"


def summarize_cucumber(data: bytes) -> Summary | None:
    """Scenario and step counts of a cucumber.json document; None if it is not one."""
    try:
        features = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(features, list):
        return None
    scenarios = Counts()
    steps = Counts()
    for feature in features:
        if not isinstance(feature, dict):
            return None
        for element in feature.get("elements") or []:
            if not isinstance(element, dict) or element.get("type") == "background":
                continue
            element_steps = [s for s in element.get("steps") or [] if isinstance(s, dict)]
            status = _scenario_status(element_steps)
            setattr(scenarios, status, getattr(scenarios, status) + 1)
            for step in element_steps:
                step_status = str((step.get("result") or {}).get("status", "skipped"))
                if step_status not in _STEP_STATUSES:
                    step_status = (
                        "undefined" if step_status in ("pending", "ambiguous") else ("skipped")
                    )
                setattr(steps, step_status, getattr(steps, step_status) + 1)
    return Summary(scenarios=scenarios, steps=steps)


def report_verdict(summary: Summary) -> int | None:
    """The exit code the report implies (0 passed, 1 failed), or None if it shows nothing."""
    counts = summary.scenarios
    if counts.failed or counts.undefined:
        return 1
    if counts.passed:
        return 0
    return None
