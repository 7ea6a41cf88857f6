"""Property-based checks of the served OpenAPI document against the app on PostgreSQL:
no 5xx, and every response (status, content type, headers, body) as documented.

Bounded: a few examples per operation and no deadline (2 shared cores). The database
holds a test set, a batch whose first run is running with steps and artifacts; every
other generated request is pointed at those real ids (with the right token), so the
documented 200 bodies are checked too, not only the 404s of random ids.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.integration.test_api_helpers import Api, build_api


@dataclass
class World:
    api: Api
    run_id: str
    batch_id: str
    key: str
    turn: int = 0


@pytest.fixture
def world(pg_url: str, tmp_path: Path) -> Iterator[World]:
    for api_ in build_api(pg_url, tmp_path):
        api_.create_test_set("checkout")
        batch = api_.call("POST", "/api/test-runs/execute-all").json()
        run_id = batch["runs"][0]["id"]
        api_.move(run_id, "running", attempt=1)
        key = f"runs/{run_id}/attempt-1/cucumber.json"
        api_.store.put_bytes(key, b"[]")
        token = api_.runner_token(run_id, 1)
        api_.client.post(
            f"/api/runner/runs/{run_id}/steps",
            headers=token,
            json=[
                {
                    "attempt": 1,
                    "seq": 0,
                    "feature": "F",
                    "scenario": "S",
                    "line": 1,
                    "keyword": "Given ",
                    "text": "x",
                    "status": "passed",
                }
            ],
        )
        yield World(api_, run_id, batch["id"], key)


def _point_at_real_ids(case: Any, world: World) -> dict[str, str]:
    """Every other case uses the real run/batch/key; returns the headers to send."""
    world.turn += 1
    headers = world.api.auth("admin")
    params = case.path_parameters or {}
    if world.turn % 2 or case.path.endswith(("/events", "/report.pdf")):
        return headers  # random ids (404s); streams and PDFs of real runs are slow
    if "run_id" in params:
        params["run_id"] = world.run_id
    if "batch_id" in params:
        params["batch_id"] = world.batch_id
    if "key" in params:
        params["key"] = world.key
    if case.path.startswith("/api/runner/"):
        attempt = world.api.row(world.run_id).attempt
        headers = world.api.runner_token(world.run_id, attempt)
    return headers


#: The run list's cursor is opaque: any string is schema-valid, but only one the API
#: returned is accepted, so "schema-valid data is accepted" cannot hold for it.
OPAQUE = {"GET /api/test-runs"}


def _check(operation: Any, world: World) -> None:
    api = world.api
    excluded = [schemathesis.checks.positive_data_acceptance] if operation.label in OPAQUE else []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=10,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        if case.path.endswith("/events"):
            # A stream of a run that never finishes would not end (the stream endpoints
            # are tested over a real socket in test_api_files.py).
            api.move(api.execute("checkout")["id"], "passed")
        if case.headers and "Idempotency-Key" in case.headers:
            # One key per generated request: a key reused with another body is a 422 by
            # design (tested in test_api_runs.py), not a schema violation.
            case.headers["Idempotency-Key"] = f"st-{uuid.uuid4()}"
        headers = _point_at_real_ids(case, world)
        case.call_and_validate(headers=headers, excluded_checks=excluded)

    check()


@pytest.mark.timeout(600)
def test_api_conforms_to_its_openapi(world: World) -> None:
    # PostgreSQL text cannot hold NUL; such values get 422 (a DataError), never a 5xx, but
    # "schema-valid data is accepted" cannot hold for them, so none are generated.
    config = schemathesis.Config.from_dict({"generation": {"allow-x00": False}})
    schema = schemathesis.openapi.from_asgi(
        "/schema/openapi.json", world.api.client.app, config=config
    )
    failures: dict[str, str] = {}
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid schema fails here
        if operation.path.startswith("/schema"):
            continue  # Litestar's own documentation pages
        checked += 1
        try:
            _check(operation, world)
        except (
            Exception,
            BaseExceptionGroup,
        ) as err:  # collect every operation's failure, then report them all
            failures[operation.label] = str(err)[:2000]
    assert checked >= 30
    for label, failure in failures.items():
        print(f"=== {label}\n{failure}")
    assert sorted(failures) == []
