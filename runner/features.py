"""Gherkin in, executable scenarios out — through the official parser and pickle compiler.

The official ``gherkin-official`` parser handles all of Gherkin (Background, Rule, Scenario
Outline with Examples, Doc Strings, Data Tables, tags, comments, ``# language:``); its
compiler turns each document into *pickles*, the flat scenarios a runner executes. A pickle
has lost what reports need (keywords, the line of each step, the feature's name), so each
``Scenario`` here keeps the pickle together with those facts taken from the AST.

A feature that does not parse is not an exception for the caller to catch: ``load`` returns
``ParseFailure`` records (file, line, parser message) next to the scenarios it could build,
and the caller decides (the runner ends the run as ``error``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gherkin import Compiler, Parser
from gherkin.errors import CompositeParserException, ParserError, ParserException

from schemas.models import FeatureFile


@dataclass(frozen=True)
class ParseFailure:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class DataTable:
    """A step's Data Table, as Cucumber hands it to a step: rows of cells (strings)."""

    rows: list[list[str]]

    def raw(self) -> list[list[str]]:
        return [list(row) for row in self.rows]

    def hashes(self) -> list[dict[str, str]]:
        """One dict per row after the first, keyed by the header row."""
        if not self.rows:
            return []
        header, *body = self.rows
        return [dict(zip(header, row, strict=False)) for row in body]

    def rows_hash(self) -> dict[str, str]:
        """A two-column table as a dict (first column → second)."""
        return {row[0]: row[1] for row in self.rows if len(row) >= 2}


@dataclass(frozen=True)
class DocString:
    content: str
    media_type: str | None
    line: int

    def __str__(self) -> str:
        return self.content


@dataclass(frozen=True)
class Step:
    keyword: str  # as written, with its trailing space ("Given ", "Und ")
    text: str  # after Examples substitution
    line: int
    data_table: DataTable | None = None
    doc_string: DocString | None = None


@dataclass(frozen=True)
class Feature:
    path: str
    name: str
    keyword: str
    line: int
    description: str
    language: str
    tags: list[tuple[str, int, int]]  # name, line, column


@dataclass(frozen=True)
class Scenario:
    feature: Feature
    name: str
    keyword: str
    line: int  # the scenario's line, or the Examples row's for an outline
    description: str
    tags: list[str]
    steps: list[Step]
    outline_row: int | None = None  # 1-based row of the Examples table, for outlines


@dataclass
class Loaded:
    features: list[Feature] = field(default_factory=list)
    scenarios: list[Scenario] = field(default_factory=list)
    failures: list[ParseFailure] = field(default_factory=list)


def _failures(path: str, err: ParserError) -> list[ParseFailure]:
    errors = err.errors if isinstance(err, CompositeParserException) else [err]
    found = []
    for one in errors:
        line = int(one.location["line"]) if isinstance(one, ParserException) else 0
        found.append(ParseFailure(path, line, str(one.args[0]) if one.args else repr(one)))
    return found


def _index(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every AST node that has an id, by id (steps, scenarios, Examples rows)."""
    nodes: dict[str, dict[str, Any]] = {}

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "id" in value and isinstance(value["id"], str):
                nodes[value["id"]] = value
            for child in value.values():
                walk(child)
        elif isinstance(value, list):
            for child in value:
                walk(child)

    walk(document)
    return nodes


def _examples_rows(document: dict[str, Any]) -> dict[str, int]:
    """Row id → its 1-based position across the scenario's Examples tables."""
    positions: dict[str, int] = {}

    def scenarios(children: list[dict[str, Any]]) -> list[dict[str, Any]]:
        found = []
        for child in children:
            if "scenario" in child:
                found.append(child["scenario"])
            elif "rule" in child:
                found.extend(scenarios(child["rule"]["children"]))
        return found

    for scenario in scenarios(document.get("feature", {}).get("children", [])):
        position = 0
        for examples in scenario.get("examples", []):
            for row in examples.get("tableBody", []):
                position += 1
                positions[row["id"]] = position
    return positions


def _step(pickle_step: dict[str, Any], nodes: dict[str, dict[str, Any]]) -> Step:
    ast_step = nodes[pickle_step["astNodeIds"][0]]
    argument = pickle_step.get("argument") or {}
    table = None
    doc = None
    if "dataTable" in argument:
        table = DataTable(
            [[cell["value"] for cell in row["cells"]] for row in argument["dataTable"]["rows"]]
        )
    if "docString" in argument:
        ast_doc = ast_step.get("docString") or {}
        doc = DocString(
            content=argument["docString"].get("content") or "",
            media_type=argument["docString"].get("mediaType"),
            line=int(ast_doc.get("location", {}).get("line", ast_step["location"]["line"] + 1)),
        )
    return Step(
        keyword=ast_step["keyword"],
        text=pickle_step["text"],
        line=int(ast_step["location"]["line"]),
        data_table=table,
        doc_string=doc,
    )


def parse_feature(source: FeatureFile) -> tuple[Feature | None, list[Scenario], list[ParseFailure]]:
    """One feature file → its scenarios in file order, or the parser's failures."""
    try:
        document: dict[str, Any] = dict(Parser().parse(source.content))  # type: ignore[arg-type]
    except ParserError as err:
        return None, [], _failures(source.path, err)
    document["uri"] = source.path
    ast_feature = document.get("feature")
    if not ast_feature:
        return None, [], []  # an empty file (or only comments): nothing to run
    feature = Feature(
        path=source.path,
        name=ast_feature["name"],
        keyword=ast_feature["keyword"],
        line=int(ast_feature["location"]["line"]),
        description=ast_feature.get("description") or "",
        language=ast_feature.get("language", "en"),
        tags=[
            (tag["name"], int(tag["location"]["line"]), int(tag["location"].get("column", 1)))
            for tag in ast_feature.get("tags", [])
        ],
    )
    nodes = _index(document)
    rows = _examples_rows(document)
    scenarios = []
    for pickle in Compiler().compile(document):  # type: ignore[arg-type]
        ast_scenario = nodes[pickle["astNodeIds"][0]]
        row_id = pickle["astNodeIds"][1] if len(pickle["astNodeIds"]) > 1 else None
        scenarios.append(
            Scenario(
                feature=feature,
                name=pickle["name"],
                keyword=ast_scenario["keyword"],
                line=int(pickle["location"]["line"]),
                description=ast_scenario.get("description") or "",
                tags=[tag["name"] for tag in pickle["tags"]],
                steps=[_step(dict(step), nodes) for step in pickle["steps"]],
                outline_row=rows.get(row_id) if row_id else None,
            )
        )
    return feature, scenarios, []


def load(sources: list[FeatureFile]) -> Loaded:
    """Every feature of a job, in the order given; failures collected, not raised."""
    loaded = Loaded()
    for source in sources:
        feature, scenarios, failures = parse_feature(source)
        if feature:
            loaded.features.append(feature)
        loaded.scenarios.extend(scenarios)
        loaded.failures.extend(failures)
    return loaded
