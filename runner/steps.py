"""The decorators test authors use in their step modules (``PROCTOR_STEPS_PATH``).

    from runner.steps import step, before_scenario, parameter_type

    @parameter_type("color", r"red|green|blue")
    def color(text: str) -> str:
        return text.upper()

    @step("I add {int} {color} items")
    def add_items(ctx, count, color):
        ctx.page.click(f"#add-{color}")

    @before_scenario(tags="@admin")
    def log_in(ctx):
        ...

A decorator only marks the function (an attribute on it); ``runner.library`` finds the
marked functions when it loads a module. There is no global registry, so loading the same
module for two runs in one process cannot leak definitions from one run into the other.

Expressions are Cucumber Expressions (``{string}``, ``{int}``, ``{float}``, ``{word}``,
custom types) or regular expressions: pass a compiled ``re.Pattern``, or a string that
starts with ``^`` or ends with ``$``. A step function gets the context (``runner.context.
StepContext``), then one argument per parameter, then the step's Data Table or Doc String
when it has one (also on ``ctx.data_table`` / ``ctx.doc_string``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

STEPS_ATTR = "__proctor_steps__"
HOOKS_ATTR = "__proctor_hooks__"
PARAMETER_ATTR = "__proctor_parameter_type__"

HOOK_KINDS = ("before_scenario", "after_scenario", "before_step", "after_step")


@dataclass(frozen=True)
class HookMark:
    kind: str
    tags: str | None


@dataclass(frozen=True)
class ParameterMark:
    name: str
    regexp: str | list[str]
    use_for_snippets: bool
    prefer_for_regexp_match: bool


class Pending(Exception):
    """Raise from a step that is written but not finished: the step is reported pending."""


def step(expression: str | re.Pattern[str]) -> Callable[[F], F]:
    """Define a step; it matches whatever keyword (Given/When/Then/And/*) the text uses."""

    def mark(fn: F) -> F:
        existing = list(getattr(fn, STEPS_ATTR, []))
        setattr(fn, STEPS_ATTR, [*existing, expression])
        return fn

    return mark


given = when = then = step


def _hook(kind: str, tags: str | None) -> Callable[[F], F]:
    def mark(fn: F) -> F:
        existing = list(getattr(fn, HOOKS_ATTR, []))
        setattr(fn, HOOKS_ATTR, [*existing, HookMark(kind, tags)])
        return fn

    return mark


def before_scenario(fn: F | None = None, *, tags: str | None = None) -> Any:
    """Run before each scenario (whose tags match ``tags``, a tag expression)."""
    return _hook("before_scenario", tags)(fn) if fn else _hook("before_scenario", tags)


def after_scenario(fn: F | None = None, *, tags: str | None = None) -> Any:
    """Run after each scenario, passed or not (``ctx.scenario_status`` says which)."""
    return _hook("after_scenario", tags)(fn) if fn else _hook("after_scenario", tags)


def before_step(fn: F | None = None, *, tags: str | None = None) -> Any:
    return _hook("before_step", tags)(fn) if fn else _hook("before_step", tags)


def after_step(fn: F | None = None, *, tags: str | None = None) -> Any:
    """Run after each executed step (``ctx.step`` and ``ctx.step_status`` describe it)."""
    return _hook("after_step", tags)(fn) if fn else _hook("after_step", tags)


def parameter_type(
    name: str,
    regexp: str | list[str],
    *,
    use_for_snippets: bool = True,
    prefer_for_regexp_match: bool = False,
) -> Callable[[F], F]:
    """Define ``{name}`` for Cucumber Expressions; the function transforms the matched text."""

    def mark(fn: F) -> F:
        setattr(
            fn,
            PARAMETER_ATTR,
            ParameterMark(name, regexp, use_for_snippets, prefer_for_regexp_match),
        )
        return fn

    return mark
