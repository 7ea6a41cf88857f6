"""Authentication and scopes on real PostgreSQL: every route, every scope; tokens stored
hashed, revoked at once; ``PROCTOR_AUTH=disabled``."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from api.auth import SCOPES
from api.services.tokens import create_token, list_tokens, revoke_token
from db.tables import api_tokens
from tests.integration.test_api_helpers import Api, api, build_api, is_problem

__all__ = ["api"]

RUN = "{run}"
#: (method, path, scope, json body) for every non-public route of the app.
ROUTES: list[tuple[str, str, str, Any]] = [
    ("GET", "/api/test-sets", "read", None),
    ("POST", "/api/test-sets", "admin", {"id": "new", "name": "New"}),
    ("GET", "/api/test-sets/checkout", "read", None),
    ("PUT", "/api/test-sets/other", "admin", {"name": "Other"}),
    ("DELETE", "/api/test-sets/missing", "admin", None),
    ("POST", "/api/test-runs/execute/checkout", "execute", None),
    ("POST", "/api/test-runs/execute-all", "execute", None),
    ("GET", "/api/test-runs", "read", None),
    ("GET", f"/api/test-runs/{RUN}", "read", None),
    ("GET", f"/api/test-runs/{RUN}/steps", "read", None),
    ("POST", f"/api/test-runs/{RUN}/cancel", "execute", None),
    ("POST", f"/api/test-runs/{RUN}/retry", "execute", None),
    ("GET", "/api/test-runs/batch/{batch}/status", "read", None),
    ("GET", "/api/test-runs/batch/{batch}/details", "read", None),
    ("POST", "/api/test-runs/batch/{batch}/cancel", "execute", None),
    ("GET", "/api/test-runs/batch/{batch}/events", "read", None),
    ("GET", f"/api/test-runs/{RUN}/events", "read", None),
    ("GET", f"/api/test-runs/{RUN}/artifacts", "read", None),
    ("GET", f"/api/test-runs/{RUN}/artifacts/runs/{RUN}/attempt-1/x.txt", "read", None),
    ("GET", f"/api/test-runs/{RUN}/report.json", "read", None),
    ("GET", f"/api/test-runs/{RUN}/junit.xml", "read", None),
    ("GET", f"/api/test-runs/{RUN}/report.pdf", "read", None),
    ("GET", "/api/tokens", "admin", None),
    ("POST", "/api/tokens", "admin", {"name": "ci", "scopes": ["read"]}),
    ("DELETE", "/api/tokens/missing", "admin", None),
]
RUNNER_ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "", None),
    ("POST", "/steps", []),
    ("POST", "/heartbeat", {"attempt": 1}),
    ("POST", "/artifacts", []),
    ("POST", "/result", {"attempt": 1, "exitCode": 0, "summary": {}}),
]
ALLOWED = {
    "read": {"read", "execute", "admin"},
    "execute": {"execute", "admin"},
    "admin": {"admin"},
}


def test_the_matrix_covers_every_route(api: Api) -> None:
    declared = {
        (method, route.path.replace(":str", "").replace(":path", ""))
        for route in api.client.app.routes
        for handler in getattr(route, "route_handlers", [])
        for method in handler.http_methods
        if handler.opt.get("scope") not in ("public", None) and method != "OPTIONS"
    }
    assert len(declared) == len(ROUTES) + len(RUNNER_ROUTES)


def test_every_route_checks_its_scope(api: Api) -> None:
    api.create_test_set("checkout")
    run = api.execute("checkout")
    api.move(run["id"], "passed", attempt=1)  # so that retry is possible
    batch = api.call("POST", "/api/test-runs/execute-all").json()
    for method, template, scope, body in ROUTES:
        path = template.format(run=run["id"], batch=batch["id"])
        if path.endswith("/events") and api.row(run["id"]).status == "pending":
            api.move(run["id"], "passed")  # a finished run's stream ends (TestClient buffers)
        kwargs: dict[str, Any] = {"json": body} if body is not None else {}
        anonymous = api.client.request(method, path, **kwargs)
        assert is_problem(anonymous, 401), (method, path)
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
        bogus = api.client.request(
            method, path, headers={"Authorization": "Bearer pt_nope"}, **kwargs
        )
        assert is_problem(bogus, 401), (method, path)
        for token_scope in ("read", "execute", "admin"):
            response = api.call(method, path, token_scope, **kwargs)
            if token_scope in ALLOWED[scope]:
                assert response.status_code not in (401, 403), (
                    method,
                    path,
                    token_scope,
                    response.text,
                )
                assert response.status_code < 500, (method, path, response.text)
            else:
                assert is_problem(response, 403), (method, path, token_scope)
                assert scope in response.json()["detail"]


def test_runner_routes_refuse_api_tokens_and_api_routes_refuse_runner_tokens(api: Api) -> None:
    api.create_test_set("checkout")
    run = api.execute("checkout")
    api.move(run["id"], "running", attempt=1)
    for method, suffix, body in RUNNER_ROUTES:
        path = f"/api/runner/runs/{run['id']}{suffix}"
        kwargs: dict[str, Any] = {"json": body} if body is not None else {}
        assert is_problem(api.client.request(method, path, **kwargs), 401)
        assert is_problem(api.call(method, path, "admin", **kwargs), 401), path
    runner = api.runner_token(run["id"], 1)
    for path in (f"/api/test-runs/{run['id']}", "/api/test-sets", "/api/tokens"):
        assert is_problem(api.client.get(path, headers=runner), 403)


def test_tokens_are_stored_hashed_and_listed_without_secrets(api: Api) -> None:
    created = api.call("POST", "/api/tokens", json={"name": "ci", "scopes": ["execute"]})
    assert created.status_code == 201
    secret = created.json()["secret"]
    with api.engine.connect() as conn:
        row = conn.execute(select(api_tokens).where(api_tokens.c.id == created.json()["id"])).one()
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(tuple(row))
    listed = api.call("GET", "/api/tokens").json()
    assert {t["name"] for t in listed} >= {"ci", "admin token"}
    assert all("secret" not in t for t in listed) and secret not in str(listed)

    headers = {"Authorization": f"Bearer {secret}"}
    assert api.client.get("/api/test-sets", headers=headers).status_code == 200
    assert api.call("DELETE", f"/api/tokens/{created.json()['id']}").status_code == 204
    assert is_problem(api.client.get("/api/test-sets", headers=headers), 401)
    assert is_problem(api.call("DELETE", f"/api/tokens/{created.json()['id']}"), 404)


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "scopes": ["root"]},
        {"name": "x", "scopes": []},
        {"name": "", "scopes": ["read"]},
    ],
)
def test_token_creation_validates(api: Api, body: dict[str, Any]) -> None:
    response = api.call("POST", "/api/tokens", json=body)
    assert response.status_code in (400, 422) and is_problem(response, response.status_code)


def test_token_service_for_the_cli(api: Api) -> None:
    created = create_token(api.engine, "cli", ["read", "admin", "read"])
    assert created.id and created.secret.startswith("pt_") and created.scopes == ["read", "admin"]
    info = {t.id: t for t in list_tokens(api.engine)}[created.id]
    assert info.name == "cli" and info.revoked_at is None
    assert revoke_token(api.engine, created.id) is True
    assert revoke_token(api.engine, created.id) is False
    assert {t.id: t for t in list_tokens(api.engine)}[created.id].revoked_at is not None


def test_last_used_is_recorded(api: Api) -> None:
    api.call("GET", "/api/test-sets", "read")
    used = {t.name: t.last_used_at for t in list_tokens(api.engine)}
    assert used["read token"] is not None and used["execute token"] is None


def test_auth_disabled_lets_anyone_in(pg_url: str, tmp_path: Path) -> None:
    for api_ in build_api(pg_url, tmp_path, auth="disabled"):
        assert api_.client.get("/api/test-sets").status_code == 200
        created = api_.client.post("/api/test-sets", json={"id": "a", "name": "A"})
        assert created.status_code == 201
        run = api_.client.post("/api/test-runs/execute/a").json()
        assert run["status"] == "pending"
        assert api_.row(run["id"]).requested_by.startswith("anonymous")
        # Runner routes take the run's current attempt when no token is checked.
        assert api_.client.get(f"/api/runner/runs/{run['id']}").json()["attempt"] == 0
    assert "public" in SCOPES
