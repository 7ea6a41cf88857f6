"""The report's content as plain data: features → scenarios → steps, with counts.

A report can be built from two sources that describe the same attempt: the runner's
``cucumber.json`` (complete, with embedded screenshots, present once the attempt has
finished) or the step rows the runner reported live (present even when the attempt died
before uploading anything). Both are turned here into one tree, so the template knows
nothing about either format. Everything in this module is pure: no I/O, no Jinja2.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from schemas.models import Counts, StepRead

# Statuses as Cucumber names them; anything else is shown as it is and counted as failed.
STEP_STATUSES = ("passed", "failed", "skipped", "undefined", "pending", "ambiguous")
IMAGE_TYPES = ("image/png", "image/jpeg")
MAX_TEXT = 8_000
"""Characters of an error message or step output kept in the report (stack traces can be huge)."""


@dataclass(frozen=True)
class Screenshot:
    name: str
    data_uri: str


@dataclass
class Step:
    keyword: str
    text: str
    status: str
    line: int | None = None
    duration_ms: float | None = None
    error: str | None = None
    output: str | None = None
    argument: str | None = None
    """A doc string or data table, rendered as preformatted text."""
    screenshot_key: str | None = None
    screenshots: list[Screenshot] = field(default_factory=list)
    background: bool = False


@dataclass
class Scenario:
    name: str
    keyword: str = "Scenario"
    line: int | None = None
    tags: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    screenshots: list[Screenshot] = field(default_factory=list)
    """Images attached by hooks rather than by a step."""

    @property
    def status(self) -> str:
        return scenario_status(step.status for step in self.steps)

    @property
    def duration_ms(self) -> float:
        return sum(step.duration_ms or 0 for step in self.steps)


@dataclass
class Feature:
    name: str
    uri: str = ""
    scenarios: list[Scenario] = field(default_factory=list)

    @property
    def status(self) -> str:
        return scenario_status(scenario.status for scenario in self.scenarios)


@dataclass(frozen=True)
class Tally:
    """Counts by status, keeping the order statuses are shown in."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0
    undefined: int = 0
    other: int = 0

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.skipped + self.undefined + self.other

    @classmethod
    def of(cls, statuses: Iterable[str]) -> Tally:
        counts = dict.fromkeys(("passed", "failed", "skipped", "undefined", "other"), 0)
        for status in statuses:
            key = {"pending": "undefined", "ambiguous": "failed"}.get(status, status)
            counts[key if key in counts else "other"] += 1
        return cls(**counts)

    @classmethod
    def from_counts(cls, counts: Counts) -> Tally:
        return cls(counts.passed, counts.failed, counts.skipped, counts.undefined)


def scenario_status(step_statuses: Iterable[str]) -> str:
    """Cucumber's rule: the worst step decides; a scenario with no steps passed."""
    seen = set(step_statuses)
    for status in ("failed", "ambiguous", "undefined", "pending"):
        if status in seen:
            return status
    unknown = seen - set(STEP_STATUSES)
    if unknown:
        return sorted(unknown)[0]
    return "skipped" if "skipped" in seen else "passed"


def clip(text: str | None, limit: int = MAX_TEXT) -> str | None:
    if not text:
        return None
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n… ({len(text) - limit} more characters in the full report)"


# ----- from the live step rows --------------------------------------------------------------


def tree_from_steps(steps: Iterable[StepRead], attempt: int) -> list[Feature]:
    """Group reported steps by feature and scenario, in the order the runner ran them.

    Only the given attempt is shown (a retried run keeps the rows of earlier attempts). A
    scenario is identified by its feature and name; two scenarios with the same name in one
    feature (an outline's examples) merge, which is all the step rows allow.
    """
    features: dict[str, Feature] = {}
    scenarios: dict[tuple[str, str], Scenario] = {}
    for row in sorted((s for s in steps if s.attempt == attempt), key=lambda s: s.seq):
        feature = features.get(row.feature)
        if feature is None:
            feature = features[row.feature] = Feature(name=row.feature)
        scenario = scenarios.get((row.feature, row.scenario))
        if scenario is None:
            scenario = scenarios[(row.feature, row.scenario)] = Scenario(name=row.scenario)
            feature.scenarios.append(scenario)
        scenario.steps.append(
            Step(
                keyword=row.keyword.strip(),
                text=row.text,
                status=row.status,
                line=row.line,
                duration_ms=row.duration_ms,
                error=clip(row.error),
                screenshot_key=row.screenshot_key,
            )
        )
    return list(features.values())


# ----- from cucumber.json -------------------------------------------------------------------


def tree_from_cucumber(report: Iterable[Mapping[str, Any]]) -> list[Feature]:
    """Read a cucumber.json (the cucumber-jvm shape the runner writes).

    Background elements precede each scenario they belong to; their steps are shown at the
    top of that scenario, as Cucumber's own HTML report does, and are not scenarios of
    their own. Failed hooks appear as steps, since their error is why the scenario failed.
    """
    features = []
    for raw_feature in report:
        feature = Feature(
            name=str(raw_feature.get("name") or raw_feature.get("uri") or "(unnamed feature)"),
            uri=str(raw_feature.get("uri") or ""),
        )
        background: list[Step] = []
        for element in raw_feature.get("elements") or []:
            if element.get("type") == "background":
                background.extend(_steps_of(element, background=True))
                continue
            scenario = Scenario(
                name=str(element.get("name") or ""),
                keyword=str(element.get("keyword") or "Scenario").strip(),
                line=_int(element.get("line")),
                tags=[str(tag.get("name", "")) for tag in element.get("tags") or []],
            )
            scenario.steps = [*background, *_steps_of(element)]
            background = []
            for hook in [*(element.get("before") or []), *(element.get("after") or [])]:
                scenario.screenshots.extend(_screenshots(hook.get("embeddings")))
            feature.scenarios.append(scenario)
        features.append(feature)
    return features


def _steps_of(element: Mapping[str, Any], *, background: bool = False) -> list[Step]:
    steps = [_hook_step("Before", hook) for hook in element.get("before") or []]
    for raw in element.get("steps") or []:
        result = raw.get("result") or {}
        steps.append(
            Step(
                keyword=str(raw.get("keyword") or "").strip(),
                text=str(raw.get("name") or ""),
                status=str(result.get("status") or "undefined"),
                line=_int(raw.get("line")),
                duration_ms=_ns_to_ms(result.get("duration")),
                error=clip(result.get("error_message")),
                output=clip("\n".join(str(line) for line in raw.get("output") or [])),
                argument=_argument(raw),
                screenshots=_screenshots(raw.get("embeddings")),
                background=background,
            )
        )
    steps.extend(_hook_step("After", hook) for hook in element.get("after") or [])
    # Passing hooks are noise in a report; only a failed one explains something.
    return [step for step in steps if step.keyword not in ("Before", "After") or step.error]


def _hook_step(kind: str, hook: Mapping[str, Any]) -> Step:
    result = hook.get("result") or {}
    failed = result.get("status") == "failed"
    return Step(
        keyword=kind,
        text="hook",
        status=str(result.get("status") or "passed"),
        duration_ms=_ns_to_ms(result.get("duration")),
        error=clip(result.get("error_message") or ("hook failed" if failed else None)),
    )


def _argument(raw: Mapping[str, Any]) -> str | None:
    doc = raw.get("doc_string")
    if isinstance(doc, Mapping) and doc.get("value") is not None:
        return clip(str(doc["value"]))
    rows = raw.get("rows")
    if isinstance(rows, list) and rows:
        cells = [[str(c) for c in row.get("cells", [])] for row in rows if isinstance(row, Mapping)]
        widths = [max(len(r[i]) for r in cells if i < len(r)) for i in range(max(map(len, cells)))]
        return clip(
            "\n".join(
                "| " + " | ".join(c.ljust(widths[i]) for i, c in enumerate(r)) + " |" for r in cells
            )
        )
    return None


def _screenshots(embeddings: object) -> list[Screenshot]:
    """Images embedded as base64; anything that does not decode is left out.

    The data is decoded and encoded again rather than pasted into the ``src`` attribute,
    so the URI holds nothing but base64 whatever the file contained.
    """
    shots: list[Screenshot] = []
    if not isinstance(embeddings, list):
        return shots
    for embedding in embeddings:
        if not isinstance(embedding, Mapping) or embedding.get("mime_type") not in IMAGE_TYPES:
            continue
        try:
            raw = base64.b64decode(str(embedding.get("data") or ""), validate=True)
        except (binascii.Error, ValueError):
            continue
        if not raw:
            continue
        encoded = base64.b64encode(raw).decode("ascii")
        name = str(embedding.get("name") or "screenshot")
        shots.append(
            Screenshot(name=name, data_uri=f"data:{embedding['mime_type']};base64,{encoded}")
        )
    return shots


def _ns_to_ms(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value / 1_000_000
    return None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
