"""Read Proctor's Terraform with python-hcl2 the way the infra tests need it.

There is no terraform binary (nor provider plugins) where the tests run, so `terraform
validate` is out of reach; what it would catch first — a misspelt variable, a reference to
a resource that does not exist, a module called with an argument it does not declare — is
checked here from the parsed files. One ``Module`` per folder of ``.tf`` files.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import hcl2

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM = ROOT / "infra" / "terraform"

#: Arguments of a module block that are Terraform's, not the module's variables.
MODULE_META_ARGUMENTS = frozenset(
    {"source", "version", "providers", "depends_on", "count", "for_each"}
)

_NAME = r"[A-Za-z_][\w-]*"
_NOT_AFTER = r"(?<![\w.])"  # a reference starts an expression term, not after a dot or word
REFERENCE_PATTERNS = {
    "var": re.compile(rf"{_NOT_AFTER}var\.({_NAME})"),
    "local": re.compile(rf"{_NOT_AFTER}local\.({_NAME})"),
    "module": re.compile(rf"{_NOT_AFTER}module\.({_NAME})(?:\.({_NAME}))?"),
    "data": re.compile(rf"{_NOT_AFTER}data\.({_NAME})\.({_NAME})"),
    "resource": re.compile(rf"{_NOT_AFTER}(aws_[a-z0-9_]+)\.({_NAME})"),
}


@dataclass
class Module:
    """The declarations of one Terraform module (a folder of .tf files)."""

    path: Path
    files: dict[str, dict[str, Any]]
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    resources: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    data: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.path.relative_to(TERRAFORM))

    def called_module(self, call: str) -> Module:
        source = self.calls[call]["source"]
        return load_module(str((self.path / source).resolve()))

    def expressions(self) -> Iterator[str]:
        """Every string in the module that holds an expression (``${…}``)."""
        for parsed in self.files.values():
            yield from _expressions(parsed)

    def references(self, kind: str) -> set[tuple[str, ...]]:
        pattern = REFERENCE_PATTERNS[kind]
        found: set[tuple[str, ...]] = set()
        for expression in self.expressions():
            for match in pattern.finditer(expression):
                found.add(tuple(group for group in match.groups() if group is not None))
        return found


def _expressions(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if "${" in value:
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _expressions(item)
    elif isinstance(value, list):
        for item in value:
            yield from _expressions(item)


def _blocks(parsed: dict[str, Any], kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for block in parsed.get(kind, []):
        yield from block.items()


@cache
def load_module(path: str) -> Module:
    folder = Path(path)
    files = {}
    for tf in sorted(folder.glob("*.tf")):
        with tf.open() as handle:
            files[tf.name] = hcl2.load(handle)
    module = Module(path=folder, files=files)
    for parsed in files.values():
        module.variables.update(_blocks(parsed, "variable"))
        module.outputs.update(_blocks(parsed, "output"))
        module.calls.update(_blocks(parsed, "module"))
        for block in parsed.get("locals", []):
            module.locals.update(block)
        for kind, target in (("resource", module.resources), ("data", module.data)):
            for type_name, named in _blocks(parsed, kind):
                for name, body in named.items():
                    target[(type_name, name)] = body
    return module


def module_dirs() -> list[Path]:
    """Every folder under infra/terraform that holds .tf files (modules and examples)."""
    return sorted({tf.parent for tf in TERRAFORM.rglob("*.tf")})


def all_modules() -> list[Module]:
    return [load_module(str(path)) for path in module_dirs()]


def environment_keys(expression: Any) -> set[str]:
    """Variable names an environment local sets: a map, or a merge() call around one."""
    if isinstance(expression, dict):
        return set(expression)
    return set(re.findall(r"\b([A-Z][A-Z0-9_]*)\"?\s*[=:]", str(expression)))


def hcl_text(expression: Any) -> str:
    """An expression's text with object keys as HCL writes them (``key = value``).

    python-hcl2 renders object keys inside expressions as JSON (``"key": value``) in some
    versions and as HCL in others; tests match against this one form.
    """
    return re.sub(r'"([A-Za-z_][\w-]*)":\s*', r"\1 = ", str(expression))
