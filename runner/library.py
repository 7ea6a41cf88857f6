"""The step library of one run: built-in steps, project steps, parameter types and hooks.

``build_library(steps_path)`` imports the built-in steps and every module on
``PROCTOR_STEPS_PATH`` (folders of ``*.py`` files, single files or dotted module names),
collects the functions ``runner.steps`` marked, and compiles their expressions against one
``ParameterTypeRegistry``. Custom parameter types are registered before any expression is
compiled, so a module may use a type another module defines.

``find(text)`` is Cucumber's matching rule: exactly one definition must match the whole
text. None is *undefined* (with a snippet to paste); two or more is *ambiguous*, reported
with every matching location.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from cucumber_expressions.expression import CucumberExpression
from cucumber_expressions.expression_generator import CucumberExpressionGenerator
from cucumber_expressions.parameter_type import ParameterType
from cucumber_expressions.parameter_type_registry import ParameterTypeRegistry
from cucumber_expressions.regular_expression import RegularExpression
from cucumber_tag_expressions import TagExpressionError
from cucumber_tag_expressions import parse as parse_tags

from runner.steps import HOOKS_ATTR, PARAMETER_ATTR, STEPS_ATTR, HookMark, ParameterMark


class StepLoadError(Exception):
    """A step module that cannot be imported or defines something invalid (run error)."""


@dataclass(frozen=True)
class StepDefinition:
    source: str
    expression: CucumberExpression | RegularExpression
    fn: Callable[..., Any]
    location: str


@dataclass(frozen=True)
class Argument:
    value: Any
    text: str
    offset: int


@dataclass(frozen=True)
class Match:
    definition: StepDefinition
    arguments: list[Argument]


@dataclass(frozen=True)
class Ambiguous:
    definitions: list[StepDefinition]

    def message(self, text: str) -> str:
        lines = [f"Ambiguous step: {text!r} matches {len(self.definitions)} step definitions:"]
        lines += [f"  {d.source!r} at {d.location}" for d in self.definitions]
        return "\n".join(lines)


@dataclass(frozen=True)
class Hook:
    kind: str
    fn: Callable[..., Any]
    tags: str | None
    location: str
    _expression: Any = None

    def applies_to(self, tags: list[str]) -> bool:
        return self._expression is None or bool(self._expression.evaluate(tags))


def location_of(fn: Callable[..., Any]) -> str:
    """``path:line`` of a function, relative to the working folder when inside it."""
    code = getattr(fn, "__code__", None)
    try:
        path = Path(inspect.getsourcefile(fn) or "?")
    except TypeError:
        path = Path("?")
    try:
        shown = str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        shown = str(path)
    return f"{shown}:{code.co_firstlineno if code else 0}"


def _is_regex(expression: str | re.Pattern[str]) -> bool:
    if isinstance(expression, re.Pattern):
        return True
    return expression.startswith("^") or expression.endswith("$")


def _snake(text: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", text.lower())
    name = "_".join(words)[:60].strip("_") or "step"
    return name if not name[0].isdigit() else f"step_{name}"


@dataclass
class StepLibrary:
    registry: ParameterTypeRegistry = field(default_factory=ParameterTypeRegistry)
    definitions: list[StepDefinition] = field(default_factory=list)
    hooks: list[Hook] = field(default_factory=list)

    def add_parameter_type(self, fn: Callable[..., Any], mark: ParameterMark) -> None:
        try:
            self.registry.define_parameter_type(
                ParameterType(
                    mark.name,
                    mark.regexp,
                    object,
                    lambda *groups: fn(*groups),
                    mark.use_for_snippets,
                    mark.prefer_for_regexp_match,
                )
            )
        except Exception as err:
            raise StepLoadError(
                f"parameter type {{{mark.name}}} at {location_of(fn)}: {err}"
            ) from err

    def add_step(self, expression: str | re.Pattern[str], fn: Callable[..., Any]) -> None:
        try:
            compiled: CucumberExpression | RegularExpression = (
                RegularExpression(expression, self.registry)
                if _is_regex(expression)
                else CucumberExpression(expression, self.registry)
            )
        except Exception as err:
            raise StepLoadError(f"step {expression!r} at {location_of(fn)}: {err}") from err
        source = expression.pattern if isinstance(expression, re.Pattern) else expression
        self.definitions.append(StepDefinition(source, compiled, fn, location_of(fn)))

    def add_hook(self, fn: Callable[..., Any], mark: HookMark) -> None:
        expression = None
        if mark.tags:
            try:
                expression = parse_tags(mark.tags)
            except TagExpressionError as err:
                raise StepLoadError(f"hook tags {mark.tags!r} at {location_of(fn)}: {err}") from err
        self.hooks.append(Hook(mark.kind, fn, mark.tags, location_of(fn), expression))

    def add_modules(self, modules: list[ModuleType]) -> None:
        """Everything ``runner.steps`` marked in the modules; parameter types first, since an
        expression may use a type that another module defines."""
        for module in modules:
            for fn in _own_members(module):
                mark = getattr(fn, PARAMETER_ATTR, None)
                if isinstance(mark, ParameterMark):
                    self.add_parameter_type(fn, mark)
        for module in modules:
            for fn in _own_members(module):
                for expression in getattr(fn, STEPS_ATTR, []):
                    self.add_step(expression, fn)
                for hook in getattr(fn, HOOKS_ATTR, []):
                    self.add_hook(fn, hook)

    def find(self, text: str) -> Match | Ambiguous | None:
        found: list[Match] = []
        for definition in self.definitions:
            arguments = definition.expression.match(text)
            if arguments is None:
                continue
            found.append(
                Match(
                    definition,
                    [
                        Argument(
                            arg.value,
                            arg.group.value if arg.group else "",
                            arg.group.start if arg.group else 0,
                        )
                        for arg in arguments
                    ],
                )
            )
        if not found:
            return None
        if len(found) > 1:
            return Ambiguous([m.definition for m in found])
        return found[0]

    def hooks_for(self, kind: str, tags: list[str]) -> list[Hook]:
        return [hook for hook in self.hooks if hook.kind == kind and hook.applies_to(tags)]

    def snippet(self, text: str, *, data_table: bool = False, doc_string: bool = False) -> str:
        """What to paste into a step module to define an undefined step."""
        generated = CucumberExpressionGenerator(self.registry).generate_expressions(text)
        if generated:
            expression = generated[0].source
            names = [name.replace("-", "_") for name in generated[0].parameter_names]
        else:
            expression, names = text, []
        if data_table:
            names.append("data_table")
        if doc_string:
            names.append("doc_string")
        params = ", ".join(["ctx", *names])
        quoted = repr(expression)
        return (
            "from runner.steps import step\n\n\n"
            f"@step({quoted})\n"
            f"def {_snake(text)}({params}):\n"
            "    raise NotImplementedError\n"
        )


def _own_members(module: ModuleType) -> list[Callable[..., Any]]:
    """The module's own functions (not ones it imported), in the order they are written."""
    members = [
        fn
        for fn in vars(module).values()
        if callable(fn) and getattr(fn, "__module__", None) == module.__name__
    ]
    members.sort(key=lambda fn: getattr(getattr(fn, "__code__", None), "co_firstlineno", 0))
    return members


def _import_file(path: Path) -> ModuleType:
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
    name = f"proctor_steps_{digest}_{_snake(path.stem)}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise StepLoadError(f"cannot import step module {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    folder = str(path.parent.resolve())
    if folder not in sys.path:  # let step modules import their own helpers
        sys.path.append(folder)
    try:
        spec.loader.exec_module(module)
    except Exception as err:
        sys.modules.pop(name, None)
        raise StepLoadError(f"step module {path} failed to import: {err!r}") from err
    return module


def step_modules(steps_path: list[str]) -> list[ModuleType]:
    modules = []
    for entry in steps_path:
        path = Path(entry)
        if path.is_dir():
            for file in sorted(path.rglob("*.py")):
                if "__pycache__" not in file.parts:
                    modules.append(_import_file(file))
        elif path.is_file():
            modules.append(_import_file(path))
        else:
            try:
                modules.append(importlib.import_module(entry))
            except Exception as err:
                raise StepLoadError(
                    f"steps path entry {entry!r} is neither a folder, a file nor a module: {err!r}"
                ) from err
    return modules


def build_library(steps_path: list[str], *, builtins: bool = True) -> StepLibrary:
    library = StepLibrary()
    modules: list[ModuleType] = []
    if builtins:
        from runner import builtin_steps

        modules.append(builtin_steps)
    modules += step_modules(steps_path)
    library.add_modules(modules)
    return library
