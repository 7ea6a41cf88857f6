"""The report page as HTML: content, counts, escaping, screenshots, strict templates.

No browser here; tests/integration/test_reports_pdf.py prints the same page with Chromium.
The sample builders are shared with that test.
"""

from __future__ import annotations

import base64
import re
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from jinja2 import DictLoader, Environment, StrictUndefined, UndefinedError

from reports.html import (
    format_duration,
    make_environment,
    render_footer,
    render_header,
    render_html,
    report_context,
)
from reports.tree import scenario_status, tree_from_cucumber
from schemas.models import Counts, RunRead, StepRead, Summary

T0 = datetime(2026, 11, 25, 9, 0, 0, tzinfo=UTC)


def tiny_png(width: int = 2, height: int = 2, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A valid PNG of one colour, built without an imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    row = b"\x00" + bytes(rgb) * width
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + b"\x08\x02\x00\x00\x00"
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def sample_run(**changes: Any) -> RunRead:
    fields: dict[str, Any] = {
        "id": "run-7f3a",
        "test_set_id": "checkout",
        "batch_id": "batch-1",
        "status": "failed",
        "desired": "run",
        "attempt": 2,
        "max_attempts": 3,
        "priority": 0,
        "parameters": {"base_url": "http://127.0.0.1:8080", "tags": "@smoke"},
        "created_at": T0,
        "started_at": T0 + timedelta(seconds=3),
        "finished_at": T0 + timedelta(seconds=95),
        "exit_code": 1,
        "summary": Summary(scenarios=Counts(passed=1, failed=1), steps=Counts(passed=5)),
    }
    fields.update(changes)
    return RunRead.model_validate(fields)


def _step(keyword: str, name: str, line: int, status: str, **extra: Any) -> dict[str, Any]:
    result: dict[str, Any] = {"status": status, "duration": 120_000_000}
    if "error" in extra:
        result["error_message"] = extra.pop("error")
    return {"keyword": keyword, "name": name, "line": line, "result": result, **extra}


def sample_cucumber(png: bytes | None = None) -> list[dict[str, Any]]:
    """Two features: one passing scenario; one failed scenario with a screenshot."""
    shot = base64.b64encode(png or tiny_png()).decode()
    return [
        {
            "uri": "features/login.feature",
            "id": "login",
            "line": 1,
            "keyword": "Feature",
            "name": "Login",
            "description": "",
            "elements": [
                {
                    "type": "background",
                    "keyword": "Background",
                    "name": "",
                    "description": "",
                    "line": 3,
                    "steps": [_step("Given ", 'I open "/"', 4, "passed")],
                },
                {
                    "type": "scenario",
                    "keyword": "Scenario",
                    "name": "Valid credentials",
                    "description": "",
                    "line": 6,
                    "tags": [{"name": "@smoke", "line": 5}],
                    "steps": [
                        _step("When ", 'I fill "#user" with "ada"', 7, "passed"),
                        _step("Then ", 'I should see "Welcome"', 8, "passed"),
                    ],
                },
            ],
        },
        {
            "uri": "features/cart.feature",
            "id": "cart",
            "line": 1,
            "keyword": "Feature",
            "name": "Cart",
            "description": "",
            "elements": [
                {
                    "type": "scenario",
                    "keyword": "Scenario",
                    "name": "Checkout total",
                    "description": "",
                    "line": 3,
                    "steps": [
                        _step("Given ", 'I open "/cart"', 4, "passed"),
                        _step(
                            "Then ",
                            'I should see "Total: 42.00"',
                            5,
                            "failed",
                            error='Expected page to contain "Total: 42.00"',
                            embeddings=[
                                {"mime_type": "image/png", "data": shot, "name": "failure"}
                            ],
                        ),
                        _step("And ", 'I click "#pay"', 6, "skipped"),
                        _step("And ", "the receipt is mailed", 7, "undefined"),
                    ],
                },
            ],
        },
    ]


def sample_steps() -> list[StepRead]:
    rows = [
        (1, 1, "Login", "Valid credentials", "Given", 'I open "/"', "passed", None),
        (1, 2, "Login", "Valid credentials", "Then", "old attempt", "failed", "stale"),
        (2, 1, "Login", "Valid credentials", "Given", 'I open "/"', "passed", None),
        (2, 2, "Login", "Valid credentials", "Then", 'I should see "Welcome"', "passed", None),
        (2, 3, "Cart", "Checkout total", "Given", 'I open "/cart"', "passed", None),
        (2, 4, "Cart", "Checkout total", "Then", 'I should see "42"', "failed", "no 42 here"),
    ]
    return [
        StepRead(
            attempt=a,
            seq=seq,
            feature=f,
            scenario=sc,
            line=seq + 2,
            keyword=kw,
            text=text,
            status=st,
            duration_ms=40,
            error=err,
        )
        for a, seq, f, sc, kw, text, st, err in rows
    ]


def _text(html: str) -> str:
    """The visible text, roughly: tags dropped, whitespace squeezed."""
    body = html.split("<body>", 1)[1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


# ----- content ----------------------------------------------------------------------------


def test_header_shows_test_set_status_attempt_timings_and_error() -> None:
    run = sample_run(error="Runner exited 1: 1 scenario failed")
    html = render_html(run, [], sample_cucumber(), test_set_name="Checkout flow")
    text = _text(html)
    assert "Checkout flow" in text
    assert "checkout · run run-7f3a" in text
    assert 'class="pill s-failed">Failed<' in html
    assert "2 of 3" in text
    assert "2026-11-25 09:00:03 UTC" in text and "2026-11-25 09:01:35 UTC" in text
    assert "1 min 32 s" in text
    assert "Runner exited 1: 1 scenario failed" in text
    assert "http://127.0.0.1:8080" in text and "@smoke" in text


def test_counts_come_from_the_tree() -> None:
    context = report_context(sample_run(), [], sample_cucumber())
    # Login/Valid credentials passed (with its background step); Cart/Checkout failed.
    assert (context["scenario_tally"].passed, context["scenario_tally"].failed) == (1, 1)
    steps = context["step_tally"]
    assert (steps.passed, steps.failed, steps.skipped, steps.undefined) == (4, 1, 1, 1)
    html = render_html(sample_run(), [], sample_cucumber())
    assert re.search(r"Scenarios</div>\s*<div class=\"card-total\">2<", html)
    assert re.search(r"Steps</div>\s*<div class=\"card-total\">7<", html)


def test_background_steps_belong_to_the_following_scenario() -> None:
    features = tree_from_cucumber(sample_cucumber())
    login = features[0].scenarios
    assert [s.name for s in login] == ["Valid credentials"]
    assert next((s.text, s.background) for s in login[0].steps) == ('I open "/"', True)
    assert login[0].tags == ["@smoke"]


def test_failed_scenario_lists_step_error_and_failure_summary() -> None:
    html = render_html(sample_run(), [], sample_cucumber())
    assert len(re.findall(r'<tr class="[^"]*\bfailed-step\b', html)) == 1
    text = _text(html)
    assert "Checkout total" in text
    assert "Expected page to contain &#34;Total: 42.00&#34;" in html
    failures = report_context(sample_run(), [], sample_cucumber())["failures"]
    assert [(f["scenario"], f["step"]) for f in failures] == [
        ("Checkout total", 'Then I should see "Total: 42.00"')
    ]


def test_without_cucumber_the_tree_comes_from_this_attempts_steps() -> None:
    context = report_context(sample_run(attempt=2), sample_steps(), None)
    features = context["features"]
    assert [f.name for f in features] == ["Login", "Cart"]
    assert [len(s.steps) for f in features for s in f.scenarios] == [2, 2]
    assert "old attempt" not in render_html(sample_run(attempt=2), sample_steps(), None)
    assert context["scenario_tally"].failed == 1
    assert context["source"] == "reported steps"


def test_with_nothing_reported_the_recorded_summary_is_shown() -> None:
    run = sample_run(status="error", error="browser could not launch")
    html = render_html(run, [], None)
    assert "No scenarios were reported for this attempt." in html
    assert report_context(run, [], None)["scenario_tally"].total == 2


def test_flaky_badge_only_when_flaky() -> None:
    assert ">Flaky<" not in render_html(sample_run(status="passed"), [], [])
    assert ">Flaky<" in render_html(sample_run(status="passed", flaky=True), [], [])


# ----- escaping ---------------------------------------------------------------------------


def test_script_in_a_step_name_is_escaped() -> None:
    cucumber = sample_cucumber()
    evil = "<script>alert('x')</script>"
    cucumber[1]["elements"][0]["steps"][0]["name"] = evil
    cucumber[1]["elements"][0]["name"] = '"><img src=x onerror=alert(1)>'
    html = render_html(sample_run(error="</pre><script>boom()</script>"), [], cucumber)
    assert "<script" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html


def test_header_and_footer_templates_escape_and_number_pages() -> None:
    header = render_header(sample_run(id="<b>r1</b>"))
    assert "&lt;b&gt;r1&lt;/b&gt;" in header and "<b>" not in header
    footer = render_footer()
    assert '<span class="pageNumber"></span>' in footer
    assert '<span class="totalPages"></span>' in footer


# ----- screenshots ------------------------------------------------------------------------


def test_failure_screenshot_is_embedded_as_a_data_uri() -> None:
    png = tiny_png()
    html = render_html(sample_run(), [], sample_cucumber(png))
    uris = re.findall(r'<img src="(data:image/png;base64,[A-Za-z0-9+/=]+)"', html)
    assert len(uris) == 1
    assert base64.b64decode(uris[0].split(",", 1)[1]) == png


def test_embeddings_that_are_not_images_or_not_base64_are_left_out() -> None:
    cucumber = sample_cucumber()
    step = cucumber[1]["elements"][0]["steps"][1]
    step["embeddings"] = [
        {"mime_type": "text/plain", "data": base64.b64encode(b"log").decode()},
        {"mime_type": "image/png", "data": 'AAAA" onload="alert(1)'},
    ]
    html = render_html(sample_run(), [], cucumber)
    assert "<img" not in html


def test_screenshots_attached_by_an_after_hook_are_shown_with_the_scenario() -> None:
    cucumber = sample_cucumber()
    data = base64.b64encode(tiny_png()).decode()
    cucumber[0]["elements"][1]["after"] = [
        {"result": {"status": "passed"}, "embeddings": [{"mime_type": "image/png", "data": data}]}
    ]
    features = tree_from_cucumber(cucumber)
    assert len(features[0].scenarios[0].screenshots) == 1
    # A passing hook is not listed as a step.
    assert all(s.keyword != "After" for s in features[0].scenarios[0].steps)


# ----- strict templates and small helpers -------------------------------------------------


def test_environment_is_strict_and_autoescaping() -> None:
    env = make_environment()
    assert env.undefined is StrictUndefined
    with pytest.raises(UndefinedError):
        env.get_template("report.html").render(run=sample_run())
    assert env.from_string("{{ x }}").render(x="<i>") == "&lt;i&gt;"


def test_a_template_naming_a_missing_variable_fails() -> None:
    env = make_environment()
    env.loader = DictLoader({"report.html": "{{ run.id }} {{ not_given }}"})
    with pytest.raises(UndefinedError, match="not_given"):
        render_html(sample_run(), [], [], env=env)
    # The same template with the variable defined renders: the error is about the name.
    assert (
        Environment(loader=env.loader)
        .get_template("report.html")
        .render(run=sample_run())
        .startswith("run-7f3a")
    )


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["passed", "passed"], "passed"),
        (["passed", "failed", "skipped"], "failed"),
        (["passed", "undefined", "skipped"], "undefined"),
        (["skipped", "skipped"], "skipped"),
        (["passed", "skipped"], "skipped"),
        ([], "passed"),
    ],
)
def test_scenario_status_is_its_worst_step(statuses: list[str], expected: str) -> None:
    assert scenario_status(statuses) == expected


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (None, "—"),
        (850, "850 ms"),
        (4200, "4.2 s"),
        (185_000, "3 min 05 s"),
        (3_720_000, "1 h 02 min"),
    ],
)
def test_durations_read_naturally(ms: float | None, text: str) -> None:
    assert format_duration(ms) == text


def test_a_failed_hook_is_shown_as_a_step_with_its_error() -> None:
    cucumber = sample_cucumber()
    cucumber[0]["elements"][1]["after"] = [
        {"result": {"status": "failed", "error_message": "video upload failed"}}
    ]
    scenario = tree_from_cucumber(cucumber)[0].scenarios[0]
    assert (scenario.steps[-1].keyword, scenario.steps[-1].error) == (
        "After",
        "video upload failed",
    )
    assert scenario.status == "failed"
    assert "video upload failed" in render_html(sample_run(), [], cucumber)
