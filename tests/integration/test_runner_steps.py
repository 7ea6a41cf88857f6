"""Project step modules, hooks, tag selection and every part of Gherkin, run for real.

What the fakes can't show: step modules imported from a folder on the steps path, their
decorators, parameter types and hooks working through the real executor, the official
parser's Rule/Background/Outline/i18n handling, and the reports that come out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
from playwright.sync_api import Browser

from runner.execute import EXIT_ERROR, EXIT_FAILED, EXIT_PASSED
from tests.runner_fixtures import FIXTURES, make_job, run_here

STEPS = [str(FIXTURES / "steps")]
STEP_MODULE = FIXTURES / "steps" / "shop_steps.py"


def _at(function: str) -> str:
    """``shop_steps.py:N``, N being the line of the decorator of ``function``."""
    lines = STEP_MODULE.read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text.startswith(f"def {function}("))
    while lines[line - 2].startswith("@"):
        line -= 1
    return f"shop_steps.py:{line}"


EVERYTHING = '''\
# A comment before the feature
@shop
Feature: Everything Gherkin has
  A description of the feature.

  Background:
    Given the basket is empty

  Rule: Adding items
    Background:
      Given I add 2 red items

    Scenario: the rule's background runs after the feature's
      Then the basket has 2 items

    @outline
    Scenario Outline: add <n> <colour> items
      When I add <n> <colour> items
      Then the basket has <total> items

      @small
      Examples: small
        | n | colour | total |
        | 1 | blue   | 3     |
        | 2 | green  | 4     |

      @large
      Examples: large
        | n  | colour | total |
        | 10 | green  | 12    |

  Scenario: tables, doc strings, floats and words
    Given the following prices:
      | item  | price |
      | apple | 1.5   |
      | pear  | 0.25  |
    Then the price of "pear" is 0.25
    # a comment between steps
    When I write the note:
      """markdown
      # Hello
      """
    Then the note starts with "# Hello"
    And I am user ada_lovelace
    Given there are 5 pears in the "green" box
    Then the box "green" holds 5 pears
'''

HOOKS = """\
Feature: Hooks
  @hooked @watched
  Scenario: tagged
    Then the scenario hook has run
    And 2 steps have started

  Scenario: untagged
    Then the scenario hook has not run
    And 2 steps have started

  @broken_hook
  Scenario: a failing before hook
    Then the scenario hook has not run
"""

PROBLEMS = """\
Feature: Problems
  Scenario: ambiguous
    Given an ambiguous step

  Scenario: undefined
    Given I have 3 cucumbers in my "basket"
    And the basket is empty

  Scenario: an exception
    Given this step breaks
    And the basket is empty
"""

SELECTION = """\
@smoke
Feature: Selection
  Scenario: fast smoke
    Given the basket is empty

  @slow
  Scenario: slow smoke
    Given the basket is empty

  Rule: nested
    @slow
    Scenario: slow in a rule
      Given the basket is empty

    Scenario Outline: outline <n>
      Given the basket is empty

      @slow
      Examples:
        | n |
        | 1 |

      Examples:
        | n |
        | 2 |
"""

OTHER = """\
Feature: Other
  Scenario: not smoke
    Given the basket is empty
"""

GERMAN = """\
# language: de
@smoke
Funktionalität: Einkaufen
  Grundlage:
    Angenommen ich öffne die Seite "index.html"

  Szenario: Begrüßung
    Dann I should see "Welcome to the shop"
    Und the title should be "Proctor test page"

  Szenariogrundriss: Liste mit <anzahl> Einträgen
    Dann there should be <anzahl> "#items li"

    Beispiele:
      | anzahl |
      | 3      |
"""


def _elements(report: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [element for feature in report for element in feature["elements"]]


def test_all_of_gherkin_with_project_steps(tmp_path: Path, cucumber_schema: dict[str, Any]) -> None:
    job = make_job({"everything.feature": EVERYTHING})
    outcome, _, _ = run_here(job, tmp_path, steps_path=STEPS)

    jsonschema.validate(outcome.cucumber, cucumber_schema)
    failures = [
        (e["name"], s["name"], s["result"].get("error_message"))
        for e in _elements(outcome.cucumber)
        for s in e["steps"]
        if s["result"]["status"] != "passed"
    ]
    assert failures == []
    assert outcome.exit_code == EXIT_PASSED
    elements = _elements(outcome.cucumber)
    assert [e["name"] for e in elements] == [
        "the rule's background runs after the feature's",
        "add 1 blue items",
        "add 2 green items",
        "add 10 green items",
        "tables, doc strings, floats and words",
    ]
    assert [t["name"] for t in elements[1]["tags"]] == ["@shop", "@outline", "@small"]
    assert [t["name"] for t in elements[3]["tags"]] == ["@shop", "@outline", "@large"]
    # Both Backgrounds (feature's, then rule's) before the outline's own steps.
    assert [s["name"] for s in elements[1]["steps"]] == [
        "the basket is empty",
        "I add 2 red items",
        "I add 1 blue items",
        "the basket has 3 items",
    ]
    # Still inside the Rule (a Scenario after a Rule belongs to it): both Backgrounds first.
    assert [s["name"] for s in elements[4]["steps"][:2]] == [
        "the basket is empty",
        "I add 2 red items",
    ]
    tables = elements[4]["steps"][2:]
    assert tables[0]["rows"][1] == {"cells": ["apple", "1.5"]}
    assert tables[2]["doc_string"] == {"line": 40, "value": "# Hello", "content_type": "markdown"}
    assert tables[2]["output"] == ["note: # Hello"]
    assert tables[1]["match"]["arguments"] == [
        {"val": '"pear"', "offset": 13},
        {"val": "0.25", "offset": 23},
    ]
    assert tables[1]["match"]["location"].endswith(_at("price_is"))


def test_hooks_run_for_matching_tags(tmp_path: Path) -> None:
    job = make_job({"hooks.feature": HOOKS})
    outcome, _, _ = run_here(job, tmp_path, steps_path=STEPS)

    tagged, untagged, broken = _elements(outcome.cucumber)
    assert [s["result"]["status"] for s in tagged["steps"]] == ["passed", "passed"]
    assert tagged["before"][0]["match"]["location"].endswith(_at("hook_before"))
    assert tagged["after"][0]["result"]["status"] == "passed"
    # The after-step hook (@watched) logged into each step's output.
    assert tagged["steps"][0]["output"] == ["after step: the scenario hook has run → passed"]
    assert [s["result"]["status"] for s in untagged["steps"]] == ["passed", "passed"]
    assert "before" not in untagged and "output" not in untagged["steps"][0]
    # A failing before hook fails the scenario and skips its steps.
    assert broken["before"][0]["result"]["status"] == "failed"
    assert "the hook is broken" in broken["before"][0]["result"]["error_message"]
    assert [s["result"]["status"] for s in broken["steps"]] == ["skipped"]
    assert outcome.exit_code == EXIT_FAILED
    assert outcome.summary.scenarios.passed == 2 and outcome.summary.scenarios.failed == 1


def test_ambiguous_undefined_and_broken_steps(tmp_path: Path) -> None:
    job = make_job({"problems.feature": PROBLEMS})
    outcome, reporter, store = run_here(job, tmp_path, steps_path=STEPS)

    ambiguous, undefined, broken = _elements(outcome.cucumber)
    message = ambiguous["steps"][0]["result"]["error_message"]
    assert ambiguous["steps"][0]["result"]["status"] == "failed"
    assert "Ambiguous" in message
    assert _at("ambiguous_one") in message and _at("ambiguous_two") in message

    assert [s["result"]["status"] for s in undefined["steps"]] == ["undefined", "skipped"]
    snippet = undefined["steps"][0]["result"]["error_message"]
    assert "@step('I have {int} cucumbers in my {string}')" in snippet
    assert "def i_have_3_cucumbers_in_my_basket(ctx, int, string):" in snippet
    log = (store.get_bytes("runs/run-1/attempt-1/runner.log") or b"").decode()
    assert "@step('I have {int} cucumbers in my {string}')" in log

    assert [s["result"]["status"] for s in broken["steps"]] == ["failed", "skipped"]
    assert "RuntimeError: broken on purpose" in broken["steps"][0]["result"]["error_message"]
    assert outcome.summary.scenarios.model_dump() == {
        "passed": 0,
        "failed": 2,
        "skipped": 0,
        "undefined": 1,
    }
    assert outcome.exit_code == EXIT_FAILED
    assert [r.status for r in reporter.steps] == [
        "failed",
        "undefined",
        "skipped",
        "failed",
        "skipped",
    ]


def test_tag_expression_selects_scenarios(tmp_path: Path) -> None:
    job = make_job(
        {"selection.feature": SELECTION, "other.feature": OTHER}, tags="@smoke and not @slow"
    )
    outcome, _, _ = run_here(job, tmp_path, steps_path=STEPS)
    assert [e["name"] for e in _elements(outcome.cucumber)] == ["fast smoke", "outline 2"]
    assert outcome.exit_code == EXIT_PASSED


def test_an_invalid_tag_expression_is_a_run_error(tmp_path: Path) -> None:
    job = make_job({"other.feature": OTHER}, tags="@smoke and (")
    outcome, _, _ = run_here(job, tmp_path, steps_path=STEPS)
    assert outcome.exit_code == EXIT_ERROR
    assert outcome.error and "invalid tag expression" in outcome.error


def test_a_step_module_that_does_not_import_is_a_run_error(tmp_path: Path) -> None:
    broken = tmp_path / "steps" / "broken_steps.py"
    broken.parent.mkdir()
    broken.write_text("from runner.steps import step\n\nraise ImportError('no such tool')\n")
    job = make_job({"other.feature": OTHER})
    outcome, _, _ = run_here(job, tmp_path, steps_path=[str(broken.parent)])
    assert outcome.exit_code == EXIT_ERROR
    assert outcome.error and "broken_steps.py" in outcome.error and "no such tool" in outcome.error


def test_a_german_feature_runs_in_chromium(
    chromium: Browser, pages_url: str, tmp_path: Path, cucumber_schema: dict[str, Any]
) -> None:
    job = make_job({"einkaufen.feature": GERMAN}, base_url=pages_url, tags="@smoke")
    outcome, _, _ = run_here(
        job, tmp_path, browser=chromium, steps_path=STEPS, video=False, trace=False
    )

    jsonschema.validate(outcome.cucumber, cucumber_schema)
    assert outcome.cucumber[0]["keyword"] == "Funktionalität"
    first, second = _elements(outcome.cucumber)
    assert first["keyword"] == "Szenario"
    assert [s["keyword"] for s in first["steps"]] == ["Angenommen ", "Dann ", "Und "]
    assert second["name"] == "Liste mit 3 Einträgen"
    assert all(s["result"]["status"] == "passed" for e in (first, second) for s in e["steps"])
    assert outcome.exit_code == EXIT_PASSED


def test_a_crashed_page_is_a_run_error(chromium: Browser, pages_url: str, tmp_path: Path) -> None:
    feature = """\
Feature: Crash
  Scenario: the renderer dies
    Given I open "index.html"
    When the page crashes
    Then I should see "Welcome to the shop"

  Scenario: never runs
    Given I open "index.html"
"""
    job = make_job({"crash.feature": feature}, base_url=pages_url)
    outcome, reporter, store = run_here(
        job, tmp_path, browser=chromium, steps_path=STEPS, video=False
    )
    assert outcome.exit_code == EXIT_ERROR
    assert outcome.error and "renderer process crashed" in outcome.error
    assert [r.status for r in reporter.steps] == ["passed", "failed", "skipped", "skipped"]
    assert reporter.results[0].error == outcome.error
    assert (
        "renderer process crashed"
        in (store.get_bytes("runs/run-1/attempt-1/runner.log") or b"").decode()
    )
    assert chromium.is_connected()  # only that page died


def test_a_bare_assert_in_a_project_step_shows_its_line(tmp_path: Path) -> None:
    feature = """\
Feature: Asserts
  Scenario: wrong count
    Given the basket is empty
    Then the basket has 3 items
"""
    outcome, _, _ = run_here(make_job({"asserts.feature": feature}), tmp_path, steps_path=STEPS)
    error = _elements(outcome.cucumber)[0]["steps"][1]["result"]["error_message"]
    assert "shop_steps.py" in error and "assert len(ctx.state" in error
    assert "runner/execute.py" not in error
