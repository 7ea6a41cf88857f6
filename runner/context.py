"""What a step (and a hook) gets as its first argument.

``ctx.page`` / ``ctx.context`` / ``ctx.browser`` start the scenario's browser context on
first use (with video and trace); ``ctx.base_url`` and ``ctx.url(path)`` resolve paths
against the test set's base URL; ``ctx.data_table`` / ``ctx.doc_string`` are the current
step's arguments; ``ctx.state`` is a dict that lives for one scenario; ``ctx.attach`` and
``ctx.log`` add to the step's report (cucumber.json ``embeddings`` / ``output``) and
``ctx.log`` also to ``runner.log``.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, Page

from runner.browser import ScenarioSession
from runner.commands import CommandResult
from runner.features import DataTable, DocString, Scenario, Step


@dataclass
class Embedding:
    mime_type: str
    data: str  # base64
    name: str | None = None


@dataclass
class StepRecord:
    """What a step produced besides its status: output lines, embeddings, files."""

    output: list[str] = field(default_factory=list)
    embeddings: list[Embedding] = field(default_factory=list)
    screenshot: str | None = None  # path relative to the attempt folder


def resolve_url(base_url: str, path_or_url: str) -> str:
    """An absolute URL as is; anything else is a path under ``base_url`` (keeping its path)."""
    if urlsplit(path_or_url).scheme in ("http", "https", "file", "about", "data", "chrome"):
        return path_or_url
    if not base_url:
        return path_or_url
    return base_url.rstrip("/") + "/" + path_or_url.lstrip("/")


@dataclass
class StepContext:
    base_url: str
    scenario: Scenario
    session: ScenarioSession
    work: Path
    stop: threading.Event
    log_line: Callable[[str], None]
    screenshot_name: Callable[[str], Path]
    command_limit_s: float = 120.0
    expect_timeout_ms: int = 5_000
    state: dict[str, Any] = field(default_factory=dict)
    step: Step | None = None
    step_status: str | None = None
    scenario_status: str | None = None
    command: CommandResult | None = None
    record: StepRecord = field(default_factory=StepRecord)

    # ----- browser --------------------------------------------------------------------

    @property
    def page(self) -> Page:
        return self.session.page()

    @property
    def context(self) -> BrowserContext:
        return self.session.context()

    @property
    def browser(self) -> Browser:
        return self.session.host.browser()

    def url(self, path_or_url: str) -> str:
        return resolve_url(self.base_url, path_or_url)

    # ----- the current step's arguments -------------------------------------------------

    @property
    def data_table(self) -> DataTable | None:
        return self.step.data_table if self.step else None

    @property
    def doc_string(self) -> DocString | None:
        return self.step.doc_string if self.step else None

    # ----- what a step adds to the report -----------------------------------------------

    def log(self, text: str) -> None:
        self.record.output.append(text)
        self.log_line(text)

    def attach(self, data: bytes | str, mime_type: str, name: str | None = None) -> None:
        raw = data.encode() if isinstance(data, str) else data
        self.record.embeddings.append(
            Embedding(mime_type, base64.b64encode(raw).decode("ascii"), name)
        )

    def screenshot(self, name: str) -> str:
        """Save a screenshot of the page under ``screenshots/``; returns its relative path."""
        target = self.screenshot_name(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(target))
        relative = target.relative_to(self.work).as_posix()
        self.record.output.append(f"screenshot: {relative}")
        self.record.screenshot = relative
        return relative
