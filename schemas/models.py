"""Pydantic shapes of the HTTP contract, shared by the API, the CLI and the runner.

Python names are snake_case; the JSON is camelCase as the existing TypeScript clients
expect (DESIGN.md, "JSON shapes"). Create shapes take what a client may write; Read
shapes are what the API returns.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from schemas.states import BatchStatus, Desired, RunStatus

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class Shape(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, from_attributes=True, extra="forbid"
    )


#: Relative, '/'-separated, no segment starting with '.', ending in .feature.
FEATURE_PATH = r"^[^/\\.\x00][^/\\\x00]*(/[^/\\.\x00][^/\\\x00]*)*\.feature$"


class FeatureFile(Shape):
    path: Annotated[str, Field(min_length=1, max_length=512, pattern=FEATURE_PATH)]
    content: Annotated[str, Field(max_length=1_000_000)]

    @field_validator("path")
    @classmethod
    def _relative_path(cls, value: str) -> str:
        parts = value.replace("\\", "/").split("/")
        if value.startswith("/") or ".." in parts or not value.endswith(".feature"):
            raise ValueError("must be a relative path ending in .feature, without '..'")
        return value


class TestSetBody(Shape):
    """Body of create (POST) and replace (PUT); `id` comes from the body on create."""

    __test__ = False  # not a pytest class

    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: str = ""
    base_url: Annotated[str, Field(max_length=2048)] = ""
    features: list[FeatureFile] = Field(default_factory=list, max_length=1000)
    tags: list[str] = Field(default_factory=list)
    timeout_seconds: Annotated[int, Field(ge=1, le=86_400)] | None = None
    max_attempts: Annotated[int, Field(ge=1, le=10)] = 2
    enabled: bool = True
    retry_on_failure: bool = Field(
        default=False, description="Retry failed tests too; a later pass marks the run flaky."
    )


class TestSetCreate(TestSetBody):
    id: Annotated[str, Field(pattern=SLUG.pattern, max_length=64)]

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError(
                "must be a slug: lowercase letters, digits, '-' or '_', at most 64 characters"
            )
        return value


class TestSetRead(TestSetCreate):
    created_at: datetime
    updated_at: datetime


class Counts(Shape):
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    undefined: int = 0


class Summary(Shape):
    scenarios: Counts = Field(default_factory=Counts)
    steps: Counts = Field(default_factory=Counts)


class RunParameters(Shape):
    """What a caller may set per run (spec)."""

    base_url: Annotated[str, Field(max_length=2048)] | None = None
    tags: Annotated[str, Field(max_length=500)] | None = Field(
        default=None, description="Cucumber tag expression, e.g. '@smoke and not @slow'."
    )


class ExecuteRequest(Shape):
    """Optional body of POST /api/test-runs/execute/{testSetId}."""

    parameters: RunParameters = Field(default_factory=RunParameters)
    priority: Annotated[int, Field(ge=-100, le=100)] = 0
    max_attempts: Annotated[int, Field(ge=1, le=10)] | None = None
    requested_by: Annotated[str, Field(max_length=200)] | None = None


class ExecuteAllRequest(Shape):
    """Optional body of POST /api/test-runs/execute-all: narrows the batch."""

    test_set_ids: list[str] | None = None
    tags: list[str] | None = Field(default=None, description="Only test sets with any of these.")
    label: Annotated[str, Field(max_length=200)] | None = None
    parameters: RunParameters = Field(default_factory=RunParameters)
    priority: Annotated[int, Field(ge=-100, le=100)] = 0
    requested_by: Annotated[str, Field(max_length=200)] | None = None


class RunRead(Shape):
    id: str
    test_set_id: str
    batch_id: str | None
    status: RunStatus
    desired: Desired
    attempt: int
    max_attempts: int
    priority: int
    parameters: RunParameters
    created_at: datetime
    launched_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    exit_code: int | None = None
    stop_code: str | None = None
    error: str | None = None
    flaky: bool = False
    summary: Summary = Field(default_factory=Summary)


class StepRead(Shape):
    attempt: int
    seq: int
    feature: str
    scenario: str
    line: int
    keyword: str
    text: str
    status: str
    duration_ms: int | None = None
    error: str | None = None
    screenshot_key: str | None = None


class RunWithSteps(RunRead):
    steps: Counts = Field(default_factory=Counts)


class BatchStatusRead(Shape):
    id: str
    label: str | None = None
    status: BatchStatus
    total: int
    counts: dict[str, int]
    created_at: datetime
    finished_at: datetime | None = None


class BatchDetails(BatchStatusRead):
    runs: list[RunWithSteps]


class BatchCreated(Shape):
    id: str
    label: str | None = None
    status: BatchStatus
    runs: list[RunRead]


class ArtifactRead(Shape):
    attempt: int
    kind: str
    key: str
    content_type: str
    size: int
    url: str | None = None
    created_at: datetime


# ----- runner ⇄ API (the run-scoped token's endpoints) -----------------------------------


class RunnerJob(Shape):
    """Everything a runner needs, fetched once with its run-scoped token."""

    run_id: str
    attempt: int
    test_set_id: str
    base_url: str
    tags: str | None
    features: list[FeatureFile]
    timeout_seconds: int
    artifacts_prefix: str
    traceparent: str | None = None


class StepReport(Shape):
    attempt: int
    seq: int = Field(ge=0, description="Position in the attempt; a re-sent report is ignored.")
    feature: str
    scenario: str
    line: int
    keyword: str
    text: str
    status: str
    duration_ms: int | None = None
    error: str | None = None
    screenshot_key: str | None = None


class Heartbeat(Shape):
    attempt: int


class ArtifactReport(Shape):
    attempt: int
    kind: str
    key: str
    content_type: str
    size: int


class RunnerResult(Shape):
    attempt: int
    exit_code: int
    summary: Summary
    error: str | None = None


class RunPage(Shape):
    """One page of GET /api/test-runs, newest first; pass ``nextCursor`` back as
    ``cursor`` for the next page (None on the last page)."""

    items: list[RunRead]
    next_cursor: str | None = None


class RunEvent(Shape):
    """A change of a run's status (``run_events``), as the events stream sends it."""

    id: int
    run_id: str
    attempt: int
    from_status: RunStatus | None
    to_status: RunStatus
    reason: str
    actor: str
    at: datetime


class TokenCreate(Shape):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    scopes: Annotated[list[Literal["read", "execute", "admin"]], Field(min_length=1)]


class TokenInfo(Shape):
    """An API token as listed: never its secret (only its sha256 is stored)."""

    id: str
    name: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class CreatedToken(TokenInfo):
    """The answer to a token's creation: the only time its secret is shown."""

    secret: str


class CancelSignal(Shape):
    """Heartbeat answer when the run should stop (desired = cancel)."""

    cancel: bool = True


JSONDict = dict[str, Any]
