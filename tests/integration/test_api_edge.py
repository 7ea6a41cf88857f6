"""The app's edge on real PostgreSQL: problem+json for 404/405/413/415 and internal
errors (never a stack trace), CORS for the UI's origin, allowed hosts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event

from db.tables import test_runs
from tests.integration.test_api_helpers import Api, api, build_api, is_problem

__all__ = ["api"]


@pytest.fixture
def edge_api(pg_url: str, tmp_path: Path) -> Iterator[Api]:
    yield from build_api(
        pg_url,
        tmp_path,
        max_request_bytes=2048,
        cors_origins=["https://ui.example.com"],
        allowed_hosts=["testserver.local", "*.example.com"],
    )


def test_unknown_routes_and_methods_are_problems(api: Api) -> None:
    assert is_problem(api.call("GET", "/api/nothing-here"), 404)
    response = api.call("PATCH", "/api/test-sets")
    assert is_problem(response, 405)


def test_a_body_over_the_limit_is_413_and_writes_nothing(edge_api: Api) -> None:
    edge_api.create_test_set("checkout")
    big = {"requestedBy": "x" * 100, "parameters": {"tags": "y" * 400}, "padding": "z" * 4000}
    response = edge_api.call("POST", "/api/test-runs/execute/checkout", json=big)
    assert is_problem(response, 413)
    assert edge_api.count(test_runs) == 0


def test_a_body_that_is_not_json_is_415(api: Api) -> None:
    api.create_test_set("checkout")
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
        response = api.call(
            "POST",
            "/api/test-runs/execute/checkout",
            content=b"a=b",
            headers={"content-type": content_type},
        )
        assert is_problem(response, 415), content_type
    ok = api.call(
        "POST",
        "/api/test-runs/execute/checkout",
        content=b"{}",
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert ok.status_code == 202
    assert api.count(test_runs) == 1


def test_an_internal_error_is_a_500_problem_without_details(api: Api) -> None:
    api.create_test_set("checkout")

    def explode(*_args: object) -> None:
        raise RuntimeError("secret internals at /srv/app.py line 42")

    event.listen(api.engine, "before_cursor_execute", explode)
    try:
        response = api.call("GET", "/api/test-sets/checkout", "read")
    finally:
        event.remove(api.engine, "before_cursor_execute", explode)
    assert is_problem(response, 500)
    assert "secret" not in response.text and "Traceback" not in response.text


def test_cors_allows_the_configured_origin_only(edge_api: Api) -> None:
    preflight = edge_api.client.options(
        "/api/test-runs/execute-all",
        headers={
            "Origin": "https://ui.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, idempotency-key",
        },
    )
    assert preflight.status_code in (200, 204)
    assert preflight.headers["access-control-allow-origin"] == "https://ui.example.com"
    simple = edge_api.call(
        "GET", "/api/test-sets", "read", headers={"Origin": "https://ui.example.com"}
    )
    assert simple.headers["access-control-allow-origin"] == "https://ui.example.com"
    other = edge_api.call("GET", "/api/test-sets", "read", headers={"Origin": "https://evil.test"})
    assert "access-control-allow-origin" not in other.headers


def test_other_hosts_are_refused(edge_api: Api) -> None:
    assert edge_api.call("GET", "/api/test-sets", "read").status_code == 200
    assert (
        edge_api.call(
            "GET", "/api/test-sets", "read", headers={"host": "proctor.example.com"}
        ).status_code
        == 200
    )
    refused = edge_api.call("GET", "/api/test-sets", "read", headers={"host": "evil.test"})
    assert is_problem(refused, 400)
