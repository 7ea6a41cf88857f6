"""``cucumber.json`` in the cucumber-jvm shape (schema in tests/fixtures/cucumber-json-schema).

One feature object per parsed feature, one ``scenario`` element per executed pickle, with
the Background's steps inlined as Cucumber's JavaScript formatter does (a pickle already
carries them). Durations are nanoseconds. Failure screenshots are embedded as base64
``image/png``; what steps logged (command output) is in ``output``.
"""

from __future__ import annotations

import re
from typing import Any

from runner.features import Feature
from runner.results import HookResult, ScenarioResult, StepResult


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _result(status: str, duration_ns: int, error: str | None) -> dict[str, Any]:
    result: dict[str, Any] = {"status": status, "duration": duration_ns}
    if error:
        result["error_message"] = error
    return result


def _step(result: StepResult) -> dict[str, Any]:
    step = result.step
    out: dict[str, Any] = {
        "keyword": step.keyword,
        "line": step.line,
        "name": step.text,
        "result": _result(result.status, result.duration_ns, result.error),
    }
    match: dict[str, Any] = {}
    if result.location:
        match["location"] = result.location
        match["arguments"] = [{"val": a.text, "offset": a.offset} for a in result.arguments]
    out["match"] = match
    if step.doc_string is not None:
        doc: dict[str, Any] = {"line": step.doc_string.line, "value": step.doc_string.content}
        if step.doc_string.media_type:
            doc["content_type"] = step.doc_string.media_type
        out["doc_string"] = doc
    if step.data_table is not None:
        out["rows"] = [{"cells": list(row)} for row in step.data_table.rows]
    if result.record.embeddings:
        out["embeddings"] = [
            {"mime_type": e.mime_type, "data": e.data, **({"name": e.name} if e.name else {})}
            for e in result.record.embeddings
        ]
    if result.record.output:
        out["output"] = list(result.record.output)
    return out


def _hook(hook: HookResult) -> dict[str, Any]:
    return {
        "match": {"location": hook.location},
        "result": _result(hook.status, hook.duration_ns, hook.error),
    }


def _element(result: ScenarioResult) -> dict[str, Any]:
    scenario = result.scenario
    element_id = f"{_slug(scenario.feature.name or scenario.feature.path)};{_slug(scenario.name)}"
    if scenario.outline_row is not None:
        element_id += f";;{scenario.outline_row}"
    element: dict[str, Any] = {
        "id": element_id,
        "keyword": scenario.keyword,
        "type": "scenario",
        "name": scenario.name,
        "description": scenario.description,
        "line": scenario.line,
        "tags": [{"name": tag} for tag in scenario.tags],
        "steps": [_step(step) for step in result.steps],
    }
    if result.started_at is not None:
        element["start_timestamp"] = result.started_at.isoformat().replace("+00:00", "Z")
    if result.before:
        element["before"] = [_hook(h) for h in result.before]
    if result.after:
        element["after"] = [_hook(h) for h in result.after]
    return element


def _feature(feature: Feature, results: list[ScenarioResult]) -> dict[str, Any]:
    return {
        "uri": feature.path,
        "id": _slug(feature.name or feature.path),
        "keyword": feature.keyword,
        "name": feature.name,
        "description": feature.description,
        "line": feature.line,
        "tags": [
            {"name": name, "type": "Tag", "location": {"line": line, "column": column}}
            for name, line, column in feature.tags
        ],
        "elements": [_element(r) for r in results],
    }


def cucumber_json(features: list[Feature], results: list[ScenarioResult]) -> list[dict[str, Any]]:
    by_path: dict[str, list[ScenarioResult]] = {}
    for result in results:
        by_path.setdefault(result.scenario.feature.path, []).append(result)
    return [_feature(feature, by_path.get(feature.path, [])) for feature in features]
