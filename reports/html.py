"""A run's report as one self-contained HTML page (no browser needed).

The page is what ``reports.pdf`` prints, and is useful by itself (tests, a future HTML
endpoint). Every string in it comes from test authors or from the system under test, so
the environment escapes everything (autoescape) and refuses to render a template that
names a variable it was not given (``StrictUndefined``): a typo in the template fails the
unit tests instead of printing an empty cell. Images are inlined as data URIs so the page
loads nothing from anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from reports.tree import Feature, Tally, tree_from_cucumber, tree_from_steps
from schemas.models import RunRead, StepRead
from schemas.states import RunStatus

STATUS_LABELS: dict[str, str] = {
    RunStatus.PENDING: "Pending",
    RunStatus.LAUNCHING: "Launching",
    RunStatus.RUNNING: "Running",
    RunStatus.PASSED: "Passed",
    RunStatus.FAILED: "Failed",
    RunStatus.ERROR: "Error",
    RunStatus.TIMED_OUT: "Timed out",
    RunStatus.CANCELLED: "Cancelled",
}


def make_environment() -> Environment:
    """The Jinja2 environment of the report templates (package data in reports/templates)."""
    env = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["duration"] = format_duration
    env.filters["timestamp"] = format_timestamp
    return env


def render_html(
    run: RunRead,
    steps: list[StepRead],
    cucumber: list[dict[str, Any]] | None,
    *,
    test_set_name: str | None = None,
    now: datetime | None = None,
    env: Environment | None = None,
) -> str:
    """The report page. ``cucumber`` wins over ``steps`` when both are given.

    ``test_set_name`` is shown next to the id when the caller knows it (RunRead carries
    only the id); ``now`` is the "generated at" time, a parameter so tests can fix it.
    """
    return (
        (env or make_environment())
        .get_template("report.html")
        .render(report_context(run, steps, cucumber, test_set_name=test_set_name, now=now))
    )


def render_header(run: RunRead, *, env: Environment | None = None) -> str:
    """Playwright's headerTemplate: the run id on every printed page."""
    return (env or make_environment()).get_template("header.html").render(run=run)


def render_footer(*, env: Environment | None = None) -> str:
    """Playwright's footerTemplate: page numbers (Chromium fills the pageNumber spans)."""
    return (env or make_environment()).get_template("footer.html").render()


def report_context(
    run: RunRead,
    steps: list[StepRead],
    cucumber: list[dict[str, Any]] | None,
    *,
    test_set_name: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Everything the template reads, computed here so the template only lays it out."""
    if cucumber is not None:
        features, source = tree_from_cucumber(cucumber), "cucumber.json"
    else:
        features, source = tree_from_steps(steps, run.attempt), "reported steps"
    scenarios = [scenario for feature in features for scenario in feature.scenarios]
    if scenarios:
        scenario_tally = Tally.of(scenario.status for scenario in scenarios)
        step_tally = Tally.of(step.status for s in scenarios for step in s.steps)
    else:
        # Nothing to itemise (the attempt died early): the summary the run recorded is all
        # there is.
        scenario_tally = Tally.from_counts(run.summary.scenarios)
        step_tally = Tally.from_counts(run.summary.steps)
    return {
        "run": run,
        "status_label": STATUS_LABELS.get(run.status, str(run.status)),
        "test_set_name": test_set_name or run.test_set_id,
        "duration_ms": _elapsed_ms(run.started_at, run.finished_at),
        "features": features,
        "failures": _failures(features),
        "scenario_tally": scenario_tally,
        "step_tally": step_tally,
        "source": source,
        "generated_at": now or datetime.now(UTC),
    }


def _failures(features: list[Feature]) -> list[Mapping[str, str]]:
    """One line per failed scenario for the summary: where it failed and why."""
    found: list[Mapping[str, str]] = []
    for feature in features:
        for scenario in feature.scenarios:
            step = next((s for s in scenario.steps if s.error), None)
            if scenario.status in ("failed", "ambiguous") or step is not None:
                first_line = (step.error or "").strip().splitlines()[:1] if step else []
                found.append(
                    {
                        "feature": feature.name,
                        "scenario": scenario.name,
                        "step": f"{step.keyword} {step.text}" if step else "",
                        "message": first_line[0] if first_line else "",
                    }
                )
    return found


def _elapsed_ms(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds() * 1000


def format_duration(ms: float | None) -> str:
    """Durations the way people read them: 850 ms, 4.2 s, 3 min 05 s, 1 h 02 min."""
    if ms is None:
        return "—"
    if ms < 1000:
        return f"{ms:.0f} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def format_timestamp(value: datetime | None) -> str:
    if value is None:
        return "—"
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")
