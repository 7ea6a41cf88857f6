"""Step matching, parameter types, hooks and snippets (no browser, no files)."""

from __future__ import annotations

import re
import types

import pytest

from runner.library import Ambiguous, StepLibrary, StepLoadError, build_library
from runner.steps import before_scenario, parameter_type, step


def _module(**members: object) -> types.ModuleType:
    module = types.ModuleType("fake_steps")
    for name, fn in members.items():
        fn.__module__ = "fake_steps"  # type: ignore[attr-defined]
        setattr(module, name, fn)
    return module


def test_builtin_steps_match_the_design_texts() -> None:
    library = build_library([])
    texts = [
        'I open "/login"',
        'I click "#go"',
        'I fill "#name" with "Ada"',
        'I press "Enter" in "#q"',
        'I select "blue" in "#c"',
        'I check "#a"',
        'I uncheck "#a"',
        'I wait for ".ready"',
        'I take a screenshot "home"',
        'I should see "Hi"',
        'I should not see "Bye"',
        '"#x" should contain "y"',
        '"#x" should have value "y"',
        '"#x" should be visible',
        '"#x" should be hidden',
        'there should be 3 "li"',
        'the URL should contain "/done"',
        'the title should be "Shop"',
        'I run "7ps --help"',
        'I run "slow" within 5 seconds',
        "the command should succeed",
        "the command should fail",
        'the output should contain "ok"',
    ]
    for text in texts:
        found = library.find(text)
        assert found is not None and not isinstance(found, Ambiguous), text
    match = library.find('there should be 3 "li"')
    assert match is not None and not isinstance(match, Ambiguous)
    assert [a.value for a in match.arguments] == [3, "li"]


def test_custom_parameter_types_regexes_and_ambiguity() -> None:
    @parameter_type("color", r"red|blue")
    def color(text: str) -> str:
        return text.upper()

    @step("I paint it {color}")
    def paint(ctx: object, colour: str) -> None: ...

    @step(re.compile(r"^I have (\d+) (\w+)$"))
    def have(ctx: object, count: str, what: str) -> None: ...

    @step("I have {int} apples")
    def apples(ctx: object, count: int) -> None: ...

    library = StepLibrary()
    library.add_modules([_module(color=color, paint=paint, have=have, apples=apples)])
    found = library.find("I paint it blue")
    assert found is not None and not isinstance(found, Ambiguous)
    assert found.arguments[0].value == "BLUE"
    assert library.find("I paint it green") is None
    both = library.find("I have 3 apples")
    assert isinstance(both, Ambiguous)
    assert "I have {int} apples" in both.message("I have 3 apples")
    assert library.find("I have 3 pears") is not None


def test_tag_filtered_hooks() -> None:
    @before_scenario(tags="@db and not @slow")
    def seed(ctx: object) -> None: ...

    @before_scenario
    def always(ctx: object) -> None: ...

    library = StepLibrary()
    library.add_modules([_module(seed=seed, always=always)])
    assert [h.fn for h in library.hooks_for("before_scenario", ["@db"])] == [seed, always]
    assert [h.fn for h in library.hooks_for("before_scenario", ["@db", "@slow"])] == [always]


def test_invalid_definitions_are_load_errors() -> None:
    @step("I have {unknown} things")
    def bad(ctx: object, thing: str) -> None: ...

    with pytest.raises(StepLoadError, match="unknown"):
        StepLibrary().add_modules([_module(bad=bad)])

    @before_scenario(tags="@a and (")
    def bad_hook(ctx: object) -> None: ...

    with pytest.raises(StepLoadError, match="hook tags"):
        StepLibrary().add_modules([_module(bad_hook=bad_hook)])

    with pytest.raises(StepLoadError, match="neither a folder"):
        build_library(["/no/such/steps"])


def test_snippet_for_tables_and_doc_strings() -> None:
    snippet = build_library([]).snippet('the cart holds 2.5 kg of "rice"', data_table=True)
    assert "@step('the cart holds {float} kg of {string}')" in snippet
    assert "(ctx, float, string, data_table):" in snippet
