"""The spine's HTTP contract on real PostgreSQL (and a few on SQLite): the four existing
paths, runs, steps, test sets, health — what fakes cannot show: the real SQL, JSON
columns, NOTIFY delivered at commit, nothing written on a rejected request."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from sqlalchemy import insert, select
from sqlalchemy.engine import make_url

from db.engine import RUNS_CHANNEL, utcnow
from db.tables import batches, run_events, test_run_steps, test_runs, test_sets
from tests.integration.test_api_helpers import Api, api, is_problem, sqlite_api

__all__ = ["api", "sqlite_api"]


def test_execute_queues_a_pending_run_with_history(api: Api) -> None:
    api.create_test_set("checkout", maxAttempts=3)
    run = api.execute(
        "checkout",
        json={"parameters": {"baseUrl": "http://example.test"}},
        headers={"traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01"},
    )
    assert run["status"] == "pending" and run["desired"] == "run"
    assert run["testSetId"] == "checkout" and run["batchId"] is None
    assert run["attempt"] == 0 and run["maxAttempts"] == 3
    assert run["summary"] == {
        "scenarios": {"passed": 0, "failed": 0, "skipped": 0, "undefined": 0},
        "steps": {"passed": 0, "failed": 0, "skipped": 0, "undefined": 0},
    }
    row = api.row(run["id"])
    assert row.parameters == {"base_url": "http://example.test"}
    assert row.trace_context == {"traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01"}
    assert row.requested_by == "execute token" or row.requested_by == "admin token"
    with api.engine.connect() as conn:
        events = conn.execute(select(run_events).where(run_events.c.run_id == run["id"])).all()
    assert [(e.from_status, e.to_status) for e in events] == [(None, "pending")]
    assert events[0].actor == "admin token" and events[0].reason


def test_execute_notifies_the_controllers_at_commit(api: Api, pg_url: str) -> None:
    api.create_test_set("checkout")
    url = make_url(pg_url)
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname=url.database, autocommit=True
    ) as listener:
        listener.execute(f"LISTEN {RUNS_CHANNEL}")
        run = api.execute("checkout")
        notices = list(listener.notifies(timeout=10, stop_after=1))
    assert [n.channel for n in notices] == [RUNS_CHANNEL]
    assert notices[0].payload == run["id"]


def test_unknown_test_set_is_404_and_writes_nothing(api: Api) -> None:
    response = api.call("POST", "/api/test-runs/execute/does-not-exist")
    assert is_problem(response, 404)
    assert "does-not-exist" in response.json()["detail"]
    assert api.count(test_runs) == 0 and api.count(run_events) == 0


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b'{"priority": "high"}', 400),
        (b'{"unknownField": 1}', 400),
        (b'{"parameters": {"baseUrl": 5}}', 400),
    ],
)
def test_bad_bodies_are_4xx_problems_and_write_nothing(api: Api, body: bytes, status: int) -> None:
    api.create_test_set("checkout")
    response = api.call(
        "POST",
        "/api/test-runs/execute/checkout",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert is_problem(response, status), response.text
    assert "Traceback" not in response.text
    assert api.count(test_runs) == 0 and api.count(run_events) == 0


def test_execute_all_makes_one_run_per_enabled_test_set(api: Api) -> None:
    for name in ("alpha", "beta"):
        api.create_test_set(name, tags=["smoke"] if name == "alpha" else [])
    api.create_test_set("off", enabled=False)
    response = api.call("POST", "/api/test-runs/execute-all")
    assert response.status_code == 202, response.text
    batch = response.json()
    assert batch["id"] and batch["status"] == "pending"
    assert sorted(run["testSetId"] for run in batch["runs"]) == ["alpha", "beta"]
    assert {run["batchId"] for run in batch["runs"]} == {batch["id"]}

    narrowed = api.call(
        "POST", "/api/test-runs/execute-all", json={"tags": ["smoke"], "label": "nightly"}
    ).json()
    assert [run["testSetId"] for run in narrowed["runs"]] == ["alpha"]
    assert narrowed["label"] == "nightly"
    by_id = api.call("POST", "/api/test-runs/execute-all", json={"testSetIds": ["beta"]}).json()
    assert [run["testSetId"] for run in by_id["runs"]] == ["beta"]


def test_execute_all_rejects_unknown_ids_and_empty_selections(api: Api) -> None:
    api.create_test_set("alpha")
    assert is_problem(
        api.call("POST", "/api/test-runs/execute-all", json={"testSetIds": ["alpha", "ghost"]}), 404
    )
    assert is_problem(api.call("POST", "/api/test-runs/execute-all", json={"tags": ["none"]}), 404)
    assert api.count(batches) == 0 and api.count(test_runs) == 0


def _batch(api: Api) -> dict[str, Any]:
    for name in ("alpha", "beta", "gamma"):
        api.create_test_set(name)
    return api.call("POST", "/api/test-runs/execute-all").json()  # type: ignore[no-any-return]


def test_batch_status_counts_runs_and_derives_the_status(api: Api) -> None:
    batch = _batch(api)
    url = f"/api/test-runs/batch/{batch['id']}/status"
    status = api.call("GET", url, "read").json()
    assert status["status"] == "pending" and status["total"] == 3
    assert status["counts"]["pending"] == 3 and status["finishedAt"] is None

    first, second, third = (run["id"] for run in batch["runs"])
    api.move(first, "running", attempt=1)
    assert api.call("GET", url, "read").json()["status"] == "running"
    api.move(first, "passed")
    api.move(second, "passed")
    api.move(third, "failed")
    done = api.call("GET", url, "read").json()
    assert done["status"] == "failed"
    assert done["counts"] == {**{s: 0 for s in done["counts"]}, "passed": 2, "failed": 1}
    assert done["finishedAt"] is not None


def test_batch_details_lists_runs_with_step_counts(api: Api) -> None:
    batch = _batch(api)
    run_id = batch["runs"][0]["id"]
    api.move(run_id, "running", attempt=1)
    now = utcnow()
    with api.engine.begin() as conn:
        conn.execute(
            insert(test_run_steps),
            [
                {
                    "run_id": run_id,
                    "attempt": 1,
                    "seq": i,
                    "feature": "f",
                    "scenario": "s",
                    "line": i,
                    "keyword": "Given ",
                    "text": "x",
                    "status": status,
                    "created_at": now,
                }
                for i, status in enumerate(["passed", "passed", "failed"])
            ],
        )
    details = api.call("GET", f"/api/test-runs/batch/{batch['id']}/details", "read").json()
    assert details["id"] == batch["id"] and details["total"] == 3
    runs = {run["id"]: run for run in details["runs"]}
    assert runs[run_id]["steps"] == {"passed": 2, "failed": 1, "skipped": 0, "undefined": 0}
    assert runs[run_id]["status"] == "running"


def test_unknown_batch_and_run_are_404(api: Api) -> None:
    for path in (
        "/api/test-runs/batch/nope/status",
        "/api/test-runs/batch/nope/details",
        "/api/test-runs/nope",
        "/api/test-runs/nope/steps",
    ):
        assert is_problem(api.call("GET", path, "read"), 404), path


def test_run_and_its_steps(api: Api) -> None:
    api.create_test_set("checkout")
    run = api.execute("checkout")
    assert api.call("GET", f"/api/test-runs/{run['id']}", "read").json() == run
    api.move(run["id"], "running", attempt=1)
    now = utcnow()
    with api.engine.begin() as conn:
        conn.execute(
            insert(test_run_steps),
            [
                {
                    "run_id": run["id"],
                    "attempt": attempt,
                    "seq": 0,
                    "feature": "Login",
                    "scenario": "ok",
                    "line": 3,
                    "keyword": "Given ",
                    "text": 'I open "/"',
                    "status": "passed",
                    "duration_ms": 12,
                    "created_at": now,
                }
                for attempt in (1, 2)
            ],
        )
    steps = api.call("GET", f"/api/test-runs/{run['id']}/steps", "read").json()
    assert steps == [
        {
            "attempt": 1,
            "seq": 0,
            "feature": "Login",
            "scenario": "ok",
            "line": 3,
            "keyword": "Given ",
            "text": 'I open "/"',
            "status": "passed",
            "durationMs": 12,
            "error": None,
            "screenshotKey": None,
        }
    ]
    other = api.call("GET", f"/api/test-runs/{run['id']}/steps?attempt=2", "read").json()
    assert [step["attempt"] for step in other] == [2]


def test_test_set_create_list_read_replace_delete(api: Api) -> None:
    created = api.create_test_set("checkout", tags=["smoke"], timeoutSeconds=60)
    assert created["features"] == [
        {"path": "login.feature", "content": created["features"][0]["content"]}
    ]
    assert created["tags"] == ["smoke"] and created["timeoutSeconds"] == 60
    assert is_problem(api.call("POST", "/api/test-sets", json={"id": "checkout", "name": "x"}), 409)
    assert [t["id"] for t in api.call("GET", "/api/test-sets", "read").json()] == ["checkout"]
    assert api.call("GET", "/api/test-sets/checkout", "read").json() == created

    replaced = api.call("PUT", "/api/test-sets/checkout", json={"name": "New", "enabled": False})
    assert replaced.status_code == 200
    assert replaced.json()["name"] == "New" and replaced.json()["features"] == []
    assert replaced.json()["createdAt"] == created["createdAt"]
    made = api.call("PUT", "/api/test-sets/fresh", json={"name": "Fresh"})
    assert made.status_code == 201 and made.json()["id"] == "fresh"
    assert is_problem(api.call("PUT", "/api/test-sets/Not%20A%20Slug", json={"name": "x"}), 400)

    assert api.call("DELETE", "/api/test-sets/fresh").status_code == 204
    assert is_problem(api.call("GET", "/api/test-sets/fresh", "read"), 404)
    assert is_problem(api.call("DELETE", "/api/test-sets/fresh"), 404)
    api.execute("checkout")
    assert is_problem(api.call("DELETE", "/api/test-sets/checkout"), 409)


@pytest.mark.parametrize(
    "body",
    [
        {"id": "Bad Id", "name": "x"},
        {"id": "ok", "name": ""},
        {"id": "ok", "name": "x", "features": [{"path": "../etc/passwd.feature", "content": ""}]},
        {"id": "ok", "name": "x", "maxAttempts": 0},
    ],
)
def test_invalid_test_sets_are_rejected(api: Api, body: dict[str, Any]) -> None:
    response = api.call("POST", "/api/test-sets", json=body)
    assert is_problem(response, 400), response.text
    assert response.json()["errors"]
    assert api.count(test_sets) == 0


def test_health_and_readiness(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    assert api.client.get("/readyz").json() == {"status": "ready"}


def test_readiness_fails_when_the_database_is_gone(tmp_path: Any) -> None:
    from tests.integration.test_api_helpers import build_api

    gen = build_api("sqlite:///" + str(tmp_path / "db.sqlite"), tmp_path)
    with pytest.raises(Exception):  # noqa: B017 - no tables: token creation fails
        next(gen)
    from litestar.testing import TestClient

    from api.app import create_app
    from config.settings import Settings
    from db.engine import make_engine

    settings = Settings(home=tmp_path, database_url="postgresql+psycopg://nobody@127.0.0.1:1/x")
    app = create_app(settings, engine=make_engine(settings.database_url, pool_pre_ping=False))
    with TestClient(app) as client:
        response = client.get("/readyz")
    assert is_problem(response, 503)
    assert "password" not in response.text


def test_the_spine_works_on_sqlite(sqlite_api: Api) -> None:
    api = sqlite_api
    api.create_test_set("alpha")
    run = api.execute("alpha")
    batch = api.call("POST", "/api/test-runs/execute-all").json()
    assert api.call("GET", f"/api/test-runs/{run['id']}", "read").json()["status"] == "pending"
    status = api.call("GET", f"/api/test-runs/batch/{batch['id']}/status", "read").json()
    assert status["total"] == 1
    assert is_problem(api.call("POST", "/api/test-runs/execute/nope"), 404)
    assert is_problem(
        api.call(
            "POST",
            "/api/test-runs/execute/alpha",
            content=b"{",
            headers={"content-type": "application/json"},
        ),
        400,
    )
    assert api.count(test_runs) == 2


def test_a_traced_request_leaves_its_traceparent_on_the_run(pg_url: str, tmp_path: Any) -> None:
    from litestar.plugins.opentelemetry import OpenTelemetryConfig
    from litestar.testing import TestClient
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from api.app import create_app
    from config.settings import Settings
    from db.engine import make_engine

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    engine = make_engine(pg_url)
    app = create_app(
        Settings(home=tmp_path, database_url=pg_url, auth="disabled"),
        engine=engine,
        opentelemetry_config=OpenTelemetryConfig(tracer_provider=provider),
    )
    try:
        with TestClient(app) as client:
            client.post("/api/test-sets", json={"id": "t", "name": "T"})
            run = client.post("/api/test-runs/execute/t").json()
        with engine.connect() as conn:
            context = conn.execute(
                select(test_runs.c.trace_context).where(test_runs.c.id == run["id"])
            ).scalar_one()
    finally:
        engine.dispose()
    trace_ids = {format(span.context.trace_id, "032x") for span in exporter.get_finished_spans()}
    assert context["traceparent"].split("-")[1] in trace_ids
